//! Exercise 8's pool as a bench subject.
//!
//! `super::rate_limit` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench rate-limit`.

use std::sync::Arc;

use bench_kit::{Subject, Work};

use super::rate_limit::{Limits, ManualClock, RateLimitedPool, RateLimiter};

/// Every way this bench uses the pool: a limit never reached, so what is measured is the
/// cost of asking the limiter for every job.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Unreached(64))]
}

/// A bucket that never runs dry, a queue of this many places.
pub struct Unreached(pub usize);

impl Subject for Unreached {
    fn name(&self) -> String {
        format!("rate-limit (limit never reached, queue {})", self.0)
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let limits = Limits {
            rate: u32::MAX,
            burst: u32::MAX,
        };
        let limiter =
            Arc::new(RateLimiter::new(limits, ManualClock::new()).map_err(|e| e.to_string())?);
        let (pool, results) =
            RateLimitedPool::new(workers, self.0, limiter, move |i: u64| work.run(i))
                .map_err(|e| e.to_string())?;
        // Shutdown hands back the jobs not started yet: take every result first.
        let reader = std::thread::spawn(move || {
            let mut sum = 0u64;
            for _ in 0..jobs {
                match results.recv() {
                    Ok(r) => sum = sum.wrapping_add(r),
                    Err(_) => return Err("the results stream ended early".to_string()),
                }
            }
            Ok(sum)
        });
        for i in 0..jobs {
            pool.submit(i).map_err(|_| "submit handed a job back")?;
        }
        let sum = reader.join().map_err(|_| "the reader panicked")??;
        let back = pool.shutdown();
        if !back.is_empty() {
            return Err(format!(
                "{} jobs handed back after every result",
                back.len()
            ));
        }
        Ok(Some(sum))
    }
}
