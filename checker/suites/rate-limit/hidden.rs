//! Hidden suite, exercise 8 (rate-limit): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in exercise.toml.
//!
//! Time never passes by itself. The thread parts run on the suite's own clock
//! ([`testkit::clock::TestClock`]), which knows how many threads sleep on it: when every worker
//! that holds a job is asleep waiting for a token, the pool is quiet, and the test counts the
//! jobs that started — exactly, at that instant. A thread that spins instead of sleeping makes
//! that wait fail at once. The async parts run on tokio's paused clock.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use rate_limit::{
    AsyncRateLimiter, Clock, LimitError, Limits, ManualClock, PoolError, RateLimitedPool,
    RateLimiter, TokenBucket, TrySubmitError,
};
use testkit::check;
use testkit::clock::TestClock;
use testkit::gate::{Arrivals, Gate, ThreadExits};
use workbook_sync::channel::Receiver;

const NS: Duration = Duration::from_nanos(1);
const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const GIGA: u128 = 1_000_000_000;

fn limits(rate: u32, burst: u32) -> Limits {
    Limits { rate, burst }
}

/// The time, after a bucket was empty at time zero, at which it has earned its `k`-th token:
/// the first nanosecond `t` with `t × rate >= k × 10⁹`.
fn due(k: u64, rate: u32) -> Duration {
    let nanos = (u128::from(k) * GIGA).div_ceil(u128::from(rate));
    Duration::from_nanos(u64::try_from(nanos).expect("a test time fits"))
}

/// Tokens a bucket with these limits may have granted by `t`, full at 0: `burst + ⌊rate·t⌋`.
fn allowed(rate: u32, burst: u32, t: Duration) -> u128 {
    u128::from(burst) + t.as_nanos() * u128::from(rate) / GIGA
}

fn bucket(rate: u32, burst: u32) -> TokenBucket {
    TokenBucket::new(limits(rate, burst), Duration::ZERO).unwrap_or_else(|e| {
        panic!("rate {rate}, burst {burst} is a valid limit, but new said: {e}")
    })
}

/// Takes every token there is at `now`; returns how many.
fn drain(bucket: &mut TokenBucket, now: Duration) -> u32 {
    let mut n = 0;
    while bucket.try_acquire(now).is_ok() {
        n += 1;
        assert!(
            n <= 1 << 20,
            "try_acquire never refuses: the bucket is unbounded"
        );
    }
    n
}

/// Every window `[a, b]` of these start times holds at most `burst + ⌊rate·(b - a)⌋` of them.
fn check_windows(starts: &[Duration], rate: u32, burst: u32, what: &str) {
    let mut sorted = starts.to_vec();
    sorted.sort_unstable();
    for i in 0..sorted.len() {
        for j in i..sorted.len() {
            let in_window = (j - i + 1) as u128;
            let limit = allowed(rate, burst, sorted[j] - sorted[i]);
            assert!(
                in_window <= limit,
                "TOO MANY: {in_window} {what} between {:?} and {:?}, but rate {rate}/s with \
                 burst {burst} allows at most {limit} in a window that long. All starts: \
                 {sorted:?}",
                sorted[i],
                sorted[j]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The suite's clock: the exercise's `Clock` trait over testkit's TestClock.

#[derive(Clone, Default)]
struct Clk(Arc<TestClock>);

impl Clock for Clk {
    fn now(&self) -> Duration {
        self.0.now()
    }
    fn wakes(&self) -> u64 {
        self.0.wakes()
    }
    fn sleep_until(&self, deadline: Duration, seen: u64) {
        self.0.sleep_until(deadline, seen)
    }
    fn wake(&self) {
        self.0.wake()
    }
}

fn limiter(rate: u32, burst: u32, clock: &Clk) -> Arc<RateLimiter<Clk>> {
    Arc::new(
        RateLimiter::new(limits(rate, burst), clock.clone()).unwrap_or_else(|e| {
            panic!("rate {rate}, burst {burst} is a valid limit, but RateLimiter::new said: {e}")
        }),
    )
}

/// A pool of `u64` jobs on the suite's clock. Every job notes when it started (the clock's
/// time) and marks the clock; `hook` runs next (to park, panic or change the rate).
struct Rig {
    clock: Clk,
    limiter: Arc<RateLimiter<Clk>>,
    pool: Option<RateLimitedPool<u64, Clk>>,
    results: Receiver<u64>,
    starts: Arc<Mutex<Vec<(u64, Duration)>>>,
    workers: usize,
}

impl Rig {
    fn new(workers: usize, queue: usize, rate: u32, burst: u32) -> Rig {
        Rig::with_hook(workers, queue, rate, burst, |_, _| {})
    }

    fn with_hook(
        workers: usize,
        queue: usize,
        rate: u32,
        burst: u32,
        hook: impl Fn(u64, &RateLimiter<Clk>) + Send + Sync + 'static,
    ) -> Rig {
        let clock = Clk::default();
        let limiter = limiter(rate, burst, &clock);
        let starts = Arc::new(Mutex::new(Vec::new()));
        let (c, s, l) = (clock.clone(), Arc::clone(&starts), Arc::clone(&limiter));
        let (pool, results) =
            RateLimitedPool::new(workers, queue, Arc::clone(&limiter), move |id| {
                s.lock().unwrap().push((id, c.0.peek()));
                c.0.mark();
                hook(id, &l);
                id
            })
            .unwrap_or_else(|e| panic!("a pool of {workers} workers is valid, but new said: {e}"));
        Rig {
            clock,
            limiter,
            pool: Some(pool),
            results,
            starts,
            workers,
        }
    }

    fn pool(&self) -> &RateLimitedPool<u64, Clk> {
        self.pool.as_ref().expect("the pool is still running")
    }

    fn submit_all(&self, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            self.pool()
                .submit(id)
                .unwrap_or_else(|_| panic!("submit({id}) was refused by a pool with workers"));
        }
    }

    fn start_times(&self) -> Vec<Duration> {
        self.starts
            .lock()
            .unwrap()
            .iter()
            .map(|&(_, t)| t)
            .collect()
    }

    fn started_ids(&self) -> BTreeSet<u64> {
        self.starts
            .lock()
            .unwrap()
            .iter()
            .map(|&(id, _)| id)
            .collect()
    }

    /// Waits until `holders` workers sleep on the clock (each holds a job and waits for a
    /// token), then insists exactly `started` jobs have started.
    fn expect_quiet(&self, holders: usize, started: usize, situation: &str) {
        let what = format!("{holders} worker(s) holding a job to sleep waiting for a token");
        let q = self.clock.0.wait_until(&what, |q| q.asleep >= holders);
        assert_eq!(
            q.marks,
            started,
            "at {:?} ({situation}), with every worker that holds a job asleep waiting for a \
             token, {} job(s) had started; expected exactly {started}. More means tokens were \
             granted that the bucket did not have (a burst per worker? tokens past the burst? \
             a token taken twice?); fewer means tokens it had were not granted. Start times: \
             {:?}",
            self.clock.0.peek(),
            q.marks,
            self.start_times()
        );
    }

    fn shutdown(&mut self) -> Vec<u64> {
        let mut back = self.pool.take().expect("shut down once").shutdown();
        back.sort_unstable();
        back
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // A failed assertion leaves workers asleep: wake them so the pool's drop can join.
        if self.pool.is_some() {
            self.clock
                .0
                .set(self.clock.0.peek() + Duration::from_secs(1 << 30));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TokenBucket: the arithmetic.

pub fn limits_are_validated() {
    let cases = [
        (limits(0, 1), LimitError::ZeroRate),
        (limits(1, 0), LimitError::ZeroBurst),
        (limits(0, 0), LimitError::ZeroRate),
    ];
    for (l, expected) in cases {
        let why = "rate 0 is checked first, then burst 0";
        assert_eq!(
            TokenBucket::new(l, Duration::ZERO).err(),
            Some(expected),
            "TokenBucket::new({l:?}): {why}"
        );
        assert_eq!(
            RateLimiter::new(l, Clk::default()).err(),
            Some(expected),
            "RateLimiter::new({l:?}): {why}"
        );
        assert_eq!(
            AsyncRateLimiter::new(l).err(),
            Some(expected),
            "AsyncRateLimiter::new({l:?}): {why}"
        );
    }
    for l in [limits(1, 1), limits(u32::MAX, u32::MAX)] {
        assert!(
            TokenBucket::new(l, Duration::ZERO).is_ok(),
            "{l:?} is valid"
        );
    }
}

pub fn bucket_starts_full_with_exactly_the_burst() {
    for (rate, burst) in [(1, 1), (5, 2), (1000, 7), (3, 64)] {
        let start = Duration::from_secs(5) + 3 * NS;
        let mut b = TokenBucket::new(limits(rate, burst), start).expect("valid limits");
        assert_eq!(b.limits(), limits(rate, burst), "limits() of a new bucket");
        assert_eq!(
            b.available(start),
            burst,
            "a new bucket (rate {rate}, burst {burst}) holds its whole burst"
        );
        assert_eq!(
            drain(&mut b, start),
            burst,
            "a new bucket (rate {rate}, burst {burst}) grants exactly `burst` tokens at once"
        );
        assert_eq!(
            b.try_acquire(start),
            Err(due(1, rate)),
            "once drained, try_acquire says the next token is 1/rate away"
        );
    }
}

pub fn bucket_wait_is_exact_to_the_nanosecond() {
    for rate in [1, 3, 7, 1_000, 999_999_937] {
        // Burst 8, drained: the bucket never fills up again during the test, so nothing earned
        // is capped away and token k is due exactly at `due(k)`.
        let mut b = bucket(rate, 8);
        assert_eq!(drain(&mut b, Duration::ZERO), 8);
        for k in 1..=4u64 {
            let at = due(k, rate);
            let early = at - NS;
            let before = due(k - 1, rate);
            assert_eq!(
                b.try_acquire(before),
                Err(at - before),
                "rate {rate}/s: token {k} is due at {at:?}; at {before:?} try_acquire must say \
                 exactly how long to wait (rounded up to the nanosecond)"
            );
            if early > before {
                assert_eq!(
                    b.try_acquire(early),
                    Err(NS),
                    "rate {rate}/s: one nanosecond before token {k} is due ({at:?}) it is not \
                     there yet. A whole token early means the period was rounded down \
                     (1e9 / rate truncated) or the refill rounded up"
                );
            }
            assert_eq!(
                b.available(early),
                0,
                "rate {rate}/s: available() at {early:?}"
            );
            assert_eq!(b.available(at), 1, "rate {rate}/s: available() at {at:?}");
            assert_eq!(
                b.try_acquire(at),
                Ok(()),
                "rate {rate}/s: token {k} is due at {at:?} exactly"
            );
        }
    }
}

pub fn bucket_never_drifts() {
    // Asked often: every millisecond for ten seconds, at rate 3 and burst 2.
    let (rate, burst) = (3, 2);
    let mut b = bucket(rate, burst);
    let mut granted = 0u128;
    for ms in 0..=10_000u32 {
        let now = ms * MS;
        while b.try_acquire(now).is_ok() {
            granted += 1;
        }
        let expected = allowed(rate, burst, now);
        assert_eq!(
            granted, expected,
            "DRIFT: asked every millisecond, by {now:?} the bucket (rate 3/s, burst 2) had \
             granted {granted} tokens; exactly {expected} were earned. A fraction of a token \
             thrown away at each refill (`elapsed * rate / 1000`, then `last = now`) loses \
             tokens; rounding it up invents them."
        );
    }
    // Asked at odd instants (every 13 ms and 7 ns) at rate 7, burst 1.
    let mut b = bucket(7, 1);
    let mut granted = 0u128;
    let step = 13 * MS + 7 * NS;
    for i in 0..10_000u32 {
        let now = step * i;
        if b.try_acquire(now).is_ok() {
            granted += 1;
        }
        assert!(
            granted <= allowed(7, 1, now),
            "at {now:?} the bucket (rate 7/s) had granted {granted}, more than it earned"
        );
    }
    let end = step * 9_999;
    assert!(
        granted + 1 >= allowed(7, 1, end),
        "DRIFT: asked every {step:?}, a bucket at 7/s granted {granted} by {end:?}, but earned \
         {} (at most one may still be waiting): fractions of a token were lost",
        allowed(7, 1, end)
    );
    // Many periods: twenty thousand tokens back to back, each taken the moment it is due.
    for rate in [3, 7, 1_000_003] {
        let mut b = bucket(rate, 2);
        assert_eq!(drain(&mut b, Duration::ZERO), 2);
        let mut now = Duration::ZERO;
        for k in 1..=20_000u64 {
            match b.try_acquire(now) {
                Err(wait) => now += wait,
                Ok(()) => {
                    panic!("rate {rate}: token {k} was granted at {now:?}, before it was due")
                }
            }
            assert_eq!(
                now,
                due(k, rate),
                "DRIFT: at rate {rate}/s, waiting exactly as told, token {k} came at {now:?}, \
                 not at {:?}. A period rounded to whole nanoseconds adds up to a drift over \
                 many periods: keep the fraction.",
                due(k, rate)
            );
            assert_eq!(
                b.try_acquire(now),
                Ok(()),
                "token {k} is there when it is due"
            );
        }
    }
}

pub fn bucket_never_holds_more_than_the_burst() {
    for (rate, burst) in [(1, 1), (10, 3), (1_000, 50)] {
        let mut b = bucket(rate, burst);
        let hour = Duration::from_secs(3600);
        assert_eq!(
            b.available(hour),
            burst,
            "ACCUMULATED: an idle bucket (rate {rate}, burst {burst}) holds at most its burst"
        );
        assert_eq!(
            drain(&mut b, hour),
            burst,
            "ACCUMULATED: after an idle hour, a bucket with burst {burst} grants exactly \
             {burst} tokens at once — tokens never pile up past the burst"
        );
        assert_eq!(
            b.try_acquire(hour),
            Err(due(1, rate)),
            "after the burst, the next token is 1/rate away"
        );
        // Partly drained, then idle: back to the burst, no more.
        let later = hour + Duration::from_secs(3600);
        assert_eq!(b.try_acquire(later), Ok(()));
        assert_eq!(
            b.available(later + hour),
            burst,
            "refills to the burst, no further"
        );
    }
}

pub fn bucket_available_takes_nothing() {
    let mut b = bucket(4, 3);
    for _ in 0..5 {
        assert_eq!(
            b.available(Duration::ZERO),
            3,
            "available() must not take tokens"
        );
    }
    assert_eq!(b.try_acquire(Duration::ZERO), Ok(()));
    assert_eq!(
        b.available(Duration::ZERO),
        2,
        "available() after one try_acquire"
    );
    assert_eq!(
        b.available(100 * MS),
        2,
        "0.4 token earned: still 2 whole tokens"
    );
    assert_eq!(b.available(250 * MS), 3);
    assert_eq!(b.available(10 * SEC), 3, "never more than the burst");
    assert_eq!(
        drain(&mut b, 250 * MS),
        3,
        "what available() reported is there to take"
    );
}

pub fn bucket_time_never_goes_back() {
    let mut b = TokenBucket::new(limits(1, 2), 10 * SEC).expect("valid limits");
    assert_eq!(
        b.available(SEC),
        2,
        "a time before the bucket was made counts as that time"
    );
    assert_eq!(drain(&mut b, 20 * SEC), 2);
    // An old reading: a thread that read the clock at 15 s, then waited for the lock.
    assert_eq!(
        b.try_acquire(15 * SEC),
        Err(SEC),
        "TIME WENT BACK: the bucket last saw 20 s; a `now` of 15 s counts as 20 s, so the next \
         token is still 1 s away. Refilling from `now - last` without `saturating_sub` wraps \
         around (or panics) when `now` is older"
    );
    assert_eq!(
        b.available(Duration::ZERO),
        0,
        "an old reading neither refills nor drains"
    );
    assert_eq!(
        b.try_acquire(21 * SEC),
        Ok(()),
        "the token is due 1 s after 20 s"
    );
    assert_eq!(b.try_acquire(5 * SEC), Err(SEC));
}

pub fn bucket_huge_values_do_not_overflow() {
    let l = limits(u32::MAX, u32::MAX);
    let mut b = TokenBucket::new(l, Duration::ZERO).expect("valid limits");
    assert_eq!(b.available(Duration::ZERO), u32::MAX);
    for _ in 0..1000 {
        assert_eq!(b.try_acquire(Duration::ZERO), Ok(()));
    }
    let far = Duration::from_secs(1 << 40);
    assert_eq!(
        b.available(far),
        u32::MAX,
        "OVERFLOW: at rate u32::MAX, 2^40 s of refill is far more than the burst; compute \
         `elapsed × rate` in u128 (or saturate) and cap at the burst"
    );
    assert_eq!(b.try_acquire(far), Ok(()));
    let mut slow = TokenBucket::new(limits(1, u32::MAX), Duration::ZERO).expect("valid");
    assert_eq!(slow.available(far), u32::MAX);
    assert_eq!(slow.try_acquire(far), Ok(()));
}

pub fn bucket_set_rate_keeps_what_was_earned() {
    // Faster: rate 1 → 4 at 0.5 s, half a token earned. The rest (0.5) comes at 4/s: 125 ms.
    let mut b = bucket(1, 1);
    assert_eq!(b.try_acquire(Duration::ZERO), Ok(()));
    assert_eq!(b.set_rate(4, 500 * MS), Ok(()));
    assert_eq!(b.limits(), limits(4, 1), "limits() after set_rate");
    assert_eq!(
        b.try_acquire(500 * MS),
        Err(125 * MS),
        "rate 1/s → 4/s at 0.5 s with half a token earned: the other half takes 125 ms at \
         the new rate. Ok(()) means a token was invented (the bucket refilled on a rate \
         change, or the new rate was applied to the time before the change); 250 ms means the \
         half token earned at the old rate was lost"
    );
    assert_eq!(b.try_acquire(625 * MS - NS), Err(NS));
    assert_eq!(
        b.try_acquire(625 * MS),
        Ok(()),
        "the token is due at 625 ms"
    );
    // Slower: rate 4 → 1 at 125 ms, half a token earned; the rest takes 500 ms.
    let mut b = bucket(4, 1);
    assert_eq!(b.try_acquire(Duration::ZERO), Ok(()));
    assert_eq!(b.set_rate(1, 125 * MS), Ok(()));
    assert_eq!(
        b.try_acquire(125 * MS),
        Err(500 * MS),
        "rate 4/s → 1/s at 125 ms, half a token earned: the other half takes 500 ms. 875 ms \
         means the earned half was lost; 375 ms means the old rate went on past the change"
    );
    // No burst invented: a drained bucket stays drained through a change.
    let mut b = bucket(2, 5);
    assert_eq!(drain(&mut b, SEC), 5);
    assert_eq!(b.set_rate(100, SEC), Ok(()));
    assert_eq!(
        b.available(SEC),
        0,
        "INVENTED BURST: a rate change on an empty bucket must not refill it"
    );
    assert_eq!(b.try_acquire(SEC), Err(10 * MS));
    // A full bucket stays at its burst, and several changes in a row keep the fraction.
    let mut b = bucket(3, 2);
    assert_eq!(b.set_rate(1000, 10 * SEC), Ok(()));
    assert_eq!(b.available(10 * SEC), 2, "a full bucket stays at the burst");
    assert_eq!(drain(&mut b, 10 * SEC), 2);
    let t0 = 10 * SEC;
    assert_eq!(b.set_rate(1, t0 + MS / 2), Ok(())); // 0.5 earned at 1000/s
    assert_eq!(b.set_rate(2, t0 + MS / 2 + 125 * MS), Ok(())); // 0.125 more at 1/s
    assert_eq!(
        b.try_acquire(t0 + MS / 2 + 125 * MS),
        Err(Duration::from_micros(187_500)),
        "three rates in a row: 0.5 + 0.125 earned, the remaining 0.375 at 2/s is 187.5 ms"
    );
}

pub fn bucket_set_rate_zero_is_refused() {
    let mut b = bucket(2, 1);
    assert_eq!(b.try_acquire(Duration::ZERO), Ok(()));
    assert_eq!(
        b.set_rate(0, 100 * MS),
        Err(LimitError::ZeroRate),
        "set_rate(0) is refused"
    );
    assert_eq!(
        b.limits(),
        limits(2, 1),
        "a refused set_rate changes nothing"
    );
    assert_eq!(
        b.try_acquire(100 * MS),
        Err(400 * MS),
        "the old rate still holds"
    );
}

pub fn bucket_agrees_with_governor() {
    use governor::clock::{Clock as _, FakeRelativeClock};
    use governor::{Quota, RateLimiter as Governor};
    use std::num::NonZeroU32;

    // Rates whose period is a whole number of nanoseconds, where governor's GCRA is exact.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    for rate in [1u32, 2, 4, 5, 8, 10, 25, 1_000] {
        for burst in [1u32, 2, 3, 7] {
            let clock = FakeRelativeClock::default();
            let quota = Quota::per_second(NonZeroU32::new(rate).unwrap())
                .allow_burst(NonZeroU32::new(burst).unwrap());
            let reference = Governor::direct_with_clock(quota, clock.clone());
            let mut mine = bucket(rate, burst);
            let period = GIGA as u64 / u64::from(rate);
            let mut now = Duration::ZERO;
            for request in 0..400 {
                // Bursts of requests at one instant, and gaps up to three periods.
                let gap = match next(4) {
                    0 => 0,
                    1 => next(period / 2 + 1),
                    _ => next(3 * period + 1),
                };
                now += Duration::from_nanos(gap);
                clock.advance(Duration::from_nanos(gap));
                let expected = reference
                    .check()
                    .map_err(|not_until| not_until.wait_time_from(clock.now()));
                assert_eq!(
                    mine.try_acquire(now),
                    expected,
                    "rate {rate}/s, burst {burst}, request {request} at {now:?}: governor (whose \
                     GCRA is exact at this rate) says {expected:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RateLimiter: the bucket shared by threads, on an injected clock.

pub fn limiter_reads_its_clock() {
    let clock = Clk::default();
    let l = limiter(4, 2, &clock);
    assert_eq!(l.limits(), limits(4, 2));
    assert_eq!(l.available(), 2, "a new limiter is full");
    assert_eq!(l.try_acquire(), Ok(()));
    assert_eq!(l.try_acquire(), Ok(()));
    assert_eq!(
        l.try_acquire(),
        Err(250 * MS),
        "drained: 1/rate to the next token"
    );
    clock.0.set(100 * MS);
    assert_eq!(
        l.try_acquire(),
        Err(150 * MS),
        "try_acquire reads the clock it was given"
    );
    assert_eq!(l.available(), 0);
    clock.0.set(500 * MS);
    assert_eq!(l.available(), 2, "available() reads the clock");
    assert_eq!(
        l.clock().now(),
        500 * MS,
        "clock() is the clock the limiter was given"
    );
    assert_eq!(l.try_acquire(), Ok(()));
    assert_eq!(l.available(), 1);
    assert_eq!(
        l.set_rate(0),
        Err(LimitError::ZeroRate),
        "set_rate(0) is refused"
    );
    assert_eq!(
        l.limits(),
        limits(4, 2),
        "a refused set_rate changes nothing"
    );
    assert_eq!(l.set_rate(1), Ok(()));
    assert_eq!(l.limits(), limits(1, 2), "limits() after set_rate");
    assert_eq!(l.try_acquire(), Ok(()));
    assert_eq!(
        l.try_acquire(),
        Err(SEC),
        "the new rate from the instant it was set"
    );
}

/// `n` threads each call `acquire` once; returns their handles and a count of returns.
fn acquirers(
    l: &Arc<RateLimiter<Clk>>,
    n: usize,
) -> (Vec<thread::JoinHandle<()>>, Arc<AtomicUsize>) {
    let done = Arc::new(AtomicUsize::new(0));
    let handles = (0..n)
        .map(|_| {
            let (l, done) = (Arc::clone(l), Arc::clone(&done));
            thread::spawn(move || {
                l.acquire();
                done.fetch_add(1, Ordering::SeqCst);
                l.clock().0.mark();
            })
        })
        .collect();
    (handles, done)
}

pub fn limiter_acquire_sleeps_until_the_token_is_due() {
    let clock = Clk::default();
    let l = limiter(3, 1, &clock);
    l.acquire(); // the burst: at once
    let (handles, done) = acquirers(&l, 1);
    clock
        .0
        .wait_for_sleepers(1, "a thread in acquire() to sleep until its token is due");
    assert_eq!(
        done.load(Ordering::SeqCst),
        0,
        "acquire returned with no token there"
    );
    clock.0.set(due(1, 3) - NS);
    clock.0.wait_for_sleepers(
        1,
        "acquire() to go on sleeping one nanosecond before its token",
    );
    assert_eq!(
        done.load(Ordering::SeqCst),
        0,
        "acquire returned one nanosecond before its token was due"
    );
    clock.0.set(due(1, 3));
    for h in handles {
        h.join().expect("acquire() returns once its token is due");
    }
    assert_eq!(l.available(), 0, "acquire took the token");
}

pub fn limiter_acquire_does_not_spin() {
    let clock = Clk::default();
    let l = limiter(1, 1, &clock);
    assert_eq!(l.try_acquire(), Ok(()));
    let (handles, done) = acquirers(&l, 3);
    // Fails with SPINNING if any of them checks again and again instead of sleeping.
    clock
        .0
        .wait_for_sleepers(3, "three threads in acquire() with no token to sleep");
    for k in 1..=3u64 {
        clock.0.set(due(k, 1));
        clock
            .0
            .wait_until("one acquire() to return per token", |q| {
                q.marks >= k as usize && q.asleep >= 3 - k as usize
            });
        assert_eq!(
            done.load(Ordering::SeqCst),
            k as usize,
            "by {:?}, {k} token(s) were due: exactly {k} acquire() call(s) may have returned",
            due(k, 1)
        );
    }
    for h in handles {
        h.join().expect("acquirer thread");
    }
}

pub fn limiter_two_waiters_one_token() {
    let clock = Clk::default();
    let l = limiter(1, 1, &clock);
    assert_eq!(l.try_acquire(), Ok(()));
    let (handles, done) = acquirers(&l, 2);
    clock
        .0
        .wait_for_sleepers(2, "two threads in acquire() to sleep");
    clock.0.set(SEC);
    // One token: one of them returns, the other goes back to sleep until 2 s.
    let q = clock.0.wait_until(
        "one acquire() to return and the other to sleep again",
        |q| q.marks + q.asleep >= 2,
    );
    assert_eq!(
        (q.marks, done.load(Ordering::SeqCst)),
        (1, 1),
        "CHECK-THEN-ACT: two threads slept until the token due at 1 s; both returned. A thread \
         that wakes must check again and take the token under the lock — the other may have \
         taken it first"
    );
    clock.0.set(2 * SEC);
    for h in handles {
        h.join().expect("the second acquire() returns at 2 s");
    }
}

pub fn limiter_set_rate_wakes_waiters() {
    let clock = Clk::default();
    let l = limiter(1, 1, &clock);
    assert_eq!(l.try_acquire(), Ok(()));
    let (handles, done) = acquirers(&l, 2);
    clock
        .0
        .wait_for_sleepers(2, "two threads in acquire() to sleep until 1 s");
    assert_eq!(l.set_rate(10), Ok(()));
    // At 10/s the two tokens are due at 100 ms and 200 ms.
    clock.0.set(100 * MS);
    let q = clock.0.wait_until("one waiter to return at 100 ms", |q| {
        q.marks >= 1 && q.asleep >= 1 || q.asleep >= 2
    });
    assert_eq!(
        q.marks, 1,
        "NOT WOKEN: after set_rate(10) the next token was due at 100 ms, but at 100 ms the \
         threads in acquire() were still asleep, waiting for the deadline they computed at the \
         old rate (1 s). set_rate must wake them (Clock::wake), and acquire must read \
         `wakes()` before it checks, so the wake is not lost"
    );
    clock.0.set(200 * MS);
    for h in handles {
        h.join().expect("the second waiter returns at 200 ms");
    }
    assert_eq!(done.load(Ordering::SeqCst), 2);
}

pub fn manual_clock_drives_a_limiter() {
    // The given ManualClock keeps the Clock contract...
    let clock = ManualClock::new();
    assert_eq!(clock.now(), Duration::ZERO, "a new ManualClock reads zero");
    clock.advance(3 * MS);
    assert_eq!(clock.now(), 3 * MS);
    assert_eq!(clock.wakes(), 0);
    clock.wake();
    assert_eq!(clock.wakes(), 1, "wakes() counts wake() calls");
    clock.sleep_until(SEC, 0); // a wake since `seen`: returns at once
    clock.sleep_until(MS, 1); // the deadline has passed: returns at once
    // ...and a limiter on it sleeps and wakes with it.
    let l = Arc::new(RateLimiter::new(limits(1, 1), clock.clone()).expect("valid"));
    l.acquire();
    let waiter = {
        let l = Arc::clone(&l);
        thread::spawn(move || l.acquire())
    };
    assert_eq!(l.set_rate(10), Ok(()));
    clock.advance(100 * MS);
    waiter
        .join()
        .expect("acquire() on a ManualClock returns once the clock reaches the token");
    assert_eq!(l.available(), 0);
}

pub fn errors_explain_themselves() {
    let texts = [
        LimitError::ZeroRate.to_string(),
        LimitError::ZeroBurst.to_string(),
        PoolError::NoWorkers.to_string(),
        TrySubmitError::Full(1).to_string(),
        TrySubmitError::Closed(1).to_string(),
    ];
    for t in &texts {
        assert!(!t.is_empty(), "every error has a message (Display)");
    }
    let distinct: BTreeSet<&String> = texts.iter().collect();
    assert_eq!(
        distinct.len(),
        texts.len(),
        "each error says something else: {texts:?}"
    );
    let _: &dyn std::error::Error = &LimitError::ZeroRate;
    assert_eq!(
        TrySubmitError::Full(5).into_inner(),
        5,
        "into_inner() of Full"
    );
    // And an error from the code under test, so this fails until it exists.
    assert_eq!(
        TokenBucket::new(limits(0, 1), Duration::ZERO).err(),
        Some(LimitError::ZeroRate)
    );
}

// ---------------------------------------------------------------------------------------------
// RateLimitedPool.

pub fn pool_shares_one_bucket() {
    // 4 workers, burst 2: 2 jobs start at once, not 2 per worker.
    let (workers, rate, burst) = (4, 1, 2);
    let rig = Rig::new(workers, 16, rate, burst);
    rig.submit_all(0..12);
    rig.expect_quiet(workers, 2, "12 jobs submitted to 4 workers, burst 2");
    rig.clock.0.set(SEC);
    rig.expect_quiet(workers, 3, "1 s later at 1 token/s");
    rig.clock.0.set(3 * SEC);
    rig.expect_quiet(workers, 5, "3 s after the start");
    check_windows(&rig.start_times(), rate, burst, "jobs started");
}

pub fn pool_starts_exactly_burst_plus_rate_t() {
    let (workers, rate, burst) = (3, 3, 2);
    let jobs = 40u64;
    let rig = Rig::new(workers, jobs as usize, rate, burst);
    rig.submit_all(0..jobs);
    rig.expect_quiet(workers, 2, "at time 0: the burst");
    // Each token's instant, the nanosecond before it, and odd instants between.
    let mut instants = BTreeSet::new();
    for k in 1..=30u64 {
        instants.insert(due(k, rate) - NS);
        instants.insert(due(k, rate));
        instants.insert(due(k, rate) + 7 * MS);
    }
    for t in instants.into_iter().filter(|&t| t <= 10 * SEC) {
        rig.clock.0.set(t);
        let expected = allowed(rate, burst, t) as usize;
        rig.expect_quiet(workers, expected, "a steady backlog");
    }
    assert_eq!(
        rig.started_ids().len(),
        32,
        "rate 3/s over 10 s: the burst (2) plus 30, exactly"
    );
    check_windows(&rig.start_times(), rate, burst, "jobs started");
}

pub fn pool_takes_the_job_before_the_token() {
    // One worker, rate 1/s, burst 1, a hand-off queue (0 places): `try_submit` succeeds only
    // while the worker waits for a job. Job 0 takes the only token. Then the clock stands
    // still: a worker that goes for its next token before it has a job sleeps on the clock
    // holding nothing, and would carry that token to whatever job comes next.
    let (rate, burst) = (1, 1);
    let rig = Rig::new(1, 0, rate, burst);
    rig.submit_all(0..1);
    rig.clock.0.wait_until("job 0 to start", |q| q.marks >= 1);
    let mut job = 1;
    loop {
        match rig.pool().try_submit(job) {
            Ok(()) => break,
            Err(TrySubmitError::Full(back)) => job = back,
            Err(other) => panic!("try_submit on a pool with a worker: {other:?}"),
        }
        assert_eq!(
            rig.clock.0.asleep(),
            0,
            "TOKEN BEFORE JOB: the only worker, with no job in hand (job 0 done, job 1 not \
             taken), went to sleep on the clock waiting for a token. A worker must take a job \
             first and only then a token: a token taken while it waits for a job is carried \
             into the future, and after a quiet spell more than `burst` jobs start at once"
        );
        thread::yield_now();
    }
    rig.expect_quiet(1, 1, "the worker took job 1 and waits for its token");
    rig.clock.0.set(SEC);
    rig.clock
        .0
        .wait_until("job 1 to start at 1 s", |q| q.marks >= 2);
    check_windows(&rig.start_times(), rate, burst, "jobs started");
}

pub fn pool_limiter_is_not_held_while_a_job_runs() {
    // Job 0 waits until job 1 runs; job 1 reads and changes the limiter from inside.
    let both = Arrivals::new();
    let b = both.clone();
    let rig = Rig::with_hook(2, 4, 1, 2, move |id, limiter| {
        if id == 0 {
            b.arrive();
            b.wait_for(2);
        } else {
            let _ = limiter.available();
            limiter
                .set_rate(5)
                .expect("a job may change the rate (adaptive limiting)");
            b.arrive();
        }
    });
    rig.submit_all(0..2);
    both.wait_for(2);
    assert_eq!(
        rig.limiter.limits(),
        limits(5, 2),
        "the job's set_rate took effect"
    );
    let mut rig = rig;
    assert_eq!(rig.shutdown(), Vec::<u64>::new());
    assert_eq!(check::drain_closed(&rig.results).len(), 2);
}

pub fn pool_job_can_adapt_the_rate() {
    // Adaptive limiting: job 0 is "told to slow down" and halves the rate from 4/s to 2/s.
    let (rate, burst) = (4, 1);
    let rig = Rig::with_hook(2, 8, rate, burst, |id, limiter| {
        if id == 0 {
            let slower = limiter.limits().rate / 2;
            limiter.set_rate(slower).expect("a valid rate");
        }
    });
    rig.submit_all(0..1);
    rig.clock.0.wait_until("job 0 to start", |q| q.marks >= 1);
    rig.submit_all(1..5);
    rig.expect_quiet(2, 1, "job 0 started at 0 and halved the rate");
    rig.clock.0.set(250 * MS);
    rig.expect_quiet(
        2,
        1,
        "at 250 ms: at the halved rate (2/s) the next token is due at 500 ms",
    );
    rig.clock.0.set(500 * MS);
    rig.expect_quiet(2, 2, "at 500 ms");
    rig.clock.0.set(SEC);
    rig.expect_quiet(2, 3, "at 1 s");
}

pub fn pool_set_rate_wakes_waiting_workers() {
    let rig = Rig::new(2, 8, 1, 1);
    rig.submit_all(0..6);
    rig.expect_quiet(2, 1, "the burst of 1");
    assert_eq!(rig.limiter.set_rate(10), Ok(()));
    rig.clock.0.set(100 * MS);
    rig.expect_quiet(
        2,
        2,
        "100 ms after set_rate(10): the waiting workers must have been woken to wait by the \
         new rate (if not, they sleep until 1 s)",
    );
    rig.clock.0.set(200 * MS);
    rig.expect_quiet(2, 3, "200 ms at 10/s");
    rig.clock.0.set(300 * MS);
    rig.expect_quiet(2, 4, "300 ms at 10/s");
    check_windows(
        &rig.start_times()[1..],
        10,
        1,
        "jobs started after the change",
    );
}

pub fn pool_queue_holds_exactly_its_places() {
    for queue in [0usize, 1, 3] {
        let rig = Rig::new(2, queue, 1, 1);
        // Job 0 takes the only token; jobs 1 and 2 sit in the two workers' hands.
        rig.submit_all(0..1);
        rig.clock.0.wait_until("job 0 to start", |q| q.marks >= 1);
        rig.submit_all(1..3);
        rig.expect_quiet(2, 1, "both workers hold a job and wait for a token");
        for k in 0..queue as u64 {
            assert_eq!(
                rig.pool().try_submit(100 + k),
                Ok(()),
                "with both workers waiting for a token, a queue of {queue} place(s) still takes \
                 {queue} job(s); try_submit number {} was refused",
                k + 1
            );
        }
        match rig.pool().try_submit(999) {
            Err(TrySubmitError::Full(999)) => {}
            other => panic!(
                "NO BACKPRESSURE: with {queue} job(s) queued (a queue of {queue}) and both \
                 workers holding one, try_submit must return Err(Full(999)) with that very job; \
                 it returned {other:?}"
            ),
        }
        let mut rig = rig;
        let mut back = rig.shutdown();
        back.retain(|&id| id != 1 && id != 2);
        assert_eq!(
            back,
            (100..100 + queue as u64).collect::<Vec<_>>(),
            "shutdown hands back the queued jobs"
        );
    }
}

pub fn pool_submit_waits_for_room() {
    let clock = Clk::default();
    let limiter = limiter(1, 1, &clock);
    let c = clock.clone();
    let (pool, results) = RateLimitedPool::new(1, 1, Arc::clone(&limiter), move |id: u64| {
        c.0.mark();
        id
    })
    .expect("valid pool");
    let pool = Arc::new(pool);
    pool.submit(0).expect("job 0"); // starts
    pool.submit(1).expect("job 1"); // the worker holds it, waiting for 1 s
    clock
        .0
        .wait_until("job 0 to start and the worker to wait with job 1", |q| {
            q.marks >= 1 && q.asleep >= 1
        });
    pool.submit(2).expect("job 2 fills the queue");
    let returned = Arc::new(AtomicBool::new(false));
    let submitter = {
        let (pool, returned) = (Arc::clone(&pool), Arc::clone(&returned));
        thread::spawn(move || {
            pool.submit(3).expect("job 3 gets in once there is room");
            returned.store(true, Ordering::SeqCst);
        })
    };
    assert!(
        matches!(pool.try_submit(4), Err(TrySubmitError::Full(4))),
        "the queue (1 place) is full"
    );
    clock.0.set(SEC); // job 1 starts; the worker takes job 2; job 3 fits
    submitter
        .join()
        .expect("the blocked submit returns once a worker makes room");
    assert!(returned.load(Ordering::SeqCst));
    clock.0.set(2 * SEC);
    clock
        .0
        .wait_until("job 2 to start at 2 s", |q| q.marks >= 3);
    clock.0.set(3 * SEC);
    let got: Vec<u64> = results.iter().take(4).collect();
    assert_eq!(got, vec![0, 1, 2, 3], "one worker runs them in order");
    let pool = Arc::try_unwrap(pool).ok().expect("the submitter is gone");
    assert_eq!(pool.shutdown(), Vec::<u64>::new());
}

pub fn pool_shutdown_hands_back_what_never_started() {
    let probe = Arc::new(());
    let held = Arc::clone(&probe);
    let mut rig = Rig::with_hook(2, 8, 1, 1, move |_, _| {
        let _ = &held;
    });
    rig.submit_all(0..7);
    rig.expect_quiet(2, 1, "job 0 started, two workers hold jobs, four queued");
    // The clock stands still: shutdown must wake the sleepers itself.
    let back = rig.shutdown();
    let started = rig.started_ids();
    assert_eq!(
        started.len(),
        1,
        "no job starts at shutdown: {started:?} started"
    );
    let mut all: Vec<u64> = back
        .iter()
        .copied()
        .chain(started.iter().copied())
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..7).collect::<Vec<_>>(),
        "LOST JOBS: shutdown must hand back every job that never started — the two in the \
         workers' hands and the four queued — and nothing else. It returned {back:?}; \
         {started:?} had started"
    );
    assert_eq!(
        check::drain_closed(&rig.results),
        started.into_iter().collect::<Vec<_>>(),
        "the one job that ran delivered its result"
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "after shutdown a worker still holds the job function: not every worker was joined"
    );
}

pub fn pool_shutdown_lets_running_jobs_finish_and_starts_no_more() {
    let gate = Gate::new();
    let release = gate.open_on_drop();
    let g = gate.clone();
    let running = Arrivals::new();
    let r = running.clone();
    let mut rig = Rig::with_hook(1, 8, 1, 10, move |id, _| {
        if id == 0 {
            r.arrive();
            g.wait();
        }
    });
    rig.submit_all(0..4);
    running.wait_for(1);
    let clock = rig.clock.clone();
    let pool = rig.pool.take().unwrap();
    let stopper = thread::spawn(move || pool.shutdown());
    // Shutdown wakes the clock once it has stopped the workers from taking tokens.
    clock.0.wait_for_wakes(1);
    gate.open();
    let mut back = stopper
        .join()
        .expect("shutdown returns once job 0 finishes");
    back.sort_unstable();
    drop(release);
    assert_eq!(
        rig.started_ids(),
        BTreeSet::from([0]),
        "STARTED AFTER SHUTDOWN: tokens were there (burst 10), but once shutdown is called no \
         queued job may start"
    );
    assert_eq!(back, vec![1, 2, 3], "the queued jobs come back");
    assert_eq!(check::drain_closed(&rig.results), vec![0], "job 0 finished");
}

pub fn pool_drop_joins_every_worker() {
    let probe = Arc::new(());
    let exits = ThreadExits::new();
    let (held, e) = (Arc::clone(&probe), exits.clone());
    let rig = Rig::with_hook(3, 8, 1, 1, move |_, _| {
        let _ = &held;
        e.enlist();
    });
    rig.submit_all(0..6);
    rig.expect_quiet(3, 1, "one job ran; three wait");
    let mut rig = rig;
    drop(rig.pool.take());
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "after drop a worker still holds the job function: drop must join every worker"
    );
    assert_eq!(
        check::drain_closed(&rig.results).len(),
        1,
        "the one job that started delivered its result, and the stream ended"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "every worker thread has ended"
    );
}

pub fn pool_panicking_job_ends_only_its_worker() {
    let rig = Rig::with_hook(2, 8, 1_000, 10, |id, _| {
        if id == 0 {
            testkit::panic_on_purpose("job 0 panics on purpose");
        }
    });
    rig.submit_all(0..5);
    rig.clock
        .0
        .wait_until("the five jobs to start", |q| q.marks >= 5);
    let mut rig = rig;
    assert_eq!(
        rig.shutdown(),
        Vec::<u64>::new(),
        "shutdown after a panicked job"
    );
    let mut got = check::drain_closed(&rig.results);
    got.sort_unstable();
    assert_eq!(got, vec![1, 2, 3, 4], "the other worker ran the rest");
}

pub fn pool_with_no_worker_left_hands_jobs_back() {
    let exits = ThreadExits::new();
    let e = exits.clone();
    let rig = Rig::with_hook(1, 4, 1_000, 10, move |id, _| {
        e.enlist();
        if id == 0 {
            testkit::panic_on_purpose("the only worker's job panics");
        }
    });
    rig.submit_all(0..1);
    while exits.exited() < 1 {
        thread::yield_now();
    }
    assert_eq!(
        rig.pool().submit(7),
        Err(7),
        "no worker is left: submit must hand the job back, not queue it for nobody"
    );
    match rig.pool().try_submit(8) {
        Err(e @ TrySubmitError::Closed(8)) => {
            assert_eq!(e.into_inner(), 8, "into_inner() gives back the very job");
        }
        other => panic!("no worker is left: try_submit must return Err(Closed(8)), got {other:?}"),
    }
}

pub fn pool_results_are_unbounded() {
    // Nobody reads while 100 000 jobs run: a results buffer bounded anywhere below about
    // 99 000 stops the worker, then the queue (1024 places) fills, then submit waits for ever.
    const JOBS: u64 = 100_000;
    let clock = Clk::default();
    let (pool, results) = RateLimitedPool::new(1, 1024, limiter(u32::MAX, u32::MAX, &clock), |n| n)
        .expect("valid pool");
    for id in 0..JOBS {
        pool.submit(id)
            .unwrap_or_else(|_| panic!("submit({id}) was refused by a pool with a worker"));
    }
    let got: Vec<u64> = results.iter().take(JOBS as usize).collect();
    assert_eq!(
        got,
        (0..JOBS).collect::<Vec<_>>(),
        "one worker delivers every result, in the order the jobs finished"
    );
}

pub fn pool_zero_workers_rejected() {
    let clock = Clk::default();
    let outcome = RateLimitedPool::<u8, Clk>::new(0, 4, limiter(1, 1, &clock), |n: u8| n);
    assert_eq!(
        outcome.err().map(|e| e),
        Some(PoolError::NoWorkers),
        "new(0, ..) must return Err(PoolError::NoWorkers)"
    );
}

pub fn pool_reports_its_configuration() {
    for (workers, queue) in [(1, 0), (3, 7)] {
        let mut rig = Rig::new(workers, queue, 5, 5);
        assert_eq!(rig.pool().workers(), workers, "workers()");
        assert_eq!(rig.pool().queue(), queue, "queue()");
        rig.submit_all(0..2);
        rig.clock
            .0
            .wait_until("both jobs to start", |q| q.marks >= 2);
        assert_eq!(rig.pool().workers(), workers, "workers() after jobs ran");
        assert_eq!(rig.pool().queue(), queue, "queue() after jobs ran");
        assert_eq!(rig.shutdown(), Vec::<u64>::new());
    }
}

// ---------------------------------------------------------------------------------------------
// AsyncRateLimiter, on tokio's paused clock.

fn elapsed_since(start: tokio::time::Instant) -> Duration {
    start.elapsed()
}

pub fn async_acquire_is_exactly_on_time() {
    testkit::time::paused(async {
        let start = tokio::time::Instant::now();
        let l = AsyncRateLimiter::new(limits(4, 2)).expect("valid");
        let mut at = Vec::new();
        for _ in 0..6 {
            l.acquire().await;
            at.push(elapsed_since(start));
        }
        assert_eq!(
            at,
            vec![
                Duration::ZERO,
                Duration::ZERO,
                250 * MS,
                500 * MS,
                750 * MS,
                1000 * MS
            ],
            "rate 4/s, burst 2, one task acquiring again and again"
        );
    });
}

pub fn async_try_acquire_and_available() {
    testkit::time::paused(async {
        let l = AsyncRateLimiter::new(limits(5, 3)).expect("valid");
        assert_eq!(l.limits(), limits(5, 3));
        assert_eq!(l.available(), 3, "a new async limiter is full");
        for _ in 0..3 {
            assert_eq!(l.try_acquire(), Ok(()));
        }
        assert_eq!(
            l.try_acquire(),
            Err(200 * MS),
            "drained: 1/rate to the next token"
        );
        tokio::time::advance(150 * MS).await;
        assert_eq!(
            l.try_acquire(),
            Err(50 * MS),
            "try_acquire reads tokio's clock"
        );
        tokio::time::advance(50 * MS).await;
        assert_eq!(l.available(), 1);
        tokio::time::advance(10 * SEC).await;
        assert_eq!(l.available(), 3, "never more than the burst");
        assert_eq!(l.set_rate(0), Err(LimitError::ZeroRate));
        assert_eq!(
            l.limits(),
            limits(5, 3),
            "a refused set_rate changes nothing"
        );
        assert_eq!(l.set_rate(50), Ok(()));
        assert_eq!(l.limits(), limits(50, 3));
        for _ in 0..3 {
            assert_eq!(l.try_acquire(), Ok(()));
        }
        assert_eq!(l.try_acquire(), Err(20 * MS), "the new rate applies");
    });
}

pub fn async_tasks_share_the_bucket() {
    testkit::time::paused(async {
        let start = tokio::time::Instant::now();
        let l = Arc::new(AsyncRateLimiter::new(limits(10, 3)).expect("valid"));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let l = Arc::clone(&l);
                tokio::spawn(async move {
                    l.acquire().await;
                    elapsed_since(start)
                })
            })
            .collect();
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.expect("task"));
        }
        at.sort_unstable();
        let expected: Vec<Duration> = [0, 0, 0, 100, 200, 300, 400, 500, 600, 700]
            .into_iter()
            .map(|ms| ms * MS)
            .collect();
        assert_eq!(
            at, expected,
            "ten tasks on one async limiter (rate 10/s, burst 3): the burst at once, then one \
             every 100 ms. A lock held across an .await would have hung this test"
        );
    });
}

pub fn async_set_rate_wakes_waiters() {
    testkit::time::paused(async {
        let start = tokio::time::Instant::now();
        let l = Arc::new(AsyncRateLimiter::new(limits(1, 1)).expect("valid"));
        l.acquire().await;
        let waiter = {
            let l = Arc::clone(&l);
            tokio::spawn(async move {
                l.acquire().await;
                elapsed_since(start)
            })
        };
        tokio::time::advance(100 * MS).await;
        assert_eq!(l.set_rate(10), Ok(()));
        let at = waiter.await.expect("task");
        assert_eq!(
            at,
            190 * MS,
            "rate 1/s → 10/s at 100 ms with 0.1 token earned: the waiting task gets its token \
             at 190 ms. 1 s means set_rate did not wake it (or it ignored the wake-up)"
        );
    });
}

pub fn async_acquire_is_cancel_safe() {
    testkit::time::paused(async {
        let l = AsyncRateLimiter::new(limits(2, 1)).expect("valid");
        l.acquire().await;
        let gave_up = tokio::time::timeout(100 * MS, l.acquire()).await;
        assert!(gave_up.is_err(), "no token within 100 ms at 2/s");
        tokio::time::advance(400 * MS).await;
        assert_eq!(
            l.available(),
            1,
            "CANCELLED ACQUIRE KEPT A TOKEN: an acquire() dropped before it completed must not \
             have reserved or taken a token"
        );
        assert_eq!(l.try_acquire(), Ok(()));
    });
}

/// Counts how often its future is polled, and fails once that is absurd.
struct Counted<F> {
    inner: Pin<Box<F>>,
    polls: usize,
}

impl<F: Future> Future for Counted<F> {
    type Output = (F::Output, usize);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls += 1;
        assert!(
            self.polls <= 1_000,
            "SPINNING: acquire() was polled 1000 times while it waited for one token. It must \
             sleep on tokio's timer (or a Notify) until the token is due, not yield and check \
             again"
        );
        let polls = self.polls;
        self.inner.as_mut().poll(cx).map(|out| (out, polls))
    }
}

pub fn async_acquire_does_not_spin() {
    testkit::time::paused(async {
        let start = tokio::time::Instant::now();
        let l = AsyncRateLimiter::new(limits(1, 1)).expect("valid");
        l.acquire().await;
        let ((), polls) = Counted {
            inner: Box::pin(l.acquire()),
            polls: 0,
        }
        .await;
        assert_eq!(elapsed_since(start), SEC, "the second token at 1 s");
        assert!(
            polls <= 10,
            "acquire() was polled {polls} times for one wait"
        );
    });
}
