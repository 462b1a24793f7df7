//! The sync facade: every exercise and solution imports its primitives from here.
//!
//! Loom can only model-check code that uses loom's own types. Importing `Arc`, `Mutex`,
//! `Condvar`, atomics, `thread::spawn` and channels from this one crate lets the checker
//! build the same student code twice:
//!
//! * normally — these are plain re-exports of [`std::sync`], [`std::thread`] and
//!   [`crossbeam_channel`], so there is no overhead at all;
//! * with the `loom` feature — they are loom's types, plus a small loom-visible
//!   multi-producer multi-consumer channel with crossbeam-channel's API, so loom can explore
//!   every interleaving of a worker pool and report deadlocks and leaked threads.
//!
//! ```
//! use workbook_sync::{channel, thread, Arc, Mutex};
//!
//! let (tx, rx) = channel::unbounded();
//! let total = Arc::new(Mutex::new(0));
//! let worker = {
//!     let total = Arc::clone(&total);
//!     thread::spawn(move || {
//!         for n in rx.iter() {
//!             *total.lock().unwrap() += n;
//!         }
//!     })
//! };
//! for n in 1..=3 {
//!     tx.send(n).unwrap();
//! }
//! drop(tx); // the last sender gone: the worker's loop ends
//! worker.join().unwrap();
//! assert_eq!(*total.lock().unwrap(), 6);
//! ```
//!
//! Time is not modelled by loom: keep `Instant`, sleeps and timeouts out of the code a model
//! reaches (take the current time as a parameter instead). Under loom the `*_timeout`
//! channel methods panic with an explanation.

// Each name is listed once: `imp` is std in the ordinary build and loom in the model build.
// The model build needs both the `loom` feature and `--cfg workbook_loom` (which only the
// checker passes), so an editor or a `cargo test --all-features` never switches it on.
#[cfg(not(all(feature = "loom", workbook_loom)))]
use std as imp;

#[cfg(all(feature = "loom", workbook_loom))]
use loom as imp;

pub use imp::sync::{
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, WaitTimeoutResult,
};

/// The same type in both builds (nothing here blocks or shares memory).
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// `true` in the model-check build. Tests use it to shrink their sizes under loom.
pub const MODEL_CHECKED: bool = cfg!(all(feature = "loom", workbook_loom));

/// Atomic integers and booleans (`std::sync::atomic`, or loom's).
pub mod atomic {
    pub use super::imp::sync::atomic::{
        AtomicBool, AtomicI32, AtomicI64, AtomicIsize, AtomicU32, AtomicU64, AtomicUsize, fence,
    };

    /// The same type in both builds.
    pub use std::sync::atomic::Ordering;
}

/// Threads (`std::thread`, or loom's).
///
/// In both builds a thread that panics ends and its `join` returns `Err(payload)`, as in std,
/// when the panic is one a test caused on purpose (see `catch_deliberate_panics`); under
/// loom any other panic still fails the model.
pub mod thread {
    #[cfg(not(feature = "loom"))]
    use std::thread as spawning;

    #[cfg(feature = "loom")]
    mod spawning;

    pub use super::imp::thread::{Thread, ThreadId, current, panicking, park, yield_now};
    pub use spawning::{Builder, JoinHandle, spawn};

    /// The same type in both builds.
    pub use std::thread::Result;

    /// For the checker's test harness, not for pools: tells the model-check build which panics
    /// a test causes on purpose. Loom's own threads let every panic escape and fail the model;
    /// with this set, a thread whose panic `is_deliberate` accepts ends the std way instead (its
    /// `join` returns `Err(payload)`), so a model can show what a pool does when a job panics.
    /// Only the first call counts (the harness makes it before any test code runs); in the
    /// ordinary build it does nothing, since std already behaves so.
    #[doc(hidden)]
    pub fn catch_deliberate_panics(is_deliberate: fn(&(dyn std::any::Any + Send)) -> bool) {
        #[cfg(feature = "loom")]
        spawning::set_deliberate(is_deliberate);
        #[cfg(not(feature = "loom"))]
        let _ = is_deliberate;
    }
}

/// Multi-producer, multi-consumer channels with crossbeam-channel's API.
///
/// Both ends are `Clone`. Receiving fails once every [`Sender`] is gone and the queue is
/// empty; sending fails once every [`Receiver`] is gone. `bounded(0)` is a rendezvous:
/// a send completes only when a receiver takes the message.
pub mod channel {
    #[cfg(not(all(feature = "loom", workbook_loom)))]
    use crossbeam_channel as imp;

    #[cfg(all(feature = "loom", workbook_loom))]
    mod modelled;
    #[cfg(all(feature = "loom", workbook_loom))]
    use modelled as imp;

    pub use imp::{IntoIter, Iter, Receiver, Sender, TryIter, bounded, unbounded};

    /// The same types in both builds.
    pub use crossbeam_channel::{
        RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
    };
}
