//! The interleaving behind a deadlock or a leak, as a per-thread timeline.
//!
//! When a loom model fails, the checker runs it twice more: once with loom's checkpoint file,
//! which leaves the failing execution's schedule behind, and once replaying exactly that
//! execution with loom's event log switched on (`WORKBOOK_LOOM_TRACE`, see `testkit::model`).
//! The log is trimmed to the steps a student reasons about — threads started, waits, wake-ups
//! that reached someone, locks that had to be waited for, joins, exits — and drawn as one
//! column per thread, ending at the line each thread was blocked on.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::explain::Locator;
use crate::runner::{self, Extra, Settings};

/// Replays the failing model `harness_name` and draws its interleaving, if loom's log of it
/// can be had.
pub fn replay(
    exe: &Path,
    harness_name: &str,
    timeout: Duration,
    settings: &Settings,
    at: &Locator<'_>,
) -> Option<String> {
    // Unique per replay: `verify --repeat` runs the same model several times at once, and
    // two replays sharing a folder would delete each other's checkpoint.
    static REPLAYS: AtomicUsize = AtomicUsize::new(0);
    let dir = settings.scratch_root.join(format!(
        "replay-{}-{}-{}",
        std::process::id(),
        REPLAYS.fetch_add(1, Ordering::Relaxed),
        harness_name.replace("::", "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    let checkpoint = dir.join("checkpoint.json");
    let env = |trace: bool| {
        let mut env = vec![(
            "LOOM_CHECKPOINT_FILE".to_string(),
            checkpoint.to_string_lossy().into_owned(),
        )];
        if trace {
            env.push(("WORKBOOK_LOOM_TRACE".to_string(), "1".to_string()));
        } else {
            env.push(("LOOM_CHECKPOINT_INTERVAL".to_string(), "1".to_string()));
        }
        env
    };
    // 1. Find the failing execution again, leaving its schedule in the checkpoint file.
    runner::run_test_with(
        exe,
        harness_name,
        timeout,
        settings,
        &Extra {
            env: env(false),
            scratch: Some(dir.clone()),
            keep_stderr: None,
        },
    )
    .ok()?;
    // 2. Replay just that execution, with loom's log.
    let run = runner::run_test_with(
        exe,
        harness_name,
        timeout,
        settings,
        &Extra {
            env: env(true),
            scratch: Some(dir.clone()),
            keep_stderr: Some(4 << 20),
        },
    )
    .ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    let drawn = draw(&run.stderr, at);
    (!drawn.is_empty()).then_some(drawn)
}

/// One step of one thread.
#[derive(Debug, PartialEq)]
struct Step {
    thread: usize,
    what: String,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let from = line.find(key)? + key.len();
    let rest = &line[from..];
    let end = rest.find([' ', ')', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `Ref<loom::rt::condvar::State>(1)` → `1`.
fn object(line: &str, key: &str) -> Option<String> {
    let at = line.find(key)? + key.len();
    let rest = &line[at..];
    let open = rest.find(">(")? + 2;
    let close = rest[open..].find(')')?;
    Some(rest[open..open + close].to_string())
}

/// The steps of loom's log of one execution.
fn steps(log: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(thread) = field(line, "thread{id=").and_then(|t| t.parse::<usize>().ok()) else {
            continue;
        };
        let what = if line.contains(": spawn thread=Id(") {
            field(line, "thread=Id(").map(|t| format!("starts thread {t}"))
        } else if line.contains("Condvar::wait ") {
            object(line, "state=").map(|c| format!("waits: recv/Condvar #{c}"))
        } else if line.contains("Condvar::notify") {
            // A wake-up nobody was waiting for changes nothing: only real ones are steps.
            let woken = line.split("threads=[").nth(1).unwrap_or("]");
            (!woken.starts_with(']')).then(|| {
                let ids: Vec<&str> = woken
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .split(", ")
                    .filter_map(|t| t.strip_prefix("Id(")?.strip_suffix(')'))
                    .collect();
                format!("wakes thread {}", ids.join(", "))
            })
        } else if line.contains("Notify::wait") {
            Some("waits in join()".to_string())
        } else if line.contains("Object::branch_acquire")
            && line.contains("mutex::State")
            && line.ends_with("is_locked=true")
        {
            object(line, "obj=").map(|m| format!("waits for lock #{m}"))
        } else if line.contains("thread_done: terminate") {
            Some("finishes".to_string())
        } else if line.contains(": park thread=") {
            Some("blocks".to_string())
        } else {
            None
        };
        if let Some(what) = what {
            out.push(Step { thread, what });
        }
    }
    // A wait is always followed by its block: say it once.
    let mut trimmed: Vec<Step> = Vec::new();
    for step in out {
        let redundant = step.what == "blocks"
            && trimmed
                .last()
                .is_some_and(|l| l.thread == step.thread && l.what.starts_with("waits"));
        if !redundant && trimmed.last() != Some(&step) {
            trimmed.push(step);
        }
    }
    trimmed
}

/// Where each thread was blocked, from loom's deadlock report: `(thread, place)`.
fn blocked(log: &str, at: &Locator<'_>) -> Vec<(usize, String)> {
    let Some(pos) = log.find("deadlock; threads = ") else {
        return Vec::new();
    };
    let report = log[pos..].lines().next().unwrap_or_default();
    let mut out = Vec::new();
    for part in report.split("(Id(").skip(1) {
        let Some(id) = part.split(')').next().and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        let place = match (field(part, "file: \""), field(part, "line: ")) {
            (Some(file), Some(line)) => {
                let file = file.trim_end_matches(['"', ',']);
                let line = line.trim_end_matches(',');
                match at.show(file) {
                    Some(shown) => format!("blocked at {shown}:{line}"),
                    None => "blocked in the test".to_string(),
                }
            }
            _ if part.contains("Terminated") => "finished".to_string(),
            _ => "blocked".to_string(),
        };
        out.push((id, place));
    }
    out
}

const WIDTH: usize = 30;
/// Rows shown: the end of the story is what matters.
const ROWS: usize = 24;

/// The swimlane: a column per thread, a row per step, the blocked places last.
pub fn draw(log: &str, at: &Locator<'_>) -> String {
    let steps = steps(log);
    let end = blocked(log, at);
    if steps.is_empty() && end.is_empty() {
        return String::new();
    }
    let threads = steps
        .iter()
        .map(|s| s.thread)
        .chain(end.iter().map(|(t, _)| *t))
        .max()
        .unwrap_or(0)
        + 1;
    let cell = |text: &str| {
        let mut t: String = text.chars().take(WIDTH - 1).collect();
        while t.chars().count() < WIDTH {
            t.push(' ');
        }
        t
    };
    let mut out = String::new();
    let header: String = (0..threads)
        .map(|t| {
            cell(&if t == 0 {
                "the test (thread 0)".to_string()
            } else {
                format!("thread {t}")
            })
        })
        .collect();
    let _ = writeln!(out, "  step  {}", header.trim_end());
    let skip = steps.len().saturating_sub(ROWS);
    if skip > 0 {
        let _ = writeln!(out, "   …    ({skip} earlier steps not shown)");
    }
    for (n, step) in steps.iter().enumerate().skip(skip) {
        let row: String = (0..threads)
            .map(|t| cell(if t == step.thread { &step.what } else { "" }))
            .collect();
        let _ = writeln!(out, "  {:>4}  {}", n + 1, row.trim_end());
    }
    if !end.is_empty() {
        let row: String = (0..threads)
            .map(|t| {
                cell(
                    end.iter()
                        .find(|(id, _)| *id == t)
                        .map_or("", |(_, p)| p.as_str()),
                )
            })
            .collect();
        let _ = writeln!(out, "   end  {}", row.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// loom 0.7's log of the join-before-close deadlock (a real replay, trimmed of the events
    /// the timeline ignores).
    const LOG: &str = "\
TRACE iter{1}:thread{id=0}: spawn thread=Id(1)
TRACE iter{1}:thread{id=0}: spawn thread=Id(2)
TRACE iter{1}:thread{id=0}: Condvar::notify_all state=Ref<loom::rt::condvar::State>(1) threads=[]
TRACE iter{1}:thread{id=0}: Notify::wait 1 state=Ref<loom::rt::notify::State>(9) notified=false spurious=false
 INFO iter{1}:thread{id=1}: ~~~~~~~~ THREAD 1 ~~~~~~~~
TRACE iter{1}:thread{id=1}: Object::branch_acquire obj=Ref<loom::rt::mutex::State>(0) is_locked=false
TRACE iter{1}:thread{id=1}: Condvar::wait state=Ref<loom::rt::condvar::State>(1) mutex=Mutex { state: Ref<loom::rt::mutex::State>(0) }
TRACE iter{1}:thread{id=1}: park thread=Id(1) active.state=Runnable { unparked: false }
TRACE iter{1}:thread{id=2}: Condvar::wait state=Ref<loom::rt::condvar::State>(1) mutex=Mutex { state: Ref<loom::rt::mutex::State>(0) }
TRACE iter{1}:thread{id=2}: park thread=Id(2) active.state=Runnable { unparked: false }
deadlock; threads = [(Id(0), Blocked(Location(Some(Location { file: \"/s/src/lib.rs\", line: 127, column: 28 })))), (Id(1), Blocked(Location(Some(Location { file: \"/s/src/lib.rs\", line: 70, column: 21 })))), (Id(2), Blocked(Location(Some(Location { file: \"/s/src/lib.rs\", line: 70, column: 21 }))))]
";

    #[test]
    fn a_deadlock_is_drawn_as_a_swimlane_ending_at_the_blocked_lines() {
        let at = Locator {
            crate_dir: Path::new("/s"),
            work_dir: Path::new("/w"),
        };
        let drawn = draw(LOG, &at);
        let lines: Vec<&str> = drawn.lines().collect();
        assert!(lines[0].contains("the test (thread 0)") && lines[0].contains("thread 2"));
        assert!(lines[1].contains("starts thread 1"), "{drawn}");
        assert!(drawn.contains("waits in join()"), "{drawn}");
        assert_eq!(
            drawn.matches("waits: recv/Condvar #1").count(),
            2,
            "{drawn}"
        );
        assert!(
            !drawn.contains("blocks"),
            "a wait and its block are one step: {drawn}"
        );
        assert!(
            !drawn.contains("wakes"),
            "a wake-up of nobody is not a step: {drawn}"
        );
        let end = lines.last().unwrap();
        assert!(
            end.contains("blocked at src/lib.rs:127") && end.contains("blocked at src/lib.rs:70")
        );
    }
}
