//! Exercise 8 — a worker pool with rate limiting (reference solution).
//!
//! * [`TokenBucket`] counts in **nano-tokens**: one token is 10⁹ of them, and one nanosecond at
//!   `rate` tokens per second earns exactly `rate` of them. Everything is integer arithmetic,
//!   so a fraction of a token is never rounded away and nothing drifts, however many periods
//!   pass. (A GCRA — governor's "theoretical arrival time" — is the same bucket written as a
//!   time instead of a count; it is exact too when its time is scaled the same way.)
//! * [`RateLimiter`] keeps the bucket behind a `Mutex` and holds it only to check and take. A
//!   thread that must wait sleeps on the injected [`Clock`] and re-checks when it wakes. It reads
//!   [`Clock::wakes`] *before* it checks, so a `wake` (rate change, shutdown) that comes between
//!   its check and its sleep is never lost.
//! * [`RateLimitedPool`]: a bounded channel for the queue (backpressure for free), workers that
//!   take a job, then a token, then run it. Shutdown sets a flag, closes the queue and wakes the
//!   clock; workers hand back the jobs they did not start.
//! * [`AsyncRateLimiter`]: the same bucket on tokio's clock; waiting tasks sleep on a timer or
//!   on a `Notify` that a rate change fires.

use std::fmt;
use std::pin::pin;
use std::time::Duration;

use workbook_sync::atomic::{AtomicBool, Ordering};
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard};

/// A rate limit: `rate` tokens per second, at most `burst` at once.
/// Built with a struct literal: `Limits { rate: 3, burst: 5 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Tokens earned per second. At least 1.
    pub rate: u32,
    /// The most tokens the bucket holds (and so the largest burst). At least 1.
    pub burst: u32,
}

/// Why a limit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitError {
    /// `rate == 0`: a bucket that never earns a token would make every waiter wait for ever.
    /// (Checked first: `Limits { rate: 0, burst: 0 }` is `ZeroRate`.)
    ZeroRate,
    /// `burst == 0`: a bucket that can hold no token could never grant one.
    ZeroBurst,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::ZeroRate => f.write_str("a rate limit needs rate >= 1 token per second"),
            LimitError::ZeroBurst => f.write_str("a rate limit needs burst >= 1"),
        }
    }
}

impl std::error::Error for LimitError {}

/// Nano-tokens in one token: a nanosecond at `rate` tokens per second earns `rate` of them.
const TOKEN: u128 = 1_000_000_000;

// ANCHOR: bucket
/// The token bucket's arithmetic, with time as a parameter: no threads, no clock, no locks.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    limits: Limits,
    /// What the bucket holds, in nano-tokens: at most `burst × TOKEN`.
    credit: u128,
    /// The latest `now` seen: `credit` is what the bucket held then.
    last: Duration,
}

impl TokenBucket {
    /// A bucket with the given limits, **full** (`burst` tokens) at time `now`.
    pub fn new(limits: Limits, now: Duration) -> Result<Self, LimitError> {
        if limits.rate == 0 {
            return Err(LimitError::ZeroRate);
        }
        if limits.burst == 0 {
            return Err(LimitError::ZeroBurst);
        }
        Ok(TokenBucket {
            limits,
            credit: Self::capacity(limits),
            last: now,
        })
    }

    fn capacity(limits: Limits) -> u128 {
        u128::from(limits.burst) * TOKEN
    }

    /// What the bucket holds at `now` (an earlier `now` counts as `last`).
    fn credit_at(&self, now: Duration) -> u128 {
        let elapsed = now.saturating_sub(self.last).as_nanos();
        let earned = elapsed.saturating_mul(u128::from(self.limits.rate));
        self.credit
            .saturating_add(earned)
            .min(Self::capacity(self.limits))
    }

    /// Books what was earned until `now`, at the rate in force.
    fn settle(&mut self, now: Duration) {
        self.credit = self.credit_at(now);
        self.last = self.last.max(now);
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes one token if the bucket holds a whole one at `now`; otherwise says how long until
    /// it does.
    pub fn try_acquire(&mut self, now: Duration) -> Result<(), Duration> {
        self.settle(now);
        if self.credit >= TOKEN {
            self.credit -= TOKEN;
            Ok(())
        } else {
            let missing = TOKEN - self.credit;
            let nanos = missing.div_ceil(u128::from(self.limits.rate));
            // At most one second's worth of nanoseconds: it fits.
            Err(Duration::from_nanos(nanos as u64))
        }
    }

    /// Whole tokens at `now`. Takes nothing.
    pub fn available(&self, now: Duration) -> u32 {
        // At most `burst`, a u32.
        (self.credit_at(now) / TOKEN) as u32
    }

    /// Changes the rate from `now` on, keeping what the old rate earned until then.
    pub fn set_rate(&mut self, rate: u32, now: Duration) -> Result<(), LimitError> {
        if rate == 0 {
            return Err(LimitError::ZeroRate);
        }
        self.settle(now);
        self.limits.rate = rate;
        Ok(())
    }
}
// ANCHOR_END: bucket

/// Where threads get the time from, and how they wait for it.
pub trait Clock: Send + Sync + 'static {
    /// The time since the clock's start. Never goes backwards.
    fn now(&self) -> Duration;

    /// How many times [`wake`](Clock::wake) has been called so far.
    fn wakes(&self) -> u64;

    /// Blocks until `now() >= deadline` or `wakes() != seen` (or for no reason).
    fn sleep_until(&self, deadline: Duration, seen: u64);

    /// Wakes every sleeper, and every thread that read `wakes` before this call.
    fn wake(&self);
}

/// A clock that moves only when told to. Clones share one time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    inner: Arc<(Mutex<(Duration, u64)>, Condvar)>,
}

impl ManualClock {
    /// A clock reading zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the time forward by `by`, waking the threads whose deadline has come.
    pub fn advance(&self, by: Duration) {
        let (state, moved) = &*self.inner;
        state.lock().unwrap_or_else(|e| e.into_inner()).0 += by;
        moved.notify_all();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn wakes(&self) -> u64 {
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner()).1
    }

    fn sleep_until(&self, deadline: Duration, seen: u64) {
        let (state, moved) = &*self.inner;
        let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
        while guard.0 < deadline && guard.1 == seen {
            guard = moved.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn wake(&self) {
        let (state, moved) = &*self.inner;
        state.lock().unwrap_or_else(|e| e.into_inner()).1 += 1;
        moved.notify_all();
    }
}

// ANCHOR: limiter
/// A [`TokenBucket`] shared by threads, reading time from a [`Clock`].
pub struct RateLimiter<C: Clock> {
    bucket: Mutex<TokenBucket>,
    clock: C,
}

impl<C: Clock> RateLimiter<C> {
    /// A limiter with the given limits, full at `clock.now()`.
    pub fn new(limits: Limits, clock: C) -> Result<Self, LimitError> {
        let bucket = TokenBucket::new(limits, clock.now())?;
        Ok(RateLimiter {
            bucket: Mutex::new(bucket),
            clock,
        })
    }

    /// The bucket, for a few instructions. A job never runs under this guard, and nobody
    /// sleeps under it; a panic elsewhere cannot leave the arithmetic half done, so a
    /// poisoned lock is still good.
    fn bucket(&self) -> MutexGuard<'_, TokenBucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The clock this limiter reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.bucket().limits()
    }

    /// Whole tokens available now.
    pub fn available(&self) -> u32 {
        let now = self.clock.now();
        self.bucket().available(now)
    }

    /// Takes a token if there is one now. Check and take happen under one guard.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let mut bucket = self.bucket();
        bucket.try_acquire(self.clock.now())
    }

    /// Blocks until this thread has taken a token.
    pub fn acquire(&self) {
        let taken = self.acquire_unless(|| false);
        debug_assert!(taken);
    }

    /// Blocks until this thread has taken a token (`true`), or until `stop()` says to give up
    /// (`false`; checked whenever the clock wakes it).
    fn acquire_unless(&self, stop: impl Fn() -> bool) -> bool {
        loop {
            // Read the wake count first: a wake after this line ends the sleep below at once.
            let seen = self.clock.wakes();
            if stop() {
                return false;
            }
            let (now, refused) = {
                let mut bucket = self.bucket();
                let now = self.clock.now();
                (now, bucket.try_acquire(now))
            };
            match refused {
                Ok(()) => return true,
                // The guard is gone: other threads check and take while this one sleeps.
                Err(wait) => self.clock.sleep_until(now + wait, seen),
            }
        }
    }

    /// Changes the rate from now on and wakes the waiting threads.
    pub fn set_rate(&self, rate: u32) -> Result<(), LimitError> {
        {
            let mut bucket = self.bucket();
            bucket.set_rate(rate, self.clock.now())?;
        }
        self.clock.wake();
        Ok(())
    }
}
// ANCHOR_END: limiter

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

/// Why [`RateLimitedPool::try_submit`] did not queue a job. Either way the job comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrySubmitError<J> {
    /// The queue is full (for a zero-place queue: no worker is waiting for a job right now).
    Full(J),
    /// No worker is left to run the job (every worker's job panicked).
    Closed(J),
}

impl<J> TrySubmitError<J> {
    /// The job that was not queued.
    pub fn into_inner(self) -> J {
        match self {
            TrySubmitError::Full(job) | TrySubmitError::Closed(job) => job,
        }
    }
}

impl<J> fmt::Display for TrySubmitError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySubmitError::Full(_) => f.write_str("the job queue is full"),
            TrySubmitError::Closed(_) => f.write_str("no worker is left to run the job"),
        }
    }
}

impl<J: fmt::Debug> std::error::Error for TrySubmitError<J> {}

// ANCHOR: pool
/// What the workers share with the pool.
struct Shared<J, C: Clock> {
    limiter: Arc<RateLimiter<C>>,
    /// Set by shutdown before it wakes the clock: no worker takes a token after seeing it.
    stopping: AtomicBool,
    /// Jobs the workers gave back because the pool stopped before they started.
    returned: Mutex<Vec<J>>,
}

/// Worker threads that share one [`RateLimiter`], fed by a bounded queue.
pub struct RateLimitedPool<J, C: Clock> {
    /// `None` once the pool has stopped: dropping it closes the queue.
    jobs: Option<Sender<J>>,
    shared: Arc<Shared<J, C>>,
    handles: Vec<JoinHandle<()>>,
    workers: usize,
    queue: usize,
}

impl<J: Send + 'static, C: Clock> RateLimitedPool<J, C> {
    /// Starts `workers` threads that share `limiter`, with a queue of `queue` places.
    pub fn new<R, F>(
        workers: usize,
        queue: usize,
        limiter: Arc<RateLimiter<C>>,
        process: F,
    ) -> Result<(Self, Receiver<R>), PoolError>
    where
        R: Send + 'static,
        F: Fn(J) -> R + Send + Sync + 'static,
    {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let (jobs, queued) = channel::bounded::<J>(queue);
        let (results, output) = channel::unbounded();
        let shared = Arc::new(Shared {
            limiter,
            stopping: AtomicBool::new(false),
            returned: Mutex::new(Vec::new()),
        });
        let process = Arc::new(process);
        let handles = (0..workers)
            .map(|_| {
                let (queued, results) = (queued.clone(), results.clone());
                let (shared, process) = (Arc::clone(&shared), Arc::clone(&process));
                thread::spawn(move || work(&queued, &results, &shared, &*process))
            })
            .collect();
        Ok((
            RateLimitedPool {
                jobs: Some(jobs),
                shared,
                handles,
                workers,
                queue,
            },
            output,
        ))
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Places in the queue.
    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Queues a job, waiting while the queue is full.
    pub fn submit(&self, job: J) -> Result<(), J> {
        match &self.jobs {
            // Fails only when every Receiver is gone: every worker has died.
            Some(jobs) => jobs.send(job).map_err(|e| e.into_inner()),
            None => Err(job),
        }
    }

    /// Queues a job only if that needs no waiting.
    pub fn try_submit(&self, job: J) -> Result<(), TrySubmitError<J>> {
        match &self.jobs {
            Some(jobs) => jobs.try_send(job).map_err(|e| match e {
                TrySendError::Full(job) => TrySubmitError::Full(job),
                TrySendError::Disconnected(job) => TrySubmitError::Closed(job),
            }),
            None => Err(TrySubmitError::Closed(job)),
        }
    }

    /// Stops the pool and hands back every job that had not started.
    pub fn shutdown(mut self) -> Vec<J> {
        self.stop()
    }
}

/// One worker: a job, then a token, then the job runs. After shutdown it hands back its job
/// and every job it still finds in the queue, until the queue is closed and empty.
fn work<J, R, C: Clock>(
    queued: &Receiver<J>,
    results: &Sender<R>,
    shared: &Shared<J, C>,
    process: &(impl Fn(J) -> R + ?Sized),
) {
    for job in queued.iter() {
        let stopping = || shared.stopping.load(Ordering::SeqCst);
        if shared.limiter.acquire_unless(stopping) {
            // The limiter's guard is long gone: the job runs with nothing held.
            let _ = results.send(process(job));
        } else {
            let mut returned = shared.returned.lock().unwrap_or_else(|e| e.into_inner());
            returned.push(job);
        }
    }
}

impl<J, C: Clock> RateLimitedPool<J, C> {
    /// Shutdown and drop: stop, close the queue, wake the sleepers, join, collect.
    fn stop(&mut self) -> Vec<J> {
        if self.jobs.is_none() {
            return Vec::new();
        }
        // The flag first, then the wake: a worker that reads the wake count after the wake
        // also sees the flag.
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.jobs = None;
        self.shared.limiter.clock().wake();
        for handle in self.handles.drain(..) {
            // A worker whose job panicked has already stopped: nothing more to do for it.
            let _ = handle.join();
        }
        let mut returned = self
            .shared
            .returned
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *returned)
    }
}

impl<J, C: Clock> Drop for RateLimitedPool<J, C> {
    /// Shuts down like [`RateLimitedPool::shutdown`], dropping the jobs that had not started.
    fn drop(&mut self) {
        drop(self.stop());
    }
}
// ANCHOR_END: pool

// ANCHOR: async
/// The limiter for async code, on tokio's clock.
pub struct AsyncRateLimiter {
    bucket: Mutex<TokenBucket>,
    start: tokio::time::Instant,
    /// Fired by every rate change, so waiting tasks compute their deadline again.
    changed: tokio::sync::Notify,
}

impl AsyncRateLimiter {
    /// A limiter with the given limits, full now.
    pub fn new(limits: Limits) -> Result<Self, LimitError> {
        Ok(AsyncRateLimiter {
            bucket: Mutex::new(TokenBucket::new(limits, Duration::ZERO)?),
            start: tokio::time::Instant::now(),
            changed: tokio::sync::Notify::new(),
        })
    }

    fn bucket(&self) -> MutexGuard<'_, TokenBucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.bucket().limits()
    }

    /// Whole tokens available now.
    pub fn available(&self) -> u32 {
        self.bucket().available(self.now())
    }

    /// Takes a token if there is one now.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        self.bucket().try_acquire(self.now())
    }

    /// Completes once this task has taken a token.
    pub async fn acquire(&self) {
        loop {
            // Registered before the check, so a rate change between the check and the wait
            // still wakes this task.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            // The guard lives only inside `try_acquire`: never across the await below.
            let Err(wait) = self.try_acquire() else {
                return;
            };
            // Woken by the timer or by a rate change; either way, check again.
            let _ = tokio::time::timeout(wait, changed).await;
        }
    }

    /// Changes the rate from now on and wakes the waiting tasks.
    pub fn set_rate(&self, rate: u32) -> Result<(), LimitError> {
        self.bucket().set_rate(rate, self.now())?;
        self.changed.notify_waiters();
        Ok(())
    }
}
// ANCHOR_END: async
