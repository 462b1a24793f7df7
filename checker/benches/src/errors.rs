//! The reference `errors` pool as a bench subject (the adapter is shared with
//! `cargo checker bench`, which compiles it against the student's crate instead).

pub use ::errors;

#[path = "../adapters/errors.rs"]
mod adapter;
pub use adapter::*;
