//! Hidden suite, exercise 2 (buffered): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in curriculum.toml.
//!
//! Ordering without sleeps: jobs park their worker on a `Gate`, `Arrivals` tells the test
//! that every worker is parked, so the queue is then exactly as full as the test made it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use buffered::{BufferedPool, Buffers, PoolError, TrySubmitError};
use testkit::check;
use testkit::gate::{Arrivals, Gate, OpenOnDrop, ThreadExits};
use workbook_sync::channel::{Receiver, TryRecvError};

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
    for (workers, capacity) in [(1, 1), (2, 2), (2, 3)] {
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
    for (workers, jobs, results) in [(1, 1, 3), (2, 0, 2), (1, 2, 0)] {
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
    let outcome = BufferedPool::<u8, u8>::new(
        0,
        Buffers {
            jobs: 4,
            results: 4,
        },
        |n| n,
    );
    assert_eq!(
        outcome.err(),
        Some(PoolError::NoWorkers),
        "BufferedPool::new(0, ..) must return Err(PoolError::NoWorkers): a pool without \
         workers would accept jobs and never run them"
    );
}

pub fn reports_its_configuration() {
    let buffers = Buffers {
        jobs: 3,
        results: 5,
    };
    let (pool, _results) = BufferedPool::new(2, buffers, |n: u8| n).expect("valid pool");
    assert_eq!(pool.workers(), 2, "workers() reports the number of workers");
    assert_eq!(
        pool.buffers(),
        buffers,
        "buffers() reports the sizes given to new"
    );
}
