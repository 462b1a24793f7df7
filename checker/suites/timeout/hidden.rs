//! Hidden suite, exercise 7 (timeout): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in exercise.toml.
//!
//! No test waits in real time. The thread pool reads a `ManualClock` that only the test (or a
//! job, on the test's behalf) moves, and workers are held busy with gates; the async pool runs
//! on a tokio runtime whose clock is paused, so every instant a test checks is exact.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use testkit::check;
use testkit::gate::{Arrivals, Gate, ThreadExits};
use timeout::{
    AsyncConfig, AsyncPool, CancelToken, Config, JobId, ManualClock, Outcome, PoolError,
    TimeoutPool,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;
use workbook_sync::channel::{Receiver, TryRecvError};

// ---------------------------------------------------------------------------------------
// The thread pool
// ---------------------------------------------------------------------------------------

/// What a job does; every job also reports its start and marks its thread.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Job {
    /// Returns at once.
    Quick(u64),
    /// Moves the clock forward by `ticks` (the time the job "takes"), then returns.
    Takes(u64, u64),
    /// Sets the clock to `at`, then returns.
    SetsClock(u64, u64),
    /// Waits for the rig's gate, ignoring its token.
    Gated(u64),
    /// Waits until its token is cancelled (a cooperative job), then returns.
    Cooperative(u64),
    /// Panics (on purpose: the harness knows).
    Panics(u64),
}

impl Job {
    fn n(&self) -> u64 {
        match *self {
            Job::Quick(n)
            | Job::Takes(n, _)
            | Job::SetsClock(n, _)
            | Job::Gated(n)
            | Job::Cooperative(n)
            | Job::Panics(n) => n,
        }
    }
}

/// Everything a thread-pool test observes.
#[derive(Clone)]
struct Rig {
    clock: ManualClock,
    gate: Gate,
    started: Arrivals,
    returned: Arrivals,
    exits: ThreadExits,
    /// Job numbers in the order their jobs started.
    starts: Arc<Mutex<Vec<u64>>>,
    /// (job number, was its token cancelled when it returned?)
    tokens: Arc<Mutex<Vec<(u64, bool)>>>,
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    /// Held by the job function: back to a count of 1 once the pool has dropped it.
    probe: Arc<()>,
}

impl Rig {
    fn new() -> Self {
        Rig {
            clock: ManualClock::new(0),
            gate: Gate::new(),
            started: Arrivals::new(),
            returned: Arrivals::new(),
            exits: ThreadExits::new(),
            starts: Arc::default(),
            tokens: Arc::default(),
            running: Arc::default(),
            most_at_once: Arc::default(),
            probe: Arc::new(()),
        }
    }

    fn pool(
        &self,
        workers: usize,
        deadline: Option<u64>,
    ) -> (TimeoutPool<Job, u64>, Receiver<Outcome<u64>>) {
        let rig = self.clone();
        let config = Config { workers, deadline };
        TimeoutPool::new(
            config,
            self.clock.clone(),
            move |job: Job, token: &CancelToken| rig.run(job, token),
        )
        .unwrap_or_else(|e| panic!("{config:?} is a valid configuration, but new said: {e}"))
    }

    fn run(&self, job: Job, token: &CancelToken) -> u64 {
        let _ = &self.probe;
        self.exits.enlist();
        self.starts.lock().unwrap().push(job.n());
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        self.started.arrive();
        match job {
            Job::Quick(_) => {}
            Job::Takes(_, ticks) => self.clock.advance(ticks),
            Job::SetsClock(_, at) => self.clock.set(at),
            Job::Gated(_) => self.gate.wait(),
            Job::Cooperative(_) => token.wait(),
            Job::Panics(_) => {
                self.running.fetch_sub(1, Ordering::SeqCst);
                testkit::panic_on_purpose("a job that panics, on purpose")
            }
        }
        self.tokens
            .lock()
            .unwrap()
            .push((job.n(), token.is_cancelled()));
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.returned.arrive();
        job.n()
    }

    fn starts(&self) -> Vec<u64> {
        self.starts.lock().unwrap().clone()
    }

    fn token_of(&self, n: u64) -> Option<bool> {
        let tokens = self.tokens.lock().unwrap();
        tokens.iter().find(|(m, _)| *m == n).map(|(_, c)| *c)
    }

    /// After finish: the job function is dropped and every thread that ran a job has ended.
    fn expect_nothing_left(&self, situation: &str) {
        assert_eq!(
            Arc::strong_count(&self.probe),
            1,
            "after {situation}, something still holds the job function: a worker thread is \
             still alive (not joined), or the pool kept a copy. finish must join every worker."
        );
        assert_eq!(
            self.exits.exited(),
            self.exits.enlisted(),
            "after {situation}, {} of the {} threads that ran jobs are still alive: finish \
             must join every worker thread before it returns.",
            self.exits.enlisted() - self.exits.exited(),
            self.exits.enlisted()
        );
    }
}

fn submit(pool: &TimeoutPool<Job, u64>, job: Job, budget: u64) -> JobId {
    pool.submit(job.clone(), budget).unwrap_or_else(|_| {
        panic!("submit({job:?}, {budget}) was refused, but the overall deadline has not passed")
    })
}

fn next(outcomes: &Receiver<Outcome<u64>>, waiting_for: &str) -> Outcome<u64> {
    outcomes.recv().unwrap_or_else(|_| {
        panic!(
            "the outcome stream ended while the test was waiting for {waiting_for}: every \
             outcome Sender was dropped although the pool is still running"
        )
    })
}

fn nothing_yet(outcomes: &Receiver<Outcome<u64>>, situation: &str) {
    match outcomes.try_recv() {
        Err(TryRecvError::Empty) => {}
        Ok(o) => panic!("{situation}, the pool delivered {o:?}; expected no outcome yet"),
        Err(TryRecvError::Disconnected) => {
            panic!("{situation}, the outcome stream has ended although the pool is running")
        }
    }
}

/// Every outcome the pool delivered for `id`.
fn outcomes_of(all: &[Outcome<u64>], id: JobId) -> Vec<Outcome<u64>> {
    all.iter().filter(|o| o.id() == id).cloned().collect()
}

fn expect_once(all: &[Outcome<u64>], id: JobId, expected: Outcome<u64>, why: &str) {
    let got = outcomes_of(all, id);
    assert_eq!(
        got,
        vec![expected.clone()],
        "job {id:?}: expected exactly one outcome, {expected:?} ({why}); the pool delivered \
         {got:?}. A job's outcome is decided once — by the worker when the job returns, or by \
         expire when the deadline passes first — and a late result is dropped."
    );
}

pub fn outcomes_follow_the_clock() {
    // One worker, budget 5 from each job's start: a job that "takes" 4 ticks is on time, one
    // that takes 5 returns at its deadline and is late, and so is one that takes 9.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(1, None);
    let ids: Vec<JobId> = [0, 4, 5, 9]
        .iter()
        .enumerate()
        .map(|(n, &ticks)| submit(&pool, Job::Takes(n as u64, ticks), 5))
        .collect();
    assert_eq!(
        ids,
        vec![JobId(0), JobId(1), JobId(2), JobId(3)],
        "ids on one thread count up from 0"
    );
    assert_eq!(
        pool.finish(),
        vec![],
        "no deadline: finish runs every queued job"
    );
    let got = check::drain_closed(&outcomes);
    assert_eq!(
        got,
        vec![
            Outcome::Done(JobId(0), 0),
            Outcome::Done(JobId(1), 1),
            Outcome::TimedOut(JobId(2)),
            Outcome::TimedOut(JobId(3)),
        ],
        "budget 5 ticks; the jobs took 0, 4, 5 and 9 ticks (each started when the one before \
         returned). On time means returned while the clock reads *before* start + budget; \
         returning at the deadline or later is TimedOut, and the result is dropped."
    );
}

pub fn budget_boundaries() {
    // Budgets 0, 1 and u64::MAX, and a start time that is not 0.
    let rig = Rig::new();
    rig.clock.set(1_000);
    let (pool, outcomes) = rig.pool(1, None);
    let cases = [
        (Job::Takes(0, 0), 0, false, "budget 0 can never be on time"),
        (Job::Takes(1, 0), 1, true, "budget 1, returned at once"),
        (Job::Takes(2, 1), 1, false, "budget 1, took 1 tick"),
        (
            Job::Takes(3, 2),
            3,
            true,
            "budget 3 from a start at 1001, took 2",
        ),
        (Job::Takes(4, 3), 3, false, "budget 3, took 3"),
        (
            Job::Takes(5, 10),
            u64::MAX,
            true,
            "budget u64::MAX (start + budget saturates)",
        ),
    ];
    for (job, budget, _, _) in &cases {
        submit(&pool, job.clone(), *budget);
    }
    assert_eq!(pool.finish(), vec![]);
    let got = check::drain_closed(&outcomes);
    for (job, _, on_time, why) in &cases {
        let id = JobId(job.n());
        let expected = if *on_time {
            Outcome::Done(id, job.n())
        } else {
            Outcome::TimedOut(id)
        };
        expect_once(&got, id, expected, why);
    }
    assert_eq!(
        rig.starts(),
        vec![0, 1, 2, 3, 4, 5],
        "every job runs, even one with budget 0, oldest first"
    );
}

pub fn expire_times_out_running_jobs() {
    // Two jobs that ignore their tokens hold both workers; expire must report each at its
    // own deadline while it is still running, and cancel its token.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(2, None);
    let a = submit(&pool, Job::Gated(0), 5);
    let b = submit(&pool, Job::Gated(1), 8);
    rig.started.wait_for(2);
    assert_eq!(pool.expire(), 0, "expire at 0: no deadline has passed");
    rig.clock.set(4);
    assert_eq!(pool.expire(), 0, "expire at 4: the deadlines are 5 and 8");
    nothing_yet(&outcomes, "at 4, before either deadline");
    rig.clock.set(5);
    assert_eq!(
        pool.expire(),
        1,
        "expire at 5 must time out the job whose deadline is 5"
    );
    assert_eq!(
        next(&outcomes, "TimedOut for the first job"),
        Outcome::TimedOut(a),
        "at its deadline the caller gets TimedOut although the job is still running"
    );
    assert_eq!(
        pool.expire(),
        0,
        "a job timed out once is never timed out again"
    );
    nothing_yet(&outcomes, "after the first TimedOut");
    rig.clock.set(20);
    assert_eq!(
        pool.expire(),
        1,
        "expire at 20: only the second job is left to time out"
    );
    assert_eq!(
        next(&outcomes, "TimedOut for the second job"),
        Outcome::TimedOut(b)
    );
    rig.gate.open();
    assert_eq!(pool.finish(), vec![]);
    let rest = check::drain_closed(&outcomes);
    assert_eq!(
        rest,
        vec![],
        "LATE RESULT: both jobs were TimedOut, then returned; their results must be dropped, \
         never delivered after TimedOut"
    );
    assert_eq!(
        (rig.token_of(0), rig.token_of(1)),
        (Some(true), Some(true)),
        "expire must cancel the token of each job it times out (job 0's, job 1's)"
    );
}

pub fn a_late_result_is_never_delivered() {
    // The job times out while running, then returns a result on a worker that goes on to
    // run more jobs: the pool must keep dropping what comes too late.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(1, None);
    let a = submit(&pool, Job::Gated(0), 3);
    rig.started.wait_for(1);
    rig.clock.set(3);
    assert_eq!(pool.expire(), 1);
    assert_eq!(next(&outcomes, "TimedOut"), Outcome::TimedOut(a));
    rig.gate.open();
    let b = submit(&pool, Job::Quick(1), 3);
    assert_eq!(
        next(&outcomes, "the next job's outcome"),
        Outcome::Done(b, 1),
        "LATE RESULT: after TimedOut(job 0) the next outcome must be job 1's; job 0's late \
         result was delivered instead"
    );
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(check::drain_closed(&outcomes), vec![]);
}

pub fn budget_starts_when_the_job_starts() {
    // One worker, busy until the clock reads 50: a job queued at 0 with budget 5 starts at
    // 50, so its deadline is 55, not 5.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(1, None);
    let blocker = submit(&pool, Job::Gated(0), 100);
    rig.started.wait_for(1);
    let queued = submit(&pool, Job::Takes(1, 4), 5);
    let late = submit(&pool, Job::Takes(2, 5), 5);
    rig.clock.set(50);
    assert_eq!(
        pool.expire(),
        0,
        "at 50 only the running job (deadline 100) has a deadline; queued jobs' budgets have \
         not started"
    );
    rig.gate.open();
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![
            Outcome::Done(blocker, 0),
            Outcome::Done(queued, 1),
            Outcome::TimedOut(late)
        ],
        "job 1 (budget 5) started at 50 and took 4 ticks: on time. Job 2 took 5: late. A pool \
         that counts the budget from submit times both out."
    );
}

pub fn tokens_belong_to_one_job() {
    // Two running jobs; the first times out. Only its token is cancelled.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(2, None);
    let a = submit(&pool, Job::Cooperative(0), 5);
    let b = submit(&pool, Job::Gated(1), 100);
    rig.started.wait_for(2);
    rig.clock.set(5);
    assert_eq!(pool.expire(), 1);
    assert_eq!(
        next(&outcomes, "TimedOut for the cooperative job"),
        Outcome::TimedOut(a)
    );
    // The cooperative job was waiting for its token: expire's cancel lets it return.
    rig.returned.wait_for(1);
    assert_eq!(
        rig.token_of(0),
        Some(true),
        "the cooperative job returned but its token is not cancelled?"
    );
    rig.gate.open();
    assert_eq!(
        next(&outcomes, "the second job's outcome"),
        Outcome::Done(b, 1)
    );
    assert_eq!(
        rig.token_of(1),
        Some(false),
        "SHARED TOKEN: job 1 (deadline 100) saw its token cancelled when job 0 timed out. Each \
         job needs a token of its own, cancelled only when that job times out."
    );
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(check::drain_closed(&outcomes), vec![]);
}

pub fn tokens_are_not_cancelled_early() {
    // Jobs on time never see a cancelled token, before or after other jobs time out.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(3, None);
    for n in 0..6 {
        submit(&pool, Job::Takes(n, n % 3), 10);
    }
    assert_eq!(pool.finish(), vec![]);
    let got = check::drain_closed(&outcomes);
    assert_eq!(got.len(), 6);
    for n in 0..6 {
        assert_eq!(
            rig.token_of(n),
            Some(false),
            "job {n} returned on time, yet its token was already cancelled: a token is \
             cancelled when its job times out, never before"
        );
    }
}

pub fn a_job_that_ignores_its_token() {
    // Job 0 ignores its token and holds its worker long after its deadline. The pool keeps
    // every promise around it: TimedOut on time, the other worker runs the queue, the late
    // result is dropped, finish waits for the job and nothing outlives the pool.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(2, None);
    let stuck = submit(&pool, Job::Gated(0), 5);
    rig.started.wait_for(1);
    rig.clock.set(5);
    assert_eq!(pool.expire(), 1);
    assert_eq!(
        next(&outcomes, "TimedOut for the stuck job"),
        Outcome::TimedOut(stuck)
    );
    let later: Vec<JobId> = (1..=3)
        .map(|n| submit(&pool, Job::Takes(n, 1), 5))
        .collect();
    for (n, &id) in later.iter().enumerate() {
        assert_eq!(
            next(&outcomes, "the jobs after the stuck one"),
            Outcome::Done(id, n as u64 + 1),
            "while job 0 (timed out, ignoring its token) holds one worker, the other must run \
             the queue, oldest first"
        );
    }
    assert_eq!(
        rig.token_of(0),
        None,
        "the stuck job cannot have returned: its gate is closed"
    );
    rig.gate.open();
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(
        rig.token_of(0),
        Some(true),
        "finish returned before the stuck job did: it must join every worker, a busy one too"
    );
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![],
        "its late result must be dropped"
    );
    rig.expect_nothing_left("finish");
}

pub fn finish_expires_overdue_jobs_first() {
    // A cooperative job is past its deadline when finish is called, and nobody called
    // expire: finish must time it out (cancelling its token) before it waits for the
    // workers, or it waits for ever.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(2, None);
    let a = submit(&pool, Job::Cooperative(0), 3);
    let b = submit(&pool, Job::Quick(1), 100);
    rig.started.wait_for(2);
    rig.clock.set(3);
    assert_eq!(pool.finish(), vec![]);
    let got = check::drain_closed(&outcomes);
    expect_once(
        &got,
        a,
        Outcome::TimedOut(a),
        "it was overdue when finish began",
    );
    expect_once(&got, b, Outcome::Done(b, 1), "it returned on time");
    assert_eq!(
        rig.token_of(0),
        Some(true),
        "finish must cancel the overdue job's token"
    );
    rig.expect_nothing_left("finish");
}

pub fn no_job_starts_after_the_deadline() {
    // One worker busy past the overall deadline: the jobs queued behind it never start and
    // come back from finish, with their ids, in submission order.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(1, Some(10));
    let blocker = submit(&pool, Job::Gated(0), 100);
    rig.started.wait_for(1);
    for n in 1..=3 {
        submit(&pool, Job::Quick(n), 100);
    }
    rig.clock.set(10);
    rig.gate.open();
    assert_eq!(
        pool.finish(),
        vec![
            (JobId(1), Job::Quick(1)),
            (JobId(2), Job::Quick(2)),
            (JobId(3), Job::Quick(3))
        ],
        "jobs queued at the overall deadline never run: finish hands them back, in order"
    );
    assert_eq!(
        rig.starts(),
        vec![0],
        "a job started after the overall deadline"
    );
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![Outcome::TimedOut(blocker)],
        "the running job's deadline is min(0 + 100, 10) = 10: it was still running at 10, so \
         it is TimedOut"
    );
    rig.expect_nothing_left("finish");
}

pub fn the_deadline_is_checked_before_each_job() {
    // The queue holds three jobs when the worker gets to it; the first of them moves the
    // clock to the overall deadline. The other two must not start: a worker reads the clock
    // before *each* job, not once per batch it takes.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(1, Some(10));
    let blocker = submit(&pool, Job::Gated(0), 100);
    rig.started.wait_for(1);
    let mover = submit(&pool, Job::SetsClock(1, 10), 100);
    submit(&pool, Job::Quick(2), 100);
    submit(&pool, Job::Quick(3), 100);
    rig.gate.open();
    assert_eq!(
        pool.finish(),
        vec![(JobId(2), Job::Quick(2)), (JobId(3), Job::Quick(3))],
        "job 1 moved the clock to the overall deadline (10): jobs 2 and 3 must not start"
    );
    assert_eq!(
        rig.starts(),
        vec![0, 1],
        "DEADLINE CHECKED PER BATCH: jobs started after the clock read the overall deadline. \
         Read the clock before starting each job."
    );
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![Outcome::Done(blocker, 0), Outcome::TimedOut(mover)],
        "job 1 returned when the clock read 10 = its deadline min(0 + 100, 10): TimedOut"
    );
}

pub fn the_deadline_caps_running_jobs() {
    // Budgets of 100 and 20 from a start at 4, overall deadline 10: both are due at 10.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(2, Some(10));
    rig.clock.set(4);
    let a = submit(&pool, Job::Cooperative(0), 100);
    let b = submit(&pool, Job::Cooperative(1), 20);
    rig.started.wait_for(2);
    rig.clock.set(9);
    assert_eq!(pool.expire(), 0, "at 9 nothing is due");
    rig.clock.set(10);
    assert_eq!(
        pool.expire(),
        2,
        "at the overall deadline every running job has reached its deadline"
    );
    let mut got = vec![next(&outcomes, "TimedOut"), next(&outcomes, "TimedOut")];
    got.sort_by_key(Outcome::id);
    assert_eq!(got, vec![Outcome::TimedOut(a), Outcome::TimedOut(b)]);
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(check::drain_closed(&outcomes), vec![]);
    assert_eq!((rig.token_of(0), rig.token_of(1)), (Some(true), Some(true)));
}

pub fn submit_hands_jobs_back_at_the_deadline() {
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(1, Some(10));
    submit(&pool, Job::Gated(0), 100);
    rig.started.wait_for(1);
    rig.clock.set(9);
    let queued = submit(&pool, Job::Quick(1), 100);
    rig.clock.set(10);
    assert_eq!(
        pool.submit(Job::Quick(2), 100),
        Err(Job::Quick(2)),
        "submit when the clock reads the overall deadline must hand the job back"
    );
    rig.clock.set(11);
    assert_eq!(
        pool.submit(Job::Quick(3), 1),
        Err(Job::Quick(3)),
        "submit after the overall deadline must hand the job back"
    );
    rig.gate.open();
    assert_eq!(
        pool.finish(),
        vec![(queued, Job::Quick(1))],
        "the job accepted at 9 never started: finish lists it; refused jobs are not listed"
    );
    assert_eq!(check::drain_closed(&outcomes).len(), 1);
}

pub fn finish_runs_the_queue_before_the_deadline() {
    // Without a deadline, and with one not reached, finish lets the workers run every
    // queued job before it returns.
    for deadline in [None, Some(1_000)] {
        let rig = Rig::new();
        let _open = rig.gate.open_on_drop();
        let (pool, outcomes) = rig.pool(2, deadline);
        submit(&pool, Job::Gated(0), 50);
        submit(&pool, Job::Gated(1), 50);
        rig.started.wait_for(2);
        for n in 2..12 {
            submit(&pool, Job::Quick(n), 50);
        }
        rig.gate.open();
        assert_eq!(
            pool.finish(),
            vec![],
            "deadline {deadline:?}, clock at 0: finish must run the queue, not hand it back"
        );
        let got = check::drain_closed(&outcomes);
        let mut done: Vec<u64> = got
            .iter()
            .map(|o| match o {
                Outcome::Done(_, n) => *n,
                Outcome::TimedOut(id) => panic!("{id:?} timed out with the clock at 0"),
            })
            .collect();
        done.sort_unstable();
        check::each_exactly_once("result", &done, 12);
        rig.expect_nothing_left("finish");
    }
}

pub fn not_run_in_submission_order() {
    // Three workers busy at the deadline; twenty jobs queued behind them come back as one
    // sequence in submission order.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(3, Some(7));
    for n in 0..3 {
        submit(&pool, Job::Gated(n), 100);
    }
    rig.started.wait_for(3);
    for n in 3..23 {
        submit(&pool, Job::Quick(n), 100);
    }
    rig.clock.set(7);
    rig.gate.open();
    let expected: Vec<(JobId, Job)> = (3..23).map(|n| (JobId(n), Job::Quick(n))).collect();
    assert_eq!(
        pool.finish(),
        expected,
        "the jobs that never ran, with their ids, in submission order (no job lost, none \
         reordered)"
    );
    let mut timed_out: Vec<Outcome<u64>> = check::drain_closed(&outcomes);
    timed_out.sort_by_key(Outcome::id);
    assert_eq!(
        timed_out,
        (0..3)
            .map(|n| Outcome::TimedOut(JobId(n)))
            .collect::<Vec<_>>()
    );
}

pub fn finish_joins_every_worker() {
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(3, None);
    for n in 0..9 {
        submit(&pool, Job::Quick(n), 10);
    }
    rig.started.wait_for(9);
    assert_eq!(pool.finish(), vec![]);
    rig.expect_nothing_left("finish");
    assert_eq!(check::drain_closed(&outcomes).len(), 9);
}

pub fn drop_finishes_the_pool() {
    // Dropping runs the queue like finish (no deadline here), joins everything and ends the
    // stream.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(1, None);
    submit(&pool, Job::Gated(0), 10);
    rig.started.wait_for(1);
    for n in 1..6 {
        submit(&pool, Job::Quick(n), 10);
    }
    rig.gate.open();
    drop(pool);
    let got = check::drain_closed(&outcomes);
    assert_eq!(
        got,
        (0..6)
            .map(|n| Outcome::Done(JobId(n), n))
            .collect::<Vec<_>>(),
        "dropping the pool must finish it: every queued job runs (no deadline)"
    );
    rig.expect_nothing_left("drop");
}

pub fn drop_drops_jobs_that_never_ran() {
    // Past the deadline, drop neither runs the queued jobs nor leaks them.
    let clock = ManualClock::new(0);
    let gate = Gate::new();
    let _open = gate.open_on_drop();
    let started = Arrivals::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let (g, s, r) = (gate.clone(), started.clone(), Arc::clone(&ran));
    let config = Config {
        workers: 1,
        deadline: Some(5),
    };
    let (pool, outcomes) = TimeoutPool::new(
        config,
        clock.clone(),
        move |first: Option<Arc<()>>, _: &CancelToken| {
            r.fetch_add(1, Ordering::SeqCst);
            s.arrive();
            if first.is_none() {
                g.wait();
            }
        },
    )
    .expect("a valid configuration");
    let payload = Arc::new(());
    pool.submit(None, 10).expect("accepted before the deadline");
    started.wait_for(1);
    for _ in 0..3 {
        pool.submit(Some(Arc::clone(&payload)), 10)
            .expect("accepted before the deadline");
    }
    clock.set(5);
    gate.open();
    drop(pool);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "a job started after the deadline, on drop"
    );
    assert_eq!(
        Arc::strong_count(&payload),
        1,
        "after drop, the jobs that never ran are still alive somewhere: drop must drop them"
    );
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![Outcome::TimedOut(JobId(0))]
    );
}

pub fn zero_workers_is_an_error() {
    let made = TimeoutPool::<u8, u8>::new(
        Config {
            workers: 0,
            deadline: None,
        },
        || 0,
        |n, _| n,
    );
    assert_eq!(
        made.err(),
        Some(PoolError::NoWorkers),
        "new with workers = 0 must return Err(PoolError::NoWorkers)"
    );
    assert!(
        PoolError::NoWorkers.to_string().contains("worker"),
        "PoolError's message should say what is wrong: {:?}",
        PoolError::NoWorkers.to_string()
    );
}

pub fn given_clock_and_token() {
    // Any `Fn() -> u64` is a clock: here one reading a counter that the job moves.
    let ticks = Arc::new(std::sync::atomic::AtomicU64::new(100));
    let read = Arc::clone(&ticks);
    let config = Config {
        workers: 1,
        deadline: None,
    };
    let (pool, outcomes) = TimeoutPool::new(
        config,
        move || read.load(Ordering::SeqCst),
        move |takes: u64, _: &CancelToken| {
            ticks.fetch_add(takes, Ordering::SeqCst);
            takes
        },
    )
    .expect("a valid configuration");
    let on_time = pool.submit(4, 5).expect("no deadline");
    let late = pool.submit(5, 5).expect("no deadline");
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![Outcome::Done(on_time, 4), Outcome::TimedOut(late)],
        "with a closure as the clock, budget 5: a job that moves it by 4 is on time, by 5 late"
    );
    // The given CancelToken.
    let token = CancelToken::new();
    let clone = token.clone();
    assert!(!token.is_cancelled(), "a new token is not cancelled");
    assert!(format!("{token:?}").contains("false"), "{token:?}");
    clone.cancel();
    clone.cancel(); // again: no effect
    assert!(token.is_cancelled(), "clones share one flag");
    token.wait(); // returns at once: already cancelled
    assert!(format!("{token:?}").contains("true"), "{token:?}");
}

pub fn runs_workers_jobs_at_once() {
    // Five workers, eight jobs held at a gate: exactly five run at once.
    let rig = Rig::new();
    let _open = rig.gate.open_on_drop();
    let (pool, outcomes) = rig.pool(5, None);
    for n in 0..8 {
        submit(&pool, Job::Gated(n), 10);
    }
    rig.started.wait_for(5);
    let started: BTreeSet<u64> = rig.starts().into_iter().collect();
    assert_eq!(
        started,
        (0..5).collect(),
        "with 5 workers, the 5 oldest jobs must be the ones running"
    );
    rig.gate.open();
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(check::drain_closed(&outcomes).len(), 8);
    assert!(
        rig.most_at_once.load(Ordering::SeqCst) <= 5,
        "more than 5 jobs ran at once on a 5-worker pool"
    );
}

pub fn the_queue_is_unbounded_and_fifo() {
    // 100 000 jobs behind one busy worker: submit never blocks, and they run in order.
    const JOBS: u64 = 100_000;
    let gate = Gate::new();
    let _open = gate.open_on_drop();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let config = Config {
        workers: 1,
        deadline: None,
    };
    let (pool, outcomes) = TimeoutPool::new(
        config,
        || 0,
        move |n: u64, _: &CancelToken| {
            if n == 0 {
                s.arrive();
                g.wait();
            }
            n
        },
    )
    .expect("a valid configuration");
    pool.submit(0, u64::MAX).expect("no deadline");
    started.wait_for(1);
    for n in 1..=JOBS {
        if pool.submit(n, 1).is_err() {
            panic!("submit refused job {n} with no deadline: is the queue bounded?");
        }
    }
    gate.open();
    assert_eq!(pool.finish(), vec![]);
    let got = check::drain_closed(&outcomes);
    assert_eq!(got.len() as u64, JOBS + 1);
    let out_of_order = got
        .iter()
        .enumerate()
        .find(|(i, o)| **o != Outcome::Done(JobId(*i as u64), *i as u64));
    assert!(
        out_of_order.is_none(),
        "one worker must run the queue oldest first and deliver each result: outcome #{} was \
         {:?}",
        out_of_order.map_or(0, |(i, _)| i),
        out_of_order.map(|(_, o)| o)
    );
}

pub fn ids_stay_distinct_across_threads() {
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(2, None);
    let ids: Vec<JobId> = thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    (0..250)
                        .map(|i| submit(pool, Job::Quick(t * 1_000 + i), 10))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let seen: Vec<u64> = ids.iter().map(|id| id.0).collect();
    check::each_exactly_once("job id", &seen, 1_000);
    assert_eq!(pool.finish(), vec![]);
    assert_eq!(check::drain_closed(&outcomes).len(), 1_000);
}

pub fn a_panicking_job_times_out() {
    // A job that panics kills its worker; its outcome is TimedOut (at its deadline, or at
    // the latest at finish) and finish neither hangs nor panics.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(2, None);
    let p = submit(&pool, Job::Panics(0), 5);
    rig.started.wait_for(1);
    rig.clock.set(5);
    assert_eq!(pool.expire(), 1, "the panicked job's deadline has passed");
    assert_eq!(
        next(&outcomes, "TimedOut for the job that panicked"),
        Outcome::TimedOut(p)
    );
    let rest: Vec<JobId> = (1..4).map(|n| submit(&pool, Job::Quick(n), 5)).collect();
    assert_eq!(pool.finish(), vec![]);
    let got = check::drain_closed(&outcomes);
    for (n, id) in rest.into_iter().enumerate() {
        expect_once(
            &got,
            id,
            Outcome::Done(id, n as u64 + 1),
            "the other worker runs it",
        );
    }
    assert!(
        outcomes_of(&got, p).is_empty(),
        "job 0 reported twice: {got:?}"
    );

    // Its only worker gone, a pool still accounts for every job at finish.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(1, None);
    let p = submit(&pool, Job::Panics(0), 5);
    rig.started.wait_for(1);
    let left = pool.finish();
    let got = check::drain_closed(&outcomes);
    assert_eq!(
        got,
        vec![Outcome::TimedOut(p)],
        "the job that panicked (before its deadline) must still get its one outcome, TimedOut, \
         by the time finish returns"
    );
    assert_eq!(left, vec![]);
}

pub fn a_dead_pool_lists_what_it_could_not_run() {
    // The only worker died; jobs submitted afterwards are never lost: finish lists them.
    let rig = Rig::new();
    let (pool, outcomes) = rig.pool(1, None);
    submit(&pool, Job::Panics(0), 5);
    rig.started.wait_for(1); // from here on the worker only panics: it takes no more jobs
    let queued: Vec<(JobId, Job)> = (1..4)
        .map(|n| (submit(&pool, Job::Quick(n), 5), Job::Quick(n)))
        .collect();
    assert_eq!(
        pool.finish(),
        queued,
        "no worker was left to run jobs 1-3: finish must hand them back, not drop them"
    );
    assert_eq!(
        check::drain_closed(&outcomes),
        vec![Outcome::TimedOut(JobId(0))]
    );
}

// ---------------------------------------------------------------------------------------
// The async pool (tokio, paused clock)
// ---------------------------------------------------------------------------------------

/// What an async job does.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Task {
    /// Sleeps this long (tokio time), then returns its number.
    Sleeps(u64, Duration),
    /// Like `Sleeps`, after handing its token to a watcher task that reports the instant
    /// the token is cancelled.
    Watched(u64, Duration),
}

impl Task {
    fn n(&self) -> u64 {
        match *self {
            Task::Sleeps(n, _) | Task::Watched(n, _) => n,
        }
    }
}

#[derive(Clone, Default)]
struct AsyncRig {
    /// (job number, instant it started)
    starts: Arc<Mutex<Vec<(u64, Instant)>>>,
    /// (job number, instant its token was cancelled)
    cancelled: Arc<Mutex<Vec<(u64, Instant)>>>,
    /// (job number, token cancelled when the job finished?)
    tokens: Arc<Mutex<Vec<(u64, bool)>>>,
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    probe: Arc<()>,
}

impl AsyncRig {
    fn pool(
        &self,
        workers: usize,
        deadline: Option<Duration>,
    ) -> (AsyncPool<Task, u64>, UnboundedReceiver<Outcome<u64>>) {
        let rig = self.clone();
        let config = AsyncConfig { workers, deadline };
        AsyncPool::new(config, move |task: Task, token: CancellationToken| {
            let rig = rig.clone();
            async move { rig.run(task, token).await }
        })
        .unwrap_or_else(|e| panic!("{config:?} is a valid configuration, but new said: {e}"))
    }

    async fn run(&self, task: Task, token: CancellationToken) -> u64 {
        let _ = &self.probe;
        let n = task.n();
        self.starts.lock().unwrap().push((n, Instant::now()));
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        // Counts down again even when the future is dropped at its timeout.
        struct Leave(Arc<AtomicUsize>);
        impl Drop for Leave {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _leave = Leave(Arc::clone(&self.running));
        let takes = match task {
            Task::Sleeps(_, takes) => takes,
            Task::Watched(_, takes) => {
                let cancelled = Arc::clone(&self.cancelled);
                let watched = token.clone();
                tokio::spawn(async move {
                    watched.cancelled().await;
                    cancelled.lock().unwrap().push((n, Instant::now()));
                });
                takes
            }
        };
        if !takes.is_zero() {
            sleep(takes).await;
        }
        self.tokens.lock().unwrap().push((n, token.is_cancelled()));
        n
    }

    fn started(&self) -> Vec<u64> {
        self.starts
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| *n)
            .collect()
    }

    fn cancelled_at(&self, n: u64) -> Option<Instant> {
        let c = self.cancelled.lock().unwrap();
        c.iter().find(|(m, _)| *m == n).map(|(_, at)| *at)
    }

    fn token_of(&self, n: u64) -> Option<bool> {
        let t = self.tokens.lock().unwrap();
        t.iter().find(|(m, _)| *m == n).map(|(_, c)| *c)
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn asubmit(pool: &AsyncPool<Task, u64>, task: Task, budget: Duration) -> JobId {
    pool.submit(task.clone(), budget).unwrap_or_else(|_| {
        panic!("submit({task:?}, {budget:?}) was refused before the overall deadline")
    })
}

/// Reads outcomes until the stream ends, with the tokio instant of each.
async fn read_all(
    outcomes: &mut UnboundedReceiver<Outcome<u64>>,
) -> (Vec<(Outcome<u64>, Instant)>, Instant) {
    let mut got = Vec::new();
    while let Some(o) = outcomes.recv().await {
        got.push((o, Instant::now()));
    }
    (got, Instant::now())
}

pub fn async_times_out_at_exactly_its_budget() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let (pool, mut outcomes) = rig.pool(1, None);
        let start = Instant::now();
        let id = asubmit(&pool, Task::Watched(0, secs(3)), secs(2));
        let first = outcomes.recv().await;
        assert_eq!(
            first,
            Some(Outcome::TimedOut(id)),
            "a 3 s job with a 2 s budget"
        );
        assert_eq!(
            start.elapsed(),
            secs(2),
            "the TimedOut outcome must arrive at exactly 2 s of tokio time (it came at {:?}): \
             put the job under tokio::time::timeout(budget, ...)",
            start.elapsed()
        );
        sleep(secs(5)).await; // long past the job's own 3 s
        assert_eq!(
            rig.cancelled_at(0).map(|at| at - start),
            Some(secs(2)),
            "the job's CancellationToken must be cancelled when it times out (at 2 s): pass \
             each job a token and cancel it on timeout"
        );
        assert_eq!(pool.finish().await, vec![]);
        let (rest, _) = read_all(&mut outcomes).await;
        assert_eq!(
            rest,
            vec![],
            "LATE RESULT: after TimedOut the job's result was delivered too. Its future must \
             be dropped at the timeout (tokio::time::timeout does that), not left running."
        );
        assert_eq!(
            rig.token_of(0),
            None,
            "the timed-out job must not have run to its end"
        );
    });
}

pub fn async_in_time_is_done_when_it_finishes() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let (pool, mut outcomes) = rig.pool(2, None);
        let start = Instant::now();
        let a = asubmit(&pool, Task::Watched(0, secs(1)), secs(2));
        let b = asubmit(&pool, Task::Watched(1, millis(4_999)), secs(5));
        assert_eq!(outcomes.recv().await, Some(Outcome::Done(a, 0)));
        assert_eq!(start.elapsed(), secs(1), "a 1 s job is Done at 1 s");
        assert_eq!(outcomes.recv().await, Some(Outcome::Done(b, 1)));
        assert_eq!(
            start.elapsed(),
            millis(4_999),
            "a 4.999 s job with a 5 s budget is on time"
        );
        assert_eq!(
            (rig.token_of(0), rig.token_of(1)),
            (Some(false), Some(false)),
            "a job on time must not see its token cancelled while it runs"
        );
        assert_eq!(pool.finish().await, vec![]);
        assert_eq!(read_all(&mut outcomes).await.0, vec![]);
    });
}

pub fn async_tokens_belong_to_one_job() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let (pool, mut outcomes) = rig.pool(2, None);
        let start = Instant::now();
        let a = asubmit(&pool, Task::Watched(0, secs(3)), secs(2));
        let b = asubmit(&pool, Task::Watched(1, secs(4)), secs(10));
        assert_eq!(outcomes.recv().await, Some(Outcome::TimedOut(a)));
        assert_eq!(outcomes.recv().await, Some(Outcome::Done(b, 1)));
        assert_eq!(start.elapsed(), secs(4));
        assert_eq!(
            rig.token_of(1),
            Some(false),
            "SHARED TOKEN: job 1 (budget 10 s) saw its token cancelled when job 0 timed out. \
             Give each job its own token (a child of the pool's: token.child_token())."
        );
        assert_eq!(pool.finish().await, vec![]);
    });
}

pub fn async_budget_starts_when_the_job_starts() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let (pool, mut outcomes) = rig.pool(1, None);
        let start = Instant::now();
        let a = asubmit(&pool, Task::Sleeps(0, secs(3)), secs(5));
        let b = asubmit(&pool, Task::Sleeps(1, secs(3)), secs(4));
        let c = asubmit(&pool, Task::Sleeps(2, secs(3)), secs(2));
        let (got, _) = {
            let read = read_all(&mut outcomes);
            let finish = async {
                sleep(secs(20)).await;
                pool.finish().await
            };
            let (read, left) = tokio::join!(read, finish);
            assert_eq!(left, vec![]);
            read
        };
        let got: Vec<(Outcome<u64>, Duration)> =
            got.into_iter().map(|(o, at)| (o, at - start)).collect();
        assert_eq!(
            got,
            vec![
                (Outcome::Done(a, 0), secs(3)),
                (Outcome::Done(b, 1), secs(6)),
                (Outcome::TimedOut(c), secs(8)),
            ],
            "one worker: job 1 waits 3 s in the queue, then runs 3 s of its 4 s budget (Done \
             at 6 s); job 2 starts at 6 s and times out 2 s later. The budget starts when a \
             worker starts the job, not at submit."
        );
    });
}

pub fn async_huge_budgets() {
    // A budget so large that start + budget does not exist never times out the job; with
    // an overall deadline, the deadline still cuts it off.
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let start = Instant::now();
        let (pool, mut outcomes) = rig.pool(1, None);
        let long = Duration::from_secs(86_400 * 700);
        let id = asubmit(&pool, Task::Sleeps(0, long), Duration::MAX);
        assert_eq!(
            outcomes.recv().await,
            Some(Outcome::Done(id, 0)),
            "a 700-day job with a budget of Duration::MAX must be Done (start + budget \
             overflows: there is no deadline), not cut off early"
        );
        assert_eq!(start.elapsed(), long);
        assert_eq!(pool.finish().await, vec![]);

        let start = Instant::now();
        let (pool, mut outcomes) = rig.pool(1, Some(secs(10)));
        let id = asubmit(&pool, Task::Sleeps(1, secs(20)), Duration::MAX);
        assert_eq!(outcomes.recv().await, Some(Outcome::TimedOut(id)));
        assert_eq!(
            start.elapsed(),
            secs(10),
            "budget Duration::MAX, overall deadline 10 s: TimedOut at the deadline"
        );
        assert_eq!(pool.finish().await, vec![]);
    });
}

pub fn async_runs_exactly_workers_at_once() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let (pool, mut outcomes) = rig.pool(3, None);
        let start = Instant::now();
        for n in 0..10 {
            asubmit(&pool, Task::Sleeps(n, secs(1)), secs(10));
        }
        let (read, left) = tokio::join!(read_all(&mut outcomes), pool.finish());
        assert_eq!(left, vec![]);
        let (got, end) = read;
        let mut by_second: Vec<(u64, u64)> = got
            .iter()
            .map(|(o, at)| match o {
                Outcome::Done(_, n) => ((*at - start).as_secs(), *n),
                Outcome::TimedOut(id) => panic!("{id:?} timed out"),
            })
            .collect();
        by_second.sort_unstable();
        let expected: Vec<(u64, u64)> = (0..10).map(|n| (n / 3 + 1, n)).collect();
        assert_eq!(
            by_second, expected,
            "3 workers, ten 1 s jobs: jobs 0-2 finish at 1 s, 3-5 at 2 s, 6-8 at 3 s, 9 at \
             4 s (seconds, job). Fewer workers are slower; more run too many at once; another \
             order is not oldest first."
        );
        assert_eq!(
            end - start,
            secs(4),
            "the stream ends when the last job is done"
        );
        assert_eq!(rig.most_at_once.load(Ordering::SeqCst), 3);
    });
}

pub fn async_deadline_stops_new_jobs() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let start = Instant::now();
        let (pool, mut outcomes) = rig.pool(1, Some(secs(10)));
        let ids: Vec<JobId> = (0..20)
            .map(|n| asubmit(&pool, Task::Watched(n, secs(3)), secs(100)))
            .collect();
        let (got, end) = read_all(&mut outcomes).await;
        let got: Vec<(Outcome<u64>, Duration)> =
            got.into_iter().map(|(o, at)| (o, at - start)).collect();
        assert_eq!(
            got,
            vec![
                (Outcome::Done(ids[0], 0), secs(3)),
                (Outcome::Done(ids[1], 1), secs(6)),
                (Outcome::Done(ids[2], 2), secs(9)),
                (Outcome::TimedOut(ids[3]), secs(10)),
            ],
            "deadline 10 s, one worker, 3 s jobs: job 3 starts at 9 s and is cut off at the \
             overall deadline (10 s); no job starts after it"
        );
        assert_eq!(
            end - start,
            secs(10),
            "at the overall deadline every worker task must stop, so the outcome stream ends \
             at 10 s (it ended at {:?})",
            end - start
        );
        sleep(millis(1)).await; // lets every task woken at 10 s run
        assert_eq!(
            rig.cancelled_at(3).map(|at| at - start),
            Some(secs(10)),
            "the token of the job cut off by the overall deadline must be cancelled then"
        );
        assert_eq!(
            rig.started(),
            vec![0, 1, 2, 3],
            "jobs started after the deadline"
        );
        let left = pool.finish().await;
        assert_eq!(
            left,
            (4..20)
                .map(|n| (JobId(n), Task::Watched(n, secs(3))))
                .collect::<Vec<_>>(),
            "finish must hand back every job that never ran, with its id, in order"
        );
    });
}

pub fn async_deadline_fires_while_jobs_keep_coming() {
    // A job arrives every second, each done in half a second; the overall deadline is 10 s.
    // It must fire at 10 s although every worker keeps getting jobs — a `sleep(remaining)`
    // made inside the worker's select! loop starts again at every job and never fires.
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let start = Instant::now();
        let (pool, mut outcomes) = rig.pool(2, Some(secs(10)));
        let reader = tokio::spawn(async move { read_all(&mut outcomes).await });
        let mut n = 0;
        let refused_at = loop {
            match pool.submit(Task::Sleeps(n, millis(500)), secs(5)) {
                Ok(_) => n += 1,
                Err(task) => {
                    assert_eq!(
                        task,
                        Task::Sleeps(n, millis(500)),
                        "submit must hand back the job it refused"
                    );
                    break start.elapsed();
                }
            }
            sleep(secs(1)).await;
        };
        assert_eq!(
            refused_at,
            secs(10),
            "submit must refuse jobs from the deadline on"
        );
        let (got, end) = reader.await.expect("the reader task");
        assert_eq!(
            got.len() as u64,
            n,
            "every accepted job (one a second, 0.5 s each) finished"
        );
        assert_eq!(
            end - start,
            secs(10),
            "DEADLINE RE-ARMED: the outcome stream ended at {:?}, not at the overall deadline \
             (10 s). Each worker must wait for jobs against one timer created once, outside its \
             loop (tokio::pin!(sleep_until(deadline)) and `&mut` it in select!), not a new \
             `sleep` per iteration.",
            end - start
        );
        assert_eq!(pool.finish().await, vec![]);
    });
}

pub fn async_submit_after_the_deadline() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let (pool, mut outcomes) = rig.pool(1, Some(secs(5)));
        sleep(millis(4_999)).await;
        let last = asubmit(&pool, Task::Sleeps(7, millis(0)), secs(1));
        sleep(millis(1)).await;
        assert_eq!(
            pool.submit(Task::Sleeps(8, secs(1)), secs(1)),
            Err(Task::Sleeps(8, secs(1))),
            "at the overall deadline submit must hand the job back"
        );
        let (got, _) = read_all(&mut outcomes).await;
        assert_eq!(
            got.into_iter().map(|(o, _)| o).collect::<Vec<_>>(),
            vec![Outcome::Done(last, 7)]
        );
        assert_eq!(pool.finish().await, vec![]);
    });
}

pub fn async_finish_awaits_every_task() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let start = Instant::now();
        let (pool, mut outcomes) = rig.pool(2, None);
        for n in 0..5 {
            asubmit(&pool, Task::Sleeps(n, secs(1)), secs(2));
        }
        assert_eq!(
            pool.finish().await,
            vec![],
            "no deadline: finish runs the whole queue"
        );
        assert_eq!(
            start.elapsed(),
            secs(3),
            "five 1 s jobs on two workers take 3 s"
        );
        assert_eq!(
            Arc::strong_count(&rig.probe),
            1,
            "TASK LEFT RUNNING: finish returned while a worker task (holding the job function) \
             was still alive. Await every task of the JoinSet before returning."
        );
        let mut done = Vec::new();
        while let Ok(o) = outcomes.try_recv() {
            done.push(o);
        }
        assert_eq!(
            done.len(),
            5,
            "finish returned before every result was delivered: {done:?}"
        );
        assert_eq!(
            outcomes.recv().await,
            None,
            "after finish the outcome stream must have ended"
        );
    });
}

pub fn async_drop_aborts_every_task() {
    testkit::time::paused(async {
        let rig = AsyncRig::default();
        let start = Instant::now();
        let (pool, mut outcomes) = rig.pool(2, None);
        asubmit(&pool, Task::Watched(0, secs(100)), secs(200));
        asubmit(&pool, Task::Sleeps(1, secs(100)), secs(200));
        sleep(secs(1)).await;
        assert_eq!(rig.started(), vec![0, 1]);
        drop(pool);
        sleep(millis(1)).await; // the runtime runs once: aborted tasks are gone
        assert_eq!(
            rig.cancelled_at(0).map(|at| at - start),
            Some(secs(1)),
            "dropping the pool must cancel every running job's token"
        );
        assert_eq!(
            Arc::strong_count(&rig.probe),
            1,
            "TASK LEFT RUNNING: after the pool was dropped a task still holds the job function. \
             Keep the worker tasks in a JoinSet (its drop aborts them), not detached spawns."
        );
        assert_eq!(
            read_all(&mut outcomes).await.0,
            vec![],
            "aborted jobs have no outcome, and the stream ends"
        );
        assert_eq!(
            start.elapsed(),
            millis(1_001),
            "nothing waited for the 100 s jobs"
        );
    });
}

pub fn async_queue_is_unbounded() {
    // 100 000 jobs submitted at once, nobody reading outcomes until finish: submit never
    // waits, ids count up from 0, every outcome is kept, in order (one worker).
    const JOBS: u64 = 100_000;
    testkit::time::paused(async {
        let config = AsyncConfig {
            workers: 1,
            deadline: None,
        };
        let (pool, mut outcomes) =
            AsyncPool::new(config, |n: u64, _token| async move { n }).expect("valid");
        for n in 0..JOBS {
            let id = pool.submit(n, secs(1)).unwrap_or_else(|n| {
                panic!("submit refused job {n}: the job queue is bounded (or closed)")
            });
            assert_eq!(id, JobId(n), "ids on one task count up from 0");
        }
        assert_eq!(pool.finish().await, vec![]);
        let mut n = 0;
        while let Some(o) = outcomes.recv().await {
            assert_eq!(
                o,
                Outcome::Done(JobId(n), n),
                "one worker must run the queue oldest first and keep every outcome"
            );
            n += 1;
        }
        assert_eq!(
            n, JOBS,
            "outcomes were lost: the outcome stream is bounded?"
        );
    });
}

pub fn async_zero_workers_is_an_error() {
    testkit::time::paused(async {
        let made = AsyncPool::<u8, u8>::new(
            AsyncConfig {
                workers: 0,
                deadline: None,
            },
            |n, _| async move { n },
        );
        assert_eq!(
            made.err(),
            Some(PoolError::NoWorkers),
            "AsyncPool::new with workers = 0 must return Err(PoolError::NoWorkers)"
        );
    });
}
