//! Hidden suite, exercise 2 (buffered): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.
//!
//! Ordering without sleeps: jobs park their worker on a `Gate`, `Arrivals` tells the test
//! that every worker is parked, so the queue is then exactly as full as the test made it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use buffered::{BufferedPool, Buffers, PoolError, TrySubmitError};
use testkit::gate::{Arrivals, ExitWatch, Gate, OpenOnDrop, ThreadExits};
use testkit::{check, panic_on_purpose};
use workbook_sync::channel::{Receiver, RecvError, TryRecvError};

/// Job ids below this park their worker on the gate; the others return at once.
const PARK_BELOW: u64 = 100;

/// A pool of `u64` jobs that returns each id; jobs with an id below [`PARK_BELOW`] wait on
/// the gate (after saying so on `parked`), and `finished` counts jobs whose work is done.
struct Parked {
    /// First field, so it is dropped (and the gate opened) before the pool.
    _release: OpenOnDrop,
    pool: BufferedPool<u64, u64>,
    results: Receiver<u64>,
    gate: Gate,
    parked: Arrivals,
    finished: Arc<AtomicUsize>,
}

impl Parked {
    fn new(workers: usize, buffers: Buffers) -> Parked {
        let gate = Gate::new();
        let parked = Arrivals::new();
        let finished = Arc::new(AtomicUsize::new(0));
        let (g, p, f) = (gate.clone(), parked.clone(), Arc::clone(&finished));
        let (pool, results) = BufferedPool::new(workers, buffers, move |id: u64| {
            if id < PARK_BELOW {
                p.arrive();
                g.wait();
            }
            f.fetch_add(1, Ordering::SeqCst);
            id
        })
        .expect("a pool with workers is valid");
        Parked {
            _release: gate.open_on_drop(),
            pool,
            results,
            gate,
            parked,
            finished,
        }
    }

    /// Gives every worker a parking job (ids `0..workers`) and waits until all of them are
    /// parked: from then on nobody takes anything from the queue until the gate opens.
    fn park_every_worker(&self, workers: usize) {
        for id in 0..workers as u64 {
            self.pool
                .submit(id)
                .expect("a new pool accepts jobs (submit returned Err)");
        }
        self.parked.wait_for(workers);
    }
}

/// After shutdown: the receiver must be empty and report disconnection (the stream ended).
fn assert_stream_ended<R>(results: &Receiver<R>, when: &str) {
    match results.try_recv() {
        Err(TryRecvError::Disconnected) => {}
        Ok(_) => panic!(
            "{when}, a result was still waiting in the results receiver: shutdown must take \
             out every result nobody read (and return it), so none is left behind"
        ),
        Err(TryRecvError::Empty) => panic!(
            "{when}, the results stream is still open: something other than the workers \
             still holds a results Sender, or a worker is still running. A consumer writing \
             `for r in results` would wait for ever. Keep results Senders only in the workers \
             and join every worker before shutdown returns."
        ),
    }
}

/// The results are exactly the accepted job ids (any order): none lost, none extra.
fn assert_same_jobs(mut got: Vec<u64>, mut expected: Vec<u64>, what: &str) {
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(
        got, expected,
        "{what}: the results (left) are not exactly the jobs the pool accepted (right). A \
         missing id is a job that was lost or whose result was dropped; an extra id is a job \
         the pool reported as rejected (Full/Closed) but ran anyway, or ran twice"
    );
}

pub fn queue_holds_exactly_its_capacity() {
    // The last case is far past any "big enough" capacity a pool might quietly cap at.
    for (workers, capacity) in [(1, 1), (2, 2), (2, 3), (2, 100_000)] {
        let p = Parked::new(
            workers,
            Buffers {
                jobs: capacity,
                results: 16,
            },
        );
        p.park_every_worker(workers);
        // Every worker is parked: the queue is empty and nobody takes from it.
        let mut accepted = Vec::new();
        let mut refused = None;
        for id in PARK_BELOW..PARK_BELOW + capacity as u64 + 3 {
            match p.pool.try_submit(id) {
                Ok(()) => accepted.push(id),
                Err(e) => {
                    refused = Some((id, e));
                    break;
                }
            }
        }
        assert_eq!(
            accepted.len(),
            capacity,
            "{workers} worker(s), all busy, and a job queue of capacity {capacity}: try_submit \
             accepted {} job(s) before refusing one (expected exactly {capacity}). More means \
             the queue is larger than asked (unbounded, or off by one) or try_submit says Ok for \
             a job it did not queue; fewer means it is smaller than asked (the jobs the workers \
             hold do not take queue places)",
            accepted.len()
        );
        let (id, e) = refused.expect("checked above: a job was refused");
        assert_eq!(
            e,
            TrySubmitError::Full(id),
            "the queue was full, so try_submit must hand the job back as Full(job)"
        );
        p.gate.open();
        let got = p.pool.shutdown();
        let mut expected: Vec<u64> = (0..workers as u64).collect();
        expected.extend(&accepted);
        assert_same_jobs(got, expected, "after the gate opened and shutdown");
    }
}

pub fn full_queue_hands_the_job_back() {
    let gate = Gate::new();
    let parked = Arrivals::new();
    let (g, p) = (gate.clone(), parked.clone());
    let (pool, _results) = BufferedPool::new(
        1,
        Buffers {
            jobs: 2,
            results: 8,
        },
        move |job: String| {
            if job == "park" {
                p.arrive();
                g.wait();
            }
            job
        },
    )
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit("park".to_string())
        .expect("a new pool accepts jobs");
    parked.wait_for(1);
    for job in ["a", "b"] {
        assert_eq!(
            pool.try_submit(job.to_string()),
            Ok(()),
            "the only worker is busy and the queue (capacity 2) had room for job {job:?}, yet try_submit refused it: the queue is smaller than asked"
        );
    }
    assert_eq!(
        pool.try_submit("rejected".to_string()),
        Err(TrySubmitError::Full("rejected".to_string())),
        "the queue held 2 of 2 jobs and the worker was busy: try_submit must refuse the job \
         and hand that very job back, Err(TrySubmitError::Full(job)) — never Ok for a job it \
         drops, never a queue that grows past its capacity"
    );
    gate.open();
    let mut got = pool.shutdown();
    got.sort();
    assert_eq!(
        got,
        vec!["a".to_string(), "b".to_string(), "park".to_string()],
        "shutdown must return exactly the accepted jobs' results; the refused job must not run"
    );
}

pub fn rendezvous_is_a_hand_off() {
    let p = Parked::new(
        2,
        Buffers {
            jobs: 0,
            results: 16,
        },
    );
    // With a zero-capacity queue, each submit returns once a worker has taken the job.
    p.park_every_worker(2);
    assert_eq!(
        p.pool.try_submit(PARK_BELOW),
        Err(TrySubmitError::Full(PARK_BELOW)),
        "Buffers {{ jobs: 0, .. }} is a hand-off: with both workers busy no worker is waiting, \
         so try_submit must return Full(job). It returned something else — is a zero-capacity \
         queue treated as a queue of one place?"
    );
    p.gate.open();
    for id in PARK_BELOW + 1..PARK_BELOW + 4 {
        p.pool
            .submit(id)
            .expect("submit on an open pool hands the job to a worker");
    }
    let got = p.pool.shutdown();
    assert_same_jobs(
        got,
        vec![0, 1, PARK_BELOW + 1, PARK_BELOW + 2, PARK_BELOW + 3],
        "zero-capacity queue",
    );
}

pub fn rendezvous_try_submit_reaches_a_waiting_worker() {
    let (pool, _results) = BufferedPool::new(
        1,
        Buffers {
            jobs: 0,
            results: 8,
        },
        |n: u32| n,
    )
    .expect("valid pool");
    // The idle worker waits for a job; try_submit must get through to it eventually. This
    // spins (with yield_now) while the worker is not waiting yet — it never sleeps.
    for n in 0..3 {
        let mut job = n;
        loop {
            match pool.try_submit(job) {
                Ok(()) => break,
                Err(TrySubmitError::Full(back)) => {
                    job = back;
                    thread::yield_now();
                }
                Err(TrySubmitError::Closed(_)) => {
                    panic!("try_submit on an open pool with a live worker returned Closed")
                }
            }
        }
    }
    let mut got = pool.shutdown();
    got.sort_unstable();
    assert_eq!(got, vec![0, 1, 2], "each handed-off job runs once");
}

pub fn blocked_submit_gets_through_once_a_worker_frees_a_place() {
    let p = Parked::new(
        2,
        Buffers {
            jobs: 2,
            results: 16,
        },
    );
    p.park_every_worker(2);
    for id in [PARK_BELOW, PARK_BELOW + 1] {
        assert_eq!(
            p.pool.try_submit(id),
            Ok(()),
            "both workers are busy and the queue (capacity 2) had room for job {id}, yet try_submit refused it: the queue is smaller than asked (the jobs the workers hold do not take queue places)"
        );
    }
    // The queue is full and both workers are parked. A producer submits three more jobs; the
    // first can only get in once a worker has finished a job and taken one from the queue.
    let finished_when_first_submit_returned = thread::scope(|s| {
        let producer = s.spawn(|| {
            p.pool
                .submit(PARK_BELOW + 2)
                .expect("an open pool accepts jobs");
            let finished = p.finished.load(Ordering::SeqCst);
            for id in [PARK_BELOW + 3, PARK_BELOW + 4] {
                p.pool.submit(id).expect("an open pool accepts jobs");
            }
            finished
        });
        p.gate.open();
        producer.join().expect("producer thread")
    });
    assert!(
        finished_when_first_submit_returned >= 1,
        "submit returned while the queue was full and no job had finished yet: submit must \
         wait for room (backpressure), not queue past the capacity"
    );
    let got = p.pool.shutdown();
    let ids: Vec<u64> = (0..2).chain(PARK_BELOW..PARK_BELOW + 5).collect();
    assert_same_jobs(got, ids, "after the blocked producer got through");
}

pub fn submit_never_waits_for_a_reader_within_the_buffers() {
    // Nobody reads results here. Up to jobs + workers + results submitted jobs fit; a pool
    // that hangs in submit before that has a buffer smaller than asked.
    // The last case is far past any "big enough" buffer a pool might quietly cap at.
    for (workers, jobs, results) in [(1, 1, 3), (2, 0, 2), (1, 2, 0), (1, 80_000, 80_000)] {
        let (pool, _results) =
            BufferedPool::new(workers, Buffers { jobs, results }, |n: u64| n).expect("valid");
        let fits = (jobs + workers + results) as u64;
        for n in 0..fits {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        let got = pool.shutdown();
        let mut ids: Vec<u64> = got;
        ids.sort_unstable();
        assert_eq!(
            ids,
            (0..fits).collect::<Vec<_>>(),
            "{workers} worker(s), Buffers {{ jobs: {jobs}, results: {results} }}: {fits} jobs \
             submitted, nobody reading; shutdown must return every result"
        );
    }
}

pub fn shutdown_empties_a_full_results_buffer() {
    for (workers, jobs, results, count) in [(2, 4, 1, 6), (2, 2, 0, 4), (1, 3, 1, 5)] {
        let (pool, receiver) =
            BufferedPool::new(workers, Buffers { jobs, results }, |n: u64| n).expect("valid");
        for n in 0..count {
            pool.submit(n).expect("an open pool accepts jobs");
        }
        // Nobody has read a single result: the buffer is full and workers wait on it.
        let got = pool.shutdown();
        check::each_exactly_once("result", &got, count);
        assert_stream_ended(
            &receiver,
            &format!("after shutdown (Buffers {{ jobs: {jobs}, results: {results} }})"),
        );
    }
}

pub fn shutdown_returns_only_what_nobody_took() {
    let (pool, results) = BufferedPool::new(
        1,
        Buffers {
            jobs: 4,
            results: 4,
        },
        |n: u64| n,
    )
    .expect("valid pool");
    for n in 0..4 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    let mut taken: Vec<u64> = (0..2)
        .map(|_| results.recv().expect("results of submitted jobs arrive"))
        .collect();
    let rest = pool.shutdown();
    assert_eq!(
        rest.len(),
        2,
        "4 results, 2 already read through the receiver: shutdown must return the other 2 \
         (got {rest:?}) — each result is delivered exactly once"
    );
    taken.extend(rest);
    check::each_exactly_once("result", &taken, 4);
    assert_stream_ended(&results, "after shutdown");
}

pub fn producer_and_consumer_at_once() {
    const JOBS: u64 = 300;
    let (pool, results) = BufferedPool::new(
        2,
        Buffers {
            jobs: 1,
            results: 1,
        },
        |n: u64| n,
    )
    .expect("valid pool");
    let consumer = thread::spawn(move || results.iter().collect::<Vec<u64>>());
    for n in 0..JOBS {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    let mut all = pool.shutdown();
    let read = consumer.join().expect("consumer thread");
    all.extend(read);
    check::each_exactly_once("result", &all, JOBS);
}

pub fn close_ends_the_stream_while_the_pool_lives() {
    let (mut pool, results) = BufferedPool::new(
        2,
        Buffers {
            jobs: 2,
            results: 1,
        },
        |n: u32| n,
    )
    .expect("valid pool");
    let consumer = thread::spawn(move || results.iter().count());
    for n in 0..40 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    pool.close();
    assert_eq!(
        pool.submit(99),
        Err(99),
        "submit after close must hand the job back"
    );
    assert_eq!(
        pool.try_submit(98),
        Err(TrySubmitError::Closed(98)),
        "try_submit after close must hand the job back as Closed(job)"
    );
    // The pool is closed but alive: the consumer's loop must end after the 40th result.
    let count = consumer.join().expect("consumer thread");
    assert_eq!(
        count, 40,
        "the consumer's loop ended after {count} of 40 results"
    );
    assert_eq!(
        pool.shutdown(),
        Vec::<u32>::new(),
        "the consumer read every result; shutdown has nothing left to return"
    );
}

pub fn close_keeps_queued_jobs() {
    let mut p = Parked::new(
        1,
        Buffers {
            jobs: 3,
            results: 8,
        },
    );
    p.park_every_worker(1);
    for id in PARK_BELOW..PARK_BELOW + 3 {
        assert_eq!(
            p.pool.try_submit(id),
            Ok(()),
            "the worker is busy and the queue (capacity 3) had room for job {id}, yet try_submit refused it: the queue is smaller than asked (the jobs the workers hold do not take queue places)"
        );
    }
    // Three jobs are queued behind the parked one. Close first, then let the worker go.
    p.pool.close();
    p.gate.open();
    let got = p.pool.shutdown();
    assert_eq!(
        got.len(),
        4,
        "close was called with 3 jobs queued behind a running one, and shutdown returned only \
         {got:?}: a closed pool still runs every job it accepted. Close the queue (drop the \
         Sender) and let the workers drain it; do not stop them with a flag they check before \
         each job, and do not throw the queue away"
    );
    assert_same_jobs(
        got,
        vec![0, PARK_BELOW, PARK_BELOW + 1, PARK_BELOW + 2],
        "close",
    );
}

pub fn drop_finishes_jobs_and_joins_workers() {
    let exits = ThreadExits::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let (e, f) = (exits.clone(), Arc::clone(&finished));
    let (pool, results) = BufferedPool::new(
        2,
        Buffers {
            jobs: 4,
            results: 1,
        },
        move |n: u32| {
            e.enlist();
            f.fetch_add(1, Ordering::SeqCst);
            n
        },
    )
    .expect("valid pool");
    for n in 0..7 {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    // Nobody reads: the results buffer (one place) is full. Drop must not wait for a reader.
    drop(pool);
    assert_eq!(
        finished.load(Ordering::SeqCst),
        7,
        "dropping the pool must finish every queued job, like shutdown does"
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "the pool was dropped but a worker thread was still running: Drop must join every \
         worker"
    );
    // Drop may have discarded results; the stream must have ended either way.
    loop {
        match results.try_recv() {
            Ok(_) => continue,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => panic!(
                "after drop the results stream is still open: only the workers may hold results \
                 Senders, and drop must join them"
            ),
        }
    }
}

pub fn zero_workers_rejected() {
    let probe = Arc::new(());
    let held = Arc::clone(&probe);
    let outcome = BufferedPool::<u8, u8>::new(
        0,
        Buffers {
            jobs: 4,
            results: 4,
        },
        move |n| {
            let _ = &held; // the job function owns a clone of the probe
            n
        },
    );
    let error = outcome.err();
    assert_eq!(
        error,
        Some(PoolError::NoWorkers),
        "BufferedPool::new(0, ..) must return Err(PoolError::NoWorkers): a pool without \
         workers would accept jobs and never run them"
    );
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "BufferedPool::new(0, ..) returned an error, but something it started still holds \
         the job function: with no workers, no thread may be started"
    );
    let error = error.expect("checked above");
    assert!(
        !error.to_string().is_empty(),
        "PoolError's Display message is empty: say why the pool could not be built"
    );
    let _: &dyn std::error::Error = &error;
}

pub fn reports_its_configuration() {
    let cases = [
        (
            2,
            Buffers {
                jobs: 3,
                results: 5,
            },
        ),
        (
            1,
            Buffers {
                jobs: 0,
                results: 0,
            },
        ),
        (
            5,
            Buffers {
                jobs: 1,
                results: 4,
            },
        ),
    ];
    for (workers, buffers) in cases {
        let exits = ExitWatch::new();
        let e = exits.clone();
        let (mut pool, results) = BufferedPool::new(workers, buffers, move |n: u8| {
            e.enlist();
            if n == 0 {
                panic_on_purpose("job 0 of this test panics on purpose");
            }
            n
        })
        .expect("valid pool");
        let check = |pool: &BufferedPool<u8, u8>, stage: &str| {
            assert_eq!(
                pool.workers(),
                workers,
                "workers() {stage}: it reports the number given to new"
            );
            assert_eq!(
                pool.buffers(),
                buffers,
                "buffers() {stage}: it reports the sizes given to new"
            );
        };
        check(&pool, "of a new pool");
        if workers > 1 {
            pool.submit(0).expect("an open pool accepts jobs");
            exits.wait_for_exits(1);
            check(&pool, "after a worker stopped (its job panicked)");
        }
        let reader = thread::spawn(move || results.recv());
        pool.submit(1).expect("an open pool accepts jobs");
        assert_eq!(reader.join().expect("reader thread"), Ok(1));
        check(&pool, "while the pool runs");
        pool.close();
        check(&pool, "after close");
        assert_eq!(pool.shutdown(), Vec::<u8>::new());
    }
}

pub fn shutdown_survives_a_panicking_job() {
    let exits = ExitWatch::new();
    let e = exits.clone();
    let (pool, results) = BufferedPool::new(
        3,
        Buffers {
            jobs: 64,
            results: 64,
        },
        move |n: u64| {
            e.enlist();
            if n == 0 {
                panic_on_purpose("job 0 of this test panics on purpose");
            }
            n
        },
    )
    .expect("valid pool");
    pool.submit(0).expect("an open pool accepts jobs");
    exits.wait_for_exits(1); // the worker that ran job 0 has ended
    for n in 1..=30 {
        pool.submit(n).expect(
            "one worker's job panicked, two workers are left: submit must still accept jobs",
        );
    }
    // Must not panic: joining the worker whose job panicked returns Err, which shutdown
    // ignores, and it still joins the other two.
    let mut got = pool.shutdown();
    got.sort_unstable();
    assert_eq!(
        got,
        (1..=30).collect::<Vec<u64>>(),
        "after one worker's job panicked, the two other workers must run every other job, \
         and shutdown return their results"
    );
    assert_stream_ended(&results, "after shutdown");
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "shutdown returned while a worker thread was still running: after a job panicked, \
         shutdown must still join every other worker"
    );
}

pub fn no_worker_left_hands_jobs_back() {
    for capacity in [2, 0] {
        let exits = ExitWatch::new();
        let e = exits.clone();
        let (pool, _results) = BufferedPool::new(
            2,
            Buffers {
                jobs: capacity,
                results: 4,
            },
            move |job: String| -> String {
                e.enlist();
                if job.starts_with("panic") {
                    panic_on_purpose("a job of this test panics on purpose");
                }
                job
            },
        )
        .expect("valid pool");
        // Each panicking job ends the worker that runs it, so each worker gets one.
        for job in ["panic 1", "panic 2"] {
            pool.submit(job.to_string())
                .expect("a new pool accepts jobs");
        }
        exits.wait_for_exits(2);
        let refused = pool.try_submit("late".to_string());
        assert_eq!(
            refused,
            Err(TrySubmitError::Closed("late".to_string())),
            "Buffers {{ jobs: {capacity}, .. }}, and every worker thread has ended (their jobs \
             panicked): no worker is left, so try_submit must hand the job back as \
             Closed(job). Ok means the job was queued where nobody will ever take it (does \
             the pool keep a job Receiver of its own?); Full means the caller is told to try \
             again later, which can never help"
        );
        let refused = refused.expect_err("checked above");
        assert!(!refused.is_full(), "is_full() of Closed(job) must be false");
        assert_eq!(
            refused.into_inner(),
            "late",
            "into_inner() gives the job back"
        );
        assert_eq!(
            pool.submit("later".to_string()),
            Err("later".to_string()),
            "Buffers {{ jobs: {capacity}, .. }}, no worker left: submit must hand the job back \
             as Err(job), not queue it (or wait) for a worker that will never come"
        );
        assert_eq!(pool.shutdown(), Vec::<String>::new());
    }
    let (full, closed) = (TrySubmitError::Full(1), TrySubmitError::Closed(1));
    assert!(full.is_full(), "is_full() of Full(job) must be true");
    assert!(
        !full.to_string().is_empty() && !closed.to_string().is_empty(),
        "TrySubmitError's Display messages must say what happened"
    );
    assert_ne!(
        full.to_string(),
        closed.to_string(),
        "Full and Closed must not display the same message: one says try again later, the \
         other never"
    );
}

pub fn free_worker_takes_the_oldest_job() {
    const JOBS: usize = 8;
    // Every job logs its id when it starts, then waits on a gate of its own: the test lets
    // one job finish at a time, so exactly one worker is free at each step and the job it
    // takes next is the only thing the pool decides.
    let gates: Vec<Gate> = (0..JOBS).map(|_| Gate::new()).collect();
    let log = Arc::new(Mutex::new(Vec::new()));
    let started = Arrivals::new();
    let (g, l, s) = (gates.clone(), Arc::clone(&log), started.clone());
    let (pool, _results) = BufferedPool::new(
        2,
        Buffers {
            jobs: 6,
            results: JOBS,
        },
        move |id: usize| {
            l.lock().unwrap().push(id);
            s.arrive();
            g[id].wait();
            id
        },
    )
    .expect("valid pool");
    let _release: Vec<OpenOnDrop> = gates.iter().map(Gate::open_on_drop).collect();
    pool.submit(0).expect("a new pool accepts jobs");
    pool.submit(1).expect("a new pool accepts jobs");
    started.wait_for(2); // both workers are busy
    for id in 2..JOBS {
        assert_eq!(
            pool.try_submit(id),
            Ok(()),
            "both workers are busy and the queue (capacity 6) had room for job {id}"
        );
    }
    // Jobs 2..=7 are queued in that order. Free one worker at a time — the same worker
    // three times in a row, then the other — and see which job it takes.
    let steps = [(0, 2), (2, 3), (3, 4), (1, 5), (4, 6), (5, 7)];
    for (k, (finish, oldest)) in steps.into_iter().enumerate() {
        gates[finish].open();
        started.wait_for(3 + k);
        let order = log.lock().unwrap()[2..].to_vec();
        let took = *order.last().expect("a job started");
        assert_eq!(
            took, oldest,
            "jobs 2..=7 were queued in that order; after job {finish} finished, the free worker \
             started job {took}, but the oldest queued job was {oldest}. Jobs started so far, \
             after the first two: {order:?}. Jobs queue in order and a free worker takes the \
             oldest: one queue shared by every worker, first in first out (not a stack, not \
             a queue per worker, no worker holding a job back for later)"
        );
    }
    for gate in &gates {
        gate.open();
    }
    let got = pool.shutdown();
    assert_same_jobs(
        got.into_iter().map(|id| id as u64).collect(),
        (0..JOBS as u64).collect(),
        "after every gate opened",
    );
}

pub fn close_wakes_idle_workers() {
    const N: usize = 3;
    let exits = ExitWatch::new();
    let running = Arrivals::new();
    let (e, r) = (exits.clone(), running.clone());
    let (mut pool, results) = BufferedPool::new(
        N,
        Buffers {
            jobs: 1,
            results: 4,
        },
        move |n: usize| {
            e.enlist();
            // Each job waits until all N run: every worker takes exactly one.
            r.arrive();
            r.wait_for(N);
            n
        },
    )
    .expect("valid pool");
    for n in 0..N {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    for _ in 0..N {
        results.recv().expect("the result of a submitted job");
    }
    // The queue is empty: every worker is idle, waiting for a job. Close alone, the pool
    // alive, must wake each of them to see that no job will ever come.
    pool.close();
    exits.wait_for_exits(N);
    assert_eq!(
        results.recv(),
        Err(RecvError),
        "close was called with every worker idle and every result read: the stream must end"
    );
    assert_eq!(pool.shutdown(), Vec::<usize>::new());
}

pub fn close_does_not_wait() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (mut pool, results) = BufferedPool::new(
        1,
        Buffers {
            jobs: 1,
            results: 4,
        },
        move |n: u32| {
            if n == 0 {
                s.arrive();
                g.wait();
            }
            n
        },
    )
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(0).expect("an open pool accepts jobs");
    started.wait_for(1);
    pool.submit(1).expect("an open pool accepts jobs");
    // Job 0 is running (parked) and job 1 is queued: close must return at once anyway.
    pool.close();
    gate.open();
    let mut got: Vec<u32> = results.iter().collect(); // ends while the pool lives
    got.sort_unstable();
    assert_eq!(
        got,
        vec![0, 1],
        "close was called with one job running and one queued: both must still run"
    );
    assert_eq!(pool.shutdown(), Vec::<u32>::new());
}

pub fn results_arrive_as_jobs_complete() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (pool, results) = BufferedPool::new(
        2,
        Buffers {
            jobs: 1,
            results: 2,
        },
        move |n: u32| {
            if n == 0 {
                s.arrive();
                g.wait();
            }
            n
        },
    )
    .expect("valid pool");
    let _release = gate.open_on_drop();
    pool.submit(0).expect("an open pool accepts jobs");
    started.wait_for(1);
    pool.submit(1).expect("an open pool accepts jobs");
    // Job 0 is still running: job 1's result must come first (completion order).
    assert_eq!(results.recv(), Ok(1), "job 1 finished first");
    gate.open();
    assert_eq!(pool.shutdown(), vec![0]);
}

pub fn shutdown_returns_results_in_completion_order() {
    // One worker runs the jobs in queue order, so they complete in the order submitted.
    let (pool, _results) = BufferedPool::new(
        1,
        Buffers {
            jobs: 8,
            results: 8,
        },
        |n: u64| n,
    )
    .expect("valid pool");
    let jobs = [5, 4, 3, 2, 1, 0];
    for n in jobs {
        pool.submit(n).expect("an open pool accepts jobs");
    }
    assert_eq!(
        pool.shutdown(),
        jobs.to_vec(),
        "one worker ran jobs 5, 4, 3, 2, 1, 0 in that order and nobody read a result: \
         shutdown must return them in the order they completed (not sorted, not reversed)"
    );
}
