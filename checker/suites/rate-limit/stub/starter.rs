//! Starter tests for exercise 8. Run them with `cargo test -p rate-limit`; the checker runs
//! these and a hidden suite with `cargo checker check rate-limit`.

use std::sync::Arc;
use std::time::Duration;

use pretty_assertions::assert_eq;
use rate_limit::{
    AsyncRateLimiter, Clock, LimitError, Limits, ManualClock, RateLimitedPool, RateLimiter,
    TokenBucket,
};

const MS: Duration = Duration::from_millis(1);

#[test]
fn bucket_grants_the_burst_then_the_rate() {
    let mut bucket = TokenBucket::new(Limits { rate: 2, burst: 3 }, Duration::ZERO).unwrap();
    for _ in 0..3 {
        assert_eq!(
            bucket.try_acquire(Duration::ZERO),
            Ok(()),
            "a new bucket is full"
        );
    }
    // Empty: the next token comes after 1/rate = 500 ms, exactly.
    assert_eq!(bucket.try_acquire(Duration::ZERO), Err(500 * MS));
    assert_eq!(bucket.try_acquire(200 * MS), Err(300 * MS));
    assert_eq!(bucket.try_acquire(500 * MS), Ok(()));
    assert_eq!(bucket.available(500 * MS), 0);
}

// ANCHOR: usage
#[test]
fn pool_starts_the_burst_then_waits_for_the_clock() {
    let clock = ManualClock::new();
    let limiter = Arc::new(RateLimiter::new(Limits { rate: 1, burst: 2 }, clock.clone()).unwrap());
    // Each job reports the time it started.
    let job_clock = clock.clone();
    let (pool, results) = RateLimitedPool::new(2, 4, Arc::clone(&limiter), move |id: u32| {
        (id, job_clock.now())
    })
    .unwrap();
    for id in 0..3 {
        pool.submit(id).unwrap();
    }
    // The burst: two jobs start at once, at time 0.
    let mut started = vec![results.recv().unwrap().1, results.recv().unwrap().1];
    // The third waits for a token; it starts when the clock reaches 1 s.
    clock.advance(Duration::from_secs(1));
    started.push(results.recv().unwrap().1);
    assert_eq!(
        started,
        vec![Duration::ZERO, Duration::ZERO, Duration::from_secs(1)]
    );
    assert_eq!(pool.shutdown(), Vec::<u32>::new(), "every job ran");
}
// ANCHOR_END: usage

#[test]
fn async_acquire_waits_on_tokios_clock() {
    // A runtime whose clock starts paused: timers fire at once, exactly on time.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let start = tokio::time::Instant::now();
        let limiter = AsyncRateLimiter::new(Limits { rate: 4, burst: 1 }).unwrap();
        limiter.acquire().await; // the burst
        limiter.acquire().await; // 1/4 s later
        assert_eq!(start.elapsed(), 250 * MS);
    });
}

#[test]
fn zero_limits_are_errors() {
    assert_eq!(
        TokenBucket::new(Limits { rate: 0, burst: 1 }, Duration::ZERO).err(),
        Some(LimitError::ZeroRate)
    );
    assert_eq!(
        RateLimiter::new(Limits { rate: 1, burst: 0 }, ManualClock::new()).err(),
        Some(LimitError::ZeroBurst)
    );
}
