//! Exercise 9's pool at work: `cargo run -p metrics-solution --example demo`.
//!
//! Two workers, twenty jobs of which every fifth fails. A snapshot half-way through shows
//! the queue and the jobs in flight; the final snapshot is printed as Prometheus text.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use metrics::{Config, MetricsPool, SystemClock, Window};

fn main() {
    let workers = 2;
    trace::start(
        "Exercise 9 — metrics pool: 2 workers, 20 jobs, every fifth fails",
        workers,
    );
    let config = Config {
        workers,
        buckets: [5, 10, 20, 50]
            .iter()
            .map(|&ms| Duration::from_millis(ms))
            .collect(),
        window: Window {
            span: Duration::from_secs(1),
            slots: 10,
        },
    };
    let pool = MetricsPool::new(config, SystemClock::new(), |id: u32| {
        trace::job(format!("job {id}"), || {
            trace::work(Duration::from_millis(4 + u64::from(id % 4) * 4));
            if id % 5 == 4 { Err("failed") } else { Ok(()) }
        })
    })
    .expect("a valid config");
    for id in 0..20 {
        pool.submit(id);
    }
    std::thread::sleep(Duration::from_millis(60));
    let s = pool.snapshot();
    trace::say(format!(
        "snapshot: {} submitted, {} queued, {} in flight, {} succeeded, {} failed, high-water {}",
        s.submitted, s.queued, s.in_flight, s.succeeded, s.failed, s.queue_high_water
    ));
    let last = pool.shutdown();
    trace::say(format!(
        "final: {} succeeded, {} failed; run time p50 {:?}, p99 {:?}",
        last.succeeded,
        last.failed,
        last.run_time.quantile(0.5),
        last.run_time.quantile(0.99)
    ));
    println!("\nThe final snapshot as Prometheus text (first lines):\n");
    for line in last.to_prometheus().lines().take(14) {
        println!("    {line}");
    }
    trace::done(20);
}
