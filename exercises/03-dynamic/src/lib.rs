//! # Exercise 3 — a dynamic worker pool
//!
//! Exercise 1's pool had a fixed number of workers. This one **scales**: the number of
//! worker threads moves between `min` and `max` (see [`Scaling`]).
//!
//! * It **grows** on [`DynamicPool::submit`]: when the pool has no worker at all, or when,
//!   with the new job queued, **more than `grow_above`** jobs are waiting for a worker (queued,
//!   not yet taken), and fewer than `max` workers exist, `submit` starts exactly one more.
//! * It **shrinks** on [`DynamicPool::retire_idle`], which the caller runs whenever it likes
//!   (a timer, every n-th submit, a test): workers that have been idle for at least
//!   `idle_after` ticks of the pool's [`Clock`] are retired, never going below `min`.
//!
//! Time comes from an injected [`Clock`], never from the system: nothing in the pool may
//! sleep, read `Instant`, or wait with a timeout. Tests move a [`ManualClock`] by hand.
//!
//! What the checker expects (every point below is tested):
//!
//! * every submitted job runs **exactly once** and its result comes back, however the pool
//!   grows and shrinks meanwhile: a retired worker never takes a job it will not run, and
//!   a busy worker is never retired (it finishes its job first);
//! * `workers() <= max` **always**, even while several threads submit at once: reading the
//!   count, starting a worker and counting it must be one atomic step;
//! * `workers() >= min` while the pool is open (after a successful `new`), unless a job
//!   panicked (see the last point). Once the pool is closed, each worker stops counting when
//!   it exits (the queue is empty): `workers()` is 0 by the time the results stream has ended;
//! * the "idle" bookkeeping is exact: a worker is idle from the moment its job returns (the
//!   clock is read then) until it takes its next job; a worker that has not taken any job yet
//!   is idle from the moment it is counted (when `new` or `submit` starts it, not when its
//!   thread first gets to run). **Record a worker as idle before you send its result**:
//!   whoever receives a result may rely on the worker that produced it already counting as
//!   idle (unless it has taken another job since);
//! * `retire_idle` retires the workers that have been idle the **longest** first; once the
//!   pool is closed it retires nothing (the workers leave by themselves);
//! * a retired worker's thread ends promptly (it does not linger until shutdown);
//! * shutdown (and drop) finishes every queued job and **joins every thread the pool ever
//!   started**, retired ones included — nothing outlives the pool;
//! * `submit` never blocks and results are buffered without limit (nobody needs to read
//!   them before shutdown), and the results stream ends (the receiver reports
//!   disconnection) once the pool is closed, every worker has stopped and every result has been
//!   taken — also after [`close`](DynamicPool::close) alone, with every worker idle;
//! * a job that panics ends its worker: the panic is not caught (exercise 6 does that). That
//!   worker no longer counts once its thread has ended: `workers()` is one lower, it no
//!   longer counts toward `max`, and the next `submit` grows the pool as if it had never
//!   existed (with no worker left, `submit` starts one, so that job still runs). The pool
//!   does not replace it by itself, so until then it may hold fewer than `min` workers (what
//!   becomes of jobs queued when the last worker died is exercise 6's business). Shutdown
//!   still joins every other thread and does not panic itself.
//!
//! `min == 0` is allowed: an idle pool may hold no thread at all, and the next `submit` starts
//! one, whatever `grow_above` says. `max == 0` and `min > max` are errors ([`PoolError`]).
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove that concurrent
//! submits never overshoot `max` and that retiring never loses a job or a thread.
//!
//! Read the book's chapter 3 first. Stuck? `cargo checker hint dynamic`.

use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use workbook_sync::atomic::{AtomicU64, Ordering};
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};
#[allow(unused_imports)]
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard};

/// How the pool scales. Built with a struct literal:
/// `Scaling { min: 1, max: 4, grow_above: 2, idle_after: 30 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scaling {
    /// Workers kept even when idle. May be 0: an idle pool then holds no thread at all, and
    /// the next `submit` starts one.
    pub min: usize,
    /// Never more workers than this at once. At least 1, and at least `min`.
    pub max: usize,
    /// A `submit` that leaves **more than** this many jobs waiting starts one more worker
    /// (if fewer than `max` exist).
    pub grow_above: usize,
    /// A worker idle for at least this many clock ticks may be retired by
    /// [`DynamicPool::retire_idle`].
    pub idle_after: u64,
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

/// Why a pool could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// `max == 0`: a pool that may never have a worker would accept jobs and never run them.
    NoWorkers,
    /// `min > max`: the pool could never satisfy both limits.
    MinAboveMax { min: usize, max: usize },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::NoWorkers => f.write_str("a worker pool needs max >= 1"),
            PoolError::MinAboveMax { min, max } => {
                write!(f, "min ({min}) is above max ({max})")
            }
        }
    }
}

impl std::error::Error for PoolError {}

/// A worker pool whose number of threads grows with the backlog and shrinks when idle.
///
/// `DynamicPool<J>` is `Send + Sync` (for `J: Send`): several threads may `submit` through an
/// `Arc` or a reference at once. Dropping the pool shuts it down exactly like
/// [`DynamicPool::shutdown`].
pub struct DynamicPool<J> {
    // TODO: replace this placeholder with the fields your pool needs. Think: which pieces of
    // state must a scaling decision read and change *together* (under one lock)? What must
    // the pool keep to start a worker later (it needs the job function and a results
    // Sender), and to join every thread it ever started?
    _todo: PhantomData<J>,
}

impl<J: Send + 'static> DynamicPool<J> {
    /// Validates `scaling`, then starts `scaling.min` workers that run `process` on each
    /// submitted job, reading time from `clock`.
    ///
    /// Returns the pool and the receiving end of its results. Results arrive in completion
    /// order (any order), are buffered without limit, and the stream ends — the receiver
    /// reports disconnection — once the pool is closed ([`close`](DynamicPool::close),
    /// [`shutdown`](DynamicPool::shutdown) or drop), every worker has stopped and every result
    /// has been taken. (The pool must keep a results `Sender` to hand to workers it starts
    /// later: closing the pool must drop it.)
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `max == 0`; otherwise [`PoolError::MinAboveMax`] when
    /// `min > max`. No thread is started on error.
    pub fn new<R, F, C>(
        scaling: Scaling,
        clock: C,
        process: F,
    ) -> Result<(Self, Receiver<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
        C: Clock,
    {
        let _ = (scaling, clock, process);
        todo!("validate the limits, then start `min` workers")
    }

    /// The number of live workers: started, not retired, and not exited. At most `max`;
    /// while the pool is open, at least `min` (unless a job panicked).
    ///
    /// A worker counts from the moment `submit` (or `new`) decides to start it, and stops
    /// counting the moment [`retire_idle`](DynamicPool::retire_idle) retires it, or when it
    /// exits: after [`close`](DynamicPool::close) once the queue is empty, or because its job
    /// panicked. It has stopped counting by the time its thread has ended, and after `close`
    /// by the time the results stream has ended.
    pub fn workers(&self) -> usize {
        todo!("how many live workers are there right now?")
    }

    /// Queues a job for the next free worker. Never blocks: the queue is unbounded.
    ///
    /// Then, **atomically with queuing it** (no other `submit` or `retire_idle` may slip in
    /// between the check and the start), starts one more worker if fewer than `max` exist and
    /// either no worker exists at all or more than `grow_above` jobs are waiting (the new one
    /// included; jobs already taken by a worker do not count).
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) if the pool has been closed. A job is never silently
    /// dropped.
    pub fn submit(&self, job: J) -> Result<(), J> {
        let _ = job;
        todo!("queue the job, then decide whether to grow — in one critical section")
    }

    /// Retires idle workers: those idle for at least `idle_after` ticks (`clock.now() -
    /// idle_since >= idle_after`), longest idle first (the earliest `idle_since`), as many as
    /// possible without going below `min`. Returns how many were retired; [`workers`](DynamicPool::workers) drops
    /// by exactly that much at once.
    ///
    /// * A worker running a job is never idle. While a job is waiting in the queue, no
    ///   worker counts as idle either (some worker is about to take it): nothing is retired.
    /// * A retired worker takes no further job; its thread ends promptly. It must be joined
    ///   by `retire_idle` itself or by shutdown at the latest.
    /// * Returns 0 (and retires nothing) once the pool is closed.
    pub fn retire_idle(&self) -> usize {
        todo!("retire the workers idle for long enough, keeping at least `min`")
    }

    /// Stops accepting jobs (later [`submit`](DynamicPool::submit) calls hand their job
    /// back). Does not wait: the workers finish every job already queued and then exit, and
    /// the results stream ends after the last result — while this pool value still exists.
    pub fn close(&mut self) {
        todo!("close the queue and let go of the pool's results Sender")
    }

    /// Closes the pool (if [`close`](DynamicPool::close) has not already), lets the workers
    /// finish **every job already queued**, and joins **every worker thread ever started**
    /// (retired ones not yet joined included) before returning.
    ///
    /// A job that panics ends its worker (exercise 6 deals with that); shutdown still joins
    /// the others and does not panic itself.
    pub fn shutdown(self) {
        todo!("close, then join every thread")
    }
}

impl<J> Drop for DynamicPool<J> {
    /// Dropping the pool shuts it down exactly like [`DynamicPool::shutdown`]: queued jobs
    /// are finished and every thread the pool started is joined. `shutdown` may simply rely
    /// on this.
    fn drop(&mut self) {
        // TODO: close the pool and join every thread (if `shutdown` has not already).
    }
}
