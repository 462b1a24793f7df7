//! The reference `priority` pool as a bench subject (the adapter is shared with
//! `cargo checker bench priority`, which compiles it against the student's crate instead).

pub use ::priority;

#[path = "../adapters/priority.rs"]
mod adapter;
pub use adapter::*;
