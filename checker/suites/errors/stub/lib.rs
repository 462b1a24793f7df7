//! # Exercise 6 — a worker pool with error handling
//!
//! Jobs fail. The jobs of this pool return `Result<R, E>`, and the pool turns everything that
//! can happen to a job into exactly one [`Outcome`] tagged with the job's [`JobId`]: it
//! succeeded, it failed, it **panicked**, the circuit breaker rejected it, or fail-fast mode
//! stopped the pool before it ran. On top of that, a [`Policy`] chooses how hard the pool
//! tries: it retries transient errors, it can stop at the first failure, and a
//! [`CircuitBreaker`] can stop it from hammering something that keeps failing.
//!
//! **How outcomes are delivered.** There is one stream, [`Outcomes`], for every kind of
//! outcome, and it is **unbounded**: a worker puts its outcome on the stream and takes its next
//! job at once, whether or not anyone is reading. So no way of reading can stall the pool:
//! reading only the failures (`outcomes.filter(..)`), reading on another thread, or reading
//! nothing until after [`shutdown`](ErrorPool::shutdown). The seed's pool sends results and
//! errors on two channels and waits for its workers before either is read: it deadlocks as
//! soon as one of them is full. One unbounded stream makes that deadlock impossible by design.
//!
//! Time comes from an injected [`Clock`] (only the circuit breaker's cooldown needs it), never
//! from the system: nothing in the pool may sleep, read `Instant`, or wait with a timeout.
//! Tests move a [`ManualClock`] by hand.
//!
//! What the checker expects (every point below is tested):
//!
//! * **one outcome per job**: every job that [`submit`](ErrorPool::submit) accepted comes back
//!   exactly once on the stream, tagged with the id `submit` returned; a value or an error
//!   always comes back with its own job's id, never another's;
//! * **outcomes stream**: a job's outcome is on the stream as soon as the job is done (a
//!   failure does not wait for slower jobs, nor a success for failures), and nobody has to
//!   read it: the stream is unbounded, so a worker never waits for a reader;
//! * **a panicking job is an outcome, not a dead worker**: it comes back as
//!   [`Outcome::Panicked`] carrying the panic's message (the text of a `&str` or `String`
//!   payload, [`NON_TEXT_PANIC`] for any other payload), and the worker that ran it goes on
//!   with the next job. After N panics, an N-worker pool still runs N jobs at once. A panic
//!   never poisons a lock of the pool, so it never turns into a cascade of failures;
//! * **retries**: an error whose [`Transient::is_transient`] says `true` is retried at once
//!   (the next attempt starts before the worker takes another job) until the job has had
//!   [`Policy::max_attempts`] attempts in all; a permanent error and a panic are never
//!   retried. The outcome says exactly how many attempts were made, and a retried job still
//!   has exactly one outcome;
//! * **fail-fast** ([`Policy::fail_fast`]): the first failure (a [`Outcome::Failed`] or
//!   [`Outcome::Panicked`] outcome) stops the pool. From then on `submit` hands jobs back, and
//!   every job still queued comes back as [`Outcome::NotRun`], with the job itself, without
//!   being run (and without asking the circuit breaker). Jobs already running finish, their
//!   retries included, and report as usual. The pool has stopped before that first failure is
//!   on the stream;
//! * **circuit breaker** ([`Policy::breaker`]): a worker asks the [`CircuitBreaker`] before
//!   it runs a job, and a job the breaker refuses comes back at once as
//!   [`Outcome::Rejected`], with the job itself, without being run. `threshold` consecutive
//!   failed jobs open the breaker; once the cooldown has passed it lets **exactly one** job
//!   through as a probe, even when several workers ask at the same moment; the probe's
//!   success closes the breaker and its failure opens it again; any success resets the count
//!   of consecutive failures. The cooldown counts from the moment the job whose failure opened
//!   the breaker was done. The breaker hears one verdict per job (its final outcome, after
//!   retries), and has heard it before that outcome is on the stream;
//! * **the stream ends** (`next` returns `None`) once the pool is closed and every outcome has
//!   been taken; [`shutdown`](ErrorPool::shutdown) and drop finish every queued job (or hand
//!   it back, once fail-fast has stopped the pool) and join every worker thread;
//! * `workers == 0`, `max_attempts == 0` and a breaker `threshold` of 0 are errors
//!   ([`PoolError`]).
//!
//! `submit` takes `&self`, so several threads may share one pool by reference: the pool must
//! be `Sync`.
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove that no way of
//! reading deadlocks the pool, that a panic never costs a worker, and that two workers can
//! never both take the half-open breaker's one probe.
//!
//! Read the book's chapter 6 first. Stuck? `cargo checker hint errors`.

use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use std::panic::{self, AssertUnwindSafe};
#[allow(unused_imports)]
use workbook_sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};
#[allow(unused_imports)]
use workbook_sync::{Arc, Mutex, PoisonError};

// ANCHOR: outcome
/// The id [`ErrorPool::submit`] gives a job: 0 for the first job, then 1, 2, 3, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

/// What the job function is told besides the job: which job, and which attempt this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The job's id.
    pub id: JobId,
    /// 1 for the first attempt, 2 for the first retry, …
    pub number: u32,
}

/// What a job's error says about trying again. Implement it for your job's error type.
pub trait Transient {
    /// `true` if the same job may well succeed when tried again (a timeout, a busy server);
    /// `false` for an error that would only happen again (bad input, a missing file).
    fn is_transient(&self) -> bool;
}

/// The message of [`Outcome::Panicked`] when the panic's payload is neither a `&str` nor a
/// `String` (`std::panic::panic_any(42)`, say).
pub const NON_TEXT_PANIC: &str = "the job panicked with a payload that is not text";

/// Everything that can happen to a job. Each accepted job has exactly one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<J, R, E> {
    /// The job's attempt number `attempts` returned `Ok(value)`.
    Done { id: JobId, value: R, attempts: u32 },
    /// The job's last attempt, number `attempts`, returned `Err(error)`: a permanent error,
    /// or a transient one when no attempt was left.
    Failed { id: JobId, error: E, attempts: u32 },
    /// The job's attempt number `attempts` panicked; `message` is the panic's message.
    Panicked {
        id: JobId,
        message: String,
        attempts: u32,
    },
    /// The circuit breaker refused the job: it was not run, and here it is back.
    Rejected { id: JobId, job: J },
    /// Fail-fast mode had stopped the pool before a worker got to this queued job: it was
    /// not run, and here it is back.
    NotRun { id: JobId, job: J },
}
// ANCHOR_END: outcome

impl<J, R, E> Outcome<J, R, E> {
    /// The id of the job this outcome belongs to, whatever the kind of outcome.
    pub fn id(&self) -> JobId {
        todo!("every variant carries the id")
    }
}

// ANCHOR: policy
/// How hard the pool tries. `Policy::default()` tries each job once, never stops early and
/// has no circuit breaker; change what you need:
/// `Policy { max_attempts: 3, fail_fast: true, ..Policy::default() }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts per job, the first one included: 1 never retries. At least 1.
    pub max_attempts: u32,
    /// Stop the pool at the first failed or panicked job (see [`ErrorPool::is_stopped`]).
    pub fail_fast: bool,
    /// Guard the jobs with a [`CircuitBreaker`] built from this configuration.
    pub breaker: Option<BreakerConfig>,
}

/// The two numbers of a [`CircuitBreaker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker. At least 1.
    pub threshold: u32,
    /// Clock ticks the breaker stays open before it lets a probe through. 0 lets the probe
    /// through at once.
    pub cooldown: u64,
}
// ANCHOR_END: policy

impl Default for Policy {
    /// One attempt per job, no fail-fast, no circuit breaker.
    fn default() -> Self {
        todo!("max_attempts 1, fail_fast false, breaker None")
    }
}

/// The pool's sense of time, in ticks (what a tick is — a millisecond, a second — is up to
/// the clock). Injected, so tests move time by hand and nothing in the pool ever sleeps.
pub trait Clock: Send + Sync + 'static {
    /// The current time. Should never go backwards.
    fn now(&self) -> u64;
}

/// Any `Fn() -> u64` is a clock: `|| 0` is a clock that never moves.
impl<F: Fn() -> u64 + Send + Sync + 'static> Clock for F {
    fn now(&self) -> u64 {
        self()
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// clone and gives the other to the pool. (Given: nothing to do here.)
#[derive(Clone, Debug)]
pub struct ManualClock {
    ticks: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: u64) -> Self {
        ManualClock {
            ticks: Arc::new(AtomicU64::new(start)),
        }
    }

    /// Moves the time forward by `ticks`.
    pub fn advance(&self, ticks: u64) {
        self.ticks.fetch_add(ticks, Ordering::SeqCst);
    }

    /// Sets the time to `now` (which should not be in the past).
    pub fn set(&self, now: u64) {
        self.ticks.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.ticks.load(Ordering::SeqCst)
    }
}

/// Why a pool or a breaker could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// A pool with no workers would accept jobs and never run them.
    NoWorkers,
    /// `max_attempts == 0` would never run a job.
    NoAttempts,
    /// A breaker with `threshold == 0` would be open before anything failed.
    ZeroThreshold,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::NoWorkers => f.write_str("a worker pool needs at least one worker"),
            PoolError::NoAttempts => f.write_str("a job needs at least one attempt"),
            PoolError::ZeroThreshold => {
                f.write_str("a circuit breaker needs a threshold of 1 or more")
            }
        }
    }
}

impl std::error::Error for PoolError {}

// ANCHOR: breaker
/// What a [`CircuitBreaker`] would do now (see [`CircuitBreaker::state`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Every job may run; `failures` consecutive failures have been recorded so far (fewer
    /// than the threshold).
    Closed { failures: u32 },
    /// Every job is refused until the clock reads `until`.
    Open { until: u64 },
    /// The cooldown has passed. `probing == false`: the next job to ask becomes the probe;
    /// `probing == true`: the probe is out and every other job is refused until its verdict.
    HalfOpen { probing: bool },
}

/// Leave to run one job, from [`CircuitBreaker::try_acquire`]. Give it back with the job's
/// verdict: [`CircuitBreaker::record_success`] or [`CircuitBreaker::record_failure`].
#[must_use = "record the job's verdict with this permit, or a probe stays out for ever"]
#[derive(Debug)]
pub struct Permit {
    // TODO: what must the breaker know when this permit comes back?
    _todo: (),
}

impl Permit {
    /// `true` for the probe: the one permit a half-open breaker gives out.
    pub fn is_probe(&self) -> bool {
        todo!("is this the half-open breaker's probe?")
    }
}

/// The circuit breaker of the seed's Common Patterns 3, without its race.
///
/// Closed, it lets every job run and counts consecutive failures; `threshold` of them in a
/// row open it. Open, it refuses every job until `cooldown` ticks have passed. Then it is
/// half-open: the first job to ask becomes the probe, and every other job is refused until
/// the probe's verdict comes back — success closes the breaker, failure opens it again.
///
/// Shared by all the workers (it is `Sync`); time is a parameter of every call, so it can be
/// tested, and model-checked, without a clock.
pub struct CircuitBreaker {
    // TODO: replace this placeholder. Think: which facts must one call read and change in
    // one atomic step, so that two workers can never both take the one probe?
    _todo: PhantomData<()>,
}

impl CircuitBreaker {
    /// A closed breaker with no failures counted.
    ///
    /// # Errors
    /// [`PoolError::ZeroThreshold`] when `config.threshold == 0`.
    pub fn new(config: BreakerConfig) -> Result<Self, PoolError> {
        let _ = config;
        todo!("validate the threshold, start closed")
    }

    /// Asks to run one job at time `now`; `None` means the job must not run.
    ///
    /// Closed: a permit, always. Open, before the cooldown is over (`now < until`): `None`.
    /// Once it is over (`now >= until`), the first call gets the **probe** permit and the
    /// breaker is half-open; every later call gets `None` until the probe's verdict is
    /// recorded. Looking for the probe and taking it are one atomic step: of several threads
    /// asking at once, exactly one gets it.
    pub fn try_acquire(&self, now: u64) -> Option<Permit> {
        let _ = now;
        todo!("closed: a permit; open: none, or the probe once the cooldown is over")
    }

    /// Records that the job admitted with `permit` succeeded.
    ///
    /// While the breaker is closed, the count of consecutive failures goes back to 0. The
    /// probe's success closes the breaker, with no failures counted. A permit taken while the
    /// breaker was closed and recorded while it is open or half-open changes nothing.
    pub fn record_success(&self, permit: Permit) {
        let _ = permit;
        todo!("reset the count, or close the breaker after a successful probe")
    }

    /// Records that the job admitted with `permit` failed, at time `now`.
    ///
    /// While the breaker is closed, it counts one more consecutive failure, and the
    /// `threshold`-th opens the breaker until `now + cooldown`. The probe's failure opens the
    /// breaker again until `now + cooldown`. A permit taken while the breaker was closed and
    /// recorded while it is open or half-open changes nothing.
    pub fn record_failure(&self, permit: Permit, now: u64) {
        let _ = (permit, now);
        todo!("count the failure, or reopen the breaker after a failed probe")
    }

    /// What the breaker would do at time `now`, without changing anything: `Closed` with the
    /// consecutive failures counted so far, `Open { until }` while `now < until`, and
    /// `HalfOpen` once the cooldown is over (`probing` says whether the probe is out).
    pub fn state(&self, now: u64) -> BreakerState {
        let _ = now;
        todo!("report the state as seen at `now`")
    }
}
// ANCHOR_END: breaker

// ANCHOR: api
/// A fixed number of worker threads running one fallible function over a shared queue of
/// jobs, under a [`Policy`].
///
/// Dropping the pool shuts it down exactly like [`ErrorPool::shutdown`].
pub struct ErrorPool<J> {
    // TODO: replace this placeholder with the fields your pool needs (think: the job queue,
    // the next id, how fail-fast's "stopped" reaches the workers and `submit`, the threads
    // to join).
    _todo: PhantomData<J>,
}

/// The stream of outcomes: an iterator that blocks until the next outcome is there and ends
/// (returns `None`) once the pool is closed and every outcome has been taken.
pub struct Outcomes<J, R, E> {
    // TODO: replace this placeholder (one stream for every kind of outcome).
    _todo: PhantomData<(J, R, E)>,
}

impl<J: Send + 'static> ErrorPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job under `policy`,
    /// reading time from `clock`, and returns the pool with its stream of outcomes.
    ///
    /// `process` gets the job by reference (it may be tried more than once) and the
    /// [`Attempt`]: the job's id and the attempt's number, 1 for the first. The stream is
    /// unbounded and ends once the pool is closed and every outcome has been taken. Dropping
    /// [`Outcomes`] is allowed: from then on outcomes are thrown away, and no worker panics or
    /// stops because of it.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`, otherwise [`PoolError::NoAttempts`] when
    /// `policy.max_attempts == 0`, otherwise [`PoolError::ZeroThreshold`] when the breaker's
    /// `threshold` is 0. No thread is started on error.
    pub fn new<R, E, F, C>(
        workers: usize,
        policy: Policy,
        clock: C,
        process: F,
    ) -> Result<(Self, Outcomes<J, R, E>), PoolError>
    where
        R: Send + 'static,
        E: Transient + Send + 'static,
        F: Fn(&J, Attempt) -> Result<R, E> + Send + Sync + 'static,
        C: Clock,
    {
        let _ = (workers, policy, clock, process);
        todo!("validate the policy, then start the workers")
    }

    /// Number of worker threads (the `workers` given to [`ErrorPool::new`]). It never
    /// changes: a worker survives every panic of its jobs.
    pub fn workers(&self) -> usize {
        todo!("how many workers does this pool have?")
    }

    /// Queues a job for the next free worker and returns its id: 0 for the first job, then
    /// 1, 2, … in the order the submissions happen. Never blocks (the queue is unbounded).
    /// A free worker takes the oldest queued job.
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) once the pool has been closed, or once fail-fast mode
    /// has stopped it.
    pub fn submit(&self, job: J) -> Result<JobId, J> {
        let _ = job;
        todo!("refuse the job if closed or stopped; otherwise give it its id and queue it")
    }

    /// `true` once fail-fast mode has stopped the pool, which happens before the first
    /// failure's outcome is on the stream. Always `false` without [`Policy::fail_fast`];
    /// closing the pool is not stopping it.
    pub fn is_stopped(&self) -> bool {
        todo!("has fail-fast stopped the pool?")
    }

    /// Stops accepting jobs (later submissions hand their job back). Does not wait: the
    /// workers run every job already queued and then exit, and the stream ends after the last
    /// outcome — while this pool value still exists.
    pub fn close(&mut self) {
        todo!("close the job queue")
    }

    /// Closes the pool (if [`close`](ErrorPool::close) has not already), lets the workers
    /// finish every queued job — or hand it back, once fail-fast has stopped the pool — and
    /// joins every worker thread before returning. Afterwards the stream yields the outcomes
    /// nobody has taken yet, then ends.
    pub fn shutdown(self) {
        todo!("close the queue, then join the workers")
    }
}
// ANCHOR_END: api

impl<J> Drop for ErrorPool<J> {
    /// Dropping the pool shuts it down exactly like [`ErrorPool::shutdown`].
    fn drop(&mut self) {
        // TODO: close the queue and join the workers (if `shutdown` has not already).
    }
}

impl<J, R, E> Iterator for Outcomes<J, R, E> {
    type Item = Outcome<J, R, E>;

    /// Blocks until the next outcome is on the stream and returns it; returns `None` once the
    /// pool is closed and every outcome has been taken. Outcomes come in the order they were
    /// put on the stream.
    fn next(&mut self) -> Option<Outcome<J, R, E>> {
        todo!("the next outcome, whatever its kind")
    }
}
