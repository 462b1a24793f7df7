//! Starter tests for exercise 3. Run them with `cargo test -p dynamic`; the checker runs these
//! and a hidden suite with `cargo checker check dynamic`.

use dynamic::{DynamicPool, ManualClock, PoolError, Scaling};
use pretty_assertions::assert_eq;

#[test]
fn starts_min_workers_and_runs_every_job() {
    let scaling = Scaling {
        min: 2,
        max: 4,
        grow_above: 100,
        idle_after: 10,
    };
    let (pool, results) = DynamicPool::new(scaling, ManualClock::new(0), |n: u64| n * n).unwrap();
    assert_eq!(pool.workers(), 2, "a new pool starts `min` workers");
    for n in 1..=5 {
        pool.submit(n).unwrap();
    }
    pool.shutdown();
    let mut squares: Vec<u64> = results.iter().collect();
    squares.sort_unstable();
    assert_eq!(squares, vec![1, 4, 9, 16, 25]);
}

#[test]
fn invalid_limits_are_errors() {
    let clock = ManualClock::new(0);
    let no_max = Scaling {
        min: 0,
        max: 0,
        grow_above: 1,
        idle_after: 1,
    };
    let outcome = DynamicPool::<u8>::new(no_max, clock.clone(), |n: u8| n);
    assert_eq!(outcome.err(), Some(PoolError::NoWorkers));
    let upside_down = Scaling {
        min: 3,
        max: 2,
        grow_above: 1,
        idle_after: 1,
    };
    let outcome = DynamicPool::<u8>::new(upside_down, clock, |n: u8| n);
    assert_eq!(
        outcome.err(),
        Some(PoolError::MinAboveMax { min: 3, max: 2 })
    );
}

#[test]
fn idle_worker_retires_after_the_timeout() {
    // ANCHOR: usage
    let clock = ManualClock::new(0);
    let scaling = Scaling {
        min: 0,
        max: 1,
        grow_above: 100,
        idle_after: 5,
    };
    let (pool, results) = DynamicPool::new(scaling, clock.clone(), |n: u32| n + 1).unwrap();
    assert_eq!(pool.workers(), 0, "min = 0: no worker until there is work");
    pool.submit(1).unwrap();
    assert_eq!(
        pool.workers(),
        1,
        "a submit to a pool without workers starts one"
    );
    // Once its result is here, the worker counts as idle (since time 0).
    assert_eq!(results.recv(), Ok(2));
    clock.advance(4);
    assert_eq!(pool.retire_idle(), 0, "idle for 4 ticks, idle_after = 5");
    clock.advance(1);
    assert_eq!(pool.retire_idle(), 1, "idle for 5 ticks: retired");
    assert_eq!(pool.workers(), 0);
    pool.shutdown();
    // ANCHOR_END: usage
}
