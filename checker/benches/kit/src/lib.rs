//! What the workbook's benchmarks measure with.
//!
//! * [`Work`] — the workloads: tiny jobs (what handing one job to a worker costs), coarse
//!   CPU-bound jobs (what all cores buy), waiting jobs (I/O-like: a thread that sleeps).
//! * [`Subject`] — anything that runs `n` jobs on `w` workers: the reference pools (through
//!   the adapters in `benches/adapters/`), a student's pool (`cargo checker bench`), and the
//!   choices a Rust user would reach for instead ([`alternatives`]).
//! * [`stats`] — warm-up, interleaved rounds, medians and spreads, ratios taken round by round.
//! * [`plot`] — SVG charts (plotters' SVG backend: no fonts, no JavaScript).
//! * [`report`] — the experiments themselves, printed as tables and drawn as plots.
//!
//! Every figure is a **ratio measured in one run**: these machines are shared and noisy, so
//! an absolute time from one run says little about the next, but two subjects measured in
//! alternating rounds of the same run see the same noise.

pub mod alternatives;
pub mod checker;
pub mod plot;
pub mod report;
pub mod stats;
pub mod trace;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// What one job does. Plain data (`Copy`), so every subject runs exactly the same jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// A few instructions: the job is nothing, the hand-off is everything.
    Tiny,
    /// `n` rounds of a multiply-add chain the compiler cannot shorten: CPU-bound.
    Spin(u32),
    /// Sleeps this many microseconds: a job that waits (for a disk, a server) without
    /// using a core.
    Wait(u64),
}

impl Work {
    /// Runs job number `i`; the result depends on `i`, so a lost or repeated job changes
    /// the sum every subject reports.
    #[inline]
    pub fn run(self, i: u64) -> u64 {
        match self {
            Work::Tiny => (black_box(i) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 3,
            Work::Spin(rounds) => {
                let mut x = i;
                for _ in 0..rounds {
                    x = black_box(
                        x.wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407),
                    );
                }
                x
            }
            Work::Wait(micros) => {
                std::thread::sleep(Duration::from_micros(micros));
                i
            }
        }
    }

    /// The sum of every job's result, computed on this thread (not timed).
    pub fn expected(self, jobs: u64) -> u64 {
        match self {
            // Waiting would take as long as the jobs do; its results are `i`.
            Work::Wait(_) => (0..jobs).fold(0, u64::wrapping_add),
            _ => (0..jobs).map(|i| self.run(i)).fold(0, u64::wrapping_add),
        }
    }

    /// A CPU-bound job that takes about `target` on this machine (best of three
    /// calibration runs, so a busy moment does not make every job shorter).
    pub fn spin_for(target: Duration) -> Work {
        const PROBE: u32 = 200_000;
        let best = (0..3)
            .map(|_| {
                let start = Instant::now();
                black_box(Work::Spin(PROBE).run(1));
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::from_millis(1));
        let per_round = best.as_secs_f64() / f64::from(PROBE);
        let rounds = (target.as_secs_f64() / per_round.max(1e-12)).round();
        Work::Spin(rounds.clamp(1.0, f64::from(u32::MAX)) as u32)
    }

    /// A short description for tables.
    pub fn describe(self) -> String {
        match self {
            Work::Tiny => "tiny jobs".to_string(),
            Work::Spin(rounds) => format!("CPU-bound jobs ({rounds} multiply-adds)"),
            Work::Wait(micros) => format!("waiting jobs ({micros} µs asleep)"),
        }
    }
}

/// Something that runs jobs on worker threads.
pub trait Subject: Sync {
    /// The name in tables and plots.
    fn name(&self) -> String;

    /// Runs jobs `0..jobs` (job `i` computes `work.run(i)`) on `workers` worker threads and
    /// returns once every job has run: the wrapping sum of their results, or `None` when
    /// this subject gives no results back (it has checked another way that every job ran).
    ///
    /// # Errors
    /// A description of what went wrong (a pool that refused a job, lost one, …).
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String>;
}

/// Runs `subject` once and checks its answer: wall time per job, in nanoseconds.
///
/// # Errors
/// The subject's own error, or a wrong sum (a job lost, run twice, or given a wrong input).
pub fn time_per_job(
    subject: &dyn Subject,
    workers: usize,
    jobs: u64,
    work: Work,
    expected: u64,
) -> Result<f64, String> {
    let start = Instant::now();
    let sum = subject.run(workers, jobs, work)?;
    let elapsed = start.elapsed();
    if let Some(sum) = sum
        && sum != expected
    {
        return Err(format!(
            "{}: the results of {jobs} jobs add up to {sum}, expected {expected}: a job was \
             lost, run twice or given the wrong input",
            subject.name()
        ));
    }
    Ok(elapsed.as_nanos() as f64 / jobs.max(1) as f64)
}
