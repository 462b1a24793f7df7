//! Exercise 1's pool at work: `cargo run -p basic-solution --example demo`.
//!
//! Three workers share one queue of twelve jobs of different lengths. Watch a worker that
//! finishes early take the next job while the others are still busy (no job is assigned to
//! a worker in advance), every queued job still run after `shutdown` is called, and the
//! results arrive in completion order, not submission order.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use basic::WorkerPool;

fn main() {
    let workers = 3;
    trace::start(
        "Exercise 1 — basic pool: 3 workers, one shared queue, 12 jobs",
        workers,
    );
    let (pool, results) = WorkerPool::new(workers, |(id, ms): (u32, u64)| {
        trace::job(format!("job {id} ({ms} ms)"), || {
            trace::work(Duration::from_millis(ms));
        });
        id
    })
    .expect("three workers");
    for id in 0..12u32 {
        let ms = 10 + u64::from(id * 17 % 40);
        pool.submit((id, ms)).expect("the pool is open");
    }
    trace::say("12 jobs submitted; shutdown: the queue closes, every queued job still runs");
    pool.shutdown();
    let order: Vec<u32> = results.iter().collect();
    trace::say(format!("results, in completion order: {order:?}"));
    trace::done(order.len());
}
