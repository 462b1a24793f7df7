//! Exercise 7's thread pool as a bench subject.
//!
//! `super::timeout` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench timeout`.

use bench_kit::{Subject, Work};

use super::timeout::{CancelToken, Config, Outcome, TimeoutPool};

/// Every way this bench uses the pool (the budget is never reached: the clock never moves).
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Timeout)]
}

/// A generous budget per job on a clock that never moves, so every job is `Done`.
pub struct Timeout;

impl Subject for Timeout {
    fn name(&self) -> String {
        "timeout".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let config = Config {
            workers,
            deadline: None,
        };
        let (pool, outcomes) =
            TimeoutPool::new(config, || 0u64, move |i: u64, _: &CancelToken| work.run(i))
                .map_err(|e| e.to_string())?;
        for i in 0..jobs {
            pool.submit(i, 1_000_000)
                .map_err(|_| "submit handed a job back")?;
        }
        let never_ran = pool.finish();
        if !never_ran.is_empty() {
            return Err(format!("{} jobs never ran", never_ran.len()));
        }
        let mut sum = 0u64;
        for outcome in outcomes {
            match outcome {
                Outcome::Done(_, value) => sum = sum.wrapping_add(value),
                Outcome::TimedOut(id) => {
                    return Err(format!(
                        "job {} timed out on a clock that never moves",
                        id.0
                    ));
                }
            }
        }
        Ok(Some(sum))
    }
}
