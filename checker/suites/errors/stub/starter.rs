//! Starter tests for exercise 6. Run them with `cargo test -p errors`; the checker runs these
//! and a hidden suite with `cargo checker check errors`.
//!
//! `a_panic_is_an_outcome` makes a job panic on purpose: the panic message Rust prints for it
//! is expected, and the test passes if the pool turned the panic into an outcome.

use errors::{Attempt, BreakerConfig, ErrorPool, JobId, ManualClock, Outcome, Policy, Transient};
use pretty_assertions::assert_eq;

// ANCHOR: usage
/// The jobs' error type: the pool asks it whether trying again could help.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Oops {
    Busy,
    BadInput,
}

impl Transient for Oops {
    fn is_transient(&self) -> bool {
        *self == Oops::Busy
    }
}

#[test]
fn every_outcome_keeps_its_id() {
    let (pool, outcomes) = ErrorPool::new(
        2,
        Policy::default(),
        || 0,
        |n: &u64, _: Attempt| {
            if n.is_multiple_of(2) {
                Ok(n * 10)
            } else {
                Err(Oops::BadInput)
            }
        },
    )
    .unwrap();
    for n in 0..4 {
        assert_eq!(pool.submit(n), Ok(JobId(n)));
    }
    pool.shutdown();
    let mut got: Vec<Outcome<u64, u64, Oops>> = outcomes.collect();
    got.sort_by_key(|o| o.id());
    assert_eq!(
        got,
        vec![
            Outcome::Done {
                id: JobId(0),
                value: 0,
                attempts: 1
            },
            Outcome::Failed {
                id: JobId(1),
                error: Oops::BadInput,
                attempts: 1
            },
            Outcome::Done {
                id: JobId(2),
                value: 20,
                attempts: 1
            },
            Outcome::Failed {
                id: JobId(3),
                error: Oops::BadInput,
                attempts: 1
            },
        ]
    );
}

#[test]
fn busy_is_retried_until_it_works() {
    let policy = Policy {
        max_attempts: 3,
        ..Policy::default()
    };
    // Busy on the first two attempts, fine on the third.
    let (pool, outcomes) = ErrorPool::new(
        1,
        policy,
        || 0,
        |s: &&str, attempt: Attempt| {
            if attempt.number < 3 {
                Err(Oops::Busy)
            } else {
                Ok(s.len())
            }
        },
    )
    .unwrap();
    pool.submit("retry").unwrap();
    pool.shutdown();
    let got: Vec<Outcome<&str, usize, Oops>> = outcomes.collect();
    assert_eq!(
        got,
        vec![Outcome::Done {
            id: JobId(0),
            value: 5,
            attempts: 3
        }]
    );
}
// ANCHOR_END: usage

#[test]
fn a_panic_is_an_outcome() {
    let (pool, outcomes) = ErrorPool::new(
        1,
        Policy::default(),
        || 0,
        |n: &u32, _: Attempt| {
            if *n == 0 {
                panic!("job 0 blew up (on purpose)");
            }
            Ok::<u32, Oops>(*n)
        },
    )
    .unwrap();
    pool.submit(0).unwrap();
    pool.submit(1).unwrap(); // the same worker must still be there to run it
    pool.shutdown();
    let got: Vec<Outcome<u32, u32, Oops>> = outcomes.collect();
    assert_eq!(
        got,
        vec![
            Outcome::Panicked {
                id: JobId(0),
                message: "job 0 blew up (on purpose)".to_string(),
                attempts: 1,
            },
            Outcome::Done {
                id: JobId(1),
                value: 1,
                attempts: 1
            },
        ]
    );
}

#[test]
fn open_breaker_rejects_jobs() {
    let clock = ManualClock::new(0);
    let breaker = BreakerConfig {
        threshold: 2,
        cooldown: 10,
    };
    let policy = Policy {
        breaker: Some(breaker),
        ..Policy::default()
    };
    let (pool, mut outcomes) = ErrorPool::new(1, policy, clock.clone(), |_: &u8, _: Attempt| {
        Err::<(), _>(Oops::BadInput)
    })
    .unwrap();
    for n in 0..2 {
        pool.submit(n).unwrap();
        assert!(matches!(outcomes.next(), Some(Outcome::Failed { .. })));
    }
    // Two failures in a row: the breaker is open, the next job is handed back unrun.
    pool.submit(2).unwrap();
    assert_eq!(
        outcomes.next(),
        Some(Outcome::Rejected {
            id: JobId(2),
            job: 2
        })
    );
    // After the cooldown one job may try again.
    clock.advance(10);
    pool.submit(3).unwrap();
    assert!(matches!(
        outcomes.next(),
        Some(Outcome::Failed { id: JobId(3), .. })
    ));
}
