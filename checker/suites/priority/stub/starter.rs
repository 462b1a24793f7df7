//! Starter tests for exercise 4. Run them with `cargo test -p priority`; the checker runs these
//! and a hidden suite with `cargo checker check priority`.

use std::sync::{Arc, Barrier, Mutex};

use pretty_assertions::assert_eq;
use priority::{PoolError, Priority, PriorityPool};

#[test]
fn runs_jobs_of_both_priorities() {
    let (pool, results) = PriorityPool::new(2, 3, |n: u64| n * 10).unwrap();
    for n in 1..=6 {
        let priority = if n % 2 == 0 {
            Priority::High
        } else {
            Priority::Low
        };
        pool.submit(priority, n).unwrap();
    }
    pool.shutdown();
    let mut got: Vec<u64> = results.iter().collect();
    got.sort_unstable();
    assert_eq!(got, vec![10, 20, 30, 40, 50, 60]);
}

#[test]
fn zero_workers_or_zero_burst_is_an_error() {
    let no_workers = PriorityPool::<u64>::new(0, 1, |n: u64| n);
    assert_eq!(no_workers.err(), Some(PoolError::NoWorkers));
    let no_burst = PriorityPool::<u64>::new(1, 0, |n: u64| n);
    assert_eq!(no_burst.err(), Some(PoolError::ZeroBurst));
}

#[test]
fn high_jobs_go_first_then_a_low_one_gets_through() {
    // ANCHOR: usage
    // One worker, held inside job "busy" while the others are queued, so every later
    // choice is made by the pool's rule alone.
    let inside = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let order = Arc::new(Mutex::new(Vec::new()));
    let (i, r, o) = (
        Arc::clone(&inside),
        Arc::clone(&release),
        Arc::clone(&order),
    );
    let (pool, _results) = PriorityPool::new(1, 2, move |name: &'static str| {
        if name == "busy" {
            i.wait(); // tell the test the worker is inside this job
            r.wait(); // and stay here until everything is queued
        } else {
            o.lock().unwrap().push(name);
        }
    })
    .unwrap();
    pool.submit(Priority::High, "busy").unwrap();
    inside.wait();
    pool.submit(Priority::Low, "l1").unwrap();
    for name in ["h1", "h2", "h3"] {
        pool.submit(Priority::High, name).unwrap();
    }
    release.wait();
    pool.shutdown();
    // burst = 2: two High jobs may overtake the waiting Low job, then it goes.
    assert_eq!(*order.lock().unwrap(), vec!["h1", "h2", "l1", "h3"]);
    // ANCHOR_END: usage
}
