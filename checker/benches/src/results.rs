//! The reference `results` pool as a bench subject (the adapter is shared with
//! `cargo checker bench results`, which compiles it against the student's crate instead).

pub use ::results;

#[path = "../adapters/results.rs"]
mod adapter;
pub use adapter::*;
