//! Exercise 5's pool at work: `cargo run -p results-solution --example demo`.
//!
//! Three workers, jobs that take different times, results wanted in submission order with
//! a window of 4. Watch the jobs finish out of order, the results still come out 0, 1, 2, …,
//! and `submit` wait whenever four jobs are in the pool (the window bounds the reorder
//! buffer).

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use results::{Order, ResultPool};

fn main() {
    let workers = 3;
    trace::start(
        "Exercise 5 — results pool: 3 workers, results in submission order, window 4",
        workers,
    );
    let (pool, results) = ResultPool::new(workers, Order::Submission { window: 4 }, |ms: u64| {
        trace::job(format!("{ms} ms job"), || {
            trace::work(Duration::from_millis(ms))
        });
        ms
    })
    .expect("three workers, window 4");
    let consumer = std::thread::spawn(move || {
        let mut n = 0;
        for r in results {
            trace::say(format!("result of job #{} ({} ms)", r.id.0, r.value));
            n += 1;
        }
        n
    });
    for ms in [60u64, 10, 30, 10, 50, 20, 10, 40, 10, 30] {
        let id = pool.submit(ms).expect("the pool is open");
        trace::say(format!("submitted job #{} ({ms} ms)", id.0));
    }
    pool.shutdown();
    let n = consumer.join().expect("the consumer");
    trace::done(n);
}
