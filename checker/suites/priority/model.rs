//! Hidden suite, exercise 4 (priority): loom models. Small on purpose (at most 2 workers and
//! 3 jobs): loom explores every interleaving, so a bug found here is a bug in some real run.

use priority::{Priority, PriorityPool};
use workbook_sync::{Arc, Mutex, thread};

pub fn loom_idle_workers_block() {
    testkit::model(|| {
        // Two workers, one job: at least one worker has nothing to do the whole time. A
        // worker that polls for work instead of blocking runs round its loop for ever in
        // some interleaving, which loom reports as its branch limit (LIVELOCK).
        let (pool, results) = PriorityPool::new(2, 1, |n: u8| n).expect("valid pool");
        pool.submit(Priority::Low, 1)
            .expect("a healthy pool accepts jobs");
        pool.shutdown();
        let got: Vec<u8> = results.try_iter().collect();
        assert_eq!(got, vec![1], "after shutdown the one job's result is there");
    });
}

pub fn loom_shutdown_loses_no_job() {
    testkit::model(|| {
        let (pool, results) = PriorityPool::new(2, 1, |n: u8| n).expect("valid pool");
        pool.submit(Priority::Low, 0)
            .expect("a healthy pool accepts jobs");
        pool.submit(Priority::High, 1)
            .expect("a healthy pool accepts jobs");
        pool.submit(Priority::Low, 2)
            .expect("a healthy pool accepts jobs");
        pool.shutdown();
        let mut got: Vec<u8> = results.try_iter().collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![0, 1, 2],
            "LOST JOB: shutdown returned, but not every job (Low 0, High 1, Low 2) was \
             processed in this interleaving. Shutdown must drain both queues, and a worker \
             must never take a job out of a queue and then drop it"
        );
    });
}

pub fn loom_no_job_taken_twice() {
    testkit::model(|| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let (pool, _results) = PriorityPool::new(2, 1, move |n: u8| {
            log.lock().unwrap().push(n);
        })
        .expect("valid pool");
        let pool = Arc::new(pool);
        // A second producer submits while the workers are already taking jobs.
        let producer = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                pool.submit(Priority::Low, 0)
                    .expect("a healthy pool accepts jobs");
            })
        };
        pool.submit(Priority::High, 1)
            .expect("a healthy pool accepts jobs");
        pool.submit(Priority::Low, 2)
            .expect("a healthy pool accepts jobs");
        producer.join().expect("producer thread");
        let Ok(pool) = Arc::try_unwrap(pool) else {
            panic!("the producer thread has finished, so the test holds the only pool handle")
        };
        pool.shutdown();
        let mut got = seen.lock().unwrap().clone();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![0, 1, 2],
            "each of the jobs Low 0, High 1, Low 2 must run exactly once, whichever worker \
             takes it and however submits and takes interleave. A job missing was lost (taken \
             out of a queue and dropped); a job twice was taken without leaving its queue. \
             Choose a job and remove it from its queue in one step, under one lock"
        );
    });
}

pub fn loom_close_wakes_every_idle_worker() {
    testkit::model(|| {
        // No jobs at all: both workers may be asleep when the pool closes, and each must
        // wake up, see that the pool is closed and exit, or shutdown waits for ever.
        let (pool, results) = PriorityPool::new(2, 1, |n: u8| n).expect("valid pool");
        pool.shutdown();
        assert_eq!(
            results.try_iter().count(),
            0,
            "no job was submitted, so no result can come back"
        );
    });
}

pub fn loom_close_alone_wakes_every_idle_worker() {
    testkit::model(|| {
        // Threads: main + 2 workers, both idle (no job at all), maybe both asleep.
        let (mut pool, results) = PriorityPool::new(2, 1, |n: u8| n).expect("valid pool");
        pool.close();
        // The pool is still alive: only close() itself can have woken the workers.
        assert!(
            results.recv().is_err(),
            "no job was submitted, so the stream can only end"
        );
        assert_eq!(
            pool.submit(Priority::High, 7),
            Err(7),
            "submit after close hands the job back"
        );
        pool.shutdown();
    });
}

pub fn loom_submit_wakes_an_idle_worker() {
    testkit::model(|| {
        // Threads: main + 1 worker, idle (maybe asleep) when the job arrives.
        let (pool, results) = PriorityPool::new(1, 1, |n: u8| n).expect("valid pool");
        pool.submit(Priority::Low, 1)
            .expect("a healthy pool accepts jobs");
        // Before any close or shutdown: only the submit's own wake-up can get the job run.
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        pool.shutdown();
    });
}
