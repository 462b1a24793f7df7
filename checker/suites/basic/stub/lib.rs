//! # Exercise 1 — a basic worker pool
//!
//! Build a pool of a fixed number of worker threads that share **one** job queue.
//! Each worker repeatedly takes the next job from the queue, runs the pool's function on
//! it, and sends the result to **one** shared results channel.
//!
//! What the checker expects (every point below is tested):
//!
//! * every submitted job is processed **exactly once**, and every result comes back;
//! * the workers really run **at the same time**: with `n` workers, `n` jobs that wait for
//!   each other all make progress (one worker must never block the others while it runs a
//!   job);
//! * a pool of `n` workers uses `n` threads, whatever the number of jobs (no thread per job);
//! * the job queue and the results are buffered without limit: a caller may submit
//!   everything (100 000 jobs while every worker is busy, say), call
//!   [`WorkerPool::shutdown`], and only then read the results;
//! * a caller that drops the results receiver stops nothing: the workers run every job
//!   submitted and throw its result away, [`WorkerPool::submit`] keeps accepting jobs, and
//!   shutdown finishes and joins as usual;
//! * a job that panics ends its own worker thread and no other: the other workers keep
//!   running jobs, [`WorkerPool::submit`] hands the job back once no worker is left, and
//!   shutdown still joins the rest without panicking;
//! * the results stream **ends** exactly when all jobs are done: once the pool is closed
//!   ([`WorkerPool::close`], [`WorkerPool::shutdown`] or drop) and every result has been
//!   taken, the receiver reports disconnection, so `for r in results { .. }` finishes —
//!   even while the closed pool itself is still alive;
//! * [`WorkerPool::shutdown`] and dropping the pool both finish every job already queued and
//!   **join every worker thread** before returning;
//! * `workers == 0` is an error, not a pool that hangs; more workers than jobs is fine.
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove your pool never
//! deadlocks and never leaks a thread.
//!
//! Read the book's chapter 1 first. Stuck? `cargo checker hint basic`.

use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use workbook_sync::Arc;
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender};
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

/// A fixed number of worker threads running one function over a shared queue of jobs.
///
/// Dropping the pool shuts it down exactly like [`WorkerPool::shutdown`].
pub struct WorkerPool<J> {
    // TODO: replace this placeholder with the fields your pool needs
    // (think: what must the pool keep to close the queue, and to join its threads?).
    _todo: PhantomData<J>,
}

// ANCHOR: api
impl<J: Send + 'static> WorkerPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job.
    ///
    /// Returns the pool and the receiving end of its results. Results arrive in completion
    /// order (any order), are buffered without limit, and the stream ends — the receiver
    /// reports disconnection — once the pool has shut down and every result has been taken.
    /// That means nothing but the workers may keep a results `Sender` alive.
    ///
    /// Dropping the receiver is allowed: a worker whose result cannot be delivered throws it
    /// away and goes on to the next job (it neither stops nor panics).
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0` (and no thread is started).
    pub fn new<R, F>(workers: usize, process: F) -> Result<(Self, Receiver<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        let _ = (workers, process);
        todo!("start the workers and return the pool with its results receiver")
    }

    /// Number of worker threads (the `workers` given to [`WorkerPool::new`]), at every stage
    /// of the pool's life: also after [`close`](WorkerPool::close), and after a worker whose
    /// job panicked has stopped.
    pub fn workers(&self) -> usize {
        todo!("how many workers does this pool have?")
    }

    /// Queues a job for the next free worker. Never blocks: the queue is unbounded.
    ///
    /// # Errors
    /// Hands the job back (`Err(job)`) if the pool has been closed, or if no worker is left
    /// to run it (every worker thread has panicked). A job is never silently dropped.
    pub fn submit(&self, job: J) -> Result<(), J> {
        let _ = job;
        todo!("put the job on the shared queue")
    }

    /// Stops accepting jobs (later [`submit`](WorkerPool::submit) calls hand their job
    /// back). Does not wait: the workers finish every job already queued and then exit, and
    /// the results stream ends after the last result — while this pool value still exists.
    ///
    /// ```ignore
    /// pool.close();
    /// for result in results { /* ends once every queued job is done */ }
    /// pool.shutdown(); // joins the workers
    /// ```
    pub fn close(&mut self) {
        todo!("close the job queue")
    }

    /// Closes the pool (if [`close`](WorkerPool::close) has not already), lets the workers
    /// finish **every job already queued**, and joins every worker thread before returning.
    /// Afterwards the results receiver yields the remaining results and then reports
    /// disconnection.
    ///
    /// A worker whose job panicked has already stopped; `shutdown` still joins the others
    /// and does not panic itself. (Exercise 6 keeps such workers alive.)
    pub fn shutdown(self) {
        todo!("close the queue, then join the workers")
    }
}
// ANCHOR_END: api

impl<J> Drop for WorkerPool<J> {
    /// Dropping the pool shuts it down exactly like [`WorkerPool::shutdown`]: queued jobs
    /// are finished and every worker thread is joined. `shutdown` may simply rely on this.
    fn drop(&mut self) {
        // TODO: close the queue and join the workers (if `shutdown` has not already).
    }
}
