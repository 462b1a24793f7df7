//! Hidden suite, exercise 3 (dynamic): loom models. Small on purpose (at most 2 workers at
//! once, 2 jobs, at most 4 threads in all): loom explores every interleaving, so a bug found
//! here is a bug in some real run. The clock never moves (`|| 0`) unless a model moves a
//! loom atomic by hand: with `idle_after = 0` every idle worker may be retired, which is
//! exactly the race these models need.

use dynamic::{DynamicPool, Scaling};
use workbook_sync::atomic::{AtomicU64, Ordering};
use workbook_sync::{Arc, thread};

/// Shuts down a pool shared through an `Arc` once every other holder is gone.
fn shutdown_shared<J: Send + 'static>(pool: Arc<DynamicPool<J>>) {
    match Arc::try_unwrap(pool) {
        Ok(pool) => pool.shutdown(),
        Err(_) => panic!("the test still shares the pool: a bug in the model itself"),
    }
}

pub fn loom_concurrent_submits_respect_max() {
    testkit::model(|| {
        // Threads: main + 1 submitter + at most 2 workers (a 3rd worker is the bug).
        let limits = Scaling {
            min: 1,
            max: 2,
            grow_above: 0,
            idle_after: 0,
        };
        let (pool, results) = DynamicPool::new(limits, || 0u64, |n: u8| n).expect("valid pool");
        let pool = Arc::new(pool);
        let other = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                pool.submit(1).expect("an open pool accepts jobs");
                pool.workers()
            })
        };
        pool.submit(2).expect("an open pool accepts jobs");
        let seen_by_other = other.join().expect("submitter thread");
        let seen_by_main = pool.workers();
        assert!(
            seen_by_other <= 2 && seen_by_main <= 2,
            "OVERSHOOT: with max = 2, two concurrent submits left workers() = {} (seen by the \
             other submitter: {seen_by_other}). Both submitters read the count, both saw room \
             for one more, and both started a worker. Read the count, start the worker and \
             count it under one lock.",
            seen_by_main
        );
        shutdown_shared(pool);
        let mut got: Vec<u8> = results.try_iter().collect();
        got.sort_unstable();
        assert_eq!(got, vec![1, 2], "after shutdown every result is there");
    });
}

pub fn loom_retire_never_loses_a_job() {
    testkit::model(|| {
        // Threads: main + 1 retirer + the first worker + (if it was retired) its successor.
        let limits = Scaling {
            min: 0,
            max: 1,
            grow_above: 0,
            idle_after: 0,
        };
        let (pool, results) = DynamicPool::new(limits, || 0u64, |n: u8| n).expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs"); // starts the first worker
        let pool = Arc::new(pool);
        let retirer = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.retire_idle())
        };
        // Races with the retirement: the job must run whichever worker ends up with it.
        pool.submit(2).expect("an open pool accepts jobs");
        retirer.join().expect("retirer thread");
        shutdown_shared(pool);
        let mut got: Vec<u8> = results.try_iter().collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![1, 2],
            "LOST JOB: a job submitted while an idle worker was being retired never ran. \
             Either the retired worker took the job and left without running it (check for \
             retirement *before* taking a job), or the last worker was retired while a job \
             was waiting for it (nothing is idle while the queue is not empty)."
        );
    });
}

pub fn loom_retired_workers_are_joined() {
    testkit::model(|| {
        // Threads: main + 2 workers.
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let limits = Scaling {
            min: 1,
            max: 2,
            grow_above: 0,
            idle_after: 0,
        };
        let (pool, results) = DynamicPool::new(
            limits,
            || 0u64,
            move |n: u8| {
                let _ = &held; // the job function owns a clone of the probe
                n
            },
        )
        .expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs"); // 1 waiting > 0: a 2nd worker
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        // Both workers are idle now (the one that ran the job counted itself idle before
        // sending its result); min = 1, so exactly one goes.
        assert_eq!(
            pool.retire_idle(),
            1,
            "retire_idle() with 2 idle workers, min = 1, idle_after = 0"
        );
        assert_eq!(pool.workers(), 1, "workers() after retiring 1 of 2");
        pool.shutdown();
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after shutdown a worker thread still holds the job function, so it is \
             still alive. A retired worker's thread must be joined too: by retire_idle, or \
             by shutdown at the latest."
        );
    });
}

fn limits(min: usize, max: usize, grow_above: usize, idle_after: u64) -> Scaling {
    Scaling {
        min,
        max,
        grow_above,
        idle_after,
    }
}

pub fn loom_idle_before_result_is_sent() {
    testkit::model(|| {
        // Threads: main + 1 worker. The clock never moves and idle_after = 0: the worker is
        // retirable from the moment it counts as idle.
        let (pool, results) =
            DynamicPool::new(limits(0, 1, 0, 0), || 0u64, |n: u8| n).expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs");
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        assert_eq!(
            pool.retire_idle(),
            1,
            "retire_idle() right after receiving the only worker's result (idle_after = 0, \
             min = 0) retired nothing in some interleaving: the worker did not count as idle \
             yet. Record a worker as idle BEFORE it sends its result: whoever receives the \
             result may rely on it."
        );
        assert_eq!(
            pool.workers(),
            0,
            "workers() after retiring the only worker"
        );
        pool.shutdown();
    });
}

pub fn loom_new_worker_is_idle_from_when_it_is_counted() {
    testkit::model(|| {
        // Threads: main + 2 workers. The clock is a (loom) atomic the model moves by hand.
        let ticks = Arc::new(AtomicU64::new(0));
        let t = Arc::clone(&ticks);
        let (pool, results) = DynamicPool::new(
            limits(0, 2, 0, 5),
            move || t.load(Ordering::SeqCst),
            |n: u8| n,
        )
        .expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs"); // no worker: starts one
        pool.submit(2).expect("an open pool accepts jobs"); // a job waits: starts a 2nd
        let mut got = [results.recv().ok(), results.recv().ok()];
        got.sort_unstable();
        assert_eq!(got, [Some(1), Some(2)], "both results arrive");
        // Both jobs returned at time 0, and both workers were counted at time 0: whichever
        // ran the jobs, and even if one of them never ran a job (or its thread has not run
        // at all yet), both are idle since 0.
        ticks.store(5, Ordering::SeqCst);
        assert_eq!(
            pool.retire_idle(),
            2,
            "retire_idle() at time 5 with two workers started at time 0 whose jobs returned \
             at time 0 (idle_after = 5, min = 0) did not retire both in some interleaving. A \
             worker that has not taken a job yet is idle from the moment submit counts it — \
             not from when its thread first runs, which may be much later."
        );
        pool.shutdown();
    });
}

pub fn loom_retire_after_close_retires_nothing() {
    testkit::model(|| {
        // Threads: main + 1 worker.
        let (mut pool, results) =
            DynamicPool::new(limits(0, 1, 0, 0), || 0u64, |n: u8| n).expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs");
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        pool.close();
        // The idle worker may not have noticed the close yet: it must be left to leave.
        assert_eq!(
            pool.retire_idle(),
            0,
            "retire_idle() after close retired a worker in some interleaving: once the pool \
             is closed it must return 0 and retire nothing (the workers are leaving anyway)"
        );
        assert!(
            results.recv().is_err(),
            "after close, with every result taken, the stream ends"
        );
        assert_eq!(
            pool.workers(),
            0,
            "workers() once the stream has ended after close"
        );
        pool.shutdown();
    });
}

pub fn loom_close_wakes_every_idle_worker() {
    testkit::model(|| {
        // Threads: main + 2 workers, both idle (no job at all), maybe both asleep.
        let (mut pool, results) =
            DynamicPool::new(limits(2, 2, 0, 0), || 0u64, |n: u8| n).expect("valid pool");
        pool.close();
        // The pool is still alive: only close() itself can have woken the workers.
        assert!(
            results.recv().is_err(),
            "no job was submitted, so the stream can only end"
        );
        assert_eq!(
            pool.workers(),
            0,
            "workers() once the stream has ended after close"
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
        // Threads: main + 1 worker (min = 1; grow_above is high, so submit starts no other).
        let (pool, results) =
            DynamicPool::new(limits(1, 1, 10, 0), || 0u64, |n: u8| n).expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs");
        // Before any close or shutdown: only the submit's own wake-up can get the job run.
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        pool.shutdown();
    });
}
