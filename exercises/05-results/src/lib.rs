//! # Exercise 5 — a worker pool with results
//!
//! Exercise 1's pool sent back bare results: you could not tell which job a result belonged
//! to, and they came in whatever order the jobs happened to finish. This pool tags every
//! result with its job's id, can deliver results in submission order, and copes with a
//! consumer that stops listening.
//!
//! What the checker expects (every point below is tested):
//!
//! * **ids**: [`ResultPool::submit`] returns the job's [`JobId`] — 0 for the first job, then
//!   1, 2, 3, … — and every result comes back once, as a [`JobResult`] carrying that id;
//! * **two orders**: with [`Order::Completion`] results arrive as jobs finish; with
//!   [`Order::Submission`] they arrive in id order (0, 1, 2, …) even when later jobs finish
//!   first, however many jobs go through the pool (far more than `window`);
//! * **a bounded reorder buffer**: in ordered mode at most `window` jobs are *in the pool* at
//!   once (queued, running, or finished but not yet taken from [`Results`]). `submit` waits
//!   while the window is full and [`ResultPool::try_submit`] returns
//!   [`TrySubmitError::Full`]; taking a result frees its job's slot before `next` returns.
//!   Results are never dropped or reordered to make room. Completion mode has no window:
//!   `submit` never waits and results are buffered without limit (nobody needs to read them
//!   before shutdown);
//! * **reordering never holds a worker back**: a worker that finishes a job ahead of its
//!   turn hands the result over and takes the next job at once (the waiting happens in
//!   [`Results`], on the consumer's side);
//! * **streaming**: a result is available from [`Results`] as soon as it can be delivered —
//!   the first result does not wait for the last job to finish;
//! * **the stream ends** (`next` returns `None`) exactly when the pool is closed and every
//!   result has been taken — not when the first worker stops, and not never — also after
//!   [`close`](ResultPool::close) alone, with every worker idle;
//! * **a consumer may leave early**: dropping [`Results`] tells the pool nobody is
//!   listening. Jobs still queued are then *discarded without running* (a job already
//!   running finishes and its result is dropped), `submit`/`try_submit` hand every job back
//!   (a `submit` waiting for a slot wakes up and hands its job back too), and no thread
//!   panics or blocks because of it. The workers stay until shutdown or drop joins them;
//! * [`fold`] runs a batch of jobs through a fresh pool and folds the results on the calling
//!   thread while they stream in; it never deadlocks, whatever the window;
//! * [`ResultPool::shutdown`] and dropping the pool finish (or, once the consumer is gone,
//!   discard) every queued job and **join every worker thread** before returning;
//! * `workers == 0` and `window == 0` are errors;
//! * a job that panics ends its worker and its result never comes: the panic is not caught
//!   (exercise 6 does that). The other workers go on, shutdown and drop still join them and
//!   do not panic, and once every worker has stopped this way, `submit` and `try_submit`
//!   hand every job back at once — `try_submit` as `Closed`, never `Full`, even while the
//!   jobs that panicked fill the window (what the stream and the jobs still queued do then is
//!   exercise 6's business).
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove your pool never
//! deadlocks, never loses a result and never leaks a thread.
//!
//! Read the book's chapter 5 first. Stuck? `cargo checker hint results`.

use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use std::collections::VecDeque;
#[allow(unused_imports)]
use workbook_sync::Arc;
#[allow(unused_imports)]
use workbook_sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};

/// Why a pool could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// A pool with no workers would accept jobs and never run them.
    NoWorkers,
    /// `Order::Submission { window: 0 }` would never let a job in.
    ZeroWindow,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::NoWorkers => f.write_str("a worker pool needs at least one worker"),
            PoolError::ZeroWindow => f.write_str("an ordered pool needs a window of at least 1"),
        }
    }
}

impl std::error::Error for PoolError {}

/// The id [`ResultPool::submit`] gives a job: 0 for the first job, then 1, 2, 3, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

/// One job's result, tagged with the id its `submit` returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobResult<R> {
    pub id: JobId,
    pub value: R,
}

/// In which order [`Results`] delivers the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// As jobs finish: fastest first. Unbounded, like exercise 1: `submit` never waits.
    Completion,
    /// In submission order (ids 0, 1, 2, …), whatever order the jobs finish in. At most
    /// `window` jobs are in the pool at once — queued, running, or finished and waiting to
    /// be taken — so the reorder buffer never holds more than `window - 1` results.
    Submission { window: usize },
}

/// Why [`ResultPool::try_submit`] handed a job back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrySubmitError<J> {
    /// Ordered mode: `window` jobs are already in the pool. Take a result, then retry.
    Full(J),
    /// The pool is closed, the consumer has dropped [`Results`], or no worker is left.
    Closed(J),
}

impl<J> TrySubmitError<J> {
    /// The job that was handed back.
    pub fn into_inner(self) -> J {
        match self {
            TrySubmitError::Full(job) | TrySubmitError::Closed(job) => job,
        }
    }
}

/// A fixed number of worker threads running one function over a shared queue of jobs, each
/// result tagged with its job's id.
///
/// Dropping the pool shuts it down exactly like [`ResultPool::shutdown`].
pub struct ResultPool<J> {
    // TODO: replace this placeholder with the fields your pool needs (think: the job queue,
    // the next id, the window's free slots, how to learn that the consumer left, the
    // threads to join).
    _todo: PhantomData<J>,
}

/// The results stream: an iterator that blocks until the next result is ready and ends
/// (returns `None`) once the pool is closed and every result has been taken.
///
/// Dropping it early tells the pool nobody is listening (see [`ResultPool`]).
pub struct Results<R> {
    // TODO: replace this placeholder (think: where results arrive, and in ordered mode,
    // where results that finished ahead of their turn wait, and which id is due next).
    _todo: PhantomData<R>,
}

impl<J: Send + 'static> ResultPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job, and returns the
    /// pool with its results stream.
    ///
    /// The stream delivers results in `order` (see [`Order`]) and ends once the pool has
    /// been closed ([`close`](ResultPool::close), [`shutdown`](ResultPool::shutdown) or drop)
    /// and every result has been taken. So nothing but the workers may keep it open: it ends
    /// when the *last* worker is done, not the first.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`, [`PoolError::ZeroWindow`] for
    /// `Order::Submission { window: 0 }` (and no thread is started).
    pub fn new<R, F>(
        workers: usize,
        order: Order,
        process: F,
    ) -> Result<(Self, Results<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        let _ = (workers, order, process);
        todo!("start the workers and return the pool with its results stream")
    }

    /// Number of worker threads (the `workers` given to [`ResultPool::new`]).
    pub fn workers(&self) -> usize {
        todo!("how many workers does this pool have?")
    }

    /// Queues a job for the next free worker and returns its id (0, 1, 2, … in the order
    /// the submissions happen). May be called from several threads at once.
    ///
    /// Completion mode: never waits. Ordered mode: while `window` jobs are in the pool
    /// (submitted, and their results not yet taken from [`Results`]), waits until the
    /// consumer takes a result. A caller that submits more than `window` jobs before taking
    /// any result therefore waits forever — read results on another thread, use
    /// [`try_submit`](ResultPool::try_submit), or use [`fold`].
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) if the pool has been closed, if the consumer has
    /// dropped [`Results`] (also when that happens while `submit` is waiting for a slot),
    /// or if no worker is left (every worker's job has panicked: then it hands the job back
    /// without waiting for a slot). A job is never silently dropped by `submit`.
    pub fn submit(&self, job: J) -> Result<JobId, J> {
        let _ = job;
        todo!("wait for a slot (ordered mode), give the job its id, queue it")
    }

    /// Like [`submit`](ResultPool::submit), but never waits.
    ///
    /// # Errors
    /// [`TrySubmitError::Full`] when, in ordered mode, `window` jobs are in the pool;
    /// [`TrySubmitError::Closed`] in every case where `submit` hands the job back — also
    /// when the window is full at the same time (`Full` promises that a retry can succeed).
    /// Either way the job comes back inside the error. A `Full` job uses up no id: the next
    /// successful submission gets the id it would have had.
    pub fn try_submit(&self, job: J) -> Result<JobId, TrySubmitError<J>> {
        let _ = job;
        todo!("like submit, but a full window hands the job back")
    }

    /// Stops accepting jobs (later submissions hand their job back). Does not wait: the
    /// workers finish every job already queued and then exit, and the results stream ends
    /// after the last result — while this pool value still exists.
    pub fn close(&mut self) {
        todo!("close the job queue")
    }

    /// Closes the pool (if [`close`](ResultPool::close) has not already), lets the workers
    /// finish every job already queued — or discard it, if the consumer has dropped
    /// [`Results`] — and joins every worker thread before returning. Afterwards the results
    /// stream yields the remaining results and then ends.
    pub fn shutdown(self) {
        todo!("close the queue, then join the workers")
    }
}

impl<J> Drop for ResultPool<J> {
    /// Dropping the pool shuts it down exactly like [`ResultPool::shutdown`].
    fn drop(&mut self) {
        // TODO: close the queue and join the workers (if `shutdown` has not already).
    }
}

impl<R> Iterator for Results<R> {
    type Item = JobResult<R>;

    /// Blocks until the next result can be delivered and returns it; returns `None` once
    /// the pool is closed and every result has been taken.
    ///
    /// Completion mode: the next result to arrive. Ordered mode: the result with the next
    /// id (0, then 1, …); results that arrive ahead of their turn wait in a buffer. Each
    /// result handed out in ordered mode frees one slot of the window before `next` returns.
    fn next(&mut self) -> Option<JobResult<R>> {
        todo!("hand out the next result (in ordered mode: the one whose turn it is)")
    }
}

impl<R> Drop for Results<R> {
    /// Tells the pool nobody is listening any more: queued jobs are discarded, submissions
    /// are handed back, and a `submit` waiting for a slot wakes up.
    fn drop(&mut self) {
        // TODO: let the pool know the consumer has gone.
    }
}

/// Runs `process` over every job of `jobs` on a fresh pool of `workers` threads that
/// delivers in `order`, and folds the results into `init` with `f` — on the calling thread,
/// as they stream in.
///
/// Exactly:
/// * the jobs are submitted in iteration order, so the n-th job (counting from 0) gets
///   `JobId(n)`;
/// * `f` is called exactly once per job, with that job's [`JobResult`], in the order the
///   results stream delivers them, as soon as the stream delivers each one — results are
///   never collected first, so the first call may come before the last job has finished;
/// * under [`Order::Completion`] there is no window: submitting never waits (`fold` may
///   submit every job before it folds the first result), and `f` sees the results in completion order — a slow job 0 is folded last;
/// * under [`Order::Submission`] `f` sees them in id order, and `fold` never deadlocks,
///   whatever the window: whenever the window is full it takes (and folds) the next result
///   before submitting more, so no more than `window` jobs are ever in the pool and the first
///   call may come before the last job has even been submitted;
/// * it returns the final accumulator once every result has been folded and every worker
///   has been joined. Zero jobs return `init` unchanged.
///
/// ```ignore
/// let total = fold(4, Order::Completion, 1..=100u64, |n| n * n, 0, |acc, r| acc + r.value)?;
/// ```
///
/// # Errors
/// The errors of [`ResultPool::new`], before any job runs.
pub fn fold<J, R, A, I, P, F>(
    workers: usize,
    order: Order,
    jobs: I,
    process: P,
    init: A,
    f: F,
) -> Result<A, PoolError>
where
    J: Send + 'static,
    R: Send + 'static,
    I: IntoIterator<Item = J>,
    P: Fn(J) -> R + Send + Sync + 'static,
    F: FnMut(A, JobResult<R>) -> A,
{
    let _ = (workers, order, jobs, process, init, f);
    todo!("submit and fold, interleaved, then close and fold the rest")
}
