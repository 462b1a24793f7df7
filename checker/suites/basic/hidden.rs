//! Hidden suite, exercise 1 (basic): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use basic::{PoolError, WorkerPool};
use pretty_assertions::assert_eq;
use testkit::check;
use testkit::gate::{Arrivals, Gate, ThreadExits};

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
    let outcome = WorkerPool::<u8>::new(0, |n: u8| n);
    assert_eq!(
        outcome.err(),
        Some(PoolError::NoWorkers),
        "WorkerPool::new(0, ..) must return Err(PoolError::NoWorkers): a pool without \
         workers would accept jobs and never run them"
    );
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
    let (pool, results) = WorkerPool::new(2, |n: u32| n).expect("valid pool");
    for n in 0..1_000 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown(); // hangs if results sit in a bounded channel nobody is reading
    assert_eq!(check::drain_closed(&results).len(), 1_000);
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
