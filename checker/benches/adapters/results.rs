//! Exercise 5's pool as a bench subject.
//!
//! `super::results` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench results`.

use bench_kit::{Subject, Work};

use super::results::{Order, ResultPool, fold};

/// Every way this bench uses the pool: completion order first, then submission order.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Completion), Box::new(Submission(1024))]
}

/// Results as jobs finish, taken after shutdown.
pub struct Completion;

impl Subject for Completion {
    fn name(&self) -> String {
        "results".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (pool, results) =
            ResultPool::new(workers, Order::Completion, move |i: u64| work.run(i))
                .map_err(|e| e.to_string())?;
        for i in 0..jobs {
            pool.submit(i).map_err(|_| "submit handed a job back")?;
        }
        pool.shutdown();
        Ok(Some(results.fold(0, |a, r| a.wrapping_add(r.value))))
    }
}

/// Results in submission order through `fold`, with a window of this many jobs.
pub struct Submission(pub usize);

impl Subject for Submission {
    fn name(&self) -> String {
        format!("results, in order (fold, window {})", self.0)
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        fold(
            workers,
            Order::Submission { window: self.0 },
            0..jobs,
            move |i: u64| work.run(i),
            0u64,
            |a, r| a.wrapping_add(r.value),
        )
        .map(Some)
        .map_err(|e| e.to_string())
    }
}
