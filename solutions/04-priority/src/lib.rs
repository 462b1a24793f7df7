//! Exercise 4 — a priority worker pool (reference solution).
//!
//! Two queues, one lock: the workers share a `Mutex` around a High queue, a Low queue, a
//! count of how many High jobs have overtaken a waiting Low job, and a `closed` flag. A
//! worker decides which job to take while it holds that lock, so the choice is never a race
//! between two channels (the seed's `select` picks at random when both are ready). An idle
//! worker waits on a `Condvar`; `submit` and `close` wake it. The job runs after the lock is
//! released, so the workers still run jobs at the same time.

use std::collections::VecDeque;
use std::fmt;

use workbook_sync::channel::{self, Receiver};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// How urgent a job is. Every waiting [`High`](Priority::High) job is taken before any
/// waiting [`Low`](Priority::Low) one, except when the anti-starvation rule (see
/// [`PriorityPool`]) lets the oldest Low job through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    High,
    Low,
}

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

// ANCHOR: state
/// Everything the workers share, behind one lock: the choice of the next job is made in one
/// critical section, so it is never a race between two queues.
struct Queues<J> {
    high: VecDeque<J>,
    low: VecDeque<J>,
    /// High jobs taken in a row while a Low job was waiting. It is only ever non-zero while
    /// `low` is non-empty: `low` empties only when a Low job is taken, which resets it.
    overtakes: usize,
    /// Set once by `close`; workers exit when it is set and both queues are empty.
    closed: bool,
    /// Worker threads still running their loop. A worker whose job panicked leaves it (see
    /// [`Alive`]); once none is left, `submit` hands jobs back instead of queueing them for
    /// nobody.
    alive: usize,
}

impl<J> Queues<J> {
    /// The next job by the pool's rule, or `None` when both queues are empty. Never blocks:
    /// a plain state machine, called with the lock held.
    fn take(&mut self, burst: usize) -> Option<J> {
        // Anti-starvation first: `burst` High jobs have overtaken the oldest Low job.
        if self.overtakes >= burst
            && let Some(job) = self.low.pop_front()
        {
            self.overtakes = 0;
            return Some(job);
        }
        if let Some(job) = self.high.pop_front() {
            // Only an overtake if a Low job is left waiting behind it.
            if !self.low.is_empty() {
                self.overtakes += 1;
            }
            return Some(job);
        }
        let job = self.low.pop_front()?;
        self.overtakes = 0;
        Some(job)
    }
}
// ANCHOR_END: state

/// Held by each worker thread for as long as it runs: dropping it (when the loop ends, or
/// while a panicking job unwinds the thread) counts the worker out.
struct Alive<'a, J>(&'a Shared<J>);

impl<J> Drop for Alive<'_, J> {
    fn drop(&mut self) {
        self.0.lock().alive -= 1;
    }
}

struct Shared<J> {
    queues: Mutex<Queues<J>>,
    /// Signalled when a job is queued (one worker) or the pool closes (every worker).
    ready: Condvar,
    burst: usize,
}

impl<J> Shared<J> {
    fn lock(&self) -> MutexGuard<'_, Queues<J>> {
        // Nothing panics while holding this lock (jobs run outside it), so a poisoned lock
        // still holds consistent queues.
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: next_job
    /// Blocks until there is a job to take (`Some`), or the pool is closed and both queues
    /// are empty (`None`: the worker exits).
    fn next_job(&self) -> Option<J> {
        let mut queues = self.lock();
        loop {
            if let Some(job) = queues.take(self.burst) {
                return Some(job);
            }
            if queues.closed {
                return None;
            }
            // Sleep until `submit` or `close` signals; `wait` releases the lock meanwhile.
            // Re-check in a loop: a wake-up may be spurious, or another worker took the job.
            queues = self
                .ready
                .wait(queues)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
    // ANCHOR_END: next_job

    /// Stops accepting jobs and wakes every idle worker so it sees `closed`.
    fn close(&self) {
        self.lock().closed = true;
        // `notify_one` would leave the other idle workers asleep forever.
        self.ready.notify_all();
    }
}

/// A fixed number of worker threads running one function over two queues of jobs, High and
/// Low priority, with a bounded wait for Low jobs.
///
/// A free worker takes the oldest Low job if `burst` High jobs in a row have been taken while
/// a Low job was waiting; otherwise the oldest High job; otherwise the oldest Low job; and
/// blocks when there is none.
///
/// Dropping the pool shuts it down exactly like [`PriorityPool::shutdown`].
pub struct PriorityPool<J> {
    shared: Arc<Shared<J>>,
    workers: Vec<JoinHandle<()>>,
}

impl<J: Send + 'static> PriorityPool<J> {
    /// Starts `workers` threads that run `process` on each submitted job; at most `burst`
    /// High jobs are taken in a row while a Low job waits.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `workers == 0`, [`PoolError::ZeroBurst`] when
    /// `burst == 0`.
    pub fn new<R, F>(
        workers: usize,
        burst: usize,
        process: F,
    ) -> Result<(Self, Receiver<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        if burst == 0 {
            return Err(PoolError::ZeroBurst);
        }
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues {
                high: VecDeque::new(),
                low: VecDeque::new(),
                overtakes: 0,
                closed: false,
                alive: workers,
            }),
            ready: Condvar::new(),
            burst,
        });
        let (result_tx, result_rx) = channel::unbounded::<R>();
        let process = Arc::new(process);
        let handles = (0..workers)
            .map(|_| {
                let shared = Arc::clone(&shared);
                let results = result_tx.clone();
                let process = Arc::clone(&process);
                thread::spawn(move || {
                    let _alive = Alive(&shared);
                    // The lock is taken and released inside `next_job`: the job runs unlocked.
                    while let Some(job) = shared.next_job() {
                        // A consumer that stopped listening is not an error for the pool.
                        let _ = results.send(process(job));
                    }
                })
            })
            .collect();
        // Only the workers may keep the results stream open; otherwise it never ends.
        drop(result_tx);
        Ok((
            PriorityPool {
                shared,
                workers: handles,
            },
            result_rx,
        ))
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    // ANCHOR: submit
    /// Queues a job at the back of its priority's queue; never blocks.
    ///
    /// # Errors
    /// Hands the job back if the pool is closed, or if no worker is left to run it.
    pub fn submit(&self, priority: Priority, job: J) -> Result<(), J> {
        let mut queues = self.shared.lock();
        if queues.closed || queues.alive == 0 {
            return Err(job);
        }
        match priority {
            Priority::High => queues.high.push_back(job),
            Priority::Low => queues.low.push_back(job),
        }
        drop(queues);
        // One new job needs one worker: wake one (if any is waiting).
        self.shared.ready.notify_one();
        Ok(())
    }
    // ANCHOR_END: submit

    /// Stops accepting jobs. The workers finish every queued job, of both priorities, and
    /// then exit; the results stream ends after the last result.
    pub fn close(&mut self) {
        self.shared.close();
    }

    /// Closes the pool, lets the workers finish every queued job, and joins every worker
    /// thread before returning.
    pub fn shutdown(self) {
        // Drop does the work, so an explicit shutdown and a plain drop behave the same.
    }
}

// ANCHOR: drop
impl<J> Drop for PriorityPool<J> {
    fn drop(&mut self) {
        // Close before joining: an idle worker only leaves its wait once `closed` is set.
        self.shared.close();
        for worker in self.workers.drain(..) {
            // A worker whose job panicked has already stopped; join the rest regardless.
            let _ = worker.join();
        }
    }
}
// ANCHOR_END: drop
