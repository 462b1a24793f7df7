//! The reference `pipeline` pool as a bench subject (the adapter is shared with
//! `cargo checker bench`, which compiles it against the student's crate instead).

pub use ::pipeline;

#[path = "../adapters/pipeline.rs"]
mod adapter;
pub use adapter::*;
