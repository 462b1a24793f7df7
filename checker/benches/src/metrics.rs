//! The reference `metrics` pool as a bench subject (the adapter is shared with
//! `cargo checker bench metrics`, which compiles it against the student's crate instead).

pub use ::metrics;

#[path = "../adapters/metrics.rs"]
mod adapter;
pub use adapter::*;
