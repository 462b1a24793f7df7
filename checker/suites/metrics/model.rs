//! Hidden suite, exercise 9 (metrics): loom models. Small on purpose (at most 2 workers,
//! at most 3 jobs, at most 4 threads in all): loom explores every interleaving of workers,
//! submitters and snapshots, so a snapshot that can ever be inconsistent is found here.
//!
//! The clock never moves (`|| Duration::ZERO`): loom cannot model time, and the promises
//! checked here are about counts.

use std::time::Duration;

use metrics::{Config, MetricsPool, Snapshot, Window};
use workbook_sync::{Arc, thread};

type Task = fn() -> Result<(), &'static str>;

fn ok() -> Result<(), &'static str> {
    Ok(())
}

fn fails() -> Result<(), &'static str> {
    Err("fails on purpose")
}

fn panics() -> Result<(), &'static str> {
    testkit::panic_on_purpose("a job that panics on purpose (loom model)")
}

fn pool(workers: usize) -> MetricsPool<Task> {
    MetricsPool::new(
        Config {
            workers,
            buckets: vec![Duration::from_millis(1)],
            window: Window {
                span: Duration::from_secs(1),
                slots: 1,
            },
        },
        || Duration::ZERO,
        |task: Task| task(),
    )
    .expect("a valid config")
}

/// The snapshot's promises, in plain words when broken (`i128`: a count that wrapped below
/// zero is shown as the negative number it is).
fn assert_consistent(s: &Snapshot, when: &str) {
    let signed = |v: u64| v as i64 as i128;
    let wrapped = [
        s.submitted,
        s.started,
        s.succeeded,
        s.failed,
        s.in_flight,
        s.queued,
    ]
    .iter()
    .any(|&v| v > u64::MAX / 2);
    assert!(
        !wrapped,
        "{when}: a count went below zero (queued = {}, in_flight = {}). In some interleaving \
         a job was counted as taken or finished before it was counted as submitted or \
         started — count a job before you queue it — or the snapshot read a counter before \
         another it depends on (read the workers' counts first, then `submitted`). \
         Snapshot: {s:?}",
        signed(s.queued),
        signed(s.in_flight)
    );
    assert_eq!(
        s.succeeded + s.failed + s.in_flight + s.queued,
        s.submitted,
        "{when}: succeeded + failed + in_flight + queued != submitted — a torn snapshot (values \
         read at different moments) or a lost update. Snapshot: {s:?}"
    );
    assert_eq!(
        s.succeeded + s.failed + s.in_flight,
        s.started,
        "{when}: succeeded + failed + in_flight != started. Snapshot: {s:?}"
    );
    assert_eq!(
        (s.run_time.count(), s.queue_time.count()),
        (s.succeeded + s.failed, s.started),
        "{when}: (run_time.count(), queue_time.count()) must be (finished, started) in the \
         same snapshot: record a histogram observation and its count together. \
         Snapshot: {s:?}"
    );
    assert!(
        s.in_flight <= s.workers as u64 && s.queue_high_water >= s.queued,
        "{when}: in_flight <= workers and queue_high_water >= queued. Snapshot: {s:?}"
    );
}

fn assert_not_backwards(prev: &Snapshot, next: &Snapshot) {
    let grows = |s: &Snapshot| {
        [
            s.submitted,
            s.started,
            s.succeeded,
            s.failed,
            s.run_time.count(),
            s.queue_time.count(),
            s.queue_high_water,
        ]
    };
    let (a, b) = (grows(prev), grows(next));
    assert!(
        a.iter().zip(&b).all(|(x, y)| x <= y),
        "a later snapshot went backwards: [submitted, started, succeeded, failed, runs, \
         queue times, high water] {a:?} then {b:?}"
    );
}

fn assert_all_done(last: &Snapshot, submitted: u64, succeeded: u64, failed: u64) {
    assert_consistent(last, "the snapshot shutdown returned");
    assert_eq!(
        (
            last.submitted,
            last.succeeded,
            last.failed,
            last.queued,
            last.in_flight
        ),
        (submitted, succeeded, failed, 0, 0),
        "(submitted, succeeded, failed, queued, in_flight) after shutdown: every job \
         finished. A lower count is a lost update (a load then a store instead of one atomic \
         read-modify-write) or a job shutdown never ran; a panic counted as a success shows \
         in succeeded"
    );
}

pub fn loom_snapshot_while_workers_run() {
    testkit::model(|| {
        let p = pool(2);
        p.submit(ok);
        p.submit(fails);
        let s = p.snapshot();
        assert_consistent(&s, "a snapshot taken while 2 workers run 2 jobs");
        let last = p.shutdown();
        assert_not_backwards(&s, &last);
        assert_all_done(&last, 2, 1, 1);
    });
}

pub fn loom_snapshots_from_another_thread() {
    testkit::model(|| {
        let p = Arc::new(pool(2));
        let reader = {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                let first = p.snapshot();
                assert_consistent(&first, "a snapshot taken on another thread");
                let second = p.snapshot();
                assert_consistent(&second, "a second snapshot on another thread");
                assert_not_backwards(&first, &second);
            })
        };
        p.submit(ok);
        p.submit(panics);
        reader.join().expect("the snapshot thread");
        let p = Arc::try_unwrap(p).unwrap_or_else(|_| panic!("the reader is gone"));
        assert_all_done(&p.shutdown(), 2, 1, 1);
    });
}

pub fn loom_concurrent_submitters() {
    testkit::model(|| {
        let p = Arc::new(pool(1));
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let p = Arc::clone(&p);
                thread::spawn(move || p.submit(ok))
            })
            .collect();
        for s in submitters {
            s.join().expect("a submitter thread");
        }
        let s = p.snapshot();
        assert_consistent(&s, "after two threads submitted one job each");
        assert_eq!(
            s.submitted, 2,
            "two threads submitted one job each at the same time: submitted must be 2. A \
             counter read and then written back (load, then store) loses one of them"
        );
        let p = Arc::try_unwrap(p).unwrap_or_else(|_| panic!("the submitters are gone"));
        assert_all_done(&p.shutdown(), 2, 2, 0);
    });
}

pub fn loom_snapshot_while_submitting() {
    testkit::model(|| {
        let p = Arc::new(pool(1));
        let reader = {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                let s = p.snapshot();
                assert_consistent(&s, "a snapshot taken while jobs are submitted and taken");
                s
            })
        };
        p.submit(ok);
        p.submit(ok);
        let seen = reader.join().expect("the snapshot thread");
        let p = Arc::try_unwrap(p).unwrap_or_else(|_| panic!("the reader is gone"));
        let last = p.shutdown();
        assert_not_backwards(&seen, &last);
        assert_all_done(&last, 2, 2, 0);
    });
}
