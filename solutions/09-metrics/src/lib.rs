//! Exercise 9 — a worker pool with metrics (reference solution).
//!
//! Every worker owns one cell of metrics (counts, two histograms, a throughput ring) behind
//! a lock that only it and a snapshot ever take: no lock is shared by all workers, and no
//! lock is held while a job runs. `submit` counts a job in one shared atomic *before*
//! queueing it; a snapshot reads every cell, then that counter, and derives `queued` and
//! `in_flight` from the totals, so every snapshot adds up by construction and nothing in
//! it can go below zero.

use std::fmt;
use std::time::{Duration, Instant};

use std::panic::{AssertUnwindSafe, catch_unwind};

use workbook_sync::atomic::{AtomicU64, Ordering};
use workbook_sync::channel::{self, Sender};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Mutex};

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

impl Histogram {
    /// The number of observations: the last (`+Inf`) cumulative count.
    pub fn count(&self) -> u64 {
        self.counts.last().copied().unwrap_or(0)
    }

    // ANCHOR: quantile
    /// Estimates the `q`-quantile like Prometheus' `histogram_quantile`: linear
    /// interpolation inside the first non-empty bucket whose cumulative count reaches
    /// `q * count`.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let n = self.count();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * n as f64;
        let mut below = 0;
        for (i, &cumulative) in self.counts.iter().enumerate() {
            let inside = cumulative - below;
            if inside > 0 && cumulative as f64 >= rank {
                // The +Inf bucket has no upper edge: report the largest finite bound.
                let Some(&upper) = self.bounds.get(i) else {
                    return self.bounds.last().copied();
                };
                let lower = if i == 0 {
                    Duration::ZERO
                } else {
                    self.bounds[i - 1]
                };
                let width = (upper - lower).as_nanos() as f64;
                let fraction = (rank - below as f64) / inside as f64;
                return Some(lower + Duration::from_nanos((width * fraction).round() as u64));
            }
            below = cumulative;
        }
        self.bounds.last().copied()
    }
    // ANCHOR_END: quantile
}

impl Throughput {
    /// Jobs finished per second over the window.
    pub fn per_second(&self) -> f64 {
        self.finished as f64 / self.span.as_secs_f64()
    }
}

/// Seconds as Prometheus wants them, printed the way Rust prints an `f64`.
fn seconds(d: Duration) -> String {
    d.as_secs_f64().to_string()
}

/// Writes the `# HELP` and `# TYPE` lines of one metric.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
}

/// A counter or a gauge: header and its one sample.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl fmt::Display) {
    header(out, name, kind, help);
    out.push_str(&format!("{name} {value}\n"));
}

fn histogram(out: &mut String, name: &str, help: &str, h: &Histogram) {
    header(out, name, "histogram", help);
    for (bound, count) in h.bounds.iter().zip(&h.counts) {
        out.push_str(&format!(
            "{name}_bucket{{le=\"{}\"}} {count}\n",
            seconds(*bound)
        ));
    }
    out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {}\n", h.count()));
    out.push_str(&format!("{name}_sum {}\n", seconds(h.sum)));
    out.push_str(&format!("{name}_count {}\n", h.count()));
}

impl Snapshot {
    // ANCHOR: exposition
    /// Renders the snapshot in the Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let counters = [
            (
                "pool_jobs_submitted_total",
                "Jobs accepted by submit.",
                self.submitted,
            ),
            (
                "pool_jobs_started_total",
                "Jobs a worker has taken.",
                self.started,
            ),
            (
                "pool_jobs_succeeded_total",
                "Jobs that returned Ok.",
                self.succeeded,
            ),
            (
                "pool_jobs_failed_total",
                "Jobs that returned Err or panicked.",
                self.failed,
            ),
        ];
        for (name, help, value) in counters {
            single(&mut out, name, "counter", help, value);
        }
        let gauges = [
            ("pool_jobs_in_flight", "Jobs running now.", self.in_flight),
            (
                "pool_jobs_queued",
                "Jobs waiting for a worker.",
                self.queued,
            ),
            (
                "pool_queue_high_water",
                "Most jobs ever queued at once.",
                self.queue_high_water,
            ),
            ("pool_workers", "Worker threads.", self.workers as u64),
        ];
        for (name, help, value) in gauges {
            single(&mut out, name, "gauge", help, value);
        }
        single(
            &mut out,
            "pool_throughput_per_second",
            "gauge",
            "Jobs finished per second over the throughput window.",
            self.throughput.per_second(),
        );
        histogram(
            &mut out,
            "pool_job_queue_seconds",
            "Time from submit until a worker took the job.",
            &self.queue_time,
        );
        histogram(
            &mut out,
            "pool_job_run_seconds",
            "Time a job ran, from taken to returned.",
            &self.run_time,
        );
        out
    }
    // ANCHOR_END: exposition
}

// ANCHOR: cell
/// What one worker has recorded. Only that worker writes it, so its lock is never shared
/// by two workers: a snapshot takes each worker's lock in turn, for a moment.
struct Cell {
    started: u64,
    succeeded: u64,
    failed: u64,
    queue_time: Recorder,
    run_time: Recorder,
    /// Finished jobs per step of the throughput window, a ring of `window.slots` steps.
    recent: Vec<Step>,
}

/// Observations per bucket (not cumulative: one bucket per observation), `+Inf` last.
struct Recorder {
    counts: Vec<u64>,
    sum: Duration,
}

#[derive(Clone, Copy)]
struct Step {
    /// Which step of the clock this entry counts (`u64::MAX`: none yet).
    step: u64,
    finished: u64,
}
// ANCHOR_END: cell

impl Recorder {
    fn new(buckets: usize) -> Self {
        Recorder {
            counts: padded(buckets + 1, 0),
            sum: Duration::ZERO,
        }
    }

    /// `le` is inclusive: `d` belongs to the first bucket whose bound is `>= d`.
    fn observe(&mut self, bounds: &[Duration], d: Duration) {
        let bucket = bounds.partition_point(|&bound| bound < d);
        self.counts[bucket] += 1;
        self.sum += d;
    }
}

/// Everything the workers, the submitters and the snapshots share.
struct Shared {
    clock: Box<dyn Clock>,
    bounds: Vec<Duration>,
    window: Window,
    /// `window.span / window.slots`, in nanoseconds (at least 1).
    step: u64,
    /// Counted by `submit` *before* the job is queued, so no worker can start a job that
    /// is not counted yet; read by a snapshot *after* the workers' cells, so it is never
    /// below the number of jobs those cells say started.
    submitted: AtomicU64,
    high_water: AtomicU64,
    cells: Vec<Padded<Mutex<Cell>>>,
}

/// Keeps each worker's cell on cache lines of its own: two workers writing neighbouring
/// cells would otherwise pass the same cache line back and forth after every job.
#[repr(align(128))]
struct Padded<T>(T);

/// Spare room after a cell's vectors (counts, throughput ring), for the same reason: the
/// next allocation — maybe another worker's — starts at least 128 bytes further on.
const SPARE: usize = 16;

fn padded<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut v = Vec::with_capacity(len + SPARE);
    v.resize(len, value);
    v
}

fn lock(cell: &Mutex<Cell>) -> workbook_sync::MutexGuard<'_, Cell> {
    // Nothing panics while a cell is locked; a poisoned cell is still consistent.
    cell.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn step_of(&self, t: Duration) -> u64 {
        (t.as_nanos() / u128::from(self.step)) as u64
    }

    // ANCHOR: worker
    fn work<J, E>(
        &self,
        me: usize,
        jobs: &channel::Receiver<(J, Duration)>,
        process: &dyn Fn(J) -> Result<(), E>,
    ) {
        let cell = &self.cells[me].0;
        for (job, submitted_at) in jobs.iter() {
            let started_at = self.clock.now();
            {
                let mut c = lock(cell);
                c.started += 1;
                c.queue_time
                    .observe(&self.bounds, started_at.saturating_sub(submitted_at));
            }
            // No lock held while the job runs. A panic is a failure, and the worker goes on.
            let outcome = catch_unwind(AssertUnwindSafe(|| process(job)));
            let ok = matches!(outcome, Ok(Ok(())));
            let finished_at = self.clock.now();
            let step = self.step_of(finished_at);
            let slots = self.window.slots as usize;
            let mut c = lock(cell);
            if ok {
                c.succeeded += 1;
            } else {
                c.failed += 1;
            }
            c.run_time
                .observe(&self.bounds, finished_at.saturating_sub(started_at));
            let slot = &mut c.recent[(step % slots as u64) as usize];
            if slot.step != step {
                *slot = Step { step, finished: 0 };
            }
            slot.finished += 1;
            drop(c);
            drop(outcome);
        }
    }
    // ANCHOR_END: worker

    fn raise_high_water(&self, queued: u64) -> u64 {
        self.high_water
            .fetch_max(queued, Ordering::SeqCst)
            .max(queued)
    }

    // ANCHOR: take_snapshot
    fn snapshot(&self, workers: usize) -> Snapshot {
        let buckets = self.bounds.len() + 1;
        let (mut started, mut succeeded, mut failed) = (0, 0, 0);
        let mut queue_time = Recorder::new(self.bounds.len());
        let mut run_time = Recorder::new(self.bounds.len());
        let mut recent = Vec::new();
        // Each cell is read whole, under its worker's lock: its counts and histograms agree.
        for Padded(cell) in &self.cells {
            let c = lock(cell);
            started += c.started;
            succeeded += c.succeeded;
            failed += c.failed;
            for b in 0..buckets {
                queue_time.counts[b] += c.queue_time.counts[b];
                run_time.counts[b] += c.run_time.counts[b];
            }
            queue_time.sum += c.queue_time.sum;
            run_time.sum += c.run_time.sum;
            recent.extend_from_slice(&c.recent);
        }
        // Read after the cells: every job they count as started was counted here before it
        // was queued, so `submitted >= started` and `queued` cannot go below zero.
        let submitted = self.submitted.load(Ordering::SeqCst);
        let at = self.clock.now();
        let queued = submitted - started;
        let now = self.step_of(at);
        let slots = u64::from(self.window.slots);
        let finished_recently = recent
            .iter()
            .filter(|s| s.step <= now && s.step + slots > now)
            .map(|s| s.finished)
            .sum();
        let cumulative = |r: Recorder| Histogram {
            bounds: self.bounds.clone(),
            counts: r
                .counts
                .iter()
                .scan(0, |total, n| {
                    *total += n;
                    Some(*total)
                })
                .collect(),
            sum: r.sum,
        };
        Snapshot {
            at,
            workers,
            submitted,
            started,
            succeeded,
            failed,
            in_flight: started - succeeded - failed,
            queued,
            queue_high_water: self.raise_high_water(queued),
            queue_time: cumulative(queue_time),
            run_time: cumulative(run_time),
            throughput: Throughput {
                span: self.window.span,
                finished: finished_recently,
            },
        }
    }
    // ANCHOR_END: take_snapshot
}

/// A fixed number of workers, an unbounded job queue, and metrics about both.
///
/// Dropping the pool shuts it down like [`MetricsPool::shutdown`] (without the snapshot).
pub struct MetricsPool<J> {
    /// `None` once the pool is shutting down: dropping the only Sender closes the queue.
    jobs: Option<Sender<(J, Duration)>>,
    workers: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl<J: Send + 'static> MetricsPool<J> {
    // ANCHOR: new
    /// Checks `config`, then starts `config.workers` threads that run `process` on each
    /// submitted job, reading time from `clock`.
    ///
    /// # Errors
    /// [`ConfigError::NoWorkers`], then [`ConfigError::BucketsNotIncreasing`], then
    /// [`ConfigError::EmptyWindow`].
    pub fn new<F, E, C>(config: Config, clock: C, process: F) -> Result<Self, ConfigError>
    where
        F: Fn(J) -> Result<(), E> + Send + Sync + 'static,
        E: 'static,
        C: Clock,
    {
        let Config {
            workers,
            buckets,
            window,
        } = config;
        if workers == 0 {
            return Err(ConfigError::NoWorkers);
        }
        if let Some(index) = (1..buckets.len()).find(|&i| buckets[i] <= buckets[i - 1]) {
            return Err(ConfigError::BucketsNotIncreasing { index });
        }
        if window.slots == 0 || (window.span / window.slots).is_zero() {
            return Err(ConfigError::EmptyWindow);
        }
        let cells = (0..workers)
            .map(|_| {
                Padded(Mutex::new(Cell {
                    started: 0,
                    succeeded: 0,
                    failed: 0,
                    queue_time: Recorder::new(buckets.len()),
                    run_time: Recorder::new(buckets.len()),
                    recent: padded(
                        window.slots as usize,
                        Step {
                            step: u64::MAX,
                            finished: 0,
                        },
                    ),
                }))
            })
            .collect();
        let shared = Arc::new(Shared {
            clock: Box::new(clock),
            step: (window.span / window.slots).as_nanos() as u64,
            bounds: buckets,
            window,
            submitted: AtomicU64::new(0),
            high_water: AtomicU64::new(0),
            cells,
        });
        let (tx, rx) = channel::unbounded::<(J, Duration)>();
        let process = Arc::new(process);
        let handles = (0..workers)
            .map(|me| {
                let jobs = rx.clone();
                let shared = Arc::clone(&shared);
                let process = Arc::clone(&process);
                thread::spawn(move || shared.work(me, &jobs, &*process))
            })
            .collect();
        Ok(MetricsPool {
            jobs: Some(tx),
            workers: handles,
            shared,
        })
    }
    // ANCHOR_END: new

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.shared.cells.len()
    }

    // ANCHOR: submit
    /// Queues a job; never blocks.
    pub fn submit(&self, job: J) {
        let Some(jobs) = &self.jobs else { return };
        let at = self.shared.clock.now();
        // Count first, queue second: a worker can only start a job that is already counted.
        self.shared.submitted.fetch_add(1, Ordering::SeqCst);
        // Workers never leave while the pool is open (a panicking job is caught).
        let _ = jobs.send((job, at));
        // The queue right after this job joined it: the peaks happen here.
        let queued = jobs.len() as u64;
        if queued > self.shared.high_water.load(Ordering::Relaxed) {
            self.shared.raise_high_water(queued);
        }
    }
    // ANCHOR_END: submit

    /// The metrics now: a consistent snapshot, never waiting for a job.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot(self.workers())
    }

    /// Closes the queue, lets the workers finish every queued job, joins them, and returns
    /// the final snapshot.
    pub fn shutdown(mut self) -> Snapshot {
        self.finish();
        self.shared.snapshot(self.shared.cells.len())
    }
}

impl<J> MetricsPool<J> {
    fn finish(&mut self) {
        // Close first: a worker leaves its loop once the queue is closed and empty.
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            // Jobs' panics are caught, so a worker never panics; join every one regardless.
            let _ = worker.join();
        }
    }
}

impl<J> Drop for MetricsPool<J> {
    fn drop(&mut self) {
        self.finish();
    }
}
