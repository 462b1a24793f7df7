//! Exercise 3 — a dynamic worker pool (reference solution).
//!
//! The number of workers moves between `min` and `max`. A `submit` that leaves more than
//! `grow_above` jobs waiting starts one more worker (or the first one, when there is none);
//! [`DynamicPool::retire_idle`] retires workers that have been idle for `idle_after` ticks of
//! an injected [`Clock`], never going below `min`.
//!
//! Everything that decides the crew's size lives in **one** `Mutex<State>`: the job queue,
//! the live workers with the time each went idle, and the join handles. Every scaling
//! decision reads the count and changes it in the same critical section, so two submitters
//! can never both see room for "one more" worker, and a retirement can never race with a
//! job being handed out. A `Condvar` wakes idle workers for new jobs, retirements and close.

use std::collections::VecDeque;
use std::fmt;

use workbook_sync::atomic::{AtomicU64, Ordering};
use workbook_sync::channel::{self, Receiver, Sender};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard};

// ANCHOR: config
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
// ANCHOR_END: config

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// clone and gives the other to the pool.
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

// ANCHOR: state
/// A live worker (started, not retired, not exited).
struct Member {
    id: u64,
    /// `Some(t)`: idle since clock time `t`. `None`: running a job right now.
    idle_since: Option<u64>,
}

/// Everything a scaling decision reads or changes, behind one lock.
struct State<J> {
    queue: VecDeque<J>,
    /// The live workers; `workers()` is its length.
    crew: Vec<Member>,
    /// Retired workers that have not noticed yet: each leaves at its next look at the queue.
    leaving: Vec<u64>,
    /// Every started thread not joined yet — retired ones included.
    threads: Vec<(u64, JoinHandle<()>)>,
    next_id: u64,
    closed: bool,
}
// ANCHOR_END: state

struct Shared<J> {
    state: Mutex<State<J>>,
    /// Signalled when a job is queued, a worker is retired, or the pool closes.
    wake: Condvar,
    clock: Box<dyn Clock>,
}

impl<J> Shared<J> {
    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // No job ever runs under this lock, so a panicking job cannot poison it; recover
        // anyway rather than turning one panic into many.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ANCHOR: next_job
    /// Blocks until this worker has a job (`Some`) or must stop (`None`).
    fn next_job(&self, id: u64) -> Option<J> {
        let mut state = self.lock();
        loop {
            // Retirement is checked *before* taking a job: a retired worker must never take
            // a job it will not run.
            if let Some(at) = state.leaving.iter().position(|&l| l == id) {
                state.leaving.swap_remove(at);
                return None;
            }
            if let Some(job) = state.queue.pop_front() {
                if let Some(me) = state.crew.iter_mut().find(|m| m.id == id) {
                    me.idle_since = None; // busy: no longer a candidate for retirement
                }
                return Some(job);
            }
            if state.closed {
                // The pool is closed and the queue is empty: this worker is done. (It stops
                // counting in `Leave::drop`, as it would after a panic.)
                return None;
            }
            state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
    // ANCHOR_END: next_job

    /// Records that worker `id` has finished its job and is idle from now on.
    fn finished(&self, id: u64) {
        let mut state = self.lock();
        let now = self.clock.now();
        if let Some(me) = state.crew.iter_mut().find(|m| m.id == id) {
            me.idle_since = Some(now);
        }
    }
}

/// Takes a worker out of the crew when its loop ends — because the pool closed, or because
/// its job panicked (this runs while the panic unwinds). A retired worker has already been
/// taken out by `retire_idle`. It runs before the worker's results Sender is dropped, so by
/// the time the results stream ends no exited worker is counted.
struct Leave<'a, J> {
    shared: &'a Shared<J>,
    id: u64,
}

impl<J> Drop for Leave<'_, J> {
    fn drop(&mut self) {
        let id = self.id;
        self.shared.lock().crew.retain(|m| m.id != id);
    }
}

/// What each worker thread runs.
fn work<J, R>(shared: &Shared<J>, id: u64, process: &impl Fn(J) -> R, results: &Sender<R>) {
    let _leave = Leave { shared, id };
    while let Some(job) = shared.next_job(id) {
        let result = process(job);
        // Idle *before* the result goes out: whoever receives a result may rely on its
        // worker already counting as idle (that is what makes shrinking testable).
        shared.finished(id);
        // A consumer that stopped listening is not an error for the pool.
        let _ = results.send(result);
    }
}

/// Starts a worker thread for the given id (type-erased over the result and job function).
type Spawner<J> = Box<dyn Fn(Arc<Shared<J>>, u64) -> JoinHandle<()> + Send + Sync>;

/// A worker pool whose number of threads grows with the backlog and shrinks when idle.
///
/// Dropping the pool shuts it down exactly like [`DynamicPool::shutdown`].
pub struct DynamicPool<J> {
    shared: Arc<Shared<J>>,
    scaling: Scaling,
    /// `None` once closed. It holds the pool's own results Sender (new workers need one),
    /// so dropping it is part of ending the results stream.
    spawner: Option<Spawner<J>>,
}

impl<J: Send + 'static> DynamicPool<J> {
    /// Starts `scaling.min` workers that run `process` on each submitted job.
    ///
    /// Returns the pool and the receiving end of its results (any order, unbounded; the
    /// stream ends once the pool is closed, every worker has stopped and every result has
    /// been taken).
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] when `max == 0`; [`PoolError::MinAboveMax`] when `min > max`.
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
        let Scaling { min, max, .. } = scaling;
        if max == 0 {
            return Err(PoolError::NoWorkers);
        }
        if min > max {
            return Err(PoolError::MinAboveMax { min, max });
        }
        let (results, results_rx) = channel::unbounded::<R>();
        let process = Arc::new(process);
        let spawner: Spawner<J> = Box::new(move |shared, id| {
            let process = Arc::clone(&process);
            let results = results.clone();
            thread::spawn(move || work(&shared, id, &*process, &results))
        });
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                crew: Vec::new(),
                leaving: Vec::new(),
                threads: Vec::new(),
                next_id: 0,
                closed: false,
            }),
            wake: Condvar::new(),
            clock: Box::new(clock),
        });
        let pool = DynamicPool {
            shared,
            scaling,
            spawner: Some(spawner),
        };
        {
            let mut state = pool.shared.lock();
            for _ in 0..min {
                pool.start_worker(&mut state);
            }
        }
        Ok((pool, results_rx))
    }

    /// Starts one worker, counted in the same critical section that decided to start it.
    fn start_worker(&self, state: &mut State<J>) {
        let Some(spawn) = &self.spawner else { return };
        let id = state.next_id;
        state.next_id += 1;
        // A new worker is idle from the moment it is counted.
        let now = self.shared.clock.now();
        state.crew.push(Member {
            id,
            idle_since: Some(now),
        });
        state
            .threads
            .push((id, spawn(Arc::clone(&self.shared), id)));
    }

    /// The number of live workers: started, not retired and not exited. A worker that
    /// leaves at close, or whose job panicked, stops counting before its thread ends.
    pub fn workers(&self) -> usize {
        self.shared.lock().crew.len()
    }

    // ANCHOR: submit
    /// Queues a job; never blocks. Starts one more worker when the pool has none, or when
    /// more than `grow_above` jobs are now waiting and fewer than `max` workers exist.
    ///
    /// # Errors
    /// Hands the job back if the pool has been closed.
    pub fn submit(&self, job: J) -> Result<(), J> {
        if self.spawner.is_none() {
            return Err(job);
        }
        let mut state = self.shared.lock();
        state.queue.push_back(job);
        let crew = state.crew.len();
        // Check and act under the same guard: the count we compare with `max` is the count
        // we change. Releasing the lock between the two lets a second submitter read the
        // same count and start a worker too.
        if crew < self.scaling.max && (crew == 0 || state.queue.len() > self.scaling.grow_above) {
            self.start_worker(&mut state);
        }
        drop(state);
        self.shared.wake.notify_one();
        Ok(())
    }
    // ANCHOR_END: submit

    // ANCHOR: retire
    /// Retires the workers that have been idle for at least `idle_after` ticks (longest idle
    /// first), keeping at least `min`. Retires nothing once the pool is closed. Returns how many it retired; [`workers`] drops by that
    /// much at once, and their threads have ended when this returns.
    ///
    /// While a job is waiting in the queue no worker counts as idle, so nothing is retired.
    ///
    /// [`workers`]: DynamicPool::workers
    pub fn retire_idle(&self) -> usize {
        let retired: Vec<JoinHandle<()>> = {
            let mut state = self.shared.lock();
            if state.closed || !state.queue.is_empty() {
                return 0;
            }
            let now = self.shared.clock.now();
            let spare = state.crew.len().saturating_sub(self.scaling.min);
            let mut idle: Vec<(u64, u64)> = state
                .crew
                .iter()
                .filter_map(|m| Some((m.idle_since?, m.id)))
                .filter(|&(since, _)| now.saturating_sub(since) >= self.scaling.idle_after)
                .collect();
            idle.sort_unstable();
            idle.truncate(spare);
            if idle.is_empty() {
                return 0;
            }
            let ids: Vec<u64> = idle.into_iter().map(|(_, id)| id).collect();
            state.crew.retain(|m| !ids.contains(&m.id));
            state.leaving.extend_from_slice(&ids);
            let (gone, kept) = std::mem::take(&mut state.threads)
                .into_iter()
                .partition(|(id, _)| ids.contains(id));
            state.threads = kept;
            gone.into_iter().map(|(_, handle)| handle).collect()
        };
        // Every waiting worker wakes: the retired ones to leave, the others to look at the
        // queue again, in case a submit's `notify_one` just went to a retired worker.
        self.shared.wake.notify_all();
        let count = retired.len();
        for handle in retired {
            // The retired workers were idle, so they end at once: join them now rather than
            // letting handles pile up until shutdown.
            let _ = handle.join();
        }
        count
    }
    // ANCHOR_END: retire

    /// Stops accepting jobs. The workers finish every queued job and then exit; the results
    /// stream ends after the last result, even while this pool value still exists.
    pub fn close(&mut self) {
        // The spawner holds the pool's results Sender: dropping it leaves only the workers'.
        self.spawner = None;
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }

    /// Closes the pool, lets the workers finish every queued job, and joins every worker
    /// thread ever started before returning.
    pub fn shutdown(self) {
        // Drop does the work, so an explicit shutdown and a plain drop behave the same.
    }
}

// ANCHOR: drop
impl<J> Drop for DynamicPool<J> {
    fn drop(&mut self) {
        self.spawner = None;
        let threads = {
            let mut state = self.shared.lock();
            state.closed = true;
            std::mem::take(&mut state.threads)
        };
        self.shared.wake.notify_all();
        // Every thread not joined yet, retired or not: nothing outlives the pool.
        for (_, handle) in threads {
            // A worker whose job panicked has already stopped; shutdown still joins the rest.
            let _ = handle.join();
        }
    }
}
// ANCHOR_END: drop
