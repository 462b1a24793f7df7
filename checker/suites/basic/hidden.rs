//! Hidden suite, exercise 1 (basic): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use basic::{PoolError, WorkerPool};
use pretty_assertions::assert_eq;
use testkit::gate::{Arrivals, ExitWatch, Gate, ThreadExits};
use testkit::{check, panic_on_purpose};
use workbook_sync::channel::RecvError;

pub fn every_job_processed_exactly_once() {
    let processed = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&processed);
    let (pool, results) = WorkerPool::new(4, move |id: u64| {
        log.lock().unwrap().push(id);
        id
    })
    .expect("4 workers is a valid pool");
    // Consume concurrently, so this test does not depend on how results are buffered.
    let consumer = thread::spawn(move || results.iter().collect::<Vec<u64>>());
    for id in 0..500 {
        pool.submit(id).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    check::each_exactly_once("job", &processed.lock().unwrap(), 500);
    let results = consumer.join().expect("consumer thread");
    check::each_exactly_once("result", &results, 500);
}

pub fn results_stream_ends_after_shutdown() {
    let (pool, results) = WorkerPool::new(3, |n: u64| n + 1).expect("valid pool");
    for n in 0..30 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    let got = check::drain_closed(&results);
    assert_eq!(
        got.len(),
        30,
        "shutdown returned and the stream ended, but only {} of 30 results arrived: shutdown \
         must wait until every queued job has run",
        got.len()
    );
}

pub fn consumer_loop_ends() {
    let (mut pool, results) = WorkerPool::new(2, |n: u32| n).expect("valid pool");
    let consumer = thread::spawn(move || {
        let mut count = 0;
        for _ in results {
            count += 1;
        }
        count
    });
    for n in 0..50 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.close();
    // The pool is closed but still alive: the stream must end once all 50 jobs are done.
    // This hangs (and times out) if the pool itself holds a results Sender.
    let count = consumer.join().expect("consumer thread");
    assert_eq!(
        count, 50,
        "the consumer's loop ended early, after {count} of 50 results"
    );
    pool.shutdown();
}

pub fn submit_after_close_hands_job_back() {
    let (mut pool, results) = WorkerPool::new(2, |n: u32| n).expect("valid pool");
    pool.submit(1).expect("a healthy pool accepts jobs");
    pool.close();
    assert_eq!(
        pool.submit(2),
        Err(2),
        "submit after close must hand the job back (Err(job)): a job that cannot be queued \
         returns to the caller instead of vanishing"
    );
    pool.shutdown();
    assert_eq!(check::drain_closed(&results), vec![1]);
}

pub fn workers_run_at_once() {
    const N: usize = 4;
    // Each job waits until all N jobs are running: only a pool that really runs N jobs at
    // the same time gets past the barrier.
    let barrier = Arc::new(Barrier::new(N));
    let b = Arc::clone(&barrier);
    let (pool, results) = WorkerPool::new(N, move |n: usize| {
        b.wait();
        n
    })
    .expect("valid pool");
    for n in 0..N {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    let got: Vec<usize> = results.iter().collect();
    assert_eq!(got.len(), N);
}

pub fn no_thread_per_job() {
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let seen = Arc::clone(&threads);
    let (pool, results) = WorkerPool::new(2, move |n: u32| {
        seen.lock().unwrap().insert(thread::current().id());
        n
    })
    .expect("valid pool");
    for n in 0..100 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    assert_eq!(results.iter().count(), 100);
    let distinct = threads.lock().unwrap().len();
    assert!(
        distinct <= 2,
        "a pool of 2 workers ran 100 jobs on {distinct} different threads: a worker pool \
         starts its threads once and reuses them; spawning a thread per job is what the \
         pattern exists to avoid"
    );
}

pub fn zero_workers_rejected() {
    let probe = Arc::new(());
    let held = Arc::clone(&probe);
    let outcome = WorkerPool::<u8>::new(0, move |n: u8| {
        let _ = &held; // the job function owns a clone of the probe
        n
    });
    let error = outcome.err();
    assert_eq!(
        error,
        Some(PoolError::NoWorkers),
        "WorkerPool::new(0, ..) must return Err(PoolError::NoWorkers): a pool without \
         workers would accept jobs and never run them"
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "WorkerPool::new(0, ..) returned an error, but something it started still holds the \
         job function: with no workers, no thread may be started"
    );
    let error = error.expect("checked above");
    assert!(
        !error.to_string().is_empty(),
        "PoolError's Display message is empty: say why the pool could not be built"
    );
    let _: &dyn std::error::Error = &error;
}

pub fn more_workers_than_jobs() {
    let (pool, results) = WorkerPool::new(8, |n: u8| n * 2).expect("valid pool");
    for n in 0..3 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    assert_eq!(got, vec![0, 2, 4], "3 jobs on 8 workers");
}

pub fn results_buffered_until_read() {
    // The seed's "Channel Deadlocks" pitfall: nobody reads results until shutdown returns.
    // Far more results than any "big enough" buffer a pool might quietly use.
    const JOBS: u64 = 100_000;
    let (pool, results) = WorkerPool::new(2, |n: u64| n).expect("valid pool");
    for n in 0..JOBS {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown(); // hangs if results sit in a bounded channel nobody is reading
    check::each_exactly_once("result", &check::drain_closed(&results), JOBS);
}

pub fn shutdown_finishes_queued_jobs() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let exits = ThreadExits::new();
    let (g, s, e) = (gate.clone(), started.clone(), exits.clone());
    let (pool, results) = WorkerPool::new(1, move |n: u32| {
        e.enlist();
        if n == 0 {
            s.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    for n in 0..21 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    // Job 0 is running and blocked, so jobs 1..=20 are still queued.
    started.wait_for(1);
    let opener = {
        let gate = gate.clone();
        thread::spawn(move || gate.open())
    };
    pool.shutdown();
    opener.join().expect("opener thread");
    let got = check::drain_closed(&results);
    assert_eq!(
        got.len(),
        21,
        "shutdown was called with 20 jobs still queued and returned after only {} results: \
         shutdown must let the workers finish every queued job (close the queue; do not \
         discard it)",
        got.len()
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown returned while a worker thread was still running: join every worker"
    );
}

pub fn drop_joins_workers() {
    let exits = ThreadExits::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let (e, f) = (exits.clone(), Arc::clone(&finished));
    let (pool, results) = WorkerPool::new(3, move |n: u32| {
        e.enlist();
        f.fetch_add(1, Ordering::SeqCst);
        n
    })
    .expect("valid pool");
    for n in 0..60 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    drop(pool); // no explicit shutdown
    assert_eq!(
        finished.load(Ordering::SeqCst),
        60,
        "dropping the pool must finish every queued job, like shutdown does"
    );
    assert_eq!(check::drain_closed(&results).len(), 60);
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "the pool was dropped but a worker thread was still running: implement Drop so it \
         closes the queue and joins every worker"
    );
}

pub fn submit_never_blocks() {
    // The queue is unbounded: with the only worker parked, every job stays queued and no
    // submit may wait. Far more jobs than any "big enough" bound a pool might quietly use.
    const JOBS: u64 = 100_000;
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (pool, results) = WorkerPool::new(1, move |n: u64| {
        if n == 0 {
            s.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(0).expect("a healthy pool accepts jobs");
    started.wait_for(1);
    for n in 1..JOBS {
        // Hangs here (and times out) if the queue is bounded.
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    gate.open();
    pool.shutdown();
    check::each_exactly_once("result", &check::drain_closed(&results), JOBS);
}

pub fn results_receiver_dropped_jobs_still_run() {
    const JOBS: u64 = 1_000;
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let (pool, results) = WorkerPool::new(3, move |n: u64| {
        r.fetch_add(1, Ordering::SeqCst);
        n
    })
    .expect("valid pool");
    drop(results); // this caller does not want the results
    for n in 0..JOBS {
        assert_eq!(
            pool.submit(n),
            Ok(()),
            "the results receiver was dropped, and then submit refused job {n}: the workers \
             stopped. A worker whose result cannot be sent (the receiver is gone) must throw \
             the result away and go on — `let _ = results.send(..)`, not `.unwrap()` or a \
             `break` on the error"
        );
    }
    pool.shutdown();
    assert_eq!(
        ran.load(Ordering::SeqCst) as u64,
        JOBS,
        "the results receiver was dropped before {JOBS} jobs were submitted, and only some of \
         them ran: the workers stopped when a result could not be sent. Dropping the receiver \
         stops nothing — ignore the send error and go on with the next job"
    );
}

pub fn shutdown_survives_a_panicking_job() {
    let exits = ExitWatch::new();
    let e = exits.clone();
    let (pool, results) = WorkerPool::new(3, move |n: u64| {
        e.enlist();
        if n == 0 {
            panic_on_purpose("job 0 of this test panics on purpose");
        }
        n
    })
    .expect("valid pool");
    pool.submit(0).expect("a healthy pool accepts jobs");
    exits.wait_for_exits(1); // the worker that ran job 0 has ended
    for n in 1..=30 {
        pool.submit(n).expect(
            "one worker's job panicked, two workers are left: submit must still accept jobs",
        );
    }
    // Must not panic: joining the worker whose job panicked returns Err, which shutdown
    // ignores, and it still joins the other two.
    pool.shutdown();
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    assert_eq!(
        got,
        (1..=30).collect::<Vec<u64>>(),
        "after one worker's job panicked, the two other workers must run every other job"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown returned while a worker thread was still running: after a job panicked, \
         shutdown must still join every other worker"
    );
}

pub fn no_worker_left_hands_the_job_back() {
    let exits = ExitWatch::new();
    let e = exits.clone();
    let (pool, results) = WorkerPool::new(2, move |job: String| -> String {
        e.enlist();
        if job.starts_with("panic") {
            panic_on_purpose("a job of this test panics on purpose");
        }
        job
    })
    .expect("valid pool");
    // Each panicking job ends the worker that runs it, so each worker gets one.
    pool.submit("panic 1".to_string())
        .expect("a healthy pool accepts jobs");
    pool.submit("panic 2".to_string())
        .expect("a healthy pool accepts jobs");
    exits.wait_for_exits(2);
    assert_eq!(
        pool.submit("late".to_string()),
        Err("late".to_string()),
        "every worker thread has ended (their jobs panicked), so no worker is left to run a \
         job: submit must hand it back as Err(job). It said Ok: the job was queued where \
         nobody will ever take it (does the pool keep a job Receiver of its own, or ignore \
         the error send returns?)"
    );
    pool.shutdown();
    assert_eq!(check::drain_closed(&results), Vec::<String>::new());
}

pub fn close_wakes_idle_workers() {
    const N: usize = 4;
    let exits = ExitWatch::new();
    let running = Arrivals::new();
    let (e, r) = (exits.clone(), running.clone());
    let (mut pool, results) = WorkerPool::new(N, move |n: usize| {
        e.enlist();
        // Each job waits until all N run: every worker takes exactly one.
        r.arrive();
        r.wait_for(N);
        n
    })
    .expect("valid pool");
    for n in 0..N {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    for _ in 0..N {
        results.recv().expect("the result of a submitted job");
    }
    // The queue is empty: every worker is idle, waiting for a job. Close alone, the pool
    // alive, must wake each of them to see that no job will ever come.
    pool.close();
    exits.wait_for_exits(N);
    assert_eq!(
        results.recv(),
        Err(RecvError),
        "close was called with every worker idle and every result read: the stream must end"
    );
    pool.shutdown();
}

pub fn results_arrive_as_jobs_complete() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (pool, results) = WorkerPool::new(2, move |n: u32| {
        if n == 0 {
            s.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(0).expect("a healthy pool accepts jobs");
    started.wait_for(1);
    pool.submit(1).expect("a healthy pool accepts jobs");
    // Job 0 is still running: job 1's result must come first (completion order).
    assert_eq!(results.recv(), Ok(1), "job 1 finished first");
    gate.open();
    pool.shutdown();
    assert_eq!(check::drain_closed(&results), vec![0]);
}

pub fn reports_its_worker_count_at_every_stage() {
    for n in [1, 5] {
        let exits = ExitWatch::new();
        let e = exits.clone();
        let (mut pool, results) = WorkerPool::new(n, move |job: u32| {
            e.enlist();
            if job == 0 {
                panic_on_purpose("job 0 of this test panics on purpose");
            }
            job
        })
        .expect("valid pool");
        assert_eq!(pool.workers(), n, "workers() of a new pool of {n}");
        if n > 1 {
            pool.submit(0).expect("a healthy pool accepts jobs");
            exits.wait_for_exits(1);
            assert_eq!(
                pool.workers(),
                n,
                "workers() after one of {n} workers stopped (its job panicked): it reports \
                 the number given to new"
            );
        }
        pool.submit(1).expect("a healthy pool accepts jobs");
        assert_eq!(results.recv(), Ok(1));
        pool.close();
        assert_eq!(
            pool.workers(),
            n,
            "workers() after close: it reports the number given to new"
        );
        pool.shutdown();
    }
}

pub fn close_does_not_wait() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (mut pool, results) = WorkerPool::new(1, move |n: u32| {
        if n == 0 {
            s.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(0).expect("a healthy pool accepts jobs");
    pool.submit(1).expect("a healthy pool accepts jobs");
    started.wait_for(1);
    // Job 0 is running (parked) and job 1 is queued: close must return at once anyway.
    pool.close();
    gate.open();
    let mut got: Vec<u32> = results.iter().collect(); // ends while the pool lives
    got.sort_unstable();
    assert_eq!(
        got,
        vec![0, 1],
        "close was called with one job running and one queued: both must still run"
    );
    pool.shutdown();
}
