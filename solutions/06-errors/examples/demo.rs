//! Exercise 6's pool at work: `cargo run -p errors-solution --example demo`.
//!
//! Two workers, up to three attempts per job. Job 2 fails twice with a transient error and
//! then succeeds; job 4 fails for good; job 6 panics. Watch every job end in exactly one
//! outcome on one stream, the retries happen, and the worker whose job panicked take the
//! next job as if nothing had happened.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use errors::{ErrorPool, Outcome, Policy, Transient};

#[derive(Debug)]
enum JobError {
    Busy,
    Broken,
}

impl Transient for JobError {
    fn is_transient(&self) -> bool {
        matches!(self, JobError::Busy)
    }
}

fn main() {
    let workers = 2;
    trace::start(
        "Exercise 6 — error handling: 2 workers, 3 attempts per job, one outcome per job",
        workers,
    );
    // One line in the worker's column instead of the default hook's message and backtrace.
    std::panic::set_hook(Box::new(|info| trace::lane(format!("panic: {info}"))));
    let policy = Policy {
        max_attempts: 3,
        ..Policy::default()
    };
    let (pool, outcomes) = ErrorPool::new(
        workers,
        policy,
        || 0u64,
        |job: &u32, attempt| {
            trace::job(format!("job {job}, attempt {}", attempt.number), || {
                trace::work(Duration::from_millis(15));
                match *job {
                    2 if attempt.number < 3 => Err(JobError::Busy),
                    4 => Err(JobError::Broken),
                    6 => fail_hard(),
                    n => Ok(n * 100),
                }
            })
        },
    )
    .expect("a valid policy");
    for job in 0..8u32 {
        pool.submit(job).expect("the pool is open");
    }
    pool.shutdown();
    let mut n = 0;
    for outcome in outcomes {
        n += 1;
        trace::say(match outcome {
            Outcome::Done {
                id,
                value,
                attempts,
            } => format!("#{}: done, {value}, after {attempts} attempt(s)", id.0),
            Outcome::Failed {
                id,
                error,
                attempts,
            } => format!(
                "#{}: failed with {error:?} after {attempts} attempt(s)",
                id.0
            ),
            Outcome::Panicked { id, message, .. } => format!("#{}: panicked: {message}", id.0),
            Outcome::Rejected { id, .. } => format!("#{}: rejected by the breaker", id.0),
            Outcome::NotRun { id, .. } => format!("#{}: not run", id.0),
        });
    }
    trace::done(n);
}

/// A job that panics: the pool turns it into `Outcome::Panicked`.
fn fail_hard() -> Result<u32, JobError> {
    panic!("job 6 divided by zero")
}
