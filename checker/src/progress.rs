//! What a long run is doing, on stderr: one line per phase always, and on a terminal a
//! spinner while cargo builds and a bar while the tests run. Stdout stays the report's own
//! (one JSON object with `--json`).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::grade::TestReport;

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Starts the clock of [`phase`] (at the top of `main`).
pub fn start_clock() {
    START.get_or_init(Instant::now);
}

/// With `CHECKER_TIMINGS` set, prints on stderr how long the run has taken when it reaches
/// `what`: where the time of a check goes, for whoever tunes the checker.
pub fn phase(what: &str) {
    if std::env::var_os("CHECKER_TIMINGS").is_some() {
        let start = START.get_or_init(Instant::now);
        eprintln!(
            "checker timings: {what} at {:.3} s",
            start.elapsed().as_secs_f64()
        );
    }
}

/// Progress for one grading run. The two tiers build at once, each with its spinner.
pub struct Progress {
    terminal: bool,
    quiet: bool,
    bars: MultiProgress,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            quiet: quiet || std::env::var_os("CHECKER_QUIET").is_some(),
            bars: MultiProgress::new(),
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        if self.terminal {
            // Above the spinners, which stay at the bottom.
            let _ = self.bars.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    /// A build phase of `crates` generated crates (besides their dependencies).
    pub fn build(&self, what: &str, crates: usize) -> BuildBar {
        self.line(&format!("checker: {what}, {crates} crates …"));
        let bar = (self.terminal && !self.quiet).then(|| {
            let bar = self.bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {elapsed:>4} {msg}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(what.to_string());
            bar
        });
        BuildBar {
            bar,
            what: what.to_string(),
            start: Instant::now(),
            count: std::cell::Cell::new(0),
            quiet: self.quiet,
        }
    }

    /// Running `total` tests.
    pub fn tests(&self, total: usize) -> TestBar {
        if total > 0 {
            self.line(&format!(
                "checker: running {total} tests, each in its own process …"
            ));
        }
        let bar = (self.terminal && !self.quiet && total > 0).then(|| {
            let bar = self.bars.add(ProgressBar::new(total as u64));
            bar.set_style(
                ProgressStyle::with_template("  [{bar:30}] {pos}/{len} tests {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        TestBar { bar }
    }
}

/// Ticks while cargo compiles.
pub struct BuildBar {
    bar: Option<ProgressBar>,
    what: String,
    start: Instant,
    count: std::cell::Cell<usize>,
    quiet: bool,
}

impl BuildBar {
    pub fn compiled(&self, name: &str) {
        self.count.set(self.count.get() + 1);
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{}: compiled {} crates · {name}",
                self.what,
                self.count.get()
            ));
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let secs = self.start.elapsed().as_secs_f64();
        if secs > 5.0 && !self.quiet {
            eprintln!("checker: {}: done in {secs:.0}s", self.what);
        }
    }
}

/// Counts finished tests.
pub struct TestBar {
    bar: Option<ProgressBar>,
}

impl TestBar {
    pub fn finished(&self, report: &TestReport) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if !report.passed() {
                bar.set_message(format!("· last failure: {}", report.name));
            }
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
