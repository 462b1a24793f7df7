//! Hidden suite, exercise 3 (dynamic): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.
//!
//! Workers are held busy with gates (never with sleeps), so the queue backs up exactly as
//! far as a test wants; time moves only when a test moves its `ManualClock`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::{self, ThreadId};

use dynamic::{DynamicPool, ManualClock, PoolError, Scaling};
use testkit::check;
use testkit::gate::{Arrivals, ExitWatch, Gate, ThreadExits, identity_holding};
use workbook_sync::channel::Receiver;

fn scaling(min: usize, max: usize, grow_above: usize, idle_after: u64) -> Scaling {
    Scaling {
        min,
        max,
        grow_above,
        idle_after,
    }
}

/// Receives one result; the test times out (with this test's explanation) if none comes.
fn next_result<R>(results: &Receiver<R>, waiting_for: &str) -> R {
    results.recv().unwrap_or_else(|_| {
        panic!(
            "the results stream ended while the test was waiting for {waiting_for}: every \
             results Sender was dropped although the pool is still open"
        )
    })
}

/// A pool whose job `n` blocks on `gate` when `n >= BLOCKING`; every job marks its thread in
/// `exits` and reports its start in `started`.
const BLOCKING: u64 = 1_000;

struct Rig {
    gate: Gate,
    started: Arrivals,
    exits: ThreadExits,
    clock: ManualClock,
}

impl Rig {
    fn new() -> Self {
        Rig {
            gate: Gate::new(),
            started: Arrivals::new(),
            exits: ThreadExits::new(),
            clock: ManualClock::new(0),
        }
    }

    fn pool(&self, limits: Scaling) -> (DynamicPool<u64>, Receiver<u64>) {
        let (gate, started, exits) = (self.gate.clone(), self.started.clone(), self.exits.clone());
        DynamicPool::new(limits, self.clock.clone(), move |n: u64| {
            exits.enlist();
            started.arrive();
            if n >= BLOCKING {
                gate.wait();
            }
            n
        })
        .unwrap_or_else(|e| panic!("{limits:?} is a valid configuration, but new said: {e}"))
    }
}

fn expect_workers(pool: &DynamicPool<u64>, expected: usize, situation: &str) {
    assert_eq!(
        pool.workers(),
        expected,
        "workers() after {situation}: expected {expected}"
    );
}

fn expect_retired(pool: &DynamicPool<u64>, expected: usize, situation: &str) {
    assert_eq!(
        pool.retire_idle(),
        expected,
        "retire_idle() {situation}: expected it to retire {expected} worker(s)"
    );
}

pub fn limits_are_validated() {
    let clock = ManualClock::new(0);
    let probe = Arc::new(());
    for (min, max) in [(0, 0), (2, 0)] {
        assert_eq!(
            DynamicPool::<u8>::new(
                scaling(min, max, 1, 1),
                clock.clone(),
                identity_holding(&probe)
            )
            .err(),
            Some(PoolError::NoWorkers),
            "new with min = {min}, max = 0 must return Err(PoolError::NoWorkers): a pool that \
             may never start a worker would accept jobs and never run them"
        );
    }
    assert_eq!(
        DynamicPool::<u8>::new(scaling(3, 2, 1, 1), clock.clone(), identity_holding(&probe)).err(),
        Some(PoolError::MinAboveMax { min: 3, max: 2 }),
        "new with min = 3 > max = 2 must return Err(PoolError::MinAboveMax {{ min: 3, max: 2 }})"
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "new returned an error, but a thread still holds the job function: no thread may be \
         started on error (check the limits before starting any worker)"
    );
    // The messages are given in the stub; they must still say what is wrong.
    assert!(
        PoolError::MinAboveMax { min: 3, max: 2 }
            .to_string()
            .contains("min (3) is above max (2)"),
        "PoolError's Display (given in the stub) must name both limits"
    );
    assert!(
        PoolError::NoWorkers.to_string().contains("max >= 1"),
        "PoolError::NoWorkers's Display (given in the stub) must say max must be at least 1"
    );
    for (min, max) in [(0, 1), (2, 2)] {
        let (pool, _results) =
            DynamicPool::<u8>::new(scaling(min, max, 1, 1), clock.clone(), |n| n)
                .unwrap_or_else(|e| panic!("min = {min}, max = {max} is valid, but new said: {e}"));
        assert_eq!(
            pool.workers(),
            min,
            "a new pool starts exactly `min` workers"
        );
        pool.shutdown();
    }
}

pub fn min_workers_are_real_threads() {
    // Three jobs that each wait until all three run: only three *running* workers get past
    // the barrier. grow_above is high, so these must be the `min` workers started by `new`.
    const MIN: usize = 3;
    let barrier = Arc::new(Barrier::new(MIN));
    let b = Arc::clone(&barrier);
    let (pool, results) = DynamicPool::new(
        scaling(MIN, 5, 100, 10),
        ManualClock::new(0),
        move |n: u64| {
            b.wait();
            n
        },
    )
    .expect("valid pool");
    expect_workers(&pool, MIN, "new with min = 3");
    for n in 0..MIN as u64 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    pool.shutdown();
    assert_eq!(check::drain_closed(&results).len(), MIN);
}

pub fn grows_one_worker_past_the_threshold() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(1, 3, 1, 10));
    expect_workers(&pool, 1, "new with min = 1");
    pool.submit(BLOCKING).expect("an open pool accepts jobs");
    expect_workers(
        &pool,
        1,
        "one submit (at most 1 job waiting, grow_above = 1)",
    );
    rig.started.wait_for(1); // the only worker is now busy: everything else queues up
    pool.submit(BLOCKING + 1)
        .expect("an open pool accepts jobs");
    expect_workers(
        &pool,
        1,
        "a submit that leaves 1 job waiting (grow_above = 1: not more than 1, so no growth)",
    );
    pool.submit(BLOCKING + 2)
        .expect("an open pool accepts jobs");
    expect_workers(
        &pool,
        2,
        "a submit that leaves 2 jobs waiting (more than grow_above = 1: start one worker)",
    );
    rig.started.wait_for(2); // the new worker took a job: 1 waiting
    pool.submit(BLOCKING + 3)
        .expect("an open pool accepts jobs");
    expect_workers(&pool, 3, "another submit that leaves 2 jobs waiting");
    rig.started.wait_for(3);
    pool.submit(BLOCKING + 4)
        .expect("an open pool accepts jobs");
    expect_workers(
        &pool,
        3,
        "a submit that leaves 2 jobs waiting when max = 3 workers already exist",
    );
    rig.gate.open();
    pool.shutdown();
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    assert_eq!(got, (BLOCKING..BLOCKING + 5).collect::<Vec<_>>());
}

pub fn min_zero_pool_starts_a_worker_for_the_first_job() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(0, 2, 100, 0));
    expect_workers(&pool, 0, "new with min = 0");
    pool.submit(7).expect("an open pool accepts jobs");
    expect_workers(
        &pool,
        1,
        "submitting to a pool without workers (it must start one, whatever grow_above says)",
    );
    assert_eq!(next_result(&results, "job 7"), 7);
    expect_retired(&pool, 1, "with min = 0, idle_after = 0 and one idle worker");
    expect_workers(&pool, 0, "retiring the only worker of a min = 0 pool");
    pool.submit(8).expect("an open pool accepts jobs");
    expect_workers(&pool, 1, "submitting again after the pool shrank to 0");
    assert_eq!(next_result(&results, "job 8"), 8);
    pool.shutdown();
    assert_eq!(check::drain_closed(&results), Vec::<u64>::new());
}

pub fn concurrent_submits_never_exceed_max() {
    const MAX: usize = 3;
    const SUBMITTERS: usize = 4;
    const EACH: u64 = 25;
    let rig = Rig::new();
    let runners = Arc::new(Mutex::new(HashSet::new()));
    let seen = Arc::clone(&runners);
    let (gate, started) = (rig.gate.clone(), rig.started.clone());
    let (pool, results) =
        DynamicPool::new(scaling(1, MAX, 0, 10), rig.clock.clone(), move |n: u64| {
            seen.lock().unwrap().insert(thread::current().id());
            started.arrive();
            gate.wait();
            n
        })
        .expect("valid pool");
    let start = Barrier::new(SUBMITTERS);
    let most = thread::scope(|s| {
        let handles: Vec<_> = (0..SUBMITTERS as u64)
            .map(|t| {
                let (pool, start) = (&pool, &start);
                s.spawn(move || {
                    start.wait();
                    let mut most = 0;
                    for i in 0..EACH {
                        pool.submit(t * EACH + i)
                            .expect("an open pool accepts jobs");
                        most = most.max(pool.workers());
                    }
                    most
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("submitter"))
            .max()
            .unwrap_or(0)
    });
    assert!(
        most <= MAX,
        "with max = {MAX}, a submitter saw workers() = {most}: concurrent submits started \
         too many workers. Reading the count and starting (and counting) a worker must happen \
         under one lock, or two submitters both see room for one more."
    );
    expect_workers(
        &pool,
        MAX,
        "100 submits with grow_above = 0 while every worker is busy",
    );
    rig.started.wait_for(MAX);
    rig.gate.open();
    pool.shutdown();
    let got = check::drain_closed(&results);
    check::each_exactly_once("job", &got, SUBMITTERS as u64 * EACH);
    let distinct = runners.lock().unwrap().len();
    assert!(
        distinct <= MAX,
        "jobs ran on {distinct} different threads, but max = {MAX} and no worker was ever \
         retired: the pool started more workers than it counted"
    );
}

pub fn shrinks_idle_workers_after_timeout_not_below_min() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(1, 3, 0, 10));
    for n in 0..3 {
        pool.submit(BLOCKING + n)
            .expect("an open pool accepts jobs");
    }
    expect_workers(&pool, 3, "3 submits with grow_above = 0, max = 3");
    rig.started.wait_for(3);
    rig.gate.open();
    for _ in 0..3 {
        next_result(&results, "the 3 blocked jobs");
    }
    // All three finished at time 0, and counted as idle before their results were sent.
    rig.clock.set(9);
    expect_retired(
        &pool,
        0,
        "at time 9, three workers idle since 0, idle_after = 10",
    );
    expect_workers(
        &pool,
        3,
        "a retire_idle that found no worker idle for long enough",
    );
    rig.clock.set(10);
    expect_retired(
        &pool,
        2,
        "at time 10, three workers idle since 0, min = 1 (retire down to min, not below)",
    );
    expect_workers(&pool, 1, "retiring 2 of 3 workers");
    rig.clock.set(100);
    expect_retired(&pool, 0, "when only min = 1 worker is left");
    expect_workers(&pool, 1, "a retire_idle at min");
    for n in 0..4 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    pool.shutdown();
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    assert_eq!(
        got,
        vec![0, 1, 2, 3],
        "jobs submitted after the pool shrank"
    );
}

pub fn idle_time_restarts_after_each_job() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(0, 1, 100, 10));
    pool.submit(1).expect("an open pool accepts jobs");
    next_result(&results, "job 1");
    rig.clock.set(8);
    pool.submit(2).expect("an open pool accepts jobs");
    next_result(&results, "job 2");
    rig.clock.set(12);
    expect_retired(
        &pool,
        0,
        "at time 12 for a worker that finished a job at time 8 (idle for 4 ticks, \
         idle_after = 10). A worker's idle time starts again when its latest job returns",
    );
    rig.clock.set(18);
    expect_retired(&pool, 1, "at time 18 for a worker idle since 8");
    pool.shutdown();
}

pub fn busy_worker_is_never_retired() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(0, 1, 100, 10));
    pool.submit(BLOCKING).expect("an open pool accepts jobs");
    rig.started.wait_for(1);
    rig.clock.set(50);
    expect_retired(
        &pool,
        0,
        "while the only worker has been running one job since time 0 (a busy worker is not \
         idle, however old its last idle time is: forget it when the worker takes a job)",
    );
    expect_workers(&pool, 1, "a retire_idle while the worker is busy");
    rig.gate.open();
    assert_eq!(next_result(&results, "the blocked job"), BLOCKING);
    rig.clock.set(59);
    expect_retired(&pool, 0, "at time 59 for a worker whose job returned at 50");
    rig.clock.set(60);
    expect_retired(&pool, 1, "at time 60 for a worker idle since 50");
    pool.submit(3).expect("an open pool accepts jobs");
    assert_eq!(next_result(&results, "job 3"), 3);
    pool.shutdown();
}

pub fn retire_spares_a_busy_worker_and_its_job() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(0, 2, 0, 5));
    pool.submit(1).expect("an open pool accepts jobs");
    assert_eq!(next_result(&results, "job 1"), 1); // worker A: idle since 0
    pool.submit(BLOCKING).expect("an open pool accepts jobs");
    expect_workers(
        &pool,
        2,
        "a submit that left 1 job waiting with grow_above = 0",
    );
    rig.started.wait_for(2); // one worker is running the blocked job, the other is idle
    rig.clock.set(10);
    expect_retired(
        &pool,
        1,
        "at time 10 with one worker idle since 0 and one running a job (only the idle one \
         may go)",
    );
    expect_workers(&pool, 1, "retiring the idle worker");
    rig.gate.open();
    assert_eq!(
        next_result(&results, "the job that was running during retire_idle"),
        BLOCKING,
        "the busy worker's job must finish and report its result"
    );
    expect_retired(&pool, 0, "at time 10 for a worker whose job returned at 10");
    rig.clock.set(15);
    expect_retired(&pool, 1, "at time 15 for a worker idle since 10");
    expect_workers(&pool, 0, "retiring the last worker of a min = 0 pool");
    pool.submit(2).expect("an open pool accepts jobs");
    assert_eq!(next_result(&results, "job 2"), 2);
    pool.shutdown();
    assert_eq!(
        rig.exits.exited(),
        rig.exits.enlisted(),
        "shutdown returned while a worker thread was still running"
    );
}

pub fn retired_worker_thread_ends_before_shutdown() {
    let watch = ExitWatch::new();
    let (gate, started) = (Gate::new(), Arrivals::new());
    let (w, g, s) = (watch.clone(), gate.clone(), started.clone());
    let (pool, results) = DynamicPool::new(scaling(1, 2, 0, 0), ManualClock::new(0), move |n| {
        w.enlist();
        s.arrive();
        g.wait();
        n
    })
    .expect("valid pool");
    pool.submit(1u64).expect("an open pool accepts jobs");
    pool.submit(2).expect("an open pool accepts jobs");
    started.wait_for(2); // both workers ran a job, so both are watched
    gate.open();
    next_result(&results, "job 1 or 2");
    next_result(&results, "job 1 or 2");
    assert_eq!(
        pool.retire_idle(),
        1,
        "retire_idle() with two idle workers, min = 1, idle_after = 0: expected 1"
    );
    // If this waits forever, the retired worker is still alive: the pool stopped counting
    // it but never told it to leave.
    watch.wait_for_exits(1);
    assert_eq!(
        watch.counts(),
        (2, 1),
        "(threads that ran jobs, threads ended) after retiring one of two workers: the \
         worker that was not retired must still be alive"
    );
    pool.shutdown();
    assert_eq!(
        watch.counts(),
        (2, 2),
        "(threads that ran jobs, threads ended) after shutdown"
    );
}

pub fn shutdown_joins_every_thread_ever_started() {
    let rig = Rig::new();
    let second = Gate::new();
    let (g2, exits, started) = (second.clone(), rig.exits.clone(), rig.started.clone());
    let (gate, clock) = (rig.gate.clone(), rig.clock.clone());
    let (pool, results) = DynamicPool::new(scaling(1, 3, 0, 5), clock, move |n: u64| {
        exits.enlist();
        started.arrive();
        if n < 10 {
            gate.wait();
        } else {
            g2.wait();
        }
        n
    })
    .expect("valid pool");
    for n in 0..3 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    rig.started.wait_for(3);
    rig.gate.open();
    for _ in 0..3 {
        next_result(&results, "the first 3 jobs");
    }
    rig.clock.set(5);
    expect_retired(
        &pool,
        2,
        "at time 5: three workers idle since 0, idle_after = 5, min = 1",
    );
    // Grow again: two new threads, while the retired ones may not have been joined yet.
    for n in 10..13 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    expect_workers(&pool, 3, "3 more submits with grow_above = 0");
    rig.started.wait_for(6);
    second.open();
    pool.shutdown();
    assert_eq!(
        rig.exits.enlisted(),
        5,
        "threads that ran jobs: 1 (min) + 2 (growth) + 2 (growth after 2 retired)"
    );
    assert_eq!(
        rig.exits.exited(),
        rig.exits.enlisted(),
        "LEAK: shutdown returned while a worker thread was still running. Shutdown must \
         join every thread the pool ever started, the retired ones too (unless retire_idle \
         already joined them)."
    );
    assert_eq!(check::drain_closed(&results).len(), 3);
}

pub fn shutdown_finishes_queued_jobs() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(1, 2, 0, 10));
    for n in 0..20 {
        pool.submit(BLOCKING + n)
            .expect("an open pool accepts jobs");
    }
    rig.started.wait_for(2); // both workers blocked, 18 jobs queued
    let opener = {
        let gate = rig.gate.clone();
        thread::spawn(move || gate.open())
    };
    pool.shutdown();
    opener.join().expect("opener thread");
    let got = check::drain_closed(&results);
    assert_eq!(
        got.len(),
        20,
        "shutdown was called with 18 jobs queued behind 2 running ones and returned after \
         only {} results: shutdown must let the workers finish every queued job",
        got.len()
    );
    assert_eq!(
        rig.exits.exited(),
        rig.exits.enlisted(),
        "shutdown returned while a worker thread was still running: join every worker"
    );
}

pub fn drop_joins_every_worker() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(1, 3, 0, 1));
    for n in 0..3 {
        pool.submit(BLOCKING + n)
            .expect("an open pool accepts jobs");
    }
    rig.started.wait_for(3);
    rig.gate.open();
    for n in 0..30 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    drop(pool); // no explicit shutdown
    assert_eq!(
        check::drain_closed(&results).len(),
        33,
        "dropping the pool must finish every queued job, like shutdown does"
    );
    assert_eq!(
        rig.exits.exited(),
        rig.exits.enlisted(),
        "the pool was dropped but a worker thread was still running: Drop must close the \
         pool and join every thread"
    );
}

pub fn close_ends_results_stream_and_refuses_jobs() {
    let rig = Rig::new();
    let (mut pool, results) = rig.pool(scaling(0, 2, 1, 10));
    let consumer = thread::spawn(move || results.iter().count());
    for n in 0..30 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    pool.close();
    assert_eq!(
        pool.submit(99),
        Err(99),
        "submit after close must hand the job back (Err(job))"
    );
    // The closed pool is still alive: the consumer's loop must end anyway. It hangs if the
    // pool still holds the results Sender it kept for starting new workers.
    let count = consumer.join().expect("consumer thread");
    assert_eq!(
        count, 30,
        "the consumer's loop ended after {count} of 30 results"
    );
    pool.shutdown();
}

pub fn every_job_runs_exactly_once_while_scaling() {
    let processed = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&processed);
    let clock = ManualClock::new(0);
    let limits = scaling(1, 4, 2, 5);
    let (pool, results) = DynamicPool::new(limits, clock.clone(), move |id: u64| {
        log.lock().unwrap().push(id);
        id
    })
    .expect("valid pool");
    let consumer = thread::spawn(move || results.iter().collect::<Vec<u64>>());
    for id in 0..400 {
        pool.submit(id).expect("an open pool accepts jobs");
        if id % 25 == 24 {
            clock.advance(5);
            pool.retire_idle();
        }
        let n = pool.workers();
        assert!(
            (limits.min..=limits.max).contains(&n),
            "workers() = {n} after job {id}, outside min = {} ..= max = {}",
            limits.min,
            limits.max
        );
    }
    pool.shutdown();
    check::each_exactly_once("job", &processed.lock().unwrap(), 400);
    let results = consumer.join().expect("consumer thread");
    check::each_exactly_once("result", &results, 400);
}

/// A pool for the retirement-order test: the k-th job to *start* (counting from 1) waits at
/// gate k, and every result says which job ran on which thread.
struct Ranked {
    pool: DynamicPool<u64>,
    results: Receiver<(u64, ThreadId)>,
    clock: ManualClock,
    gates: Vec<Gate>,
    /// The thread that started the k-th job, at index k - 1.
    threads: Arc<Mutex<Vec<ThreadId>>>,
    started: Arrivals,
}

impl Ranked {
    fn new(limits: Scaling, gates: usize) -> Self {
        let gates: Vec<Gate> = (0..gates).map(|_| Gate::new()).collect();
        let threads = Arc::new(Mutex::new(Vec::new()));
        let started = Arrivals::new();
        let clock = ManualClock::new(0);
        let (g, t, s) = (gates.clone(), Arc::clone(&threads), started.clone());
        let (pool, results) = DynamicPool::new(limits, clock.clone(), move |n: u64| {
            let rank = {
                let mut threads = t.lock().unwrap();
                threads.push(thread::current().id());
                threads.len()
            };
            s.arrive();
            if let Some(gate) = g.get(rank - 1) {
                gate.wait();
            }
            (n, thread::current().id())
        })
        .unwrap_or_else(|e| panic!("{limits:?} is a valid configuration, but new said: {e}"));
        Ranked {
            pool,
            results,
            clock,
            gates,
            threads,
            started,
        }
    }

    fn thread_of_start(&self, rank: usize) -> ThreadId {
        self.threads.lock().unwrap()[rank - 1]
    }

    fn submit(&self, n: u64) {
        self.pool.submit(n).expect("an open pool accepts jobs");
    }

    /// Three workers W1, W2, W3 (started in that order), each inside one job held at a gate,
    /// and one more job queued: W1 ran the 1st job to start, W2 the 2nd, W3 the 3rd.
    fn three_busy_workers(&self) {
        self.submit(1); // W1 (from `new`) takes it: the only worker
        self.started.wait_for(1);
        self.submit(2); // 1 waiting: not more than grow_above = 1
        self.submit(3); // 2 waiting: W2 starts and takes one (W1 is busy)
        self.started.wait_for(2);
        self.submit(4); // 2 waiting again: W3 starts and takes one
        self.started.wait_for(3);
        assert_eq!(
            self.pool.workers(),
            3,
            "workers() after two submits that each left 2 jobs waiting (grow_above = 1, max = 3)"
        );
    }

    /// Opens the gate of the worker that started job `rank` at time `now`, and waits for the
    /// `results` it then delivers: it goes idle at `now`.
    fn release(&self, rank: usize, now: u64, results: usize) {
        self.clock.set(now);
        self.gates[rank - 1].open();
        for _ in 0..results {
            next_result(&self.results, "a released job");
        }
    }

    /// Checks which worker survived a retirement: the next job runs on it.
    fn survivor_is(&self, rank: usize, situation: &str) {
        self.submit(100);
        let (_, ran_on) = next_result(&self.results, "a job submitted after retiring");
        let workers: Vec<ThreadId> = (1..=3).map(|r| self.thread_of_start(r)).collect();
        let survivor = workers
            .iter()
            .position(|&t| t == ran_on)
            .map_or("a thread that never ran a job".to_string(), |i| {
                format!("W{}", i + 1)
            });
        assert_eq!(
            ran_on,
            self.thread_of_start(rank),
            "{situation}\nretire_idle retired 2 of the 3 workers (min = 1); the one left \
             must be W{rank}, the one idle for the shortest time, but the next job ran on \
             {survivor}. retire_idle retires the workers idle the LONGEST first (the \
             earliest idle time), not the first ones in your list, nor the last ones."
        );
    }

    fn finish(self) {
        for gate in &self.gates {
            gate.open();
        }
        self.pool.shutdown();
    }
}

pub fn retires_the_longest_idle_first() {
    let limits = scaling(1, 3, 1, 10);
    // Round 1: they go idle in the reverse of the order they were started.
    let r = Ranked::new(limits, 3);
    r.three_busy_workers();
    r.release(3, 0, 2); // W3 finishes its job and the queued one at time 0
    r.release(2, 3, 1);
    r.release(1, 6, 1);
    r.clock.set(20);
    assert_eq!(
        r.pool.retire_idle(),
        2,
        "retire_idle() at time 20 with 3 workers idle since 0, 3 and 6 (idle_after = 10, \
         min = 1): expected it to retire 2"
    );
    r.survivor_is(
        1,
        "W3 went idle at time 0, W2 at 3 and W1 at 6 (W1 was started first).",
    );
    r.finish();
    // Round 2: they go idle in the order they were started.
    let r = Ranked::new(limits, 3);
    r.three_busy_workers();
    r.release(1, 0, 2); // W1 finishes its job and the queued one at time 0
    r.release(2, 3, 1);
    r.release(3, 6, 1);
    r.clock.set(20);
    assert_eq!(
        r.pool.retire_idle(),
        2,
        "retire_idle() at time 20 with 3 workers idle since 0, 3 and 6 (idle_after = 10, \
         min = 1): expected it to retire 2"
    );
    r.survivor_is(
        3,
        "W1 went idle at time 0, W2 at 3 and W3 at 6 (W3 was started last).",
    );
    r.finish();
}

pub fn close_alone_wakes_idle_workers() {
    let rig = Rig::new();
    let (mut pool, results) = rig.pool(scaling(2, 3, 100, 0));
    for n in 0..3 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    for _ in 0..3 {
        next_result(&results, "the 3 jobs");
    }
    // Both workers are idle (or about to be). close() alone must wake them: they exit, and
    // the stream ends while the closed pool is still alive.
    pool.close();
    assert_eq!(
        results.iter().count(),
        0,
        "every result had been taken before close"
    );
    assert_eq!(
        pool.workers(),
        0,
        "workers() after close, once the results stream has ended: every worker has exited, \
         and an exited worker no longer counts. Take a worker out of the count when it leaves \
         its loop, before it drops its results Sender."
    );
    rig.clock.set(50);
    assert_eq!(
        pool.retire_idle(),
        0,
        "retire_idle() after close must retire nothing"
    );
    assert_eq!(
        pool.submit(9),
        Err(9),
        "submit after close must hand the job back (Err(job))"
    );
    pool.shutdown();
    assert_eq!(rig.exits.exited(), rig.exits.enlisted());
}

pub fn panicked_worker_stops_counting() {
    let watch = ExitWatch::new();
    let w = watch.clone();
    let (pool, results) = DynamicPool::new(scaling(1, 1, 100, 0), ManualClock::new(0), move |n| {
        w.enlist();
        if n == 0 {
            testkit::panic_on_purpose("job 0 panics on purpose");
        }
        n
    })
    .expect("valid pool");
    pool.submit(0u64).expect("an open pool accepts jobs");
    watch.wait_for_exits(1); // the only worker's job panicked: its thread has ended
    assert_eq!(
        pool.workers(),
        0,
        "workers() once the only worker's thread has ended because its job panicked: a dead \
         worker must not count (or a max = 1 pool would never start another, and every later \
         job would wait forever). Take a worker out of the count when it leaves its loop for \
         any reason — a guard whose Drop runs while the panic unwinds does it."
    );
    pool.submit(1).expect("an open pool accepts jobs");
    assert_eq!(
        pool.workers(),
        1,
        "a submit to a pool with no worker left starts one"
    );
    assert_eq!(next_result(&results, "job 1, submitted after the panic"), 1);
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "something other than job 0 panicked — most likely shutdown, joining the worker whose \
         job panicked (`join().unwrap()`): a worker that panicked is not an error for \
         shutdown, which must join the others and return"
    );
    assert_eq!(
        watch.counts(),
        (2, 2),
        "(threads that ran jobs, threads ended) after shutdown"
    );
    assert_eq!(check::drain_closed(&results), Vec::<u64>::new());
}

pub fn shutdown_after_a_panic_joins_the_others() {
    let rig = Rig::new();
    let watch = ExitWatch::new();
    let (gate, started, w) = (rig.gate.clone(), rig.started.clone(), watch.clone());
    let (pool, results) =
        DynamicPool::new(scaling(3, 3, 100, 0), rig.clock.clone(), move |n: u64| {
            w.enlist();
            if n == 0 {
                testkit::panic_on_purpose("job 0 panics on purpose");
            }
            started.arrive();
            if n >= BLOCKING {
                gate.wait();
            }
            n
        })
        .expect("valid pool");
    let _release = rig.gate.open_on_drop();
    pool.submit(BLOCKING).expect("an open pool accepts jobs");
    pool.submit(BLOCKING + 1)
        .expect("an open pool accepts jobs");
    rig.started.wait_for(2); // two workers are busy: the third takes job 0
    pool.submit(0).expect("an open pool accepts jobs");
    watch.wait_for_exits(1);
    assert_eq!(
        pool.workers(),
        2,
        "workers() once one of 3 workers has ended because its job panicked"
    );
    for n in 1..=20 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    rig.gate.open();
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "something other than job 0 panicked — most likely shutdown, joining the worker whose \
         job panicked (`join().unwrap()`): shutdown must join the others and return"
    );
    assert_eq!(
        watch.counts(),
        (3, 3),
        "(threads that ran jobs, threads ended) after shutdown: shutdown must join every \
         other worker even though one of them panicked"
    );
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    let mut want: Vec<u64> = (1..=20).collect();
    want.extend([BLOCKING, BLOCKING + 1]);
    assert_eq!(
        got, want,
        "every job but the one that panicked must run and come back"
    );
}

/// Far more than any "big enough" constant a queue or results channel might be bounded at.
const MANY: u64 = 100_000;

pub fn submit_never_blocks() {
    let rig = Rig::new();
    let (pool, results) = rig.pool(scaling(1, 1, 0, 10));
    let _release = rig.gate.open_on_drop();
    pool.submit(BLOCKING).expect("an open pool accepts jobs");
    rig.started.wait_for(1); // the only worker is held: everything else stays queued
    for n in 0..MANY {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    expect_workers(&pool, 1, "100 000 submits with max = 1");
    rig.gate.open();
    pool.shutdown();
    assert_eq!(
        check::drain_closed(&results).len() as u64,
        MANY + 1,
        "every queued job must run"
    );
}

pub fn results_buffered_without_limit() {
    let (pool, results) = DynamicPool::new(scaling(2, 2, 0, 10), ManualClock::new(0), |n: u64| n)
        .expect("valid pool");
    for n in 0..MANY {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    // Nobody reads a result until shutdown has returned.
    pool.shutdown();
    let got = check::drain_closed(&results);
    check::each_exactly_once("result", &got, MANY);
}

pub fn clock_can_be_a_closure() {
    let ticks = Arc::new(AtomicU64::new(0));
    let t = Arc::clone(&ticks);
    let (pool, results) = DynamicPool::new(
        scaling(0, 1, 100, 10),
        move || t.load(Ordering::SeqCst),
        |n: u64| n,
    )
    .expect("valid pool");
    ticks.store(100, Ordering::SeqCst);
    pool.submit(1).expect("an open pool accepts jobs");
    next_result(&results, "job 1"); // the worker went idle at time 100
    ticks.store(109, Ordering::SeqCst);
    expect_retired(
        &pool,
        0,
        "at time 109 (from a closure clock) for a worker idle since 100, idle_after = 10",
    );
    ticks.store(110, Ordering::SeqCst);
    expect_retired(
        &pool,
        1,
        "at time 110 (from a closure clock) for a worker idle since 100",
    );
    pool.shutdown();
}
