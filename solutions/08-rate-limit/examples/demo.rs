//! Exercise 8's pool at work: `cargo run -p rate-limit-solution --example demo`.
//!
//! Three workers share one limiter of 20 jobs per second with bursts of 5. Watch the first
//! five jobs start at once (the burst), then one job every 50 ms whatever the number of
//! workers, and the throughput at the end come out at the limit, not at what three workers
//! could do.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rate_limit::{Clock, Limits, RateLimitedPool, RateLimiter};

/// The real time, for a demo (the tests use `ManualClock`).
struct RealClock {
    start: Instant,
    wakes: Mutex<u64>,
    moved: Condvar,
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
    fn wakes(&self) -> u64 {
        *self.wakes.lock().unwrap()
    }
    fn sleep_until(&self, deadline: Duration, seen: u64) {
        let mut wakes = self.wakes.lock().unwrap();
        while *wakes == seen {
            let now = self.start.elapsed();
            if now >= deadline {
                return;
            }
            wakes = self.moved.wait_timeout(wakes, deadline - now).unwrap().0;
        }
    }
    fn wake(&self) {
        *self.wakes.lock().unwrap() += 1;
        self.moved.notify_all();
    }
}

fn main() {
    let workers = 3;
    trace::start(
        "Exercise 8 — rate limiting: 3 workers, 20 jobs per second, bursts of 5",
        workers,
    );
    let clock = RealClock {
        start: Instant::now(),
        wakes: Mutex::new(0),
        moved: Condvar::new(),
    };
    let limiter =
        Arc::new(RateLimiter::new(Limits { rate: 20, burst: 5 }, clock).expect("valid limits"));
    let (pool, results) = RateLimitedPool::new(workers, 4, limiter, |id: u32| {
        trace::job(format!("job {id}"), || {
            trace::work(Duration::from_millis(5))
        });
        id
    })
    .expect("three workers");
    let jobs = 15;
    let reader = std::thread::spawn(move || results.iter().take(jobs).count());
    for id in 0..jobs as u32 {
        pool.submit(id).expect("the pool is open");
    }
    let n = reader.join().expect("the reader");
    let back = pool.shutdown();
    trace::say(format!(
        "every result in; shutdown handed back {} job(s)",
        back.len()
    ));
    trace::done(n);
}
