//! Tracing for the runnable examples (`cargo run -p <crate> --example demo`): one column per
//! worker thread, a line each time a job starts or finishes, the time since the start on
//! the left, and the throughput at the end.
//!
//! The examples include this file by path (`#[path = …] mod trace;`), so it uses nothing
//! but `std`. It is also a module of `bench-kit`, where its tests run.

#![allow(dead_code)]

use std::cell::Cell;
use std::fmt::Display;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Columns this wide, one per worker.
const LANE: usize = 18;

static START: OnceLock<Instant> = OnceLock::new();
static NEXT_WORKER: AtomicUsize = AtomicUsize::new(0);
/// One line at a time, so two workers never interleave characters.
static OUT: Mutex<()> = Mutex::new(());

thread_local! {
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Prints the title and the column headings, and starts the clock.
pub fn start(title: &str, workers: usize) {
    START.get_or_init(Instant::now);
    let mut head = format!("{:>9}  ", "ms");
    for w in 1..=workers {
        head.push_str(&format!("{:<LANE$}", format!("worker {w}")));
    }
    println!("{title}\n\n{head}\n{}", "-".repeat(head.len()));
}

/// Milliseconds since [`start`].
pub fn millis() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// The calling thread's worker number (1, 2, …), given the first time a thread asks.
pub fn worker() -> usize {
    WORKER.with(|w| match w.get() {
        Some(id) => id,
        None => {
            let id = NEXT_WORKER.fetch_add(1, Ordering::Relaxed) + 1;
            w.set(Some(id));
            id
        }
    })
}

/// A line in the calling worker's column.
pub fn lane(text: impl Display) {
    let w = worker();
    let line = format!(
        "{:>9.1}  {}{text}",
        millis(),
        " ".repeat(LANE * (w.saturating_sub(1)))
    );
    let _guard = OUT.lock().unwrap_or_else(|e| e.into_inner());
    println!("{line}");
    let _ = std::io::stdout().flush();
}

/// A line across all columns (the caller's own news: submitting, closing, results).
pub fn say(text: impl Display) {
    let line = format!("{:>9.1}  {text}", millis());
    let _guard = OUT.lock().unwrap_or_else(|e| e.into_inner());
    println!("{line}");
    let _ = std::io::stdout().flush();
}

/// Runs `f` as job `job`, traced: `▶ job` when it starts, `✓ job` when it ends.
pub fn job<R>(job: impl Display, f: impl FnOnce() -> R) -> R {
    lane(format!("▶ {job}"));
    let r = f();
    lane(format!("✓ {job}"));
    r
}

/// Stands for real work that takes `d`: it waits (a demo shows the timing, not a CPU).
pub fn work(d: Duration) {
    std::thread::sleep(d);
}

/// The closing line: how many jobs in how long, and the throughput.
pub fn done(jobs: usize) {
    let secs = millis() / 1e3;
    println!(
        "\n{jobs} jobs in {:.0} ms: {:.0} jobs per second, on {} worker thread(s).",
        secs * 1e3,
        jobs as f64 / secs.max(1e-9),
        NEXT_WORKER.load(Ordering::Relaxed)
    );
}

/// A watchdog for the examples that reproduce a deadlock on purpose: unless [`Watchdog::ok`]
/// is called within `limit`, it prints `explanation` and ends the process with exit code 2
/// (the blocked threads cannot be unblocked; the process can still end).
pub struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
}

impl Watchdog {
    pub fn start(limit: Duration, explanation: &'static str) -> Watchdog {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if rx.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                let _guard = OUT.lock().unwrap_or_else(|e| e.into_inner());
                eprintln!(
                    "\n{:>9.1}  WATCHDOG: nothing has moved for {} ms — this is a deadlock.\n\n{explanation}",
                    millis(),
                    limit.as_millis()
                );
                std::process::exit(2);
            }
        });
        Watchdog { done }
    }

    /// The watched part finished: no deadlock.
    pub fn ok(self) {
        let _ = self.done.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_gets_its_own_number_once() {
        let here = worker();
        assert_eq!(worker(), here);
        let there = std::thread::spawn(worker).join().unwrap();
        assert_ne!(here, there);
    }

    #[test]
    fn a_watched_part_that_finishes_is_left_alone() {
        let dog = Watchdog::start(Duration::from_secs(60), "unused");
        assert_eq!(job("j", || 7), 7);
        dog.ok();
    }
}
