//! Loom model settings shared by every suite (model-check tier only).
//!
//! Unbounded exploration of even a 2-worker pool runs for hours; a preemption bound of 2–3
//! finds the classic pool bugs (measured: bound 1 missed a `notify_one`-on-disconnect bug).
//! Loom's own silent caps (`LOOM_MAX_DURATION`, permutation limits) are never set: the
//! checker clears `LOOM_*` from a test's environment, so a model either finishes or fails.

/// The bound every model uses unless it says otherwise.
pub const DEFAULT_PREEMPTION_BOUND: usize = 2;

/// Explores `f` under loom with the default preemption bound, reporting file:line locations.
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    model_with_bound(DEFAULT_PREEMPTION_BOUND, f);
}

/// Like [`model`], with an explicit preemption bound (keep it at 3 or below).
pub fn model_with_bound<F>(bound: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.location = true;
    if std::env::var_os("WORKBOOK_LOOM_TRACE").is_some() {
        // A replay of one failing execution (see the checker's `timeline`): loom's scheduling
        // events, on stderr, for the checker to turn into a per-thread timeline.
        builder.log = true;
        let subscriber = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        let _guard = tracing_subscriber::util::SubscriberInitExt::set_default(subscriber);
        builder.check(f);
        return;
    }
    builder.check(f);
}
