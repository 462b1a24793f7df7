//! Hidden suite, exercise 9 (metrics): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in exercise.toml.
//!
//! Jobs are boxed closures, so each test says exactly what every job does: succeed, fail,
//! panic, park on a gate, or move the pool's `ManualClock` to "run" for an exact time.
//! Ordering without sleeps: `Arrivals` says a job is running, a `Gate` holds it there, and
//! `settle` spins (with `yield_now`) on snapshots until the pool has counted what the test
//! waits for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use metrics::{
    Config, ConfigError, Histogram, ManualClock, MetricsPool, Snapshot, Throughput, Window,
};
use prometheus_parse::{LineInfo, SampleType, Scrape, Value};
use testkit::gate::{Arrivals, Gate, ThreadExits};

type Task = Box<dyn FnOnce() -> Result<(), &'static str> + Send>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn second_window() -> Window {
    Window {
        span: Duration::from_secs(1),
        slots: 4,
    }
}

fn config(workers: usize, buckets: Vec<Duration>) -> Config {
    Config {
        workers,
        buckets,
        window: second_window(),
    }
}

fn pool(workers: usize, buckets: Vec<Duration>, clock: &ManualClock) -> MetricsPool<Task> {
    MetricsPool::new(config(workers, buckets), clock.clone(), |task: Task| task())
        .expect("a valid config")
}

fn ok() -> Task {
    Box::new(|| Ok(()))
}

fn err() -> Task {
    Box::new(|| Err("this job fails on purpose"))
}

fn panics() -> Task {
    Box::new(|| testkit::panic_on_purpose("this job panics on purpose"))
}

/// Says it is running, then waits for the gate.
fn parks(gate: &Gate, running: &Arrivals) -> Task {
    let (gate, running) = (gate.clone(), running.clone());
    Box::new(move || {
        running.arrive();
        gate.wait();
        Ok(())
    })
}

/// Moves the pool's clock forward by `d` while it runs: its run time is exactly `d`.
fn runs_for(clock: &ManualClock, d: Duration) -> Task {
    let clock = clock.clone();
    Box::new(move || {
        clock.advance(d);
        Ok(())
    })
}

/// Every promise a single snapshot makes, with `i128` arithmetic so that a count that went
/// below zero (and wrapped to a huge `u64`) is reported as what it is.
fn assert_consistent(s: &Snapshot, when: &str) {
    let [submitted, started, succeeded, failed, in_flight, queued] = [
        s.submitted,
        s.started,
        s.succeeded,
        s.failed,
        s.in_flight,
        s.queued,
    ]
    .map(i128::from);
    let wrapped = |v: u64| v > u64::MAX / 2;
    for (name, v) in [
        ("submitted", s.submitted),
        ("started", s.started),
        ("succeeded", s.succeeded),
        ("failed", s.failed),
        ("in_flight", s.in_flight),
        ("queued", s.queued),
    ] {
        assert!(
            !wrapped(v),
            "{when}: `{name}` is {v}, i.e. {} as a signed number: a count went below zero and \
             wrapped. Usually a job is counted as taken (or finished) before it was counted \
             as submitted (or started) — count the job *before* you queue it — or a snapshot \
             read one counter before another it depends on. Snapshot: {s:#?}",
            v as i64
        );
    }
    assert_eq!(
        succeeded + failed + in_flight + queued,
        submitted,
        "{when}: succeeded + failed + in_flight + queued must equal submitted (every job \
         submitted is exactly one of: queued, running, finished). This snapshot mixes values \
         read at different moments (a torn snapshot), or a counter lost an update. \
         Snapshot: {s:#?}"
    );
    assert_eq!(
        succeeded + failed + in_flight,
        started,
        "{when}: started must equal succeeded + failed + in_flight. Snapshot: {s:#?}"
    );
    assert_eq!(
        s.run_time.count(),
        s.succeeded + s.failed,
        "{when}: the run-time histogram must hold exactly one observation per finished job \
         (succeeded + failed), in the same snapshot: record the run time and the outcome \
         together. Snapshot: {s:#?}"
    );
    assert_eq!(
        s.queue_time.count(),
        s.started,
        "{when}: the queue-time histogram must hold exactly one observation per started job, \
         in the same snapshot. Snapshot: {s:#?}"
    );
    assert!(
        s.in_flight <= s.workers as u64,
        "{when}: {} jobs in flight with only {} workers. Snapshot: {s:#?}",
        s.in_flight,
        s.workers
    );
    assert!(
        s.queue_high_water >= s.queued,
        "{when}: queue_high_water ({}) is below queued ({}): the high-water mark is the most \
         jobs ever queued at once, so it can never be below the queue right now",
        s.queue_high_water,
        s.queued
    );
    for (name, h) in [("queue_time", &s.queue_time), ("run_time", &s.run_time)] {
        assert_eq!(
            h.counts.len(),
            h.bounds.len() + 1,
            "{when}: `{name}.counts` must have one entry per bound plus one for +Inf"
        );
        assert!(
            h.counts.windows(2).all(|w| w[0] <= w[1]),
            "{when}: `{name}.counts` {:?} decreases: Prometheus buckets are cumulative \
             (each counts every observation <= its bound)",
            h.counts
        );
    }
}

/// `next` was taken after `prev`: nothing that only grows may have shrunk.
fn assert_not_backwards(prev: &Snapshot, next: &Snapshot) {
    for (name, a, b) in [
        ("submitted", prev.submitted, next.submitted),
        ("started", prev.started, next.started),
        ("succeeded", prev.succeeded, next.succeeded),
        ("failed", prev.failed, next.failed),
        (
            "queue_time.count()",
            prev.queue_time.count(),
            next.queue_time.count(),
        ),
        (
            "run_time.count()",
            prev.run_time.count(),
            next.run_time.count(),
        ),
        (
            "queue_high_water",
            prev.queue_high_water,
            next.queue_high_water,
        ),
    ] {
        assert!(
            a <= b,
            "`{name}` went backwards from {a} to {b} between two snapshots: counters and the \
             high-water mark only ever grow. A snapshot that reads some workers' values \
             before and others after an update can do this; so can a high-water mark \
             recomputed from the current queue"
        );
    }
}

/// Spins (yielding, never sleeping) until the pool has counted `finished` finished jobs,
/// then returns that snapshot.
fn settle(pool: &MetricsPool<Task>, finished: u64) -> Snapshot {
    loop {
        let s = pool.snapshot();
        assert_consistent(&s, "while waiting for jobs to finish");
        if s.succeeded + s.failed >= finished {
            return s;
        }
        thread::yield_now();
    }
}

/// Cumulative counts as the histogram should hold them.
fn hist(h: &Histogram) -> (&[u64], Duration) {
    (&h.counts, h.sum)
}

pub fn counts_every_outcome() {
    let clock = ManualClock::new(ms(0));
    let p = pool(3, vec![ms(1)], &clock);
    let mut expected = (0, 0);
    for i in 0..30 {
        match i % 5 {
            0 | 2 | 4 => {
                p.submit(ok());
                expected.0 += 1;
            }
            1 => {
                p.submit(err());
                expected.1 += 1;
            }
            _ => {
                p.submit(panics());
                expected.1 += 1;
            }
        }
    }
    let last = p.shutdown();
    assert_consistent(&last, "after shutdown");
    assert_eq!(
        (last.submitted, last.started),
        (30, 30),
        "30 jobs were submitted and shutdown ran them all: submitted and started must be 30"
    );
    assert_eq!(
        (last.succeeded, last.failed),
        expected,
        "(succeeded, failed): 18 jobs returned Ok; 6 returned Err and 6 panicked, and both \
         kinds are failures. A panicked job counted as a success, or not counted at all, \
         shows here"
    );
}

pub fn panicked_job_is_a_failure() {
    let clock = ManualClock::new(ms(0));
    let p = pool(1, vec![ms(1), ms(5)], &clock);
    let c = clock.clone();
    p.submit(Box::new(move || {
        c.advance(ms(4));
        testkit::panic_on_purpose("a job that panics after 4 ms")
    }));
    p.submit(ok());
    p.submit(ok());
    let last = p.shutdown();
    assert_consistent(&last, "after shutdown");
    assert_eq!(
        (last.succeeded, last.failed),
        (2, 1),
        "(succeeded, failed) after a job that panicked and two that returned Ok, on one \
         worker: a panic is a failure — never a success — and the worker must carry on with \
         the next jobs (catch the panic around the job)"
    );
    assert_eq!(
        hist(&last.run_time),
        (&[2, 3, 3][..], ms(4)),
        "the panicked job ran for 4 ms before it panicked: its run time is recorded like any \
         other finished job's (counts <= 1 ms, <= 5 ms, +Inf; sum)"
    );
}

pub fn counts_at_every_stage() {
    let clock = ManualClock::new(ms(0));
    let p = pool(2, vec![ms(1)], &clock);
    let fresh = p.snapshot();
    assert_consistent(&fresh, "a new pool");
    assert_eq!(
        (
            fresh.submitted,
            fresh.started,
            fresh.succeeded,
            fresh.failed
        ),
        (0, 0, 0, 0),
        "a new pool has counted nothing"
    );
    assert_eq!((fresh.queue_high_water, fresh.run_time.count()), (0, 0));
    assert_eq!(fresh.run_time.counts, vec![0, 0], "no observations yet");

    // One job done, then both workers held inside a job, three queued behind them.
    p.submit(err());
    let after_one = settle(&p, 1);
    assert_eq!((after_one.failed, after_one.in_flight), (1, 0));
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    p.submit(parks(&gate, &running));
    running.wait_for(2);
    for _ in 0..3 {
        p.submit(ok());
    }
    let busy = p.snapshot();
    assert_consistent(&busy, "both workers inside a job, three jobs queued");
    assert_not_backwards(&after_one, &busy);
    assert_eq!(
        (busy.submitted, busy.started, busy.in_flight, busy.queued),
        (6, 3, 2, 3),
        "(submitted, started, in_flight, queued) with one job finished, both workers inside \
         a job and three jobs waiting: a job counts as started — no longer queued, in flight \
         — before its function is called, and stays in flight until it returns"
    );
    assert_eq!(
        (busy.succeeded, busy.failed),
        (0, 1),
        "the two running jobs have not finished yet"
    );
    assert_eq!(
        busy.queue_high_water, 3,
        "three jobs were queued while both workers were busy (and one at a time before): \
         the high-water mark is 3 — jobs being run are not queued"
    );
    gate.open();
    let last = p.shutdown();
    assert_consistent(&last, "after shutdown");
    assert_not_backwards(&busy, &last);
    assert_eq!(
        (last.submitted, last.started, last.succeeded, last.failed),
        (6, 6, 5, 1)
    );
    assert_eq!(
        (last.in_flight, last.queued),
        (0, 0),
        "shutdown ran every job: nothing queued or in flight in its snapshot"
    );
    assert_eq!(
        last.queue_high_water, 3,
        "the high-water mark is never lowered"
    );
}

pub fn finished_before_the_next_job() {
    // One worker: when its second job is running, the first one must already be counted
    // as finished, with its run time.
    let clock = ManualClock::new(ms(0));
    let p = pool(1, vec![ms(1), ms(10)], &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(runs_for(&clock, ms(3)));
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    let s = p.snapshot();
    assert_consistent(&s, "the second job running");
    assert_eq!(
        (s.succeeded, s.in_flight, s.run_time.count()),
        (1, 1, 1),
        "(succeeded, in_flight, run_time.count()) while the worker runs its second job: the \
         first job must have been counted as finished, with its run time, before the worker \
         took the next one"
    );
    assert_eq!(s.run_time.sum, ms(3), "the first job ran for 3 ms");
    gate.open();
    p.shutdown();
}

pub fn snapshot_never_waits_for_a_running_job() {
    let clock = ManualClock::new(ms(0));
    let p = pool(2, vec![ms(1)], &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    p.submit(parks(&gate, &running));
    // Both jobs must be running at the same time: a lock held across a job would keep the
    // second worker (or this snapshot) waiting until the first job returns — for ever here.
    running.wait_for(2);
    for _ in 0..3 {
        let s = p.snapshot();
        assert_consistent(&s, "both workers stuck in a job");
        assert_eq!(s.in_flight, 2);
    }
    gate.open();
    let last = p.shutdown();
    assert_eq!(last.succeeded, 2);
}

pub fn queue_time_and_run_time_are_apart() {
    let clock = ManualClock::new(ms(0));
    let bounds = vec![ms(1), ms(5), ms(10), ms(20), ms(25)];
    let p = pool(1, bounds, &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    // A: taken at 0 ms, held until the clock reads 20 ms, then runs 2 ms more.
    let (g, r, c) = (gate.clone(), running.clone(), clock.clone());
    p.submit(Box::new(move || {
        r.arrive();
        g.wait();
        c.advance(ms(2));
        Ok(())
    }));
    running.wait_for(1);
    // B: submitted at 5 ms; taken when A returns (22 ms); runs 3 ms.
    clock.set(ms(5));
    p.submit(runs_for(&clock, ms(3)));
    clock.set(ms(20));
    gate.open();
    let last = p.shutdown();
    assert_consistent(&last, "after shutdown");
    assert_eq!(
        hist(&last.run_time),
        (&[0, 1, 1, 1, 2, 2][..], ms(25)),
        "run times: A ran from 0 ms to 22 ms (22 ms), B from 22 ms to 25 ms (3 ms): counts \
         (<= 1, 5, 10, 20, 25 ms, +Inf) and sum. A run time measured from submit instead of \
         from the moment a worker took the job counts B's 17 ms in the queue too (sum 42 ms)"
    );
    assert_eq!(
        hist(&last.queue_time),
        (&[1, 1, 1, 2, 2, 2][..], ms(17)),
        "queue times: A waited 0 ms, B from 5 ms (submit) to 22 ms (taken) = 17 ms: counts \
         (<= 1, 5, 10, 20, 25 ms, +Inf) and sum"
    );
    assert_eq!(
        last.at,
        ms(25),
        "the snapshot's `at` is the clock when it was taken"
    );
}

pub fn buckets_are_inclusive_and_cumulative() {
    let clock = ManualClock::new(ms(0));
    let bounds = vec![ms(1), ms(2), ms(4)];
    let p = pool(1, bounds.clone(), &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    let ns = Duration::from_nanos(1);
    let runs = [
        Duration::ZERO,
        ms(1),
        ms(1) + ns,
        ms(2),
        ms(4),
        ms(4) + ns,
        ms(10),
    ];
    for d in runs {
        p.submit(runs_for(&clock, d));
    }
    gate.open();
    let last = p.shutdown();
    assert_consistent(&last, "after shutdown");
    let sum: Duration = runs.iter().sum();
    assert_eq!(
        hist(&last.run_time),
        (&[3, 5, 6, 8][..], sum),
        "run times 0 (the job that waited at the gate), 0, 1 ms, 1 ms + 1 ns, 2 ms, 4 ms, \
         4 ms + 1 ns, 10 ms with bounds 1, 2, 4 ms: `le` is inclusive, so 1 ms is in the \
         1 ms bucket and 1 ms + 1 ns is not; every bucket counts everything at or below its \
         bound (cumulative), and +Inf counts all 8. A bucket chosen with `<` instead of `<=` \
         puts each observation that sits on a bound one bucket too high"
    );
    assert_eq!(
        last.run_time.bounds, bounds,
        "the histogram keeps the configured bounds"
    );
    assert_eq!(last.queue_time.bounds, bounds);
    assert_eq!(
        last.queue_time.counts,
        vec![4, 4, 5, 8],
        "queue times 0, 0, 0, 1 ms, 2 ms + 1 ns, 4 ms + 1 ns, 8 ms + 1 ns, 12 ms + 2 ns \
         (every job queued at 0 ms, taken when the one before it returned), bounds 1, 2, \
         4 ms"
    );
    assert_eq!(
        last.run_time.quantile(0.5),
        Some(ms(1) + Duration::from_nanos(500_000)),
        "p50 of these run times from the buckets: rank 4 lands in the (1 ms, 2 ms] bucket \
         (3 below it, 2 inside), interpolated to 1.5 ms"
    );
}

pub fn no_finite_buckets() {
    let clock = ManualClock::new(ms(0));
    let p = pool(1, vec![], &clock);
    p.submit(runs_for(&clock, ms(3)));
    let last = p.shutdown();
    assert_eq!(
        hist(&last.run_time),
        (&[1][..], ms(3)),
        "with no bounds, +Inf is the only bucket"
    );
    assert_eq!(
        last.run_time.quantile(0.5),
        None,
        "no finite bound to estimate from: None"
    );
    let text = last.to_prometheus();
    let buckets = histogram_of(&parse(&text), "pool_job_run_seconds");
    assert_eq!(
        buckets,
        vec![(f64::INFINITY, 1.0)],
        "only the +Inf bucket:\n{text}"
    );
}

fn h(bounds: &[u64], counts: &[u64]) -> Histogram {
    Histogram {
        bounds: bounds.iter().map(|&n| Duration::from_nanos(n)).collect(),
        counts: counts.to_vec(),
        sum: Duration::ZERO,
    }
}

fn assert_quantile(h: &Histogram, q: f64, expected: Option<u64>, why: &str) {
    assert_eq!(
        h.quantile(q).map(|d| d.as_nanos() as u64),
        expected,
        "quantile({q}) of bounds {:?} ns, cumulative counts {:?} (expected in ns): {why}",
        h.bounds.iter().map(|d| d.as_nanos()).collect::<Vec<_>>(),
        h.counts
    );
}

pub fn quantile_estimates() {
    let m = 1_000_000;
    let doc = h(&[m, 2 * m, 4 * m], &[5, 8, 10, 10]);
    assert_quantile(
        &doc,
        0.5,
        Some(m),
        "rank 5 is the top of the first bucket: 1 ms",
    );
    assert_quantile(
        &doc,
        0.9,
        Some(3 * m),
        "rank 9: halfway through (2 ms, 4 ms]",
    );
    assert_quantile(
        &doc,
        0.99,
        Some(3_900_000),
        "rank 9.9: 95% through (2 ms, 4 ms]",
    );
    assert_quantile(
        &doc,
        0.1,
        Some(200_000),
        "rank 1: a fifth of the way through (0, 1 ms]",
    );
    assert_eq!(doc.count(), 10, "count() is the +Inf count");

    let gap = h(&[m, 2 * m, 4 * m], &[0, 3, 3, 3]);
    assert_quantile(
        &gap,
        0.0,
        Some(m),
        "rank 0: empty buckets are skipped, so the estimate is the lower edge of the first \
         bucket that holds an observation",
    );
    assert_quantile(&gap, 1.0, Some(2 * m), "rank 3: the top of (1 ms, 2 ms]");
    assert_quantile(
        &gap,
        0.5,
        Some(1_500_000),
        "rank 1.5: halfway through (1 ms, 2 ms]",
    );

    let tail = h(&[m, 2 * m, 4 * m], &[1, 1, 1, 4]);
    assert_quantile(
        &tail,
        0.9,
        Some(4 * m),
        "rank 3.6 lands in +Inf: the largest finite bound",
    );
    assert_quantile(&tail, 0.25, Some(m), "rank 1: the top of the first bucket");

    let tiny = h(&[1], &[4, 4]);
    assert_quantile(&tiny, 0.25, Some(0), "0.25 ns rounds to 0 ns (nearest)");
    assert_quantile(&tiny, 0.75, Some(1), "0.75 ns rounds to 1 ns (nearest)");

    assert_quantile(&h(&[m], &[0, 0]), 0.5, None, "no observations");
    assert_quantile(
        &h(&[], &[]),
        0.5,
        None,
        "no observations (no counts at all)",
    );
    assert_eq!(h(&[], &[]).count(), 0, "count() of an empty histogram is 0");
    for q in [-0.1, 1.1, f64::NAN] {
        assert_quantile(&doc, q, None, "q outside 0.0..=1.0");
    }
    assert_quantile(&h(&[], &[5]), 0.5, None, "only +Inf: no finite bound");
}

pub fn throughput_window() {
    // Three workers, each held in a job; the test lets them finish one at a time at 100 ms,
    // 300 ms and 900 ms. Window: 1 s in 4 steps of 250 ms.
    let clock = ManualClock::new(ms(0));
    let p = pool(3, vec![ms(1)], &clock);
    let gates = [Gate::new(), Gate::new(), Gate::new()];
    let _release: Vec<_> = gates.iter().map(Gate::open_on_drop).collect();
    let running = Arrivals::new();
    for g in &gates {
        p.submit(parks(g, &running));
    }
    running.wait_for(3);
    for (i, (g, t)) in gates.iter().zip([100, 300, 900]).enumerate() {
        clock.set(ms(t));
        g.open();
        settle(&p, i as u64 + 1);
    }
    for (at, expected, why) in [
        (999, 3, "steps 0..=3 hold all three"),
        (
            1000,
            2,
            "step 4: the job finished at 100 ms (step 0) has left the window",
        ),
        (1249, 2, "still step 4"),
        (1250, 1, "step 5: only the job at 900 ms (step 3) is left"),
        (1999, 0, "step 7: steps 4..=7, none finished then"),
    ] {
        clock.set(ms(at));
        let s = p.snapshot();
        assert_consistent(&s, "after the three jobs");
        assert_eq!(
            s.throughput,
            Throughput {
                span: Duration::from_secs(1),
                finished: expected
            },
            "throughput at {at} ms (window 1 s in steps of 250 ms; jobs finished at 100, 300 \
             and 900 ms, on three different workers): {why}"
        );
        assert_eq!(s.at, ms(at), "`at` is the clock reading of the snapshot");
        assert_eq!(s.throughput.per_second(), expected as f64);
    }
    p.shutdown();

    // One step: the window is exactly its span.
    let clock = ManualClock::new(ms(0));
    let p = MetricsPool::new(
        Config {
            workers: 1,
            buckets: vec![],
            window: Window {
                span: ms(10),
                slots: 1,
            },
        },
        clock.clone(),
        |task: Task| task(),
    )
    .expect("valid");
    p.submit(runs_for(&clock, ms(25)));
    p.submit(runs_for(&clock, ms(2)));
    settle(&p, 2);
    clock.set(ms(29));
    let s = p.snapshot();
    assert_eq!(
        s.throughput.finished, 2,
        "two jobs finished at 25 and 27 ms (one worker, the same step), window 10 ms in 1 \
         step, snapshot at 29 ms: both count"
    );
    assert!(
        (s.throughput.per_second() - 200.0).abs() < 1e-9,
        "2 jobs in 10 ms are 200 per second, got {}",
        s.throughput.per_second()
    );
    clock.set(ms(30));
    assert_eq!(
        p.snapshot().throughput.finished,
        0,
        "at 30 ms the step has moved on: the jobs finished at 25 and 27 ms left the window"
    );
    clock.set(ms(95));
    assert_eq!(
        p.snapshot().throughput.finished,
        0,
        "nor does it come back when the clock wraps around a ring of steps"
    );
    p.shutdown();
}

pub fn throughput_per_second() {
    assert_eq!(
        Throughput {
            span: ms(500),
            finished: 3
        }
        .per_second(),
        6.0,
        "3 jobs in a 500 ms window are 6 per second"
    );
    assert_eq!(
        Throughput {
            span: ms(2000),
            finished: 0
        }
        .per_second(),
        0.0
    );
}

pub fn high_water_mark() {
    let clock = ManualClock::new(ms(0));
    let p = pool(1, vec![ms(1)], &clock);
    // A peak no snapshot sees: 4 jobs queue behind a held worker and drain before the
    // first snapshot is taken. The pool must have noted the peak when it happened.
    let (gate0, running0) = (Gate::new(), Arrivals::new());
    let _release0 = gate0.open_on_drop();
    p.submit(parks(&gate0, &running0));
    running0.wait_for(1);
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..3 {
        p.submit(ok());
    }
    p.submit(Box::new(move || {
        let _ = tx.send(());
        Ok(())
    }));
    gate0.open();
    rx.recv().expect("the last job runs");
    let unseen = settle(&p, 5);
    assert_eq!(
        (unseen.queued, unseen.queue_high_water),
        (0, 4),
        "(queued, queue_high_water): 4 jobs were queued behind the busy worker and ran before \
         any snapshot was taken. The high-water mark must record the peak when the queue \
         reaches it (in submit), not only when a snapshot happens to look"
    );
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    for _ in 0..3 {
        p.submit(ok());
    }
    let busy = p.snapshot();
    assert_eq!(
        (busy.queued, busy.queue_high_water),
        (3, 4),
        "(queued, queue_high_water): 3 jobs submitted while the only worker was busy, after \
         an earlier peak of 4"
    );
    gate.open();
    let drained = settle(&p, 9);
    assert_eq!(
        (drained.queued, drained.queue_high_water),
        (0, 4),
        "the queue drained; the high-water mark stays at its peak"
    );
    for n in 0..3 {
        p.submit(ok());
        settle(&p, 10 + n);
    }
    let later = p.snapshot();
    assert_eq!(
        later.queue_high_water, 4,
        "three more jobs, each submitted once the one before had finished: the queue never \
         held more than 1 of them, so the peak is still 4. A high-water mark that counts \
         submissions (or never looks at the queue) grows here"
    );
    let (gate2, running2) = (Gate::new(), Arrivals::new());
    let _release2 = gate2.open_on_drop();
    p.submit(parks(&gate2, &running2));
    running2.wait_for(1);
    for _ in 0..5 {
        p.submit(ok());
    }
    assert_eq!(
        p.snapshot().queue_high_water,
        5,
        "five jobs queued behind a busy worker: a new peak of 5"
    );
    gate2.open();
    let last = p.shutdown();
    assert_eq!(last.queue_high_water, 5);
    assert_eq!(last.succeeded, 18);
}

pub fn queue_is_unbounded() {
    // 100 000 jobs behind a worker that is held: submit must never block.
    let clock = ManualClock::new(ms(0));
    let p = pool(1, vec![ms(1)], &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    const N: u64 = 100_000;
    for _ in 0..N {
        p.submit(ok());
    }
    let s = p.snapshot();
    assert_eq!(
        (s.queued, s.queue_high_water),
        (N, N),
        "100 000 jobs queued behind a busy worker"
    );
    gate.open();
    let last = p.shutdown();
    assert_eq!(last.succeeded, N + 1);
}

pub fn jobs_run_in_order() {
    // One worker, held while 20 jobs queue behind it: it must take them oldest first.
    let clock = ManualClock::new(ms(0));
    let p = pool(1, vec![ms(1)], &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    for id in 0..20 {
        let order = Arc::clone(&order);
        p.submit(Box::new(move || {
            order.lock().unwrap().push(id);
            Ok(())
        }));
    }
    gate.open();
    p.shutdown();
    assert_eq!(
        *order.lock().unwrap(),
        (0..20).collect::<Vec<_>>(),
        "jobs queue in order and a free worker takes the oldest: the order the worker ran \
         them in (left) must be the order they were submitted in (right)"
    );
}

pub fn submitters_on_many_threads() {
    let clock = ManualClock::new(ms(0));
    let p = pool(3, vec![ms(1)], &clock);
    thread::scope(|s| {
        for t in 0..4 {
            let p = &p;
            s.spawn(move || {
                for i in 0..2_000 {
                    p.submit(if (t + i) % 4 == 0 { err() } else { ok() });
                }
            });
        }
    });
    let last = p.shutdown();
    assert_consistent(&last, "after 4 threads submitted 2000 jobs each");
    assert_eq!(
        (last.submitted, last.succeeded, last.failed),
        (8_000, 6_000, 2_000),
        "4 threads × 2000 jobs, a quarter failing: a shared counter updated with a load \
         then a store (instead of one atomic read-modify-write) loses updates"
    );
}

pub fn snapshots_while_everything_runs() {
    // Four submitters and a snapshot reader at once: every snapshot consistent, none going
    // backwards. (The loom models prove it for every interleaving; this runs it for real.)
    let clock = ManualClock::new(ms(0));
    let p = pool(3, vec![ms(1), ms(2)], &clock);
    let done = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..4 {
            let (p, done) = (&p, &done);
            s.spawn(move || {
                for i in 0..3_000 {
                    p.submit(match (t + i) % 5 {
                        0 => err(),
                        1 => panics(),
                        _ => ok(),
                    });
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        let (p, done) = (&p, &done);
        s.spawn(move || {
            let mut prev = p.snapshot();
            loop {
                let finished = done.load(Ordering::SeqCst) == 4;
                let next = p.snapshot();
                assert_consistent(&next, "a snapshot taken while 4 threads submit");
                assert_not_backwards(&prev, &next);
                prev = next;
                if finished {
                    break;
                }
            }
        });
    });
    let last = p.shutdown();
    assert_consistent(&last, "after shutdown");
    assert_eq!((last.submitted, last.failed), (12_000, 4_800));
}

pub fn shutdown_runs_every_queued_job() {
    let clock = ManualClock::new(ms(0));
    let p = pool(2, vec![ms(1)], &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    let exits = ThreadExits::new();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        p.submit(parks(&gate, &running));
    }
    running.wait_for(2);
    for _ in 0..50 {
        let (ran, exits) = (Arc::clone(&ran), exits.clone());
        p.submit(Box::new(move || {
            exits.enlist();
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }));
    }
    gate.open();
    let last = p.shutdown();
    assert_eq!(
        ran.load(Ordering::SeqCst),
        50,
        "shutdown must run every job still queued"
    );
    assert_eq!(
        (last.submitted, last.succeeded, last.queued, last.in_flight),
        (52, 52, 0, 0),
        "the snapshot shutdown returns: every job finished, nothing queued or in flight"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown returned while a worker thread was still running: join every worker"
    );
}

pub fn drop_runs_queued_jobs_and_joins() {
    let clock = ManualClock::new(ms(0));
    let p = pool(2, vec![ms(1)], &clock);
    let exits = ThreadExits::new();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..40 {
        let (ran, exits) = (Arc::clone(&ran), exits.clone());
        p.submit(Box::new(move || {
            exits.enlist();
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }));
    }
    drop(p);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        40,
        "dropping the pool must run every queued job"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "drop returned while a worker thread was still running: join every worker"
    );
}

pub fn reports_its_workers() {
    for workers in [1, 5] {
        let clock = ManualClock::new(ms(7));
        let p = pool(workers, vec![ms(1)], &clock);
        assert_eq!(p.workers(), workers, "workers() is config.workers");
        let s = p.snapshot();
        assert_eq!(
            (s.workers, s.at, s.throughput.span),
            (workers, ms(7), Duration::from_secs(1)),
            "(workers, at, throughput.span) of a fresh snapshot"
        );
        assert_eq!(p.shutdown().workers, workers);
    }
    // The real clock moves (spin until it has: no sleep, and never long).
    let p = MetricsPool::new(
        config(1, vec![ms(1)]),
        metrics::SystemClock::new(),
        |task: Task| task(),
    )
    .expect("valid");
    while p.snapshot().at == Duration::ZERO {
        thread::yield_now();
    }
    p.shutdown();
    // Any `Fn() -> Duration` is a clock.
    let p = MetricsPool::new(
        config(2, vec![ms(1)]),
        || Duration::from_millis(42),
        |task: Task| task(),
    )
    .expect("valid");
    p.submit(ok());
    let last = p.shutdown();
    assert_eq!(
        (last.at, last.queue_time.sum, last.run_time.sum),
        (ms(42), Duration::ZERO, Duration::ZERO),
        "a closure that always returns 42 ms is a clock: `at` is 42 ms, and a job submitted, \
         taken and finished at 42 ms waited and ran for 0"
    );
}

pub fn config_errors_in_order() {
    let bad_window = Window {
        span: ms(1),
        slots: 0,
    };
    let try_new = |workers: usize, buckets: Vec<Duration>, window: Window| {
        MetricsPool::new(
            Config {
                workers,
                buckets,
                window,
            },
            ManualClock::new(ms(0)),
            |task: Task| task(),
        )
        .err()
    };
    let ns = Duration::from_nanos;
    for (e, word) in [
        (ConfigError::NoWorkers, "worker"),
        (ConfigError::BucketsNotIncreasing { index: 3 }, "3"),
        (ConfigError::EmptyWindow, "window"),
    ] {
        assert!(
            e.to_string().contains(word),
            "{e:?} displays as {:?}: it should say what is wrong",
            e.to_string()
        );
    }
    for (workers, buckets, window, expected, why) in [
        (
            0,
            vec![ms(2), ms(1)],
            bad_window,
            Some(ConfigError::NoWorkers),
            "no workers wins over bad buckets and a bad window",
        ),
        (
            1,
            vec![ms(1), ms(3), ms(2), ms(2)],
            bad_window,
            Some(ConfigError::BucketsNotIncreasing { index: 2 }),
            "bad buckets win over a bad window; the first offending index is 2",
        ),
        (
            2,
            vec![ms(1), ms(1)],
            second_window(),
            Some(ConfigError::BucketsNotIncreasing { index: 1 }),
            "equal bounds are not increasing",
        ),
        (
            1,
            vec![ms(1)],
            bad_window,
            Some(ConfigError::EmptyWindow),
            "slots == 0",
        ),
        (
            1,
            vec![ms(1)],
            Window {
                span: ns(3),
                slots: 4,
            },
            Some(ConfigError::EmptyWindow),
            "3 ns in 4 steps: span / slots is zero",
        ),
        (
            1,
            vec![ms(1)],
            Window {
                span: ns(4),
                slots: 4,
            },
            None,
            "4 ns in 4 steps of 1 ns is a valid window",
        ),
        (
            1,
            vec![],
            second_window(),
            None,
            "no bounds at all is valid (+Inf only)",
        ),
        (
            1,
            vec![Duration::ZERO, ms(1)],
            second_window(),
            None,
            "a bound of zero is valid",
        ),
    ] {
        assert_eq!(
            try_new(workers, buckets.clone(), window),
            expected,
            "MetricsPool::new with workers {workers}, buckets {buckets:?}, window {window:?}: \
             {why}"
        );
    }
}

// ---- exposition ---------------------------------------------------------------------------

fn parse(text: &str) -> Scrape {
    for line in text.lines() {
        assert_ne!(
            LineInfo::parse(line),
            LineInfo::Empty,
            "the exposition has an empty line: metrics are separated by nothing but newlines:\n{text}"
        );
        assert_ne!(
            LineInfo::parse(line),
            LineInfo::Ignored,
            "this exposition line is neither a comment the format knows nor a sample: \
             {line:?}\nin:\n{text}"
        );
    }
    assert!(
        text.ends_with('\n'),
        "the exposition must end with a newline:\n{text}"
    );
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("reading from a string")
}

/// The (le, cumulative count) pairs of a histogram, in the order written.
fn histogram_of(scrape: &Scrape, name: &str) -> Vec<(f64, f64)> {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .unwrap_or_else(|| panic!("no histogram `{name}` (with `# TYPE {name} histogram`) found"));
    match &sample.value {
        Value::Histogram(buckets) => buckets.iter().map(|b| (b.less_than, b.count)).collect(),
        other => panic!("`{name}` should be a histogram, the parser read {other:?}"),
    }
}

fn value_of(scrape: &Scrape, name: &str) -> Value {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .unwrap_or_else(|| panic!("no sample named `{name}` in the exposition"))
        .value
        .clone()
}

const METRICS: [(&str, SampleType); 11] = [
    ("pool_jobs_submitted_total", SampleType::Counter),
    ("pool_jobs_started_total", SampleType::Counter),
    ("pool_jobs_succeeded_total", SampleType::Counter),
    ("pool_jobs_failed_total", SampleType::Counter),
    ("pool_jobs_in_flight", SampleType::Gauge),
    ("pool_jobs_queued", SampleType::Gauge),
    ("pool_queue_high_water", SampleType::Gauge),
    ("pool_workers", SampleType::Gauge),
    ("pool_throughput_per_second", SampleType::Gauge),
    ("pool_job_queue_seconds", SampleType::Histogram),
    ("pool_job_run_seconds", SampleType::Histogram),
];

/// The HELP/TYPE structure: every metric documented and typed, in the stated order, each
/// `# HELP` followed by its `# TYPE`, samples only under their own metric.
fn assert_layout(text: &str) {
    let mut order = Vec::new();
    let mut current: Option<String> = None;
    let lines: Vec<LineInfo> = text.lines().map(LineInfo::parse).collect();
    for (i, line) in lines.iter().enumerate() {
        match line {
            LineInfo::Doc { metric_name, .. } => {
                order.push(metric_name.to_string());
                let typed = match lines.get(i + 1) {
                    Some(LineInfo::Type {
                        metric_alias: Some(alias),
                        ..
                    }) => alias.as_str() == *metric_name,
                    Some(LineInfo::Type { metric_name: t, .. }) => t.as_str() == *metric_name,
                    _ => false,
                };
                assert!(
                    typed,
                    "`# HELP {metric_name}` must be followed at once by `# TYPE {metric_name} …`:\n{text}"
                );
                current = Some(metric_name.to_string());
            }
            LineInfo::Sample { metric_name, .. } => {
                let owner = current.as_deref().unwrap_or("");
                let belongs = *metric_name == owner
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|suffix| metric_name.strip_suffix(suffix) == Some(owner));
                assert!(
                    belongs,
                    "sample `{metric_name}` appears under `# HELP {owner}`: write each \
                     metric's samples right after its own HELP and TYPE lines:\n{text}"
                );
            }
            _ => {}
        }
    }
    let expected: Vec<String> = METRICS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        order, expected,
        "the metrics (by their `# HELP` lines), in the documented order:\n{text}"
    );
}

fn assert_histogram(scrape: &Scrape, name: &str, h: &Histogram, text: &str) {
    let mut expected: Vec<(f64, f64)> = h
        .bounds
        .iter()
        .zip(&h.counts)
        .map(|(b, &c)| (b.as_secs_f64(), c as f64))
        .collect();
    expected.push((f64::INFINITY, h.count() as f64));
    assert_eq!(
        histogram_of(scrape, name),
        expected,
        "`{name}` buckets as (le in seconds, cumulative count), in increasing order of le, \
         ending with +Inf = the total. Not cumulative, a bound not in seconds, or a missing \
         +Inf bucket shows here:\n{text}"
    );
    assert_eq!(
        value_of(scrape, &format!("{name}_count")),
        Value::Untyped(h.count() as f64),
        "`{name}_count` is the number of observations:\n{text}"
    );
    match value_of(scrape, &format!("{name}_sum")) {
        Value::Untyped(v) => assert!(
            (v - h.sum.as_secs_f64()).abs() <= 1e-12,
            "`{name}_sum` must be the sum in seconds, {}; it is {v}:\n{text}",
            h.sum.as_secs_f64()
        ),
        other => panic!("`{name}_sum` should be a plain number, read {other:?}"),
    }
}

fn assert_exposition(s: &Snapshot) {
    let text = s.to_prometheus();
    let scrape = parse(&text);
    assert_layout(&text);
    for (name, _) in METRICS {
        assert!(
            scrape.docs.get(name).is_some_and(|d| !d.trim().is_empty()),
            "`{name}` needs a `# HELP {name} <text>` line:\n{text}"
        );
    }
    for (name, kind, value) in [
        (
            "pool_jobs_submitted_total",
            SampleType::Counter,
            s.submitted,
        ),
        ("pool_jobs_started_total", SampleType::Counter, s.started),
        (
            "pool_jobs_succeeded_total",
            SampleType::Counter,
            s.succeeded,
        ),
        ("pool_jobs_failed_total", SampleType::Counter, s.failed),
        ("pool_jobs_in_flight", SampleType::Gauge, s.in_flight),
        ("pool_jobs_queued", SampleType::Gauge, s.queued),
        (
            "pool_queue_high_water",
            SampleType::Gauge,
            s.queue_high_water,
        ),
        ("pool_workers", SampleType::Gauge, s.workers as u64),
    ] {
        let expected = match kind {
            SampleType::Counter => Value::Counter(value as f64),
            _ => Value::Gauge(value as f64),
        };
        assert_eq!(
            value_of(&scrape, name),
            expected,
            "`{name}` as the parser read it (a counter needs `# TYPE {name} counter`, a \
             gauge `# TYPE {name} gauge`):\n{text}"
        );
    }
    match value_of(&scrape, "pool_throughput_per_second") {
        Value::Gauge(v) => assert!(
            (v - s.throughput.per_second()).abs() <= 1e-9 * v.abs().max(1.0),
            "`pool_throughput_per_second` is {v}, expected {}:\n{text}",
            s.throughput.per_second()
        ),
        other => panic!("`pool_throughput_per_second` should be a gauge, read {other:?}"),
    }
    assert_histogram(&scrape, "pool_job_queue_seconds", &s.queue_time, &text);
    assert_histogram(&scrape, "pool_job_run_seconds", &s.run_time, &text);
}

pub fn exposition_of_a_real_pool() {
    let clock = ManualClock::new(ms(0));
    let p = pool(2, vec![ms(1), Duration::from_micros(2_500), ms(10)], &clock);
    let (gate, running) = (Gate::new(), Arrivals::new());
    let _release = gate.open_on_drop();
    p.submit(parks(&gate, &running));
    running.wait_for(1);
    p.submit(parks(&gate, &running));
    running.wait_for(2);
    for n in [1, 3, 12] {
        p.submit(runs_for(&clock, ms(n)));
    }
    p.submit(err());
    assert_exposition(&p.snapshot());
    gate.open();
    let last = p.shutdown();
    assert_eq!(last.submitted, 6);
    assert_exposition(&last);
}

pub fn exposition_of_chosen_values() {
    // A snapshot built by hand, so every value differs from every other.
    let s = Snapshot {
        at: ms(1234),
        workers: 3,
        submitted: 41,
        started: 31,
        succeeded: 17,
        failed: 11,
        in_flight: 3,
        queued: 10,
        queue_high_water: 23,
        queue_time: Histogram {
            bounds: vec![Duration::from_micros(250), ms(1), Duration::from_secs(2)],
            counts: vec![4, 9, 30, 31],
            sum: Duration::from_nanos(2_468_013_579),
        },
        run_time: Histogram {
            bounds: vec![Duration::ZERO, Duration::from_micros(2_500)],
            counts: vec![2, 19, 28],
            sum: Duration::from_millis(7_125),
        },
        throughput: Throughput {
            span: ms(4000),
            finished: 13,
        },
    };
    assert_exposition(&s);
}
