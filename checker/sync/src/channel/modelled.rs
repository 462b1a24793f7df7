//! A multi-producer, multi-consumer channel built on loom's `Mutex` and `Condvar`, so loom
//! sees every block and wake-up. It mirrors crossbeam-channel's API and error types.
//!
//! crossbeam-channel itself cannot run under loom (its blocking is invisible to loom: a `recv`
//! on an empty channel spins instead of being reported as a deadlock), and `loom::sync::mpsc`
//! is single-consumer and unbounded. Correctness matters more than speed here: every state
//! change wakes all waiters. Blocking methods are `#[track_caller]`, so loom's deadlock
//! report names the line in the pool's code that is waiting, not a line in this file.
//!
//! Loom switches threads only where something another thread can observe happens, so the
//! channel keeps its own steps out of loom's way:
//! - its shared state is held by a `std::sync::Arc`, not loom's: every end counts itself in
//!   and out under the channel's loom `Mutex`, so a loom `Arc` would only add a scheduling
//!   point per clone and drop of an end, and races between those decrements that decide
//!   nothing;
//! - it waits and notifies with the workbook's patched loom's `wait_holding_lock` and
//!   `notify_all_holding_lock` (see `checker/vendor/loom/PATCHED.md`): the channel holds its
//!   mutex whenever it does either, so a switch just before them could only repeat
//!   interleavings.
//!
//! Every ordering of the channel's operations is still explored; buffered's largest models
//! run in about a third of the time they took with loom's `Arc` and plain `notify_all`.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use std::sync::Arc;

use loom::sync::{Condvar, Mutex, MutexGuard};

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receivers: usize,
    /// Receivers blocked in `recv`; a zero-capacity `try_send` succeeds only for them.
    waiting_receivers: usize,
    /// Messages ever pushed / popped; a rendezvous sender waits for its own ticket.
    pushed: u64,
    popped: u64,
}

struct Chan<T> {
    /// `None` for unbounded; `Some(0)` for a rendezvous channel.
    cap: Option<usize>,
    state: Mutex<State<T>>,
    /// Signalled when a message arrives or the last sender leaves.
    readable: Condvar,
    /// Signalled when a message leaves or the last receiver leaves.
    writable: Condvar,
}

impl<T> Chan<T> {
    #[track_caller]
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The channel's own code never panics while holding the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many messages may sit in the queue before a sender must wait.
    fn room(&self) -> usize {
        match self.cap {
            None => usize::MAX,
            Some(cap) => cap.max(1),
        }
    }
}

fn new_chan<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        cap,
        state: Mutex::new(State {
            queue: VecDeque::new(),
            senders: 1,
            receivers: 1,
            waiting_receivers: 0,
            pushed: 0,
            popped: 0,
        }),
        readable: Condvar::new(),
        writable: Condvar::new(),
    });
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// Creates a channel of unbounded capacity.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new_chan(None)
}

/// Creates a channel of bounded capacity; `cap == 0` makes a rendezvous channel.
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    new_chan(Some(cap))
}

/// The sending side of a channel.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving side of a channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Blocks until the message is queued (or, for `bounded(0)`, taken by a receiver).
    #[track_caller]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        loop {
            if s.receivers == 0 {
                return Err(SendError(msg));
            }
            if s.queue.len() < chan.room() {
                break;
            }
            s = chan
                .writable
                .wait_holding_lock(s)
                .unwrap_or_else(|e| e.into_inner());
        }
        s.queue.push_back(msg);
        s.pushed += 1;
        let ticket = s.pushed;
        chan.readable.notify_all_holding_lock();
        if chan.cap == Some(0) {
            // Rendezvous: wait until a receiver has taken this very message.
            while s.popped < ticket {
                if s.receivers == 0 {
                    // Only one message is ever in flight, so it is the one at the back.
                    let msg = s.queue.pop_back().expect("rendezvous message still queued");
                    s.pushed -= 1;
                    return Err(SendError(msg));
                }
                s = chan
                    .writable
                    .wait_holding_lock(s)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        Ok(())
    }

    /// Queues the message only if that needs no waiting; otherwise hands it back.
    #[track_caller]
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        if s.receivers == 0 {
            return Err(TrySendError::Disconnected(msg));
        }
        let fits = match chan.cap {
            Some(0) => s.waiting_receivers > s.queue.len(),
            _ => s.queue.len() < chan.room(),
        };
        if !fits {
            return Err(TrySendError::Full(msg));
        }
        s.queue.push_back(msg);
        s.pushed += 1;
        chan.readable.notify_all_holding_lock();
        Ok(())
    }

    /// Not available under loom: loom does not model time.
    pub fn send_timeout(&self, _msg: T, _timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        panic!("{}", NO_TIME)
    }
}

impl<T> Receiver<T> {
    /// Blocks until a message arrives; fails once the channel is empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        loop {
            if let Some(msg) = s.queue.pop_front() {
                s.popped += 1;
                chan.writable.notify_all_holding_lock();
                return Ok(msg);
            }
            if s.senders == 0 {
                return Err(RecvError);
            }
            s.waiting_receivers += 1;
            s = chan
                .readable
                .wait_holding_lock(s)
                .unwrap_or_else(|e| e.into_inner());
            s.waiting_receivers -= 1;
        }
    }

    /// Takes a message if one is waiting.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        match s.queue.pop_front() {
            Some(msg) => {
                s.popped += 1;
                chan.writable.notify_all_holding_lock();
                Ok(msg)
            }
            None if s.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Not available under loom: loom does not model time.
    pub fn recv_timeout(&self, _timeout: Duration) -> Result<T, RecvTimeoutError> {
        panic!("{}", NO_TIME)
    }

    /// A blocking iterator that ends when the channel is empty and disconnected.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the messages waiting right now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

const NO_TIME: &str = "timeouts are not available in the model-checked build: loom does not \
    model time. Keep timeouts out of the code a loom model reaches (take time as a parameter).";

/// The same queries on both ends of a channel.
macro_rules! queries {
    ($end:ident) => {
        impl<T> $end<T> {
            /// Number of messages waiting in the channel. Like crossbeam-channel, always 0
            /// for a zero-capacity channel: a message being handed over is not "in" it.
            pub fn len(&self) -> usize {
                match self.chan.cap {
                    Some(0) => 0,
                    _ => self.chan.lock().queue.len(),
                }
            }

            /// `true` when no message is waiting (always, for a zero-capacity channel).
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// `true` when the channel holds `capacity` messages (always, for a
            /// zero-capacity channel, as in crossbeam-channel).
            pub fn is_full(&self) -> bool {
                match self.chan.cap {
                    None => false,
                    Some(0) => true,
                    Some(cap) => self.len() >= cap,
                }
            }

            /// The channel's capacity, `None` when unbounded.
            pub fn capacity(&self) -> Option<usize> {
                self.chan.cap
            }
        }
    };
}

queries!(Sender);
queries!(Receiver);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.lock().senders += 1;
        Sender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.lock().receivers += 1;
        Receiver {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = self.chan.lock();
        s.senders -= 1;
        if s.senders == 0 {
            self.chan.readable.notify_all_holding_lock();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut s = self.chan.lock();
        s.receivers -= 1;
        if s.receivers == 0 {
            self.chan.writable.notify_all_holding_lock();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}

/// Blocking iterator returned by [`Receiver::iter`].
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator returned by [`Receiver::try_iter`].
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator returned by `Receiver::into_iter`.
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
