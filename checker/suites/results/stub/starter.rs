//! Starter tests for exercise 5. Run them with `cargo test -p results`; the checker runs these
//! and a hidden suite with `cargo checker check results`.

use pretty_assertions::assert_eq;
use results::{JobId, JobResult, Order, PoolError, ResultPool, fold};

#[test]
fn results_carry_their_job_ids() {
    let (pool, results) = ResultPool::new(3, Order::Completion, |n: u64| n * 10).unwrap();
    for n in 0..5 {
        assert_eq!(
            pool.submit(n),
            Ok(JobId(n)),
            "ids count 0, 1, 2, … in submission order"
        );
    }
    pool.shutdown();
    let mut got: Vec<JobResult<u64>> = results.collect();
    got.sort_by_key(|r| r.id);
    let want: Vec<JobResult<u64>> = (0..5)
        .map(|n| JobResult {
            id: JobId(n),
            value: n * 10,
        })
        .collect();
    assert_eq!(got, want);
}

// ANCHOR: usage
#[test]
fn ordered_mode_keeps_submission_order() {
    let order = Order::Submission { window: 4 };
    let (pool, results) = ResultPool::new(3, order, |s: &'static str| s.len()).unwrap();
    for word in ["pool", "of", "worker", "threads"] {
        pool.submit(word).unwrap();
    }
    pool.shutdown();
    let lengths: Vec<usize> = results.map(|r| r.value).collect();
    assert_eq!(lengths, vec![4, 2, 6, 7]);
}

#[test]
fn fold_adds_up_the_results() {
    let total = fold(
        2,
        Order::Completion,
        1..=10u64,
        |n| n * n,
        0,
        |acc, r| acc + r.value,
    );
    assert_eq!(total, Ok(385));
}
// ANCHOR_END: usage

#[test]
fn zero_workers_is_an_error() {
    let outcome = ResultPool::<u8>::new(0, Order::Completion, |n: u8| n);
    assert_eq!(outcome.err(), Some(PoolError::NoWorkers));
}
