//! The reference `rate_limit` pool as a bench subject (the adapter is shared with
//! `cargo checker bench`, which compiles it against the student's crate instead).

pub use ::rate_limit;

#[path = "../adapters/rate_limit.rs"]
mod adapter;
pub use adapter::*;
