//! Hidden suite, exercise 5 (results): loom models. Small on purpose (2 workers, at most 3
//! jobs, windows of 1–3): loom explores every interleaving, so a bug found here is a bug in
//! some real run. A panic on any thread (a worker's `send(..).unwrap()`, say) fails a model.

use results::{JobId, Order, ResultPool, TrySubmitError, fold};
use workbook_sync::{Arc, thread};

pub fn loom_ordered_delivery() {
    testkit::model(|| {
        let (mut pool, results) =
            ResultPool::new(2, Order::Submission { window: 3 }, |n: u8| n).expect("valid pool");
        for n in 0..3 {
            pool.submit(n).expect("a healthy pool accepts jobs");
        }
        pool.close();
        let got: Vec<(u64, u8)> = results.map(|r| (r.id.0, r.value)).collect();
        assert_eq!(
            got,
            vec![(0, 0), (1, 1), (2, 2)],
            "ordered mode, 3 jobs on 2 workers: in some interleaving the stream delivered \
             {got:?} instead of 0, 1, 2 in submission order. Out of order: hand out only the \
             result whose id is next and buffer the rest. Missing: the stream ended too early."
        );
        pool.shutdown();
    });
}

pub fn loom_stream_ends_when_all_jobs_done() {
    testkit::model(|| {
        let (mut pool, results) =
            ResultPool::new(2, Order::Completion, |n: u8| n).expect("valid pool");
        let consumer = thread::spawn(move || results.count());
        pool.submit(1).expect("a healthy pool accepts jobs");
        pool.submit(2).expect("a healthy pool accepts jobs");
        pool.close();
        // The closed pool is still alive: the consumer must finish anyway, with both results.
        let seen = consumer.join().expect("consumer thread");
        assert_eq!(
            seen, 2,
            "the results stream ended after {seen} of 2 results in some interleaving: it \
             must end only when the LAST worker is done (every worker holds its own Sender; \
             the stream closes when the last one is dropped)"
        );
        pool.shutdown();
    });
}

pub fn loom_consumer_dropped_early() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (pool, mut results) =
            ResultPool::new(2, Order::Submission { window: 2 }, move |n: u8| {
                let _ = &held; // the job function owns a clone of the probe
                n
            })
            .expect("valid pool");
        pool.submit(0).expect("a healthy pool accepts jobs");
        pool.submit(1).expect("a healthy pool accepts jobs");
        assert_eq!(results.next().map(|r| r.id), Some(JobId(0)));
        drop(results); // result 1 may be done, running, or still queued
        assert_eq!(
            pool.submit(2),
            Err(2),
            "after the consumer left, submit hands the job back"
        );
        pool.shutdown();
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after shutdown a worker thread still holds the job function: join every \
             worker, even when the consumer left early"
        );
    });
}

pub fn loom_fold_window_one() {
    testkit::model(|| {
        let folded = fold(
            2,
            Order::Submission { window: 1 },
            0..3u8,
            |n| n,
            Vec::new(),
            |mut acc, r| {
                acc.push((r.id.0, r.value));
                acc
            },
        )
        .expect("valid pool");
        assert_eq!(
            folded,
            vec![(0, 0), (1, 1), (2, 2)],
            "fold with window 1 must fold every result once, in order"
        );
    });
}

pub fn loom_waiting_submit_wakes_when_consumer_drops() {
    testkit::model(|| {
        let (pool, results) =
            ResultPool::new(2, Order::Submission { window: 1 }, |n: u8| n).expect("valid pool");
        let pool = Arc::new(pool);
        pool.submit(0).expect("an empty window has room");
        // The window is full and result 0 is never taken.
        let submitter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.submit(1))
        };
        drop(results);
        assert_eq!(
            submitter.join().expect("submitting thread"),
            Err(1),
            "a submit waiting for a slot must wake up and hand its job back when the consumer \
             drops the results stream (if this deadlocked: the consumer's drop wakes nobody)"
        );
        drop(pool); // the last handle: shuts the pool down
    });
}

pub fn loom_window_full_until_result_taken() {
    testkit::model(|| {
        let (mut pool, mut results) =
            ResultPool::new(2, Order::Submission { window: 1 }, |n: u8| n).expect("valid pool");
        pool.submit(0).expect("an empty window has room");
        // Job 0 may be queued, running or finished here: in every case it is in the pool
        // until its result is taken.
        assert_eq!(
            pool.try_submit(1),
            Err(TrySubmitError::Full(1)),
            "window 1 and job 0 not yet taken by the consumer: try_submit must report Full in \
             every interleaving. A slot is freed when the consumer TAKES a result, not when \
             the job finishes."
        );
        assert_eq!(results.next().map(|r| r.id), Some(JobId(0)));
        assert_eq!(
            pool.try_submit(1),
            Ok(JobId(1)),
            "taking result 0 frees its slot before `next` returns"
        );
        pool.close();
        assert_eq!(results.next().map(|r| r.id), Some(JobId(1)));
        assert!(
            results.next().is_none(),
            "closed and drained: the stream ends"
        );
        pool.shutdown();
    });
}

pub fn loom_close_alone_ends_the_stream() {
    testkit::model(|| {
        // Threads: main + 2 workers, both idle (no job at all), maybe both waiting for one.
        let (mut pool, mut results) =
            ResultPool::new(2, Order::Completion, |n: u8| n).expect("valid pool");
        pool.close();
        // The pool is still alive: only close() itself can have let the workers go.
        assert!(
            results.next().is_none(),
            "no job was submitted, so after close the stream can only end"
        );
        assert_eq!(
            pool.submit(7),
            Err(7),
            "submit after close hands the job back"
        );
        pool.shutdown();
    });
}

pub fn loom_submit_wakes_an_idle_worker() {
    testkit::model(|| {
        // Threads: main + 1 worker, idle (maybe waiting) when the job arrives.
        let (pool, mut results) =
            ResultPool::new(1, Order::Completion, |n: u8| n).expect("valid pool");
        pool.submit(1).expect("a healthy pool accepts jobs");
        // Before any close or shutdown: only the submit itself can get the job run.
        assert_eq!(
            results.next().map(|r| (r.id, r.value)),
            Some((JobId(0), 1)),
            "the job's result arrives before the pool is closed"
        );
        pool.shutdown();
    });
}
