//! Exercise 7's thread pool at work: `cargo run -p timeout-solution --example demo`.
//!
//! Two workers, a budget of 40 ms per job, on a clock that reads real milliseconds. Two jobs
//! run too long: one notices its token has been cancelled and stops early, the other ignores
//! it (a thread cannot be killed) and its late result is dropped. Watch `expire` report each
//! timeout the moment the deadline passes, while the workers go on with the next jobs.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::{Duration, Instant};

use timeout::{CancelToken, Config, Outcome, TimeoutPool};

fn main() {
    let workers = 2;
    trace::start(
        "Exercise 7 — timeouts: 2 workers, 40 ms per job, a clock in real milliseconds",
        workers,
    );
    let start = Instant::now();
    let clock = move || start.elapsed().as_millis() as u64;
    let config = Config {
        workers,
        deadline: None,
    };
    let (pool, outcomes) = TimeoutPool::new(
        config,
        clock,
        |(id, ms): (u32, u64), token: &CancelToken| {
            trace::job(format!("job {id} ({ms} ms)"), || {
                let began = Instant::now();
                while began.elapsed() < Duration::from_millis(ms) {
                    // Job 3 is cooperative: it looks at its token between steps.
                    if id == 3 && token.is_cancelled() {
                        trace::lane(format!("job {id} sees its token cancelled, stops"));
                        return id;
                    }
                    trace::work(Duration::from_millis(5));
                }
                id
            })
        },
    )
    .expect("two workers");
    let jobs = [
        (0, 10),
        (1, 20),
        (2, 15),
        (3, 120),
        (4, 10),
        (5, 90),
        (6, 20),
        (7, 10),
    ];
    for (id, ms) in jobs {
        pool.submit((id, ms), 40).expect("no overall deadline");
    }
    trace::say("8 jobs submitted; main calls expire() every 5 ms");
    let mut seen = 0;
    while seen < jobs.len() {
        match outcomes.recv_timeout(Duration::from_millis(5)) {
            Ok(Outcome::Done(id, _)) => {
                seen += 1;
                trace::say(format!("#{}: done in time", id.0));
            }
            Ok(Outcome::TimedOut(id)) => {
                seen += 1;
                trace::say(format!("#{}: TIMED OUT (its token is cancelled)", id.0));
            }
            Err(_) => {
                pool.expire();
            }
        }
    }
    let never_ran = pool.finish();
    trace::say(format!("finish(): {} job(s) never ran", never_ran.len()));
    trace::done(seen);
}
