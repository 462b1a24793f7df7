//! The reference `dynamic` pool as a bench subject (the adapter is shared with
//! `cargo checker bench dynamic`, which compiles it against the student's crate instead).

pub use ::dynamic;

#[path = "../adapters/dynamic.rs"]
mod adapter;
pub use adapter::*;
