//! Hidden suite, exercise 3 (dynamic): loom models. Small on purpose (at most 2 workers at
//! once, 2 jobs, at most 4 threads in all): loom explores every interleaving, so a bug found
//! here is a bug in some real run. The clock never moves (`|| 0`): with `idle_after = 0`
//! every idle worker may be retired, which is exactly the race these models need.

use dynamic::{DynamicPool, Scaling};
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
