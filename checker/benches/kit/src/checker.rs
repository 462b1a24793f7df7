//! The program `cargo checker bench <exercise>` builds and runs: the student's pool, the
//! reference solution (where the workbook has it) and the alternatives, on the same
//! workloads, in one run. It prints the tables and writes one SVG with every chart.
//!
//! Arguments: `--svg PATH` (where the figure goes), `--quick` (tiny sizes: a smoke run).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::alternatives::{
    Crossbeam, RayonParIter, RayonSpawn, Sequential, ThreadPool, TokioSpawnBlocking,
};
use crate::report::{Bench, load_average, machine};
use crate::stats::{Rounds, short};
use crate::{Subject, Work};

/// A subject under another name ("yours: basic").
struct Named<'a> {
    name: String,
    inner: &'a dyn Subject,
}

impl Subject for Named<'_> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        self.inner.run(workers, jobs, work)
    }
}

struct Sizes {
    rounds: Rounds,
    tiny_jobs: u64,
    coarse_jobs: u64,
    coarse: Duration,
    wait_jobs: u64,
    wait_micros: u64,
    cpu_workers: Vec<usize>,
    wait_workers: Vec<usize>,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                rounds: Rounds {
                    warm_up: 0,
                    samples: 1,
                },
                tiny_jobs: 200,
                coarse_jobs: 8,
                coarse: Duration::from_micros(20),
                wait_jobs: 4,
                wait_micros: 10,
                cpu_workers: vec![1, 2],
                wait_workers: vec![1, 2],
            }
        } else {
            Sizes {
                rounds: Rounds {
                    warm_up: 1,
                    samples: 7,
                },
                tiny_jobs: 100_000,
                coarse_jobs: 1_000,
                coarse: Duration::from_micros(50),
                wait_jobs: 128,
                wait_micros: 500,
                cpu_workers: vec![1, 2, 4, 8],
                wait_workers: vec![1, 2, 4, 8, 16, 32],
            }
        }
    }
}

/// Runs the comparison. `student[0]` and `reference[0]` are the pools as plainly used; the
/// rest are the exercise's own variants (boxed jobs, batches, buffer sizes, …).
pub fn main(
    exercise: &str,
    student: &[Box<dyn Subject>],
    reference: Option<&[Box<dyn Subject>]>,
) -> ExitCode {
    let mut svg: Option<PathBuf> = None;
    let mut quick = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--svg" => svg = args.next().map(PathBuf::from),
            "--quick" => quick = true,
            _ => {}
        }
    }
    match run(exercise, student, reference, svg, quick) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nbench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn named<'a>(prefix: &str, list: &'a [Box<dyn Subject>]) -> Vec<Named<'a>> {
    list.iter()
        .map(|s| Named {
            name: format!("{prefix}{}", s.name()),
            inner: s.as_ref(),
        })
        .collect()
}

fn run(
    exercise: &str,
    student: &[Box<dyn Subject>],
    reference: Option<&[Box<dyn Subject>]>,
    svg: Option<PathBuf>,
    quick: bool,
) -> Result<(), String> {
    let sizes = Sizes::new(quick);
    let mut bench = Bench::new(sizes.rounds);
    let yours = named("yours: ", student);
    let theirs = reference
        .map(|r| named("reference: ", r))
        .unwrap_or_default();
    let workers = 2;
    bench.say(&format!(
        "## `cargo checker bench {exercise}`\n\n{}\n",
        machine()
    ));
    if theirs.is_empty() {
        bench.say(
            "\nThis copy of the workbook has no reference solution for this exercise: your \
             pool is compared with the alternatives only.\n",
        );
    }

    // 1. Tiny jobs: the cost of handing one job to a worker.
    let alternatives: [&dyn Subject; 4] =
        [&Crossbeam, &ThreadPool, &RayonSpawn, &TokioSpawnBlocking];
    let mut tiny: Vec<&dyn Subject> = vec![&yours[0]];
    if let Some(r) = theirs.first() {
        tiny.push(r);
    }
    let base_tiny = tiny.len() - 1;
    tiny.extend(alternatives);
    let m = bench.per_job(
        "tiny",
        "Tiny jobs: the cost of one hand-off",
        workers,
        sizes.tiny_jobs,
        Work::Tiny,
        &tiny,
        base_tiny,
        &[0],
    )?;
    let tiny_ratio = m[0].ratio();
    let tiny_ns = m[0].value();

    // 2. The exercise's own variants, side by side with the reference's.
    if yours.len() > 1 {
        let mut variants: Vec<&dyn Subject> = Vec::new();
        let mut focus = Vec::new();
        for (i, y) in yours.iter().enumerate() {
            focus.push(variants.len());
            variants.push(y);
            if let Some(t) = theirs.get(i) {
                variants.push(t);
            }
        }
        let baseline = usize::from(!theirs.is_empty());
        bench.per_job(
            "variants",
            "The same pool used other ways",
            workers,
            sizes.tiny_jobs,
            Work::Tiny,
            &variants,
            baseline,
            &focus,
        )?;
    }

    // 3. Coarse CPU-bound jobs: what two cores buy.
    let coarse = Work::spin_for(sizes.coarse);
    let mut list: Vec<&dyn Subject> = vec![&Sequential, &yours[0]];
    if let Some(r) = theirs.first() {
        list.push(r);
    }
    list.extend([&RayonParIter as &dyn Subject, &ThreadPool]);
    let speedups = bench.speedup(
        "coarse",
        "Coarse CPU-bound jobs",
        workers,
        sizes.coarse_jobs,
        coarse,
        &list,
        0,
        &[1],
    )?;

    // 4. and 5. The worker-count sweeps.
    let mut pair: Vec<&dyn Subject> = vec![&yours[0]];
    if let Some(r) = theirs.first() {
        pair.push(r);
    }
    bench.sweep(
        "sweep-cpu",
        "Worker count, CPU-bound jobs",
        &pair,
        &sizes.cpu_workers,
        sizes.coarse_jobs,
        coarse,
    )?;
    bench.sweep(
        "sweep-wait",
        "Worker count, waiting jobs",
        &pair,
        &sizes.wait_workers,
        sizes.wait_jobs,
        Work::Wait(sizes.wait_micros),
    )?;

    let mut summary = format!(
        "\n### Summary\n\nYour pool: {} ns per tiny job",
        short(tiny_ns.median)
    );
    if !theirs.is_empty() {
        summary.push_str(&format!(
            ", {}× the reference's (median of {} rounds, spread {}–{})",
            short(tiny_ratio.median),
            sizes.rounds.samples,
            short(tiny_ratio.min),
            short(tiny_ratio.max)
        ));
    }
    summary.push_str(&format!(
        "; {}× sequential on coarse jobs with {workers} workers",
        short(speedups[1].1.median)
    ));
    if !theirs.is_empty() {
        summary.push_str(&format!(" (reference: {}×)", short(speedups[2].1.median)));
    }
    summary.push_str(&format!(
        ".\nLoad average at the end: {}. Ratios come from rounds that alternate the \
         subjects, so a busy machine slows them alike; absolute times do not compare across \
         runs.\n",
        load_average()
    ));
    bench.say(&summary);
    if let Some(path) = svg {
        let panels: Vec<_> = bench.panels.into_iter().map(|(_, p)| p).collect();
        crate::plot::draw(&path, &panels)?;
    }
    Ok(())
}
