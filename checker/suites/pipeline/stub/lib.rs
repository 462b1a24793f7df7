//! # Exercise 10 — a pipeline of worker pools
//!
//! Every pool so far ran one function. A pipeline runs several in a row: items go in at
//! one end, each **stage** transforms them (parse, then compute, then format, …) and the
//! results come out at the other end. Each stage is a worker pool of its own, with its own
//! number of workers (fan-out), and all its workers send into the same link to the next
//! stage (fan-in). Stages may change the item's type: `A → B → C`.
//!
//! ```text
//!  send ─▶ [link 0] ─┬─▶ stage 0 ─┬─▶ [link 1] ─┬─▶ stage 1 ─┬─▶ [link 2] ─▶ next()
//!                    └─▶ stage 0 ─┘             ├─▶ stage 1 ─┤
//!                                               └─▶ stage 1 ─┘
//! ```
//!
//! What the checker expects (every point below is tested):
//!
//! * **typed stages**: [`Pipeline::stage`] adds a stage of `workers` threads that run its
//!   function on every item. Its outputs, of any type, are the next stage's inputs, and the
//!   last stage's outputs are what [`Output`] yields;
//! * **fan-out from a shared link**: a stage's workers all take items from one link, so
//!   whichever worker is free takes the next item. In a pipeline that is not ordered, a slow
//!   item holds up only the worker running it: the other workers keep taking new items
//!   (dealing item `i` to worker `i % n`, as the seed does, fails this);
//! * **fan-in**: every worker of a stage sends into the same next link, and that link is
//!   closed only when the stage's *last* worker has finished;
//! * **bounded links**: every link holds at most its stated capacity (link 0 the `capacity`
//!   given to [`Pipeline::new`], each stage's output link the `capacity` given to its
//!   [`stage`](Pipeline::stage)). So at most *the sum of the capacities plus one item per
//!   worker* are in flight (accepted by [`Input::send`], not yet returned by [`Output`]).
//!   With a consumer that does not read, exactly that many are accepted and then the input
//!   is full;
//! * **closing**: closing (or dropping) the [`Input`] lets every stage finish every item it
//!   accepted, stage after stage, and then ends the output. Every item comes out exactly
//!   once; then `next` returns `None`;
//! * **order**: in an [`ordered`](Pipeline::ordered) pipeline, items come out in the order
//!   `send` accepted them, and enter every link in that order, whatever the worker counts;
//! * **early exit**: dropping the [`Output`] (or calling [`Output::finish`] before the end)
//!   stops every stage. After the stop no stage function is called again: items still in the
//!   links are discarded unprocessed. `send` hands items back, every worker thread is joined
//!   before the drop returns, and no thread panics or waits for ever;
//! * **errors**: a stage function that returns `Err` or panics stops the whole pipeline in
//!   the same way. The first failure is reported once, with its stage and the sequence number
//!   of the input item it came from; every other item still in the pipeline is counted as
//!   discarded, never handed back;
//! * **accounting**: every item `send` accepts is accounted for exactly once: returned by
//!   `next`, the one reported failure, or counted in [`Report::discarded`];
//! * a stage with no workers is an error.
//!
//! A stage function may panic: the pipeline catches the panic (it is a failure, see
//! [`StageError::Panicked`]). Call [`Output::finish`] to learn how the run ended.
//!
//! Import every sync primitive from `workbook_sync` (never `std::sync`, `std::thread` or
//! `crossbeam_channel` directly): the checker swaps them for loom's to prove your pipeline
//! never deadlocks, never loses an item and never leaks a thread.
//!
//! Read the book's chapter 10 first. Stuck? `cargo checker hint pipeline`.

use std::fmt;
use std::marker::PhantomData;

#[allow(unused_imports)]
use std::panic::{self, AssertUnwindSafe};
#[allow(unused_imports)]
use workbook_sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[allow(unused_imports)]
use workbook_sync::channel::{self, Receiver, Sender, TrySendError};
#[allow(unused_imports)]
use workbook_sync::thread::{self, JoinHandle};
#[allow(unused_imports)]
use workbook_sync::{Arc, Condvar, Mutex};

// ANCHOR: types
/// Why a pipeline could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The stage with this index (0 for the first stage added) has no workers: it would
    /// accept items and never process them.
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
    /// The function panicked. The panic's message when its payload is a `&str` or a
    /// `String` (what `panic!` makes), and [`NON_TEXT_PANIC`] for any other payload.
    Panicked(String),
}

/// The message of [`StageError::Panicked`] when the panic's payload is not text.
pub const NON_TEXT_PANIC: &str = "a stage panicked with a non-text payload";

/// The first failure of a run: which stage failed, on which item, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure<E> {
    /// The failing stage's index: 0 for the first stage added.
    pub stage: usize,
    /// The sequence number of the input item the failing item came from: 0 for the first
    /// item [`Input::send`] accepted, then 1, 2, … (items handed back get no number).
    pub seq: u64,
    pub error: StageError<E>,
}

/// How a run ended, from [`Output::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report<E> {
    /// Items [`Output`] returned as `Ok`.
    pub delivered: u64,
    /// Items accepted by [`Input::send`] that the pipeline dropped after a stop: found in a
    /// link or finished by a stage after the stop, or failed after the first failure.
    pub discarded: u64,
    /// The run's failure, if there was one and [`Output`] has not already returned it.
    pub failure: Option<Failure<E>>,
}

/// Why [`Input::try_send`] handed an item back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError<A> {
    /// The input link is full. Retry later, or use [`Input::send`], which waits.
    Full(A),
    /// The pipeline has stopped (the consumer dropped the [`Output`], or a stage failed).
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

/// A pipeline being built: items of type `A` go in, items of type `B` come out of the
/// stages added so far, and every stage function fails with errors of type `E`.
///
/// Nothing runs until [`Pipeline::build`]. A pipeline with no stage passes its items
/// through unchanged.
///
/// ```ignore
/// let (mut input, output) = Pipeline::<&str, _, ParseIntError>::new(8)
///     .stage(2, 8, |s: &str| s.trim().parse::<u64>())  // &str → u64, 2 workers
///     .stage(4, 8, |n: u64| Ok(n * n))                   // u64 → u64, 4 workers
///     .stage(1, 8, |n: u64| Ok(format!("<{n}>")))        // u64 → String, 1 worker
///     .build()?;
/// ```
pub struct Pipeline<A, B, E> {
    // TODO: replace this placeholder with what building needs (think: the capacities and
    // worker counts so far, whether it is ordered, and a way to start the stages added so
    // far — each `stage` call can wrap the previous one's).
    _todo: PhantomData<fn(A) -> Result<B, E>>,
}

/// The pipeline's input end. One producer: [`send`](Input::send) takes `&mut self` (share
/// it behind a `Mutex` if several threads must send).
///
/// Dropping it closes the input, like [`Input::close`].
pub struct Input<A> {
    // TODO: replace this placeholder (think: link 0's Sender, the next sequence number, and
    // how a stop that happens elsewhere reaches this handle and the workers of stage 0).
    _todo: PhantomData<A>,
}

/// The pipeline's output end: an iterator over the last stage's outputs, and the owner of
/// every worker thread.
///
/// Dropping it before the stream has ended stops the pipeline (see [`Output::finish`]).
pub struct Output<T, E> {
    // TODO: replace this placeholder (think: the last link's Receiver, what every stage
    // shares — the stop, the failure, the discard count — and the threads to join).
    _todo: PhantomData<(T, E)>,
}

// ANCHOR: builder
impl<A, E> Pipeline<A, A, E>
where
    A: Send + 'static,
    E: Send + 'static,
{
    /// Starts a pipeline whose input link (link 0) holds up to `capacity` items; `0` makes it
    /// a hand-off, where `send` waits for a worker of stage 0 to take the item.
    pub fn new(capacity: usize) -> Self {
        let _ = capacity;
        todo!("remember the input capacity; no stage yet")
    }
}

impl<A, B, E> Pipeline<A, B, E>
where
    A: Send + 'static,
    B: Send + 'static,
    E: Send + 'static,
{
    /// Adds a stage of `workers` threads that run `f` on every item, and whose outputs go into
    /// a link of `capacity` items (`0` for a hand-off) to the next stage, or to the
    /// [`Output`] if it is the last stage.
    ///
    /// `f` may return `Err` or panic: either is a failure that stops the pipeline (see
    /// [`Failure`]).
    pub fn stage<C, F>(self, workers: usize, capacity: usize, f: F) -> Pipeline<A, C, E>
    where
        C: Send + 'static,
        F: Fn(B) -> Result<C, E> + Send + Sync + 'static,
    {
        let _ = (workers, capacity, f);
        todo!("remember the stage: it starts when the pipeline is built")
    }

    /// Makes the whole pipeline order-preserving: items come out, and enter every link, in
    /// the order `send` accepted them.
    ///
    /// The reorder happens at each stage's fan-in: a worker that finishes an item before the
    /// items ahead of it have gone on waits, holding it, until they have. So order costs no
    /// buffer beyond the workers themselves, and the in-flight bound does not change.
    pub fn ordered(self) -> Self {
        todo!("remember that the pipeline is ordered")
    }

    /// Starts every stage and returns the pipeline's two ends.
    ///
    /// # Errors
    /// [`BuildError::NoWorkers`] naming the first stage (lowest index) that has
    /// `workers == 0`.
    pub fn build(self) -> Result<(Input<A>, Output<B, E>), BuildError> {
        todo!("start every stage's workers, linked by bounded channels")
    }
}
// ANCHOR_END: builder

// ANCHOR: input
impl<A> Input<A> {
    /// Sends an item into the pipeline, waiting while the input link is full; the item gets
    /// the next sequence number (0, 1, 2, …).
    ///
    /// # Errors
    /// Hands the item back (`Err(item)`) once the pipeline has stopped; a `send` that is
    /// waiting for room when the pipeline stops does not wait for ever.
    pub fn send(&mut self, item: A) -> Result<(), A> {
        let _ = item;
        todo!("send into link 0, unless the pipeline has stopped")
    }

    /// Like [`send`](Input::send), but never waits.
    ///
    /// # Errors
    /// [`InputError::Full`] when the input link is full, [`InputError::Stopped`] once the
    /// pipeline has stopped; either way the item comes back inside the error.
    pub fn try_send(&mut self, item: A) -> Result<(), InputError<A>> {
        let _ = item;
        todo!("like send, but a full input link hands the item back")
    }

    /// Closes the input: the stages finish every item already accepted, and then the output
    /// ends. Dropping the `Input` does the same.
    pub fn close(self) {
        todo!("close link 0")
    }
}

impl<A> Drop for Input<A> {
    /// Closes the input, like [`Input::close`].
    fn drop(&mut self) {
        // TODO: close link 0 (if `close` has not already).
    }
}
// ANCHOR_END: input

// ANCHOR: output
impl<T, E> Iterator for Output<T, E> {
    type Item = Result<T, Failure<E>>;

    /// Blocks until the last stage's next output is ready and returns it as `Ok`.
    ///
    /// Returns `None` once the input is closed and every item has come out. After a failure,
    /// returns `Some(Err(failure))` once — after every stage has stopped — and then `None`;
    /// items that reach the output after the failure are discarded.
    fn next(&mut self) -> Option<Result<T, Failure<E>>> {
        todo!("receive from the last link; after a stop, report the failure and end")
    }
}

impl<T, E> Output<T, E> {
    /// Stops the pipeline unless the stream has ended, joins every worker thread, and reports
    /// how the run ended.
    ///
    /// The report's `failure` is the run's failure if `next` has not already returned it
    /// (a failure is reported exactly once).
    pub fn finish(self) -> Report<E> {
        todo!("stop unless ended, drain the last link, join the workers, report")
    }
}

impl<T, E> Drop for Output<T, E> {
    /// Stops the pipeline unless the stream has ended, and joins every worker thread.
    fn drop(&mut self) {
        // TODO: stop (if not ended), drain the last link, join every worker.
    }
}
// ANCHOR_END: output
