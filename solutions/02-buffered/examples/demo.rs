//! Exercise 2's pool at work: `cargo run -p buffered-solution --example demo`.
//!
//! Two workers, a job queue of 2 places and a results buffer of 2 places, and a reader that
//! is slower than the workers. Watch `submit` wait while the queue is full (backpressure),
//! the workers wait while the results buffer is full, and `shutdown` read what is left while
//! it waits for the workers — the line that makes the seed's deadlock impossible (see the
//! `seed-deadlock` example).

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::{Duration, Instant};

use buffered::{BufferedPool, Buffers};

fn main() {
    let workers = 2;
    trace::start(
        "Exercise 2 — buffered pool: 2 workers, 2 queued jobs at most, 2 unread results at most",
        workers,
    );
    let buffers = Buffers {
        jobs: 2,
        results: 2,
    };
    let (pool, results) = BufferedPool::new(workers, buffers, |id: u32| {
        trace::job(format!("job {id}"), || {
            trace::work(Duration::from_millis(20))
        });
        id
    })
    .expect("two workers");
    // A slow consumer: one result every 50 ms, for the first four results.
    let reader = std::thread::spawn(move || {
        for _ in 0..4 {
            match results.recv() {
                Ok(id) => trace::say(format!("reader took the result of job {id}")),
                Err(_) => return,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        trace::say("reader stops reading");
    });
    for id in 0..10u32 {
        let asked = Instant::now();
        pool.submit(id).expect("the pool is open");
        let waited = asked.elapsed().as_millis();
        if waited > 2 {
            trace::say(format!(
                "submit(job {id}) waited {waited} ms: the queue was full"
            ));
        } else {
            trace::say(format!("submit(job {id}) queued at once"));
        }
    }
    let _ = reader.join();
    trace::say("shutdown: reads the results nobody took while it waits for the workers");
    let rest = pool.shutdown();
    trace::say(format!(
        "shutdown returned the unread results of jobs {rest:?}"
    ));
    trace::done(10);
}
