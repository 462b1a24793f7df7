//! `checker` — grades the worker-pool workbook.
//!
//! Students: `cargo checker` (progress), `cargo checker check <exercise>`,
//! `cargo checker hint <exercise>`. Instructors: `cargo checker grade --exercises DIR --json`.
//! Maintainers: `cargo checker verify` proves the curriculum.

mod bench;
mod book_tables;
mod cache;
mod class;
mod curriculum;
mod digest;
mod explain;
mod export;
mod extra;
mod facade_rule;
mod formats;
mod grade;
mod harness;
mod html;
mod mutants;
mod paths;
mod progress;
mod report;
mod reset;
mod runner;
mod sandbox;
mod spec_map;
mod state;
mod status;
mod timeline;
mod verify;
mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::curriculum::Curriculum;
use crate::grade::{ExerciseStatus, GradeReport};
use crate::paths::Paths;

#[derive(Parser)]
#[command(
    name = "checker",
    version,
    about = "Grades the worker-pool workbook: hidden suites, loom model checks, class grading",
    long_about = None,
    after_help = "Examples:\n  cargo checker                 # progress over every exercise, and the next step\n  cargo checker watch           # re-check on every save\n  cargo checker check basic     # one exercise in detail\n  cargo checker hint basic      # a nudge (ask again for more)\n  cargo checker grade --submissions class/ --csv class.csv   # instructors\n\nThe book: book/src/SUMMARY.md (or `mdbook serve book --open`)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Show every exercise's status and points, and the next step (the default).
    #[command(
        after_help = "Examples:\n  cargo checker\n  cargo checker status --exercises ~/my-copy/exercises"
    )]
    Status {
        /// Folder of exercise crates to look at.
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
        #[command(flatten)]
        timing: Timing,
    },
    /// Watch your exercise files and re-check the current exercise on every save.
    #[command(
        after_help = "Keys: n next exercise · h hint · l list · c check all · r reset · q quit\n\nExamples:\n  cargo checker watch\n  cargo checker watch --manual-run   # where file events do not arrive: Enter checks"
    )]
    Watch {
        /// Do not watch files (network file systems, some containers): press Enter to check.
        #[arg(long)]
        manual_run: bool,
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
    },
    /// Build one exercise and run its starter and hidden tests, with explanations.
    #[command(
        after_help = "Examples:\n  cargo checker check basic\n  cargo checker check 2 --all     # every failure in full\n  cargo checker check basic --json"
    )]
    Check {
        /// The exercise: its slug (`basic`) or number (`1`).
        exercise: String,
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
        /// Print the result as JSON (the same record as `grade --json`).
        #[arg(long)]
        json: bool,
        /// Show every failure and warning in full (by default: the first few, most
        /// conclusive first).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        timing: Timing,
    },
    /// Grade every exercise in a folder. Exits 0 whenever grading ran, whatever the score.
    #[command(
        after_help = "Examples:\n  cargo checker grade --exercises /path/to/student/exercises --json > grade.json\n  cargo checker grade --submissions class/ -j 2 --csv class.csv --junit class.xml --html class.html\n  cargo checker grade --submissions class/ --gradescope results/ --extra-suite my-tests/basic"
    )]
    Grade {
        /// A folder of exercise crates: `exercises` (default), `solutions`, or a student's
        /// copy anywhere on disk. Only each crate's `src/` is read.
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Grade even where the sandbox's required layers are missing (the report says so).
        #[arg(long)]
        insecure: bool,
        /// Only this exercise (slug or number).
        #[arg(long)]
        only: Option<String>,
        /// Grade a class: every folder in DIR is one student's submission (a copy of
        /// `exercises/`, or of the whole repository).
        #[arg(long, value_name = "DIR", conflicts_with = "exercises")]
        submissions: Option<PathBuf>,
        /// Submissions graded at once (class grading).
        #[arg(short = 'j', long, default_value_t = 2)]
        jobs: usize,
        /// An instructor's private tests for one exercise (a folder with `extra.toml`);
        /// may be given more than once.
        #[arg(long, value_name = "DIR")]
        extra_suite: Vec<PathBuf>,
        #[command(flatten)]
        outputs: Box<Outputs>,
        #[command(flatten)]
        timing: Timing,
    },
    /// Measure your pool against the reference, rayon, threadpool, crossbeam and tokio.
    #[command(
        after_help = "Prints each workload's ratios and writes one SVG plot. Your pool must pass its hidden suite first.\n\nExamples:\n  cargo checker bench basic\n  cargo checker bench 2 --svg buffered.svg\n  cargo checker bench basic --force   # a pool that does not pass yet"
    )]
    Bench {
        /// The exercise: its slug (`basic`) or number (`1`).
        exercise: String,
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
        /// Bench a pool that fails its hidden suite (with a warning).
        #[arg(long)]
        force: bool,
        /// Where the plot goes (default: target/bench/<exercise>.svg).
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Tiny sizes, one round: proves the bench runs, measures nothing.
        #[arg(long, hide = true)]
        quick: bool,
    },
    /// Show a hint for an exercise: each time the next level, from a nudge to the key idea.
    #[command(
        after_help = "Examples:\n  cargo checker hint basic            # the next level\n  cargo checker hint basic --level 1  # a given level again"
    )]
    Hint {
        /// The exercise: its slug (`basic`) or number (`1`).
        exercise: String,
        /// A given level (by default: one more than last time).
        #[arg(long)]
        level: Option<usize>,
    },
    /// Show the reference solution of an exercise you have passed.
    #[command(
        after_help = "Examples:\n  cargo checker solution basic\n  cargo checker solution 3 --force   # before passing it"
    )]
    Solution {
        /// The exercise: its slug (`basic`) or number (`1`).
        exercise: String,
        /// Show it even though your exercise does not pass yet.
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
    },
    /// Restore an exercise's untouched stub and starter tests (what you wrote is kept in a
    /// backup next to them).
    #[command(
        after_help = "Examples:\n  cargo checker reset basic        # asks first; your code is kept as src/lib.rs.bak\n  cargo checker reset --all --yes"
    )]
    Reset {
        /// The exercise: its slug (`basic`) or number (`1`).
        #[arg(required_unless_present = "all")]
        exercise: Option<String>,
        /// Every exercise.
        #[arg(long, conflicts_with = "exercise")]
        all: bool,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        #[arg(long, default_value = "exercises")]
        exercises: PathBuf,
    },
    /// Write what an instructor hands out or uploads (classroom template, grading kits).
    #[command(
        after_help = "Examples:\n  cargo checker export classroom template/\n  cargo checker export gradescope kit/\n  cargo checker export github-classroom workflow/"
    )]
    Export {
        #[command(subcommand)]
        what: ExportKind,
    },
    /// Mutation-test an exercise's suite on its reference solution (needs cargo-mutants).
    #[command(
        after_help = "Examples:\n  cargo install cargo-mutants --locked\n  cargo checker mutants basic --diff"
    )]
    Mutants {
        /// Exercises to score (every ready one by default).
        exercises: Vec<String>,
        /// Print each surviving mutant's diff.
        #[arg(long)]
        diff: bool,
    },
    /// Runs a program inside the sandbox (the checker starts itself this way).
    #[command(hide = true)]
    SandboxExec {
        policy: String,
        #[arg(last = true, required = true)]
        program: Vec<String>,
    },
    /// Prints the sandbox layers in force (run inside the sandbox by the checker).
    #[command(hide = true)]
    SandboxReport,
    /// Regenerate the book's tables that come from the curriculum (maintainers).
    #[command(hide = true)]
    Book {
        /// Write the pages (default: check that they are up to date).
        #[arg(long)]
        write: bool,
    },
    /// Prove the curriculum: solutions pass, stubs fail, known-wrong variants are caught.
    #[command(
        after_help = "Examples:\n  cargo checker verify                   # everything (cargo test runs this)\n  cargo checker verify basic --repeat 20 # each known-wrong variant caught 20 times out of 20\n  cargo checker verify --static-only     # manifests and spec maps only, no build"
    )]
    Verify {
        /// Only these exercises (all ready exercises, and the facade's models, by default).
        exercises: Vec<String>,
        /// Grade every known-wrong variant this many times; each run must catch it.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Instead: check that `exercises/` holds exactly the shipped stubs (CI, clean clone).
        #[arg(long)]
        shipped_stubs: bool,
        /// Only the checks that need no build: the manifest lists the suite's tests and the
        /// spec map covers the stub's documentation (seconds, for suite authors).
        #[arg(long, conflicts_with_all = ["repeat", "shipped_stubs"])]
        static_only: bool,
    },
}

#[derive(Subcommand)]
enum ExportKind {
    /// The repository students clone: exercises, book without solutions, a checker with the
    /// public tests only — no solution, hidden test or known-wrong variant.
    Classroom { dir: PathBuf },
    /// A Gradescope autograder kit (setup.sh, run_autograder and the grading workbook).
    Gradescope { dir: PathBuf },
    /// The GitHub Classroom autograding workflow and the grading workbook beside it.
    GithubClassroom { dir: PathBuf },
}

/// Where grading writes each platform's format (all translated from the native JSON).
#[derive(clap::Args, Clone, Default)]
struct Outputs {
    /// One JSON report per student in this folder (`<student>.json`).
    #[arg(long, value_name = "DIR")]
    json_dir: Option<PathBuf>,
    /// A class CSV: one row per student, one column per exercise, plus the total.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// JUnit XML.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Gradescope: `<DIR>/<student>/results.json` (a single submission: `<DIR>/results.json`).
    #[arg(long, value_name = "DIR")]
    gradescope: Option<PathBuf>,
    /// GitHub Classroom: the base64 result the autograding reporter reads (one submission).
    #[arg(long, value_name = "FILE")]
    github_classroom: Option<PathBuf>,
    /// exercism: `<DIR>/<student>/results.json`, version 3.
    #[arg(long, value_name = "DIR")]
    exercism: Option<PathBuf>,
    /// A static class report page (charts, failure classes), no JavaScript.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(clap::Args, Clone, Copy)]
struct Timing {
    /// Multiply every test's timeout (5 s for ordinary tests, 120 s for loom models) by this.
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    timeout_scale: f64,
    /// Stop compiling an exercise's crates after this many seconds (a compile-time loop);
    /// each further exercise in the same build adds an eighth.
    #[arg(long, default_value_t = 60)]
    build_timeout: u64,
}

fn timing_default() -> Timing {
    Timing {
        timeout_scale: 1.0,
        build_timeout: 60,
    }
}

impl Timing {
    fn student(&self) -> grade::Options {
        grade::Options {
            build_timeout: std::time::Duration::from_secs(self.build_timeout),
            ..grade::Options::student(self.timeout_scale)
        }
    }
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

fn main() -> ExitCode {
    progress::start_clock();
    // Like any Unix tool: output into a closed pipe (`| head`) ends the program quietly.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    // The sandbox launcher starts once per test: it skips clap (a parse of the whole command
    // tree, in the unoptimised dev build, was a third of its start-up).
    // (`args_os`: an argument that is not UTF-8 must reach clap's error, not panic here.)
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == "sandbox-exec") {
        let rest: Option<Vec<String>> = args.map(|a| a.into_string().ok()).collect();
        if let Some([policy, dashes, program, program_args @ ..]) = rest.as_deref()
            && dashes == "--"
        {
            sandbox::exec_main(policy, program, program_args);
        }
    }
    let result = run(Cli::parse());
    progress::phase("done");
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "checker: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    // Remember where this executable is before anything can rebuild it.
    let _ = sandbox::checker_exe();
    // The sandbox launcher needs no curriculum, and must start fast.
    match &cli.command {
        Some(Command::SandboxExec { policy, program }) => {
            sandbox::exec_main(policy, &program[0], &program[1..])
        }
        Some(Command::SandboxReport) => sandbox::report_main(),
        _ => {}
    }
    let paths = Paths::discover();
    let curriculum = Curriculum::load(&paths.curriculum())?;
    match cli.command.unwrap_or(Command::Status {
        exercises: PathBuf::from("exercises"),
        timing: Timing {
            timeout_scale: 1.0,
            build_timeout: 60,
        },
    }) {
        Command::Status { exercises, timing } => {
            let dir = resolve_dir(&paths, &exercises)?;
            eprintln!("checking every exercise in {} …", dir.display());
            let options = timing.student();
            let report = grade::grade_dir(&paths, &curriculum, &dir, None, &options)?;
            report::print_table(&report, &curriculum);
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch {
            manual_run,
            exercises,
        } => {
            let dir = resolve_dir(&paths, &exercises)?;
            watch::watch(&paths, &curriculum, &dir, manual_run)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            exercise,
            exercises,
            json,
            all,
            timing,
        } => {
            let ex = curriculum.find(&exercise)?;
            if !ex.is_ready() {
                println!("Exercise {} ({}) is coming soon.", ex.id, ex.slug);
                return Ok(ExitCode::SUCCESS);
            }
            let dir = resolve_dir(&paths, &exercises)?;
            let mut options = timing.student();
            // Text mode shows each test as it finishes; the details follow at the end.
            let (tx, rx) = std::sync::mpsc::channel();
            if !json {
                options.listener = Some(tx);
                options.quiet = true;
                anstream::println!(
                    "{}",
                    anstyle::Style::new().bold().render().to_string()
                        + &format!("Exercise {} · {} — {}", ex.id, ex.slug, ex.title)
                        + &anstyle::Reset.render().to_string()
                );
            } else {
                drop(tx);
            }
            let printer = std::thread::spawn(move || {
                let mut streamed = 0;
                for (_, t) in rx {
                    anstream::println!("{}", report::test_line(&t));
                    streamed += 1;
                }
                streamed
            });
            let graded = grade::grade_dir(&paths, &curriculum, &dir, Some(&ex.slug), &options);
            drop(options);
            let streamed = printer.join().unwrap_or(0);
            let mut report = graded?;
            let passed = report
                .exercises
                .iter()
                .all(|e| e.status == ExerciseStatus::Passed);
            if json {
                print_json(&mut report)?;
            } else {
                for e in &report.exercises {
                    // A cached result streamed nothing: list its tests now.
                    let list = streamed == 0 && e.message.is_none();
                    if list {
                        for t in &e.tests {
                            anstream::println!("{}", report::test_line(t));
                        }
                    }
                    anstream::print!("{}", report::exercise(e, all, false));
                }
            }
            Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Grade {
            exercises,
            json,
            insecure,
            only,
            submissions,
            jobs,
            extra_suite,
            outputs,
            timing,
        } => {
            let only = only
                .map(|o| curriculum.find(&o).map(|e| e.slug.clone()))
                .transpose()?;
            let options = instructor_options(&timing, insecure)?;
            let extras = extra_suite
                .iter()
                .map(|d| extra::ExtraSuite::load(&curriculum, d))
                .collect::<Result<Vec<_>>>()?;
            if let Some(dir) = submissions {
                let dir = resolve_dir(&paths, &dir)?;
                let mut class =
                    class::grade_class(&paths, &curriculum, &dir, jobs, &options, &extras)?;
                for s in &mut class.students {
                    if let Some(r) = &mut s.report {
                        strip_colour(r);
                    }
                }
                write_class_outputs(&class, &curriculum, &outputs)?;
                if json {
                    let mut out = std::io::stdout().lock();
                    serde_json::to_writer_pretty(&mut out, &class)?;
                    writeln!(out)?;
                } else {
                    print!("{}", formats::class_summary(&class));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let dir = resolve_dir(&paths, &exercises)?;
            let mut report =
                grade::grade_dir(&paths, &curriculum, &dir, only.as_deref(), &options)?;
            extra::grade_extra(&paths, &dir, &extras, &options, &mut report)?;
            strip_colour(&mut report);
            write_single_outputs(&report, &outputs)?;
            if json {
                print_json(&mut report)?;
            } else {
                for e in report
                    .exercises
                    .iter()
                    .filter(|e| e.status != ExerciseStatus::ComingSoon)
                {
                    report::print_exercise(e, false);
                    println!();
                }
                report::print_table(&report, &curriculum);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            exercise,
            exercises,
            force,
            svg,
            quick,
        } => bench::run(
            &paths,
            &curriculum,
            &bench::Request {
                exercise: curriculum.find(&exercise)?,
                dir: resolve_dir(&paths, &exercises)?,
                force,
                quick,
                svg,
            },
        ),
        Command::Hint { exercise, level } => {
            let ex = curriculum.find(&exercise)?;
            if ex.hints.is_empty() {
                println!("Exercise {} ({}) is coming soon.", ex.id, ex.slug);
                return Ok(ExitCode::SUCCESS);
            }
            let mut state = state::State::load(&paths);
            let level = match level {
                Some(level) if level == 0 || level > ex.hints.len() => {
                    bail!("{} has hint levels 1 to {}", ex.slug, ex.hints.len())
                }
                Some(level) => level,
                None => state.next_hint(&ex.slug, ex.hints.len()),
            };
            state.save(&paths);
            println!(
                "Hint {level} of {} for {}:\n\n{}",
                ex.hints.len(),
                ex.slug,
                ex.hints[level - 1]
            );
            if level < ex.hints.len() {
                println!(
                    "\nStill stuck? `cargo checker hint {}` again gives level {}. The book: book/src/{}",
                    ex.slug,
                    level + 1,
                    ex.chapter
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Solution {
            exercise,
            force,
            exercises,
        } => {
            let ex = curriculum.find(&exercise)?;
            if !ex.is_ready() {
                bail!(
                    "exercise {} ({}) is not part of the workbook yet",
                    ex.id,
                    ex.slug
                );
            }
            if !force {
                let dir = resolve_dir(&paths, &exercises)?;
                let report = grade::grade_dir(
                    &paths,
                    &curriculum,
                    &dir,
                    Some(&ex.slug),
                    &timing_default().student(),
                )?;
                if report
                    .exercises
                    .iter()
                    .any(|e| e.status != ExerciseStatus::Passed)
                {
                    println!(
                        "Exercise {} ({}) does not pass yet: the solution stays hidden until it \
                         does (`cargo checker check {}`; `--force` shows it anyway).",
                        ex.id, ex.slug, ex.slug
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
            let file = paths.solutions().join(&ex.dir).join("src").join("lib.rs");
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            println!(
                "// The reference solution of exercise {} ({}): {}\n",
                ex.id,
                ex.slug,
                file.display()
            );
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Reset {
            exercise,
            all,
            yes,
            exercises,
        } => {
            let dir = resolve_dir(&paths, &exercises)?;
            let chosen: Vec<&curriculum::Exercise> = if all {
                curriculum
                    .exercise
                    .iter()
                    .filter(|e| e.is_ready())
                    .collect()
            } else {
                vec![curriculum.find(exercise.as_deref().unwrap_or_default())?]
            };
            reset::reset(&paths, &dir, &chosen, yes)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what } => {
            let (dir, done) = match what {
                ExportKind::Classroom { dir } => {
                    export::classroom(&paths, &curriculum, &dir)?;
                    (dir, "the classroom template")
                }
                ExportKind::Gradescope { dir } => {
                    export::gradescope(&paths, &dir)?;
                    (dir, "the Gradescope autograder kit")
                }
                ExportKind::GithubClassroom { dir } => {
                    export::github_classroom(&paths, &dir)?;
                    (dir, "the GitHub Classroom workflow")
                }
            };
            println!("wrote {done} to {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Mutants { exercises, diff } => {
            let chosen: Vec<&curriculum::Exercise> = if exercises.is_empty() {
                curriculum
                    .exercise
                    .iter()
                    .filter(|e| e.is_ready())
                    .collect()
            } else {
                exercises
                    .iter()
                    .map(|e| curriculum.find(e))
                    .collect::<Result<_>>()?
            };
            let mut lines = Vec::new();
            for ex in chosen {
                let score = mutants::run(&paths, ex, diff)?;
                lines.push(format!(
                    "{:<12} {:>5.1}%  ({} killed, {} survived, {} equivalent, {} unviable, of {})",
                    ex.slug,
                    score.percent(),
                    score.killed,
                    score.survivors.len(),
                    score.equivalent,
                    score.unviable,
                    score.mutants
                ));
            }
            println!("\nmutation scores:\n{}", lines.join("\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::SandboxExec { .. } | Command::SandboxReport => unreachable!("handled above"),
        Command::Book { write } => {
            book_tables::run(&paths, &curriculum, write)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            exercises,
            repeat,
            shipped_stubs,
            static_only,
        } => {
            if shipped_stubs {
                verify::check_shipped_stubs(&paths, &curriculum)?;
            } else {
                let options = verify::Options {
                    only: exercises,
                    repeat,
                    static_only,
                };
                verify::verify(&paths, &curriculum, &options)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Instructor grading: the sandbox with every required layer, or `--insecure` on purpose.
fn instructor_options(timing: &Timing, insecure: bool) -> Result<grade::Options> {
    let missing = sandbox::layers().missing_for_grading();
    if !missing.is_empty() && !insecure {
        bail!(
            "grading untrusted code needs these sandbox layers, which this system does not \
             give:\n  - {}\nRun where they are available, or pass --insecure to grade without \
             them (the report records which layers were in force).",
            missing.join("\n  - ")
        );
    }
    Ok(grade::Options {
        sandbox: sandbox::usable(),
        strict: missing.is_empty(),
        // Every test gets its full time when grades are at stake.
        fast_feedback: false,
        ..timing.student()
    })
}

/// A folder given on the command line: as given (relative to the current directory), else
/// relative to the workbook root, so `--exercises solutions` works from anywhere.
fn resolve_dir(paths: &Paths, dir: &Path) -> Result<PathBuf> {
    let candidates = [dir.to_path_buf(), paths.root.join(dir)];
    let found = candidates
        .iter()
        .find(|c| c.is_dir())
        .with_context(|| format!("no folder {} to grade", dir.display()))?;
    found
        .canonicalize()
        .with_context(|| format!("resolving {}", found.display()))
}

/// Compiler messages are rendered with colour for terminals; files and JSON get plain text.
fn strip_colour(report: &mut GradeReport) {
    for e in &mut report.exercises {
        if let Some(m) = &mut e.message {
            *m = anstream::adapter::strip_str(m).to_string();
        }
        for w in &mut e.warnings {
            *w = anstream::adapter::strip_str(w).to_string();
        }
        for t in &mut e.tests {
            t.message = anstream::adapter::strip_str(&t.message).to_string();
        }
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The outputs of grading one submission.
fn write_single_outputs(report: &GradeReport, o: &Outputs) -> Result<()> {
    if let Some(dir) = &o.gradescope {
        write_file(
            &dir.join("results.json"),
            &serde_json::to_string_pretty(&formats::gradescope(report))?,
        )?;
    }
    if let Some(file) = &o.github_classroom {
        write_file(file, &formats::github_classroom(report))?;
    }
    if let Some(dir) = &o.exercism {
        write_file(
            &dir.join("results.json"),
            &serde_json::to_string_pretty(&formats::exercism(report))?,
        )?;
    }
    if let Some(dir) = &o.json_dir {
        write_file(
            &dir.join("report.json"),
            &serde_json::to_string_pretty(report)?,
        )?;
    }
    Ok(())
}

/// The outputs of grading a class.
fn write_class_outputs(
    class: &class::ClassReport,
    curriculum: &Curriculum,
    o: &Outputs,
) -> Result<()> {
    for s in &class.students {
        let Some(report) = &s.report else { continue };
        if let Some(dir) = &o.json_dir {
            write_file(
                &dir.join(format!("{}.json", s.student)),
                &serde_json::to_string_pretty(report)?,
            )?;
        }
        if let Some(dir) = &o.gradescope {
            write_file(
                &dir.join(&s.student).join("results.json"),
                &serde_json::to_string_pretty(&formats::gradescope(report))?,
            )?;
        }
        if let Some(dir) = &o.exercism {
            write_file(
                &dir.join(&s.student).join("results.json"),
                &serde_json::to_string_pretty(&formats::exercism(report))?,
            )?;
        }
    }
    if let Some(file) = &o.csv {
        write_file(file, &formats::class_csv(class, curriculum)?)?;
    }
    if let Some(file) = &o.junit {
        write_file(file, &formats::junit(class)?)?;
    }
    if let Some(file) = &o.html {
        write_file(file, &html::class_page(class, curriculum))?;
    }
    if o.github_classroom.is_some() {
        bail!("--github-classroom is for one submission (the classroom runs one per student)");
    }
    Ok(())
}

/// One JSON object on stdout.
fn print_json(report: &mut GradeReport) -> Result<()> {
    strip_colour(report);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    Ok(())
}
