//! Exercise 6's pool as a bench subject.
//!
//! `super::errors` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench errors`.

use bench_kit::{Subject, Work};

use super::errors::{BreakerConfig, ErrorPool, Outcome, Policy, Transient};

/// Every way this bench uses the pool: the default policy first, then with a breaker.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![Box::new(Plain), Box::new(WithBreaker)]
}

/// These jobs never fail.
#[derive(Debug)]
pub struct Never;

impl Transient for Never {
    fn is_transient(&self) -> bool {
        false
    }
}

fn run(workers: usize, policy: Policy, jobs: u64, work: Work) -> Result<Option<u64>, String> {
    let (pool, outcomes) = ErrorPool::new(
        workers,
        policy,
        || 0u64,
        move |i: &u64, _| Ok::<u64, Never>(work.run(*i)),
    )
    .map_err(|e| e.to_string())?;
    for i in 0..jobs {
        pool.submit(i).map_err(|_| "submit handed a job back")?;
    }
    pool.shutdown();
    let mut sum = 0u64;
    for outcome in outcomes {
        match outcome {
            Outcome::Done { value, .. } => sum = sum.wrapping_add(value),
            other => return Err(format!("a job that cannot fail ended as {:?}", other.id())),
        }
    }
    Ok(Some(sum))
}

/// One attempt per job, no breaker.
pub struct Plain;

impl Subject for Plain {
    fn name(&self) -> String {
        "errors".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        run(workers, Policy::default(), jobs, work)
    }
}

/// Every job asks a circuit breaker first (which never opens: nothing fails).
pub struct WithBreaker;

impl Subject for WithBreaker {
    fn name(&self) -> String {
        "errors, with a circuit breaker".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let policy = Policy {
            breaker: Some(BreakerConfig {
                threshold: 5,
                cooldown: 100,
            }),
            ..Policy::default()
        };
        run(workers, policy, jobs, work)
    }
}
