//! The reference `buffered` pool as a bench subject (the adapter is shared with
//! `cargo checker bench buffered`, which compiles it against the student's crate instead).

pub use ::buffered;

#[path = "../adapters/buffered.rs"]
mod adapter;
pub use adapter::*;
