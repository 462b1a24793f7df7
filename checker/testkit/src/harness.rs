//! The trusted test runner. The checker never takes a verdict from libtest output, exit
//! codes or anything else student code can write: each test runs in a process of its own,
//! the checker hands it a fresh random nonce on stdin, and a test passes only when the
//! checker reads a completion record that carries that nonce.
//!
//! Protocol (`suite --list` prints the test names, one per line):
//! `suite --run NAME`, then the checker writes `NONCE\n` to stdin and closes it. The harness
//! reads the nonce before any student code runs, runs the test on the main thread and prints
//! `\n{RECORD_TAG}{nonce} {json Record}\n` to stdout. A test that calls
//! `std::process::exit`, loops forever or aborts never prints a record and fails.

use std::io::{BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Marks the completion line; the nonce that follows is what makes it trustworthy.
pub const RECORD_TAG: &str = "@@workbook-record:";

/// What the harness reports for one test.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub test: String,
    pub passed: bool,
    /// The first panic on the test's own thread (an assertion, a loom report, a `todo!()`).
    pub message: Option<String>,
    /// Where that panic happened, `file:line:column`.
    pub location: Option<String>,
    /// Panics on other threads (worker threads), for context.
    pub other_panics: Vec<String>,
}

struct Panic {
    on_test_thread: bool,
    message: String,
    location: Option<String>,
}

static PANICS: Mutex<Vec<Panic>> = Mutex::new(Vec::new());

/// Messages of panics a test causes on purpose (see [`panic_on_purpose`]).
static EXPECTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The payload of [`panic_on_purpose_with_payload`]: neither `&str` nor `String`.
#[derive(Debug)]
pub struct DeliberatePayload(pub u32);

/// Panics on purpose with a `&'static str` payload — call it from a job to test how a pool
/// handles a panicking job. The harness does not count it as the test failing (not even
/// under loom, where the pool's threads share the test's OS thread) and does not print it;
/// the test's own assertions decide.
pub fn panic_on_purpose(message: &'static str) -> ! {
    expect(message);
    std::panic::panic_any(message)
}

/// Like [`panic_on_purpose`], with a `String` payload (what `panic!("{x}")` makes).
pub fn panic_on_purpose_with_string(message: String) -> ! {
    expect(&message);
    std::panic::panic_any(message)
}

/// Like [`panic_on_purpose`], with a payload that is not text at all.
pub fn panic_on_purpose_with_payload(payload: DeliberatePayload) -> ! {
    std::panic::panic_any(payload)
}

fn expect(message: &str) {
    let mut expected = EXPECTED.lock().unwrap_or_else(|e| e.into_inner());
    if !expected.iter().any(|m| m == message) {
        expected.push(message.to_string());
    }
}

fn deliberate(payload: &(dyn std::any::Any + Send)) -> bool {
    if payload.is::<DeliberatePayload>() {
        return true;
    }
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        *s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        return false;
    };
    EXPECTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|m| m == text)
}

/// A suite's `main`: `tests` is the table the checker generated from the curriculum.
pub fn main(tests: &[(&str, fn())]) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--list"] => {
            for (name, _) in tests {
                println!("{name}");
            }
        }
        ["--run", name] => {
            let Some(&(name, test)) = tests.iter().find(|(n, _)| n == name) else {
                eprintln!("no test named {name:?} in this suite");
                std::process::exit(2);
            };
            let mut nonce = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut nonce)
                .expect("the checker writes a nonce on stdin");
            let nonce = nonce.trim().to_string();
            let record = run_one(name, test, &nonce);
            emit(&nonce, &record);
            // Do not wait for threads a wrong pool left running.
            std::process::exit(0);
        }
        _ => {
            eprintln!("usage: suite --list | suite --run NAME (the checker drives this binary)");
            std::process::exit(2);
        }
    }
}

/// Prints a record. Leading newline: student output may have left a partial line.
fn emit(nonce: &str, record: &Record) {
    let line = serde_json::to_string(record).expect("a record serialises");
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "\n{RECORD_TAG}{nonce} {line}\n");
    let _ = out.flush();
}

fn run_one(name: &str, test: fn(), nonce: &str) -> Record {
    let main_thread = std::thread::current().id();
    let previous = panic::take_hook();
    let (hook_name, hook_nonce) = (name.to_string(), nonce.to_string());
    panic::set_hook(Box::new(move |info| {
        if deliberate(info.payload()) {
            // The test made a job panic on purpose: the pool's handling is what is tested.
            return;
        }
        let message = payload_text(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let on_test_thread = std::thread::current().id() == main_thread;
        if let Ok(mut panics) = PANICS.lock() {
            let first = on_test_thread && !panics.iter().any(|p| p.on_test_thread);
            if first {
                // Report the failure now: loom often aborts the process while unwinding
                // (a second panic in a destructor), and the message must not be lost.
                // A failure record can only ever fail a test, so reporting early is safe.
                emit(
                    &hook_nonce,
                    &Record {
                        test: hook_name.clone(),
                        passed: false,
                        message: Some(message.clone()),
                        location: location.clone(),
                        other_panics: panics.iter().map(|p| p.message.clone()).collect(),
                    },
                );
            }
            panics.push(Panic {
                on_test_thread,
                message,
                location,
            });
        }
        previous(info);
    }));
    let outcome = panic::catch_unwind(AssertUnwindSafe(test));
    let panics = std::mem::take(&mut *PANICS.lock().unwrap_or_else(|e| e.into_inner()));
    let first = panics.iter().find(|p| p.on_test_thread);
    Record {
        test: name.to_string(),
        passed: outcome.is_ok(),
        message: match (&outcome, first) {
            (Ok(()), _) => None,
            (Err(_), Some(p)) => Some(p.message.clone()),
            (Err(payload), None) if deliberate(payload.as_ref()) => Some(format!(
                "a job's deliberate panic ({}) reached the test itself: the pool let it escape \
             instead of catching it",
                payload_text(payload.as_ref())
            )),
            (Err(payload), None) => Some(payload_text(payload.as_ref())),
        },
        location: if outcome.is_ok() {
            None
        } else {
            first.and_then(|p| p.location.clone())
        },
        other_panics: panics
            .iter()
            .filter(|p| !p.on_test_thread)
            .map(|p| match &p.location {
                Some(l) => format!("{} (at {l})", p.message),
                None => p.message.clone(),
            })
            .collect(),
    }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Finds the record for `nonce` in a test process's stdout.
pub fn find_record(stdout: &str, nonce: &str) -> Option<Record> {
    let prefix = format!("{RECORD_TAG}{nonce} ");
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .find_map(|json| serde_json::from_str(json).ok())
}

/// How many panics the test has seen so far, on any thread, that were not made on purpose
/// with [`panic_on_purpose`] and friends. A test that makes a job panic asserts this stays
/// at 0: the pool itself (a worker's `send(..).unwrap()`, a `join().unwrap()` in shutdown)
/// must not panic because of it. Counts only under the harness, which installs the hook.
pub fn unexpected_panics() -> usize {
    PANICS.lock().unwrap_or_else(|e| e.into_inner()).len()
}
