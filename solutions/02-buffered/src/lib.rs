//! Exercise 2 — a buffered worker pool (reference solution).
//!
//! Two bounded channels do all the work. The job queue is `bounded(buffers.jobs)`: a full
//! queue makes `submit` wait (backpressure) and `try_submit` hand the job back, and
//! `bounded(0)` is exactly the rendezvous the exercise asks for. The results buffer is
//! `bounded(buffers.results)`: a worker whose result does not fit waits, so memory stays
//! bounded end to end.
//!
//! The one trap is the seed's "Channel Deadlocks" pitfall: waiting for the workers while
//! nobody reads a full results buffer. The pool keeps a clone of the results `Receiver` and
//! shutdown reads from it *while* it waits, so a worker can always hand its result on.

use std::fmt;

use workbook_sync::Arc;
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
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

// ANCHOR: types
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
// ANCHOR_END: types

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
/// Dropping the pool shuts it down like [`BufferedPool::shutdown`] and discards the results
/// nobody took.
pub struct BufferedPool<J, R> {
    /// `None` once the pool is closed: dropping the only job Sender closes the queue.
    jobs: Option<Sender<J>>,
    /// The pool's own reader of the results buffer, so shutdown can empty it while it
    /// waits. A Receiver does not keep the stream open; only the workers' Senders do.
    results: Receiver<R>,
    workers: Vec<JoinHandle<()>>,
    buffers: Buffers,
}

// ANCHOR: new
impl<J: Send + 'static, R: Send + 'static> BufferedPool<J, R> {
    /// Starts `workers` threads that run `process` on each submitted job, with a job queue
    /// of `buffers.jobs` places and a results buffer of `buffers.results` places.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`.
    pub fn new<F>(
        workers: usize,
        buffers: Buffers,
        process: F,
    ) -> Result<(Self, Receiver<R>), PoolError>
    where
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        // Both buffers are bounded: a full queue holds back the producer, a full results
        // buffer holds back the workers. `bounded(0)` is a rendezvous.
        let (job_tx, job_rx) = channel::bounded::<J>(buffers.jobs);
        let (result_tx, result_rx) = channel::bounded::<R>(buffers.results);
        let process = Arc::new(process);
        let handles = (0..workers)
            .map(|_| {
                let jobs = job_rx.clone();
                let results = result_tx.clone();
                let process = Arc::clone(&process);
                thread::spawn(move || {
                    for job in jobs.iter() {
                        // Waits while the results buffer is full. Never for ever: someone
                        // reads, or shutdown does (see `finish`).
                        let _ = results.send(process(job));
                    }
                })
            })
            .collect();
        // Only the workers may keep the results stream open: when the last one is done,
        // every reader (the caller's and the pool's own) sees the end of the stream.
        drop(result_tx);
        Ok((
            BufferedPool {
                jobs: Some(job_tx),
                results: result_rx.clone(),
                workers: handles,
                buffers,
            },
            result_rx,
        ))
    }
    // ANCHOR_END: new

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// The buffer sizes given to [`BufferedPool::new`].
    pub fn buffers(&self) -> Buffers {
        self.buffers
    }

    // ANCHOR: submit
    /// Queues a job, waiting while the queue is full (for a zero-capacity queue: until a
    /// worker takes the job).
    ///
    /// # Errors
    /// Hands the job back if the pool is closed or no worker is left to run it.
    pub fn submit(&self, job: J) -> Result<(), J> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|e| e.into_inner()),
            None => Err(job),
        }
    }

    /// Queues a job only if that needs no waiting.
    ///
    /// # Errors
    /// [`TrySubmitError::Full`] with the job when the queue is full (zero capacity: no worker
    /// is waiting right now); [`TrySubmitError::Closed`] with the job when the pool is closed
    /// or no worker is left.
    pub fn try_submit(&self, job: J) -> Result<(), TrySubmitError<J>> {
        let Some(jobs) = &self.jobs else {
            return Err(TrySubmitError::Closed(job));
        };
        jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(job) => TrySubmitError::Full(job),
            TrySendError::Disconnected(job) => TrySubmitError::Closed(job),
        })
    }
    // ANCHOR_END: submit

    /// Stops accepting jobs. Does not wait: the workers finish every queued job, and the
    /// results stream ends after the last result has been read.
    pub fn close(&mut self) {
        self.jobs = None;
    }

    /// Closes the pool, lets the workers finish every queued job, joins them, and returns
    /// every result nobody had taken from the results receiver.
    pub fn shutdown(mut self) -> Vec<R> {
        self.finish()
    }
}

// ANCHOR: shutdown
impl<J, R> BufferedPool<J, R> {
    /// Closes the queue, waits for the workers while emptying the results buffer, joins
    /// them, and returns the results it took.
    fn finish(&mut self) -> Vec<R> {
        // Close first: a worker leaves its loop only once the queue is closed and empty.
        drop(self.jobs.take());
        // THE line of this exercise: read while waiting. Joining first would wait for a
        // worker blocked on a full results buffer that nobody reads — the seed's deadlock.
        // The loop ends when the last worker has dropped its Sender, i.e. has finished.
        let rest: Vec<R> = self.results.iter().collect();
        for worker in self.workers.drain(..) {
            // A worker whose job panicked has already stopped; still join the rest.
            let _ = worker.join();
        }
        rest
    }
}

impl<J, R> Drop for BufferedPool<J, R> {
    fn drop(&mut self) {
        // Same as shutdown (a no-op if shutdown already ran); the results have nowhere to go.
        self.finish();
    }
}
// ANCHOR_END: shutdown
