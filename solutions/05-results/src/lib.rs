//! Exercise 5 — a worker pool with results (reference solution).
//!
//! Every job gets an id when it is submitted and its result comes back tagged with that id.
//! Workers send results to one channel as they finish, like exercise 1. The results stream
//! ([`Results`]) either hands them on at once (completion order) or puts them back in
//! submission order with a small reorder buffer on the consumer's side. The buffer stays
//! small because the pool never holds more than `window` jobs that the consumer has not
//! taken yet: `submit` waits for a free slot, and taking a result frees one.
//!
//! When the consumer drops [`Results`], the pool notices: queued jobs are discarded instead
//! of run, `submit` hands jobs back, and a worker whose result has nowhere to go just drops
//! it. Nothing panics and nothing waits for a reader that will never come.

use std::collections::VecDeque;
use std::fmt;

use workbook_sync::Arc;
use workbook_sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
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

// ANCHOR: types
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
// ANCHOR_END: types

/// A fixed number of worker threads running one function over a shared queue of jobs, each
/// result tagged with its job's id.
///
/// Dropping the pool shuts it down exactly like [`ResultPool::shutdown`].
pub struct ResultPool<J> {
    /// `None` once the pool is closed: dropping the only job Sender closes the queue.
    jobs: Option<Sender<(JobId, J)>>,
    /// Ordered mode only: a bounded channel used as a semaphore. Each job in the pool holds
    /// one `()` in it; [`Results`] takes one out whenever it hands a result over.
    slots: Option<Sender<()>>,
    next_id: AtomicU64,
    /// Set when the consumer drops [`Results`].
    consumer_gone: Arc<AtomicBool>,
    /// Worker threads still running; a worker whose job panicked counts itself out (see
    /// [`Alive`]). With none left, submissions are handed back at once — before waiting for
    /// a slot that a panicked job will never free.
    alive: Arc<AtomicUsize>,
    workers: Vec<JoinHandle<()>>,
}

/// Held by each worker thread for as long as it runs: dropping it (when the loop ends, or
/// while a panicking job unwinds the thread) counts the worker out.
struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The results stream: an iterator that blocks until the next result is ready and ends
/// (returns `None`) once the pool is closed and every result has been taken.
pub struct Results<R> {
    rx: Receiver<JobResult<R>>,
    /// `Some` in ordered mode.
    reorder: Option<Reorder<R>>,
    consumer_gone: Arc<AtomicBool>,
}

/// Results that finished ahead of their turn, in a ring: `pending[i]` is job `next + i`.
struct Reorder<R> {
    next: u64,
    pending: VecDeque<Option<R>>,
    /// The other end of the pool's `slots`.
    slots: Receiver<()>,
}

// ANCHOR: new
impl<J: Send + 'static> ResultPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`, [`PoolError::ZeroWindow`] for
    /// `Order::Submission { window: 0 }`.
    pub fn new<R, F>(
        workers: usize,
        order: Order,
        process: F,
    ) -> Result<(Self, Results<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let (slots, reorder) = match order {
            Order::Completion => (None, None),
            Order::Submission { window: 0 } => return Err(PoolError::ZeroWindow),
            Order::Submission { window } => {
                let (tx, rx) = channel::bounded(window);
                let reorder = Reorder {
                    next: 0,
                    pending: VecDeque::with_capacity(window),
                    slots: rx,
                };
                (Some(tx), Some(reorder))
            }
        };
        let (job_tx, job_rx) = channel::unbounded::<(JobId, J)>();
        let (result_tx, result_rx) = channel::unbounded::<JobResult<R>>();
        let consumer_gone = Arc::new(AtomicBool::new(false));
        let alive = Arc::new(AtomicUsize::new(workers));
        let process = Arc::new(process);
        let handles = (0..workers)
            .map(|_| {
                let jobs = job_rx.clone();
                let results = result_tx.clone();
                let process = Arc::clone(&process);
                let consumer_gone = Arc::clone(&consumer_gone);
                let alive = Alive(Arc::clone(&alive));
                thread::spawn(move || {
                    let _alive = alive;
                    for (id, job) in jobs.iter() {
                        if consumer_gone.load(Ordering::Acquire) {
                            // Nobody will read this result: discard the job unrun, and keep
                            // draining the queue so shutdown still ends.
                            continue;
                        }
                        let value = process(job);
                        // The consumer may have left while the job ran. That is not an
                        // error: a failed send just drops the result (never `unwrap` it).
                        let _ = results.send(JobResult { id, value });
                    }
                })
            })
            .collect();
        // The workers' Sender clones are the WaitGroup: the stream ends when the last
        // worker has gone. The original must not keep it open.
        drop(result_tx);
        let pool = ResultPool {
            jobs: Some(job_tx),
            slots,
            next_id: AtomicU64::new(0),
            consumer_gone: Arc::clone(&consumer_gone),
            alive,
            workers: handles,
        };
        let results = Results {
            rx: result_rx,
            reorder,
            consumer_gone,
        };
        Ok((pool, results))
    }
    // ANCHOR_END: new

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    // ANCHOR: submit
    /// Queues a job and returns its id. In ordered mode, waits while the window is full.
    ///
    /// # Errors
    /// Hands the job back if the pool is closed, the consumer has dropped [`Results`]
    /// (also while waiting for a slot), or no worker is left.
    pub fn submit(&self, job: J) -> Result<JobId, J> {
        let Some(jobs) = self.open() else {
            return Err(job);
        };
        if let Some(slots) = &self.slots {
            // Blocks while `window` jobs are in the pool; fails once `Results` is dropped.
            if slots.send(()).is_err() {
                return Err(job);
            }
        }
        self.enqueue(jobs, job)
    }

    /// Like [`submit`](ResultPool::submit), but never waits: a full window hands the job
    /// back as [`TrySubmitError::Full`].
    ///
    /// # Errors
    /// [`TrySubmitError::Full`] when the ordered window is full; [`TrySubmitError::Closed`]
    /// when `submit` would hand the job back.
    pub fn try_submit(&self, job: J) -> Result<JobId, TrySubmitError<J>> {
        let Some(jobs) = self.open() else {
            return Err(TrySubmitError::Closed(job));
        };
        if let Some(slots) = &self.slots {
            match slots.try_send(()) {
                Ok(()) => {}
                Err(TrySendError::Full(())) => return Err(TrySubmitError::Full(job)),
                Err(TrySendError::Disconnected(())) => return Err(TrySubmitError::Closed(job)),
            }
        }
        self.enqueue(jobs, job).map_err(TrySubmitError::Closed)
    }

    /// The job queue, unless the pool is closed, nobody reads the results any more, or no
    /// worker is left to run a job.
    fn open(&self) -> Option<&Sender<(JobId, J)>> {
        if self.consumer_gone.load(Ordering::Acquire) || self.alive.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.jobs.as_ref()
    }

    fn enqueue(&self, jobs: &Sender<(JobId, J)>, job: J) -> Result<JobId, J> {
        // The id is taken only once the slot is held. Taking it first would let a
        // submitter blocked on a full window hold the id the consumer waits for, while the
        // slots are all held by later ids that can never be delivered before it: deadlock.
        let id = JobId(self.next_id.fetch_add(1, Ordering::Relaxed));
        jobs.send((id, job))
            .map(|()| id)
            .map_err(|e| e.into_inner().1)
    }
    // ANCHOR_END: submit

    /// Stops accepting jobs. The workers finish every queued job and exit, and the results
    /// stream ends after the last result — while the pool itself still exists.
    pub fn close(&mut self) {
        self.jobs = None;
        self.slots = None;
    }

    /// Closes the pool, lets the workers finish every queued job (or discard it, if the
    /// consumer is gone), and joins every worker thread before returning.
    pub fn shutdown(self) {
        // Drop does the work, so an explicit shutdown and a plain drop behave the same.
    }
}

impl<J> Drop for ResultPool<J> {
    fn drop(&mut self) {
        // Close before joining: a worker leaves its loop only once the queue is closed.
        self.jobs = None;
        self.slots = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

// ANCHOR: next
impl<R> Iterator for Results<R> {
    type Item = JobResult<R>;

    /// Blocks until the next result is ready; `None` once the stream has ended.
    fn next(&mut self) -> Option<JobResult<R>> {
        let Some(order) = self.reorder.as_mut() else {
            // Completion order: hand each result on as soon as it arrives.
            return self.rx.recv().ok();
        };
        loop {
            // Is the result whose turn it is already here?
            if let Some(value) = order.pending.front_mut().and_then(Option::take) {
                order.pending.pop_front();
                let id = JobId(order.next);
                order.next += 1;
                // Free its slot: one more job may enter the pool.
                let _ = order.slots.try_recv();
                return Some(JobResult { id, value });
            }
            // No: wait for the next result to arrive, whichever it is, and park it.
            let done = self.rx.recv().ok()?;
            let offset = usize::try_from(done.id.0 - order.next).expect("within the window");
            if order.pending.len() <= offset {
                order.pending.resize_with(offset + 1, || None);
            }
            order.pending[offset] = Some(done.value);
        }
    }
}

impl<R> Drop for Results<R> {
    /// Tells the pool nobody is listening: queued jobs are discarded, `submit` fails, and a
    /// submitter waiting for a slot wakes up (the slots channel disconnects right after).
    fn drop(&mut self) {
        self.consumer_gone.store(true, Ordering::Release);
    }
}
// ANCHOR_END: next

// ANCHOR: fold
/// Runs `process` over every job of `jobs` on a fresh pool and folds the results into
/// `init` with `f`, on the calling thread, as they arrive.
///
/// # Errors
/// The errors of [`ResultPool::new`].
pub fn fold<J, R, A, I, P, F>(
    workers: usize,
    order: Order,
    jobs: I,
    process: P,
    init: A,
    mut f: F,
) -> Result<A, PoolError>
where
    J: Send + 'static,
    R: Send + 'static,
    I: IntoIterator<Item = J>,
    P: Fn(J) -> R + Send + Sync + 'static,
    F: FnMut(A, JobResult<R>) -> A,
{
    let (mut pool, mut results) = ResultPool::new(workers, order, process)?;
    let mut acc = init;
    for mut job in jobs {
        // One thread both submits and consumes, so it must never wait on a full window:
        // when there is no room, it makes room by folding the oldest result.
        loop {
            match pool.try_submit(job) {
                Ok(_) => break,
                Err(TrySubmitError::Full(back)) => {
                    job = back;
                    let done = results.next().expect("a full window has a result coming");
                    acc = f(acc, done);
                }
                // Only `fold` could close this pool, and it has not: every worker is gone.
                Err(TrySubmitError::Closed(_)) => panic!("every worker of the pool panicked"),
            }
        }
    }
    pool.close();
    let acc = results.fold(acc, f);
    pool.shutdown();
    Ok(acc)
}
// ANCHOR_END: fold
