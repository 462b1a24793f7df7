//! Exercise 4's pool at work: `cargo run -p priority-solution --example demo`.
//!
//! One worker, a burst of 2. Six Low jobs are queued, then six High ones: watch the worker
//! take High jobs first, yet never more than two in a row while a Low job waits — priority
//! without starvation, decided by a rule rather than by the random choice of the seed's
//! `select`.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use priority::{Priority, PriorityPool};

fn main() {
    trace::start(
        "Exercise 4 — priority pool: 1 worker, at most 2 High jobs in a row while a Low waits",
        1,
    );
    let (pool, results) = PriorityPool::new(1, 2, |name: String| {
        trace::job(&name, || trace::work(Duration::from_millis(15)));
        name
    })
    .expect("one worker, burst 2");
    // Everything is queued within microseconds, long before the first 15 ms job ends: the
    // order below is the pool's choice, not the order of arrival.
    for i in 0..6 {
        pool.submit(Priority::Low, format!("low {i}"))
            .expect("open");
    }
    for i in 0..6 {
        pool.submit(Priority::High, format!("HIGH {i}"))
            .expect("open");
    }
    trace::say("queued: 6 Low, then 6 High");
    pool.shutdown();
    let order: Vec<String> = results.iter().collect();
    trace::say(format!("order run: {}", order.join(", ")));
    trace::done(order.len());
}
