//! Exercise 7 — a worker pool with timeouts (reference solution).
//!
//! **Threads.** Everything the pool knows lives in one `Mutex<State>`: the queue (jobs with
//! their budgets), the jobs running now (each with its deadline and its token), and whether
//! the run is over. A job's outcome is *claimed* under that lock by exactly one party: the
//! worker when the job returns (`Done` if the clock still reads before the deadline,
//! `TimedOut` otherwise), or [`TimeoutPool::expire`] when it sees the deadline pass first
//! (then the worker finds the job gone and drops the late result). A worker reads the clock
//! before it starts *each* job, so nothing starts after the overall deadline.
//!
//! **Tokio.** Worker tasks in a `JoinSet` share one channel receiver; each waits for a job in
//! a `select!` against **one** `Sleep` for the overall deadline, created once, outside the
//! loop, and pinned — never re-armed. Each job runs under `tokio::time::timeout_at`; its
//! `CancellationToken` is a child of the pool's, cancelled on timeout and on drop.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use workbook_sync::atomic::{AtomicU64, Ordering};
use workbook_sync::channel::{self, Receiver, Sender};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio::time::Instant;
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

// ANCHOR: state
/// A job that a worker has started and whose outcome nobody has claimed yet.
struct Running {
    id: JobId,
    deadline: u64,
    token: CancelToken,
}

struct State<J> {
    /// Jobs not started yet, oldest first, with their budgets.
    queue: VecDeque<(JobId, J, u64)>,
    /// Started jobs whose outcome is still open. Whoever removes an entry decides it.
    running: Vec<Running>,
    next_id: u64,
    /// `finish` has begun: workers leave once the queue is empty.
    closed: bool,
}

struct Shared<J, R> {
    state: Mutex<State<J>>,
    /// Wakes idle workers: a job was queued, or the pool closed.
    wake: Condvar,
    clock: Box<dyn Clock>,
    deadline: Option<u64>,
    /// The only outcome Sender. It lives as long as `Shared`, i.e. until the pool and every
    /// worker are gone.
    outcomes: Sender<Outcome<R>>,
}
// ANCHOR_END: state

impl<J, R> Shared<J, R> {
    fn lock(&self) -> MutexGuard<'_, State<J>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn past_deadline(&self, now: u64) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    // ANCHOR: next_job
    /// Waits for the next job and registers it as running, or returns `None` when this
    /// worker is done: the queue is empty and the pool closed, or the overall deadline has
    /// passed. The clock is read before starting *each* job.
    fn next_job(&self) -> Option<(JobId, J, CancelToken)> {
        let mut state = self.lock();
        loop {
            if !state.queue.is_empty() {
                let now = self.clock.now();
                if self.past_deadline(now) {
                    return None; // no job starts after the deadline; finish lists the rest
                }
                let (id, job, budget) = state.queue.pop_front().expect("not empty");
                let mut deadline = now.saturating_add(budget);
                if let Some(overall) = self.deadline {
                    deadline = deadline.min(overall);
                }
                let token = CancelToken::new();
                state.running.push(Running {
                    id,
                    deadline,
                    token: token.clone(),
                });
                return Some((id, job, token));
            }
            if state.closed {
                return None;
            }
            state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
    // ANCHOR_END: next_job

    // ANCHOR: returned
    /// A job returned `result`: claim its outcome, unless `expire` already did.
    fn returned(&self, id: JobId, result: R) {
        let mut state = self.lock();
        let now = self.clock.now();
        let Some(at) = state.running.iter().position(|r| r.id == id) else {
            return; // already TimedOut: the late result is dropped
        };
        let job = state.running.swap_remove(at);
        let outcome = if now < job.deadline {
            Outcome::Done(id, result)
        } else {
            Outcome::TimedOut(id)
        };
        let _ = self.outcomes.send(outcome);
    }
    // ANCHOR_END: returned

    // ANCHOR: expire
    fn expire(&self) -> usize {
        let mut state = self.lock();
        let now = self.clock.now();
        let before = state.running.len();
        state.running.retain(|job| {
            if now < job.deadline {
                return true;
            }
            job.token.cancel();
            let _ = self.outcomes.send(Outcome::TimedOut(job.id));
            false
        });
        before - state.running.len()
    }
    // ANCHOR_END: expire
}

/// A fixed number of worker threads; every job has a budget, and the run an overall deadline.
///
/// `TimeoutPool` is `Send + Sync` (for `J: Send`, `R: Send`): several threads may `submit`
/// and `expire` through a reference at once. Dropping the pool is [`finish`] without the
/// report: the jobs that never ran are dropped.
///
/// [`finish`]: TimeoutPool::finish
pub struct TimeoutPool<J, R> {
    shared: Arc<Shared<J, R>>,
    workers: Vec<JoinHandle<()>>,
}

impl<J: Send + 'static, R: Send + 'static> TimeoutPool<J, R> {
    /// Starts `config.workers` threads that run `process(job, &token)` on each submitted job,
    /// reading time from `clock`. See the exercise's stub for the full contract.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `config.workers == 0`.
    pub fn new<F, C>(
        config: Config,
        clock: C,
        process: F,
    ) -> Result<(Self, Receiver<Outcome<R>>), PoolError>
    where
        F: Fn(J, &CancelToken) -> R + Send + Sync + 'static,
        C: Clock,
    {
        if config.workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let (tx, rx) = channel::unbounded();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                running: Vec::new(),
                next_id: 0,
                closed: false,
            }),
            wake: Condvar::new(),
            clock: Box::new(clock),
            deadline: config.deadline,
            outcomes: tx,
        });
        let process = Arc::new(process);
        let workers = (0..config.workers)
            .map(|_| {
                let shared = Arc::clone(&shared);
                let process = Arc::clone(&process);
                thread::spawn(move || {
                    while let Some((id, job, token)) = shared.next_job() {
                        let result = process(job, &token);
                        shared.returned(id, result);
                    }
                })
            })
            .collect();
        Ok((TimeoutPool { shared, workers }, rx))
    }

    // ANCHOR: submit
    /// Queues `job` with a budget of `budget` ticks and returns its id; never blocks.
    ///
    /// # Errors
    /// Hands the job back once the clock reads the overall deadline or later.
    pub fn submit(&self, job: J, budget: u64) -> Result<JobId, J> {
        let mut state = self.shared.lock();
        if state.closed || self.shared.past_deadline(self.shared.clock.now()) {
            return Err(job);
        }
        let id = JobId(state.next_id);
        state.next_id += 1;
        state.queue.push_back((id, job, budget));
        drop(state);
        self.shared.wake.notify_one();
        Ok(id)
    }
    // ANCHOR_END: submit

    /// Times out every running job whose deadline has passed: cancels its token and delivers
    /// `TimedOut(id)` now. Returns how many.
    pub fn expire(&self) -> usize {
        self.shared.expire()
    }

    /// Ends the run; returns the jobs that never ran, in submission order.
    pub fn finish(mut self) -> Vec<(JobId, J)> {
        self.end()
    }
}

impl<J, R> TimeoutPool<J, R> {
    // ANCHOR: finish
    fn end(&mut self) -> Vec<(JobId, J)> {
        self.shared.expire();
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
        for worker in self.workers.drain(..) {
            // A worker whose job panicked has stopped already; its join error is not ours.
            let _ = worker.join();
        }
        let mut state = self.shared.lock();
        // Nothing runs any more: a job still listed as running lost its worker to a panic.
        for job in state.running.drain(..) {
            job.token.cancel();
            let _ = self.shared.outcomes.send(Outcome::TimedOut(job.id));
        }
        state
            .queue
            .drain(..)
            .map(|(id, job, _)| (id, job))
            .collect()
    }
    // ANCHOR_END: finish
}

impl<J, R> Drop for TimeoutPool<J, R> {
    /// Dropping the pool finishes it like [`TimeoutPool::finish`] and drops the jobs that
    /// never ran.
    fn drop(&mut self) {
        self.end();
    }
}

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

struct Queued<J> {
    id: JobId,
    job: J,
    budget: Duration,
}

/// What the worker tasks share: the receiving end of the job channel, and the jobs a worker
/// received but could not start because the deadline had passed.
struct Jobs<J> {
    receiver: tokio::sync::Mutex<UnboundedReceiver<Queued<J>>>,
    unstarted: Mutex<Vec<(JobId, J)>>,
}

/// A fixed number of tokio worker tasks over a job channel; `tokio::time::timeout` per job.
///
/// Dropping the pool aborts every worker task (a `JoinSet` does this when dropped) and
/// cancels every job's token.
pub struct AsyncPool<J, R> {
    sender: Option<UnboundedSender<Queued<J>>>,
    jobs: Arc<Jobs<J>>,
    tasks: JoinSet<()>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
    next_id: AtomicU64,
    _outcomes: std::marker::PhantomData<fn() -> R>,
}

impl<J: Send + 'static, R: Send + 'static> AsyncPool<J, R> {
    /// Spawns `config.workers` worker tasks; returns the pool and its outcome stream.
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `config.workers == 0`.
    pub fn new<F, Fut>(
        config: AsyncConfig,
        process: F,
    ) -> Result<(Self, UnboundedReceiver<Outcome<R>>), PoolError>
    where
        F: Fn(J, CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        if config.workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let deadline = config.deadline.map(|d| Instant::now() + d);
        let (sender, receiver) = mpsc::unbounded_channel();
        let (outcomes, outcome_stream) = mpsc::unbounded_channel();
        let jobs = Arc::new(Jobs {
            receiver: tokio::sync::Mutex::new(receiver),
            unstarted: Mutex::new(Vec::new()),
        });
        let cancel = CancellationToken::new();
        let process = Arc::new(process);
        let mut tasks = JoinSet::new();
        for _ in 0..config.workers {
            tasks.spawn(work(
                Arc::clone(&jobs),
                Arc::clone(&process),
                outcomes.clone(),
                cancel.clone(),
                deadline,
            ));
        }
        let pool = AsyncPool {
            sender: Some(sender),
            jobs,
            tasks,
            cancel,
            deadline,
            next_id: AtomicU64::new(0),
            _outcomes: std::marker::PhantomData,
        };
        Ok((pool, outcome_stream))
    }

    /// Queues `job` with a budget; never blocks.
    ///
    /// # Errors
    /// Hands the job back once the overall deadline has passed.
    pub fn submit(&self, job: J, budget: Duration) -> Result<JobId, J> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(job);
        }
        let Some(sender) = &self.sender else {
            return Err(job);
        };
        let id = JobId(self.next_id.fetch_add(1, Ordering::Relaxed));
        sender
            .send(Queued { id, job, budget })
            .map_err(|refused| refused.0.job)?;
        Ok(id)
    }

    // ANCHOR: async_finish
    /// Ends the run: closes the queue, awaits every worker task, returns the jobs that never
    /// ran in submission order.
    pub async fn finish(mut self) -> Vec<(JobId, J)> {
        drop(self.sender.take()); // workers leave once the queue is empty
        while self.tasks.join_next().await.is_some() {}
        let mut never_ran = std::mem::take(
            &mut *self
                .jobs
                .unstarted
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        let mut receiver = self.jobs.receiver.lock().await;
        while let Ok(queued) = receiver.try_recv() {
            never_ran.push((queued.id, queued.job));
        }
        never_ran.sort_by_key(|(id, _)| *id);
        never_ran
    }
    // ANCHOR_END: async_finish
}

impl<J, R> Drop for AsyncPool<J, R> {
    /// Cancels every job's token; the `JoinSet`'s own drop aborts the worker tasks.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

// ANCHOR: async_worker
async fn work<J, R, F, Fut>(
    jobs: Arc<Jobs<J>>,
    process: Arc<F>,
    outcomes: UnboundedSender<Outcome<R>>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
) where
    F: Fn(J, CancellationToken) -> Fut,
    Fut: Future<Output = R>,
{
    // One timer for the whole run, created once and pinned: a `sleep` created inside the
    // loop would start again at every job, and never fire while jobs keep coming.
    let overall = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(overall);
    loop {
        let next = tokio::select! {
            biased;
            () = &mut overall => return,
            next = async { jobs.receiver.lock().await.recv().await } => next,
        };
        let Some(Queued { id, job, budget }) = next else {
            return; // the queue is closed and empty
        };
        let start = Instant::now();
        if deadline.is_some_and(|d| start >= d) {
            let mut unstarted = jobs.unstarted.lock().unwrap_or_else(|e| e.into_inner());
            unstarted.push((id, job));
            return;
        }
        // `start + budget` may not exist (a budget near `Duration::MAX`): then no timeout.
        let mut due = start.checked_add(budget);
        if let Some(deadline) = deadline {
            due = Some(due.map_or(deadline, |due| due.min(deadline)));
        }
        let token = cancel.child_token();
        let job = process(job, token.clone());
        let finished = match due {
            Some(due) => tokio::time::timeout_at(due, job).await.ok(),
            None => Some(job.await),
        };
        let outcome = match finished {
            Some(result) => Outcome::Done(id, result),
            None => {
                token.cancel(); // the future is dropped; work it handed off may listen
                Outcome::TimedOut(id)
            }
        };
        let _ = outcomes.send(outcome);
    }
}
// ANCHOR_END: async_worker
