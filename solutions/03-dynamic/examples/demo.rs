//! Exercise 3's pool at work: `cargo run -p dynamic-solution --example demo`.
//!
//! A pool that may grow from one worker to four. Twelve jobs arrive at once: watch a worker
//! start whenever more than two jobs wait, up to four; then, once the work is done and the
//! (manual) clock has moved on, `retire_idle` stop the idle workers down to the minimum.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use dynamic::{DynamicPool, ManualClock, Scaling};

fn main() {
    let scaling = Scaling {
        min: 1,
        max: 4,
        grow_above: 2,
        idle_after: 100,
    };
    trace::start(
        "Exercise 3 — dynamic pool: 1 to 4 workers, one more whenever more than 2 jobs wait",
        scaling.max,
    );
    let clock = ManualClock::new(0);
    let (pool, results) = DynamicPool::new(scaling, clock.clone(), |id: u32| {
        trace::job(format!("job {id}"), || {
            trace::work(Duration::from_millis(30))
        });
        id
    })
    .expect("a valid scaling");
    trace::say(format!("started with {} worker(s)", pool.workers()));
    for id in 0..12u32 {
        pool.submit(id).expect("the pool is open");
        trace::say(format!("submitted job {id}: {} worker(s)", pool.workers()));
    }
    // Take every result (the pool stays open), so the workers are idle afterwards.
    let taken: Vec<u32> = results.iter().take(12).collect();
    trace::say(format!("all 12 results taken: {taken:?}"));
    clock.advance(150);
    let retired = pool.retire_idle();
    trace::say(format!(
        "clock +150 ticks, retire_idle(): {retired} retired, {} worker(s) left",
        pool.workers()
    ));
    pool.shutdown();
    trace::done(taken.len());
}
