//! # Exercise 7 — a worker pool with timeouts
//!
//! A job that never returns should not hold its caller hostage. This pool gives **every job a
//! budget** and the whole run an **overall deadline**, and keeps one promise above all: the
//! caller hears about every job on time — its result if it finished before its deadline,
//! `TimedOut` if not — and never hears about a job twice.
//!
//! You build it twice:
//!
//! * [`TimeoutPool`], on threads. Time comes from an injected [`Clock`] (tests move a
//!   [`ManualClock`] by hand), never from the system. The pool reads the clock at exactly
//!   three moments: when a worker is about to start a job, when a job returns, and whenever
//!   someone calls [`expire`](TimeoutPool::expire). A thread cannot be stopped from outside,
//!   so cancellation is cooperative: each job gets a [`CancelToken`] it may check.
//! * [`AsyncPool`], on tokio: worker tasks, `tokio::time::timeout` per job, an overall
//!   deadline, and tokio-util's `CancellationToken`. Tests run it with tokio's clock paused,
//!   so a 3 s job "takes" 3 s of virtual time and no test waits in real time.
//!
//! What the checker expects (every point below is tested):
//!
//! ### The thread pool
//!
//! * **every accepted job ends in exactly one of two ways**: one outcome on the outcome
//!   stream (`Done(id, result)` or `TimedOut(id)`), or listed by
//!   [`finish`](TimeoutPool::finish) among the jobs that never ran. Nothing is lost, nothing
//!   is reported twice;
//! * **a job's deadline** is the clock reading when a worker starts it plus its budget, or the
//!   overall deadline if that comes first. The budget starts when a worker starts the job, not
//!   when it is submitted: time spent queued does not count;
//! * **a job is on time only if it returns while the clock reads before its deadline**:
//!   then its outcome is `Done(id, result)`. A job that returns when the clock reads its
//!   deadline or later is `TimedOut(id)` and its result is dropped;
//! * **at its deadline the caller gets `TimedOut` even if the job is still running**:
//!   [`expire`](TimeoutPool::expire) delivers it the moment it sees the deadline has passed.
//!   A late result is discarded: once `TimedOut(id)` is delivered, nothing else ever is for
//!   that id, even when the job returns later, even when it returns at the very moment
//!   `expire` runs;
//! * **cancellation is cooperative**: each job gets a [`CancelToken`] of its own, cancelled
//!   when that job times out, never before, and never because another job timed out;
//! * **a job that ignores its token costs a worker**: its worker stays busy until the job
//!   returns, and the pool does not start a replacement, so it never runs more than `workers`
//!   jobs at once (timed-out jobs that have not returned yet included). Around such a job
//!   the pool keeps every other promise: `TimedOut` on time, the other workers run the queue,
//!   the late result is discarded, and finish waits for that job before it returns;
//! * **the overall deadline**: once the clock reads it, no new job starts (a worker reads the
//!   clock before starting *each* job, not once per batch), every running job has reached
//!   its deadline, and [`submit`](TimeoutPool::submit) hands jobs back;
//! * **finish hands back every job that never ran**, with its id, in submission order, joins
//!   every worker thread, and drops the job function: nothing outlives the pool. The outcome
//!   stream ends once finish has returned and every outcome has been taken;
//! * the queue is unbounded and first in, first out: `submit` never blocks, and a free worker
//!   takes the oldest job; with enough jobs queued, `workers` of them run at once;
//! * a job that panics kills its worker (exercise 6 deals with panics): its outcome is
//!   `TimedOut`, and finish still joins the other workers and does not panic itself;
//! * `workers == 0` is an error ([`PoolError::NoWorkers`]), not a pool that hangs.
//!
//! ### The async pool
//!
//! * **a job that outlasts its budget is `TimedOut` at exactly its deadline** (start +
//!   budget, or the overall deadline if that comes first) in tokio's time: a 3 s job with a
//!   2 s budget times out 2 s after it started. Its future is dropped there, so no late
//!   result can follow, and its `CancellationToken` is cancelled (for work it handed to other
//!   tasks);
//! * a job that finishes before its deadline is `Done(id, result)`, delivered the moment it
//!   finishes, and its token is not cancelled while it runs;
//! * the budget starts when a worker task starts the job, not when it is submitted;
//! * `workers` worker tasks: never more than `workers` jobs at once, and with enough jobs
//!   queued exactly that many, taken oldest first;
//! * **the overall deadline fires even while jobs keep coming**: at the deadline every
//!   worker task stops, so the outcome stream ends at that very instant once the pool has
//!   no job left to report; jobs submitted later are handed back, and jobs still queued
//!   are listed by [`finish`](AsyncPool::finish), never run;
//! * [`finish`](AsyncPool::finish) awaits every worker task and dropping the pool aborts
//!   them: no task outlives the pool, and the job function is dropped with them;
//! * `workers == 0` is an error ([`PoolError::NoWorkers`]).
//!
//! Import every sync primitive of the thread pool from `workbook_sync` (never `std::sync`,
//! `std::thread` or `crossbeam_channel` directly): the checker swaps them for loom's to prove
//! that a job never gets two outcomes, that no job starts after the deadline, and that
//! nothing outlives the pool. The async pool uses tokio's own primitives (`tokio::sync`,
//! `tokio::task::JoinSet`), and `workbook_sync::Arc` where it shares something.
//!
//! Read the book's chapter 7 first. Stuck? `cargo checker hint timeout`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

#[allow(unused_imports)]
use workbook_sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};
#[allow(unused_imports)]
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard};

#[allow(unused_imports)]
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
#[allow(unused_imports)]
use tokio::task::JoinSet;
#[allow(unused_imports)]
use tokio::time::Instant;
#[allow(unused_imports)]
use tokio_util::sync::CancellationToken;

// ANCHOR: outcome
/// A job's number, given by `submit`. On one thread, submissions are numbered 0, 1, 2, …;
/// concurrent submissions get distinct numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

/// What became of a job that ran (or started to run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<R> {
    /// The job returned `R` before its deadline.
    Done(JobId, R),
    /// The job did not return before its deadline. Whatever it returns later is dropped.
    TimedOut(JobId),
}

impl<R> Outcome<R> {
    /// The job this outcome is about.
    pub fn id(&self) -> JobId {
        match self {
            Outcome::Done(id, _) | Outcome::TimedOut(id) => *id,
        }
    }
}
// ANCHOR_END: outcome

/// Why a pool could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// A pool with no workers would accept jobs and never run them.
    NoWorkers,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::NoWorkers => f.write_str("a worker pool needs at least one worker"),
        }
    }
}

impl std::error::Error for PoolError {}

// ANCHOR: clock
/// The thread pool's sense of time, in ticks (what a tick is — a millisecond, a second — is
/// up to the clock). Injected, so tests move time by hand and nothing in the pool sleeps.
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
// ANCHOR_END: clock

// ANCHOR: token
/// A job's cancellation token: the pool cancels it when the job times out, and the job may
/// look at it whenever it likes. Clones share one flag. (Given: nothing to do here.)
///
/// Cancellation is *cooperative*: cancelling never stops a thread. A job that never looks at
/// its token runs to its end, and its worker is busy until then.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the token (again: no effect) and wakes every [`wait`](CancelToken::wait)er.
    pub fn cancel(&self) {
        let (cancelled, cv) = &*self.inner;
        *cancelled.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    /// `true` once the token has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until the token is cancelled: for a job with nothing to do but wait.
    pub fn wait(&self) {
        let (cancelled, cv) = &*self.inner;
        let mut guard = cancelled.lock().unwrap_or_else(|e| e.into_inner());
        while !*guard {
            guard = cv.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
// ANCHOR_END: token

// ANCHOR: config
/// How a [`TimeoutPool`] runs: `Config { workers: 2, deadline: Some(100) }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Worker threads. At least 1.
    pub workers: usize,
    /// The overall deadline, a reading of the pool's clock: once the clock reads it, no job
    /// starts any more. `None`: no overall deadline.
    pub deadline: Option<u64>,
}
// ANCHOR_END: config

// ANCHOR: pool
/// A fixed number of worker threads; every job has a budget, and the run an overall deadline.
///
/// `TimeoutPool` is `Send + Sync` (for `J: Send`, `R: Send`): several threads may `submit`
/// and `expire` through a reference at once. Dropping the pool is [`finish`] without the
/// report: the jobs that never ran are dropped.
///
/// [`finish`]: TimeoutPool::finish
pub struct TimeoutPool<J, R> {
    // TODO: replace this placeholder with the fields your pool needs. Think: which jobs are
    // queued, which are running (with their deadlines and tokens) — and who may decide a
    // running job's outcome, the worker when the job returns or `expire`? Only one of them.
    _todo: PhantomData<(J, R)>,
}

impl<J: Send + 'static, R: Send + 'static> TimeoutPool<J, R> {
    /// Starts `config.workers` threads that run `process(job, &token)` on each submitted job,
    /// reading time from `clock`.
    ///
    /// Returns the pool and the receiving end of its outcome stream: one [`Outcome`] per job
    /// that started, in the order they were decided, buffered without limit. The stream ends
    /// (the receiver reports disconnection) once the pool has finished (or been dropped) and
    /// every outcome has been taken.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `config.workers == 0` (and no thread is started).
    pub fn new<F, C>(
        config: Config,
        clock: C,
        process: F,
    ) -> Result<(Self, Receiver<Outcome<R>>), PoolError>
    where
        F: Fn(J, &CancelToken) -> R + Send + Sync + 'static,
        C: Clock,
    {
        let _ = (config, clock, process);
        todo!("start the workers; return the pool with its outcome stream")
    }

    /// Queues `job` with a budget of `budget` ticks and returns its id. Never blocks: the
    /// queue is unbounded.
    ///
    /// The budget starts when a worker starts the job: its deadline is the clock reading then
    /// plus `budget` (saturating), or the overall deadline if that is earlier. A budget of 0
    /// gives a job that can never be on time: it runs, and its outcome is `TimedOut`.
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) when the clock reads the overall deadline or later:
    /// it could never start.
    pub fn submit(&self, job: J, budget: u64) -> Result<JobId, J> {
        let _ = (job, budget);
        todo!("number the job and queue it, unless the overall deadline has passed")
    }

    /// Reads the clock and times out every running job whose deadline has passed (the clock
    /// reads its deadline or later): for each, it cancels the job's token and delivers
    /// `TimedOut(id)` at once, whether or not the job is still running. Returns how many jobs
    /// it timed out just now.
    ///
    /// Jobs that are queued are left alone (their budgets have not started), and a job timed
    /// out once is never timed out again. The caller runs `expire` whenever it likes: a test
    /// after moving its clock, a program from a ticker thread (`loop { sleep(tick);
    /// pool.expire(); }`).
    pub fn expire(&self) -> usize {
        todo!("time out the running jobs whose deadline has passed")
    }

    /// Ends the run and returns the jobs that never ran, with their ids, in submission order.
    ///
    /// In this order: times out what is overdue (like [`expire`](TimeoutPool::expire)); stops
    /// accepting jobs; lets the workers run the queued jobs until the queue is empty or the
    /// overall deadline has passed (each job still under its own budget); joins every worker
    /// thread — a running job that ignores its token is waited for; then returns every job
    /// still queued.
    ///
    /// Once `finish` returns no thread of the pool is alive, the job function has been
    /// dropped, and the outcome stream ends after its last outcome. A worker whose job panicked
    /// has already stopped: `finish` still joins the others and does not panic itself.
    pub fn finish(self) -> Vec<(JobId, J)> {
        todo!("expire, close, let the workers finish, join them, hand back what never ran")
    }
}

impl<J, R> Drop for TimeoutPool<J, R> {
    /// Dropping the pool finishes it like [`TimeoutPool::finish`] — every worker is joined —
    /// and drops the jobs that never ran. `finish` may simply share its code with this.
    fn drop(&mut self) {
        // TODO: finish the pool (if `finish` has not already).
    }
}
// ANCHOR_END: pool

// ANCHOR: async_config
/// How an [`AsyncPool`] runs: `AsyncConfig { workers: 2, deadline: Some(Duration::from_secs(10)) }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncConfig {
    /// Worker tasks. At least 1.
    pub workers: usize,
    /// The overall deadline, measured in tokio's time from the moment [`AsyncPool::new`] is
    /// called. `None`: no overall deadline.
    pub deadline: Option<Duration>,
}
// ANCHOR_END: async_config

// ANCHOR: async_pool
/// A fixed number of tokio worker tasks over a job channel; `tokio::time::timeout` per job.
///
/// Built inside a tokio runtime (it spawns its tasks there). Dropping the pool aborts every
/// worker task at once (a running job is dropped; every job token is cancelled).
pub struct AsyncPool<J, R> {
    // TODO: replace this placeholder with the fields your pool needs (think: the job
    // channel's sender, a `JoinSet` of worker tasks, a parent `CancellationToken`, the
    // deadline — and where the jobs a stopped worker never took are found at finish).
    _todo: PhantomData<(J, R)>,
}

impl<J: Send + 'static, R: Send + 'static> AsyncPool<J, R> {
    /// Spawns `config.workers` worker tasks that run `process(job, token).await` on each
    /// submitted job, under `tokio::time::timeout`.
    ///
    /// Returns the pool and the receiving end of its outcome stream (unbounded). The stream
    /// ends once every worker task has stopped — at the overall deadline, or when the pool is
    /// finished or dropped — and every outcome has been taken.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `config.workers == 0` (and no task is spawned).
    ///
    /// # Panics
    /// Outside a tokio runtime with time enabled (like `tokio::spawn`).
    pub fn new<F, Fut>(
        config: AsyncConfig,
        process: F,
    ) -> Result<(Self, UnboundedReceiver<Outcome<R>>), PoolError>
    where
        F: Fn(J, CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        let _ = (config, process);
        todo!("spawn the worker tasks; return the pool with its outcome stream")
    }

    /// Queues `job` with a budget and returns its id (numbered like the thread pool's). Never
    /// blocks and never waits: the queue is unbounded.
    ///
    /// The budget starts when a worker task starts the job: the job is `TimedOut` at start +
    /// `budget`, or at the overall deadline if that comes first.
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) once the overall deadline has passed (tokio's clock
    /// reads it or later).
    pub fn submit(&self, job: J, budget: Duration) -> Result<JobId, J> {
        let _ = (job, budget);
        todo!("number the job and send it to the workers, unless the deadline has passed")
    }

    /// Ends the run and returns the jobs that never ran, with their ids, in submission order.
    ///
    /// Stops accepting jobs, lets the worker tasks run the queue until it is empty or the
    /// overall deadline has passed, **awaits every worker task**, then returns every job still
    /// queued. When it returns, no task of the pool is alive and the job function has been
    /// dropped.
    pub async fn finish(self) -> Vec<(JobId, J)> {
        todo!("close the channel, await every task, hand back what never ran")
    }
}

impl<J, R> Drop for AsyncPool<J, R> {
    /// Dropping the pool aborts every worker task (a `JoinSet` does this when dropped) and
    /// cancels every job's token. The aborted tasks are gone once the runtime next runs.
    fn drop(&mut self) {
        // TODO: cancel the parent token; the JoinSet's own drop aborts the tasks.
    }
}
// ANCHOR_END: async_pool
