//! Hidden suite, exercise 7 (timeout): loom models of the thread pool. Small on purpose (at
//! most 2 workers, 3 jobs, 3 threads in all for a correct pool): loom explores every
//! interleaving, so a bug found here is a bug in some real run. Loom cannot model time, and
//! needs none: the pool reads a `ManualClock` the model moves, and "a job has started" is
//! signalled with a `CancelToken` used as a latch (it is loom-visible).

use timeout::{CancelToken, Config, JobId, ManualClock, Outcome, TimeoutPool};
use workbook_sync::Arc;
use workbook_sync::atomic::{AtomicUsize, Ordering};

fn outcomes_of<R: Clone>(all: &[Outcome<R>], id: JobId) -> Vec<Outcome<R>> {
    all.iter().filter(|o| o.id() == id).cloned().collect()
}

pub fn loom_one_outcome_per_job() {
    testkit::model(|| {
        // Threads: main + 2 workers. Job 0 returns at once while the main thread moves the
        // clock to its deadline and runs expire: the worker's "returned" and expire's
        // "timed out" race for the same job.
        let clock = ManualClock::new(0);
        let config = Config {
            workers: 2,
            deadline: None,
        };
        let (pool, outcomes) =
            TimeoutPool::new(config, clock.clone(), |n: u8, _: &CancelToken| n).expect("valid");
        let a = pool.submit(0, 1).expect("no deadline");
        let b = pool.submit(1, 1).expect("no deadline");
        clock.set(1);
        let expired = pool.expire();
        assert_eq!(pool.finish(), vec![], "no deadline: every job runs");
        let got: Vec<Outcome<u8>> = outcomes.try_iter().collect();
        for id in [a, b] {
            let mine = outcomes_of(&got, id);
            assert_eq!(
                mine.len(),
                1,
                "TWO OUTCOMES (or none) for {id:?}: {got:?} (expire timed out {expired}). The \
                 worker returning and expire timing out raced for the same job, and both \
                 reported it. Decide a job's outcome once, under one lock: whoever removes it \
                 from the running set reports it; the other finds it gone and stays silent."
            );
        }
        let timed_out = got
            .iter()
            .filter(|o| matches!(o, Outcome::TimedOut(_)))
            .count();
        assert!(
            timed_out >= expired,
            "expire said it timed out {expired} job(s), but only {timed_out} TimedOut outcome(s) \
             were delivered: {got:?}"
        );
    });
}

pub fn loom_no_job_starts_after_the_deadline() {
    testkit::model(|| {
        // Threads: main + 1 worker. Job 0 moves the clock to the overall deadline; jobs 1 and
        // 2 may be queued behind it (or refused by submit, if they come after). Whatever the
        // interleaving, neither may start, and each job ends in exactly one place.
        let clock = ManualClock::new(0);
        let started = Arc::new(AtomicUsize::new(0));
        let config = Config {
            workers: 1,
            deadline: Some(1),
        };
        let job_clock = clock.clone();
        let s = Arc::clone(&started);
        let (pool, outcomes) = TimeoutPool::new(config, clock, move |n: u8, _: &CancelToken| {
            if n == 0 {
                job_clock.set(1);
            } else {
                s.fetch_add(1, Ordering::SeqCst);
            }
            n
        })
        .expect("valid");
        let first = pool.submit(0, 5).expect("the clock reads 0");
        let refused: Vec<u8> = [1u8, 2]
            .into_iter()
            .filter_map(|n| pool.submit(n, 5).err())
            .collect();
        let never_ran = pool.finish();
        assert_eq!(
            started.load(Ordering::SeqCst),
            0,
            "DEADLINE MISSED: a job started after job 0 had moved the clock to the overall \
             deadline (never ran: {never_ran:?}, refused: {refused:?}). Read the clock before \
             starting each job, not once per batch of jobs."
        );
        let got: Vec<Outcome<u8>> = outcomes.try_iter().collect();
        assert_eq!(
            got,
            vec![Outcome::TimedOut(first)],
            "job 0 returned when the clock read its deadline min(0 + 5, 1) = 1: TimedOut"
        );
        let mut listed: Vec<u8> = never_ran.iter().map(|(_, n)| *n).collect();
        listed.extend(&refused);
        listed.sort_unstable();
        assert_eq!(
            listed,
            vec![1, 2],
            "jobs 1 and 2 must each be refused by submit or listed by finish as never run, \
             exactly once (never ran: {never_ran:?}, refused: {refused:?})"
        );
    });
}

pub fn loom_finish_joins_every_worker() {
    testkit::model(|| {
        // Threads: main + 2 workers. Job 0 waits for its token; finish (at the job's deadline)
        // must cancel it, wait for the job, join both workers and drop the job function.
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let running = CancelToken::new(); // a latch: job 0 has started
        let latch = running.clone();
        let clock = ManualClock::new(0);
        let config = Config {
            workers: 2,
            deadline: None,
        };
        let (pool, outcomes) =
            TimeoutPool::new(config, clock.clone(), move |n: u8, token: &CancelToken| {
                let _ = &held;
                if n == 0 {
                    latch.cancel();
                    token.wait();
                }
                n
            })
            .expect("valid");
        let a = pool.submit(0, 1).expect("no deadline");
        let b = pool.submit(1, 5).expect("no deadline");
        running.wait();
        clock.set(1);
        assert_eq!(pool.finish(), vec![]);
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after finish a worker thread still holds the job function: it is still \
             alive. finish must join every worker before it returns."
        );
        let got: Vec<Outcome<u8>> = outcomes.try_iter().collect();
        assert_eq!(outcomes_of(&got, a), vec![Outcome::TimedOut(a)], "{got:?}");
        assert_eq!(outcomes_of(&got, b), vec![Outcome::Done(b, 1)], "{got:?}");
    });
}

pub fn loom_stuck_job_keeps_its_worker() {
    testkit::model(|| {
        // Threads: main + 1 worker. Job 0 ignores its token and holds the only worker past
        // its deadline. It is TimedOut at once, but job 1 must not run until job 0 has
        // returned: the pool never runs more than `workers` jobs at once.
        let release = CancelToken::new(); // the "gate" job 0 waits on (not its own token)
        let running = CancelToken::new(); // a latch: job 0 has started
        let busy = Arc::new(AtomicUsize::new(0));
        let (r, l, b) = (release.clone(), running.clone(), Arc::clone(&busy));
        let clock = ManualClock::new(0);
        let config = Config {
            workers: 1,
            deadline: None,
        };
        let (pool, outcomes) =
            TimeoutPool::new(config, clock.clone(), move |n: u8, _: &CancelToken| {
                let at_once = b.fetch_add(1, Ordering::SeqCst) + 1;
                if n == 0 {
                    l.cancel();
                    r.wait();
                }
                b.fetch_sub(1, Ordering::SeqCst);
                at_once
            })
            .expect("valid");
        let stuck = pool.submit(0, 1).expect("no deadline");
        running.wait();
        clock.set(1);
        assert_eq!(pool.expire(), 1, "job 0 is past its deadline");
        let next = pool.submit(1, 5).expect("no deadline");
        release.cancel();
        assert_eq!(pool.finish(), vec![]);
        let got: Vec<Outcome<usize>> = outcomes.try_iter().collect();
        assert_eq!(
            got,
            vec![Outcome::TimedOut(stuck), Outcome::Done(next, 1)],
            "one worker: job 1 must run alone, after the timed-out job 0 has returned (a \
             Done with 2 means both ran at once: a replacement worker, or a worker that left \
             the stuck job behind). Only one outcome each, and TimedOut for job 0."
        );
    });
}
