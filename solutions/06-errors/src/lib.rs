//! Exercise 6 — a worker pool with error handling (reference solution).
//!
//! Three ideas carry it:
//!
//! * **One unbounded stream of one enum.** Every kind of outcome — done, failed, panicked,
//!   rejected, not run — goes on the same `channel::unbounded`, so a worker never waits for a
//!   reader and no way of reading can deadlock the pool (the seed's two channels, drained one
//!   after the other after `wg.Wait()`, deadlock as soon as one fills up).
//! * **`catch_unwind` around each attempt, not around the worker's loop.** A panic becomes
//!   `Outcome::Panicked` and the worker takes its next job. No lock is held while a job runs,
//!   so a panic cannot poison one.
//! * **The breaker's decisions are made under one lock.** Looking for the probe and taking it
//!   is one critical section: the seed's `Allow()` checks the state and lets the caller
//!   through, and only a later `RecordFailure()` changes it, so two workers can both probe.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use workbook_sync::atomic::{AtomicBool, AtomicU64, Ordering};
use workbook_sync::channel::{self, Receiver, Sender};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Mutex, PoisonError};

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

/// What a job's error says about trying again.
pub trait Transient {
    /// `true` if the same job may well succeed when tried again.
    fn is_transient(&self) -> bool;
}

/// The message of [`Outcome::Panicked`] when the panic's payload is neither a `&str` nor a
/// `String`.
pub const NON_TEXT_PANIC: &str = "the job panicked with a payload that is not text";

// ANCHOR: outcome
/// Everything that can happen to a job. Each accepted job has exactly one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<J, R, E> {
    /// The job's attempt number `attempts` returned `Ok(value)`.
    Done { id: JobId, value: R, attempts: u32 },
    /// The job's last attempt returned `Err(error)`.
    Failed { id: JobId, error: E, attempts: u32 },
    /// The job's attempt number `attempts` panicked with `message`.
    Panicked {
        id: JobId,
        message: String,
        attempts: u32,
    },
    /// The circuit breaker refused the job: not run, handed back.
    Rejected { id: JobId, job: J },
    /// Fail-fast had stopped the pool before this queued job ran: handed back.
    NotRun { id: JobId, job: J },
}
// ANCHOR_END: outcome

impl<J, R, E> Outcome<J, R, E> {
    /// The id of the job this outcome belongs to.
    pub fn id(&self) -> JobId {
        match self {
            Outcome::Done { id, .. }
            | Outcome::Failed { id, .. }
            | Outcome::Panicked { id, .. }
            | Outcome::Rejected { id, .. }
            | Outcome::NotRun { id, .. } => *id,
        }
    }
}

/// How hard the pool tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts per job, the first one included: 1 never retries. At least 1.
    pub max_attempts: u32,
    /// Stop the pool at the first failed or panicked job.
    pub fail_fast: bool,
    /// Guard the jobs with a [`CircuitBreaker`] built from this configuration.
    pub breaker: Option<BreakerConfig>,
}

/// The two numbers of a [`CircuitBreaker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker. At least 1.
    pub threshold: u32,
    /// Clock ticks the breaker stays open before it lets a probe through.
    pub cooldown: u64,
}

impl Default for Policy {
    /// One attempt per job, no fail-fast, no circuit breaker.
    fn default() -> Self {
        Policy {
            max_attempts: 1,
            fail_fast: false,
            breaker: None,
        }
    }
}

/// The pool's sense of time, in ticks. Injected, so tests move time by hand.
pub trait Clock: Send + Sync + 'static {
    /// The current time. Should never go backwards.
    fn now(&self) -> u64;
}

impl<F: Fn() -> u64 + Send + Sync + 'static> Clock for F {
    fn now(&self) -> u64 {
        self()
    }
}

/// A clock that only moves when told to. Clones share the same time.
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

    /// Sets the time to `now`.
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

/// What a [`CircuitBreaker`] would do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Every job may run; `failures` consecutive failures so far.
    Closed { failures: u32 },
    /// Every job is refused until the clock reads `until`.
    Open { until: u64 },
    /// The cooldown has passed; `probing` says whether the probe is out.
    HalfOpen { probing: bool },
}

/// Leave to run one job, from [`CircuitBreaker::try_acquire`].
#[must_use = "record the job's verdict with this permit, or a probe stays out for ever"]
#[derive(Debug)]
pub struct Permit {
    /// Only the probe's verdict may end a half-open state.
    probe: bool,
}

impl Permit {
    /// `true` for the probe: the one permit a half-open breaker gives out.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

// ANCHOR: breaker
/// The breaker's state as stored. "Half-open, nobody probing yet" is not stored: it is an
/// `Open` whose `until` has passed, which the next `try_acquire` turns into `Probing`.
#[derive(Clone, Copy, Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: u64 },
    Probing,
}

/// A circuit breaker: closed, open for `cooldown` ticks after `threshold` consecutive
/// failures, then half-open with exactly one probe.
pub struct CircuitBreaker {
    config: BreakerConfig,
    /// Every decision reads and writes the state under this one lock, and no job ever runs
    /// under it — so it is never poisoned and never held for long.
    state: Mutex<State>,
}

impl CircuitBreaker {
    /// A closed breaker with no failures counted.
    ///
    /// # Errors
    /// [`PoolError::ZeroThreshold`] when `config.threshold == 0`.
    pub fn new(config: BreakerConfig) -> Result<Self, PoolError> {
        if config.threshold == 0 {
            return Err(PoolError::ZeroThreshold);
        }
        Ok(CircuitBreaker {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
        })
    }

    fn lock(&self) -> workbook_sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks to run one job at time `now`; `None` means the job must not run.
    pub fn try_acquire(&self, now: u64) -> Option<Permit> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Some(Permit { probe: false }),
            // The check and the change happen under the same lock: one probe, however many
            // workers ask at once. (The seed's Allow() answers yes and changes nothing.)
            State::Open { until } if now >= until => {
                *state = State::Probing;
                Some(Permit { probe: true })
            }
            State::Open { .. } | State::Probing => None,
        }
    }

    /// Records that the job admitted with `permit` succeeded.
    pub fn record_success(&self, permit: Permit) {
        let mut state = self.lock();
        match (*state, permit.probe) {
            // Any success resets the count; the probe's success closes the breaker.
            (State::Closed { .. }, _) | (State::Probing, true) => {
                *state = State::Closed { failures: 0 };
            }
            // A late verdict from before the breaker opened changes nothing.
            _ => {}
        }
    }

    /// Records that the job admitted with `permit` failed, at time `now`.
    pub fn record_failure(&self, permit: Permit, now: u64) {
        let mut state = self.lock();
        let open = State::Open {
            until: now.saturating_add(self.config.cooldown),
        };
        match (*state, permit.probe) {
            (State::Closed { failures }, _) => {
                let failures = failures + 1;
                *state = if failures >= self.config.threshold {
                    open
                } else {
                    State::Closed { failures }
                };
            }
            (State::Probing, true) => *state = open,
            _ => {}
        }
    }

    /// What the breaker would do at time `now`, without changing anything.
    pub fn state(&self, now: u64) -> BreakerState {
        match *self.lock() {
            State::Closed { failures } => BreakerState::Closed { failures },
            State::Open { until } if now < until => BreakerState::Open { until },
            State::Open { .. } => BreakerState::HalfOpen { probing: false },
            State::Probing => BreakerState::HalfOpen { probing: true },
        }
    }
}
// ANCHOR_END: breaker

/// A fixed number of worker threads running one fallible function over a shared queue of
/// jobs, under a [`Policy`]. Dropping the pool shuts it down like [`ErrorPool::shutdown`].
pub struct ErrorPool<J> {
    /// `None` once the pool is closed: dropping the only job Sender closes the queue.
    jobs: Option<Sender<(JobId, J)>>,
    next_id: AtomicU64,
    /// Fail-fast's "stopped", shared with the workers.
    stopped: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

/// The stream of outcomes: one unbounded channel for every kind.
pub struct Outcomes<J, R, E> {
    rx: Receiver<Outcome<J, R, E>>,
}

/// What every worker shares.
struct Worker<F, C> {
    process: F,
    clock: C,
    policy: Policy,
    breaker: Option<CircuitBreaker>,
    stopped: Arc<AtomicBool>,
}

// ANCHOR: run
impl<F, C: Clock> Worker<F, C> {
    /// Everything that happens to one job, as its one outcome.
    fn handle<J, R, E>(&self, id: JobId, job: J) -> Outcome<J, R, E>
    where
        F: Fn(&J, Attempt) -> Result<R, E>,
        E: Transient,
    {
        // A stopped pool runs nothing more, and asks the breaker nothing.
        if self.stopped.load(Ordering::SeqCst) {
            return Outcome::NotRun { id, job };
        }
        let permit = match &self.breaker {
            Some(breaker) => match breaker.try_acquire(self.clock.now()) {
                Some(permit) => Some(permit),
                None => return Outcome::Rejected { id, job },
            },
            None => None,
        };
        let outcome = self.attempts(id, &job);
        let failed = !matches!(outcome, Outcome::Done { .. });
        // The verdict is recorded, and fail-fast has stopped the pool, BEFORE the outcome is
        // on the stream: whoever reads it can rely on both.
        if let (Some(breaker), Some(permit)) = (&self.breaker, permit) {
            if failed {
                breaker.record_failure(permit, self.clock.now());
            } else {
                breaker.record_success(permit);
            }
        }
        if failed && self.policy.fail_fast {
            self.stopped.store(true, Ordering::SeqCst);
        }
        outcome
    }

    /// Runs `job` until it succeeds, fails for good, panics, or runs out of attempts.
    fn attempts<J, R, E>(&self, id: JobId, job: &J) -> Outcome<J, R, E>
    where
        F: Fn(&J, Attempt) -> Result<R, E>,
        E: Transient,
    {
        let mut number = 1;
        loop {
            // Around each attempt, not around the worker's loop: the worker survives.
            let attempt = Attempt { id, number };
            match panic::catch_unwind(AssertUnwindSafe(|| (self.process)(job, attempt))) {
                Ok(Ok(value)) => {
                    return Outcome::Done {
                        id,
                        value,
                        attempts: number,
                    };
                }
                Ok(Err(error)) if error.is_transient() && number < self.policy.max_attempts => {
                    number += 1;
                }
                Ok(Err(error)) => {
                    return Outcome::Failed {
                        id,
                        error,
                        attempts: number,
                    };
                }
                Err(payload) => {
                    return Outcome::Panicked {
                        id,
                        message: panic_message(payload.as_ref()),
                        attempts: number,
                    };
                }
            }
        }
    }
}

/// The text of a panic: what `panic!("…")` and `panic_any("…")` carry.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        NON_TEXT_PANIC.to_string()
    }
}
// ANCHOR_END: run

// ANCHOR: new
impl<J: Send + 'static> ErrorPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job under `policy`,
    /// reading time from `clock`, and returns the pool with its stream of outcomes.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`], [`PoolError::NoAttempts`], [`PoolError::ZeroThreshold`], in
    /// that order. No thread is started on error.
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
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        if policy.max_attempts == 0 {
            return Err(PoolError::NoAttempts);
        }
        let breaker = policy.breaker.map(CircuitBreaker::new).transpose()?;
        let stopped = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Worker {
            process,
            clock,
            policy,
            breaker,
            stopped: Arc::clone(&stopped),
        });
        let (job_tx, job_rx) = channel::unbounded::<(JobId, J)>();
        // Unbounded: a worker never waits for a reader, however (or whether) it reads.
        let (out_tx, out_rx) = channel::unbounded();
        let handles = (0..workers)
            .map(|_| {
                let jobs = job_rx.clone();
                let outcomes = out_tx.clone();
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    for (id, job) in jobs.iter() {
                        // The reader may have dropped the stream: that is allowed.
                        let _ = outcomes.send(shared.handle(id, job));
                    }
                })
            })
            .collect();
        Ok((
            ErrorPool {
                jobs: Some(job_tx),
                next_id: AtomicU64::new(0),
                stopped,
                workers: handles,
            },
            Outcomes { rx: out_rx },
        ))
    }
    // ANCHOR_END: new

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Queues a job and returns its id.
    ///
    /// # Errors
    /// Hands the job back once the pool is closed or stopped.
    pub fn submit(&self, job: J) -> Result<JobId, J> {
        let Some(jobs) = &self.jobs else {
            return Err(job);
        };
        if self.is_stopped() {
            return Err(job);
        }
        let id = JobId(self.next_id.fetch_add(1, Ordering::SeqCst));
        jobs.send((id, job)).map_err(|e| e.into_inner().1)?;
        Ok(id)
    }

    /// `true` once fail-fast mode has stopped the pool.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Stops accepting jobs. Does not wait.
    pub fn close(&mut self) {
        self.jobs = None;
    }

    /// Closes the pool, lets the workers finish (or hand back) every queued job, and joins
    /// them.
    pub fn shutdown(self) {
        // Drop does it all.
    }
}

impl<J> Drop for ErrorPool<J> {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            // Workers catch every panic of their jobs, so a join error cannot happen; and
            // drop must not panic anyway.
            let _ = worker.join();
        }
    }
}

impl<J, R, E> Iterator for Outcomes<J, R, E> {
    type Item = Outcome<J, R, E>;

    fn next(&mut self) -> Option<Outcome<J, R, E>> {
        self.rx.recv().ok()
    }
}
