//! Hidden suite, exercise 6 (errors): loom models. Small on purpose (at most 2 workers, 3
//! jobs, 3 threads in all): loom explores every interleaving, so a bug found here is a bug in
//! some real run. Time comes from a `ManualClock` (loom cannot model real time), and jobs that
//! panic do so with `testkit::panic_on_purpose`, so only the pool's handling is judged.

use errors::{
    Attempt, BreakerConfig, BreakerState, CircuitBreaker, ErrorPool, JobId, ManualClock, Outcome,
    Policy, Transient,
};
use workbook_sync::{Arc, Condvar, Mutex, thread};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Broken;

impl Transient for Broken {
    fn is_transient(&self) -> bool {
        false
    }
}

fn kinds<J, R, E>(outcomes: &[Outcome<J, R, E>]) -> Vec<(u64, &'static str)> {
    outcomes
        .iter()
        .map(|o| {
            let kind = match o {
                Outcome::Done { .. } => "Done",
                Outcome::Failed { .. } => "Failed",
                Outcome::Panicked { .. } => "Panicked",
                Outcome::Rejected { .. } => "Rejected",
                Outcome::NotRun { .. } => "NotRun",
            };
            (o.id().0, kind)
        })
        .collect()
}

fn with_breaker(threshold: u32, cooldown: u64) -> Policy {
    Policy {
        breaker: Some(BreakerConfig {
            threshold,
            cooldown,
        }),
        ..Policy::default()
    }
}

pub fn loom_breaker_admits_one_probe() {
    testkit::model(|| {
        let breaker = Arc::new(
            CircuitBreaker::new(BreakerConfig {
                threshold: 1,
                cooldown: 0,
            })
            .expect("valid breaker"),
        );
        let permit = breaker.try_acquire(0).expect("closed");
        breaker.record_failure(permit, 0); // open, and over its cooldown at once
        let other = {
            let breaker = Arc::clone(&breaker);
            thread::spawn(move || breaker.try_acquire(0).map(|p| p.is_probe()))
        };
        let mine = breaker.try_acquire(0).map(|p| p.is_probe());
        let theirs = other.join().expect("other thread");
        let probes = [mine, theirs].iter().filter(|p| p.is_some()).count();
        assert_eq!(
            probes, 1,
            "two threads asked a half-open breaker for the probe at once and {probes} got a \
             permit (mine: {mine:?}, theirs: {theirs:?}). Exactly one may probe: look for the \
             probe and take it in ONE critical section. The seed's Allow() lets the caller \
             through and changes nothing until RecordFailure(), so both probe."
        );
        assert!(
            mine != Some(false) && theirs != Some(false),
            "the half-open breaker's one permit must be the probe"
        );
        assert_eq!(breaker.state(0), BreakerState::HalfOpen { probing: true });
    });
}

pub fn loom_workers_race_for_the_probe() {
    testkit::model(|| {
        // Threads: main + 2 workers. The breaker opens at 0 and is half-open at 1; then two
        // failing jobs reach the two workers, which may ask for the probe at the same moment.
        let clock = ManualClock::new(0);
        let (pool, mut outcomes) = ErrorPool::new(
            2,
            with_breaker(1, 1),
            clock.clone(),
            |_: &u8, _: Attempt| Err::<(), _>(Broken),
        )
        .expect("valid pool");
        pool.submit(0).expect("an open pool accepts jobs");
        assert!(matches!(outcomes.next(), Some(Outcome::Failed { .. })));
        clock.set(1);
        pool.submit(1).expect("an open pool accepts jobs");
        pool.submit(2).expect("an open pool accepts jobs");
        let mut got = vec![
            outcomes.next().expect("an outcome for job 1 or 2"),
            outcomes.next().expect("an outcome for job 1 or 2"),
        ];
        got.sort_by_key(|o| o.id());
        let kinds = kinds(&got);
        let ran = kinds.iter().filter(|(_, k)| *k == "Failed").count();
        assert_eq!(
            ran, 1,
            "half-open breaker, two workers, two jobs: in some interleaving {ran} jobs ran as \
             probes ({kinds:?}). Exactly one may run; the other must be Rejected (while the \
             probe is out, or because the failed probe opened the breaker again). Both workers \
             saw \"cooldown over\" before either took the probe: check and take it under one \
             lock."
        );
        drop(pool);
    });
}

pub fn loom_worker_survives_a_panic() {
    testkit::model(|| {
        // Job 0 panics; jobs 1 and 2 can only finish together, so both workers must be alive.
        let met = Arc::new((Mutex::new(0u8), Condvar::new()));
        let m = Arc::clone(&met);
        let (mut pool, outcomes) = ErrorPool::new(
            2,
            Policy::default(),
            || 0,
            move |n: &u8, _: Attempt| -> Result<u8, Broken> {
                if *n == 0 {
                    testkit::panic_on_purpose("job 0 panics");
                }
                let (count, cv) = &*m;
                let mut count = count.lock().unwrap();
                *count += 1;
                cv.notify_all();
                while *count < 2 {
                    count = cv.wait(count).unwrap();
                }
                Ok(*n)
            },
        )
        .expect("valid pool");
        for n in 0..3 {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        pool.close();
        let mut got: Vec<Outcome<u8, u8, Broken>> = outcomes.collect();
        got.sort_by_key(|o| o.id());
        assert_eq!(
            kinds(&got),
            vec![(0, "Panicked"), (1, "Done"), (2, "Done")],
            "job 0 panicked; jobs 1 and 2 wait for each other. A DEADLOCK here means the panic \
             cost a worker: catch it around each job (catch_unwind), not around the worker's \
             loop, and go on with the next job."
        );
        pool.shutdown();
    });
}

pub fn loom_reading_outcomes_never_deadlocks() {
    testkit::model(|| {
        // Three failures and a reader that reads everything: whatever the pool buffers, the
        // reader and the workers must never wait for each other.
        let (mut pool, outcomes) = ErrorPool::new(
            2,
            Policy::default(),
            || 0,
            |_: &u8, _: Attempt| Err::<u8, _>(Broken),
        )
        .expect("valid pool");
        for n in 0..3 {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        pool.close();
        let got: Vec<Outcome<u8, u8, Broken>> = outcomes.collect();
        assert_eq!(
            got.len(),
            3,
            "3 failed jobs, 3 outcomes expected, got {:?}",
            kinds(&got)
        );
        pool.shutdown();
    });
}

pub fn loom_fail_fast_hands_back_queued_jobs() {
    testkit::model(|| {
        // One worker: job 0 fails, and jobs 1 and 2 must never run. Each is either refused by
        // submit (the pool had already stopped) or handed back as NotRun.
        let ran = Arc::new(Mutex::new(Vec::new()));
        let r = Arc::clone(&ran);
        let policy = Policy {
            fail_fast: true,
            ..Policy::default()
        };
        let (mut pool, outcomes) = ErrorPool::new(
            1,
            policy,
            || 0,
            move |n: &u8, _: Attempt| {
                r.lock().unwrap().push(*n);
                if *n == 0 { Err(Broken) } else { Ok(*n) }
            },
        )
        .expect("valid pool");
        pool.submit(0).expect("a fresh pool accepts jobs");
        let accepted: Vec<u8> = (1..3).filter(|n| pool.submit(*n).is_ok()).collect();
        pool.close();
        let got: Vec<Outcome<u8, u8, Broken>> = outcomes.collect();
        let mut want = vec![Outcome::Failed {
            id: JobId(0),
            error: Broken,
            attempts: 1,
        }];
        want.extend(accepted.iter().enumerate().map(|(k, n)| Outcome::NotRun {
            id: JobId(k as u64 + 1),
            job: *n,
        }));
        assert_eq!(
            got, want,
            "fail-fast, one worker, job 0 fails: every job accepted after it ({accepted:?}) \
             must come back as NotRun with the job — in some interleaving it ran or vanished"
        );
        assert_eq!(*ran.lock().unwrap(), vec![0], "only job 0 may run");
        pool.shutdown();
    });
}

pub fn loom_stop_visible_with_the_failure() {
    testkit::model(|| {
        let policy = Policy {
            fail_fast: true,
            ..Policy::default()
        };
        let (pool, mut outcomes) =
            ErrorPool::new(2, policy, || 0, |_: &u8, _: Attempt| Err::<(), _>(Broken))
                .expect("valid pool");
        pool.submit(0).expect("a fresh pool accepts jobs");
        assert!(matches!(outcomes.next(), Some(Outcome::Failed { .. })));
        assert!(
            pool.is_stopped(),
            "in some interleaving the first failure was on the stream before the pool had \
             stopped: stop the pool first, then deliver the outcome"
        );
        assert_eq!(
            pool.submit(1),
            Err(1),
            "once the first failure has been delivered, submit must hand jobs back"
        );
        drop(pool);
    });
}

pub fn loom_breaker_open_visible_with_the_failure() {
    testkit::model(|| {
        // Threads: main + 2 workers. Job 0's failure opens the breaker (threshold 1, and the
        // clock never moves); once its outcome is delivered, job 1 — perhaps taken by the
        // other worker — must be rejected.
        let (pool, mut outcomes) = ErrorPool::new(
            2,
            with_breaker(1, 10),
            || 0,
            |_: &u8, _: Attempt| Err::<(), _>(Broken),
        )
        .expect("valid pool");
        pool.submit(0).expect("an open pool accepts jobs");
        assert!(matches!(outcomes.next(), Some(Outcome::Failed { .. })));
        pool.submit(1).expect("an open pool accepts jobs");
        let second = outcomes.next().expect("job 1's outcome");
        assert_eq!(
            kinds(&[second]),
            vec![(1, "Rejected")],
            "job 0's failure opened the breaker, and its outcome had been delivered, yet in some \
             interleaving job 1 ran: record the verdict with the breaker BEFORE putting the \
             outcome on the stream"
        );
        drop(pool);
    });
}
