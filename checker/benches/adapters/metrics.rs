//! Exercise 9's pool as a bench subject.
//!
//! `super::metrics` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench metrics`.

use std::hint::black_box;
use std::time::Duration;

use bench_kit::{Subject, Work};

use super::metrics::{Config, MetricsPool, SystemClock, Window};

/// Every way this bench uses the pool: the real clock first, then a clock that never moves
/// (only the bookkeeping is left).
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Metrics), Box::new(FrozenClock)]
}

fn config(workers: usize) -> Config {
    Config {
        workers,
        buckets: [1, 10, 100, 1_000, 10_000, 100_000]
            .iter()
            .map(|&us| Duration::from_micros(us))
            .collect(),
        window: Window {
            span: Duration::from_secs(10),
            slots: 10,
        },
    }
}

/// The pool gives no results back: its final snapshot must count every job as succeeded.
fn check(succeeded: u64, jobs: u64) -> Result<Option<u64>, String> {
    if succeeded == jobs {
        Ok(None)
    } else {
        Err(format!(
            "the final snapshot counts {succeeded} jobs succeeded of {jobs}"
        ))
    }
}

/// With `SystemClock`: three clock readings per job.
pub struct Metrics;

impl Subject for Metrics {
    fn name(&self) -> String {
        "metrics".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let pool = MetricsPool::new(config(workers), SystemClock::new(), move |i: u64| {
            black_box(work.run(i));
            Ok::<(), ()>(())
        })
        .map_err(|e| e.to_string())?;
        for i in 0..jobs {
            pool.submit(i);
        }
        check(pool.shutdown().succeeded, jobs)
    }
}

/// With a clock that never moves.
pub struct FrozenClock;

impl Subject for FrozenClock {
    fn name(&self) -> String {
        "metrics, frozen clock".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let pool = MetricsPool::new(
            config(workers),
            || Duration::ZERO,
            move |i: u64| {
                black_box(work.run(i));
                Ok::<(), ()>(())
            },
        )
        .map_err(|e| e.to_string())?;
        for i in 0..jobs {
            pool.submit(i);
        }
        check(pool.shutdown().succeeded, jobs)
    }
}
