//! Starter tests for exercise 7. Run them with `cargo test -p timeout`; the checker runs these
//! and a hidden suite with `cargo checker check timeout`.
//!
//! Time never passes by itself here: the thread pool reads a `ManualClock` the test moves,
//! and the async pool runs on a tokio runtime whose clock is paused (it jumps straight to
//! the next timer when every task is waiting), so a 3 s job takes microseconds.

use std::sync::mpsc;
use std::time::Duration;

use pretty_assertions::assert_eq;
use timeout::{AsyncConfig, AsyncPool, Config, JobId, ManualClock, Outcome, TimeoutPool};

// ANCHOR: usage
#[test]
fn expire_reports_a_job_that_is_still_running() {
    let clock = ManualClock::new(0);
    let (started, job_started) = mpsc::channel();
    let config = Config {
        workers: 1,
        deadline: None,
    };
    // The job waits until its token is cancelled: a cooperative job.
    let (pool, outcomes) = TimeoutPool::new(config, clock.clone(), move |name: &str, token| {
        started.send(()).unwrap();
        token.wait();
        name.len()
    })
    .unwrap();

    let id = pool.submit("slow", 10).unwrap(); // a budget of 10 ticks from its start
    job_started.recv().unwrap(); // the job runs; its deadline is 0 + 10
    clock.set(9);
    assert_eq!(pool.expire(), 0, "at 9 the job still has time");
    clock.set(10);
    assert_eq!(pool.expire(), 1, "at 10 its deadline has passed");
    assert_eq!(outcomes.recv(), Ok(Outcome::TimedOut(id)));

    // expire cancelled the token, so the job returned; its late result is dropped.
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(outcomes.iter().collect::<Vec<_>>(), vec![]);
}
// ANCHOR_END: usage

#[test]
fn a_job_that_returns_late_is_timed_out() {
    let clock = ManualClock::new(0);
    let config = Config {
        workers: 1,
        deadline: None,
    };
    // Each job "takes" `ticks` by moving the clock itself.
    let job_clock = clock.clone();
    let (pool, outcomes) = TimeoutPool::new(config, clock, move |ticks: u64, _token| {
        job_clock.advance(ticks);
        ticks
    })
    .unwrap();
    pool.submit(4, 5).unwrap(); // returns 4 ticks after its start: on time
    pool.submit(5, 5).unwrap(); // returns at its deadline: too late
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(
        outcomes.iter().collect::<Vec<_>>(),
        vec![Outcome::Done(JobId(0), 4), Outcome::TimedOut(JobId(1))]
    );
}

#[test]
fn jobs_that_never_ran_come_back() {
    let clock = ManualClock::new(0);
    let config = Config {
        workers: 1,
        deadline: Some(10),
    };
    let (started, job_started) = mpsc::channel();
    let (go, wait) = mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(wait);
    let (pool, outcomes) = TimeoutPool::new(config, clock.clone(), move |n: u32, _token| {
        if n == 0 {
            started.send(()).unwrap();
            wait.lock().unwrap().recv().unwrap(); // job 0 holds the only worker
        }
        n
    })
    .unwrap();
    for n in 0..4 {
        pool.submit(n, 100).unwrap();
    }
    job_started.recv().unwrap();
    clock.set(10); // the overall deadline: jobs 1, 2 and 3 must never start
    go.send(()).unwrap();
    assert_eq!(
        pool.finish(),
        vec![(JobId(1), 1), (JobId(2), 2), (JobId(3), 3)]
    );
    // Job 0 was running at the deadline: it timed out, whether it had returned or not.
    assert_eq!(
        outcomes.iter().collect::<Vec<_>>(),
        vec![Outcome::TimedOut(JobId(0))]
    );
}

#[test]
fn async_job_times_out_at_exactly_its_budget() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = AsyncConfig {
            workers: 1,
            deadline: None,
        };
        let (pool, mut outcomes) = AsyncPool::new(config, |secs: u64, _token| async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            secs
        })
        .unwrap();
        let start = tokio::time::Instant::now();
        let id = pool.submit(3, Duration::from_secs(2)).unwrap();
        assert_eq!(outcomes.recv().await, Some(Outcome::TimedOut(id)));
        assert_eq!(start.elapsed(), Duration::from_secs(2), "virtual time");
        assert_eq!(pool.finish().await, vec![]);
        assert_eq!(outcomes.recv().await, None, "no late result after TimedOut");
    });
}
