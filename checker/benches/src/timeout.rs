//! The reference `timeout` pool as a bench subject (the adapter is shared with
//! `cargo checker bench`, which compiles it against the student's crate instead).

pub use ::timeout;

#[path = "../adapters/timeout.rs"]
mod adapter;
pub use adapter::*;
