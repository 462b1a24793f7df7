//! The seed tutorial's error-handling pool, written in Rust as the Go code is written — and
//! its deadlock: `cargo run -p errors-solution --example seed-deadlock`.
//!
//! ```go
//! for job := range wpe.jobs {
//!     result, err := processWithError(job)
//!     if err != nil { wpe.errors <- err } else { wpe.results <- result }
//! }
//! // …
//! wg.Wait()
//! close(wpe.results)
//! close(wpe.errors)
//! ```
//!
//! Two buffered channels, and nobody reads either until every worker is done. As soon as one
//! of them is full a worker blocks on it, `wg.Wait()` never returns, and nothing is read. (A
//! caller that reads `results` to the end first and then `errors` deadlocks the same way
//! once `errors` fills.) A watchdog notices, explains, and exits with code 2. `--fixed` uses
//! one channel of outcomes, read while the workers run — exercise 6's design — and exits 0.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use workbook_sync::channel;
use workbook_sync::thread;

const EXPLAINED: &str = "\
What happened (the seed's `processWithErrors`, as written):
  * `errors` holds 2 errors and nobody reads it before the workers are done;
  * a worker whose job failed is blocked in `errors.send(..)` (Go: `wpe.errors <- err`);
  * main is blocked joining the workers (Go: `wg.Wait()`): the blocked worker never
    finishes, so the join never returns, so nobody ever reads `errors`.

The fix is one stream of outcomes (Go: a `chan Outcome`; Rust: exercise 6's `Outcomes`,
an iterator of `Outcome::Done | Failed | Panicked | …`), read while the workers run, and an
unbounded (or drained) buffer, so a worker never waits for a reader. Run with `--fixed`.";

enum Outcome {
    Done(u32),
    Failed(String),
}

fn process(job: u32) -> Result<u32, String> {
    trace::job(format!("job {job}"), || {
        trace::work(Duration::from_millis(5));
        if job % 2 == 1 {
            Err(format!("job {job} failed"))
        } else {
            Ok(job * 10)
        }
    })
}

fn main() {
    let fixed = std::env::args().any(|a| a == "--fixed");
    let workers = 2;
    trace::start(
        if fixed {
            "The seed's error pool, corrected: one stream of outcomes, read while workers run"
        } else {
            "The seed's error pool as written: two channels, read after wg.Wait()"
        },
        workers,
    );
    let (jobs_tx, jobs_rx) = channel::bounded::<u32>(16);
    for job in 0..10 {
        jobs_tx.send(job).expect("room in the queue");
    }
    drop(jobs_tx);
    let dog = trace::Watchdog::start(Duration::from_secs(2), EXPLAINED);
    if fixed {
        let (out_tx, out_rx) = channel::unbounded::<Outcome>();
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (jobs, out) = (jobs_rx.clone(), out_tx.clone());
                thread::spawn(move || {
                    for job in jobs.iter() {
                        let _ = out.send(match process(job) {
                            Ok(r) => Outcome::Done(r),
                            Err(e) => Outcome::Failed(e),
                        });
                    }
                })
            })
            .collect();
        drop(out_tx);
        let (mut done, mut failed, mut total) = (0, 0, 0u64);
        for outcome in out_rx.iter() {
            match outcome {
                Outcome::Done(r) => {
                    done += 1;
                    total += u64::from(r);
                }
                Outcome::Failed(e) => {
                    failed += 1;
                    trace::say(format!("outcome: {e}"));
                }
            }
        }
        for h in handles {
            let _ = h.join();
        }
        dog.ok();
        trace::say(format!(
            "{done} done (results sum to {total}), {failed} failed; every worker joined"
        ));
        trace::done(done + failed);
    } else {
        let (results_tx, results_rx) = channel::bounded::<u32>(2);
        let (errors_tx, errors_rx) = channel::bounded::<String>(2);
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (jobs, results, errors) =
                    (jobs_rx.clone(), results_tx.clone(), errors_tx.clone());
                thread::spawn(move || {
                    for job in jobs.iter() {
                        match process(job) {
                            Ok(r) => {
                                trace::lane(format!("results <- {r} …"));
                                let _ = results.send(r);
                            }
                            Err(e) => {
                                trace::lane("errors <- err …");
                                let _ = errors.send(e);
                            }
                        }
                    }
                })
            })
            .collect();
        drop((results_tx, errors_tx));
        trace::say("main: wg.Wait() — joining the workers before reading either channel");
        for h in handles {
            let _ = h.join();
        }
        dog.ok(); // never reached
        let (r, e) = (results_rx.iter().count(), errors_rx.iter().count());
        trace::say(format!("{r} results, {e} errors"));
    }
}
