//! Exercise 10 — a pipeline of worker pools (reference solution).
//!
//! Each link is a bounded channel carrying `(seq, item)`. A stage is a set of workers that
//! all receive from the link before them (fan-out: whoever is free takes the next item) and
//! all hold a clone of the link after them (fan-in: the link closes when the last clone is
//! dropped, that is when the stage's last worker has finished). Closing the input therefore
//! ripples down the pipeline stage by stage, and nothing needs a coordinator thread.
//!
//! A stop (the consumer leaving, or a stage failing) sets one shared flag and closes the
//! input link from the inside. Workers keep *draining* their links after the stop — taking
//! items and dropping them unprocessed, counting each — until the link before them closes.
//! So the stop ripples down exactly like a close, every blocked `send` and `recv` is woken
//! by the one it waits for, and no item disappears uncounted inside a dropped channel.
//!
//! Ordered mode puts each stage's outputs back in sequence at its fan-in: a worker sends its
//! result only when the stage's turn counter has reached the result's sequence number. Items
//! leave a shared link in FIFO order, so the item whose turn it is is always held by a
//! worker of the same stage that will get to it: waiting never deadlocks, and the waiting
//! worker's hand is the only reorder buffer.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use workbook_sync::atomic::{AtomicBool, AtomicU64, Ordering};
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
use workbook_sync::thread::{self, JoinHandle};
use workbook_sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

// ANCHOR: types
/// Why a pipeline could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The stage with this index (0 for the first stage added) has no workers.
    NoWorkers { stage: usize },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoWorkers { stage } => write!(f, "stage {stage} has no workers"),
        }
    }
}

impl std::error::Error for BuildError {}

/// How a stage function failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageError<E> {
    /// The function returned `Err(e)`.
    Failed(E),
    /// The function panicked: the panic's message, or [`NON_TEXT_PANIC`].
    Panicked(String),
}

/// The message of [`StageError::Panicked`] when the panic's payload is not text.
pub const NON_TEXT_PANIC: &str = "a stage panicked with a non-text payload";

/// The first failure of a run: which stage failed, on which item, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure<E> {
    /// The failing stage's index: 0 for the first stage added.
    pub stage: usize,
    /// The sequence number of the input item the failing item came from.
    pub seq: u64,
    pub error: StageError<E>,
}

/// How a run ended, from [`Output::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report<E> {
    /// Items [`Output`] returned as `Ok`.
    pub delivered: u64,
    /// Items accepted and then dropped by the pipeline after a stop.
    pub discarded: u64,
    /// The run's failure, if there was one and [`Output`] has not already returned it.
    pub failure: Option<Failure<E>>,
}

/// Why [`Input::try_send`] handed an item back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError<A> {
    /// The input link is full.
    Full(A),
    /// The pipeline has stopped.
    Stopped(A),
}

impl<A> InputError<A> {
    /// The item that was handed back.
    pub fn into_inner(self) -> A {
        match self {
            InputError::Full(item) | InputError::Stopped(item) => item,
        }
    }
}
// ANCHOR_END: types

/// What travels through a link: the item's sequence number, and the item.
type Msg<T> = (u64, T);

/// Starts the stages added so far on link 0's receiver, pushing their threads into the
/// vector, and returns the receiver of the last link.
type Start<A, B, E> = Box<
    dyn FnOnce(Receiver<Msg<A>>, &Arc<Shared<E>>, &mut Vec<JoinHandle<()>>) -> Receiver<Msg<B>>
        + Send,
>;

/// A pipeline being built: `A` goes in, `B` comes out of the stages so far, `E` is the
/// stage functions' error type.
pub struct Pipeline<A, B, E> {
    capacity: usize,
    ordered: bool,
    stages: usize,
    /// The first invalid stage, reported by `build`.
    error: Option<BuildError>,
    start: Start<A, B, E>,
}

/// The pipeline's input end.
pub struct Input<A> {
    /// Link 0's only `Sender`, shared with the pipeline so that a stop can close the link
    /// from the inside (that is what wakes stage 0's workers waiting for an item).
    link: Arc<Mutex<Option<Sender<Msg<A>>>>>,
    next_seq: u64,
}

/// The pipeline's output end, and the owner of every worker thread.
pub struct Output<T, E> {
    from: Receiver<Msg<T>>,
    shared: Arc<Shared<E>>,
    workers: Vec<JoinHandle<()>>,
    delivered: u64,
    /// `next` has seen the last link close (or the pipeline has been wound up).
    ended: bool,
}

// ANCHOR: shared
/// What every worker and the output share.
struct Shared<E> {
    ordered: bool,
    /// Set once, by the first stop; checked by every worker before each item.
    stopped: AtomicBool,
    discarded: AtomicU64,
    state: Mutex<State<E>>,
    /// Signalled when a stage's turn moves on, and on the stop.
    turn_moved: Condvar,
    /// Drops the input's `Sender`: link 0 closes as soon as no `send` is under way.
    close_input: Box<dyn Fn() + Send + Sync>,
}

struct State<E> {
    stopped: bool,
    failure: Option<Failure<E>>,
    /// Ordered mode: the sequence number each stage must send next.
    turns: Vec<u64>,
}

impl<E> Shared<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // Nothing panics while holding this lock, but a poisoned lock must not cascade.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn discard(&self) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
    }

    /// Stops the pipeline, recording `failure` as the run's failure. Returns `false` (and
    /// records nothing) if it had already stopped.
    fn stop(&self, failure: Option<Failure<E>>) -> bool {
        {
            let mut state = self.lock();
            if state.stopped {
                return false;
            }
            state.stopped = true;
            state.failure = failure;
            self.stopped.store(true, Ordering::Release);
        }
        // Workers waiting for their turn give up; stage 0's workers see link 0 close.
        self.turn_moved.notify_all();
        (self.close_input)();
        true
    }

    /// A stage failed: the first failure stops everything, a later one is just discarded.
    fn fail(&self, failure: Failure<E>) {
        if !self.stop(Some(failure)) {
            self.discard();
        }
    }

    /// Ordered mode: waits until it is `seq`'s turn to leave `stage`. `false` if the
    /// pipeline stopped first.
    fn wait_turn(&self, stage: usize, seq: u64) -> bool {
        let mut state = self.lock();
        while !state.stopped && state.turns[stage] != seq {
            state = self
                .turn_moved
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        !state.stopped
    }

    fn next_turn(&self, stage: usize) {
        self.lock().turns[stage] += 1;
        self.turn_moved.notify_all();
    }

    fn take_failure(&self) -> Option<Failure<E>> {
        self.lock().failure.take()
    }
}
// ANCHOR_END: shared

// ANCHOR: worker
/// One worker of stage `stage`: takes items from `from` until it closes, sends each output
/// to `to`. After a stop it keeps draining `from`, dropping (and counting) every item.
fn work<B, C, E, F>(
    stage: usize,
    from: &Receiver<Msg<B>>,
    to: &Sender<Msg<C>>,
    f: &F,
    shared: &Shared<E>,
) where
    F: Fn(B) -> Result<C, E>,
{
    for (seq, item) in from.iter() {
        if shared.is_stopped() {
            // Nobody will read this item's result: never run it.
            shared.discard();
            continue;
        }
        let error = match panic::catch_unwind(AssertUnwindSafe(|| f(item))) {
            Ok(Ok(output)) => {
                if shared.ordered && !shared.wait_turn(stage, seq) {
                    shared.discard();
                    continue;
                }
                // Never `unwrap` a send; here it cannot fail (the next stage drains its link
                // until it closes), but a lost item must still be counted.
                if to.send((seq, output)).is_err() {
                    shared.discard();
                }
                if shared.ordered {
                    shared.next_turn(stage);
                }
                continue;
            }
            Ok(Err(e)) => StageError::Failed(e),
            Err(payload) => StageError::Panicked(panic_message(payload)),
        };
        shared.fail(Failure { stage, seq, error });
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast_ref::<&str>() {
            Some(message) => (*message).to_string(),
            None => NON_TEXT_PANIC.to_string(),
        },
    }
}
// ANCHOR_END: worker

// ANCHOR: builder
impl<A, E> Pipeline<A, A, E>
where
    A: Send + 'static,
    E: Send + 'static,
{
    /// Starts a pipeline whose input link holds up to `capacity` items.
    pub fn new(capacity: usize) -> Self {
        Pipeline {
            capacity,
            ordered: false,
            stages: 0,
            error: None,
            // No stage yet: what comes out is link 0 itself.
            start: Box::new(|link0, _, _| link0),
        }
    }
}

impl<A, B, E> Pipeline<A, B, E>
where
    A: Send + 'static,
    B: Send + 'static,
    E: Send + 'static,
{
    /// Adds a stage of `workers` threads running `f`, whose outputs go into a link of
    /// `capacity` items.
    pub fn stage<C, F>(self, workers: usize, capacity: usize, f: F) -> Pipeline<A, C, E>
    where
        C: Send + 'static,
        F: Fn(B) -> Result<C, E> + Send + Sync + 'static,
    {
        let index = self.stages;
        let error = self
            .error
            .or((workers == 0).then_some(BuildError::NoWorkers { stage: index }));
        let earlier = self.start;
        let start: Start<A, C, E> = Box::new(move |link0, shared, threads| {
            let from = earlier(link0, shared, threads);
            let (to, next) = channel::bounded(capacity);
            let f = Arc::new(f);
            for _ in 0..workers {
                let (from, to) = (from.clone(), to.clone());
                let (f, shared) = (Arc::clone(&f), Arc::clone(shared));
                threads.push(thread::spawn(move || work(index, &from, &to, &*f, &shared)));
            }
            // The originals of `from` and `to` are dropped here: only the workers hold this
            // stage's ends, so `next` closes when the stage's last worker is done.
            next
        });
        Pipeline {
            capacity: self.capacity,
            ordered: self.ordered,
            stages: index + 1,
            error,
            start,
        }
    }

    /// Makes the whole pipeline order-preserving.
    pub fn ordered(mut self) -> Self {
        self.ordered = true;
        self
    }

    /// Starts every stage and returns the pipeline's two ends.
    ///
    /// # Errors
    /// [`BuildError::NoWorkers`] for the first stage without workers.
    pub fn build(self) -> Result<(Input<A>, Output<B, E>), BuildError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let (tx, link0) = channel::bounded(self.capacity);
        let link = Arc::new(Mutex::new(Some(tx)));
        let closer = Arc::clone(&link);
        let shared = Arc::new(Shared {
            ordered: self.ordered,
            stopped: AtomicBool::new(false),
            discarded: AtomicU64::new(0),
            state: Mutex::new(State {
                stopped: false,
                failure: None,
                turns: vec![0; self.stages],
            }),
            turn_moved: Condvar::new(),
            close_input: Box::new(move || {
                closer.lock().unwrap_or_else(PoisonError::into_inner).take();
            }),
        });
        let mut workers = Vec::new();
        let from = (self.start)(link0, &shared, &mut workers);
        let input = Input { link, next_seq: 0 };
        let output = Output {
            from,
            shared,
            workers,
            delivered: 0,
            ended: false,
        };
        Ok((input, output))
    }
}
// ANCHOR_END: builder

// ANCHOR: input
impl<A> Input<A> {
    /// A clone of link 0's `Sender`, unless the input is closed or the pipeline stopped.
    /// The lock is held only to clone: a `send` that waits for room must not keep a stop
    /// from closing the link.
    fn sender(&self) -> Option<Sender<Msg<A>>> {
        self.link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends an item, waiting while the input link is full.
    ///
    /// # Errors
    /// Hands the item back once the pipeline has stopped.
    pub fn send(&mut self, item: A) -> Result<(), A> {
        let Some(tx) = self.sender() else {
            return Err(item);
        };
        tx.send((self.next_seq, item))
            .map_err(|e| e.into_inner().1)?;
        self.next_seq += 1;
        Ok(())
    }

    /// Like [`send`](Input::send), but never waits.
    ///
    /// # Errors
    /// [`InputError::Full`] when the input link is full, [`InputError::Stopped`] once the
    /// pipeline has stopped.
    pub fn try_send(&mut self, item: A) -> Result<(), InputError<A>> {
        let Some(tx) = self.sender() else {
            return Err(InputError::Stopped(item));
        };
        match tx.try_send((self.next_seq, item)) {
            Ok(()) => {
                self.next_seq += 1;
                Ok(())
            }
            Err(TrySendError::Full((_, item))) => Err(InputError::Full(item)),
            Err(TrySendError::Disconnected((_, item))) => Err(InputError::Stopped(item)),
        }
    }

    /// Closes the input: the stages finish every item accepted, then the output ends.
    pub fn close(self) {
        // Drop does it.
    }
}

impl<A> Drop for Input<A> {
    fn drop(&mut self) {
        self.link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}
// ANCHOR_END: input

// ANCHOR: output
impl<T, E> Iterator for Output<T, E> {
    type Item = Result<T, Failure<E>>;

    /// The last stage's next output; after a failure, the failure once; then `None`.
    fn next(&mut self) -> Option<Result<T, Failure<E>>> {
        if self.ended {
            return None;
        }
        while let Ok((_, item)) = self.from.recv() {
            if self.shared.is_stopped() {
                self.shared.discard();
                continue;
            }
            self.delivered += 1;
            return Some(Ok(item));
        }
        // The last link closed: every stage has finished (or stopped and drained).
        self.ended = true;
        self.shared.take_failure().map(Err)
    }
}

impl<T, E> Output<T, E> {
    /// Stops the pipeline unless the stream has ended, joins every worker thread, and
    /// reports how the run ended.
    pub fn finish(mut self) -> Report<E> {
        self.wind_up();
        Report {
            delivered: self.delivered,
            discarded: self.shared.discarded.load(Ordering::Relaxed),
            failure: self.shared.take_failure(),
        }
    }

    fn wind_up(&mut self) {
        if !self.ended {
            // The consumer is leaving early: stop, then drain the last link until it
            // closes, so no worker waits on it and every item left is counted.
            self.shared.stop(None);
            for _ in self.from.iter() {
                self.shared.discard();
            }
            self.ended = true;
        }
        for worker in self.workers.drain(..) {
            // Workers catch every panic of a stage function; a join error cannot happen.
            let _ = worker.join();
        }
    }
}

impl<T, E> Drop for Output<T, E> {
    fn drop(&mut self) {
        self.wind_up();
    }
}
// ANCHOR_END: output
