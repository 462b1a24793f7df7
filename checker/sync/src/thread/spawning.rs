//! Loom's threads with std's answer to a panic a test caused on purpose.
//!
//! Under std, a thread that panics ends and `join` returns `Err(payload)`. Under loom the
//! panic escapes the thread and fails the whole model, so no model could show what a pool does
//! when a job panics (does shutdown still join the other workers?). Here a panic that the
//! harness has declared deliberate ends the thread the std way; every other panic — an
//! assertion, loom's own deadlock report — is passed on unchanged and fails the model as
//! before.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

type Deliberate = fn(&(dyn Any + Send)) -> bool;

static DELIBERATE: OnceLock<Deliberate> = OnceLock::new();

pub(super) fn set_deliberate(is_deliberate: Deliberate) {
    let _ = DELIBERATE.set(is_deliberate);
}

/// Runs a thread's body: its value, or the payload of a deliberate panic.
fn body<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Ok(value),
        Err(payload) if DELIBERATE.get().is_some_and(|d| d(payload.as_ref())) => Err(payload),
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// An owned permission to join a thread (loom's, see the module docs).
pub struct JoinHandle<T>(loom::thread::JoinHandle<std::thread::Result<T>>);

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish: `Err(payload)` if it ended with a deliberate panic.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        self.0.join().and_then(|result| result)
    }

    /// The thread's handle.
    pub fn thread(&self) -> &loom::thread::Thread {
        self.0.thread()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// Spawns a loom thread (see the module docs for panics).
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    JoinHandle(loom::thread::spawn(move || body(f)))
}

/// Thread configuration, as `std::thread::Builder`.
#[derive(Debug)]
pub struct Builder(loom::thread::Builder);

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder(loom::thread::Builder::new())
    }

    pub fn name(self, name: String) -> Builder {
        Builder(self.0.name(name))
    }

    pub fn stack_size(self, size: usize) -> Builder {
        Builder(self.0.stack_size(size))
    }

    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.spawn(move || body(f)).map(JoinHandle)
    }
}
