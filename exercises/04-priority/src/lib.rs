//! # Exercise 4 — a priority worker pool
//!
//! Build a pool of a fixed number of worker threads, like exercise 1's `WorkerPool`, but
//! every job is submitted with a [`Priority`], [`High`](Priority::High) or
//! [`Low`](Priority::Low), and a Low job can only be overtaken so many times.
//!
//! ## Which job a worker takes
//!
//! Each time a worker is free it takes **one** job, chosen by this rule, which looks at both
//! priorities at once. The pool keeps one counter for all its workers, `overtakes`: the
//! number of High jobs taken *in a row while at least one Low job was waiting*. It starts at 0.
//!
//! 1. If `overtakes == burst` (so a Low job is waiting): take the **oldest Low** job and set
//!    `overtakes` to 0.
//! 2. Otherwise, if a High job is waiting: take the **oldest High** job; if a Low job is
//!    waiting (still queued after this take), add 1 to `overtakes`.
//! 3. Otherwise, if a Low job is waiting: take the **oldest Low** job and set `overtakes`
//!    to 0.
//! 4. Otherwise (nothing queued): wait — blocked, not polling — until a job is submitted or
//!    the pool is closed; once it is closed and nothing is queued, the worker exits.
//!
//! So: High before Low; first in, first out within one priority (the order of `submit`
//! calls); and a waiting Low job is overtaken by at most `burst` High jobs in a row. A High
//! job taken while no Low job waits overtakes nobody and does not count. How High and Low
//! submissions interleave does not matter, only the order within each priority.
//!
//! Example, `burst = 2`, one worker, these jobs queued while it is busy (in any
//! interleaving): High `h1 h2 h3 h4 h5`, Low `l1 l2`. The worker takes them in the order
//! `h1 h2 l1 h3 h4 l2 h5`.
//!
//! ## Everything else
//!
//! What else the checker expects (every point below is tested):
//!
//! * every submitted job is processed **exactly once** — no job lost between the two
//!   queues, none run twice — and every result comes back;
//! * the workers run jobs **at the same time** (a worker never holds a lock while it runs a
//!   job);
//! * an idle worker **blocks** (a `Condvar` wait, or a blocking `recv`), it never spins: a
//!   loop of `try_recv`, `yield_now` or checking a flag is polling, and the model checker
//!   reports it as a LIVELOCK;
//! * [`submit`](PriorityPool::submit) never blocks and results are buffered without limit
//!   (nobody needs to read them before shutdown);
//! * the results stream **ends** once the pool is closed and every result has been taken,
//!   even while the closed pool is still alive — also after
//!   [`close`](PriorityPool::close) alone, with every worker idle;
//! * [`PriorityPool::shutdown`] and dropping the pool both finish **every queued job of both
//!   priorities** (in the order of the rule) and join every worker thread before returning;
//! * `workers == 0` and `burst == 0` are errors;
//! * a job that panics ends its worker: the panic is not caught (exercise 6 does that). The
//!   other workers go on by the same rule, shutdown still joins them and does not panic
//!   itself, and once every worker has stopped this way, `submit` hands every job back (what
//!   becomes of jobs still queued then is exercise 6's business).
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove your pool never
//! deadlocks, never loses a job and never spins.
//!
//! Read the book's chapter 4 first. Stuck? `cargo checker hint priority`.

#[allow(unused_imports)]
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};
#[allow(unused_imports)]
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

// ANCHOR: priority
/// How urgent a job is. Every waiting [`High`](Priority::High) job is taken before any
/// waiting [`Low`](Priority::Low) one, except when the anti-starvation rule (rule 1 in the
/// crate documentation) lets the oldest Low job through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    High,
    Low,
}
// ANCHOR_END: priority

/// Why a pool could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// A pool with no workers would accept jobs and never run them.
    NoWorkers,
    /// With a burst of 0 a waiting Low job would overtake every High job: priorities upside
    /// down.
    ZeroBurst,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::NoWorkers => f.write_str("a worker pool needs at least one worker"),
            PoolError::ZeroBurst => {
                f.write_str("the burst must be at least 1, or Low jobs would overtake High ones")
            }
        }
    }
}

impl std::error::Error for PoolError {}

/// A fixed number of worker threads running one function over two queues of jobs, High and
/// Low priority, with a bounded wait for Low jobs (see the crate documentation for the exact
/// rule).
///
/// Dropping the pool shuts it down exactly like [`PriorityPool::shutdown`].
pub struct PriorityPool<J> {
    // TODO: replace this placeholder with the fields your pool needs
    // (think: where do the two queues, the `overtakes` counter and the "closed" flag live,
    // so that a worker can look at all of them in one step?).
    _todo: PhantomData<J>,
}

// ANCHOR: api
impl<J: Send + 'static> PriorityPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job. `burst` is the
    /// anti-starvation limit: at most `burst` High jobs are taken in a row while a Low job
    /// waits (rule 1 in the crate documentation).
    ///
    /// Returns the pool and the receiving end of its results. Results arrive in completion
    /// order (with one worker, that is the order the jobs were taken), are buffered without
    /// limit, and the stream ends — the receiver reports disconnection — once the pool has
    /// been closed and every result has been taken. So nothing but the workers may keep a
    /// results `Sender` alive.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`; otherwise [`PoolError::ZeroBurst`] when
    /// `burst == 0`. No thread is started in either case.
    pub fn new<R, F>(
        workers: usize,
        burst: usize,
        process: F,
    ) -> Result<(Self, Receiver<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        let _ = (workers, burst, process);
        todo!("start the workers and return the pool with its results receiver")
    }

    /// Number of worker threads (the `workers` given to [`PriorityPool::new`]).
    pub fn workers(&self) -> usize {
        todo!("how many workers does this pool have?")
    }

    /// Queues `job` at the back of the `priority` queue for the next free worker, and wakes
    /// an idle worker if there is one. Never blocks: both queues are unbounded.
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) if the pool has been closed, or if no worker is left
    /// to run it (every worker's job has panicked), instead of dropping it.
    pub fn submit(&self, priority: Priority, job: J) -> Result<(), J> {
        let _ = (priority, job);
        todo!("queue the job by its priority and wake a worker")
    }

    /// Stops accepting jobs (later [`submit`](PriorityPool::submit) calls hand their job
    /// back). Does not wait: the workers finish every job already queued, of both
    /// priorities, and then exit, and the results stream ends after the last result — while
    /// this pool value still exists.
    pub fn close(&mut self) {
        todo!("close the queues and wake every idle worker")
    }

    /// Closes the pool (if [`close`](PriorityPool::close) has not already), lets the workers
    /// finish **every job already queued, High and Low**, and joins every worker thread
    /// before returning. Afterwards the results receiver yields the remaining results and
    /// then reports disconnection.
    ///
    /// A worker whose job panicked has already stopped; `shutdown` still joins the others
    /// and does not panic itself. (Exercise 6 keeps such workers alive.)
    pub fn shutdown(self) {
        todo!("close the queues, then join the workers")
    }
}
// ANCHOR_END: api

impl<J> Drop for PriorityPool<J> {
    /// Dropping the pool shuts it down exactly like [`PriorityPool::shutdown`]: every queued
    /// job is finished and every worker thread is joined. `shutdown` may simply rely on this.
    fn drop(&mut self) {
        // TODO: close the queues and join the workers (if `shutdown` has not already).
    }
}
