//! Hidden suite, exercise 8 (rate-limit): loom models. Small on purpose (at most 2 workers, 3
//! jobs, 3 threads in all): loom explores every interleaving, so a race found here happens in
//! some real run. Time comes from testkit's `TestClock`, built from loom's primitives in this
//! tier: it stands still until the model moves it, and knows which threads sleep on it.

use std::time::Duration;

use rate_limit::{Clock, Limits, ManualClock, RateLimitedPool, RateLimiter};
use testkit::clock::TestClock;
use workbook_sync::atomic::{AtomicBool, Ordering};
use workbook_sync::{Arc, thread};

const SEC: Duration = Duration::from_secs(1);

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
    Arc::new(RateLimiter::new(Limits { rate, burst }, clock.clone()).expect("valid limits"))
}

/// A pool whose jobs mark the clock and return `(id, start time)`.
fn pool(
    workers: usize,
    queue: usize,
    limiter: &Arc<RateLimiter<Clk>>,
    clock: &Clk,
    probe: Option<Arc<()>>,
) -> (
    RateLimitedPool<u8, Clk>,
    workbook_sync::channel::Receiver<(u8, Duration)>,
) {
    let c = clock.clone();
    RateLimitedPool::new(workers, queue, Arc::clone(limiter), move |id: u8| {
        let _ = &probe;
        let started = c.0.peek();
        c.0.mark();
        (id, started)
    })
    .expect("a pool with workers is valid")
}

pub fn loom_last_token_goes_to_one_thread() {
    testkit::model(|| {
        // Threads: main + 1.
        let clock = Clk::default();
        let l = limiter(1, 2, &clock);
        assert_eq!(l.try_acquire(), Ok(()), "the first of two tokens");
        let other = {
            let l = Arc::clone(&l);
            thread::spawn(move || l.try_acquire().is_ok())
        };
        let mine = l.try_acquire().is_ok();
        let theirs = other.join().expect("the other thread");
        assert!(
            !(mine && theirs),
            "CHECK-THEN-ACT: two threads raced for the last token of a bucket (burst 2, clock \
             standing still) and both got it: 3 tokens from a burst of 2. Checking for a token \
             and taking it must be one step, under one lock (or one compare-and-swap)."
        );
        assert!(
            mine || theirs,
            "two threads raced for the last token and neither got it: a refusal must not lose \
             the token"
        );
        assert_eq!(l.available(), 0, "both tokens are gone");
    });
}

pub fn loom_waiting_workers_share_one_token() {
    testkit::model(|| {
        // Threads: main + 2 workers. Rate 1/s, burst 1, the one token already taken: both
        // workers take a job and wait for the token due at 1 s.
        let clock = Clk::default();
        let l = limiter(1, 1, &clock);
        assert_eq!(l.try_acquire(), Ok(()), "the burst of 1");
        let (pool, results) = pool(2, 1, &l, &clock, None);
        for id in 0..2 {
            pool.submit(id).expect("an open pool accepts jobs");
        }
        let q = clock
            .0
            .wait_until("each job to start or wait for a token", |q| {
                q.marks + q.asleep >= 2
            });
        assert_eq!(
            q.marks, 0,
            "at time 0, with the only token taken, {} job(s) started: the workers did not \
             share the one bucket (a burst per worker?)",
            q.marks
        );
        clock.0.set(SEC);
        let q = clock
            .0
            .wait_until("one job to start, the other to wait", |q| {
                q.marks + q.asleep >= 2
            });
        assert_eq!(
            q.marks, 1,
            "CHECK-THEN-ACT: at 1 s one token was due and two workers were waiting for it; {} \
             jobs started. A worker that wakes at its deadline must check again and take the \
             token under the lock: the other worker may have taken it first.",
            q.marks
        );
        // The other job never got a token: shutdown hands it back.
        assert_eq!(pool.shutdown().len(), 1, "the job still waiting comes back");
        let starts: Vec<Duration> = results.try_iter().map(|(_, t)| t).collect();
        assert_eq!(starts, vec![SEC], "one job per token");
    });
}

pub fn loom_rate_change_wakes_a_waiting_worker() {
    testkit::model(|| {
        // Threads: main + 1 worker. Rate 1/s, then 4/s: job 1 is due at 250 ms, not 1 s.
        let clock = Clk::default();
        let l = limiter(1, 1, &clock);
        let (pool, _results) = pool(1, 2, &l, &clock, None);
        pool.submit(0).expect("an open pool accepts jobs");
        pool.submit(1).expect("an open pool accepts jobs");
        clock.0.wait_until("job 0 to start", |q| q.marks >= 1);
        l.set_rate(4).expect("a valid rate");
        clock.0.set(SEC / 4);
        let q = clock.0.wait_until("job 1 to start at 250 ms", |q| {
            q.marks >= 2 || q.asleep >= 1
        });
        assert_eq!(
            q.marks, 2,
            "LOST WAKE-UP: after set_rate(4) job 1 was due at 250 ms, but at 250 ms its worker \
             was asleep until the deadline it computed at the old rate. set_rate must call \
             Clock::wake, and a waiting thread must read `wakes()` *before* it checks for a \
             token (then passes it to sleep_until): a wake between its check and its sleep is \
             otherwise lost."
        );
        assert_eq!(pool.shutdown(), Vec::<u8>::new());
    });
}

pub fn loom_shutdown_wakes_waiting_workers() {
    testkit::model(|| {
        // Threads: main + 2 workers. Burst 1 and a clock that never moves: of two jobs, one
        // runs and the other can only come back from shutdown.
        let clock = Clk::default();
        let l = limiter(1, 1, &clock);
        let probe = Arc::new(());
        let (pool, results) = pool(2, 1, &l, &clock, Some(Arc::clone(&probe)));
        for id in 0..2 {
            pool.submit(id).expect("an open pool accepts jobs");
        }
        clock.0.wait_until("a job to start", |q| q.marks >= 1);
        let back = pool.shutdown();
        let ran: Vec<u8> = results.try_iter().map(|(id, _)| id).collect();
        assert_eq!(ran.len(), 1, "one token, one job ran: {ran:?}");
        let mut all: Vec<u8> = back.iter().chain(&ran).copied().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            vec![0, 1],
            "shutdown must hand back the job that never started (they had no token): it \
             returned {back:?}, and {ran:?} ran"
        );
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after shutdown a worker still holds the job function: not every worker was \
             joined"
        );
    });
}

pub fn loom_acquire_sleeps_on_the_manual_clock() {
    testkit::model(|| {
        // Threads: main + 1. The given ManualClock: a thread in acquire() with no token stays
        // put until the clock is moved, in every interleaving.
        let clock = ManualClock::new();
        let l =
            Arc::new(RateLimiter::new(Limits { rate: 1, burst: 1 }, clock.clone()).expect("valid"));
        l.acquire();
        let got = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (l, got) = (Arc::clone(&l), Arc::clone(&got));
            thread::spawn(move || {
                l.acquire();
                got.store(true, Ordering::SeqCst);
            })
        };
        assert!(
            !got.load(Ordering::SeqCst),
            "acquire() returned at time 0 with no token in the bucket"
        );
        clock.advance(SEC);
        waiter
            .join()
            .expect("acquire() returns once the ManualClock reaches 1 s");
        assert!(got.load(Ordering::SeqCst));
        assert_eq!(l.available(), 0, "the waiter took the token due at 1 s");
    });
}
