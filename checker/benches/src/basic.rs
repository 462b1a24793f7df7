//! The reference `basic` pool as a bench subject (the adapter is shared with
//! `cargo checker bench basic`, which compiles it against the student's crate instead).

pub use ::basic;

#[path = "../adapters/basic.rs"]
mod adapter;
pub use adapter::*;
