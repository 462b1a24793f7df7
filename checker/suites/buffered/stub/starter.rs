//! Starter tests for exercise 2. Run them with `cargo test -p buffered`; the checker runs these
//! and a hidden suite with `cargo checker check buffered`.

use buffered::{BufferedPool, Buffers, PoolError, TrySubmitError};
use pretty_assertions::assert_eq;

#[test]
fn squares_every_job() {
    let buffers = Buffers {
        jobs: 2,
        results: 8,
    };
    let (pool, results) = BufferedPool::new(3, buffers, |n: u64| n * n).unwrap();
    for n in 1..=5 {
        pool.submit(n).unwrap();
    }
    let mut squares = pool.shutdown();
    squares.sort_unstable();
    assert_eq!(squares, vec![1, 4, 9, 16, 25]);
    // shutdown took every result; the stream has ended.
    assert_eq!(results.iter().count(), 0);
}

// ANCHOR: usage
#[test]
fn shutdown_never_waits_for_a_reader() {
    // Six jobs, a results buffer of one, and nobody reading: shutdown must empty the
    // buffer itself while it waits for the workers, and hand back all six results.
    let buffers = Buffers {
        jobs: 4,
        results: 1,
    };
    let (pool, _results) = BufferedPool::new(2, buffers, |n: u32| n + 100).unwrap();
    for n in 0..6 {
        pool.submit(n).unwrap();
    }
    let mut got = pool.shutdown();
    got.sort_unstable();
    assert_eq!(got, vec![100, 101, 102, 103, 104, 105]);
}
// ANCHOR_END: usage

#[test]
fn closed_pool_hands_jobs_back() {
    let buffers = Buffers {
        jobs: 1,
        results: 1,
    };
    let (mut pool, _results) = BufferedPool::new(1, buffers, |s: String| s.len()).unwrap();
    pool.close();
    assert_eq!(pool.submit("a".to_string()), Err("a".to_string()));
    assert_eq!(
        pool.try_submit("b".to_string()),
        Err(TrySubmitError::Closed("b".to_string()))
    );
}

#[test]
fn zero_workers_is_an_error() {
    let outcome = BufferedPool::<u8, u8>::new(
        0,
        Buffers {
            jobs: 1,
            results: 1,
        },
        |n| n,
    );
    assert_eq!(outcome.err(), Some(PoolError::NoWorkers));
}
