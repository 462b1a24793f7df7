//! Hidden suite, exercise 4 (priority): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.
//!
//! The ordering tests use ONE worker held inside a first job ("busy") while the test queues
//! a known mix of High and Low jobs, so every later choice is made by the pool's rule alone
//! and the exact order is known in advance. No sleeps: gates and arrival counters.

use std::collections::VecDeque;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use pretty_assertions::assert_eq;
use priority::{PoolError, Priority, PriorityPool};
use testkit::check;
use testkit::gate::{Arrivals, ExitWatch, Gate, ThreadExits, identity_holding};
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
    let probe = Arc::new(());
    assert_eq!(
        PriorityPool::<u8>::new(0, 2, identity_holding(&probe)).err(),
        Some(PoolError::NoWorkers),
        "PriorityPool::new(0, ..) must return Err(PoolError::NoWorkers)"
    );
    assert_eq!(
        PriorityPool::<u8>::new(3, 0, identity_holding(&probe)).err(),
        Some(PoolError::ZeroBurst),
        "PriorityPool::new(3, 0, ..) must return Err(PoolError::ZeroBurst)"
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "new returned an error, but a thread still holds the job function: no thread may be \
         started on error (check both sizes before starting any worker)"
    );
    // The messages are given in the stub; they must still say what is wrong.
    assert!(
        PoolError::NoWorkers
            .to_string()
            .contains("at least one worker")
            && PoolError::ZeroBurst.to_string().contains("at least 1"),
        "PoolError's Display (given in the stub) must say what is wrong"
    );
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

pub fn anti_starvation_over_several_rounds() {
    // One worker, burst 2. Jobs arrive while the worker is inside l1, h3, l3 and l5, so the
    // rule is followed through resets by rule 1 (after `burst` overtakes) and by rule 3 (a
    // Low job taken because no High job waits), and through a Low job arriving while the
    // count is already full.
    let s = Scripted::new(2, &["l1", "h3", "l3", "l5"]);
    s.submit(High, "h1");
    s.submit(Low, "l1");
    s.open("busy");
    s.wait_inside("l1"); // taken by rule 3 (no High job waits): the count is reset
    s.submit_all(High, &["h2", "h3", "h4", "h5"]);
    s.submit(Low, "l2");
    s.open("l1");
    s.wait_inside("h3"); // h2 and h3 have overtaken l2: the count is full
    s.submit(Low, "l3"); // a new Low job does not reset it
    s.open("h3");
    s.wait_inside("l3");
    s.submit_all(High, &["h6", "h7", "h8"]);
    s.submit_all(Low, &["l4", "l5"]);
    s.open("l3");
    s.wait_inside("l5"); // taken by rule 3 again
    s.submit_all(High, &["h9", "h10", "h11"]);
    s.submit(Low, "l6");
    s.open("l5");
    assert_order(
        &s.finish(),
        &[
            "busy", "h1", "l1", "h2", "h3", "l2", "h4", "h5", "l3", "h6", "h7", "l4", "h8", "l5",
            "h9", "h10", "l6", "h11",
        ],
        "burst 2, one worker. Queued behind busy: High h1, Low l1. While the worker was inside \
         l1: High h2 h3 h4 h5, Low l2. Inside h3: Low l3. Inside l3: High h6 h7 h8, Low l4 l5. \
         Inside l5: High h9 h10 h11, Low l6.",
        "The rule, step by step: `overtakes` counts High jobs taken while a Low job waits; at \
         `burst` the oldest Low job goes next and the count restarts at 0. Taking a Low job \
         for ANY reason resets it — also when it is taken because no High job was waiting \
         (l1, l5) — and a Low job arriving does not reset it (l3 arrives after h2 and h3 \
         overtook l2, so l2 still goes next).",
    );
}

/// The order the rule prescribes for one worker when every job is queued before it takes
/// the first (`burst` as given; the crate documentation's rules 1–3).
fn rule_order(burst: usize, queued: &[(Priority, &'static str)]) -> Vec<&'static str> {
    let mut high: VecDeque<&str> = VecDeque::new();
    let mut low: VecDeque<&str> = VecDeque::new();
    for &(priority, name) in queued {
        match priority {
            High => high.push_back(name),
            Low => low.push_back(name),
        }
    }
    let mut overtakes = 0;
    let mut order = vec!["busy"];
    loop {
        let next = if overtakes == burst && !low.is_empty() {
            overtakes = 0;
            low.pop_front()
        } else if let Some(job) = high.pop_front() {
            if !low.is_empty() {
                overtakes += 1;
            }
            Some(job)
        } else {
            overtakes = 0;
            low.pop_front()
        };
        match next {
            Some(job) => order.push(job),
            None => return order,
        }
    }
}

pub fn long_mix_follows_the_rule() {
    // 45 High and 15 Low jobs, submitted interleaved behind a busy worker, burst 3: fifteen
    // rounds of the rule, and FIFO within each priority, compared as one sequence.
    let mut queued: Vec<(Priority, &'static str)> = Vec::new();
    let (mut highs, mut lows) = (0, 0);
    for k in 0..60 {
        let (priority, name) = if k % 4 == 1 {
            lows += 1;
            (Low, format!("l{}", lows - 1))
        } else {
            highs += 1;
            (High, format!("h{}", highs - 1))
        };
        queued.push((priority, Box::leak(name.into_boxed_str())));
    }
    let s = Scripted::new(3, &[]);
    for &(priority, name) in &queued {
        s.submit(priority, name);
    }
    s.open("busy");
    assert_order(
        &s.finish(),
        &rule_order(3, &queued),
        "burst 3, one worker; queued behind busy, in this submission order: High h0, Low l0, \
         High h1 h2, then the same pattern (3 High, 1 Low) 14 more times.",
        "With a long queue the rule goes round and round: `burst` High jobs, the oldest Low \
         job, `burst` High jobs, … each priority oldest first (first in, first out), until \
         one queue runs dry.",
    );
}

/// A pool of several workers whose k-th job to *start* waits at gate k: the test releases
/// one running job at a time and waits until the worker it freed has taken its next job, so
/// every choice is made while all other workers are held, and the order is determined.
struct Serial {
    pool: PriorityPool<&'static str>,
    results: Receiver<&'static str>,
    order: Arc<Mutex<Vec<&'static str>>>,
    gates: Vec<Gate>,
    started: Arrivals,
}

impl Serial {
    fn new(workers: usize, burst: usize, gates: usize) -> Self {
        let gates: Vec<Gate> = (0..gates).map(|_| Gate::new()).collect();
        let order = Arc::new(Mutex::new(Vec::new()));
        let started = Arrivals::new();
        let (g, o, st) = (gates.clone(), Arc::clone(&order), started.clone());
        let (pool, results) = PriorityPool::new(workers, burst, move |name: &'static str| {
            let rank = {
                let mut order = o.lock().unwrap();
                order.push(name);
                order.len()
            };
            st.arrive();
            if let Some(gate) = g.get(rank - 1) {
                gate.wait();
            }
            name
        })
        .expect("a valid pool");
        Serial {
            pool,
            results,
            order,
            gates,
            started,
        }
    }

    fn submit(&self, priority: Priority, name: &'static str) {
        self.pool
            .submit(priority, name)
            .unwrap_or_else(|_| panic!("a healthy, open pool must accept job {name:?}"));
    }

    /// Lets the `rank`-th job to start finish, and waits until `then` jobs have started.
    fn release(&self, rank: usize, then: usize) {
        self.gates[rank - 1].open();
        self.started.wait_for(then);
    }

    fn finish(self) -> Vec<&'static str> {
        for gate in &self.gates {
            gate.open();
        }
        self.pool.shutdown();
        let order = self.order.lock().unwrap().clone();
        let mut results = check::drain_closed(&self.results);
        let mut ran = order.clone();
        results.sort_unstable();
        ran.sort_unstable();
        assert_eq!(results, ran, "every job that ran must deliver its result");
        order
    }
}

pub fn rule_is_pool_wide_with_two_workers() {
    let s = Serial::new(2, 2, 10);
    s.submit(High, "a");
    s.submit(High, "b");
    s.started.wait_for(2); // both workers are held, inside a and b
    s.submit_all_low_then_high();
    // Release the oldest running job each time: the worker it frees takes the next job
    // while the other worker is still held.
    for rank in 1..=8 {
        s.release(rank, rank + 2);
    }
    assert_order(
        &s.finish(),
        &["a", "b", "h1", "h2", "l1", "h3", "h4", "l2", "h5", "h6"],
        "Two workers, burst 2, both held while Low l1 l2 and High h1..h6 were queued; then the \
         test let one job finish at a time, the oldest first, and waited for the freed worker \
         to take its next job.",
        "The rule is POOL-WIDE: one `overtakes` counter for all the workers, and one oldest \
         job per priority for all of them. h1 and h2 were taken by different workers, but \
         together they are the 2 overtakes after which l1 must go. A counter per worker (or \
         a queue per worker) breaks it.",
    );
}

impl Serial {
    fn submit_all_low_then_high(&self) {
        for name in ["l1", "l2"] {
            self.submit(Low, name);
        }
        for name in ["h1", "h2", "h3", "h4", "h5", "h6"] {
            self.submit(High, name);
        }
    }
}

pub fn close_alone_wakes_idle_workers() {
    let exits = ThreadExits::new();
    let e = exits.clone();
    let (mut pool, results) = PriorityPool::new(3, 2, move |n: u32| {
        e.enlist();
        n
    })
    .expect("valid pool");
    for n in 0..6 {
        let priority = if n % 2 == 0 { High } else { Low };
        pool.submit(priority, n)
            .expect("a healthy pool accepts jobs");
    }
    for _ in 0..6 {
        results
            .recv()
            .expect("the 6 results arrive while the pool is open");
    }
    // Every worker is idle (or about to be). close() alone must wake them all: the stream
    // ends while the closed pool is still alive.
    pool.close();
    assert_eq!(
        results.iter().count(),
        0,
        "every result had been taken before close"
    );
    assert_eq!(
        pool.submit(Low, 9),
        Err(9),
        "submit after close must hand the job back (Err(job))"
    );
    pool.shutdown();
    assert_eq!(exits.exited(), exits.enlisted());
}

pub fn shutdown_after_a_panic_joins_the_others() {
    let watch = ExitWatch::new();
    let gate = Gate::new();
    let inside = Arrivals::new();
    let (w, g, i) = (watch.clone(), gate.clone(), inside.clone());
    let (pool, results) = PriorityPool::new(3, 2, move |n: u32| {
        w.enlist();
        if n == 0 {
            testkit::panic_on_purpose("job 0 panics on purpose");
        }
        if n >= 100 {
            i.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(High, 100).expect("a healthy pool accepts jobs");
    pool.submit(Low, 101).expect("a healthy pool accepts jobs");
    inside.wait_for(2); // two workers are busy: the third takes job 0
    pool.submit(High, 0).expect("a healthy pool accepts jobs");
    watch.wait_for_exits(1);
    for n in 1..=20 {
        let priority = if n % 3 == 0 { Low } else { High };
        pool.submit(priority, n)
            .expect("two workers are still alive: the pool accepts jobs");
    }
    gate.open();
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
        (3, 3),
        "(threads that ran jobs, threads ended) after shutdown: shutdown must join every \
         other worker even though one of them panicked"
    );
    let mut got = check::drain_closed(&results);
    got.sort_unstable();
    let mut want: Vec<u32> = (1..=20).collect();
    want.extend([100, 101]);
    assert_eq!(
        got, want,
        "every job but the one that panicked must run and come back"
    );
}

pub fn submit_hands_job_back_when_no_worker_is_left() {
    let watch = ExitWatch::new();
    let w = watch.clone();
    let (pool, results) = PriorityPool::new(2, 1, move |n: u32| {
        w.enlist();
        if n < 2 {
            testkit::panic_on_purpose("jobs 0 and 1 panic on purpose");
        }
        n
    })
    .expect("valid pool");
    pool.submit(High, 0).expect("a healthy pool accepts jobs");
    pool.submit(Low, 1).expect("a healthy pool accepts jobs");
    // Each worker dies at its first panicking job, so each of the two takes one.
    watch.wait_for_exits(2);
    assert_eq!(
        (pool.submit(High, 2), pool.submit(Low, 3)),
        (Err(2), Err(3)),
        "both workers' jobs panicked and both threads have ended: with no worker left, \
         submit must hand the job back instead of queueing it for nobody (it would never \
         run, and its caller would never know). Count the workers that are still running — \
         a guard whose Drop runs when the worker's loop ends, also while a panic unwinds it."
    );
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "something other than the jobs panicked — most likely shutdown, joining a worker \
         whose job panicked (`join().unwrap()`)"
    );
    assert_eq!(check::drain_closed(&results), Vec::<u32>::new());
}

/// Far more than any "big enough" constant a queue or results channel might be bounded at.
const MANY: u32 = 100_000;

pub fn submit_never_blocks() {
    let s = Scripted::new(1, &[]);
    // The worker is held inside "busy": every job below stays queued.
    for n in 0..MANY {
        let (priority, name) = if n % 2 == 0 {
            (High, "high")
        } else {
            (Low, "low")
        };
        s.pool
            .submit(priority, name)
            .unwrap_or_else(|_| panic!("a healthy, open pool must accept job {n}"));
    }
    s.open("busy");
    let order = s.finish();
    assert_eq!(
        order.len() as u32,
        MANY + 1,
        "every one of the 100 000 queued jobs (and busy) must run"
    );
}

pub fn results_buffered_without_limit() {
    let (pool, results) = PriorityPool::new(2, 3, |n: u64| n).expect("valid pool");
    for n in 0..u64::from(MANY) {
        let priority = if n % 3 == 0 { Low } else { High };
        pool.submit(priority, n)
            .expect("a healthy pool accepts jobs");
    }
    // Nobody reads a result until shutdown has returned.
    pool.shutdown();
    check::each_exactly_once("result", &check::drain_closed(&results), u64::from(MANY));
}
