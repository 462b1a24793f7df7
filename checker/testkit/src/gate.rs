//! Ordering without sleeps: gates the test opens by hand, and probes that observe when
//! worker threads really exit. These use `std` directly — they belong to the test, not to
//! the code under test — so they are for the ordinary (non-loom) tier.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// A one-way gate: jobs `wait()` on it until the test calls `open()`.
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets every current and future waiter through.
    pub fn open(&self) {
        let (open, cv) = &*self.inner;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    /// Blocks until the gate is open.
    pub fn wait(&self) {
        let (open, cv) = &*self.inner;
        let mut guard = open.lock().unwrap_or_else(|e| e.into_inner());
        while !*guard {
            guard = cv.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A guard that opens the gate when dropped. Keep it alive as long as a pool whose jobs
    /// wait on the gate: if an assertion fails first, unwinding opens the gate before the
    /// pool's drop waits for those jobs, so the failure is reported instead of a hang.
    pub fn open_on_drop(&self) -> OpenOnDrop {
        OpenOnDrop(self.clone())
    }
}

/// Opens its gate when dropped; see [`Gate::open_on_drop`].
pub struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Counts arrivals and lets the test wait until `n` have arrived: "n jobs are running now".
#[derive(Clone, Default)]
pub struct Arrivals {
    inner: Arc<(Mutex<usize>, Condvar)>,
}

impl Arrivals {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn arrive(&self) {
        let (count, cv) = &*self.inner;
        *count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        cv.notify_all();
    }

    /// Blocks until at least `n` arrivals. (If they never come, the checker's per-test
    /// timeout reports the hang with this test's explanation.)
    pub fn wait_for(&self, n: usize) {
        let (count, cv) = &*self.inner;
        let mut guard = count.lock().unwrap_or_else(|e| e.into_inner());
        while *guard < n {
            guard = cv.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Observes thread exits: call [`ThreadExits::enlist`] from a job, and the count goes up when
/// that worker thread has finished (thread-local destructors run before `join` returns).
#[derive(Clone, Default)]
pub struct ThreadExits {
    exited: Arc<AtomicUsize>,
    enlisted: Arc<AtomicUsize>,
}

struct ExitProbe(Option<Arc<AtomicUsize>>);

impl Drop for ExitProbe {
    fn drop(&mut self) {
        if let Some(exited) = self.0.take() {
            exited.fetch_add(1, Ordering::SeqCst);
        }
    }
}

thread_local! {
    static PROBE: RefCell<ExitProbe> = const { RefCell::new(ExitProbe(None)) };
}

impl ThreadExits {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the calling thread; idempotent per thread.
    pub fn enlist(&self) {
        PROBE.with(|p| {
            let mut p = p.borrow_mut();
            if p.0.is_none() {
                p.0 = Some(Arc::clone(&self.exited));
                self.enlisted.fetch_add(1, Ordering::SeqCst);
            }
        });
    }

    /// Threads that called `enlist`.
    pub fn enlisted(&self) -> usize {
        self.enlisted.load(Ordering::SeqCst)
    }

    /// Of those, threads that have finished.
    pub fn exited(&self) -> usize {
        self.exited.load(Ordering::SeqCst)
    }
}

/// Opens `gate` when the calling thread exits (thread-local destructors run when a thread
/// finishes, before `join` returns). Call it from a job to release another job exactly when
/// *this* worker has stopped: "the stream must not end with the first worker".
pub fn open_on_thread_exit(gate: &Gate) {
    OPEN_ON_EXIT.with(|slot| slot.borrow_mut().0 = Some(gate.clone()));
}

struct OpenOnExit(Option<Gate>);

impl Drop for OpenOnExit {
    fn drop(&mut self) {
        if let Some(gate) = self.0.take() {
            gate.open();
        }
    }
}

thread_local! {
    static OPEN_ON_EXIT: RefCell<OpenOnExit> = const { RefCell::new(OpenOnExit(None)) };
}
