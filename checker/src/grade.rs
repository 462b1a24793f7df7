//! Grading: build every hidden suite against a subject's crates, run each test in its own
//! process, and assemble the native report that `--json` prints and every export format is
//! translated from.
//!
//! Each subject crate gets one [`Plan`]: whether it is built at all (the pre-checks), what
//! each tier's build produced, and each selected test's result. Scores come from the tests'
//! typed outcomes, never from message text.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::curriculum::{Curriculum, Exercise, Kind, TestSpec};
use crate::explain::{self, Locator};
use crate::facade_rule;
use crate::harness::{self, Built, Tier};
use crate::paths::{Paths, short_hash};
use crate::progress::Progress;
use crate::runner;
pub use crate::status::{Diagnosis, ExerciseStatus, TestStatus};

/// The whole grade of one subject. Field names are a public interface: extend, never break.
#[derive(Debug, Serialize)]
pub struct GradeReport {
    /// The checker that graded (its crate version), for instructors' records.
    pub checker_version: &'static str,
    pub score: u32,
    pub max_score: u32,
    pub exercises: Vec<ExerciseReport>,
    /// How the grade was made, so it can be reproduced and disputed.
    pub run: RunRecord,
}

/// The conditions of a grading run.
#[derive(Clone, Debug, Serialize)]
pub struct RunRecord {
    pub checker_version: &'static str,
    /// SHA-256 over the curriculum and every hidden suite, stub and variant.
    pub suites_hash: String,
    /// The sandbox layers in force for builds and tests.
    pub sandbox_layers: Vec<&'static str>,
    /// Instructor grading: a test counted only if its thread was confined.
    pub strict: bool,
    pub timeouts: Timeouts,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeouts {
    pub unit_secs: f64,
    pub loom_secs: f64,
    pub build_secs: u64,
}

impl RunRecord {
    pub fn new(paths: &Paths, options: &Options) -> Self {
        let layers = if options.sandbox {
            crate::sandbox::layers().names()
        } else {
            vec!["process-group"]
        };
        RunRecord {
            checker_version: env!("CARGO_PKG_VERSION"),
            suites_hash: crate::digest::tree(&paths.suite_inputs()),
            sandbox_layers: layers,
            strict: options.strict,
            timeouts: Timeouts {
                unit_secs: Kind::Unit.default_timeout_secs() as f64 * options.timeout_scale,
                loom_secs: Kind::Loom.default_timeout_secs() as f64 * options.timeout_scale,
                build_secs: options.build_timeout.as_secs(),
            },
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExerciseReport {
    pub id: u32,
    pub slug: String,
    pub title: String,
    pub status: ExerciseStatus,
    pub score: u32,
    pub max_score: u32,
    /// Why no test ran (compiler errors, the facade rule, a missing crate), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// SHA-256 of the graded `src/` (every file's path and content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hash: Option<String>,
    /// The compiler's warnings about the subject's own code (they often point at the bug).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The known bug this exercise's failures match (a known-wrong variant's name and bug),
    /// when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looks_like: Option<LooksLike>,
    /// This result was taken from the cache: the same code was graded the same way before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    pub tests: Vec<TestReport>,
}

/// A known bug whose signature a submission's failures match.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LooksLike {
    pub variant: String,
    pub bug: String,
    /// The book page whose pitfalls describe it.
    pub chapter: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TestReport {
    pub name: String,
    pub kind: Kind,
    pub status: TestStatus,
    /// What the failure proves (`deadlock`, `assertion`, `timeout`, …); absent for a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    pub score: u32,
    pub max_score: u32,
    pub message: String,
    pub duration_ms: u64,
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.status == TestStatus::Passed
    }

    fn unrun(test: &TestSpec, status: TestStatus, message: &str) -> Self {
        TestReport {
            name: test.name.clone(),
            kind: test.kind,
            status,
            diagnosis: None,
            score: 0,
            max_score: test.points,
            message: message.to_string(),
            duration_ms: 0,
        }
    }
}

impl ExerciseReport {
    /// Failures, most conclusive first: loom proofs, then assertions, crashes, timeouts.
    pub fn failures_by_proof(&self) -> Vec<&TestReport> {
        let mut failed: Vec<&TestReport> = self.tests.iter().filter(|t| !t.passed()).collect();
        failed.sort_by_key(|t| t.diagnosis.unwrap_or(Diagnosis::Todo));
        failed
    }
}

/// One crate to grade against one exercise's suite.
pub struct Target<'a> {
    pub exercise: &'a Exercise,
    /// The folder holding `src/lib.rs`.
    pub crate_dir: PathBuf,
    /// Only these tests (all when `None`).
    pub only: Option<Vec<String>>,
    /// Run each test this many times; it counts as passed if any run passes. `verify` uses
    /// this to prove that a known-wrong variant is caught every time, not most times.
    pub runs: usize,
}

impl<'a> Target<'a> {
    fn selected(&self) -> impl Iterator<Item = &'a TestSpec> + use<'a, '_> {
        self.exercise
            .tests
            .iter()
            .filter(|t| self.only.as_ref().is_none_or(|o| o.contains(&t.name)))
    }
}

/// How a grading run treats the code it grades.
#[derive(Clone, Debug)]
pub struct Options {
    /// Every test's timeout is multiplied by this (1.0 normally).
    pub timeout_scale: f64,
    /// Run builds and tests in the sandbox (with whatever layers the system has).
    pub sandbox: bool,
    /// Instructor grading: a test counts only if its thread could be confined.
    pub strict: bool,
    /// Wall-clock limit for compiling one exercise's crates.
    pub build_timeout: std::time::Duration,
    /// Reuse the result of the same code graded the same way (see `cache`).
    pub cache: bool,
    /// No progress lines (class grading prints its own).
    pub quiet: bool,
    /// A student's run: once loom proves a deadlock, ordinary tests get a short time limit
    /// (their hangs are that deadlock), so the report comes in seconds, not minutes.
    pub fast_feedback: bool,
    /// Replay each failing loom model to draw its interleaving (see `timeline`).
    pub timeline: bool,
    /// Receives each test's report (with its exercise's slug) the moment it is known.
    pub listener: Option<std::sync::mpsc::Sender<(String, TestReport)>>,
    /// The harness work folder to build in, instead of one per graded folder. Class grading
    /// gives each of its parallel graders one, so the next submission's build reuses the
    /// previous one's (the sources are copied in with fresh dates; cargo and rustc's
    /// incremental compilation rebuild whatever the new code changes).
    pub work_key: Option<String>,
    /// Keep rustc's incremental caches (see [`harness::BuildOptions::incremental`]); off
    /// when the caller's environment says `CARGO_INCREMENTAL=0`, as it would for cargo.
    pub incremental: bool,
}

impl Options {
    /// What a student's own commands use: the sandbox where the system has one.
    pub fn student(timeout_scale: f64) -> Self {
        Options {
            timeout_scale,
            sandbox: crate::sandbox::usable(),
            strict: false,
            build_timeout: std::time::Duration::from_secs(60),
            cache: true,
            quiet: false,
            fast_feedback: true,
            timeline: true,
            listener: None,
            work_key: None,
            incremental: std::env::var_os("CARGO_INCREMENTAL").is_none_or(|v| v != "0"),
        }
    }
}

/// Grades the exercises in `dir` (a folder of `NN-slug` crates), all or the selected ones.
pub fn grade_dir(
    paths: &Paths,
    curriculum: &Curriculum,
    dir: &Path,
    select: Option<&str>,
    options: &Options,
) -> Result<GradeReport> {
    let targets: Vec<Target<'_>> = curriculum
        .exercise
        .iter()
        .filter(|e| select.is_none_or(|s| e.slug == s))
        .map(|e| Target {
            exercise: e,
            crate_dir: dir.join(&e.dir),
            only: None,
            runs: 1,
        })
        .collect();
    let key = options
        .work_key
        .clone()
        .unwrap_or_else(|| format!("grade-{}", short_hash(&dir.to_string_lossy())));
    let exercises = evaluate(paths, &key, &targets, options)?;
    Ok(GradeReport {
        checker_version: env!("CARGO_PKG_VERSION"),
        score: exercises.iter().map(|e| e.score).sum(),
        max_score: exercises.iter().map(|e| e.max_score).sum(),
        exercises,
        run: RunRecord::new(paths, options),
    })
}

/// What grading does with one target.
struct Plan<'t, 'a> {
    target: &'t Target<'a>,
    /// Set when the target is not built at all (coming soon, missing, rejected).
    early: Option<ExerciseReport>,
    unit: Built,
    loom: Built,
    warnings: Vec<String>,
    /// The checker's copy of the subject crate, which reports' locations refer to.
    source_dir: PathBuf,
    /// One slot per selected test, in manifest order.
    results: Vec<Option<TestReport>>,
}

impl Plan<'_, '_> {
    fn built(&self, kind: Kind) -> &Built {
        match Tier::of(kind) {
            Tier::Unit => &self.unit,
            Tier::Loom => &self.loom,
            Tier::Bench => unreachable!("no test kind is built by the bench tier"),
        }
    }
}

/// Builds and runs every target; reports come back in the order of `targets`.
pub fn evaluate(
    paths: &Paths,
    key: &str,
    targets: &[Target<'_>],
    options: &Options,
) -> Result<Vec<ExerciseReport>> {
    let settings = runner::Settings {
        sandbox: options.sandbox,
        require_confinement: options.strict,
        scratch_root: paths.scratch.join("tmp"),
    };
    let cache = options
        .cache
        .then(|| crate::cache::Cache::new(paths, options));
    let mut plans: Vec<Plan<'_, '_>> = targets
        .iter()
        .map(|t| Plan {
            target: t,
            early: precheck(t).or_else(|| cache.as_ref().and_then(|c| c.get(t))),
            unit: Built::NoTests,
            loom: Built::NoTests,
            warnings: Vec::new(),
            source_dir: t.crate_dir.clone(),
            results: t.selected().map(|_| None).collect(),
        })
        .collect();

    let buildable: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].early.is_none())
        .collect();
    let units: Vec<harness::Unit<'_>> = buildable
        .iter()
        .map(|&i| harness::Unit {
            exercise: targets[i].exercise,
            crate_dir: targets[i].crate_dir.clone(),
            tests: targets[i].selected().collect(),
        })
        .collect();
    let progress = Progress::new(options.quiet);
    let phase = crate::progress::phase;
    phase("grading starts");
    harness::prepare_sources(paths, key, &units)?;
    phase("sources ready");
    let build_options = harness::BuildOptions {
        sandbox: options.sandbox,
        deadline: options.build_timeout,
        sources_ready: true,
        incremental: options.incremental,
    };
    // Both tiers at once: cargo locks each profile's folder on its own, so the debug build of
    // the tests and the release build of the loom models do not wait for each other.
    let (unit_built, loom_built) = std::thread::scope(|scope| {
        let loom = scope.spawn(|| {
            let built = harness::build(paths, key, Tier::Loom, &units, &progress, &build_options);
            phase("loom tier built");
            built
        });
        let unit = harness::build(paths, key, Tier::Unit, &units, &progress, &build_options);
        phase("unit tier built");
        (unit, loom.join())
    });
    let loom_built = match loom_built {
        Ok(built) => built,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    for (tier, built) in [(Tier::Unit, unit_built?), (Tier::Loom, loom_built?)] {
        for (&i, b) in buildable.iter().zip(built) {
            plans[i].source_dir = b.source_dir;
            match tier {
                Tier::Unit => {
                    plans[i].warnings = b.warnings;
                    plans[i].unit = b.built;
                }
                Tier::Loom => {
                    // A crate that does not compile is reported once, with the first tier's
                    // errors, whatever its loom build said.
                    plans[i].loom = match (&plans[i].unit, b.built) {
                        (Built::CrateError(e), _) => Built::CrateError(e.clone()),
                        (_, built) => built,
                    }
                }
                Tier::Bench => {}
            }
        }
    }

    // Every selected test of every built target, each in its own process, in parallel.
    struct Job<'a> {
        plan: usize,
        slot: usize,
        test: &'a TestSpec,
        exe: PathBuf,
    }
    let mut jobs = Vec::new();
    for (p, plan) in plans.iter().enumerate() {
        if plan.early.is_some() {
            continue;
        }
        for (slot, test) in plan.target.selected().enumerate() {
            if let Built::Ready(exe) = plan.built(test.kind) {
                for _ in 0..plan.target.runs.max(1) {
                    jobs.push(Job {
                        plan: p,
                        slot,
                        test,
                        exe: exe.clone(),
                    });
                }
            }
        }
    }
    // Longest first, as the last run measured them (on 2 cores the order decides when the
    // last test ends); a test never measured counts as long if it is a loom model. Loom
    // models first in any case: when they prove a bug they explain the rest.
    let hints = Durations::load(paths);
    jobs.sort_by_key(|j| {
        let slug = &plans[j.plan].target.exercise.slug;
        let guess = hints.guess(slug, j.test);
        (j.test.kind != Kind::Loom, std::cmp::Reverse(guess))
    });
    let work_dir = paths.scratch.join("work").join(key);
    let results: Mutex<Vec<(usize, usize, TestReport)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let bar = progress.tests(jobs.len());
    let proven: Mutex<std::collections::HashSet<usize>> = Mutex::new(Default::default());
    // Exercises where, after loom's proof, an ordinary test hung too: (plan, that test).
    let hung: Mutex<std::collections::HashMap<usize, String>> = Mutex::new(Default::default());
    std::thread::scope(|s| {
        for _ in 0..workers.min(jobs.len()) {
            s.spawn(|| {
                loop {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(j) else { break };
                    let mut timeout = job.test.timeout().mul_f64(options.timeout_scale);
                    let deadlocked = proven
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains(&job.plan);
                    let hung_on = hung
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&job.plan)
                        .cloned();
                    if let (true, Some(hung_on), false) =
                        (options.fast_feedback, &hung_on, job.test.kind == Kind::Loom)
                    {
                        // A student's run: the deadlock is proved and an ordinary test has
                        // already hung on it. The rest would mostly hang too, each costing its
                        // time limit; the next run (after the fix) runs them all.
                        let report = TestReport::unrun(
                            job.test,
                            TestStatus::NotRun,
                            &format!(
                                "not run: loom proved a deadlock and `{hung_on}` hung on it \
                                 too. Fix the deadlock first; the next run runs every test."
                            ),
                        );
                        bar.finished(&report);
                        if let Some(listener) = &options.listener {
                            let slug = plans[job.plan].target.exercise.slug.clone();
                            let _ = listener.send((slug, report.clone()));
                        }
                        results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((job.plan, job.slot, report));
                        continue;
                    }
                    if options.fast_feedback && deadlocked && job.test.kind != Kind::Loom {
                        // Loom has proved this exercise deadlocks: a test that hangs hangs for
                        // the same reason, and one that passes does so in milliseconds.
                        timeout =
                            timeout.min(PROVEN_DEADLOCK_TIMEOUT.mul_f64(options.timeout_scale));
                    }
                    match runner::run_test(&job.exe, &job.test.harness_name(), timeout, &settings) {
                        Ok(run) => {
                            let at = Locator {
                                crate_dir: &plans[job.plan].source_dir,
                                work_dir: &work_dir,
                            };
                            let mut explained = explain::explain(job.test, &run.outcome, &at);
                            let replayable = matches!(
                                explained.diagnosis,
                                Some(
                                    Diagnosis::Deadlock | Diagnosis::Leak | Diagnosis::ModelFailure
                                )
                            );
                            if options.timeline
                                && replayable
                                && job.test.kind == Kind::Loom
                                && let Some(drawn) = crate::timeline::replay(
                                    &job.exe,
                                    &job.test.harness_name(),
                                    timeout,
                                    &settings,
                                    &at,
                                )
                            {
                                explained.message.push_str(&format!(
                                    "\nHow it happens — the interleaving loom found, trimmed to \
                                     the steps that matter:\n{drawn}"
                                ));
                            }
                            let passed = explained.status == TestStatus::Passed;
                            let report = TestReport {
                                name: job.test.name.clone(),
                                kind: job.test.kind,
                                status: explained.status,
                                diagnosis: explained.diagnosis,
                                score: if passed { job.test.points } else { 0 },
                                max_score: job.test.points,
                                message: clip(explained.message, MAX_TEST_MESSAGE),
                                duration_ms: u64::try_from(run.elapsed.as_millis())
                                    .unwrap_or(u64::MAX),
                            };
                            bar.finished(&report);
                            if let Some(listener) = &options.listener {
                                let slug = plans[job.plan].target.exercise.slug.clone();
                                let _ = listener.send((slug, report.clone()));
                            }
                            if report.diagnosis == Some(Diagnosis::Deadlock) {
                                proven
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .insert(job.plan);
                            }
                            if deadlocked && report.status == TestStatus::Timeout {
                                hung.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .entry(job.plan)
                                    .or_insert_with(|| report.name.clone());
                            }
                            results
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push((job.plan, job.slot, report));
                        }
                        Err(e) => {
                            *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    bar.done();
    phase("tests run");
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    for (p, slot, report) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let kept = &mut plans[p].results[slot];
        // Several runs: a pass wins (the test did not catch every time); else the first.
        if kept.as_ref().is_none_or(|k| !k.passed() && report.passed()) {
            *kept = Some(report);
        }
    }

    let mut hints = Durations::load(paths);
    for plan in &plans {
        for report in plan.results.iter().flatten() {
            // A pass is what the test costs when it runs in full (a failure often stops early).
            if report.passed() {
                hints.record(&plan.target.exercise.slug, &report.name, report.duration_ms);
            }
        }
    }
    hints.save(paths);

    let cached: Vec<bool> = plans
        .iter()
        .map(|p| p.early.as_ref().is_some_and(|e| e.cached))
        .collect();
    let reports: Vec<ExerciseReport> = plans.into_iter().map(finish).collect();
    if let Some(cache) = &cache {
        for ((t, r), was_cached) in targets.iter().zip(&reports).zip(cached) {
            if !was_cached {
                cache.put(t, r);
            }
        }
    }
    Ok(reports)
}

/// The exercise's report from its plan.
fn finish(plan: Plan<'_, '_>) -> ExerciseReport {
    if let Some(report) = plan.early {
        return report;
    }
    let tests: Vec<TestReport> = plan
        .target
        .selected()
        .zip(&plan.results)
        .map(|(test, result)| {
            result
                .clone()
                .unwrap_or_else(|| match plan.built(test.kind) {
                    Built::CrateError(_) => TestReport::unrun(
                        test,
                        TestStatus::CompileError,
                        "the crate does not compile",
                    ),
                    Built::SuiteError(_) => TestReport::unrun(
                        test,
                        TestStatus::CompileError,
                        "the tests cannot use the crate",
                    ),
                    Built::Ready(_) | Built::NoTests => {
                        TestReport::unrun(test, TestStatus::NotRun, "")
                    }
                })
        })
        .collect();
    let shown =
        |text: &str| -> String { text.replace(&format!("{}/", plan.source_dir.display()), "") };
    let warnings: Vec<String> = plan
        .warnings
        .iter()
        .take(MAX_WARNINGS)
        .map(|w| clip(shown(w), MAX_TEST_MESSAGE))
        .collect();
    let compile_message = [&plan.unit, &plan.loom].iter().find_map(|b| match b {
        Built::CrateError(e) => Some(clip(shown(e), MAX_BUILD_MESSAGE)),
        Built::SuiteError(e) => Some(format!(
            "Your crate compiles, but the checker's tests cannot use it. Did a public name or \
             signature change? Keep the API exactly as the doc comments give it.\n\n{e}"
        )),
        _ => None,
    });
    summarise(
        plan.target,
        &plan.source_dir,
        tests,
        compile_message,
        warnings,
    )
}

/// The known-wrong variant whose signature the failures match: every test that catches it
/// failed, and it is the most specific such variant (the most tests in its signature).
fn looks_like(ex: &Exercise, tests: &[TestReport]) -> Option<LooksLike> {
    let failed: std::collections::HashSet<&str> = tests
        .iter()
        .filter(|t| !t.passed() && t.status != TestStatus::NotRun)
        .map(|t| t.name.as_str())
        .collect();
    if failed.is_empty() {
        return None;
    }
    // In a student's run, tests may have been left unrun after a proven deadlock: they may
    // have failed. A variant matches when every test that catches it failed or was not run;
    // the one with most failures wins, then the one the most tests catch.
    let not_run: std::collections::HashSet<&str> = tests
        .iter()
        .filter(|t| t.status == TestStatus::NotRun)
        .map(|t| t.name.as_str())
        .collect();
    ex.wrong
        .iter()
        .filter(|w| {
            w.caught_by
                .iter()
                .all(|c| failed.contains(c.as_str()) || not_run.contains(c.as_str()))
        })
        .max_by_key(|w| {
            let failing = w
                .caught_by
                .iter()
                .filter(|c| failed.contains(c.as_str()))
                .count();
            (failing, w.caught_by.len())
        })
        .map(|w| LooksLike {
            variant: w.name.clone(),
            bug: w.bug.clone(),
            chapter: ex.chapter.clone(),
        })
}

/// How long each test took when it last ran: only the order tests are started in depends on
/// it (longest first), so a missing or corrupt file costs nothing but that order.
#[derive(Default, Serialize, Deserialize)]
struct Durations {
    /// `slug/test` → milliseconds.
    ms: std::collections::BTreeMap<String, u64>,
}

impl Durations {
    fn file(paths: &Paths) -> PathBuf {
        paths.scratch.join("results").join("durations.json")
    }

    fn load(paths: &Paths) -> Self {
        std::fs::read(Self::file(paths))
            .ok()
            .and_then(|text| serde_json::from_slice(&text).ok())
            .unwrap_or_default()
    }

    fn guess(&self, slug: &str, test: &TestSpec) -> u64 {
        self.ms
            .get(&format!("{slug}/{}", test.name))
            .copied()
            .unwrap_or(match test.kind {
                Kind::Loom => 1_000,
                _ => 50,
            })
    }

    fn record(&mut self, slug: &str, test: &str, ms: u64) {
        self.ms.insert(format!("{slug}/{test}"), ms);
    }

    fn save(&self, paths: &Paths) {
        let file = Self::file(paths);
        let Some(dir) = file.parent() else { return };
        if std::fs::create_dir_all(dir).is_ok()
            && let Ok(text) = serde_json::to_vec(self)
        {
            // Write then rename: two checkers at once lose at most one's update.
            static SAVES: AtomicUsize = AtomicUsize::new(0);
            let n = SAVES.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!("durations.{}-{n}.tmp", std::process::id()));
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, &file);
            }
        }
    }
}

/// An ordinary test's time limit, in a student's run, once loom has proved a deadlock.
const PROVEN_DEADLOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(750);

/// Longest message kept for one test (student code decides what a panic says).
const MAX_TEST_MESSAGE: usize = 16 * 1024;
/// Longest compiler output kept for one exercise.
const MAX_BUILD_MESSAGE: usize = 64 * 1024;
/// Warnings kept for one exercise.
const MAX_WARNINGS: usize = 20;

/// `text`, cut at `max` bytes (on a character boundary) with a note of what was left out.
pub fn clip(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} more bytes not shown)",
        &text[..end],
        text.len() - end
    )
}

fn precheck(t: &Target<'_>) -> Option<ExerciseReport> {
    let ex = t.exercise;
    let blank = |status, message: Option<String>| ExerciseReport {
        id: ex.id,
        slug: ex.slug.clone(),
        title: ex.title.clone(),
        status,
        score: 0,
        max_score: if status == ExerciseStatus::ComingSoon {
            0
        } else {
            t.selected().map(|t| t.points).sum()
        },
        message,
        source_hash: None,
        warnings: Vec::new(),
        looks_like: None,
        cached: false,
        tests: Vec::new(),
    };
    if !ex.is_ready() {
        return Some(blank(ExerciseStatus::ComingSoon, None));
    }
    let lib = t.crate_dir.join("src").join("lib.rs");
    if !lib.is_file() {
        return Some(blank(
            ExerciseStatus::Missing,
            Some(format!("no crate here: {} does not exist", lib.display())),
        ));
    }
    let violations = facade_rule::violations(&t.crate_dir.join("src"));
    if !violations.is_empty() {
        return Some(blank(
            ExerciseStatus::Rejected,
            Some(format!(
                "This crate bypasses the sync facade, so its loom model checks could not see \
                 it. Fix these and check again:\n  {}",
                violations.join("\n  ")
            )),
        ));
    }
    None
}

fn summarise(
    t: &Target<'_>,
    // What was graded: the checker's copy of the subject (the student may have saved since).
    graded: &Path,
    mut tests: Vec<TestReport>,
    message: Option<String>,
    warnings: Vec<String>,
) -> ExerciseReport {
    // A deadlock that loom proved explains this exercise's hangs better than any guess.
    if let Some(model) = tests
        .iter()
        .find(|r| r.diagnosis == Some(Diagnosis::Deadlock))
        .map(|r| r.name.clone())
    {
        for r in tests.iter_mut().filter(|r| r.status == TestStatus::Timeout) {
            if let Some(spec) = t.exercise.test(&r.name) {
                r.message = explain::timeout_message(spec, Some(&model));
            }
        }
    }
    let score = tests.iter().map(|t| t.score).sum();
    let max_score = tests.iter().map(|t| t.max_score).sum();
    let status = if message.is_some() {
        ExerciseStatus::CompileError
    } else if tests.iter().all(TestReport::passed) {
        ExerciseStatus::Passed
    } else if score == 0 && tests.iter().any(|t| t.diagnosis == Some(Diagnosis::Todo)) {
        ExerciseStatus::NotStarted
    } else {
        ExerciseStatus::InProgress
    };
    let ex = t.exercise;
    ExerciseReport {
        id: ex.id,
        slug: ex.slug.clone(),
        title: ex.title.clone(),
        status,
        score,
        max_score,
        message,
        source_hash: Some(crate::digest::tree(&[graded.join("src")])),
        looks_like: if status == ExerciseStatus::InProgress {
            looks_like(ex, &tests)
        } else {
            None
        },
        warnings,
        cached: false,
        tests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_remembered_and_a_corrupt_file_is_ignored() {
        let dir = std::env::temp_dir().join(format!("durations-{}", std::process::id()));
        let paths = Paths {
            root: dir.clone(),
            target: dir.clone(),
            scratch: dir.clone(),
        };
        let test = |kind| TestSpec {
            name: "t".into(),
            kind,
            points: 1,
            explains: String::new(),
            on_timeout: None,
            timeout_secs: None,
            public: false,
        };
        let none = Durations::load(&paths);
        assert_eq!(none.guess("basic", &test(Kind::Loom)), 1_000);
        assert_eq!(none.guess("basic", &test(Kind::Unit)), 50);
        let mut hints = Durations::default();
        hints.record("basic", "t", 1234);
        hints.save(&paths);
        let loaded = Durations::load(&paths);
        assert_eq!(loaded.guess("basic", &test(Kind::Unit)), 1234);
        assert_eq!(loaded.guess("buffered", &test(Kind::Unit)), 50);
        std::fs::write(Durations::file(&paths), b"{ not json").unwrap();
        assert_eq!(
            Durations::load(&paths).guess("basic", &test(Kind::Unit)),
            50
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
