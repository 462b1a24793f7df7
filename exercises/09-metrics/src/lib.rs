//! # Exercise 9 — a worker pool with metrics
//!
//! A pool you cannot see into is a pool you cannot size. This one counts what happens to
//! every job and measures how long it waits and how long it runs, so that a dashboard (or a
//! test) can ask at any moment: how many jobs are waiting, how many are running, how many
//! failed, how long do they take, how many finish per second — and how deep did the queue
//! ever get (the number you size a buffer with)?
//!
//! The pool has a fixed number of workers and an unbounded FIFO job queue. Each job goes
//! through `process`, which returns `Ok(())` (the job **succeeded**) or `Err(_)` (it
//! **failed**); a job that panics also failed, and its worker carries on with the next job.
//! [`MetricsPool::snapshot`] returns a [`Snapshot`] of the metrics, and
//! [`Snapshot::to_prometheus`] renders one in the Prometheus text exposition format.
//!
//! Time comes from an injected [`Clock`], never from the system: the pool reads the clock
//! when a job is submitted, when a worker takes it, when it returns, and when a snapshot is
//! taken — nowhere else, and it never sleeps. Tests move a [`ManualClock`] by hand (a job may
//! even move it itself, to "run" for exactly 3 ms).
//!
//! What the checker expects (every point below is tested):
//!
//! * **every count is exact**: `submitted` counts jobs `submit` accepted, `started` jobs a
//!   worker has taken, `succeeded` jobs whose `process` returned `Ok`, `failed` jobs whose
//!   `process` returned `Err` **or panicked** (a panic is never a success);
//! * **every snapshot is consistent**, even one taken while workers run and other threads
//!   submit: `succeeded + failed + in_flight + queued == submitted`, `started == succeeded +
//!   failed + in_flight`, `run_time.count() == succeeded + failed`, `queue_time.count() ==
//!   started`, `in_flight <= workers`, and no count is ever negative (none goes below zero
//!   and wraps to a huge number);
//! * **snapshots never go backwards**: `submitted`, `started`, `succeeded`, `failed`, both
//!   histograms' counts and `queue_high_water` never decrease from one snapshot to the next;
//! * a job counts as submitted before `submit` returns; as started (no longer queued, now in
//!   flight) before its `process` is called; and as finished (with its run time) before its
//!   worker takes another job;
//! * **time queued is kept apart from time running**: a job's queue time runs from the clock
//!   reading in `submit` to the reading when a worker takes it; its run time from that
//!   reading to the one when `process` returns or panics. Run time never includes queue time;
//! * **histogram buckets are Prometheus buckets**: an observation `d` falls in every bucket
//!   whose bound is `>= d` (`le` is inclusive: 2 ms is in the `le="0.002"` bucket), so the
//!   counts are cumulative and the last one (`+Inf`) is the total;
//! * quantiles are estimated from the buckets as [`Histogram::quantile`] says;
//! * the throughput window counts exactly the jobs that finished in it (see [`Throughput`]);
//! * `queue_high_water` is the most jobs that were ever queued at once: at least `queued` in
//!   every snapshot, `k` once `k` jobs have been submitted while every worker was busy (and
//!   none taken) if the queue never held more before, and never lowered when the queue
//!   drains — not even when it drained before any snapshot looked;
//! * **no lock is held while a job runs**: workers run jobs at the same time, and a snapshot
//!   taken while every worker is stuck in a job returns at once;
//! * [`Snapshot::to_prometheus`] is valid Prometheus text exposition, read by a real parser;
//! * [`MetricsPool::shutdown`] (and drop) run every queued job and join every worker; the
//!   snapshot `shutdown` returns has `queued == 0`, `in_flight == 0` and every submitted job
//!   finished;
//! * a bad [`Config`] is an error ([`ConfigError`]), checked in the order the variants are
//!   listed.
//!
//! Also expected, and measured by the bench rather than by a test: workers update the
//! metrics **without a lock shared by all workers** (use atomics, or one cell per worker that
//! only that worker writes, merged when a snapshot is taken). A global `Mutex<Metrics>` works
//! and is consistent, but every worker then queues on it after every job.
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove that no
//! interleaving of workers, submitters and snapshots ever shows an inconsistent snapshot.
//!
//! Read the book's chapter 9 first. Stuck? `cargo checker hint metrics`.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

#[allow(unused_imports)]
use workbook_sync::atomic::{AtomicU64, Ordering};
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};
#[allow(unused_imports)]
use workbook_sync::{Arc, Mutex};

// ANCHOR: clock
/// The pool's sense of time: how long since some fixed origin. Injected, so tests move time
/// by hand and nothing in the pool ever sleeps. Should never go backwards.
pub trait Clock: Send + Sync + 'static {
    /// The current time, as a distance from the clock's origin.
    fn now(&self) -> Duration;
}

/// Any `Fn() -> Duration` is a clock: `|| Duration::ZERO` never moves.
impl<F: Fn() -> Duration + Send + Sync + 'static> Clock for F {
    fn now(&self) -> Duration {
        self()
    }
}
// ANCHOR_END: clock

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// clone and gives the other to the pool. (Given: nothing to do here.)
#[derive(Clone, Debug)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Duration) -> Self {
        ManualClock {
            nanos: Arc::new(AtomicU64::new(start.as_nanos() as u64)),
        }
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }

    /// Sets the time to `now` (which should not be in the past).
    pub fn set(&self, now: Duration) {
        self.nanos.store(now.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// The real clock: time since the clock was made. (Given: nothing to do here.)
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

// ANCHOR: config
/// How a [`MetricsPool`] is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Worker threads. At least 1.
    pub workers: usize,
    /// Upper bounds of the histogram buckets (both histograms use them), strictly
    /// increasing. A `+Inf` bucket is always added after them; may be empty (then `+Inf`
    /// is the only bucket).
    pub buckets: Vec<Duration>,
    /// The throughput window.
    pub window: Window,
}

/// A sliding window `span` long that moves in `slots` equal steps of `span / slots`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub span: Duration,
    pub slots: u32,
}

/// Why a [`Config`] was refused. When several things are wrong, the first variant in this
/// list wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `workers == 0`: jobs would be accepted and never run.
    NoWorkers,
    /// `buckets[index]` is not greater than `buckets[index - 1]` (the first such index).
    BucketsNotIncreasing { index: usize },
    /// `window.slots == 0`, or `window.span / window.slots` is zero: the window cannot move.
    EmptyWindow,
}
// ANCHOR_END: config

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoWorkers => f.write_str("a worker pool needs at least one worker"),
            ConfigError::BucketsNotIncreasing { index } => write!(
                f,
                "histogram bucket {index} is not greater than the one before it"
            ),
            ConfigError::EmptyWindow => {
                f.write_str("the throughput window needs slots > 0 and span / slots > 0")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

// ANCHOR: snapshot
/// The metrics at one moment. Plain data: compare it, print it, keep it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The clock reading taken for this snapshot (the end of the throughput window).
    pub at: Duration,
    /// The number of worker threads.
    pub workers: usize,
    /// Jobs accepted by `submit`.
    pub submitted: u64,
    /// Jobs a worker has taken from the queue.
    pub started: u64,
    /// Jobs whose `process` returned `Ok`.
    pub succeeded: u64,
    /// Jobs whose `process` returned `Err` or panicked.
    pub failed: u64,
    /// Jobs taken by a worker and not finished yet.
    pub in_flight: u64,
    /// Jobs submitted and not yet taken by a worker.
    pub queued: u64,
    /// The most jobs that were ever queued at once.
    pub queue_high_water: u64,
    /// Time from `submit` to the moment a worker took the job, for every started job.
    pub queue_time: Histogram,
    /// Time from the moment a worker took the job to the moment `process` returned or
    /// panicked, for every finished job: the job's latency.
    pub run_time: Histogram,
    /// Jobs finished in the window that ends at `at`.
    pub throughput: Throughput,
}

/// A histogram of durations with fixed buckets, as Prometheus keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    /// The buckets' upper bounds ([`Config::buckets`]), without the implicit `+Inf`.
    pub bounds: Vec<Duration>,
    /// Cumulative counts, one per bound and one more for `+Inf` (so `bounds.len() + 1`
    /// entries): `counts[i]` is the number of observations `<= bounds[i]`, and the last
    /// entry is the number of observations.
    pub counts: Vec<u64>,
    /// The sum of all observations.
    pub sum: Duration,
}

/// How many jobs finished during the window that ends at the snapshot's time `at`.
///
/// The window is `span` long and moves in steps of `step = span / slots`: time `t` is in
/// step `floor(t / step)`, and a job that finished at time `t` is counted when its step is
/// one of the last `slots` steps up to and including the step of `at`. So a job finished at
/// 100 ms, with `span` = 1 s and `slots` = 4 (steps of 250 ms), is counted by snapshots taken
/// from 100 ms to 999 ms, and no longer at 1000 ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throughput {
    /// The window's length ([`Window::span`]).
    pub span: Duration,
    /// Jobs that finished in the window.
    pub finished: u64,
}
// ANCHOR_END: snapshot

impl Histogram {
    /// The number of observations: the last (`+Inf`) cumulative count, 0 if `counts` is
    /// empty.
    pub fn count(&self) -> u64 {
        todo!("the +Inf bucket holds every observation")
    }

    /// Estimates the `q`-quantile (`0.5` for the median, `0.99` for p99) the way Prometheus'
    /// `histogram_quantile` does. With `n` observations the rank is `q * n`. The estimate lies
    /// in the first bucket whose cumulative count is at least the rank and that holds at
    /// least one observation. It is interpolated linearly between that bucket's lower edge
    /// (the previous bound, or zero for the first bucket) and its upper bound:
    /// `lower + (upper - lower) * (rank - below) / inside`, where `below` is the cumulative
    /// count of the bucket before and `inside` the observations in this one, rounded to the
    /// nearest nanosecond. A rank that lands in the `+Inf` bucket gives the largest finite bound
    /// (there is no upper edge to interpolate to).
    ///
    /// Returns `None` when there are no observations, when `q` is not within `0.0..=1.0`
    /// (NaN included), or when the rank lands in `+Inf` and there is no finite bound.
    ///
    /// With bounds 1 ms, 2 ms, 4 ms and observations 0.5 ms ×5, 1.5 ms ×3, 3 ms ×2 (counts
    /// `[5, 8, 10, 10]`): p50 is 1 ms, p90 is 3 ms and p99 is 3.9 ms.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let _ = q;
        todo!("find the bucket that holds the rank, interpolate inside it")
    }
}

impl Throughput {
    /// Jobs finished per second over the window: `finished / span` (in seconds).
    pub fn per_second(&self) -> f64 {
        todo!("finished jobs divided by the window's length in seconds")
    }
}

impl Snapshot {
    // ANCHOR: exposition
    /// Renders the snapshot in the Prometheus text exposition format (version 0.0.4): for
    /// every metric a `# HELP` line, a `# TYPE` line and its samples, metrics separated by
    /// nothing but newlines, the text ending with a newline. The metrics, in this order:
    ///
    /// | name | type | value |
    /// |------|------|-------|
    /// | `pool_jobs_submitted_total` | counter | `submitted` |
    /// | `pool_jobs_started_total` | counter | `started` |
    /// | `pool_jobs_succeeded_total` | counter | `succeeded` |
    /// | `pool_jobs_failed_total` | counter | `failed` |
    /// | `pool_jobs_in_flight` | gauge | `in_flight` |
    /// | `pool_jobs_queued` | gauge | `queued` |
    /// | `pool_queue_high_water` | gauge | `queue_high_water` |
    /// | `pool_workers` | gauge | `workers` |
    /// | `pool_throughput_per_second` | gauge | `throughput.per_second()` |
    /// | `pool_job_queue_seconds` | histogram | `queue_time` |
    /// | `pool_job_run_seconds` | histogram | `run_time` |
    ///
    /// A histogram has one `<name>_bucket{le="<bound>"}` sample per bound, in increasing
    /// order, then `<name>_bucket{le="+Inf"}`, each with its cumulative count, then
    /// `<name>_sum` (in seconds) and `<name>_count`. Bounds and sums are written in seconds
    /// (`0.0025` for 2.5 ms).
    pub fn to_prometheus(&self) -> String {
        todo!("write the HELP, TYPE and sample lines of every metric")
    }
    // ANCHOR_END: exposition
}

// ANCHOR: pool
/// A fixed number of workers, an unbounded job queue, and metrics about both.
///
/// Dropping the pool shuts it down like [`MetricsPool::shutdown`] (without the snapshot).
/// `submit` and `snapshot` take `&self`, so threads may share one pool (by reference with
/// `std::thread::scope`, or in an `Arc`): the pool must be `Sync` for any `J: Send`.
pub struct MetricsPool<J> {
    // TODO: replace this placeholder with the fields your pool needs (think: what does a
    // worker write after every job, and how does a snapshot read all of it at once without
    // stopping the workers?).
    _todo: PhantomData<fn(J)>,
}

impl<J: Send + 'static> MetricsPool<J> {
    /// Checks `config`, then starts `config.workers` threads that run `process` on each
    /// submitted job, reading time from `clock`.
    ///
    /// # Errors
    /// A [`ConfigError`]: [`ConfigError::NoWorkers`] first, then
    /// [`ConfigError::BucketsNotIncreasing`] with the first offending index, then
    /// [`ConfigError::EmptyWindow`].
    pub fn new<F, E, C>(config: Config, clock: C, process: F) -> Result<Self, ConfigError>
    where
        F: Fn(J) -> Result<(), E> + Send + Sync + 'static,
        E: 'static,
        C: Clock,
    {
        let _ = (config, clock, process);
        todo!("check the config, start the workers")
    }

    /// The number of worker threads (`config.workers`).
    pub fn workers(&self) -> usize {
        todo!("how many workers does this pool have?")
    }

    /// Queues a job (never blocks: the queue is unbounded). The job counts as submitted and
    /// queued before `submit` returns, and its queue time starts at the clock reading taken
    /// here. Jobs queue in order; a free worker takes the oldest. Any number of threads may
    /// submit at once.
    pub fn submit(&self, job: J) {
        let _ = job;
        todo!("count the job, note the time, queue it")
    }

    /// The metrics now: a consistent [`Snapshot`] (see the crate documentation), with `at`
    /// read from the clock. Never waits for a job to finish; any thread may call it at any
    /// time, also while other threads submit.
    pub fn snapshot(&self) -> Snapshot {
        todo!("read every worker's metrics and the submit count, consistently")
    }

    /// Stops accepting jobs, lets the workers finish **every job already queued**, joins
    /// every worker, and returns the final snapshot: `queued == 0`, `in_flight == 0`, and
    /// `succeeded + failed == submitted`.
    pub fn shutdown(self) -> Snapshot {
        todo!("close the queue, join the workers, take the last snapshot")
    }
}
// ANCHOR_END: pool

impl<J> Drop for MetricsPool<J> {
    /// Dropping the pool closes the queue, lets the workers finish every queued job and
    /// joins them (if `shutdown` has not already).
    fn drop(&mut self) {
        // TODO: close the queue and join the workers (if `shutdown` has not already).
    }
}
