//! Hidden suite, exercise 4 (priority): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.
//!
//! The ordering tests use ONE worker held inside a first job ("busy") while the test queues
//! a known mix of High and Low jobs, so every later choice is made by the pool's rule alone
//! and the exact order is known in advance. No sleeps: gates and arrival counters.

use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use pretty_assertions::assert_eq;
use priority::{PoolError, Priority, PriorityPool};
use testkit::check;
use testkit::gate::{Arrivals, Gate, ThreadExits};
use workbook_sync::channel::Receiver;

use Priority::{High, Low};

/// A job the test can hold the worker inside of.
struct Stop {
    name: &'static str,
    inside: Arrivals,
    gate: Gate,
}

/// A pool of ONE worker whose jobs are names. Every job records its name when it starts;
/// a job named in `stops` then waits at its own gate until the test opens it.
struct Scripted {
    pool: PriorityPool<&'static str>,
    results: Receiver<&'static str>,
    order: Arc<Mutex<Vec<&'static str>>>,
    stops: Arc<Vec<Stop>>,
}

impl Scripted {
    /// Starts the pool, submits the High job "busy" and returns once the worker is inside
    /// it: everything submitted from now on is queued until [`Scripted::open`]`("busy")`.
    fn new(burst: usize, stops: &[&'static str]) -> Self {
        let stops: Arc<Vec<Stop>> = Arc::new(
            std::iter::once("busy")
                .chain(stops.iter().copied())
                .map(|name| Stop {
                    name,
                    inside: Arrivals::new(),
                    gate: Gate::new(),
                })
                .collect(),
        );
        let order = Arc::new(Mutex::new(Vec::new()));
        let (o, s) = (Arc::clone(&order), Arc::clone(&stops));
        let (pool, results) = PriorityPool::new(1, burst, move |name: &'static str| {
            o.lock().unwrap().push(name);
            if let Some(stop) = s.iter().find(|stop| stop.name == name) {
                stop.inside.arrive();
                stop.gate.wait();
            }
            name
        })
        .expect("1 worker and a burst of at least 1 is a valid pool");
        let scripted = Scripted {
            pool,
            results,
            order,
            stops,
        };
        scripted.submit(High, "busy");
        scripted.wait_inside("busy");
        scripted
    }

    fn stop(&self, name: &str) -> &Stop {
        self.stops
            .iter()
            .find(|s| s.name == name)
            .expect("a stop named in the test")
    }

    fn submit(&self, priority: Priority, name: &'static str) {
        self.pool
            .submit(priority, name)
            .unwrap_or_else(|_| panic!("a healthy, open pool must accept job {name:?}"));
    }

    fn submit_all(&self, priority: Priority, names: &[&'static str]) {
        for &name in names {
            self.submit(priority, name);
        }
    }

    /// Blocks until the worker is inside job `name`. (If it never gets there, the checker's
    /// timeout reports it with this test's explanation.)
    fn wait_inside(&self, name: &str) {
        self.stop(name).inside.wait_for(1);
    }

    fn open(&self, name: &str) {
        self.stop(name).gate.open();
    }

    /// Opens every gate, shuts the pool down and returns the order the jobs were taken in
    /// (with one worker, the order they started).
    fn finish(self) -> Vec<&'static str> {
        for stop in self.stops.iter() {
            stop.gate.open();
        }
        self.pool.shutdown();
        let order = self.order.lock().unwrap().clone();
        let results = check::drain_closed(&self.results);
        assert_eq!(
            results, order,
            "with one worker, results come back in the order the jobs ran"
        );
        order
    }
}

/// Compares a processing order with the one the rule prescribes, with a lesson (and a
/// diagnosis when jobs went missing or ran twice, whatever the order).
fn assert_order(got: &[&str], expected: &[&str], setup: &str, lesson: &str) {
    let missing: Vec<&str> = expected
        .iter()
        .filter(|job| !got.contains(job))
        .copied()
        .collect();
    let mut twice: Vec<&str> = got
        .iter()
        .filter(|job| got.iter().filter(|other| other == job).count() > 1)
        .copied()
        .collect();
    twice.dedup();
    let mut diagnosis = String::new();
    if !missing.is_empty() {
        diagnosis.push_str(&format!(
            "Jobs {missing:?} never ran: the pool lost them. A job taken out of a queue must \
             be run, never dropped (did the worker pop from both queues and keep only one?).\n"
        ));
    }
    if !twice.is_empty() {
        diagnosis.push_str(&format!(
            "Jobs {twice:?} ran more than once: a job must leave its queue when it is taken.\n"
        ));
    }
    assert_eq!(
        got, expected,
        "\n{setup}\nThe pool (one worker) took the jobs in the order on the left; the rule \
         prescribes the order on the right.\n{diagnosis}{lesson}"
    );
}

pub fn high_jobs_before_low_jobs() {
    let s = Scripted::new(10, &[]);
    // Low jobs are submitted first: submission order between priorities must not matter.
    s.submit_all(Low, &["l1", "l2"]);
    s.submit_all(High, &["h1", "h2", "h3"]);
    s.open("busy");
    assert_order(
        &s.finish(),
        &["busy", "h1", "h2", "h3", "l1", "l2"],
        "Queued while the worker was busy: Low l1 l2, then High h1 h2 h3 (burst 10).",
        "Every waiting High job goes before any waiting Low job (three High jobs are fewer \
         than the burst of 10, so no Low job is due yet). A worker that picks between the \
         queues at random or by turns when both have jobs — the seed's `select` — fails here.",
    );
}

pub fn fifo_within_each_priority() {
    let s = Scripted::new(100, &[]);
    s.submit_all(Low, &["l1", "l2", "l3", "l4"]);
    s.open("busy");
    let lows = s.finish();
    let s = Scripted::new(100, &[]);
    s.submit_all(High, &["h1", "h2", "h3", "h4"]);
    s.open("busy");
    let highs = s.finish();
    assert_order(
        &[&lows[..], &highs[1..]].concat(),
        &["busy", "l1", "l2", "l3", "l4", "h1", "h2", "h3", "h4"],
        "Two runs: Low l1..l4 alone, then High h1..h4 alone, queued while the worker was busy.",
        "Within one priority the oldest job goes first (first in, first out). Taking from \
         the back of a queue (`pop_back`, or `Vec::pop`) serves the newest job first.",
    );
}

pub fn low_job_taken_after_burst_high_jobs() {
    let s = Scripted::new(2, &[]);
    s.submit_all(Low, &["l1", "l2", "l3"]);
    s.submit_all(High, &["h1", "h2", "h3", "h4", "h5", "h6"]);
    s.open("busy");
    assert_order(
        &s.finish(),
        &["busy", "h1", "h2", "l1", "h3", "h4", "l2", "h5", "h6", "l3"],
        "Queued while the worker was busy: Low l1 l2 l3, High h1..h6 (burst 2).",
        "Anti-starvation: once 2 High jobs in a row have been taken while a Low job waited, \
         the next job is the oldest Low one, and taking it resets the count. A pool without \
         this rule (strict priority) serves every High job first and starves Low jobs for as \
         long as High ones keep coming.",
    );
}

pub fn burst_of_one_alternates_while_both_wait() {
    let s = Scripted::new(1, &[]);
    s.submit_all(High, &["h1", "h2", "h3", "h4", "h5"]);
    s.submit_all(Low, &["l1", "l2"]);
    s.open("busy");
    assert_order(
        &s.finish(),
        &["busy", "h1", "l1", "h2", "l2", "h3", "h4", "h5"],
        "Queued while the worker was busy: High h1..h5, Low l1 l2 (burst 1).",
        "With burst 1 the pool alternates High, Low while both have jobs; once no Low job \
         waits, the High jobs run back to back (they overtake nobody).",
    );
}

pub fn only_overtakes_of_a_waiting_low_job_count() {
    let s = Scripted::new(2, &["h2"]);
    s.submit_all(High, &["h1", "h2", "h3", "h4"]);
    s.open("busy");
    // h1 and h2 are taken while no Low job waits: they overtake nobody.
    s.wait_inside("h2");
    s.submit(Low, "l1");
    s.open("h2");
    assert_order(
        &s.finish(),
        &["busy", "h1", "h2", "h3", "h4", "l1"],
        "High h1..h4 queued (burst 2); Low l1 submitted only while the worker was inside h2.",
        "The count is of High jobs taken *while a Low job was waiting*. h1 and h2 were taken \
         before l1 existed, so only h3 and h4 overtake it, and l1 goes after h4. A pool that \
         counts every High job (even with no Low job waiting) lets l1 jump ahead of h3.",
    );
}

pub fn every_job_processed_exactly_once() {
    let processed = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&processed);
    let (pool, results) = PriorityPool::new(4, 3, move |id: u64| {
        log.lock().unwrap().push(id);
        id
    })
    .expect("4 workers, burst 3 is a valid pool");
    // Consume concurrently, so this test does not depend on how results are buffered.
    let consumer = thread::spawn(move || results.iter().collect::<Vec<u64>>());
    for id in 0..400 {
        // An irregular mix, so both queues are often non-empty at once.
        let priority = if id % 3 == 0 || id % 7 == 0 {
            Low
        } else {
            High
        };
        pool.submit(priority, id)
            .expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    check::each_exactly_once("job", &processed.lock().unwrap(), 400);
    let results = consumer.join().expect("consumer thread");
    check::each_exactly_once("result", &results, 400);
}

pub fn close_then_shutdown_finishes_both_queues() {
    let gate = Gate::new();
    let inside = Arrivals::new();
    let exits = ThreadExits::new();
    let (g, i, e) = (gate.clone(), inside.clone(), exits.clone());
    let (mut pool, results) = PriorityPool::new(1, 2, move |n: u32| {
        e.enlist();
        if n == 0 {
            i.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    pool.submit(High, 0).expect("a healthy pool accepts jobs");
    inside.wait_for(1);
    for n in 1..=20 {
        let priority = if n % 2 == 0 { High } else { Low };
        pool.submit(priority, n)
            .expect("a healthy pool accepts jobs");
    }
    // Job 0 is running and blocked: all 20 others (10 High, 10 Low) are still queued.
    pool.close();
    gate.open();
    pool.shutdown();
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    assert_eq!(
        got,
        (0..=20).collect::<Vec<u32>>(),
        "the pool was closed with 10 High and 10 Low jobs queued; after shutdown every one \
         of them must have run (the missing ones are marked `>`). A worker must exit only \
         when the pool is closed AND both queues are empty — never just because it is \
         closed, never when just one queue is empty — and a job taken out of a queue must \
         be run, never dropped"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown returned while a worker thread was still running: join every worker"
    );
}

pub fn drop_finishes_jobs_and_joins_workers() {
    let exits = ThreadExits::new();
    let processed = Arc::new(Mutex::new(Vec::new()));
    let (e, log) = (exits.clone(), Arc::clone(&processed));
    let (pool, results) = PriorityPool::new(3, 2, move |n: u64| {
        e.enlist();
        log.lock().unwrap().push(n);
        n
    })
    .expect("valid pool");
    for n in 0..60 {
        let priority = if n % 4 == 0 { High } else { Low };
        pool.submit(priority, n)
            .expect("a healthy pool accepts jobs");
    }
    drop(pool); // no explicit shutdown
    check::each_exactly_once("job", &processed.lock().unwrap(), 60);
    assert_eq!(check::drain_closed(&results).len(), 60);
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "the pool was dropped but a worker thread was still running: implement Drop so it \
         closes the pool and joins every worker"
    );
}

pub fn submit_after_close_hands_job_back() {
    let (mut pool, results) = PriorityPool::new(2, 1, |n: u32| n).expect("valid pool");
    pool.submit(Low, 1).expect("a healthy pool accepts jobs");
    pool.close();
    assert_eq!(
        (pool.submit(High, 2), pool.submit(Low, 3)),
        (Err(2), Err(3)),
        "submit after close must hand the job back (Err(job)), whatever its priority: a job \
         that cannot be queued returns to the caller instead of vanishing"
    );
    pool.shutdown();
    assert_eq!(check::drain_closed(&results), vec![1]);
}

pub fn results_stream_ends_after_close() {
    let (mut pool, results) = PriorityPool::new(2, 2, |n: u32| n).expect("valid pool");
    let consumer = thread::spawn(move || results.iter().count());
    for n in 0..40 {
        let priority = if n % 2 == 0 { High } else { Low };
        pool.submit(priority, n)
            .expect("a healthy pool accepts jobs");
    }
    pool.close();
    // The pool is closed but still alive: the stream must end once all 40 jobs are done.
    let count = consumer.join().expect("consumer thread");
    assert_eq!(
        count, 40,
        "the consumer's loop ended early, after {count} of 40 results"
    );
    pool.shutdown();
}

pub fn workers_run_at_once() {
    const N: usize = 3;
    // Each job waits until all N jobs are running: only a pool that really runs N jobs at
    // the same time gets past the barrier.
    let barrier = Arc::new(Barrier::new(N));
    let b = Arc::clone(&barrier);
    let (pool, results) = PriorityPool::new(N, 1, move |n: usize| {
        b.wait();
        n
    })
    .expect("valid pool");
    pool.submit(High, 0).expect("a healthy pool accepts jobs");
    pool.submit(Low, 1).expect("a healthy pool accepts jobs");
    pool.submit(High, 2).expect("a healthy pool accepts jobs");
    pool.shutdown();
    assert_eq!(results.iter().count(), N);
}

pub fn bad_sizes_rejected() {
    assert_eq!(
        PriorityPool::<u8>::new(0, 2, |n: u8| n).err(),
        Some(PoolError::NoWorkers),
        "PriorityPool::new(0, ..) must return Err(PoolError::NoWorkers): a pool without \
         workers would accept jobs and never run them"
    );
    assert_eq!(
        PriorityPool::<u8>::new(2, 0, |n: u8| n).err(),
        Some(PoolError::ZeroBurst),
        "PriorityPool::new(_, 0, ..) must return Err(PoolError::ZeroBurst): with a burst of 0 \
         every waiting Low job would overtake the High ones"
    );
    let (pool, _results) = PriorityPool::<u8>::new(3, 1, |n: u8| n).expect("valid pool");
    assert_eq!(
        pool.workers(),
        3,
        "workers() reports the number of worker threads"
    );
}
