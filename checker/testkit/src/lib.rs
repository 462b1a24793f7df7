//! Shared by every hidden suite, so no suite copies a helper.
//!
//! * [`harness`] — the trusted test runner the checker builds each suite into;
//! * [`clock`] — a hand-moved clock that knows who sleeps on it (injected-clock exercises);
//! * [`check`] — assertions whose messages teach what went wrong in a pool;
//! * [`gate`] — hand-operated gates and thread-exit probes for ordering tests without sleeps;
//! * [`model`] — loom model settings (model-check tier only);
//! * [`time`] — tokio runtimes with a paused clock (feature `tokio`).

pub mod check;
pub mod clock;
pub mod confine;
pub mod gate;
pub mod harness;
#[cfg(feature = "loom")]
pub mod model;
#[cfg(feature = "tokio")]
pub mod time;

pub use harness::{
    DeliberatePayload, Record, count_unplanned_panics, panic_on_purpose,
    panic_on_purpose_with_payload, panic_on_purpose_with_string,
};
#[cfg(feature = "loom")]
pub use model::{model, model_with_bound};
/// Shadows the built-in `#[test]` inside the harness; see the `testkit-macros` crate.
pub use testkit_macros::test;
