//! The trusted test runner. The checker never takes a verdict from libtest output, exit
//! codes or anything else student code can write: each test runs in a process of its own,
//! and a test passes only when the checker reads a completion record, carrying a fresh
//! nonce, on a pipe that student code cannot reach.
//!
//! Protocol: `suite --list` prints the test names. `suite --run NAME --verdict` is started
//! with two extra descriptors: fd 4, a pipe carrying the run's nonce, and fd 3, the verdict
//! pipe. The main thread reads the nonce, then runs the test on a thread of its own that it
//! first confines ([`crate::confine`]: no filesystem, no system call on fds 3 and 4 — so
//! neither the test thread nor any thread it starts, the pool's workers included, can write
//! the verdict, reopen it through `/proc`, or read the nonce from memory through
//! `/proc/self/mem`). Only the main thread, which runs no student code, writes records:
//! `{RECORD_TAG}{nonce} {json Record}` lines on fd 3. A test that calls
//! `std::process::exit`, loops forever or aborts never gets a record written and fails.

use std::io::Write;
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
/// The descriptors of the verdict protocol (see the module docs).
pub const VERDICT_FD: i32 = 3;
pub const NONCE_FD: i32 = 4;

/// A suite's `main`: `tests` is the table the checker generated from the curriculum.
pub fn main(tests: &[(&str, fn())]) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--list"] => {
            for (name, _) in tests {
                println!("{name}");
            }
        }
        ["--run", name, rest @ ..] => {
            let Some(&(name, test)) = tests.iter().find(|(n, _)| n == name) else {
                eprintln!("no test named {name:?} in this suite");
                std::process::exit(2);
            };
            let mut options = Options::default();
            let mut rest = rest.iter();
            while let Some(flag) = rest.next() {
                match *flag {
                    "--verdict" => options.verdict = true,
                    "--require-confinement" => options.require_confinement = true,
                    "--scratch" => options.scratch = rest.next().map(std::path::PathBuf::from),
                    other => {
                        eprintln!("unknown option {other:?}");
                        std::process::exit(2);
                    }
                }
            }
            run(name, test, &options);
        }
        _ => {
            eprintln!(
                "usage: suite --list | suite --run NAME [--verdict] [--require-confinement] \
                 [--scratch DIR] (the checker drives this binary)"
            );
            std::process::exit(2);
        }
    }
}

#[derive(Default)]
struct Options {
    /// Read the nonce from fd 4 and write the verdict to fd 3 (as the checker runs it);
    /// otherwise print the record on stdout, for a person debugging a suite.
    verdict: bool,
    /// Give no verdict at all unless the test thread could be confined.
    require_confinement: bool,
    /// The one folder the test may write (for loom's checkpoint of a failing execution).
    scratch: Option<std::path::PathBuf>,
}

/// Where records go: the verdict pipe, written by this (main) thread only.
struct Verdict {
    out: Box<dyn Write>,
    nonce: String,
}

impl Verdict {
    fn open(options: &Options) -> Verdict {
        if !options.verdict {
            return Verdict {
                out: Box::new(std::io::stdout()),
                nonce: "manual".to_string(),
            };
        }
        #[cfg(unix)]
        {
            use std::io::Read;
            use std::os::fd::FromRawFd;
            // SAFETY: the checker opens fds 3 and 4 for this process (the verdict pipe and
            // the nonce pipe) and nothing else in the process owns them.
            let (out, mut nonce_in) = unsafe {
                (
                    std::fs::File::from_raw_fd(VERDICT_FD),
                    std::fs::File::from_raw_fd(NONCE_FD),
                )
            };
            let mut nonce = String::new();
            let _ = nonce_in.read_to_string(&mut nonce);
            // Keep fd 4 open (so it is never reused for something a test may touch) and keep
            // both out of any process a test starts.
            std::mem::forget(nonce_in);
            #[cfg(target_os = "linux")]
            // SAFETY: fcntl on our own descriptors.
            unsafe {
                libc::fcntl(VERDICT_FD, libc::F_SETFD, libc::FD_CLOEXEC);
                libc::fcntl(NONCE_FD, libc::F_SETFD, libc::FD_CLOEXEC);
            }
            Verdict {
                out: Box::new(out),
                nonce: nonce.trim().to_string(),
            }
        }
        #[cfg(not(unix))]
        {
            eprintln!("--verdict needs a Unix system");
            std::process::exit(2);
        }
    }

    fn write(&mut self, record: &Record) {
        let line = serde_json::to_string(record).expect("a record serialises");
        let _ = writeln!(self.out, "{RECORD_TAG}{} {line}", self.nonce);
        let _ = self.out.flush();
    }
}

/// What the test thread tells the main thread.
#[derive(Default)]
struct Outbox {
    /// A failure to report at once (the process may abort while unwinding).
    early: Option<Record>,
    /// Set by the main thread once `early` is written.
    early_written: bool,
    /// The test's end.
    last: Option<Record>,
}

static OUTBOX: Mutex<Option<Outbox>> = Mutex::new(None);
static OUTBOX_CHANGED: std::sync::Condvar = std::sync::Condvar::new();

fn outbox() -> std::sync::MutexGuard<'static, Option<Outbox>> {
    OUTBOX.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs one test on a confined thread of its own and reports it from this thread.
fn run(name: &str, test: fn(), options: &Options) {
    let mut verdict = Verdict::open(options);
    *outbox() = Some(Outbox::default());
    let (test_name, scratch) = (name.to_string(), options.scratch.clone());
    let require = options.require_confinement;
    let runner = std::thread::Builder::new()
        .name("test".to_string())
        // Loom and deep pools need more than the default 2 MiB a spawned thread gets.
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let confined =
                crate::confine::confine_this_thread(&[VERDICT_FD, NONCE_FD], scratch.as_deref());
            if require && !(confined.landlock && confined.seccomp) {
                eprintln!(
                    "the test thread could not be confined (landlock: {}, seccomp: {}): no \
                     verdict is given",
                    confined.landlock, confined.seccomp
                );
                std::process::abort();
            }
            let record = run_one(&test_name, test);
            let mut guard = outbox();
            if let Some(o) = guard.as_mut() {
                o.last = Some(record);
            }
            OUTBOX_CHANGED.notify_all();
        })
        .expect("spawning the test thread");
    let mut guard = outbox();
    while let Some(o) = guard.as_mut() {
        if let Some(record) = o.early.take() {
            verdict.write(&record);
            o.early_written = true;
            OUTBOX_CHANGED.notify_all();
        }
        if let Some(record) = o.last.take() {
            verdict.write(&record);
            break;
        }
        guard = OUTBOX_CHANGED
            .wait(guard)
            .unwrap_or_else(|e| e.into_inner());
    }
    drop(guard);
    drop(runner);
    // Do not wait for threads a wrong pool left running.
    std::process::exit(0);
}

/// Hands a failure record to the main thread and waits until it is written.
fn report_early(record: Record) {
    let mut guard = outbox();
    let Some(o) = guard.as_mut() else { return };
    o.early = Some(record);
    o.early_written = false;
    OUTBOX_CHANGED.notify_all();
    while guard.as_ref().is_some_and(|o| !o.early_written) {
        guard = OUTBOX_CHANGED
            .wait(guard)
            .unwrap_or_else(|e| e.into_inner());
    }
}

fn run_one(name: &str, test: fn()) -> Record {
    let test_thread = std::thread::current().id();
    let previous = panic::take_hook();
    let hook_name = name.to_string();
    panic::set_hook(Box::new(move |info| {
        if deliberate(info.payload()) {
            // The test made a job panic on purpose: the pool's handling is what is tested.
            return;
        }
        let message = payload_text(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let on_test_thread = std::thread::current().id() == test_thread;
        let mut early = None;
        if let Ok(mut panics) = PANICS.lock() {
            let first = on_test_thread && !panics.iter().any(|p| p.on_test_thread);
            if first {
                // Report the failure now: loom often aborts the process while unwinding
                // (a second panic in a destructor), and the message must not be lost.
                // A failure record can only ever fail a test, so reporting early is safe.
                early = Some(Record {
                    test: hook_name.clone(),
                    passed: false,
                    message: Some(message.clone()),
                    location: location.clone(),
                    other_panics: panics.iter().map(|p| p.message.clone()).collect(),
                });
            }
            panics.push(Panic {
                on_test_thread,
                message,
                location,
            });
        }
        if let Some(record) = early {
            report_early(record);
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

/// Counts the panics, on every thread from now on, that the test did not cause on purpose
/// with [`panic_on_purpose`] and its siblings: "no thread panics" while jobs panic
/// deliberately. The hook installed before still runs, so each panic is still reported.
pub fn count_unplanned_panics() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !deliberate(info.payload()) {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    count
}
