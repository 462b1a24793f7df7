//! Starter tests for exercise 10. Run them with `cargo test -p pipeline`; the checker runs
//! these and a hidden suite with `cargo checker check pipeline`.

use std::num::ParseIntError;
use std::thread;

use pipeline::{BuildError, Failure, Pipeline, StageError};
use pretty_assertions::assert_eq;

// ANCHOR: usage
#[test]
fn three_typed_stages_in_order() {
    let (mut input, output) = Pipeline::<&str, _, ParseIntError>::new(4)
        .stage(2, 4, |s: &str| s.trim().parse::<u64>()) // &str → u64, 2 workers
        .stage(3, 4, |n: u64| Ok(n * n)) // u64 → u64, 3 workers
        .stage(1, 4, |n: u64| Ok(format!("<{n}>"))) // u64 → String, 1 worker
        .ordered()
        .build()
        .unwrap();
    // Feed from another thread: `send` waits while the input link is full.
    let producer = thread::spawn(move || {
        for word in [" 1", "2 ", "3", "4", "5"] {
            input.send(word).unwrap();
        }
        // `input` is dropped here: the input is closed and the output ends.
    });
    let out: Vec<String> = output.map(|r| r.unwrap()).collect();
    producer.join().unwrap();
    assert_eq!(out, ["<1>", "<4>", "<9>", "<16>", "<25>"]);
}

#[test]
fn a_failure_stops_the_pipeline() {
    let (mut input, mut output) = Pipeline::<&str, _, ParseIntError>::new(4)
        .stage(1, 4, |s: &str| s.parse::<u64>())
        .build()
        .unwrap();
    input.send("7").unwrap();
    assert_eq!(output.next().map(|r| r.ok()), Some(Some(7)));
    input.send("seven").unwrap(); // sequence number 1: stage 0 fails on it
    let failure = output.next().unwrap().unwrap_err();
    let expected_error = "seven".parse::<u64>().unwrap_err();
    assert_eq!(
        failure,
        Failure {
            stage: 0,
            seq: 1,
            error: StageError::Failed(expected_error)
        }
    );
    assert!(
        output.next().is_none(),
        "after the failure, the stream ends"
    );
    assert_eq!(
        input.send("8"),
        Err("8"),
        "a stopped pipeline hands items back"
    );
}
// ANCHOR_END: usage

#[test]
fn every_item_comes_out_once() {
    let (mut input, output) = Pipeline::<u32, _, ()>::new(2)
        .stage(3, 2, |n: u32| Ok(u64::from(n) + 1))
        .stage(2, 2, |n: u64| Ok(n * 10))
        .build()
        .unwrap();
    let producer = thread::spawn(move || {
        for n in 0..100 {
            input.send(n).unwrap();
        }
    });
    let mut out: Vec<u64> = output.map(|r| r.unwrap()).collect();
    producer.join().unwrap();
    out.sort_unstable();
    let want: Vec<u64> = (1..=100).map(|n| n * 10).collect();
    assert_eq!(out, want);
}

#[test]
fn zero_workers_is_an_error() {
    let built = Pipeline::<u8, _, ()>::new(1)
        .stage(1, 1, |n: u8| Ok(n))
        .stage(0, 1, |n: u8| Ok(n))
        .build();
    assert_eq!(built.err(), Some(BuildError::NoWorkers { stage: 1 }));
}
