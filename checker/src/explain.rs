//! Turns what a failed test left behind into a message that teaches: loom's terse reports
//! become DEADLOCK / LEAK / LIVELOCK / TOO MANY THREADS with what usually causes each, a
//! `todo!()` becomes "not implemented yet", and a timeout names the test and its purpose.

use crate::curriculum::TestSpec;
use crate::runner::Outcome;

/// What the checker knows about one failure, ready to print.
pub struct Explained {
    /// "failed", "timeout", "crashed": the JSON test status.
    pub status: &'static str,
    pub message: String,
    /// The failure was a `todo!()` left in place.
    pub todo: bool,
}

pub fn explain(test: &TestSpec, outcome: &Outcome) -> Explained {
    match outcome {
        Outcome::Passed => Explained {
            status: "passed",
            message: String::new(),
            todo: false,
        },
        Outcome::TimedOut => Explained {
            status: "timeout",
            message: format!(
                "timed out after {}s — deadlock or infinite loop suspected in `{}`.\n{}",
                test.timeout().as_secs(),
                test.name,
                test.explains
            ),
            todo: false,
        },
        Outcome::Failed { record, hung_after } => {
            let raw = record.message.clone().unwrap_or_default();
            let todo = raw.starts_with("not yet implemented")
                || record
                    .other_panics
                    .iter()
                    .any(|p| p.starts_with("not yet implemented"));
            let mut message = match translate_loom(&raw) {
                Some(teaching) => teaching,
                None if todo => format!("not implemented yet: {raw}"),
                None => raw,
            };
            if let Some(loc) = &record.location
                && !loc.contains("/testkit/")
                && !loc.contains("/.cargo/registry/")
            {
                message.push_str(&format!("\n  at {loc}"));
            }
            for other in record.other_panics.iter().take(3) {
                message.push_str(&format!("\n  (a thread of the pool panicked: {other})"));
            }
            if *hung_after {
                message.push_str(
                    "\n  (after this failure the test hung while cleaning up — dropping the \
                     pool waited for jobs that were still blocked — and was stopped)",
                );
            }
            message.push_str(&format!("\nThis test checks: {}", test.explains));
            Explained {
                status: "failed",
                message,
                todo,
            }
        }
        Outcome::NoRecord { exit, stderr } => {
            let mut message = match translate_loom(stderr) {
                Some(teaching) => teaching,
                None => format!("{exit}.\n{}", tail(stderr, 20)),
            };
            message.push_str(&format!("\nThis test checks: {}", test.explains));
            Explained {
                status: "crashed",
                todo: stderr.contains("not yet implemented"),
                message,
            }
        }
    }
}

/// Loom's report, rewritten for a student; `None` when the text is not a loom report.
pub fn translate_loom(text: &str) -> Option<String> {
    if let Some(pos) = text.find("deadlock; threads = ") {
        let report = text[pos..].lines().next().unwrap_or_default();
        return Some(format!(
            "DEADLOCK: loom found an interleaving in which every live thread is blocked, so \
             none can ever continue. Typical causes: joining a worker before dropping the job \
             Sender; a worker waiting on a queue nobody will close; a send into a full channel \
             nobody reads; a lock held while waiting for another thread.\n{}",
            blocked_threads(report)
        ));
    }
    if text.contains("Arc leaked") || text.contains("Allocation leaked") {
        return Some(
            "LEAK: loom found an Arc (or allocation) still alive when the model ended: something \
             that should have been dropped was kept — usually a worker thread that was never \
             joined, or a handle stored where nothing drops it."
                .to_string(),
        );
    }
    if let Some(pos) = text.find("LEAK:") {
        return Some(text[pos..].to_string());
    }
    if text.contains("Model exceeded maximum number of branches") {
        return Some(
            "LIVELOCK: loom saw a thread spin without making progress (the model exceeded its \
             branch limit). A loop that polls — `try_recv` in a loop, `yield_now` until a flag \
             changes, a spin on an atomic — never lets an idle pool rest. Block instead: a \
             blocking `recv`, or a `Condvar` wait inside a `while` loop that re-checks the \
             condition, with a notify wherever the condition can change."
                .to_string(),
        );
    }
    if text.contains("threads.len() < self.max_threads") {
        return Some(
            "TOO MANY THREADS: the model spawned more threads than loom allows (4 besides the \
             test's own). Does the pool start a thread per job, or more workers than asked?"
                .to_string(),
        );
    }
    None
}

/// `deadlock; threads = [(Id(0), Blocked(Location(Some(Location { file: "f", line: 1, column: 2 })))), …]`
/// → one line per thread: where it is blocked.
fn blocked_threads(report: &str) -> String {
    let mut lines = Vec::new();
    for (n, part) in report.split("(Id(").skip(1).enumerate() {
        let state = if part.contains("Blocked") {
            "blocked"
        } else if part.contains("Terminated") {
            "finished"
        } else {
            "runnable"
        };
        let place = match (field(part, "file: \"", "\""), field(part, "line: ", ",")) {
            (Some(file), Some(line)) => {
                let code = line
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| {
                        std::fs::read_to_string(file)
                            .ok()?
                            .lines()
                            .nth(n - 1)
                            .map(str::trim)
                            .map(String::from)
                    })
                    .map(|code| format!("\n      {code}"))
                    .unwrap_or_default();
                format!(" at {file}:{line}{code}")
            }
            _ => String::new(),
        };
        let who = if n == 0 {
            "the test's thread".to_string()
        } else {
            format!("thread {n}")
        };
        lines.push(format!("  {who}: {state}{place}"));
    }
    lines.join("\n")
}

fn field<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}
