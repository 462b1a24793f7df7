//! Exercise 10's pipeline at work: `cargo run -p pipeline-solution --example demo`.
//!
//! Two stages: "parse" with one worker, then "resize" with two (it is the slow stage), links
//! of 2 places, results in order. Watch the slow stage get two workers, the fast one wait
//! when the link ahead of it is full (backpressure between stages), and the output come out
//! in input order although the second stage finishes items out of order.

#[path = "../../../checker/benches/kit/src/trace.rs"]
mod trace;

use std::time::Duration;

use pipeline::Pipeline;

fn main() {
    trace::start(
        "Exercise 10 — pipeline: parse (1 worker) → resize (2 workers), ordered output",
        3,
    );
    let (mut input, output) = Pipeline::<u32, u32, String>::new(2)
        .stage(1, 2, |n: u32| {
            trace::job(format!("parse {n}"), || {
                trace::work(Duration::from_millis(5))
            });
            Ok(n)
        })
        .stage(2, 2, |n: u32| {
            let ms = if n.is_multiple_of(3) { 40 } else { 15 };
            trace::job(format!("resize {n} ({ms} ms)"), || {
                trace::work(Duration::from_millis(ms));
            });
            Ok(n * 10)
        })
        .ordered()
        .build()
        .expect("every stage has workers");
    let reader = std::thread::spawn(move || {
        let mut n = 0;
        for item in output {
            match item {
                Ok(v) => trace::say(format!("output: {v}")),
                Err(failure) => trace::say(format!("failure: {:?}", failure.error)),
            }
            n += 1;
        }
        n
    });
    for n in 0..9 {
        input.send(n).expect("the pipeline is open");
    }
    input.close();
    let n = reader.join().expect("the reader");
    trace::done(n);
}
