//! Exercise 1's pool as a bench subject.
//!
//! `super::basic` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench basic`.

use std::ops::Range;

use bench_kit::{Subject, Work};

use super::basic::WorkerPool;

/// Every way this bench uses the pool: plain jobs first.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Plain), Box::new(Boxed), Box::new(Batched(1024))]
}

fn sum(results: impl Iterator<Item = u64>) -> u64 {
    results.fold(0, u64::wrapping_add)
}

/// Jobs are plain data (`u64`); the pool's one function does the work.
pub struct Plain;

impl Subject for Plain {
    fn name(&self) -> String {
        "basic".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (pool, results) =
            WorkerPool::new(workers, move |i: u64| work.run(i)).map_err(|e| e.to_string())?;
        for i in 0..jobs {
            pool.submit(i).map_err(|_| "submit handed a job back")?;
        }
        pool.shutdown();
        Ok(Some(sum(results.iter())))
    }
}

/// Jobs are boxed closures, as general-purpose pools take them.
pub struct Boxed;

type Job = Box<dyn FnOnce() -> u64 + Send>;

impl Subject for Boxed {
    fn name(&self) -> String {
        "basic, boxed closures".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (pool, results) =
            WorkerPool::new(workers, |job: Job| job()).map_err(|e| e.to_string())?;
        for i in 0..jobs {
            pool.submit(Box::new(move || work.run(i)))
                .map_err(|_| "submit handed a job back")?;
        }
        pool.shutdown();
        Ok(Some(sum(results.iter())))
    }
}

/// Each submitted job is a batch: a range of job numbers, run one after the other.
pub struct Batched(pub u64);

impl Subject for Batched {
    fn name(&self) -> String {
        format!("basic, batches of {}", self.0)
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (pool, results) = WorkerPool::new(workers, move |batch: Range<u64>| {
            sum(batch.map(|i| work.run(i)))
        })
        .map_err(|e| e.to_string())?;
        let size = self.0.max(1);
        for start in (0..jobs).step_by(size as usize) {
            pool.submit(start..(start + size).min(jobs))
                .map_err(|_| "submit handed a job back")?;
        }
        pool.shutdown();
        Ok(Some(sum(results.iter())))
    }
}
