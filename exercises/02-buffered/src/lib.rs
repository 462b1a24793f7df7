//! # Exercise 2 — a buffered worker pool
//!
//! Exercise 1's pool buffered without limit: a fast producer could queue a million jobs and
//! a slow reader could leave a million results in memory. This pool has **two bounded
//! buffers** whose sizes the caller chooses ([`Buffers`]): a job queue and a results buffer.
//! When a buffer is full, whoever wants to add to it waits — that is *backpressure*, and
//! it keeps memory bounded from end to end.
//!
//! What the checker expects (every point below is tested):
//!
//! * **the job queue holds exactly `buffers.jobs` jobs**, however many that is (100 000
//!   places hold 100 000 jobs, not "plenty" fewer). While every worker is busy,
//!   exactly that many [`try_submit`](BufferedPool::try_submit) calls succeed and the next
//!   one returns `Err(TrySubmitError::Full(job))` with the very job it was given;
//!   [`submit`](BufferedPool::submit) waits instead, and returns once a worker has taken a
//!   job and made room;
//! * **`buffers.jobs == 0` is a hand-off** (rendezvous): `submit` returns only once a worker
//!   has taken the job, and `try_submit` succeeds only if a worker is waiting for a job at
//!   that very moment (`Full(job)` otherwise, e.g. while every worker is busy);
//! * **the results buffer holds at most `buffers.results` results** nobody has read; a worker
//!   whose result does not fit waits until a result is taken out (`0`: until a reader takes
//!   this one). Results are never dropped;
//! * so, while nobody reads results, exactly `buffers.jobs + workers + buffers.results`
//!   submitted jobs fit in the pool (queued, one in each worker's hands, or finished with
//!   its result waiting to be read). Up to that many, `submit` may wait for a worker but
//!   **never for a reader**; the next one waits until someone reads a result;
//! * **nothing is ever silently dropped**: a job that is not queued is handed back to the
//!   caller (`Full(job)`, `Closed(job)`, `Err(job)`), every queued job runs exactly once,
//!   and every result is delivered exactly once — to a reader of the results receiver or
//!   in the `Vec` that [`shutdown`](BufferedPool::shutdown) returns;
//! * **no deadlock, by design**: nothing the pool does waits for *you* to read results.
//!   [`shutdown`](BufferedPool::shutdown) (and drop) keep taking results out of the buffer
//!   while they wait for the workers, so a full results buffer never stops a worker for
//!   ever — submit as much as the buffers hold, read nothing, shut down, get everything;
//! * [`shutdown`](BufferedPool::shutdown) and drop finish every queued job — a closed pool
//!   still runs what it accepted — and **join every worker thread** before returning;
//! * a job that panics ends its own worker thread and no other: the other workers keep
//!   running jobs; once no worker is left, `submit` hands the job back as `Err(job)` and
//!   `try_submit` as `Closed(job)` (never `Full`: waiting would not help); shutdown still
//!   joins the rest without panicking;
//! * `workers == 0` is an error ([`PoolError::NoWorkers`]), not a pool that hangs.
//!
//! `submit` and `try_submit` take `&self`, so producer threads may share one pool by
//! reference (for example with `std::thread::scope`): the pool must be `Sync`.
//!
//! Reading results at the same time as submitting (the usual shape: a producer thread and a
//! consumer thread) never deadlocks either. A *single* thread that submits more than
//! `buffers.jobs + workers + buffers.results` jobs without reading anything in between will,
//! by design, wait in `submit` for ever: that is backpressure reaching a producer who is also
//! the only consumer. Use `try_submit`, or read results on another thread.
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove your pool never
//! deadlocks, never loses a job and never leaks a thread.
//!
//! Read the book's chapter 2 first. Stuck? `cargo checker hint buffered`.

use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use workbook_sync::Arc;
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};

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

/// The two buffer sizes of a [`BufferedPool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffers {
    /// Jobs that may wait in the queue. `0` makes every submission a hand-off to a worker.
    pub jobs: usize,
    /// Results that may wait to be read. `0` makes every result a hand-off to a reader.
    pub results: usize,
}

/// Why [`BufferedPool::try_submit`] did not queue a job. Either way the job comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrySubmitError<J> {
    /// The queue is full (for a zero-capacity queue: no worker is waiting right now).
    Full(J),
    /// The pool is closed, or no worker is left to run the job.
    Closed(J),
}

impl<J> TrySubmitError<J> {
    /// The job that was not queued.
    pub fn into_inner(self) -> J {
        match self {
            TrySubmitError::Full(job) | TrySubmitError::Closed(job) => job,
        }
    }

    /// `true` for [`TrySubmitError::Full`]: trying again later may succeed.
    pub fn is_full(&self) -> bool {
        matches!(self, TrySubmitError::Full(_))
    }
}

impl<J> fmt::Display for TrySubmitError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySubmitError::Full(_) => f.write_str("the job queue is full"),
            TrySubmitError::Closed(_) => f.write_str("the pool is closed"),
        }
    }
}

impl<J: fmt::Debug> std::error::Error for TrySubmitError<J> {}

/// A fixed number of worker threads, a bounded job queue and a bounded results buffer.
///
/// Dropping the pool shuts it down like [`BufferedPool::shutdown`] — every queued job still
/// runs, every worker is joined — and discards the results nobody took.
pub struct BufferedPool<J, R> {
    // TODO: replace this placeholder with the fields your pool needs (think: what must the
    // pool keep to close the queue, to join its threads — and to empty the results buffer
    // while it waits for them?).
    _todo: PhantomData<(J, R)>,
}

impl<J: Send + 'static, R: Send + 'static> BufferedPool<J, R> {
    /// Starts `workers` threads that run `process` on each submitted job, with a job queue of
    /// `buffers.jobs` places and a results buffer of `buffers.results` places.
    ///
    /// Returns the pool and the receiving end of its results buffer. Results arrive in
    /// completion order (any order). The stream ends — the receiver reports disconnection —
    /// once the pool is closed, every queued job has run and every result has been taken; so
    /// nothing but the workers may keep a results `Sender` alive. Reading the receiver from
    /// another thread while you submit is the intended use; not reading it at all is fine
    /// too ([`shutdown`](BufferedPool::shutdown) hands you what is left).
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0` (and no thread is started).
    pub fn new<F>(
        workers: usize,
        buffers: Buffers,
        process: F,
    ) -> Result<(Self, Receiver<R>), PoolError>
    where
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        let _ = (workers, buffers, process);
        todo!("start the workers; return the pool with its results receiver")
    }

    /// Number of worker threads (the `workers` given to [`BufferedPool::new`]), at every
    /// stage of the pool's life: also after [`close`](BufferedPool::close), and after a
    /// worker whose job panicked has stopped.
    pub fn workers(&self) -> usize {
        todo!("how many workers does this pool have?")
    }

    /// The buffer sizes given to [`BufferedPool::new`], at every stage of the pool's life.
    pub fn buffers(&self) -> Buffers {
        todo!("which buffer sizes was this pool built with?")
    }

    /// Queues a job, **waiting while the queue is full** until a worker takes a job and makes
    /// room. With `buffers.jobs == 0` it returns only once a worker has taken this job.
    ///
    /// Jobs queue in order; a worker that is free takes the oldest.
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) if the pool has been closed, or if no worker is left
    /// to run it (every worker thread has panicked). A job is never silently dropped.
    pub fn submit(&self, job: J) -> Result<(), J> {
        let _ = job;
        todo!("put the job on the bounded queue, waiting for room")
    }

    /// Queues a job **only if that needs no waiting**; never blocks.
    ///
    /// # Errors
    /// * [`TrySubmitError::Full`]`(job)` when the queue already holds `buffers.jobs` jobs —
    ///   with `buffers.jobs == 0`, when no worker is waiting for a job right now;
    /// * [`TrySubmitError::Closed`]`(job)` when the pool has been closed or no worker is left.
    ///
    /// Either way the caller gets the very job back: it was not queued and will not run.
    pub fn try_submit(&self, job: J) -> Result<(), TrySubmitError<J>> {
        let _ = job;
        todo!("queue the job if there is room, hand it back otherwise")
    }

    /// Stops accepting jobs (later `submit` calls return `Err(job)`, `try_submit` calls
    /// `Err(Closed(job))`). Does not wait: the workers finish every job already queued and
    /// then exit, and the results stream ends after the last result has been read — while
    /// this pool value still exists.
    ///
    /// ```ignore
    /// pool.close();
    /// for result in &results { /* ends once every queued job's result has been read */ }
    /// pool.shutdown(); // joins the workers; returns an empty Vec, you read everything
    /// ```
    pub fn close(&mut self) {
        todo!("close the job queue")
    }

    /// Closes the pool (if [`close`](BufferedPool::close) has not already), lets the workers
    /// finish **every job already queued**, joins every worker thread, and returns **every
    /// result nobody had taken** from the results receiver (in completion order).
    ///
    /// It must never wait for you to read results: **while it waits for the workers, it
    /// keeps taking results out of the results buffer** (into the `Vec` it returns), so a
    /// worker blocked on a full buffer always gets through. Joining the workers while a full
    /// buffer nobody reads holds them is the seed tutorial's "Channel Deadlocks" pitfall.
    ///
    /// Another thread may keep reading the receiver meanwhile: each result goes to exactly
    /// one of you. When `shutdown` returns, the receiver is empty and reports disconnection.
    ///
    /// A worker whose job panicked has already stopped; `shutdown` still joins the others
    /// and does not panic itself.
    pub fn shutdown(self) -> Vec<R> {
        todo!("close the queue, empty the results buffer while the workers finish, join them")
    }
}

impl<J, R> Drop for BufferedPool<J, R> {
    /// Dropping the pool shuts it down like [`BufferedPool::shutdown`] — every queued job
    /// runs, the results buffer is emptied while the workers finish (so drop never
    /// deadlocks either), every worker is joined — and throws away the results it takes out
    /// (there is nobody to hand them to). The results stream has ended when drop returns.
    /// `shutdown` may simply share its code with this.
    fn drop(&mut self) {
        // TODO: close the queue, empty the results buffer until the workers are done, join
        // them (if `shutdown` has not already).
    }
}
