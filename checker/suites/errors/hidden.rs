//! Hidden suite, exercise 6 (errors): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in exercise.toml.
//!
//! No sleeps and no timing: jobs are held with gates and counted with arrival counters, the
//! breaker's clock is a `ManualClock` the test moves by hand, and jobs that panic do so with
//! `testkit::panic_on_purpose*`, so the harness grades the test by its assertions. Where a
//! wrong pool can only be caught by waiting for something that never comes (an outcome that
//! is never delivered, a worker that is gone), the test hangs on that pool and the checker's
//! timeout reports it with the test's explanation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use errors::{
    Attempt, BreakerConfig, BreakerState, CircuitBreaker, ErrorPool, JobId, ManualClock,
    NON_TEXT_PANIC, Outcome, Outcomes, Policy, PoolError, Transient,
};
use pretty_assertions::assert_eq;
use testkit::check;
use testkit::gate::{Arrivals, Gate, ThreadExits};
use testkit::{
    DeliberatePayload, panic_on_purpose, panic_on_purpose_with_payload,
    panic_on_purpose_with_string,
};

/// The jobs' error: `Flaky` is worth another try, `Broken` is not.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Oops {
    Flaky(u64),
    Broken(u64),
}

impl Transient for Oops {
    fn is_transient(&self) -> bool {
        matches!(self, Oops::Flaky(_))
    }
}

type Out<J, R = u64> = Outcome<J, R, Oops>;

fn policy(max_attempts: u32, fail_fast: bool, breaker: Option<BreakerConfig>) -> Policy {
    Policy {
        max_attempts,
        fail_fast,
        breaker,
    }
}

fn breaker(threshold: u32, cooldown: u64) -> Option<BreakerConfig> {
    Some(BreakerConfig {
        threshold,
        cooldown,
    })
}

/// A pool whose clock never moves.
fn pool<J, R, F>(workers: usize, policy: Policy, process: F) -> (ErrorPool<J>, Outcomes<J, R, Oops>)
where
    J: Send + 'static,
    R: Send + 'static,
    F: Fn(&J, Attempt) -> Result<R, Oops> + Send + Sync + 'static,
{
    ErrorPool::new(workers, policy, || 0, process).expect("a valid policy builds a pool")
}

fn kind<J, R, E>(o: &Outcome<J, R, E>) -> &'static str {
    match o {
        Outcome::Done { .. } => "Done",
        Outcome::Failed { .. } => "Failed",
        Outcome::Panicked { .. } => "Panicked",
        Outcome::Rejected { .. } => "Rejected",
        Outcome::NotRun { .. } => "NotRun",
    }
}

fn summary<J, R, E>(outcomes: &[Outcome<J, R, E>]) -> String {
    let parts: Vec<String> = outcomes
        .iter()
        .map(|o| format!("{} {}", kind(o), o.id().0))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn ids<J, R, E>(outcomes: &[Outcome<J, R, E>]) -> Vec<u64> {
    outcomes.iter().map(|o| o.id().0).collect()
}

/// The next outcome; a stream that ends here is a failure with `what` as the reason.
fn next<J, R, E>(outcomes: &mut Outcomes<J, R, E>, what: &str) -> Outcome<J, R, E> {
    outcomes.next().unwrap_or_else(|| {
        panic!("the outcome stream ended while {what}: the stream must stay open while the pool is open")
    })
}

fn submit<J: Send + 'static>(pool: &ErrorPool<J>, job: J) -> JobId {
    match pool.submit(job) {
        Ok(id) => id,
        Err(_) => {
            panic!("an open pool that has not stopped must accept jobs, but submit handed one back")
        }
    }
}

/// Counts calls per job value.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<BTreeMap<u64, u32>>>);

impl Calls {
    fn add(&self, job: u64) {
        *self.0.lock().unwrap().entry(job).or_default() += 1;
    }
    fn of(&self, job: u64) -> u32 {
        self.0.lock().unwrap().get(&job).copied().unwrap_or(0)
    }
    fn total(&self) -> u32 {
        self.0.lock().unwrap().values().sum()
    }
}

// ---------------------------------------------------------------------------------------
// One outcome per job, streaming, unbounded
// ---------------------------------------------------------------------------------------

pub fn every_outcome_matches_its_job() {
    let (pool, outcomes) = pool(4, Policy::default(), |n: &u64, _| {
        if n % 2 == 0 {
            Ok(n * 3 + 1)
        } else {
            Err(Oops::Broken(*n))
        }
    });
    // Read concurrently, so this test does not depend on how outcomes are buffered.
    let reader = thread::spawn(move || outcomes.collect::<Vec<Out<u64>>>());
    let mut inputs = Vec::new();
    for k in 0..300u64 {
        let input = (k * 7_919) % 1_000;
        let id = submit(&pool, input);
        assert_eq!(
            id,
            JobId(k),
            "submit must return ids 0, 1, 2, … in submission order; the job submitted {k}th got \
             {id:?}"
        );
        inputs.push(input);
    }
    pool.shutdown();
    let got = reader.join().expect("reader thread");
    check::each_exactly_once("outcome id", &ids(&got), 300);
    for o in &got {
        let input = inputs[o.id().0 as usize];
        let want: Out<u64> = if input % 2 == 0 {
            Outcome::Done {
                id: o.id(),
                value: input * 3 + 1,
                attempts: 1,
            }
        } else {
            Outcome::Failed {
                id: o.id(),
                error: Oops::Broken(input),
                attempts: 1,
            }
        };
        assert_eq!(
            o,
            &want,
            "job {} was {input}, so its outcome is {want:?}. A value or an error must come back \
             with the id of the job it came from (send the id to the worker with the job), and \
             an error is never delivered as a result or the other way round.",
            o.id().0
        );
    }
}

pub fn concurrent_submitters_get_their_own_ids() {
    let (pool, outcomes) = pool(3, Policy::default(), |n: &u64, _| {
        if n % 3 == 0 {
            Err(Oops::Broken(*n))
        } else {
            Ok(*n)
        }
    });
    let reader = thread::spawn(move || outcomes.collect::<Vec<Out<u64>>>());
    let given: Vec<(JobId, u64)> = thread::scope(|s| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    (0..50u64)
                        .map(|k| {
                            let job = t * 1_000 + k;
                            (submit(pool, job), job)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("submitter thread"))
            .collect()
    });
    pool.shutdown();
    let got = reader.join().expect("reader thread");
    let given_ids: Vec<u64> = given.iter().map(|(id, _)| id.0).collect();
    check::each_exactly_once("id returned by submit", &given_ids, 200);
    check::each_exactly_once("outcome id", &ids(&got), 200);
    let job_of: BTreeMap<JobId, u64> = given.into_iter().collect();
    for o in &got {
        let job = job_of[&o.id()];
        let ok = match o {
            Outcome::Done { value, .. } => job % 3 != 0 && *value == job,
            Outcome::Failed { error, .. } => job % 3 == 0 && *error == Oops::Broken(job),
            _ => false,
        };
        assert!(
            ok,
            "four threads submitted at once: the outcome tagged {:?} is {o:?}, but submit \
             returned that id for job {job}. Give out the id and queue the job with that id \
             together, so concurrent submitters cannot swap them.",
            o.id()
        );
    }
}

pub fn outcomes_stream_as_jobs_finish() {
    for failure_first in [true, false] {
        // One job is held at a gate; the other finishes. Its outcome must be delivered while
        // the held one is still running, whichever kind each is.
        let gate = Gate::new();
        let g = gate.clone();
        let (mut pool, mut outcomes) = pool(2, Policy::default(), move |n: &u64, _| {
            if *n == 0 {
                g.wait();
            }
            let fails = (*n == 1) == failure_first;
            if fails { Err(Oops::Broken(*n)) } else { Ok(*n) }
        });
        let _open = gate.open_on_drop();
        submit(&pool, 0);
        submit(&pool, 1);
        let (first_kind, held_kind) = if failure_first {
            ("Failed", "Done")
        } else {
            ("Done", "Failed")
        };
        let first = next(&mut outcomes, "job 0 was still held at its gate");
        assert_eq!(
            (kind(&first), first.id()),
            (first_kind, JobId(1)),
            "job 0 is held at a gate, job 1 finished with {first_kind}: job 1's outcome must be \
             on the stream at once"
        );
        gate.open();
        let second = next(&mut outcomes, "job 0 had just been released");
        assert_eq!((kind(&second), second.id()), (held_kind, JobId(0)));
        pool.close();
        assert!(
            outcomes.next().is_none(),
            "two jobs, two outcomes, pool closed: the stream must end"
        );
    }
}

pub fn nobody_reads_until_shutdown() {
    // Far more outcomes than any "big enough" buffer: a bounded stream deadlocks here.
    const JOBS: u64 = 100_000;
    let (pool, outcomes) = pool(3, Policy::default(), |n: &u64, _| {
        if n % 3 == 0 {
            Err(Oops::Broken(*n))
        } else {
            Ok(*n)
        }
    });
    for n in 0..JOBS {
        submit(&pool, n);
    }
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    assert_eq!(
        got.len() as u64,
        JOBS,
        "{JOBS} jobs submitted, nobody reading until shutdown: every outcome must be on the \
         stream afterwards"
    );
    check::each_exactly_once("outcome id", &ids(&got), JOBS);
    let failures = got
        .iter()
        .filter(|o| matches!(o, Outcome::Failed { .. }))
        .count() as u64;
    assert_eq!(failures, JOBS.div_ceil(3), "every third job fails");
}

pub fn reading_only_failures_never_deadlocks() {
    // The seed's shape: many errors, a reader who only cares about errors. With results and
    // errors on two bounded channels read one after the other, this deadlocks.
    const JOBS: u64 = 3_000;
    let (mut pool, outcomes) = pool(2, Policy::default(), |n: &u64, _| {
        if n % 10 == 0 {
            Ok(*n)
        } else {
            Err(Oops::Broken(*n))
        }
    });
    let reader = thread::spawn(move || {
        outcomes
            .filter(|o| matches!(o, Outcome::Failed { .. }))
            .map(|o| o.id().0)
            .collect::<Vec<u64>>()
    });
    for n in 0..JOBS {
        submit(&pool, n);
    }
    pool.close();
    let failed = reader.join().expect("reader thread");
    assert_eq!(
        failed.len() as u64,
        JOBS - JOBS / 10,
        "the reader kept only the failures; it must see each of them"
    );
    pool.shutdown();
}

pub fn one_worker_delivers_in_order() {
    // One worker takes the oldest job first, and the stream keeps the order outcomes were
    // put on it, whatever their kind.
    let (pool, outcomes) = pool(1, Policy::default(), |n: &u64, _| match n % 3 {
        0 => Ok(*n),
        1 => Err(Oops::Broken(*n)),
        _ => panic_on_purpose("job of kind 2 panics"),
    });
    for n in 0..30 {
        submit(&pool, n);
    }
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    assert_eq!(
        ids(&got),
        (0..30).collect::<Vec<u64>>(),
        "one worker, jobs 0..30: it takes the oldest queued job first, and the stream delivers \
         outcomes in the order they were put on it. Got {}",
        summary(&got)
    );
}

pub fn free_worker_takes_the_oldest_job() {
    // Worker A is held on job 0 the whole time, so worker B runs 1..=20 alone: in order.
    let held = Gate::new();
    let started = Arrivals::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (h, s, l) = (held.clone(), started.clone(), Arc::clone(&log));
    let (pool, mut outcomes) = pool(2, Policy::default(), move |n: &u64, _| {
        if *n == 0 {
            s.arrive();
            h.wait();
        } else {
            l.lock().unwrap().push(*n);
        }
        Ok(*n)
    });
    let _open = held.open_on_drop();
    submit(&pool, 0);
    started.wait_for(1);
    for n in 1..=20 {
        submit(&pool, n);
    }
    for _ in 1..=20 {
        next(&mut outcomes, "jobs 1..=20 were running on the free worker");
    }
    assert_eq!(
        *log.lock().unwrap(),
        (1..=20).collect::<Vec<u64>>(),
        "with one worker busy, the other must take the queued jobs oldest first"
    );
    held.open();
    pool.shutdown();
}

pub fn stream_ends_when_closed() {
    let (mut pool, outcomes) = pool(2, Policy::default(), |n: &u64, _| {
        if n % 4 == 0 {
            Err(Oops::Broken(*n))
        } else {
            Ok(*n)
        }
    });
    let reader = thread::spawn(move || outcomes.map(|o| o.id().0).collect::<Vec<u64>>());
    for n in 0..40 {
        submit(&pool, n);
    }
    pool.close();
    // The closed pool is still alive: the reader's loop must end anyway.
    let seen = reader.join().expect("reader thread");
    check::each_exactly_once("outcome id", &seen, 40);
    assert_eq!(pool.submit(99), Err(99), "a closed pool hands jobs back");
    pool.shutdown();
}

pub fn shutdown_joins_every_worker() {
    const WORKERS: usize = 3;
    let exits = ThreadExits::new();
    let met = Arrivals::new();
    let (e, m) = (exits.clone(), met.clone());
    let (pool, mut outcomes) = pool(WORKERS, Policy::default(), move |n: &u64, _| {
        e.enlist();
        // The first jobs wait for each other: one on every worker.
        if *n < WORKERS as u64 {
            m.arrive();
            m.wait_for(WORKERS);
        }
        if n % 2 == 0 {
            Ok(*n)
        } else {
            Err(Oops::Flaky(*n))
        }
    });
    for n in 0..10 {
        submit(&pool, n);
    }
    let first = next(&mut outcomes, "10 jobs were submitted");
    pool.shutdown();
    assert_eq!(exits.enlisted(), WORKERS, "every worker ran a job");
    assert_eq!(
        exits.exited(),
        WORKERS,
        "shutdown returned while {} of {WORKERS} worker threads were still running: join every \
         worker before returning",
        WORKERS - exits.exited()
    );
    let mut rest: Vec<Out<u64>> = outcomes.by_ref().collect();
    rest.push(first);
    check::each_exactly_once("outcome id", &ids(&rest), 10);
    assert!(
        outcomes.next().is_none(),
        "once ended, the stream stays ended"
    );
}

pub fn close_still_runs_queued_jobs() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (mut pool, outcomes) = pool(1, Policy::default(), move |n: &u64, _| {
        if *n == 0 {
            s.arrive();
            g.wait();
        }
        Ok(*n)
    });
    let _open = gate.open_on_drop();
    submit(&pool, 0);
    started.wait_for(1);
    for n in 1..5 {
        submit(&pool, n);
    }
    pool.close();
    assert_eq!(pool.submit(5), Err(5), "a closed pool hands jobs back");
    assert!(!pool.is_stopped(), "closing a pool is not stopping it");
    gate.open();
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    assert_eq!(
        got,
        (0..5)
            .map(|n| Outcome::Done {
                id: JobId(n),
                value: n,
                attempts: 1
            })
            .collect::<Vec<_>>(),
        "close must not throw away queued jobs: the 4 jobs queued behind job 0 still run, in \
         order"
    );
}

pub fn drop_finishes_queued_jobs() {
    let calls = Calls::default();
    let c = calls.clone();
    let exits = ThreadExits::new();
    let e = exits.clone();
    let (pool, outcomes) = pool(2, Policy::default(), move |n: &u64, _| {
        e.enlist();
        c.add(*n);
        Ok(*n)
    });
    for n in 0..50 {
        submit(&pool, n);
    }
    drop(pool);
    assert_eq!(calls.total(), 50, "dropping the pool runs every queued job");
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "dropping the pool must join every worker"
    );
    let got: Vec<Out<u64>> = outcomes.collect();
    check::each_exactly_once("outcome id", &ids(&got), 50);
}

pub fn dropped_stream_is_harmless() {
    const WORKERS: usize = 2;
    let calls = Calls::default();
    let met = Arrivals::new();
    let (c, m) = (calls.clone(), met.clone());
    let (pool, outcomes) = pool(WORKERS, policy(2, false, None), move |n: &u64, _| {
        c.add(*n);
        match n % 4 {
            0 => Ok(*n),
            1 => Err(Oops::Broken(*n)),
            2 => Err(Oops::Flaky(*n)),
            _ if *n >= 100 => {
                // The last jobs wait for each other: both workers must still be there.
                m.arrive();
                m.wait_for(WORKERS);
                Ok(*n)
            }
            _ => panic_on_purpose("a job panics after the stream was dropped"),
        }
    });
    drop(outcomes);
    for n in 0..20 {
        submit(&pool, n);
    }
    submit(&pool, 103);
    submit(&pool, 107);
    pool.shutdown();
    assert_eq!(
        calls.total(),
        5 + 5 + 10 + 5 + 2,
        "with the stream dropped, every job must still run (Flaky jobs twice)"
    );
}

pub fn submit_after_close_hands_job_back() {
    let (mut pool, outcomes) = pool(2, Policy::default(), |n: &u64, _| Ok(*n));
    submit(&pool, 1);
    pool.close();
    assert_eq!(
        pool.submit(2),
        Err(2),
        "submit after close hands the job back"
    );
    assert_eq!(pool.submit(3), Err(3), "…every time");
    assert!(!pool.is_stopped(), "closing is not stopping");
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    assert_eq!(ids(&got), vec![0], "only the accepted job has an outcome");
}

pub fn invalid_settings_rejected() {
    fn build(workers: usize, p: Policy) -> Result<(), PoolError> {
        ErrorPool::new(workers, p, || 0, |n: &u8, _| Ok::<u8, Oops>(*n)).map(|_| ())
    }
    assert_eq!(build(0, Policy::default()), Err(PoolError::NoWorkers));
    assert_eq!(
        build(0, policy(0, true, breaker(0, 1))),
        Err(PoolError::NoWorkers),
        "with every setting wrong, NoWorkers is reported first"
    );
    assert_eq!(build(3, policy(0, false, None)), Err(PoolError::NoAttempts));
    assert_eq!(
        build(1, policy(0, false, breaker(0, 0))),
        Err(PoolError::NoAttempts),
        "with max_attempts and threshold both 0, NoAttempts comes first"
    );
    assert_eq!(
        build(2, policy(1, true, breaker(0, 5))),
        Err(PoolError::ZeroThreshold)
    );
    assert_eq!(
        build(1, policy(1, false, breaker(1, 0))),
        Ok(()),
        "threshold 1 is valid"
    );
    let texts: Vec<String> = [
        PoolError::NoWorkers,
        PoolError::NoAttempts,
        PoolError::ZeroThreshold,
    ]
    .iter()
    .map(|e| e.to_string())
    .collect();
    assert!(
        texts.iter().all(|t| !t.is_empty()) && texts[0] != texts[1] && texts[1] != texts[2],
        "each PoolError says what is wrong in its own words: {texts:?}"
    );
    assert_eq!(
        CircuitBreaker::new(BreakerConfig {
            threshold: 0,
            cooldown: 3
        })
        .err(),
        Some(PoolError::ZeroThreshold)
    );
    // On error nothing keeps the job function: no worker thread was started with it.
    let probe = Arc::new(());
    let held = Arc::clone(&probe);
    let refused = ErrorPool::new(
        2,
        policy(1, false, breaker(0, 1)),
        || 0,
        move |n: &u8, _| {
            let _ = &held;
            Ok::<u8, Oops>(*n)
        },
    );
    assert!(refused.is_err());
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "new returned an error, yet something still holds the job function: validate the whole \
         policy before starting any worker"
    );
}

pub fn workers_is_fixed_for_life() {
    for size in [1usize, 4, 7] {
        let (mut pool, mut outcomes) = pool(size, policy(1, true, None), |n: &u64, _| {
            if *n == 0 {
                panic_on_purpose("job 0 panics and stops the pool");
            }
            Ok(*n)
        });
        assert_eq!(pool.workers(), size, "workers() on a fresh pool");
        submit(&pool, 0);
        next(&mut outcomes, "job 0 was submitted");
        assert_eq!(
            pool.workers(),
            size,
            "workers() after a panic (a worker survives its job's panic) and a fail-fast stop"
        );
        pool.close();
        assert_eq!(pool.workers(), size, "workers() after close");
        pool.shutdown();
    }
}

pub fn default_policy_tries_once() {
    assert_eq!(
        Policy::default(),
        Policy {
            max_attempts: 1,
            fail_fast: false,
            breaker: None
        },
        "Policy::default(): one attempt, no fail-fast, no breaker"
    );
    let calls = Calls::default();
    let c = calls.clone();
    let (pool, outcomes) = pool(1, Policy::default(), move |n: &u64, _| {
        c.add(*n);
        Err::<u64, _>(Oops::Flaky(*n))
    });
    submit(&pool, 0);
    submit(&pool, 1);
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    assert_eq!(calls.total(), 2, "the default policy never retries");
    assert!(
        got.iter()
            .all(|o| matches!(o, Outcome::Failed { attempts: 1, .. })),
        "the default policy never stops: {}",
        summary(&got)
    );
}

pub fn outcome_id_of_every_kind() {
    let all: Vec<Out<&str, u8>> = vec![
        Outcome::Done {
            id: JobId(3),
            value: 1,
            attempts: 2,
        },
        Outcome::Failed {
            id: JobId(5),
            error: Oops::Broken(0),
            attempts: 1,
        },
        Outcome::Panicked {
            id: JobId(8),
            message: String::new(),
            attempts: 4,
        },
        Outcome::Rejected {
            id: JobId(13),
            job: "r",
        },
        Outcome::NotRun {
            id: JobId(21),
            job: "n",
        },
    ];
    assert_eq!(ids(&all), vec![3, 5, 8, 13, 21], "Outcome::id of each kind");
}

// ---------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------

pub fn panic_carries_its_str_message() {
    const MESSAGES: [&str; 3] = ["disk on fire", "index out of range (on purpose)", ""];
    let (pool, outcomes) = pool(2, Policy::default(), |n: &usize, _| -> Result<u8, Oops> {
        panic_on_purpose(MESSAGES[*n])
    });
    for n in 0..MESSAGES.len() {
        submit(&pool, n);
    }
    pool.shutdown();
    let mut got: Vec<Out<usize, u8>> = outcomes.collect();
    got.sort_by_key(|o| o.id());
    let want: Vec<Out<usize, u8>> = (0..MESSAGES.len())
        .map(|n| Outcome::Panicked {
            id: JobId(n as u64),
            message: MESSAGES[n].to_string(),
            attempts: 1,
        })
        .collect();
    assert_eq!(
        got, want,
        "a job that panics with a &str must come back as Panicked carrying exactly that text \
         (downcast the payload of catch_unwind to &str)"
    );
}

pub fn panic_carries_its_string_message() {
    let (pool, outcomes) = pool(3, Policy::default(), |n: &u64, _| -> Result<u8, Oops> {
        panic_on_purpose_with_string(format!("job {n} failed at step {}", n * 7))
    });
    for n in 0..6 {
        submit(&pool, n);
    }
    pool.shutdown();
    let mut got: Vec<Out<u64, u8>> = outcomes.collect();
    got.sort_by_key(|o| o.id());
    let want: Vec<Out<u64, u8>> = (0..6)
        .map(|n| Outcome::Panicked {
            id: JobId(n),
            message: format!("job {n} failed at step {}", n * 7),
            attempts: 1,
        })
        .collect();
    assert_eq!(
        got, want,
        "a job that panics with a formatted message (a String payload, what `panic!(\"{{x}}\")` \
         makes) must come back as Panicked carrying exactly that text (downcast to String as \
         well as to &str)"
    );
}

pub fn panic_with_other_payload() {
    let (pool, outcomes) = pool(1, Policy::default(), |n: &u32, _| -> Result<u8, Oops> {
        panic_on_purpose_with_payload(DeliberatePayload(*n))
    });
    submit(&pool, 7);
    pool.shutdown();
    let got: Vec<Out<u32, u8>> = outcomes.collect();
    assert_eq!(
        got,
        vec![Outcome::Panicked {
            id: JobId(0),
            message: NON_TEXT_PANIC.to_string(),
            attempts: 1
        }],
        "a panic whose payload is neither &str nor String carries NON_TEXT_PANIC as its message"
    );
}

/// N jobs that panic, one on each worker, then N jobs that can only finish together.
fn survive_panics(workers: usize, policy: Policy) {
    let met = Arrivals::new();
    let m = met.clone();
    let n = workers as u64;
    let (pool, mut outcomes) = ErrorPool::new(
        workers,
        policy,
        || 0,
        move |j: &u64, _| {
            // Every round of N jobs waits until all N are running: one on every worker.
            m.arrive();
            m.wait_for(((j / n) as usize + 1) * workers);
            if (j / n) % 2 == 0 {
                panic_on_purpose("this round of jobs panics");
            }
            Ok::<u64, Oops>(*j)
        },
    )
    .expect("valid pool");
    for round in 0..4 {
        for k in 0..n {
            submit(&pool, round * n + k);
        }
        for _ in 0..n {
            let o = next(&mut outcomes, "a round of jobs was running");
            let want = if round % 2 == 0 { "Panicked" } else { "Done" };
            assert_eq!(
                kind(&o),
                want,
                "round {round} of {workers} jobs that wait for each other: each must be {want}"
            );
        }
    }
    assert_eq!(pool.workers(), workers);
    pool.shutdown();
}

pub fn workers_survive_panics() {
    // If this hangs, a worker was lost to a panic: N jobs that wait for each other need N
    // live workers.
    survive_panics(2, Policy::default());
    survive_panics(5, Policy::default());
}

pub fn panics_never_poison_the_pool() {
    // The same with every feature on: the breaker, retries and fail-fast's flag. A lock held
    // while a job runs is poisoned by its panic (and serialises the jobs).
    survive_panics(3, policy(3, false, breaker(1_000, 0)));
}

pub fn no_cascade_after_a_panic() {
    // One panic, then many healthy jobs: every one of them must succeed. A lock held while
    // a job runs is poisoned by its panic, and every later `lock().unwrap()` fails a job.
    for workers in [1usize, 3] {
        let (pool, outcomes) = pool(
            workers,
            policy(2, false, breaker(1_000, 0)),
            |n: &u64, _| {
                if *n == 0 {
                    panic_on_purpose("job 0 panics, once");
                }
                Ok(*n)
            },
        );
        submit(&pool, 0);
        for n in 1..=40 {
            submit(&pool, n);
        }
        pool.shutdown();
        let mut got: Vec<Out<u64>> = outcomes.collect();
        got.sort_by_key(|o| o.id());
        let failed: Vec<String> = got
            .iter()
            .skip(1)
            .filter(|o| !matches!(o, Outcome::Done { .. }))
            .map(|o| format!("{o:?}"))
            .collect();
        assert!(
            failed.is_empty() && got.len() == 41,
            "{workers} worker(s): job 0 panicked once, and then healthy jobs failed too ({} of \
             40, {} outcomes in all): {:?}. A panic cascaded: probably a lock held while the job \
             ran was poisoned, and every later `lock().unwrap()` panics. Hold no lock while a \
             job runs.",
            failed.len(),
            got.len(),
            failed.iter().take(3).collect::<Vec<_>>()
        );
    }
}

pub fn panics_are_never_retried() {
    let calls = Calls::default();
    let c = calls.clone();
    let (pool, outcomes) = pool(1, policy(5, false, None), move |n: &u64, a: Attempt| {
        c.add(*n);
        if *n == 1 && a.number == 1 {
            return Err(Oops::Flaky(*n));
        }
        panic_on_purpose("this job panics")
    });
    submit(&pool, 0);
    submit(&pool, 1);
    pool.shutdown();
    let got: Vec<Out<u64, u8>> = outcomes.collect();
    let want = vec![
        Outcome::Panicked {
            id: JobId(0),
            message: "this job panics".to_string(),
            attempts: 1,
        },
        Outcome::Panicked {
            id: JobId(1),
            message: "this job panics".to_string(),
            attempts: 2,
        },
    ];
    assert_eq!(
        got, want,
        "a panic is never retried: job 0 panics on attempt 1, job 1 on attempt 2 (after a \
         transient error); each outcome says on which attempt"
    );
    assert_eq!(
        (calls.of(0), calls.of(1)),
        (1, 2),
        "calls of job 0 and job 1: a panicking attempt must be the last"
    );
}

// ---------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------

pub fn transient_errors_are_retried() {
    // Job k fails transiently on its first k - 1 attempts.
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let (pool, outcomes) = pool(2, policy(4, false, None), move |k: &u32, a: Attempt| {
        l.lock().unwrap().push((*k, a));
        if a.number < *k {
            Err(Oops::Flaky(a.number.into()))
        } else {
            Ok(*k * 10)
        }
    });
    let mut id_of = BTreeMap::new();
    for k in 1..=4u32 {
        id_of.insert(k, submit(&pool, k));
    }
    pool.shutdown();
    let mut got: Vec<Out<u32, u32>> = outcomes.collect();
    got.sort_by_key(|o| o.id());
    let want: Vec<Out<u32, u32>> = (1..=4u32)
        .map(|k| Outcome::Done {
            id: id_of[&k],
            value: k * 10,
            attempts: k,
        })
        .collect();
    assert_eq!(
        got, want,
        "job k fails transiently k - 1 times, then succeeds: one Done outcome each, with \
         attempts = k (max_attempts 4)"
    );
    let log = log.lock().unwrap();
    for k in 1..=4u32 {
        let seen: Vec<Attempt> = log
            .iter()
            .filter(|(j, _)| *j == k)
            .map(|(_, a)| *a)
            .collect();
        let want: Vec<Attempt> = (1..=k)
            .map(|number| Attempt {
                id: id_of[&k],
                number,
            })
            .collect();
        assert_eq!(
            seen, want,
            "job {k} must be called exactly {k} times, with attempt numbers 1..={k} and its own id"
        );
    }
}

pub fn retries_stop_at_max_attempts() {
    for max in [1u32, 2, 7] {
        let calls = Calls::default();
        let c = calls.clone();
        let (pool, outcomes) = pool(2, policy(max, false, None), move |n: &u64, a: Attempt| {
            c.add(*n);
            Err::<u8, _>(Oops::Flaky(a.number.into()))
        });
        submit(&pool, 0);
        pool.shutdown();
        let got: Vec<Out<u64, u8>> = outcomes.collect();
        assert_eq!(
            got,
            vec![Outcome::Failed {
                id: JobId(0),
                error: Oops::Flaky(max.into()),
                attempts: max
            }],
            "max_attempts = {max}, a job that always fails transiently: one Failed outcome with \
             the last attempt's error and attempts = {max}"
        );
        assert_eq!(
            calls.of(0),
            max,
            "max_attempts = {max} counts the first attempt too: the job must be tried exactly \
             {max} times"
        );
    }
}

pub fn permanent_errors_are_never_retried() {
    let calls = Calls::default();
    let c = calls.clone();
    let (pool, outcomes) = pool(1, policy(6, false, None), move |n: &u64, a: Attempt| {
        c.add(*n);
        if *n == 1 && a.number == 1 {
            Err::<u8, _>(Oops::Flaky(*n))
        } else {
            Err(Oops::Broken(*n))
        }
    });
    submit(&pool, 0);
    submit(&pool, 1);
    pool.shutdown();
    let got: Vec<Out<u64, u8>> = outcomes.collect();
    assert_eq!(
        got,
        vec![
            Outcome::Failed {
                id: JobId(0),
                error: Oops::Broken(0),
                attempts: 1
            },
            Outcome::Failed {
                id: JobId(1),
                error: Oops::Broken(1),
                attempts: 2
            },
        ],
        "a permanent error (is_transient() == false) ends the job at once, even with attempts \
         left: job 0 fails permanently on attempt 1, job 1 on attempt 2"
    );
    assert_eq!(
        (calls.of(0), calls.of(1)),
        (1, 2),
        "calls of job 0 and job 1"
    );
}

pub fn retries_happen_at_once() {
    // Worker A is held on job 0; worker B runs the rest: each job's retries must come before
    // the next job's first attempt.
    let held = Gate::new();
    let started = Arrivals::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (h, s, l) = (held.clone(), started.clone(), Arc::clone(&log));
    let flaky_times = [0u32, 2, 0, 1, 3];
    let (pool, mut outcomes) = pool(2, policy(4, false, None), move |n: &usize, a: Attempt| {
        if *n == 0 {
            s.arrive();
            h.wait();
            return Ok(0);
        }
        l.lock().unwrap().push((*n, a.number));
        if a.number <= flaky_times[*n] {
            Err(Oops::Flaky(*n as u64))
        } else {
            Ok(*n)
        }
    });
    let _open = held.open_on_drop();
    submit(&pool, 0);
    started.wait_for(1);
    for n in 1..flaky_times.len() {
        submit(&pool, n);
    }
    for _ in 1..flaky_times.len() {
        next(&mut outcomes, "jobs 1..5 were running on the free worker");
    }
    let want: Vec<(usize, u32)> = (1..flaky_times.len())
        .flat_map(|n| (1..=flaky_times[n] + 1).map(move |a| (n, a)))
        .collect();
    assert_eq!(
        *log.lock().unwrap(),
        want,
        "(job, attempt) in the order they ran: a retry must start at once, before the worker \
         takes another job (not at the back of the queue)"
    );
    held.open();
    pool.shutdown();
}

pub fn retried_jobs_have_one_outcome() {
    const JOBS: u64 = 400;
    let calls = Calls::default();
    let c = calls.clone();
    // Job n fails transiently n % 6 times; with 4 attempts, n % 6 >= 4 fails for good.
    let (pool, outcomes) = pool(4, policy(4, false, None), move |n: &u64, a: Attempt| {
        c.add(*n);
        if u64::from(a.number) <= n % 6 {
            Err(Oops::Flaky(*n))
        } else {
            Ok(*n)
        }
    });
    for n in 0..JOBS {
        submit(&pool, n);
    }
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    check::each_exactly_once("outcome id", &ids(&got), JOBS);
    for o in &got {
        let n = o.id().0;
        let want: Out<u64> = if n % 6 < 4 {
            Outcome::Done {
                id: JobId(n),
                value: n,
                attempts: (n % 6) as u32 + 1,
            }
        } else {
            Outcome::Failed {
                id: JobId(n),
                error: Oops::Flaky(n),
                attempts: 4,
            }
        };
        assert_eq!(o, &want, "job {n} fails transiently {} times", n % 6);
    }
    let want_calls: u32 = (0..JOBS).map(|n| (n % 6).min(3) as u32 + 1).sum();
    assert_eq!(calls.total(), want_calls, "total attempts over all jobs");
}

// ---------------------------------------------------------------------------------------
// Fail-fast
// ---------------------------------------------------------------------------------------

pub fn fail_fast_hands_back_queued_jobs() {
    // Job 0 fails while job 1 runs on the other worker and jobs 2..12 wait in the queue.
    let all_queued = Gate::new();
    let release_1 = Gate::new();
    let job1_running = Arrivals::new();
    let ran = Calls::default();
    let exits = ThreadExits::new();
    let (q, r, s, c, e) = (
        all_queued.clone(),
        release_1.clone(),
        job1_running.clone(),
        ran.clone(),
        exits.clone(),
    );
    let (mut pool, mut outcomes) = pool(2, policy(2, true, None), move |n: &u64, a: Attempt| {
        e.enlist();
        c.add(*n);
        match n {
            0 => {
                s.wait_for(1);
                q.wait();
                Err(Oops::Broken(0))
            }
            1 => {
                if a.number == 1 {
                    s.arrive();
                    r.wait();
                    // A running job finishes, retries included.
                    Err(Oops::Flaky(1))
                } else {
                    Ok(100)
                }
            }
            _ => Ok(*n * 100),
        }
    });
    let _open = (all_queued.open_on_drop(), release_1.open_on_drop());
    for n in 0..12 {
        submit(&pool, n);
    }
    all_queued.open();
    let first = next(&mut outcomes, "job 0 was about to fail");
    assert_eq!(
        first,
        Outcome::Failed {
            id: JobId(0),
            error: Oops::Broken(0),
            attempts: 1
        },
        "job 1 is held and job 0 fails: the first outcome on the stream is job 0's failure"
    );
    assert!(
        pool.is_stopped(),
        "fail-fast: the pool must have stopped before the first failure is on the stream"
    );
    assert_eq!(
        pool.submit(77),
        Err(77),
        "a stopped pool hands new jobs back"
    );
    release_1.open();
    pool.close();
    let rest: Vec<Out<u64>> = outcomes.collect();
    let mut want: Vec<Out<u64>> = vec![Outcome::Done {
        id: JobId(1),
        value: 100,
        attempts: 2,
    }];
    want.extend((2..12).map(|n| Outcome::NotRun {
        id: JobId(n),
        job: n,
    }));
    let mut sorted = rest.clone();
    sorted.sort_by_key(|o| o.id());
    assert_eq!(
        sorted,
        want,
        "after the first failure: job 1 (running) finishes with its retry, and every queued \
         job 2..12 comes back as NotRun with the job itself — never run, never dropped. Got {}",
        summary(&rest)
    );
    let ran_after: Vec<u64> = (2..12).filter(|n| ran.of(*n) > 0).collect();
    assert!(
        ran_after.is_empty(),
        "jobs {ran_after:?} were queued when job 0 failed, yet they ran"
    );
    pool.shutdown();
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown joins every worker"
    );
}

pub fn fail_fast_stops_on_a_panic() {
    let gate = Gate::new();
    let g = gate.clone();
    let ran = Calls::default();
    let c = ran.clone();
    let (pool, outcomes) = pool(1, policy(3, true, breaker(5, 10)), move |n: &u64, _| {
        c.add(*n);
        if *n == 0 {
            g.wait();
            panic_on_purpose("job 0 panics in a fail-fast pool");
        }
        Ok(*n)
    });
    let _open = gate.open_on_drop();
    for n in 0..5 {
        submit(&pool, n);
    }
    gate.open();
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    let mut want: Vec<Out<u64>> = vec![Outcome::Panicked {
        id: JobId(0),
        message: "job 0 panics in a fail-fast pool".to_string(),
        attempts: 1,
    }];
    want.extend((1..5).map(|n| Outcome::NotRun {
        id: JobId(n),
        job: n,
    }));
    assert_eq!(
        got, want,
        "a panic is a failure too: it stops a fail-fast pool, and the queued jobs come back"
    );
    assert_eq!(ran.total(), 1, "only job 0 ran");
}

pub fn fail_fast_waits_for_the_final_verdict() {
    // A transient error that is retried and then succeeds is no failure; the same error on
    // the last attempt is.
    let gate = Gate::new();
    let g = gate.clone();
    let (mut pool, mut outcomes) = pool(
        1,
        policy(3, true, None),
        move |n: &u64, a: Attempt| match n {
            0 if a.number < 3 => Err(Oops::Flaky(0)),
            2 => {
                if a.number == 1 {
                    g.wait();
                }
                Err(Oops::Flaky(2))
            }
            _ => Ok(*n),
        },
    );
    let _open = gate.open_on_drop();
    submit(&pool, 0);
    assert_eq!(
        next(&mut outcomes, "job 0 was submitted"),
        Outcome::Done {
            id: JobId(0),
            value: 0,
            attempts: 3
        }
    );
    assert!(
        !pool.is_stopped(),
        "job 0 failed transiently twice but then succeeded: that is no failure, the pool must \
         not stop"
    );
    submit(&pool, 1);
    submit(&pool, 2);
    submit(&pool, 3);
    gate.open();
    pool.close();
    let got: Vec<Out<u64>> = outcomes.by_ref().collect();
    assert_eq!(
        got,
        vec![
            Outcome::Done {
                id: JobId(1),
                value: 1,
                attempts: 1
            },
            Outcome::Failed {
                id: JobId(2),
                error: Oops::Flaky(2),
                attempts: 3
            },
            Outcome::NotRun {
                id: JobId(3),
                job: 3
            },
        ],
        "job 2 fails transiently on every attempt: its final failure stops the pool, and job 3, \
         queued behind it, comes back"
    );
    assert!(pool.is_stopped());
    pool.shutdown();
}

pub fn without_fail_fast_nothing_stops() {
    let (mut pool, mut outcomes) = pool(2, Policy::default(), |n: &u64, _| {
        if n % 2 == 0 {
            Err::<u8, _>(Oops::Broken(*n))
        } else {
            panic_on_purpose("odd jobs panic")
        }
    });
    assert!(!pool.is_stopped(), "a fresh pool is not stopped");
    for n in 0..10 {
        submit(&pool, n);
        let o = next(&mut outcomes, "a job was submitted");
        assert!(
            matches!(o, Outcome::Failed { .. } | Outcome::Panicked { .. }),
            "without fail_fast every job runs: got {}",
            summary(&[o])
        );
        assert!(
            !pool.is_stopped(),
            "without fail_fast, is_stopped() is false even after failures"
        );
    }
    pool.close();
    assert!(!pool.is_stopped(), "closing is not stopping");
    pool.shutdown();
}

pub fn stopped_pool_hands_back_before_asking_the_breaker() {
    // Fail-fast and an open breaker both refuse the queued jobs: NotRun must win.
    let gate = Gate::new();
    let g = gate.clone();
    let (pool, outcomes) = pool(1, policy(1, true, breaker(1, 100)), move |n: &u64, _| {
        if *n == 0 {
            g.wait();
            return Err(Oops::Broken(0));
        }
        Ok(*n)
    });
    let _open = gate.open_on_drop();
    for n in 0..3 {
        submit(&pool, n);
    }
    gate.open();
    pool.shutdown();
    let got: Vec<Out<u64>> = outcomes.collect();
    assert_eq!(
        got,
        vec![
            Outcome::Failed {
                id: JobId(0),
                error: Oops::Broken(0),
                attempts: 1
            },
            Outcome::NotRun {
                id: JobId(1),
                job: 1
            },
            Outcome::NotRun {
                id: JobId(2),
                job: 2
            },
        ],
        "job 0's failure both stopped the pool and opened the breaker: the queued jobs come \
         back as NotRun (a stopped pool asks the breaker nothing)"
    );
}

// ---------------------------------------------------------------------------------------
// The circuit breaker on its own
// ---------------------------------------------------------------------------------------

fn new_breaker(threshold: u32, cooldown: u64) -> CircuitBreaker {
    CircuitBreaker::new(BreakerConfig {
        threshold,
        cooldown,
    })
    .expect("a threshold of 1 or more is valid")
}

fn fail(b: &CircuitBreaker, now: u64) {
    let permit = b.try_acquire(now).expect("a closed breaker gives a permit");
    assert!(
        !permit.is_probe(),
        "a closed breaker's permits are not probes"
    );
    b.record_failure(permit, now);
}

fn succeed(b: &CircuitBreaker, now: u64) {
    let permit = b.try_acquire(now).expect("a closed breaker gives a permit");
    b.record_success(permit);
}

pub fn breaker_opens_after_threshold_failures() {
    for (threshold, cooldown) in [(1u32, 7u64), (2, 1), (5, 30)] {
        let b = new_breaker(threshold, cooldown);
        assert_eq!(
            b.state(0),
            BreakerState::Closed { failures: 0 },
            "a new breaker"
        );
        for k in 1..threshold {
            fail(&b, u64::from(k));
            assert_eq!(
                b.state(u64::from(k)),
                BreakerState::Closed { failures: k },
                "threshold {threshold}: after {k} consecutive failures"
            );
        }
        let t = 100;
        fail(&b, t);
        assert_eq!(
            b.state(t),
            BreakerState::Open {
                until: t + cooldown
            },
            "threshold {threshold}: the {threshold}th consecutive failure (at {t}) opens the \
             breaker until {t} + cooldown"
        );
        assert!(b.try_acquire(t).is_none(), "an open breaker refuses");
        assert!(
            b.try_acquire(t + cooldown - 1).is_none(),
            "an open breaker refuses until the cooldown is over"
        );
        assert_eq!(
            b.state(t + cooldown - 1),
            BreakerState::Open {
                until: t + cooldown
            }
        );
    }
}

pub fn breaker_success_resets_the_count() {
    let b = new_breaker(3, 10);
    fail(&b, 1);
    fail(&b, 2);
    succeed(&b, 3);
    assert_eq!(
        b.state(3),
        BreakerState::Closed { failures: 0 },
        "a success resets the count of consecutive failures"
    );
    fail(&b, 4);
    fail(&b, 5);
    assert_eq!(
        b.state(5),
        BreakerState::Closed { failures: 2 },
        "failure, failure, success, failure, failure: only 2 are consecutive"
    );
    succeed(&b, 6);
    fail(&b, 7);
    fail(&b, 8);
    fail(&b, 9);
    assert_eq!(b.state(9), BreakerState::Open { until: 19 });
}

pub fn breaker_half_opens_after_cooldown() {
    let b = new_breaker(1, 5);
    fail(&b, 10);
    assert_eq!(b.state(14), BreakerState::Open { until: 15 });
    assert!(
        b.try_acquire(14).is_none(),
        "one tick before the cooldown is over"
    );
    assert_eq!(
        b.state(15),
        BreakerState::HalfOpen { probing: false },
        "at now == until the cooldown is over: half-open, probe not taken"
    );
    assert_eq!(
        b.state(15),
        BreakerState::HalfOpen { probing: false },
        "state() changes nothing: asking twice must not take the probe"
    );
    let probe = b
        .try_acquire(15)
        .expect("once the cooldown is over, the first caller gets the probe");
    assert!(probe.is_probe(), "that permit is the probe");
    assert_eq!(b.state(15), BreakerState::HalfOpen { probing: true });
    assert!(
        b.try_acquire(15).is_none() && b.try_acquire(1_000).is_none(),
        "while the probe is out, every other caller is refused, however late"
    );
    assert_eq!(b.state(1_000), BreakerState::HalfOpen { probing: true });
    b.record_success(probe);
}

pub fn probe_success_closes_the_breaker() {
    let b = new_breaker(2, 4);
    fail(&b, 0);
    fail(&b, 0);
    let probe = b.try_acquire(4).expect("the probe");
    b.record_success(probe);
    assert_eq!(
        b.state(4),
        BreakerState::Closed { failures: 0 },
        "the probe's success closes the breaker, with no failures counted"
    );
    let permit = b.try_acquire(4).expect("a closed breaker gives permits");
    assert!(
        !permit.is_probe(),
        "a closed breaker's permits are not probes"
    );
    b.record_failure(permit, 5);
    assert_eq!(
        b.state(5),
        BreakerState::Closed { failures: 1 },
        "after closing, it takes threshold fresh failures to open again"
    );
    fail(&b, 6);
    assert_eq!(b.state(6), BreakerState::Open { until: 10 });
}

pub fn probe_failure_reopens_the_breaker() {
    let b = new_breaker(3, 5);
    for now in 0..3 {
        fail(&b, now);
    }
    assert_eq!(b.state(2), BreakerState::Open { until: 7 });
    let probe = b.try_acquire(8).expect("the probe, after the cooldown");
    b.record_failure(probe, 9);
    assert_eq!(
        b.state(9),
        BreakerState::Open { until: 14 },
        "the probe's failure (recorded at 9) opens the breaker again until 9 + cooldown — \
         at once, not after threshold more failures"
    );
    assert!(b.try_acquire(13).is_none());
    let again = b
        .try_acquire(14)
        .expect("a new probe after the new cooldown");
    assert!(again.is_probe());
    b.record_success(again);
    assert_eq!(b.state(14), BreakerState::Closed { failures: 0 });
}

pub fn stale_permits_change_nothing() {
    let b = new_breaker(1, 10);
    let early: Vec<_> = (0..4)
        .map(|_| b.try_acquire(0).expect("closed: permits for all"))
        .collect();
    let mut early = early.into_iter();
    b.record_failure(early.next().unwrap(), 0);
    assert_eq!(b.state(0), BreakerState::Open { until: 10 });
    b.record_success(early.next().unwrap());
    assert_eq!(
        b.state(1),
        BreakerState::Open { until: 10 },
        "a success from a job admitted while the breaker was closed, recorded while it is open, \
         changes nothing (it must not close the breaker)"
    );
    b.record_failure(early.next().unwrap(), 5);
    assert_eq!(
        b.state(5),
        BreakerState::Open { until: 10 },
        "…nor does such a failure (it must not push the cooldown back)"
    );
    let probe = b.try_acquire(10).expect("the probe");
    b.record_failure(early.next().unwrap(), 11);
    assert_eq!(
        b.state(11),
        BreakerState::HalfOpen { probing: true },
        "while the probe is out, only the probe's verdict counts"
    );
    b.record_success(probe);
    assert_eq!(b.state(11), BreakerState::Closed { failures: 0 });
}

pub fn zero_cooldown_probes_at_once() {
    let b = new_breaker(1, 0);
    fail(&b, 5);
    assert_eq!(
        b.state(5),
        BreakerState::HalfOpen { probing: false },
        "cooldown 0: the breaker opens and is over its cooldown at once"
    );
    let probe = b.try_acquire(5).expect("cooldown 0: the probe at once");
    assert!(probe.is_probe());
    b.record_failure(probe, 5);
    assert_eq!(b.state(5), BreakerState::HalfOpen { probing: false });
}

pub fn threads_race_for_the_probe() {
    // A plain test can only hope to hit the race; the loom model proves it. This one checks
    // that a correct breaker is usable from many threads at once.
    for _ in 0..50 {
        let b = Arc::new(new_breaker(1, 0));
        fail(&b, 0);
        let start = Arc::new(std::sync::Barrier::new(6));
        let probes: usize = (0..6)
            .map(|_| {
                let (b, start) = (Arc::clone(&b), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    b.try_acquire(1).map(|p| p.is_probe())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(|p| *p == Some(true))
            .count();
        assert_eq!(probes, 1, "six threads asked a half-open breaker at once");
    }
}

// ---------------------------------------------------------------------------------------
// The circuit breaker in the pool
// ---------------------------------------------------------------------------------------

/// Jobs below 1000 fail permanently, from 1000 on they succeed.
fn breaker_pool(
    workers: usize,
    threshold: u32,
    cooldown: u64,
    clock: &ManualClock,
    calls: &Calls,
) -> (ErrorPool<u64>, Outcomes<u64, u64, Oops>) {
    let c = calls.clone();
    ErrorPool::new(
        workers,
        policy(1, false, breaker(threshold, cooldown)),
        clock.clone(),
        move |n: &u64, _| {
            c.add(*n);
            if *n < 1_000 {
                Err(Oops::Broken(*n))
            } else {
                Ok(*n)
            }
        },
    )
    .expect("valid pool")
}

/// Submits one job and returns its outcome (one worker: nothing else is running).
fn run_one(pool: &ErrorPool<u64>, outcomes: &mut Outcomes<u64, u64, Oops>, job: u64) -> Out<u64> {
    submit(pool, job);
    next(outcomes, "a job was submitted")
}

pub fn open_breaker_rejects_without_running() {
    let clock = ManualClock::new(100);
    let calls = Calls::default();
    let (pool, mut outcomes) = breaker_pool(1, 2, 10, &clock, &calls);
    assert_eq!(kind(&run_one(&pool, &mut outcomes, 1)), "Failed");
    assert_eq!(kind(&run_one(&pool, &mut outcomes, 2)), "Failed");
    assert_eq!(
        run_one(&pool, &mut outcomes, 3),
        Outcome::Rejected {
            id: JobId(2),
            job: 3
        },
        "2 consecutive failures with threshold 2: the breaker is open and the next job comes \
         back Rejected, with the job itself"
    );
    clock.set(109);
    assert_eq!(
        run_one(&pool, &mut outcomes, 1_004),
        Outcome::Rejected {
            id: JobId(3),
            job: 1_004
        },
        "one tick before the cooldown is over, jobs are still rejected"
    );
    assert_eq!(
        (calls.of(3), calls.of(1_004)),
        (0, 0),
        "a rejected job must never run"
    );
    clock.advance(1); // 110
    assert_eq!(
        run_one(&pool, &mut outcomes, 1_005),
        Outcome::Done {
            id: JobId(4),
            value: 1_005,
            attempts: 1
        },
        "the cooldown is over: the next job runs as the probe"
    );
    assert_eq!(
        kind(&run_one(&pool, &mut outcomes, 6)),
        "Failed",
        "the probe succeeded: the breaker is closed and jobs run again"
    );
    assert_eq!(
        kind(&run_one(&pool, &mut outcomes, 1_007)),
        "Done",
        "one failure after closing is below the threshold"
    );
    pool.shutdown();
}

pub fn probe_failure_reopens_in_the_pool() {
    let clock = ManualClock::new(0);
    let calls = Calls::default();
    let (pool, mut outcomes) = breaker_pool(1, 1, 10, &clock, &calls);
    assert_eq!(kind(&run_one(&pool, &mut outcomes, 0)), "Failed");
    clock.set(10);
    assert_eq!(
        kind(&run_one(&pool, &mut outcomes, 1)),
        "Failed",
        "after the cooldown the probe runs"
    );
    clock.set(19);
    assert_eq!(
        kind(&run_one(&pool, &mut outcomes, 1_002)),
        "Rejected",
        "the probe failed at 10: open again until 20"
    );
    clock.set(20);
    assert_eq!(kind(&run_one(&pool, &mut outcomes, 1_003)), "Done");
    assert_eq!(calls.of(1_002), 0, "a rejected job must never run");
    pool.shutdown();
}

pub fn cooldown_counts_from_the_failure() {
    // The failure that opens the breaker is recorded when its job is done: the cooldown
    // counts from then, not from when the job started. (The clock is a plain closure: any
    // `Fn() -> u64` is a clock.)
    let ticks = Arc::new(AtomicU64::new(0));
    let (t, in_job) = (Arc::clone(&ticks), Arc::clone(&ticks));
    let (pool, mut outcomes) = ErrorPool::new(
        1,
        policy(1, false, breaker(1, 10)),
        move || t.load(Ordering::SeqCst),
        move |n: &u64, _| {
            if *n == 0 {
                in_job.store(50, Ordering::SeqCst); // the job takes 50 ticks
                return Err(Oops::Broken(0));
            }
            Ok(*n)
        },
    )
    .expect("valid pool");
    assert_eq!(kind(&run_one(&pool, &mut outcomes, 0)), "Failed");
    ticks.store(59, Ordering::SeqCst);
    assert_eq!(
        kind(&run_one(&pool, &mut outcomes, 1)),
        "Rejected",
        "job 0 started at 0 and failed at 50: with cooldown 10 the breaker is open until 60"
    );
    ticks.store(60, Ordering::SeqCst);
    assert_eq!(kind(&run_one(&pool, &mut outcomes, 2)), "Done");
    pool.shutdown();
}

/// What the test sees: a job starting, or an outcome being delivered.
#[derive(Debug)]
enum Event {
    Started(u64),
    Delivered(Out<u64>),
}

pub fn half_open_lets_one_probe_through() {
    const WORKERS: usize = 4;
    let clock = ManualClock::new(0);
    let gate = Gate::new();
    let (tx, events) = mpsc::channel();
    let (g, started) = (gate.clone(), Mutex::new(tx.clone()));
    let (pool, outcomes) = ErrorPool::new(
        WORKERS,
        policy(1, false, breaker(1, 5)),
        clock.clone(),
        move |n: &u64, _| {
            if *n == 0 {
                return Err(Oops::Broken(0));
            }
            let _ = started.lock().unwrap().send(Event::Started(*n));
            g.wait();
            Ok(*n)
        },
    )
    .expect("valid pool");
    let _open = gate.open_on_drop();
    let forwarder = thread::spawn(move || {
        for o in outcomes {
            let _ = tx.send(Event::Delivered(o));
        }
    });
    submit(&pool, 0);
    match events.recv().expect("events") {
        Event::Delivered(Outcome::Failed { .. }) => {}
        other => panic!("job 0 fails and opens the breaker, got {other:?}"),
    }
    clock.set(5);
    for n in 1..=WORKERS as u64 {
        submit(&pool, n);
    }
    // While the probe is held at the gate, the other three must come back rejected.
    let (mut probes, mut rejected) = (Vec::new(), Vec::new());
    while probes.len() + rejected.len() < WORKERS {
        match events.recv().expect("events") {
            Event::Started(n) => probes.push(n),
            Event::Delivered(Outcome::Rejected { id, .. }) => rejected.push(id.0),
            Event::Delivered(o) => panic!("while the probe runs, got {}", summary(&[o])),
        }
        assert!(
            probes.len() <= 1,
            "the half-open breaker let jobs {probes:?} run at once: exactly one probe may go \
             through; every other job must be rejected until the probe's verdict"
        );
    }
    assert_eq!(
        probes.len(),
        1,
        "the cooldown is over (now == until): exactly one job must run as the probe, but \
         {rejected:?} were all rejected"
    );
    gate.open();
    match events.recv().expect("events") {
        Event::Delivered(Outcome::Done { id, .. }) => {
            assert_eq!(vec![id.0], probes, "the probe's outcome")
        }
        other => panic!("the probe finishes, got {other:?}"),
    }
    pool.shutdown();
    forwarder.join().expect("forwarder");
}

pub fn breaker_counts_jobs_not_attempts() {
    // threshold 2, 3 attempts: a job that fails transiently 3 times is ONE failure.
    let (pool, mut outcomes) = pool(
        1,
        policy(3, false, breaker(2, 100)),
        |n: &u64, a: Attempt| match n {
            0 if a.number < 3 => Err(Oops::Flaky(0)),
            1 | 2 => Err(Oops::Flaky(*n)),
            _ => Ok(*n),
        },
    );
    let mut seen = Vec::new();
    for n in 0..4 {
        submit(&pool, n);
        seen.push(next(&mut outcomes, "a job was submitted"));
    }
    assert_eq!(
        seen.iter().map(kind).collect::<Vec<_>>(),
        vec!["Done", "Failed", "Failed", "Rejected"],
        "job 0: 2 transient failures then success (no failure for the breaker); jobs 1 and 2: \
         failed after 3 attempts each (one failure each); then the breaker (threshold 2) is \
         open. The breaker hears one verdict per job, not one per attempt."
    );
    pool.shutdown();
}

pub fn panics_count_as_failures() {
    let (pool, mut outcomes) = pool(1, policy(1, false, breaker(2, 100)), |n: &u64, _| {
        if *n < 2 {
            panic_on_purpose("the first two jobs panic");
        }
        Ok(*n)
    });
    let mut seen = Vec::new();
    for n in 0..3 {
        submit(&pool, n);
        seen.push(next(&mut outcomes, "a job was submitted"));
    }
    assert_eq!(
        seen.iter().map(kind).collect::<Vec<_>>(),
        vec!["Panicked", "Panicked", "Rejected"],
        "a panicked job is a failed job for the breaker"
    );
    pool.shutdown();
}

pub fn success_resets_the_count_in_the_pool() {
    let clock = ManualClock::new(0);
    let calls = Calls::default();
    let (pool, mut outcomes) = breaker_pool(1, 3, 10, &clock, &calls);
    let mut seen = Vec::new();
    for job in [1, 2, 1_000, 3, 4, 5, 6] {
        seen.push(kind(&run_one(&pool, &mut outcomes, job)));
    }
    assert_eq!(
        seen,
        vec![
            "Failed", "Failed", "Done", "Failed", "Failed", "Failed", "Rejected"
        ],
        "threshold 3: failure, failure, success, then three failures: only those three are \
         consecutive, so only the job after them is rejected"
    );
    pool.shutdown();
}
