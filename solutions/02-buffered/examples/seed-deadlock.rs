//! The seed tutorial's basic pool, written in Rust as the Go code is written — and the
//! deadlock it has: `cargo run -p buffered-solution --example seed-deadlock`.
//!
//! ```go
//! for job := range jobs { results <- process(job) }   // each worker
//! wg.Wait()        // wait for the workers …
//! close(results)   // … and only then let anyone read the results
//! ```
//!
//! With a results buffer smaller than the number of jobs, a worker blocks on a full
//! `results`, so it never finishes, so `wg.Wait()` never returns, so nobody ever reads
//! `results`. A watchdog notices that nothing moves, explains, and ends the process with
//! exit code 2. `--fixed` runs the corrected order — drain while waiting — which is what
//! `BufferedPool::shutdown` does, and exits 0.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use workbook_sync::channel;
use workbook_sync::thread;

const EXPLAINED: &str = "\
What happened (the seed's `workerPool`, as written):
  * the results buffer holds 1 result and nobody reads it yet;
  * worker 1 and worker 2 each finished a job and are blocked in `results.send(..)`:
    the buffer is full (Go: `results <- result`);
  * main is blocked in `join()` on a worker (Go: `wg.Wait()`), which cannot finish
    until its send succeeds, which needs a reader, which is main, after the join.
Everyone waits for someone who waits. Go's runtime reports this one as
`fatal error: all goroutines are asleep - deadlock!` only because *every* goroutine is
blocked; in a real program (an HTTP server, a ticker) it just hangs.

The fix: read the results while waiting for the workers — in Go, `wg.Wait(); close(results)`
in a goroutine of its own and `for r := range results` in the caller; in exercise 2,
`BufferedPool::shutdown` drains the buffer before it joins. Run with `--fixed` to see it,
and `cargo checker check buffered` to see the hidden suite catch the broken order.";

fn main() {
    let fixed = std::env::args().any(|a| a == "--fixed");
    let workers = 2;
    trace::start(
        if fixed {
            "The seed's basic pool, corrected: drain the results while waiting for the workers"
        } else {
            "The seed's basic pool as written: wait for the workers, then read the results"
        },
        workers,
    );
    let (jobs_tx, jobs_rx) = channel::bounded::<u32>(8);
    let (results_tx, results_rx) = channel::bounded::<u32>(1);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
            thread::spawn(move || {
                for job in jobs.iter() {
                    let r = trace::job(format!("job {job}"), || {
                        trace::work(Duration::from_millis(10));
                        job * 10
                    });
                    trace::lane(format!("send result {r} …"));
                    let _ = results.send(r);
                    trace::lane(format!("sent {r}"));
                }
            })
        })
        .collect();
    drop(results_tx);
    for job in 0..5 {
        jobs_tx.send(job).expect("workers are running");
    }
    drop(jobs_tx);
    trace::say("5 jobs queued, queue closed");

    let dog = trace::Watchdog::start(Duration::from_secs(2), EXPLAINED);
    if fixed {
        // Read while the workers run; the loop ends when the last worker has dropped its
        // Sender, i.e. has finished. Then joining cannot wait.
        let all: Vec<u32> = results_rx.iter().collect();
        for h in handles {
            let _ = h.join();
        }
        dog.ok();
        trace::say(format!("results {all:?}; every worker joined"));
        trace::done(all.len());
    } else {
        trace::say("main: wg.Wait() — joining the workers before reading any result");
        for h in handles {
            let _ = h.join();
        }
        // Never reached with a 1-place results buffer and 5 jobs.
        dog.ok();
        let all: Vec<u32> = results_rx.iter().collect();
        trace::say(format!("results {all:?}"));
    }
}
