//! The reference pools as bench subjects: one module per exercise, each the adapter in
//! `adapters/<slug>.rs` compiled against the reference solution. `cargo checker bench
//! <slug>` compiles the same adapter against a student's crate, so both run the same code.
//!
//! The measurements themselves: `benches/pools.rs` (`cargo bench -p workbook-benches`).

pub mod basic;
pub mod buffered;
pub mod dynamic;
pub mod metrics;
pub mod priority;
pub mod results;

/// Every reference pool's subjects, by exercise slug, in curriculum order.
pub fn references() -> Vec<(&'static str, Vec<Box<dyn bench_kit::Subject>>)> {
    vec![
        ("basic", basic::subjects()),
        ("buffered", buffered::subjects()),
        ("dynamic", dynamic::subjects()),
        ("priority", priority::subjects()),
        ("results", results::subjects()),
        ("metrics", metrics::subjects()),
    ]
}
