//! Exercise 1 — a basic worker pool (reference solution).
//!
//! A fixed set of worker threads shares one job queue. Each worker takes the next job,
//! runs the pool's function on it and sends the result to one shared results channel.
//! Closing the queue is the shutdown signal: a worker's loop ends once the queue is closed
//! *and* empty, so every queued job still runs. The results stream ends when the last worker
//! has gone, because only workers hold its senders.

use std::fmt;

use workbook_sync::Arc;
use workbook_sync::channel::{self, Receiver, Sender};
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
    /// `None` once the pool is closed: dropping the only job Sender closes the queue.
    jobs: Option<Sender<J>>,
    workers: Vec<JoinHandle<()>>,
}

// ANCHOR: new
impl<J: Send + 'static> WorkerPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job.
    ///
    /// Returns the pool and the receiving end of its results. Results arrive in completion
    /// order, are buffered without limit, and the stream ends (the receiver reports
    /// disconnection) once the pool has shut down and every result has been taken. If the
    /// receiver is dropped, the workers still run every job and throw the results away.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`.
    pub fn new<R, F>(workers: usize, process: F) -> Result<(Self, Receiver<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let (job_tx, job_rx) = channel::unbounded::<J>();
        let (result_tx, result_rx) = channel::unbounded::<R>();
        let process = Arc::new(process);
        let handles = (0..workers)
            .map(|_| {
                let jobs = job_rx.clone();
                let results = result_tx.clone();
                let process = Arc::clone(&process);
                thread::spawn(move || {
                    // Each worker pulls from the shared queue; the loop ends when the queue
                    // is closed and drained.
                    for job in jobs.iter() {
                        // A consumer that stopped listening is not an error for the pool.
                        let _ = results.send(process(job));
                    }
                })
            })
            .collect();
        // Only the workers may keep the results stream open; otherwise it never ends.
        drop(result_tx);
        Ok((
            WorkerPool {
                jobs: Some(job_tx),
                workers: handles,
            },
            result_rx,
        ))
    }
    // ANCHOR_END: new

    /// Number of worker threads given to `new` (also after close, or after a worker stopped).
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Queues a job; never blocks.
    ///
    /// # Errors
    /// Hands the job back if the pool is closed, or if no worker is left to run it (every
    /// worker has panicked).
    pub fn submit(&self, job: J) -> Result<(), J> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|e| e.into_inner()),
            None => Err(job),
        }
    }

    /// Stops accepting jobs. The workers finish every queued job and then exit, so the
    /// results stream ends once the last result has been taken — while the pool still exists.
    pub fn close(&mut self) {
        // Dropping the only job Sender closes the queue.
        self.jobs = None;
    }

    /// Closes the pool (see [`WorkerPool::close`]), lets the workers finish every job already
    /// queued, and joins every worker thread before returning.
    pub fn shutdown(self) {
        // Drop does the work, so an explicit shutdown and a plain drop behave the same.
    }
}

// ANCHOR: drop
impl<J> Drop for WorkerPool<J> {
    fn drop(&mut self) {
        // Close the queue *before* joining: a worker only leaves its loop once the queue is
        // closed, so joining first would wait forever.
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            // A worker that panicked has already stopped; shutdown still joins the rest.
            let _ = worker.join();
        }
    }
}
// ANCHOR_END: drop
