//! Every measurement of the book's performance chapter, in one run:
//!
//! ```sh
//! cargo bench -p workbook-benches                      # everything: about 3 minutes here
//! cargo bench -p workbook-benches -- --only tiny,coarse
//! cargo bench -p workbook-benches -- --out book/src/perf   # what the book shows
//! ```
//!
//! Writes `results.md` (the machine, the command, every table, the targets) and one SVG per
//! experiment into `--out` (default `target/bench`). Every figure is a ratio between cases
//! measured in alternating rounds of this run.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench_kit::alternatives::{
    Crossbeam, CrossbeamBatched, CrossbeamBoxed, RayonParIter, RayonScope, RayonSpawn, Sequential,
    ThreadPool, TokioSpawnBlocking,
};
use bench_kit::report::{Bench, load_average, machine};
use bench_kit::stats::{Case, Rounds, Summary, short};
use bench_kit::{Subject, Work};
use workbook_benches::{basic, buffered};

/// Every measurement of the performance chapter (`cargo bench -p workbook-benches -- --help`).
#[derive(clap::Parser)]
struct Args {
    /// Where `results.md` and the plots go (relative to the workspace root).
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// `--out` as typed.
    #[arg(skip)]
    shown: String,
    /// Only these experiments, comma-separated (`tiny,coarse`).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Tiny sizes: a smoke run, not a measurement.
    #[arg(long)]
    quick: bool,
    /// Rounds per case.
    #[arg(long, default_value_t = 7)]
    samples: usize,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn args() -> Args {
    let mut a = <Args as clap::Parser>::parse();
    // `cargo bench` runs this in the package's folder: relative paths are taken from the
    // workspace root, where the command was typed.
    a.shown = a.out.display().to_string();
    if a.out.is_relative() {
        a.out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(&a.out);
    }
    a
}

/// The targets of the issue, checked on this run's numbers.
struct Targets {
    lines: Vec<String>,
}

impl Targets {
    fn check(&mut self, what: &str, value: Summary, unit: &str, ok: bool, goal: &str) {
        self.lines.push(format!(
            "| {what} | {}{unit} [{}–{}] | {goal} | {} |",
            short(value.median),
            short(value.min),
            short(value.max),
            if ok { "met" } else { "missed" }
        ));
    }
}

fn ratio_of(a: &[f64], b: &[f64]) -> Summary {
    Summary::of(&a.iter().zip(b).map(|(x, y)| x / y).collect::<Vec<_>>())
}

fn main() {
    let args = args();
    let rounds = if args.quick {
        Rounds {
            warm_up: 0,
            samples: 1,
        }
    } else {
        Rounds {
            warm_up: 1,
            samples: args.samples,
        }
    };
    let scale = |n: u64| if args.quick { (n / 100).max(4) } else { n };
    let wanted = |id: &str| args.only.is_empty() || args.only.iter().any(|o| o == id);
    let _ = std::fs::create_dir_all(&args.out);
    let mut bench = Bench::new(rounds);
    bench.say(&format!(
        "<!-- Written by `cargo bench -p workbook-benches -- --out {}`; do not edit. -->\n\n\
         **Machine and moment:** {}\n",
        args.shown,
        machine()
    ));
    let started = Instant::now();
    let mut targets = Targets { lines: Vec::new() };
    let w = 2;
    let tiny_jobs = scale(200_000);
    let coarse = Work::spin_for(Duration::from_micros(50));
    let coarse_jobs = scale(2_000);

    let refs = workbook_benches::references();
    let mains: Vec<&dyn Subject> = refs.iter().map(|(_, s)| s[0].as_ref()).collect();

    let result = (|| -> Result<(), String> {
        if wanted("tiny") {
            let mut list: Vec<&dyn Subject> = mains.clone();
            let alts: [&dyn Subject; 7] = [
                &Crossbeam,
                &CrossbeamBoxed,
                &ThreadPool,
                &RayonSpawn,
                &RayonScope,
                &RayonParIter,
                &TokioSpawnBlocking,
            ];
            let crossbeam = list.len();
            list.extend(alts);
            bench.say("\n<!-- ANCHOR: tiny -->");
            let m = bench.per_job(
                "tiny",
                "Tiny jobs",
                w,
                tiny_jobs,
                Work::Tiny,
                &list,
                crossbeam,
                &(0..mains.len()).collect::<Vec<_>>(),
            )?;
            bench.say("<!-- ANCHOR_END: tiny -->\n");
            let basic = &m[0];
            let find = |name: &str| m.iter().find(|x| x.name == name).expect("measured");
            let r = basic.ratio();
            targets.check(
                "basic pool per tiny job ÷ crossbeam two-channel hand-off",
                r,
                "×",
                r.median <= 1.3,
                "≤ 1.3×",
            );
            let r = ratio_of(&basic.samples, &find("threadpool").samples);
            targets.check(
                "basic ÷ threadpool, per tiny job",
                r,
                "×",
                r.median <= 0.3,
                "≤ 0.3×",
            );
            let r = ratio_of(&basic.samples, &find("rayon spawn").samples);
            targets.check(
                "basic ÷ rayon spawn, per tiny job",
                r,
                "×",
                r.median <= 0.25,
                "≤ 0.25×",
            );
        }
        if wanted("coarse") {
            let mut list: Vec<&dyn Subject> = vec![&Sequential];
            list.extend(mains.iter().copied());
            list.extend([
                &Crossbeam as &dyn Subject,
                &ThreadPool,
                &RayonSpawn,
                &RayonParIter,
                &TokioSpawnBlocking,
            ]);
            bench.say("\n<!-- ANCHOR: coarse -->");
            let s = bench.speedup(
                "coarse",
                "Coarse CPU-bound jobs (about 50 µs each)",
                w,
                coarse_jobs,
                coarse,
                &list,
                0,
                &(1..=mains.len()).collect::<Vec<_>>(),
            )?;
            bench.say("<!-- ANCHOR_END: coarse -->\n");
            let r = s[1].1;
            targets.check(
                "basic pool, coarse jobs, speed-up over sequential (2 workers)",
                r,
                "×",
                r.median >= 1.9,
                "≥ 1.9× (limit 2.0)",
            );
        }
        if wanted("sweep-cpu") {
            bench.say("\n<!-- ANCHOR: sweep-cpu -->");
            bench.sweep(
                "sweep-cpu",
                "Worker count, CPU-bound jobs",
                &[mains[0], &ThreadPool, &RayonParIter],
                &[1, 2, 3, 4, 8, 16, 64],
                coarse_jobs,
                coarse,
            )?;
            bench.say("<!-- ANCHOR_END: sweep-cpu -->\n");
        }
        if wanted("sweep-wait") {
            bench.say("\n<!-- ANCHOR: sweep-wait -->");
            bench.sweep(
                "sweep-wait",
                "Worker count, waiting jobs",
                &[mains[0], &ThreadPool],
                &[1, 2, 4, 8, 16, 32, 64, 128],
                scale(256),
                Work::Wait(1_000),
            )?;
            bench.say("<!-- ANCHOR_END: sweep-wait -->\n");
        }
        if wanted("buffers") {
            let sizes = [0usize, 1, 4, 16, 64, 256, 1024];
            let pools: Vec<buffered::Buffered> =
                sizes.iter().map(|&n| buffered::Buffered(n)).collect();
            let mut list: Vec<&dyn Subject> = vec![&basic::Plain];
            list.extend(pools.iter().map(|p| p as &dyn Subject));
            bench.say("\n<!-- ANCHOR: buffers -->");
            bench.per_job(
                "buffers",
                "Buffer sizes (exercise 2), tiny jobs",
                w,
                tiny_jobs,
                Work::Tiny,
                &list,
                0,
                &[],
            )?;
            bench.say("<!-- ANCHOR_END: buffers -->\n");
        }
        if wanted("boxed") {
            let list: [&dyn Subject; 5] = [
                &basic::Plain,
                &basic::Boxed,
                &Crossbeam,
                &CrossbeamBoxed,
                &ThreadPool,
            ];
            bench.say("\n<!-- ANCHOR: boxed -->");
            bench.per_job(
                "boxed",
                "Plain data or boxed closures",
                w,
                tiny_jobs,
                Work::Tiny,
                &list,
                0,
                &[0, 1],
            )?;
            bench.say("<!-- ANCHOR_END: boxed -->\n");
        }
        if wanted("batched") {
            let batches: Vec<basic::Batched> = [16, 64, 256, 1024, 4096].map(basic::Batched).into();
            let mut list: Vec<&dyn Subject> = vec![&basic::Plain];
            list.extend(batches.iter().map(|b| b as &dyn Subject));
            let cb = CrossbeamBatched(1024);
            list.extend([&cb as &dyn Subject, &RayonParIter, &Sequential]);
            bench.say("\n<!-- ANCHOR: batched -->");
            let m = bench.per_job(
                "batched",
                "Batched submission, tiny jobs",
                w,
                scale(2_000_000),
                Work::Tiny,
                &list,
                0,
                &[4],
            )?;
            bench.say("<!-- ANCHOR_END: batched -->\n");
            let v = m[4].value();
            targets.check(
                "basic pool, batches of 1,024, per job",
                v,
                " ns",
                v.median <= 3.0,
                "≤ 3 ns",
            );
        }
        if wanted("counters") {
            let n = scale(2_000_000);
            bench.say("\n<!-- ANCHOR: counters -->");
            bench.custom(
                "counters",
                "Counting from two threads",
                &format!("2 threads, {n} increments each"),
                &counter_cases(n),
                0,
            )?;
            bench.say("<!-- ANCHOR_END: counters -->\n");
        }
        if wanted("buffers-reuse") {
            let n = scale(200_000);
            bench.say("\n<!-- ANCHOR: buffers-reuse -->");
            bench.custom(
                "buffers-reuse",
                "A 4 KiB buffer per job: allocate or reuse",
                &format!("2 workers, {n} jobs, each filling a 4 KiB buffer"),
                &buffer_cases(n),
                0,
            )?;
            bench.say("<!-- ANCHOR_END: buffers-reuse -->\n");
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
    if !targets.lines.is_empty() {
        bench.say(&format!(
            "\n<!-- ANCHOR: targets -->\n### The targets\n\nMedian of this run's {} rounds \
             [min–max]; each ratio taken within a round.\n\n| target | measured | goal | |\n\
             |---|---:|---|---|\n{}\n<!-- ANCHOR_END: targets -->\n",
            rounds.samples,
            targets.lines.join("\n")
        ));
    }
    bench.say(&format!(
        "\nThe run took {:.0} s; load average at the end: {}.\n",
        started.elapsed().as_secs_f64(),
        load_average()
    ));
    let md = args.out.join("results.md");
    if let Err(e) = std::fs::write(&md, &bench.text) {
        eprintln!("bench: writing {}: {e}", md.display());
        std::process::exit(1);
    }
    for (id, panel) in &bench.panels {
        let path = args.out.join(format!("{id}.svg"));
        if let Err(e) = bench_kit::plot::draw(&path, std::slice::from_ref(panel)) {
            eprintln!("bench: drawing {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    eprintln!("wrote {} and {} charts", md.display(), bench.panels.len());
}

/// Two threads counting: one shared atomic, two atomics side by side (one cache line:
/// false sharing), two atomics on their own cache lines, and plain local counters added up
/// at the end.
fn counter_cases(n: u64) -> Vec<Case<'static>> {
    #[repr(align(128))]
    struct Padded(AtomicU64);
    fn two_threads(f: impl Fn(usize) + Sync) -> f64 {
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..2 {
                let f = &f;
                s.spawn(move || f(t));
            }
        });
        start.elapsed().as_nanos() as f64
    }
    let per_op = move |ns: f64| ns / (2 * n) as f64;
    vec![
        (
            "one shared atomic".into(),
            Box::new(move || {
                let c = AtomicU64::new(0);
                let ns = two_threads(|_| {
                    for _ in 0..n {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                });
                assert_eq!(c.load(Ordering::Relaxed), 2 * n);
                Ok(per_op(ns))
            }),
        ),
        (
            "one atomic per thread, same cache line".into(),
            Box::new(move || {
                let c = [AtomicU64::new(0), AtomicU64::new(0)];
                let ns = two_threads(|t| {
                    for _ in 0..n {
                        c[t].fetch_add(1, Ordering::Relaxed);
                    }
                });
                assert_eq!(
                    c[0].load(Ordering::Relaxed) + c[1].load(Ordering::Relaxed),
                    2 * n
                );
                Ok(per_op(ns))
            }),
        ),
        (
            "one atomic per thread, own cache lines".into(),
            Box::new(move || {
                let c = [Padded(AtomicU64::new(0)), Padded(AtomicU64::new(0))];
                let ns = two_threads(|t| {
                    for _ in 0..n {
                        c[t].0.fetch_add(1, Ordering::Relaxed);
                    }
                });
                assert_eq!(
                    c[0].0.load(Ordering::Relaxed) + c[1].0.load(Ordering::Relaxed),
                    2 * n
                );
                Ok(per_op(ns))
            }),
        ),
        (
            "a local count, added once at the end".into(),
            Box::new(move || {
                let c = AtomicU64::new(0);
                let ns = two_threads(|_| {
                    let mut local = 0u64;
                    for _ in 0..n {
                        local = black_box(local + 1);
                    }
                    c.fetch_add(local, Ordering::Relaxed);
                });
                assert_eq!(c.load(Ordering::Relaxed), 2 * n);
                Ok(per_op(ns))
            }),
        ),
    ]
}

/// Jobs that each need a 4 KiB buffer: allocated by the submitter and freed by a worker (the
/// allocation crosses threads), or taken from a pool of buffers the workers give back.
fn buffer_cases(n: u64) -> Vec<Case<'static>> {
    use crossbeam_channel::unbounded;
    const SIZE: usize = 4096;
    fn fill(buf: &mut [u8], i: u64) -> u64 {
        buf[..64].fill(i as u8);
        black_box(&buf);
        u64::from(buf[7])
    }
    fn pool(n: u64, reuse: bool) -> Result<f64, String> {
        let start = Instant::now();
        let (jobs, jobs_rx) = unbounded::<(u64, Vec<u8>)>();
        let (back, spare) = unbounded::<Vec<u8>>();
        let (done, results) = unbounded::<u64>();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (jobs_rx, back, done) = (jobs_rx.clone(), back.clone(), done.clone());
                std::thread::spawn(move || {
                    for (i, mut buf) in jobs_rx {
                        let _ = done.send(fill(&mut buf, i));
                        if reuse {
                            let _ = back.send(buf);
                        }
                    }
                })
            })
            .collect();
        drop((back, done));
        for i in 0..n {
            let buf = if reuse {
                spare.try_recv().unwrap_or_else(|_| vec![0; SIZE])
            } else {
                vec![0; SIZE]
            };
            jobs.send((i, buf)).map_err(|_| "closed")?;
        }
        drop(jobs);
        for h in handles {
            let _ = h.join();
        }
        let total = results.iter().count() as u64;
        if total != n {
            return Err(format!("{total} results of {n}"));
        }
        Ok(start.elapsed().as_nanos() as f64 / n as f64)
    }
    vec![
        (
            "allocate per job, freed by the worker".into(),
            Box::new(move || pool(n, false)),
        ),
        (
            "reuse: workers send buffers back".into(),
            Box::new(move || pool(n, true)),
        ),
    ]
}
