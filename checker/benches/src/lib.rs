//! The reference pools as bench subjects: one module per exercise, each the adapter in
//! `adapters/<slug>.rs` compiled against the reference solution. `cargo checker bench
//! <slug>` compiles the same adapter against a student's crate, so both run the same code.
//!
//! The measurements themselves: `benches/pools.rs` (`cargo bench -p workbook-benches`).

pub mod basic;
pub mod buffered;
pub mod dynamic;
pub mod errors;
pub mod metrics;
pub mod pipeline;
pub mod priority;
pub mod rate_limit;
pub mod results;
pub mod timeout;

/// Every reference pool's subjects, by exercise slug, in curriculum order.
pub fn references() -> Vec<(&'static str, Vec<Box<dyn bench_kit::Subject>>)> {
    vec![
        ("basic", basic::subjects()),
        ("buffered", buffered::subjects()),
        ("dynamic", dynamic::subjects()),
        ("priority", priority::subjects()),
        ("results", results::subjects()),
        ("errors", errors::subjects()),
        ("timeout", timeout::subjects()),
        ("rate-limit", rate_limit::subjects()),
        ("metrics", metrics::subjects()),
        ("pipeline", pipeline::subjects()),
    ]
}
