//! Starter tests for exercise 1. Run them with `cargo test -p basic`; the checker runs these
//! and a hidden suite with `cargo checker check basic`.

use basic::{PoolError, WorkerPool};
use pretty_assertions::assert_eq;

#[test]
fn squares_every_job() {
    // ANCHOR: usage
    let (pool, results) = WorkerPool::new(3, |n: u64| n * n).unwrap();
    for n in 1..=5 {
        pool.submit(n).unwrap();
    }
    pool.shutdown(); // finishes the queued jobs and joins the workers
    let mut squares: Vec<u64> = results.iter().collect(); // ends: every Sender is gone
    squares.sort_unstable();
    assert_eq!(squares, vec![1, 4, 9, 16, 25]);
    // ANCHOR_END: usage
}

#[test]
fn zero_workers_is_an_error() {
    let outcome = WorkerPool::<u64>::new(0, |n: u64| n);
    assert_eq!(outcome.err(), Some(PoolError::NoWorkers));
}

#[test]
fn reports_its_worker_count() {
    let (pool, _results) = WorkerPool::<u8>::new(4, |n: u8| n).unwrap();
    assert_eq!(pool.workers(), 4);
}
