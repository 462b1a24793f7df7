//! A clock the test moves by hand, for thread code that *sleeps* on an injected clock (the
//! rate-limit exercise's `Clock` trait: `now`, `wakes`, `sleep_until(deadline, seen)`, `wake`).
//! A suite wraps it in a newtype that implements the exercise's trait by delegation.
//!
//! Besides the time, it knows who is asleep: [`TestClock::wait_for_sleepers`] returns once `n`
//! threads are blocked in `sleep_until` with a deadline still in the future — the moment a pool
//! whose workers all wait for a token is quiet, so the test can count what started. It also
//! catches spinning: a thread that keeps reading the clock (or "sleeping" until a deadline that
//! has already passed) while the time stands still makes `wait_for_sleepers` fail at once, with
//! a message, instead of hanging.
//!
//! Built from `workbook_sync` primitives, so the same clock works in the ordinary tier and,
//! visible to loom, in the model-check tier.

use std::time::Duration;

use workbook_sync::{Condvar, Mutex, MutexGuard};

/// Reads of the clock (and sleeps that return at once) allowed while the time stands still,
/// before [`TestClock::wait_for_sleepers`] calls it spinning. A correct pool reads it a few
/// times per job started and per wake-up.
pub const SPIN_LIMIT: u64 = 100_000;

#[derive(Debug, Default)]
struct State {
    now: Duration,
    wakes: u64,
    /// `(deadline, seen)` of each thread inside `sleep_until`.
    sleepers: Vec<(Duration, u64)>,
    /// Reads and immediate returns since the time last moved (or a wake).
    polls: u64,
    /// [`TestClock::mark`] calls: what the test counts (jobs started, waits ended).
    marks: usize,
}

/// What [`TestClock::wait_until`] shows its condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    /// Threads [`asleep`](TestClock::asleep) on the clock.
    pub asleep: usize,
    /// [`mark`](TestClock::mark) calls so far.
    pub marks: usize,
}

impl State {
    fn asleep(&self) -> usize {
        self.sleepers
            .iter()
            .filter(|&&(deadline, seen)| deadline > self.now && seen == self.wakes)
            .count()
    }
}

/// See the module documentation. Starts at zero.
#[derive(Debug, Default)]
pub struct TestClock {
    state: Mutex<State>,
    changed: Condvar,
}

impl TestClock {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn poll(&self, state: &mut State) {
        state.polls += 1;
        if state.polls == SPIN_LIMIT {
            self.changed.notify_all();
        }
    }

    /// The time (counted as a read).
    pub fn now(&self) -> Duration {
        let mut state = self.lock();
        self.poll(&mut state);
        state.now
    }

    /// How many wakes so far (counted as a read).
    pub fn wakes(&self) -> u64 {
        let mut state = self.lock();
        self.poll(&mut state);
        state.wakes
    }

    /// Blocks until `now >= deadline` or `wakes != seen`.
    pub fn sleep_until(&self, deadline: Duration, seen: u64) {
        let mut state = self.lock();
        if state.now >= deadline || state.wakes != seen {
            self.poll(&mut state);
            return;
        }
        state.sleepers.push((deadline, seen));
        self.changed.notify_all();
        while state.now < deadline && state.wakes == seen {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let me = state
            .sleepers
            .iter()
            .position(|&s| s == (deadline, seen))
            .expect("a sleeper is listed until it leaves");
        state.sleepers.swap_remove(me);
    }

    /// Wakes every sleeper (and every thread that read `wakes` before this call).
    pub fn wake(&self) {
        let mut state = self.lock();
        state.wakes += 1;
        state.polls = 0;
        self.changed.notify_all();
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.now += by;
        state.polls = 0;
        self.changed.notify_all();
    }

    /// Moves the time forward to `to` (a time in the past is a bug in the test).
    pub fn set(&self, to: Duration) {
        let mut state = self.lock();
        assert!(to >= state.now, "the test moved its clock backwards");
        state.now = to;
        state.polls = 0;
        self.changed.notify_all();
    }

    /// The time, without counting a read (for the test's own bookkeeping).
    pub fn peek(&self) -> Duration {
        self.lock().now
    }

    /// Threads blocked in `sleep_until` whose deadline is still ahead and that no wake has
    /// released: they will not move until the time does.
    pub fn asleep(&self) -> usize {
        self.lock().asleep()
    }

    /// Number of `wake` calls so far (not counted as a read).
    pub fn wake_count(&self) -> u64 {
        self.lock().wakes
    }

    /// Counts one event the test cares about (a job started, a wait ended) and wakes
    /// [`wait_until`](TestClock::wait_until). Not a read of the clock.
    pub fn mark(&self) {
        self.lock().marks += 1;
        self.changed.notify_all();
    }

    /// [`mark`](TestClock::mark) calls so far.
    pub fn marks(&self) -> usize {
        self.lock().marks
    }

    /// Blocks until `ready` holds for the threads asleep and the marks so far; returns them.
    ///
    /// # Panics
    /// When the clock has been read [`SPIN_LIMIT`] times since the time last moved: some
    /// thread is spinning instead of sleeping. `what` says what the test waits for, for the
    /// message.
    pub fn wait_until(&self, what: &str, ready: impl Fn(Quiet) -> bool) -> Quiet {
        let mut state = self.lock();
        loop {
            let quiet = Quiet {
                asleep: state.asleep(),
                marks: state.marks,
            };
            if ready(quiet) {
                return quiet;
            }
            assert!(
                state.polls < SPIN_LIMIT,
                "SPINNING: while the time stood still at {:?}, the clock was read {SPIN_LIMIT} \
                 times and the test was still waiting for {what} ({} thread(s) asleep on the \
                 clock, {} mark(s)). A thread waiting for a token must sleep on the clock \
                 (`sleep_until(deadline, seen)` with the deadline the token is due at) instead \
                 of checking again in a loop, and the deadline must be in the future (a wait \
                 rounded down to zero returns at once).",
                state.now,
                quiet.asleep,
                quiet.marks
            );
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Blocks until at least `n` threads are [`asleep`](TestClock::asleep); see
    /// [`wait_until`](TestClock::wait_until).
    pub fn wait_for_sleepers(&self, n: usize, what: &str) {
        self.wait_until(what, |q| q.asleep >= n);
    }

    /// Blocks until `wake` has been called at least `n` times in all.
    pub fn wait_for_wakes(&self, n: u64) {
        let mut state = self.lock();
        while state.wakes < n {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}
