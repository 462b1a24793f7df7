//! Exercise 3's pool as a bench subject.
//!
//! `super::dynamic` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench dynamic`.

use bench_kit::{Subject, Work};

use super::dynamic::{DynamicPool, Scaling};

/// Every way this bench uses the pool: a fixed crew first, then one that grows from one.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Fixed), Box::new(Growing)]
}

fn run(scaling: Scaling, jobs: u64, work: Work) -> Result<Option<u64>, String> {
    // A clock that never moves: nothing is retired during the run.
    let (pool, results) =
        DynamicPool::new(scaling, || 0u64, move |i: u64| work.run(i)).map_err(|e| e.to_string())?;
    for i in 0..jobs {
        pool.submit(i).map_err(|_| "submit handed a job back")?;
    }
    pool.shutdown();
    Ok(Some(results.iter().fold(0, u64::wrapping_add)))
}

/// `min = max = workers`: the pool as a fixed pool, to compare with exercise 1.
pub struct Fixed;

impl Subject for Fixed {
    fn name(&self) -> String {
        "dynamic".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let scaling = Scaling {
            min: workers,
            max: workers,
            grow_above: 1,
            idle_after: u64::MAX,
        };
        run(scaling, jobs, work)
    }
}

/// `min = 1`, growing to `workers` as jobs wait.
pub struct Growing;

impl Subject for Growing {
    fn name(&self) -> String {
        "dynamic, growing from 1".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let scaling = Scaling {
            min: 1,
            max: workers,
            grow_above: 1,
            idle_after: u64::MAX,
        };
        run(scaling, jobs, work)
    }
}
