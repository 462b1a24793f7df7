//! Exercise 4's pool as a bench subject.
//!
//! `super::priority` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench priority`.

use bench_kit::{Subject, Work};

use super::priority::{Priority, PriorityPool};

/// Every way this bench uses the pool: both priorities, alternating, then High only.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Mixed), Box::new(HighOnly)]
}

fn run(
    workers: usize,
    jobs: u64,
    work: Work,
    priority: fn(u64) -> Priority,
) -> Result<Option<u64>, String> {
    let (pool, results) =
        PriorityPool::new(workers, 4, move |i: u64| work.run(i)).map_err(|e| e.to_string())?;
    for i in 0..jobs {
        pool.submit(priority(i), i)
            .map_err(|_| "submit handed a job back")?;
    }
    pool.shutdown();
    Ok(Some(results.iter().fold(0, u64::wrapping_add)))
}

/// Jobs alternate High and Low (burst 4).
pub struct Mixed;

impl Subject for Mixed {
    fn name(&self) -> String {
        "priority".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        run(workers, jobs, work, |i| {
            if i % 2 == 0 {
                Priority::High
            } else {
                Priority::Low
            }
        })
    }
}

/// Every job High.
pub struct HighOnly;

impl Subject for HighOnly {
    fn name(&self) -> String {
        "priority, High only".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        run(workers, jobs, work, |_| Priority::High)
    }
}
