//! Hidden suite, exercise 5 (results): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.
//!
//! No sleeps and no timing: jobs are held with gates and counted with arrival counters, so
//! "job 0 finishes last" or "job 2 is still running" is known, not hoped for. Where a wrong
//! pool can only be caught by waiting for something that never comes (a stream that never
//! ends, a result that is never handed out), the test hangs on that wrong pool and the
//! checker's timeout reports it with the test's explanation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use pretty_assertions::assert_eq;
use results::{JobId, JobResult, Order, PoolError, ResultPool, TrySubmitError, fold};
use testkit::check;
use testkit::gate::{Arrivals, ExitWatch, Gate, ThreadExits, identity_holding};

fn ids<R>(results: &[JobResult<R>]) -> Vec<u64> {
    results.iter().map(|r| r.id.0).collect()
}

/// A little work that depends on `n`, so jobs take different times without any sleep.
fn uneven_work(n: u64) -> u64 {
    let mut x = n;
    for _ in 0..(n % 7) * 2_000 {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
    std::hint::black_box(x);
    n * 3
}

pub fn every_result_matches_its_job() {
    let (pool, results) =
        ResultPool::new(4, Order::Completion, |n: u64| n * 3 + 1).expect("4 workers is valid");
    assert_eq!(
        pool.workers(),
        4,
        "workers() reports the number of worker threads"
    );
    // Consume concurrently, so this test does not depend on how results are buffered.
    let consumer = thread::spawn(move || results.collect::<Vec<JobResult<u64>>>());
    let mut inputs = Vec::new();
    for k in 0..300u64 {
        let input = (k * 7_919) % 1_000;
        let id = pool.submit(input).expect("a healthy pool accepts jobs");
        assert_eq!(
            id,
            JobId(k),
            "submit must return ids 0, 1, 2, … in submission order; the job submitted {k}th \
             got {id:?}"
        );
        inputs.push(input);
    }
    pool.shutdown();
    let got = consumer.join().expect("consumer thread");
    check::each_exactly_once("result id", &ids(&got), 300);
    for r in &got {
        let input = inputs[r.id.0 as usize];
        assert_eq!(
            r.value,
            input * 3 + 1,
            "the result tagged {:?} carries the value of another job: job {} was {input}, so \
             its result is {}. Tag each result with the id of the job it was computed from \
             (send the id to the worker together with the job).",
            r.id,
            r.id.0,
            input * 3 + 1
        );
    }
}

pub fn ordered_despite_out_of_order_completion() {
    // Job 0 waits until job 3 has started. With 2 workers, job 3 can only start once the
    // other worker has finished jobs 1 and 2 and handed in their results, so results
    // 1 and 2 always reach the pool before result 0.
    let job3_started = Arrivals::new();
    let a = job3_started.clone();
    let (pool, mut results) = ResultPool::new(2, Order::Submission { window: 4 }, move |n: u64| {
        if n == 3 {
            a.arrive();
        }
        if n == 0 {
            a.wait_for(1);
        }
        n * 10
    })
    .expect("valid pool");
    for n in 0..4 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    let got: Vec<JobResult<u64>> = results.by_ref().take(4).collect();
    assert_eq!(
        ids(&got),
        vec![0, 1, 2, 3],
        "ordered mode must deliver results in submission order. Here job 0 finished LAST (it \
         waited for job 3 to start), and the pool delivered them in completion order. Park \
         results that arrive ahead of their turn in a buffer and hand out only the one whose \
         id is next."
    );
    assert_eq!(
        got.iter().map(|r| r.value).collect::<Vec<_>>(),
        vec![0, 10, 20, 30],
        "each result must carry its own job's value"
    );
    pool.shutdown();
    assert!(
        results.next().is_none(),
        "after shutdown, with every result taken, the stream must end"
    );
}

pub fn ordered_many_jobs() {
    let (pool, results) =
        ResultPool::new(4, Order::Submission { window: 8 }, uneven_work).expect("valid pool");
    let consumer = thread::spawn(move || results.collect::<Vec<JobResult<u64>>>());
    for n in 0..400 {
        // Blocks whenever 8 jobs are in the pool, until the consumer takes a result.
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    let got = consumer.join().expect("consumer thread");
    let want: Vec<u64> = (0..400).collect();
    assert_eq!(
        ids(&got),
        want,
        "400 jobs of uneven length on 4 workers, ordered mode: the results must come out in \
         submission order, each exactly once"
    );
    for r in &got {
        assert_eq!(
            r.value,
            r.id.0 * 3,
            "result {:?} carries a wrong value",
            r.id
        );
    }
}

pub fn window_bounds_jobs_in_the_pool() {
    let gate = Gate::new();
    let finished = Arrivals::new();
    let (g, f) = (gate.clone(), finished.clone());
    let (mut pool, mut results) =
        ResultPool::new(2, Order::Submission { window: 2 }, move |n: u32| {
            if n == 0 {
                g.wait();
            }
            f.arrive();
            n
        })
        .expect("valid pool");
    let _release = gate.open_on_drop();
    assert_eq!(pool.try_submit(0), Ok(JobId(0)), "an empty window has room");
    assert_eq!(
        pool.try_submit(1),
        Ok(JobId(1)),
        "a window of 2 has room for 2 jobs"
    );
    assert_eq!(
        pool.try_submit(2),
        Err(TrySubmitError::Full(2)),
        "window 2, and jobs 0 and 1 are in the pool: try_submit must hand job 2 back as \
         Full. Without that limit the reorder buffer grows without bound while job 0 is slow."
    );
    finished.wait_for(1); // job 1 is done; job 0 is still held by the gate
    assert_eq!(
        pool.try_submit(2),
        Err(TrySubmitError::Full(2)),
        "job 1 has finished but its result waits for job 0's: it still occupies its slot. \
         A slot is freed when the consumer TAKES a result, not when the job finishes."
    );
    gate.open();
    finished.wait_for(2);
    assert_eq!(
        pool.try_submit(2),
        Err(TrySubmitError::Full(2)),
        "jobs 0 and 1 have finished but no result has been taken yet: the window is still \
         full. A slot is freed when the consumer takes a result."
    );
    assert_eq!(
        results.next().map(|r| r.id),
        Some(JobId(0)),
        "ordered mode hands out result 0 first (job 1 finished earlier, but 0 comes first)"
    );
    assert_eq!(
        pool.try_submit(2),
        Ok(JobId(2)),
        "the consumer took result 0, which frees its slot before `next` returns; job 2 must \
         now be accepted, with id 2 (a job handed back as Full uses up no id)"
    );
    assert_eq!(
        pool.try_submit(3),
        Err(TrySubmitError::Full(3)),
        "jobs 1 and 2 are in the pool again: the window is full"
    );
    let rest: Vec<Option<JobId>> = vec![results.next().map(|r| r.id), results.next().map(|r| r.id)];
    assert_eq!(
        rest,
        vec![Some(JobId(1)), Some(JobId(2))],
        "results 1 and 2 come next, in submission order"
    );
    pool.close();
    assert!(
        results.next().is_none(),
        "closed and drained: the stream ends"
    );
    pool.shutdown();
}

/// Far more than any "big enough" constant a queue, window or results channel might be
/// bounded at.
const MANY: u32 = 100_000;

pub fn completion_mode_has_no_window() {
    let gate = Gate::new();
    let inside = Arrivals::new();
    let (g, i) = (gate.clone(), inside.clone());
    let (pool, results) = ResultPool::new(2, Order::Completion, move |n: u32| {
        if n < 2 {
            i.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    assert_eq!(pool.try_submit(0), Ok(JobId(0)));
    assert_eq!(pool.try_submit(1), Ok(JobId(1)));
    inside.wait_for(2); // both workers are held: every later job stays queued
    for n in 2..MANY {
        let outcome = pool.try_submit(n);
        assert_eq!(
            outcome,
            Ok(JobId(u64::from(n))),
            "completion mode has no window: try_submit never reports Full and never waits, \
             however many jobs are queued (both workers were held while 100 000 jobs were \
             submitted)"
        );
    }
    gate.open();
    // Nobody reads a result until shutdown has returned: they are buffered without limit.
    pool.shutdown();
    let got: Vec<u64> = results.map(|r| r.id.0).collect();
    check::each_exactly_once("result id", &got, u64::from(MANY));
}

pub fn completion_results_stream() {
    let gate = Gate::new();
    let g = gate.clone();
    let (pool, mut results) = ResultPool::new(2, Order::Completion, move |n: u32| {
        if n == 1 {
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(0).expect("a healthy pool accepts jobs");
    pool.submit(1).expect("a healthy pool accepts jobs");
    // Job 1 cannot finish until the gate opens, so this must not wait for it.
    let first = results.next().map(|r| r.id);
    assert_eq!(
        first,
        Some(JobId(0)),
        "job 1 is still running, so the first result can only be job 0's"
    );
    gate.open();
    assert_eq!(results.next().map(|r| r.id), Some(JobId(1)));
    pool.shutdown();
    assert!(results.next().is_none(), "after shutdown the stream ends");
}

pub fn ordered_results_stream() {
    let gate = Gate::new();
    let g = gate.clone();
    let (mut pool, mut results) =
        ResultPool::new(2, Order::Submission { window: 4 }, move |n: u32| {
            if n == 2 {
                g.wait();
            }
            n
        })
        .expect("valid pool");
    let _release = gate.open_on_drop();
    for n in 0..3 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    // Job 2 is held by the gate (nobody opens it yet): results 0 and 1 must be handed out
    // now. A pool that collects everything before handing out the first result hangs here.
    let first_two: Vec<u64> = results.by_ref().take(2).map(|r| r.id.0).collect();
    assert_eq!(
        first_two,
        vec![0, 1],
        "results 0 and 1 were ready while job 2 still ran; ordered mode hands each result \
         out as soon as every earlier one has been"
    );
    gate.open();
    assert_eq!(results.next().map(|r| r.id), Some(JobId(2)));
    pool.close();
    assert!(
        results.next().is_none(),
        "closed and drained: the stream ends"
    );
    pool.shutdown();
}

pub fn stream_waits_for_the_last_worker() {
    // Job 0 is held until the OTHER worker's thread has exited; only then may it finish.
    // The stream must still deliver its result: it ends when the last worker is done.
    let other = ExitWatch::new();
    let started = Arrivals::new();
    let (o, s) = (other.clone(), started.clone());
    let (mut pool, results) = ResultPool::new(2, Order::Completion, move |n: u32| {
        if n == 0 {
            s.arrive();
            o.wait_for_exits(1);
        } else {
            // Runs on the other worker (job 0 occupies the first): when that worker's
            // thread exits, job 0 is released.
            o.enlist();
        }
        n
    })
    .expect("valid pool");
    pool.submit(0).expect("a healthy pool accepts jobs");
    started.wait_for(1);
    pool.submit(1).expect("a healthy pool accepts jobs");
    pool.close(); // the second worker runs job 1, finds the queue closed and exits
    let mut got: Vec<u64> = results.map(|r| r.id.0).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![0, 1],
        "the stream ended while job 0 was still running: it ended when the FIRST worker \
         stopped. It must end when the LAST one has (Go closes `results` after `wg.Wait()`; \
         in Rust, give every worker its own Sender clone and let the last drop close it — \
         never close or take a shared Sender when one worker is done)."
    );
    pool.shutdown();
}

pub fn consumer_loop_ends() {
    let (mut pool, results) =
        ResultPool::new(2, Order::Submission { window: 4 }, |n: u32| n).expect("valid pool");
    let consumer = thread::spawn(move || {
        let mut seen = Vec::new();
        for r in results {
            seen.push(r.id.0);
        }
        seen
    });
    for n in 0..40 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.close();
    // The pool is closed but still alive: the consumer's loop must end once all 40 results
    // are taken. This hangs (and times out) if anything but the workers keeps it open.
    let seen = consumer.join().expect("consumer thread");
    let want: Vec<u64> = (0..40).collect();
    assert_eq!(
        seen, want,
        "the consumer's loop must see all 40 results, in order"
    );
    pool.shutdown();
}

pub fn results_end_after_shutdown() {
    let (pool, mut results) =
        ResultPool::new(3, Order::Completion, |n: u64| n + 1).expect("valid pool");
    for n in 0..30 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    let got: Vec<JobResult<u64>> = results.by_ref().collect();
    check::each_exactly_once("result id", &ids(&got), 30);
    assert!(
        results.next().is_none(),
        "an ended stream stays ended: next keeps returning None"
    );
}

pub fn dropping_results_discards_queued_jobs() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let exits = ThreadExits::new();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let (g, s, e, log) = (
        gate.clone(),
        started.clone(),
        exits.clone(),
        Arc::clone(&ran),
    );
    let (pool, results) = ResultPool::new(1, Order::Completion, move |n: u32| {
        e.enlist();
        log.lock().unwrap().push(n);
        if n == 0 {
            s.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    for n in 0..6 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    started.wait_for(1); // job 0 runs; jobs 1..=5 are queued
    drop(results); // the consumer leaves early
    assert_eq!(
        pool.submit(6),
        Err(6),
        "the consumer has dropped the results stream: submit must hand the job back, since \
         nobody can ever read its result"
    );
    assert_eq!(
        pool.try_submit(7),
        Err(TrySubmitError::Closed(7)),
        "try_submit after the consumer left: Closed(job)"
    );
    gate.open(); // job 0 finishes; its result has nowhere to go
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "a thread panicked after the consumer dropped the results stream — most likely a \
         worker's `results.send(..).unwrap()`. A consumer that stops listening is not an \
         error: ignore a failed send (`let _ = results.send(..)`)."
    );
    assert_eq!(
        *ran.lock().unwrap(),
        vec![0],
        "jobs 1..=5 were still queued when the consumer dropped the results stream; the pool \
         ran them anyway, for nobody. Once the consumer is gone, discard queued jobs without \
         running them (a job already running may finish)."
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown returned while a worker thread was still running: join every worker"
    );
}

pub fn submit_hands_job_back_once_results_dropped() {
    let (pool, results) =
        ResultPool::new(2, Order::Submission { window: 1 }, |n: u32| n).expect("valid pool");
    pool.submit(0).expect("an empty window has room");
    // The window is full and nobody will take result 0. A second thread submits (and
    // usually waits for a slot) while the consumer leaves: it must wake and hand job 1
    // back. This hangs if a waiting submit is never woken.
    thread::scope(|scope| {
        let waiter = scope.spawn(|| pool.submit(1));
        drop(results);
        assert_eq!(
            waiter.join().expect("submitting thread"),
            Err(1),
            "the window was full and the consumer dropped the results stream: the waiting \
             submit must wake up and hand its job back"
        );
    });
    assert_eq!(
        pool.submit(2),
        Err(2),
        "after the consumer left, submit hands every job back at once"
    );
    pool.shutdown();
}

pub fn fold_streams_as_results_arrive() {
    // Job 1 is held until `f` has folded a first result: a fold that collects every
    // result before calling `f` waits forever here.
    let gate = Gate::new();
    let g = gate.clone();
    let opener = gate.clone();
    let folded = fold(
        2,
        Order::Completion,
        0..2u32,
        move |n| {
            if n == 1 {
                g.wait();
            }
            n
        },
        Vec::new(),
        move |mut acc, r| {
            opener.open();
            acc.push(r.id.0);
            acc
        },
    )
    .expect("valid pool");
    assert_eq!(
        folded,
        vec![0, 1],
        "job 1 could only finish after `f` had folded job 0's result: `f` is called once per \
         result, as the results arrive"
    );
}

pub fn fold_with_window_one_keeps_order() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (Arc::clone(&running), Arc::clone(&most));
    let folded = fold(
        3,
        Order::Submission { window: 1 },
        0..60u64,
        move |n| {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            let out = uneven_work(n);
            r.fetch_sub(1, Ordering::SeqCst);
            out
        },
        Vec::new(),
        |mut acc, r| {
            acc.push((r.id.0, r.value));
            acc
        },
    )
    .expect("valid pool");
    let want: Vec<(u64, u64)> = (0..60).map(|n| (n, n * 3)).collect();
    assert_eq!(
        folded, want,
        "fold over 60 jobs with window 1 must fold every result once, in submission order"
    );
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "with a window of 1, at most one job may be in the pool at a time, so never two run \
         at once"
    );
}

pub fn fold_of_nothing_is_init() {
    let folded = fold(
        2,
        Order::Submission { window: 3 },
        Vec::<u8>::new(),
        |n| n,
        41,
        |acc, r| acc + u64::from(r.value),
    );
    assert_eq!(folded, Ok(41), "zero jobs: fold returns `init` unchanged");
}

pub fn invalid_pools_rejected() {
    let probe = Arc::new(());
    assert!(
        ResultPool::<u8>::new(0, Order::Submission { window: 2 }, identity_holding(&probe))
            .is_err()
            && ResultPool::<u8>::new(3, Order::Submission { window: 0 }, identity_holding(&probe))
                .is_err(),
        "0 workers and a window of 0 are errors"
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "new returned an error, but a thread still holds the job function: no thread may be \
         started on error (check the sizes before starting any worker)"
    );
    // The messages are given in the stub; they must still say what is wrong.
    assert!(
        PoolError::NoWorkers
            .to_string()
            .contains("at least one worker")
            && PoolError::ZeroWindow
                .to_string()
                .contains("window of at least 1"),
        "PoolError's Display (given in the stub) must say what is wrong"
    );
    assert_eq!(
        ResultPool::<u8>::new(0, Order::Completion, |n: u8| n).err(),
        Some(PoolError::NoWorkers),
        "ResultPool::new(0, ..) must return Err(PoolError::NoWorkers)"
    );
    assert_eq!(
        ResultPool::<u8>::new(2, Order::Submission { window: 0 }, |n: u8| n).err(),
        Some(PoolError::ZeroWindow),
        "a window of 0 could never let a job in: Err(PoolError::ZeroWindow)"
    );
    assert_eq!(
        fold(0, Order::Completion, 0..3u8, |n| n, 0, |acc, _| acc),
        Err(PoolError::NoWorkers),
        "fold reports the pool's errors"
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let outcome = fold(
        2,
        Order::Submission { window: 0 },
        0..3u8,
        move |n| {
            c.fetch_add(1, Ordering::SeqCst);
            n
        },
        0,
        |acc, _| acc + 1,
    );
    assert_eq!(
        (outcome, calls.load(Ordering::SeqCst)),
        (Err(PoolError::ZeroWindow), 0),
        "(fold's outcome with a window of 0, jobs run): the error comes before any job runs"
    );
}

pub fn submit_after_close_hands_job_back() {
    let (mut pool, results) =
        ResultPool::new(2, Order::Submission { window: 2 }, |n: u32| n).expect("valid pool");
    pool.submit(1).expect("a healthy pool accepts jobs");
    pool.close();
    assert_eq!(
        pool.submit(2),
        Err(2),
        "submit after close must hand the job back (Err(job))"
    );
    assert_eq!(
        pool.try_submit(3),
        Err(TrySubmitError::Closed(3)),
        "try_submit after close must hand the job back as Closed(job)"
    );
    pool.shutdown();
    let got: Vec<u64> = results.map(|r| r.value.into()).collect();
    assert_eq!(got, vec![1], "the job queued before close still runs");
}

pub fn concurrent_submitters_in_ordered_mode() {
    let (pool, results) =
        ResultPool::new(3, Order::Submission { window: 3 }, |n: u64| n).expect("valid pool");
    let consumer = thread::spawn(move || results.collect::<Vec<JobResult<u64>>>());
    let submitted: Vec<(JobId, u64)> = thread::scope(|scope| {
        let pool = &pool;
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                scope.spawn(move || {
                    (0..50u64)
                        .map(|k| {
                            let job = t * 1_000 + k;
                            (pool.submit(job).expect("a healthy pool accepts jobs"), job)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("submitting thread"))
            .collect()
    });
    pool.shutdown();
    let got = consumer.join().expect("consumer thread");
    let want: Vec<u64> = (0..200).collect();
    assert_eq!(
        ids(&got),
        want,
        "4 threads submitted 50 jobs each: ids 0..200, each once, delivered in id order"
    );
    for (id, job) in submitted {
        assert_eq!(
            got[id.0 as usize].value, job,
            "submit returned {id:?} for job {job}, but the result with that id is another job's"
        );
    }
}

pub fn drop_joins_workers() {
    let exits = ThreadExits::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let (e, f) = (exits.clone(), Arc::clone(&finished));
    let (pool, results) = ResultPool::new(3, Order::Completion, move |n: u32| {
        e.enlist();
        f.fetch_add(1, Ordering::SeqCst);
        n
    })
    .expect("valid pool");
    for n in 0..60 {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    drop(pool); // no explicit shutdown
    assert_eq!(
        finished.load(Ordering::SeqCst),
        60,
        "dropping the pool must finish every queued job, like shutdown does"
    );
    assert_eq!(
        results.count(),
        60,
        "every result is there, then the stream ends"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "the pool was dropped but a worker thread was still running: implement Drop so it \
         closes the queue and joins every worker"
    );
}

/// Past any id a `u16` can hold, and no further: the test pays a wake-up per job.
const FAR: u32 = 70_000;

pub fn ordered_far_past_the_window() {
    // Every job whose id is a multiple of 3 waits until job id + 1 has finished, so results
    // arrive out of order all the way through 70 000 jobs (window 3, 2 workers).
    let done = Arc::new((Mutex::new(vec![false; FAR as usize + 1]), Condvar::new()));
    let d = Arc::clone(&done);
    let (pool, results) = ResultPool::new(2, Order::Submission { window: 3 }, move |n: u64| {
        let (flags, cv) = &*d;
        if n % 3 == 0 && n + 1 < u64::from(FAR) {
            let mut flags = flags.lock().unwrap();
            while !flags[n as usize + 1] {
                flags = cv.wait(flags).unwrap();
            }
        }
        flags.lock().unwrap()[n as usize] = true;
        cv.notify_all();
        n * 2
    })
    .expect("valid pool");
    let consumer = thread::spawn(move || {
        let mut out_of_turn = None;
        let mut count = 0u64;
        for (expected, r) in results.enumerate() {
            count += 1;
            if out_of_turn.is_none() && (r.id.0 != expected as u64 || r.value != r.id.0 * 2) {
                out_of_turn = Some((expected, r.id.0, r.value));
            }
        }
        (count, out_of_turn)
    });
    for n in 0..u64::from(FAR) {
        pool.submit(n).expect("a healthy pool accepts jobs");
    }
    pool.shutdown();
    let (count, out_of_turn) = consumer.join().expect("consumer thread");
    assert_eq!(
        out_of_turn, None,
        "ordered mode over 70 000 jobs with a window of 3 (and every third job finishing \
         after the next one): (position, id delivered, value) of the first result out of \
         turn or with a wrong value. The order must hold however far past the window the \
         ids go: index the reorder buffer by `id - next`, never by a wrapped or truncated id."
    );
    assert_eq!(count, u64::from(FAR), "every result must come back once");
}

pub fn fold_completion_folds_in_completion_order() {
    // Job 0 is held until `f` has folded every other result: in completion mode it must be
    // folded last.
    let gate = Gate::new();
    let exits = ThreadExits::new();
    let (g, e) = (gate.clone(), exits.clone());
    let opener = gate.clone();
    let jobs: Vec<u64> = (0..6).map(|k| 100 + k * 7).collect();
    let folded = fold(
        3,
        Order::Completion,
        jobs.clone(),
        move |job: u64| {
            e.enlist();
            if job == 100 {
                g.wait();
            }
            job + 1
        },
        Vec::new(),
        move |mut acc: Vec<(u64, u64)>, r| {
            acc.push((r.id.0, r.value));
            if acc.len() == 5 {
                opener.open();
            }
            acc
        },
    )
    .expect("valid pool");
    assert_eq!(
        folded.last().map(|&(id, _)| id),
        Some(0),
        "fold in completion mode: job 0 could only finish after `f` had folded all 5 other \
         results, so it must be folded last. `f` sees the results in the order the stream \
         delivers them — completion order here — each as soon as it arrives. (Folded: \
         {folded:?})"
    );
    let mut by_id = folded.clone();
    by_id.sort_unstable();
    let want: Vec<(u64, u64)> = jobs
        .iter()
        .enumerate()
        .map(|(n, &job)| (n as u64, job + 1))
        .collect();
    assert_eq!(
        by_id, want,
        "every job folded exactly once, the n-th job of the iterator with JobId(n) and its own \
         value"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "fold returned while a worker thread was still running: it returns only once every \
         worker has been joined"
    );
}

pub fn fold_ordered_far_past_the_window() {
    let folded = fold(
        3,
        Order::Submission { window: 2 },
        0..5_000u64,
        uneven_work,
        (0u64, true),
        |(next, in_order), r| (next + 1, in_order && r.id.0 == next && r.value == next * 3),
    )
    .expect("valid pool");
    assert_eq!(
        folded,
        (5_000, true),
        "fold over 5 000 jobs with window 2: (results folded, all in submission order with \
         their own values)"
    );
}

pub fn close_alone_ends_the_stream() {
    for order in [Order::Completion, Order::Submission { window: 2 }] {
        let exits = ThreadExits::new();
        let e = exits.clone();
        let (mut pool, mut results) = ResultPool::new(3, order, move |n: u32| {
            e.enlist();
            n
        })
        .expect("valid pool");
        for n in 0..4 {
            pool.submit(n).expect("a healthy pool accepts jobs");
            assert!(results.next().is_some(), "the result of job {n} arrives");
        }
        // Every worker is idle (or about to be). close() alone must end the stream while the
        // closed pool is still alive.
        pool.close();
        assert!(
            results.next().is_none(),
            "{order:?}: every result had been taken before close, so after close the stream \
             must end (while the pool still exists): the idle workers must leave"
        );
        assert_eq!(
            pool.submit(9),
            Err(9),
            "submit after close hands the job back"
        );
        pool.shutdown();
        assert_eq!(exits.exited(), exits.enlisted());
    }
}

pub fn closed_wins_over_full() {
    let (mut pool, mut results) =
        ResultPool::new(2, Order::Submission { window: 1 }, |n: u32| n).expect("valid pool");
    pool.submit(0).expect("an empty window has room");
    assert_eq!(pool.try_submit(1), Err(TrySubmitError::Full(1)));
    assert_eq!(
        pool.try_submit(5).map_err(TrySubmitError::into_inner),
        Err(5),
        "into_inner gives back the job inside a Full error"
    );
    pool.close();
    assert_eq!(
        pool.try_submit(2),
        Err(TrySubmitError::Closed(2)),
        "the window is full AND the pool is closed: try_submit must say Closed — Full means \
         a retry can succeed, and it never will"
    );
    assert_eq!(
        pool.try_submit(6).map_err(TrySubmitError::into_inner),
        Err(6),
        "into_inner gives back the job inside a Closed error"
    );
    assert_eq!(results.next().map(|r| r.id), Some(JobId(0)));
    assert!(
        results.next().is_none(),
        "closed and drained: the stream ends"
    );
    pool.shutdown();
}

pub fn shutdown_after_a_panic_joins_the_others() {
    let watch = ExitWatch::new();
    let gate = Gate::new();
    let inside = Arrivals::new();
    let (w, g, i) = (watch.clone(), gate.clone(), inside.clone());
    let (pool, results) = ResultPool::new(3, Order::Completion, move |n: u32| {
        w.enlist();
        if n == 0 {
            testkit::panic_on_purpose("job 0 panics on purpose");
        }
        if n >= 100 {
            i.arrive();
            g.wait();
        }
        n
    })
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(100).expect("a healthy pool accepts jobs");
    pool.submit(101).expect("a healthy pool accepts jobs");
    inside.wait_for(2); // two workers are busy: the third takes job 0
    pool.submit(0).expect("a healthy pool accepts jobs");
    watch.wait_for_exits(1);
    for n in 1..=20 {
        pool.submit(n)
            .expect("two workers are still alive: the pool accepts jobs");
    }
    gate.open();
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "something other than job 0 panicked — most likely shutdown, joining the worker whose \
         job panicked (`join().unwrap()`): a worker that panicked is not an error for \
         shutdown, which must join the others and return"
    );
    assert_eq!(
        watch.counts(),
        (3, 3),
        "(threads that ran jobs, threads ended) after shutdown: shutdown must join every \
         other worker even though one of them panicked"
    );
    let mut got: Vec<u64> = results.map(|r| u64::from(r.value)).collect();
    got.sort_unstable();
    let mut want: Vec<u64> = (1..=20).collect();
    want.extend([100, 101]);
    assert_eq!(
        got, want,
        "every job but the one that panicked must run and its result come back"
    );
}

pub fn submit_hands_job_back_when_no_worker_is_left() {
    let watch = ExitWatch::new();
    let w = watch.clone();
    let (pool, results) = ResultPool::new(2, Order::Completion, move |n: u32| {
        w.enlist();
        if n < 2 {
            testkit::panic_on_purpose("jobs 0 and 1 panic on purpose");
        }
        n
    })
    .expect("valid pool");
    pool.submit(0).expect("a healthy pool accepts jobs");
    pool.submit(1).expect("a healthy pool accepts jobs");
    // Each worker dies at its first panicking job, so each of the two takes one.
    watch.wait_for_exits(2);
    assert_eq!(
        (pool.submit(2), pool.try_submit(3)),
        (Err(2), Err(TrySubmitError::Closed(3))),
        "both workers' jobs panicked and both threads have ended: with no worker left, \
         submit must hand the job back (Err(job)) and try_submit report Closed(job), instead \
         of queueing it for nobody. (A pool that keeps a job Receiver of its own keeps the \
         queue open, so a send to it still succeeds: count the workers still running.)"
    );
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "something other than the jobs panicked — most likely shutdown, joining a worker \
         whose job panicked (`join().unwrap()`)"
    );
    assert_eq!(results.count(), 0, "no job could deliver a result");
}

pub fn no_worker_left_is_closed_not_full() {
    let watch = ExitWatch::new();
    let w = watch.clone();
    let (pool, results) = ResultPool::new(1, Order::Submission { window: 1 }, move |n: u32| {
        w.enlist();
        if n == 0 {
            testkit::panic_on_purpose("job 0 panics on purpose");
        }
        n
    })
    .expect("valid pool");
    pool.submit(0).expect("an empty window has room");
    watch.wait_for_exits(1);
    // Job 0 never delivers a result, so its slot is never freed: the window stays full.
    assert_eq!(
        pool.try_submit(1),
        Err(TrySubmitError::Closed(1)),
        "the only worker's job panicked (its slot will never be freed) and its thread has \
         ended: try_submit must report Closed(job) — not Full, which promises a retry can \
         succeed. Check for a live worker before looking at the window."
    );
    assert_eq!(
        pool.submit(2),
        Err(2),
        "with no worker left, submit must hand the job back at once, not wait for a slot \
         that will never be freed"
    );
    drop(results);
    pool.shutdown();
    assert_eq!(
        testkit::unexpected_panics(),
        0,
        "nothing but job 0 may panic"
    );
}
