//! What metrics cost: the reference `MetricsPool` against the same pool without metrics
//! (same channel, same workers, same `catch_unwind`), on tiny jobs.
//!
//! ```sh
//! cargo bench -p metrics-solution --bench overhead
//! ```
//!
//! Each configuration is measured as wall time per job over `JOBS` jobs (submit them all
//! from one thread, then shut down), after warm-up rounds, in `SAMPLES` rounds that
//! interleave the pools so drift hits them alike. It prints the median and the spread
//! (min–max) of the time per job, and the ratio of medians against the plain pool.
//!
//! Two clocks separate the two costs of metrics: `SystemClock` (three clock readings per
//! job: at submit, when a worker takes the job, when it returns) and a clock that never
//! moves (`|| Duration::ZERO`), which leaves only the bookkeeping: counts, histogram
//! buckets, the throughput ring, the per-worker locks and the high-water mark.

use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use metrics::{Config, MetricsPool, SystemClock, Window};
use workbook_sync::channel;
use workbook_sync::thread::{self, JoinHandle};

const WORKERS: usize = 2;
const JOBS: u64 = 200_000;
const WARM_UP: usize = 2;
const SAMPLES: usize = 11;

/// The same pool without metrics: an unbounded queue, workers that run each job under
/// `catch_unwind` and look at the outcome.
struct PlainPool<J> {
    jobs: Option<channel::Sender<J>>,
    workers: Vec<JoinHandle<()>>,
}

impl<J: Send + 'static> PlainPool<J> {
    fn new<F>(workers: usize, process: F) -> Self
    where
        F: Fn(J) -> Result<(), ()> + Send + Sync + 'static,
    {
        let (tx, rx) = channel::unbounded::<J>();
        let process = std::sync::Arc::new(process);
        let workers = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                let process = std::sync::Arc::clone(&process);
                thread::spawn(move || {
                    for job in rx.iter() {
                        let outcome = catch_unwind(AssertUnwindSafe(|| process(job)));
                        black_box(matches!(outcome, Ok(Ok(()))));
                    }
                })
            })
            .collect();
        PlainPool {
            jobs: Some(tx),
            workers,
        }
    }

    fn submit(&self, job: J) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    fn shutdown(mut self) {
        drop(self.jobs.take());
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A job of about `work` multiply-adds (0: nothing but returning `Ok`).
fn job(work: u32) -> impl Fn(u64) -> Result<(), ()> + Send + Sync + 'static {
    move |n| {
        let mut x = n;
        for _ in 0..work {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        black_box(x);
        Ok(())
    }
}

fn config() -> Config {
    Config {
        workers: WORKERS,
        buckets: [1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 100_000]
            .iter()
            .map(|&us| Duration::from_micros(us))
            .collect(),
        window: Window {
            span: Duration::from_secs(10),
            slots: 10,
        },
    }
}

#[derive(Clone, Copy)]
enum Pool {
    Plain,
    FreeClock,
    SystemClock,
}

/// Nanoseconds per job for one round.
fn round(pool: Pool, work: u32) -> f64 {
    let start = Instant::now();
    match pool {
        Pool::Plain => {
            let p = PlainPool::new(WORKERS, job(work));
            for n in 0..JOBS {
                p.submit(n);
            }
            p.shutdown();
        }
        Pool::FreeClock => {
            let p = MetricsPool::new(config(), || Duration::ZERO, job(work)).unwrap();
            for n in 0..JOBS {
                p.submit(n);
            }
            black_box(p.shutdown());
        }
        Pool::SystemClock => {
            let p = MetricsPool::new(config(), SystemClock::new(), job(work)).unwrap();
            for n in 0..JOBS {
                p.submit(n);
            }
            black_box(p.shutdown());
        }
    }
    start.elapsed().as_nanos() as f64 / JOBS as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful.
    let pools = [Pool::Plain, Pool::FreeClock, Pool::SystemClock];
    println!(
        "{WORKERS} workers, {JOBS} jobs per round, {WARM_UP} warm-up + {SAMPLES} rounds; \
         ns per job, median [min–max]"
    );
    // `OVERHEAD_JOBS=empty` (or `0.3`, `1`) measures one job size only.
    let only = std::env::var("OVERHEAD_JOBS").unwrap_or_default();
    for (label, work) in [("empty job", 0), ("~0.3 µs job", 100), ("~1 µs job", 400)] {
        if !label.contains(only.as_str()) {
            continue;
        }
        for _ in 0..WARM_UP {
            for p in pools {
                round(p, work);
            }
        }
        let mut samples = [vec![], vec![], vec![]];
        for _ in 0..SAMPLES {
            for (i, p) in pools.iter().enumerate() {
                samples[i].push(round(*p, work));
            }
        }
        let mut medians = [0.0; 3];
        let mut spreads = [(0.0, 0.0); 3];
        for i in 0..3 {
            medians[i] = median(&mut samples[i]);
            spreads[i] = (samples[i][0], samples[i][SAMPLES - 1]);
        }
        println!("{label}:");
        for (i, name) in ["plain pool", "metrics, free clock", "metrics, SystemClock"]
            .iter()
            .enumerate()
        {
            println!(
                "  {name:<22} {:>7.1} [{:.1}–{:.1}]  ratio {:.2}",
                medians[i],
                spreads[i].0,
                spreads[i].1,
                medians[i] / medians[0]
            );
        }
    }
}
