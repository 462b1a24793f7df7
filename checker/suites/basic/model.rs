//! Hidden suite, exercise 1 (basic): loom models. Small on purpose (2 workers, at most 3
//! jobs): loom explores every interleaving, so a bug found here is a bug in some real run.

use basic::WorkerPool;
use pretty_assertions::assert_eq;
use workbook_sync::channel::RecvError;
use workbook_sync::{Arc, Condvar, Mutex, thread};

pub fn loom_shutdown_is_deadlock_free() {
    testkit::model(|| {
        let (pool, results) = WorkerPool::new(2, |n: u8| n).expect("valid pool");
        for n in 0..3 {
            pool.submit(n).expect("a healthy pool accepts jobs");
        }
        pool.shutdown();
        let mut got: Vec<u8> = results.try_iter().collect();
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2], "after shutdown every result is there");
    });
}

pub fn loom_no_leaked_worker() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (pool, _results) = WorkerPool::new(2, move |n: u8| {
            let _ = &held; // the job function owns a clone of the probe
            n
        })
        .expect("valid pool");
        pool.submit(1).expect("a healthy pool accepts jobs");
        pool.shutdown();
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after shutdown a worker thread still holds the job function, so it is \
             still alive: join every worker before shutdown returns"
        );
    });
}

pub fn loom_results_stream_ends() {
    testkit::model(|| {
        let (mut pool, results) = WorkerPool::new(2, |n: u8| n).expect("valid pool");
        let consumer = thread::spawn(move || results.iter().count());
        // One job for two workers: in some interleavings a worker is already waiting on the
        // empty queue when `close` runs, in others it has not got there yet; both must leave.
        pool.submit(1).expect("a healthy pool accepts jobs");
        pool.close();
        // The closed pool is still alive: the consumer must finish anyway.
        assert_eq!(consumer.join().expect("consumer"), 1);
        pool.shutdown();
    });
}

pub fn loom_workers_run_at_once() {
    testkit::model(|| {
        // Each job waits for the other to arrive: with 2 workers both jobs must be running
        // at once, or every thread ends up blocked and loom reports a deadlock.
        let arrived = Arc::new((Mutex::new(0u8), Condvar::new()));
        let a = Arc::clone(&arrived);
        let (pool, results) = WorkerPool::new(2, move |n: u8| {
            let (count, cv) = &*a;
            let mut count = count.lock().unwrap();
            *count += 1;
            cv.notify_all();
            while *count < 2 {
                count = cv.wait(count).unwrap();
            }
            n
        })
        .expect("valid pool");
        pool.submit(1).expect("a healthy pool accepts jobs");
        pool.submit(2).expect("a healthy pool accepts jobs");
        pool.shutdown();
        assert_eq!(results.try_iter().count(), 2);
    });
}

pub fn loom_shutdown_joins_the_others_after_a_panic() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (pool, results) = WorkerPool::new(2, move |n: u8| {
            let _ = &held; // the job function owns a clone of the probe
            if n == 0 {
                testkit::panic_on_purpose("job 0 of this model panics on purpose");
            }
            n
        })
        .expect("valid pool");
        pool.submit(0).expect("a healthy pool accepts jobs");
        pool.submit(1)
            .expect("one worker is left: the pool accepts jobs");
        pool.shutdown();
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: a job panicked, and shutdown returned while the other worker was still \
             alive (it still holds the job function). Joining the worker whose job panicked \
             returns Err; ignore it and join every other worker too — a loop that stops at the \
             first Err (`?`, `break`, collecting into a Result) leaves the rest running"
        );
        assert_eq!(
            results.try_iter().collect::<Vec<u8>>(),
            vec![1],
            "job 1 ran on the worker that was left"
        );
    });
}

pub fn loom_close_wakes_idle_workers() {
    testkit::model(|| {
        let (mut pool, results) = WorkerPool::new(2, |n: u8| n).expect("valid pool");
        // No job ever comes: the workers are idle (or about to be). Close alone, with the pool
        // still alive, must wake them so they exit and the stream ends.
        pool.close();
        assert_eq!(
            results.recv(),
            Err(RecvError),
            "close was called on a pool with idle workers: the results stream must end"
        );
        pool.shutdown();
    });
}

pub fn loom_submit_wakes_an_idle_worker() {
    testkit::model(|| {
        let (pool, results) = WorkerPool::new(2, |n: u8| n).expect("valid pool");
        // The pool stays open: only submit's own wake-up can get the job to an idle worker.
        pool.submit(1).expect("a healthy pool accepts jobs");
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        pool.shutdown();
    });
}
