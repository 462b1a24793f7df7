//! Hidden suite, exercise 2 (buffered): loom models. Small on purpose (at most 2 workers,
//! at most 4 jobs, buffers of 0–1 places): loom explores every interleaving, so a bug found
//! here is a bug in some real run.
//!
//! Backpressure is checked by counting: a job that has been submitted but whose work has not
//! finished is either in the queue or in a worker's hands, so right after `submit` returns,
//! `submitted - finished` can never exceed `buffers.jobs + workers`. A queue that is larger
//! than asked (or unbounded) breaks that in the interleaving where no worker has run yet.
//!
//! Sizes are measured: 2 workers *and* 4 `submit`s at preemption bound 2 run for minutes, so
//! the 2-worker models probe the last place with `try_submit`, and the model with a consumer
//! thread uses 1 worker.

use buffered::{BufferedPool, Buffers};
use workbook_sync::atomic::{AtomicUsize, Ordering};
use workbook_sync::channel::RecvError;
use workbook_sync::{Arc, thread};

/// Both buffers of one place: enough for every model below, small enough to stay fast.
const ONE_PLACE: Buffers = Buffers {
    jobs: 1,
    results: 1,
};

/// A pool of `workers` with a job queue of `capacity` places (and a results buffer that
/// never fills) gets `submits` jobs through `submit`, then, if `then_try`, one more through
/// `try_submit`. After each job is accepted, at most `capacity + workers` submitted jobs may
/// be unfinished.
fn queue_respects_capacity(workers: usize, capacity: usize, submits: u8, then_try: bool) {
    let finished = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&finished);
    let (pool, _results) = BufferedPool::new(
        workers,
        Buffers {
            jobs: capacity,
            results: submits as usize + 1,
        },
        move |n: u8| {
            f.fetch_add(1, Ordering::SeqCst);
            n
        },
    )
    .expect("valid pool");
    let check = |accepted: usize, how: &str| {
        let unfinished = accepted - finished.load(Ordering::SeqCst);
        assert!(
            unfinished <= capacity + workers,
            "{how} accepted a job while {} submitted jobs were already unfinished, but a \
             queue of capacity {capacity} plus {workers} busy worker(s) can hold only {}: the \
             queue is larger than asked (unbounded? off by one? a zero-capacity queue treated \
             as one place?)",
            unfinished - 1,
            capacity + workers
        );
    };
    for k in 1..=submits {
        pool.submit(k).expect("an open pool accepts jobs");
        check(k as usize, "submit");
    }
    let mut expected: Vec<u8> = (1..=submits).collect();
    if then_try {
        let extra = submits + 1;
        match pool.try_submit(extra) {
            Ok(()) => {
                check(extra as usize, "try_submit");
                expected.push(extra);
            }
            Err(e) => assert!(e.is_full(), "an open pool's try_submit returned Closed"),
        }
    }
    let mut got = pool.shutdown();
    got.sort_unstable();
    assert_eq!(
        got, expected,
        "shutdown returns the result of every accepted job, and only those"
    );
}

pub fn loom_submit_waits_while_queue_full() {
    testkit::model(|| queue_respects_capacity(1, 1, 3, false));
}

pub fn loom_try_submit_respects_capacity() {
    testkit::model(|| queue_respects_capacity(2, 1, 3, true));
}

pub fn loom_rendezvous_waits_for_a_worker() {
    testkit::model(|| queue_respects_capacity(1, 0, 3, false));
}

pub fn loom_rendezvous_try_submit_needs_a_waiting_worker() {
    testkit::model(|| queue_respects_capacity(2, 0, 2, true));
}

pub fn loom_rendezvous_try_submit_refused_while_the_worker_is_busy() {
    testkit::model(|| queue_respects_capacity(1, 0, 1, true));
}

pub fn loom_shutdown_with_full_results_buffer() {
    testkit::model(|| {
        let (pool, _results) = BufferedPool::new(
            2,
            Buffers {
                jobs: 1,
                results: 1,
            },
            |n: u8| n,
        )
        .expect("valid pool");
        for n in 0..3 {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        // Nobody reads: shutdown itself must empty the one-place results buffer as it waits.
        let mut got = pool.shutdown();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![0, 1, 2],
            "3 jobs, a results buffer of 1 nobody read: shutdown must return all 3 results. \
             Missing ones were lost — a job dropped at shutdown, or a result dropped because \
             the buffer was full"
        );
    });
}

pub fn loom_results_buffer_is_bounded() {
    testkit::model(|| {
        let started = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&started);
        let (pool, _results) = BufferedPool::new(
            1,
            Buffers {
                jobs: 2,
                results: 1,
            },
            move |n: u8| {
                s.fetch_add(1, Ordering::SeqCst);
                n
            },
        )
        .expect("valid pool");
        for n in 0..3 {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        // Nobody has read a result: one sits in the buffer, the worker holds the next one
        // and must wait. It cannot have started a third job.
        let now = started.load(Ordering::SeqCst);
        assert!(
            now <= 2,
            "1 worker, a results buffer of 1 place, nobody reading: the worker started {now} \
             jobs, but after the first result filled the buffer it must wait with its second \
             result in hand. The results buffer is larger than asked (unbounded?) — or results \
             are being dropped"
        );
        let mut got = pool.shutdown();
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2], "shutdown returns every result");
    });
}

pub fn loom_submit_while_consuming() {
    testkit::model(|| {
        let (pool, results) = BufferedPool::new(
            1,
            Buffers {
                jobs: 1,
                results: 1,
            },
            |n: u8| n,
        )
        .expect("valid pool");
        let consumer = thread::spawn(move || results.iter().collect::<Vec<u8>>());
        for n in 0..3 {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        let mut all = pool.shutdown();
        all.extend(consumer.join().expect("consumer thread"));
        all.sort_unstable();
        assert_eq!(
            all,
            vec![0, 1, 2],
            "a consumer read while jobs were submitted, then shutdown returned the rest: \
             together they must hold every result exactly once"
        );
    });
}

pub fn loom_no_leaked_worker() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (pool, _results) = BufferedPool::new(
            2,
            Buffers {
                jobs: 1,
                results: 1,
            },
            move |n: u8| {
                let _ = &held; // the job function owns a clone of the probe
                n
            },
        )
        .expect("valid pool");
        pool.submit(1).expect("an open pool accepts jobs");
        pool.submit(2).expect("an open pool accepts jobs");
        let _ = pool.shutdown();
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after shutdown a worker thread still holds the job function, so it is \
             still running: join every worker before shutdown returns"
        );
    });
}

pub fn loom_shutdown_joins_the_others_after_a_panic() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (pool, _results) = BufferedPool::new(2, ONE_PLACE, move |n: u8| {
            let _ = &held; // the job function owns a clone of the probe
            if n == 0 {
                testkit::panic_on_purpose("job 0 of this model panics on purpose");
            }
            n
        })
        .expect("valid pool");
        pool.submit(0).expect("an open pool accepts jobs");
        pool.submit(1)
            .expect("one worker is left: the pool accepts jobs");
        let got = pool.shutdown();
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: a job panicked, and shutdown returned while the other worker was still \
             alive (it still holds the job function). Joining the worker whose job panicked \
             returns Err; ignore it and join every other worker too — a loop that stops at the \
             first Err (`?`, `break`, collecting into a Result) leaves the rest running"
        );
        assert_eq!(got, vec![1], "job 1 ran on the worker that was left");
    });
}

pub fn loom_close_wakes_idle_workers() {
    testkit::model(|| {
        let (mut pool, results) = BufferedPool::new(2, ONE_PLACE, |n: u8| n).expect("valid");
        // No job ever comes: the workers are idle (or about to be). Close alone, with the pool
        // still alive, must wake them so they exit and the stream ends.
        pool.close();
        assert_eq!(
            results.recv(),
            Err(RecvError),
            "close was called on a pool with idle workers: the results stream must end"
        );
        assert_eq!(pool.shutdown(), Vec::<u8>::new());
    });
}

pub fn loom_submit_wakes_an_idle_worker() {
    testkit::model(|| {
        let (pool, results) = BufferedPool::new(2, ONE_PLACE, |n: u8| n).expect("valid");
        // The pool stays open: only submit's own wake-up can get the job to an idle worker.
        pool.submit(1).expect("an open pool accepts jobs");
        assert_eq!(results.recv(), Ok(1), "the job's result arrives");
        assert_eq!(pool.shutdown(), Vec::<u8>::new());
    });
}
