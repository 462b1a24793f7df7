//! Turns what a failed test left behind into a message that teaches: loom's terse reports
//! become DEADLOCK / LEAK / LIVELOCK / TOO MANY THREADS with what usually causes each and the
//! line each thread was blocked on, a `todo!()` becomes "not implemented yet", and a timeout
//! names the test, its purpose and its likely cause. Locations are shown as the student's own
//! files (`src/lib.rs:155`, `tests/starter.rs:65`); the hidden suites' files never are.

use std::path::Path;

use crate::curriculum::TestSpec;
use crate::runner::Outcome;
use crate::status::{Diagnosis, TestStatus};

/// What the checker knows about one test's end, ready to print.
pub struct Explained {
    pub status: TestStatus,
    /// What a failure proves; `None` for a pass.
    pub diagnosis: Option<Diagnosis>,
    pub message: String,
}

/// Maps the file names the compiler and loom report to names a student can open.
pub struct Locator<'a> {
    /// The subject crate (its `src/` is the student's code).
    pub crate_dir: &'a Path,
    /// The checker's generated harness workspace (it holds the copy of `tests/starter.rs`).
    pub work_dir: &'a Path,
}

impl Locator<'_> {
    /// `src/lib.rs:155:9` for the student's code, `tests/starter.rs:65:5` for the visible
    /// tests, `None` for anything else (hidden suites, the checker's own crates, the standard
    /// library): those are named by test, not by path.
    pub fn show(&self, location: &str) -> Option<String> {
        let path = Path::new(location);
        if let Ok(rest) = path.strip_prefix(self.crate_dir) {
            return Some(rest.to_string_lossy().into_owned());
        }
        if path.starts_with(self.work_dir) {
            let name = path.file_name()?.to_string_lossy();
            if let Some(line) = name.strip_prefix("starter.rs") {
                return Some(format!("tests/starter.rs{line}"));
            }
        }
        None
    }

    /// The student's file behind `file` (for quoting a line of it).
    fn source_of(&self, file: &str) -> Option<std::path::PathBuf> {
        let path = Path::new(file);
        path.starts_with(self.crate_dir).then(|| path.to_path_buf())
    }
}

pub fn explain(test: &TestSpec, outcome: &Outcome, at: &Locator<'_>) -> Explained {
    match outcome {
        Outcome::Passed => Explained {
            status: TestStatus::Passed,
            diagnosis: None,
            message: String::new(),
        },
        Outcome::TimedOut => Explained {
            status: TestStatus::Timeout,
            diagnosis: Some(Diagnosis::Timeout),
            message: timeout_message(test, None),
        },
        Outcome::Failed { record, hung_after } => {
            let raw = record.message.clone().unwrap_or_default();
            let todo = is_todo(&raw) || record.other_panics.iter().any(|p| is_todo(p));
            let loom = translate_loom(&raw, at);
            let diagnosis = match &loom {
                Some((d, _)) => *d,
                None if todo => Diagnosis::Todo,
                None if test.kind == crate::curriculum::Kind::Loom => Diagnosis::ModelFailure,
                None => Diagnosis::Assertion,
            };
            let mut message = match loom {
                Some((_, teaching)) => teaching,
                None if todo => todo_message(&raw),
                None if diagnosis == Diagnosis::ModelFailure => format!(
                    "MODEL FAILURE: in at least one interleaving loom explored, this check \
                     failed:\n{raw}"
                ),
                None => raw,
            };
            if let Some(loc) = record.location.as_deref().and_then(|l| at.show(l)) {
                message.push_str(&format!("\n  at {loc}"));
            }
            for other in record.other_panics.iter().take(3) {
                message.push_str(&format!(
                    "\n  (a thread of the pool panicked: {})",
                    show_panic(other, at)
                ));
            }
            if *hung_after {
                message.push_str(
                    "\n  (after this failure the test hung while cleaning up — dropping the \
                     pool waited for jobs that were still blocked — and was stopped)",
                );
            }
            message.push_str(&format!("\nThis test checks: {}", test.explains));
            Explained {
                status: TestStatus::Failed,
                diagnosis: Some(diagnosis),
                message,
            }
        }
        Outcome::NoRecord { exit, stderr } => {
            let (diagnosis, mut message) = match translate_loom(stderr, at) {
                Some((d, teaching)) => (d, teaching),
                None if is_todo(stderr) => (Diagnosis::Todo, todo_message(stderr)),
                None => (Diagnosis::Crash, format!("{exit}.\n{}", tail(stderr, 20))),
            };
            message.push_str(&format!("\nThis test checks: {}", test.explains));
            Explained {
                status: TestStatus::Crashed,
                diagnosis: Some(diagnosis),
                message,
            }
        }
    }
}

/// A timeout's message. With `proven` (a loom model of the same exercise that proved a
/// deadlock), the hang is explained as that deadlock instead of with guesses.
pub fn timeout_message(test: &TestSpec, proven: Option<&str>) -> String {
    let mut message = format!(
        "timed out after {}s — deadlock or infinite loop suspected in `{}`.\nThis test checks: {}",
        test.timeout().as_secs(),
        test.name,
        test.explains
    );
    match (proven, &test.on_timeout) {
        (Some(model), _) => message.push_str(&format!(
            "\nProbably the same deadlock that loom proved in `{model}` (shown first): fix that \
             one and check again."
        )),
        (None, Some(cause)) => message.push_str(&format!("\nIf this timed out: {cause}")),
        (None, None) => {}
    }
    message
}

fn is_todo(text: &str) -> bool {
    text.contains("not yet implemented")
}

/// `not yet implemented: start the workers` → `not implemented yet: start the workers`
/// (the stub's own words, without the stutter).
fn todo_message(raw: &str) -> String {
    let what = raw
        .lines()
        .find_map(|l| {
            l.find("not yet implemented")
                .map(|i| &l[i + "not yet implemented".len()..])
        })
        .unwrap_or_default()
        .trim_start_matches(':')
        .trim();
    if what.is_empty() {
        "not implemented yet (a `todo!()` is still in place)".to_string()
    } else {
        format!("not implemented yet: {what}")
    }
}

/// `message (at /abs/src/lib.rs:3:4)` with the location shown for the student, or dropped.
fn show_panic(text: &str, at: &Locator<'_>) -> String {
    match text.rsplit_once(" (at ") {
        Some((message, loc)) => {
            let loc = loc.trim_end_matches(')');
            match at.show(loc) {
                Some(shown) => format!("{message} (at {shown})"),
                None => message.to_string(),
            }
        }
        None => text.to_string(),
    }
}

/// Loom's report, rewritten for a student; `None` when the text is not a loom report.
pub fn translate_loom(text: &str, at: &Locator<'_>) -> Option<(Diagnosis, String)> {
    if let Some(pos) = text.find("deadlock; threads = ") {
        let report = text[pos..].lines().next().unwrap_or_default();
        return Some((
            Diagnosis::Deadlock,
            format!(
                "DEADLOCK: loom found an interleaving in which every live thread is blocked, \
                 so none can ever continue. Where each thread was:\n{}\nTypical causes: \
                 joining a worker before dropping the job Sender; a worker waiting on a queue \
                 nobody will close; a send into a full channel nobody reads; a lock held \
                 while waiting for another thread.",
                blocked_threads(report, at)
            ),
        ));
    }
    if text.contains("Arc leaked") || text.contains("Allocation leaked") {
        return Some((
            Diagnosis::Leak,
            "LEAK: loom found an Arc (or allocation) still alive when the model ended: \
             something that should have been dropped was kept — usually a worker thread that \
             was never joined, or a handle stored where nothing drops it."
                .to_string(),
        ));
    }
    if let Some(pos) = text.find("LEAK:") {
        return Some((Diagnosis::Leak, text[pos..].to_string()));
    }
    if text.contains("Model exceeded maximum number of branches") {
        return Some((
            Diagnosis::Livelock,
            "LIVELOCK: loom saw a thread spin without making progress (the model exceeded its \
             branch limit). A loop that polls — `try_recv` in a loop, `yield_now` until a flag \
             changes, a spin on an atomic — never lets an idle pool rest. Block instead: a \
             blocking `recv`, or a `Condvar` wait inside a `while` loop that re-checks the \
             condition, with a notify wherever the condition can change."
                .to_string(),
        ));
    }
    if text.contains("self.threads.len() < self.max") {
        return Some((
            Diagnosis::TooManyThreads,
            "TOO MANY THREADS: the model spawned more threads than loom allows (4 besides the \
             test's own). Does the pool start a thread per job, or more workers than asked?"
                .to_string(),
        ));
    }
    None
}

/// `deadlock; threads = [(Id(0), Blocked(Location(Some(Location { file: "f", line: 1, column: 2 })))), …]`
/// → one line per thread: where it is blocked, with the student's line of code.
fn blocked_threads(report: &str, at: &Locator<'_>) -> String {
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
            (Some(file), Some(line)) => match at.show(file) {
                Some(shown) => {
                    let code = at
                        .source_of(file)
                        .zip(line.parse::<usize>().ok())
                        .and_then(|(path, n)| {
                            std::fs::read_to_string(path)
                                .ok()?
                                .lines()
                                .nth(n.checked_sub(1)?)
                                .map(|code| format!("\n      {}", code.trim()))
                        })
                        .unwrap_or_default();
                    format!(" at {shown}:{line}{code}")
                }
                None if n == 0 => " in the test itself (waiting for your pool)".to_string(),
                None => String::new(),
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn locator() -> Locator<'static> {
        Locator {
            crate_dir: Path::new("/home/student/exercises/01-basic"),
            work_dir: Path::new("/w/target/checker/work/grade-1"),
        }
    }

    #[test]
    fn locations_point_at_the_students_files_only() {
        let at = locator();
        assert_eq!(
            at.show("/home/student/exercises/01-basic/src/lib.rs:155:9")
                .as_deref(),
            Some("src/lib.rs:155:9")
        );
        assert_eq!(
            at.show("/w/target/checker/work/grade-1/unit/t0-priority-806dd09b/starter.rs:65:5")
                .as_deref(),
            Some("tests/starter.rs:65:5")
        );
        assert_eq!(at.show("/w/checker/suites/basic/hidden.rs:120:5"), None);
        assert_eq!(at.show("/rustc/abc/library/core/src/option.rs:1:1"), None);
    }

    #[test]
    fn todo_messages_do_not_stutter() {
        assert_eq!(
            todo_message("not yet implemented: start the workers"),
            "not implemented yet: start the workers"
        );
        assert_eq!(
            todo_message("not yet implemented"),
            "not implemented yet (a `todo!()` is still in place)"
        );
    }

    /// Loom's messages, as loom 0.7 prints them (captured from real runs of the known-wrong
    /// variants; see `checker/tests/fixtures/loom/`).
    #[test]
    fn loom_reports_from_real_runs_are_recognised() {
        let at = locator();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loom");
        let cases = [
            ("deadlock.txt", Diagnosis::Deadlock),
            ("leak.txt", Diagnosis::Leak),
            ("suite-leak.txt", Diagnosis::Leak),
            ("livelock.txt", Diagnosis::Livelock),
            ("too-many-threads.txt", Diagnosis::TooManyThreads),
        ];
        for (file, expected) in cases {
            let text = std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("fixture {file}: {e}"));
            let (found, message) = translate_loom(&text, &at)
                .unwrap_or_else(|| panic!("{file} is not recognised as a loom report"));
            assert_eq!(found, expected, "{file}: {message}");
        }
        assert!(translate_loom("assertion failed: left == right", &at).is_none());
    }

    #[test]
    fn a_deadlock_names_each_threads_line_in_the_students_code() {
        let at = locator();
        let report = "deadlock; threads = [(Id(0), Blocked(Location(Some(Location { file: \
             \"/home/student/exercises/01-basic/src/lib.rs\", line: 120, col: 13 })))), \
             (Id(1), Blocked(Location(Some(Location { file: \
             \"/home/student/exercises/01-basic/src/lib.rs\", line: 71, col: 33 })))), \
             (Id(2), Terminated)]";
        let (d, message) = translate_loom(report, &at).unwrap();
        assert_eq!(d, Diagnosis::Deadlock);
        assert!(
            message.contains("the test's thread: blocked at src/lib.rs:120"),
            "{message}"
        );
        assert!(
            message.contains("thread 1: blocked at src/lib.rs:71"),
            "{message}"
        );
        assert!(message.contains("thread 2: finished"), "{message}");
    }
}
