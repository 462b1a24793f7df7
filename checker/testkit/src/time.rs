//! Tokio with a paused clock, for the async parts of the timeout and rate-limit exercises.
//! Timers are exact and no test waits in real time: with every task idle, the runtime jumps
//! straight to the next timer, so a 3 s job "takes" 3 s of virtual time in microseconds.

use std::future::Future;

/// Runs `future` to completion on a current-thread runtime whose clock starts paused.
pub fn paused<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread tokio runtime")
        .block_on(future)
}

/// Like [`paused`], on a multi-thread runtime with `workers` threads (the clock still paused:
/// tokio auto-advances only when every worker is idle).
pub fn paused_multi_thread<F: Future>(workers: usize, future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a multi-thread tokio runtime")
        .block_on(future)
}
