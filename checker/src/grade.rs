//! Grading: build every hidden suite against a subject's crates, run each test in its own
//! process, and assemble the native report that `--json` prints and every export format is
//! translated from.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use serde::Serialize;

use crate::curriculum::{Curriculum, Exercise, Kind};
use crate::explain;
use crate::facade_rule;
use crate::harness::{self, Built, Tier};
use crate::paths::Paths;
use crate::runner;

/// The whole grade of one subject. Field names are a public interface: extend, never break.
#[derive(Debug, Serialize)]
pub struct GradeReport {
    /// The checker that graded (its crate version), for instructors' records.
    pub checker_version: &'static str,
    pub score: u32,
    pub max_score: u32,
    pub exercises: Vec<ExerciseReport>,
}

#[derive(Debug, Serialize)]
pub struct ExerciseReport {
    pub id: u32,
    pub slug: String,
    pub title: String,
    pub status: ExerciseStatus,
    pub score: u32,
    pub max_score: u32,
    /// Why no test ran (compiler errors, the facade rule, a missing crate), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub tests: Vec<TestReport>,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseStatus {
    /// Every test passed.
    Passed,
    /// Some tests pass.
    InProgress,
    /// Every failure is a `todo!()` still in place.
    NotStarted,
    /// The crate does not compile, or the tests cannot use it.
    CompileError,
    /// The crate bypasses the sync facade (see `facade_rule`).
    Rejected,
    /// No crate at the expected place.
    Missing,
    /// Not yet part of the workbook.
    ComingSoon,
}

#[derive(Clone, Debug, Serialize)]
pub struct TestReport {
    pub name: String,
    pub kind: Kind,
    /// "passed" | "failed" | "timeout" | "crashed" | "compile_error" | "not_run"
    pub status: &'static str,
    pub score: u32,
    pub max_score: u32,
    pub message: String,
    pub duration_ms: u64,
    /// The failure is a `todo!()` still in place.
    #[serde(skip)]
    pub todo: bool,
}

/// One crate to grade against one exercise's suite.
pub struct Target<'a> {
    pub exercise: &'a Exercise,
    /// The folder holding `src/lib.rs`.
    pub crate_dir: PathBuf,
    /// Only these tests (all when `None`).
    pub only: Option<Vec<String>>,
}

/// Grades the exercises in `dir` (a folder of `NN-slug` crates), all or the selected ones.
pub fn grade_dir(
    paths: &Paths,
    curriculum: &Curriculum,
    dir: &Path,
    select: Option<&str>,
    timeout_scale: f64,
) -> Result<GradeReport> {
    let targets: Vec<Target<'_>> = curriculum
        .exercise
        .iter()
        .filter(|e| select.is_none_or(|s| e.slug == s))
        .map(|e| Target {
            exercise: e,
            crate_dir: dir.join(&e.dir),
            only: None,
        })
        .collect();
    let key = format!("grade-{}", short_hash(&dir.to_string_lossy()));
    let exercises = evaluate(paths, &key, &targets, timeout_scale)?;
    Ok(GradeReport {
        checker_version: env!("CARGO_PKG_VERSION"),
        score: exercises.iter().map(|e| e.score).sum(),
        max_score: exercises.iter().map(|e| e.max_score).sum(),
        exercises,
    })
}

/// Builds and runs every target; reports come back in the order of `targets`.
///
/// Every test's timeout is multiplied by `timeout_scale` (1.0 normally).
pub fn evaluate(
    paths: &Paths,
    key: &str,
    targets: &[Target<'_>],
    timeout_scale: f64,
) -> Result<Vec<ExerciseReport>> {
    // Decide which targets get built at all.
    let mut early: Vec<Option<ExerciseReport>> = Vec::new();
    for t in targets {
        early.push(precheck(t));
    }
    let buildable: Vec<usize> = (0..targets.len()).filter(|&i| early[i].is_none()).collect();
    let units: Vec<harness::Unit<'_>> = buildable
        .iter()
        .map(|&i| harness::Unit {
            exercise: targets[i].exercise,
            crate_dir: targets[i].crate_dir.clone(),
        })
        .collect();
    let unit_built = harness::build(paths, key, Tier::Unit, &units)?;
    let loom_built = harness::build(paths, key, Tier::Loom, &units)?;

    // Every test of every buildable target, run in parallel, each in its own process.
    struct Job<'a> {
        target: usize,
        test: &'a crate::curriculum::TestSpec,
        exe: PathBuf,
    }
    let mut jobs = Vec::new();
    let mut built_of = vec![None; targets.len()];
    for (u, &i) in buildable.iter().enumerate() {
        built_of[i] = Some((unit_built[u].clone(), loom_built[u].clone()));
        for test in &targets[i].exercise.tests {
            if let Some(only) = &targets[i].only
                && !only.contains(&test.name)
            {
                continue;
            }
            let built = match Tier::of(test.kind) {
                Tier::Unit => &unit_built[u],
                Tier::Loom => &loom_built[u],
            };
            if let Built::Ready(exe) = built {
                jobs.push(Job {
                    target: i,
                    test,
                    exe: exe.clone(),
                });
            }
        }
    }
    let results: Mutex<Vec<Option<TestReport>>> = Mutex::new(vec![None; jobs.len()]);
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.min(jobs.len()) {
            s.spawn(|| {
                loop {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(j) else { break };
                    match runner::run_test(
                        &job.exe,
                        &job.test.harness_name(),
                        job.test.timeout().mul_f64(timeout_scale),
                    ) {
                        Ok(run) => {
                            let explained = explain::explain(job.test, &run.outcome);
                            let passed = explained.status == "passed";
                            let report = TestReport {
                                name: job.test.name.clone(),
                                kind: job.test.kind,
                                status: explained.status,
                                score: if passed { job.test.points } else { 0 },
                                max_score: job.test.points,
                                message: explained.message,
                                duration_ms: run.elapsed.as_millis() as u64,
                                todo: explained.todo,
                            };
                            results.lock().unwrap_or_else(|e| e.into_inner())[j] = Some(report);
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
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());

    let mut reports = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        if let Some(report) = early[i].take() {
            reports.push(report);
            continue;
        }
        let (unit_b, loom_b) = built_of[i].clone().expect("buildable target was built");
        let mut tests = Vec::new();
        for test in &t.exercise.tests {
            if let Some(only) = &t.only
                && !only.contains(&test.name)
            {
                continue;
            }
            let built = match Tier::of(test.kind) {
                Tier::Unit => &unit_b,
                Tier::Loom => &loom_b,
            };
            let from_run = jobs
                .iter()
                .position(|j| j.target == i && std::ptr::eq(j.test, test))
                .and_then(|j| results[j].take());
            tests.push(from_run.unwrap_or_else(|| TestReport {
                name: test.name.clone(),
                kind: test.kind,
                status: match built {
                    Built::Ready(_) | Built::NoTests => "not_run",
                    _ => "compile_error",
                },
                score: 0,
                max_score: test.points,
                message: match built {
                    Built::CrateError(_) => "the crate does not compile".to_string(),
                    Built::SuiteError(_) => "the tests cannot use the crate".to_string(),
                    _ => String::new(),
                },
                duration_ms: 0,
                todo: false,
            }));
        }
        let compile_message = [&unit_b, &loom_b].iter().find_map(|b| match b {
            Built::CrateError(e) => Some(e.clone()),
            Built::SuiteError(e) => Some(format!(
                "Your crate compiles, but the checker's tests cannot use it. Did a public \
                 name or signature change? Keep the API exactly as the doc comments give it.\n\n{e}"
            )),
            _ => None,
        });
        reports.push(summarise(t.exercise, tests, compile_message));
    }
    Ok(reports)
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.status == "passed"
    }
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
            ex.max_score()
        },
        message,
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

fn summarise(ex: &Exercise, tests: Vec<TestReport>, message: Option<String>) -> ExerciseReport {
    let score = tests.iter().map(|t| t.score).sum();
    let max_score = tests.iter().map(|t| t.max_score).sum();
    let status = if message.is_some() {
        ExerciseStatus::CompileError
    } else if tests.iter().all(TestReport::passed) {
        ExerciseStatus::Passed
    } else if score == 0 && tests.iter().any(|t| t.todo) {
        ExerciseStatus::NotStarted
    } else {
        ExerciseStatus::InProgress
    };
    ExerciseReport {
        id: ex.id,
        slug: ex.slug.clone(),
        title: ex.title.clone(),
        status,
        score,
        max_score,
        message,
        tests,
    }
}

/// A short, stable name for a folder (FNV-1a), so each subject keeps its own warm build.
pub fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}
