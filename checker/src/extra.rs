//! An instructor's private tests (`--extra-suite DIR`), added to one exercise without editing
//! the repository. DIR holds `extra.toml` —
//!
//! ```toml
//! exercise = "basic"
//! [[test]]
//! name = "my_hidden_test"     # a `pub fn` in DIR/hidden.rs (kind "unit") or DIR/model.rs ("loom")
//! kind = "unit"
//! points = 2
//! explains = "what it proves"
//! ```
//!
//! — and the test files. The tests are built and run exactly like the built-in suite's (same
//! harness, sandbox and timeouts) and reported inside the exercise's own entry.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

use crate::curriculum::{Curriculum, Exercise, Kind, TestSpec};
use crate::grade::{self, GradeReport, Options, Target};
use crate::paths::{Paths, short_hash};

pub struct ExtraSuite {
    /// The exercise, with only the extra tests and `suite_override` pointing at DIR.
    pub exercise: Exercise,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraFile {
    exercise: String,
    #[serde(rename = "test")]
    tests: Vec<TestSpec>,
}

impl ExtraSuite {
    pub fn load(curriculum: &Curriculum, dir: &Path) -> Result<Self> {
        let file = dir.join("extra.toml");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let extra: ExtraFile =
            toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        let base = curriculum.find(&extra.exercise)?;
        ensure!(!extra.tests.is_empty(), "{} lists no test", file.display());
        for t in &extra.tests {
            if t.kind == Kind::Starter {
                bail!(
                    "{}: extra tests are `unit` or `loom`, not `starter`",
                    t.name
                );
            }
            if base.test(&t.name).is_some() {
                bail!(
                    "{}: the built-in suite of {} already has a test of that name",
                    t.name,
                    base.slug
                );
            }
            ensure!(
                t.points > 0,
                "{}: a test is worth at least one point",
                t.name
            );
        }
        let dir = dir
            .canonicalize()
            .with_context(|| format!("resolving {}", dir.display()))?;
        Ok(ExtraSuite {
            exercise: Exercise {
                id: base.id,
                slug: base.slug.clone(),
                title: base.title.clone(),
                krate: base.krate.clone(),
                dir: base.dir.clone(),
                chapter: base.chapter.clone(),
                status: base.status,
                hints: Vec::new(),
                spec: Vec::new(),
                tests: extra.tests,
                wrong: Vec::new(),
                equivalent: Vec::new(),
                dependencies: base.dependencies.clone(),
                suite_dependencies: base.suite_dependencies.clone(),
                suite_override: Some(dir),
            },
        })
    }

    pub fn max_score(&self) -> u32 {
        self.exercise.tests.iter().map(|t| t.points).sum()
    }

    pub fn dir(&self) -> PathBuf {
        self.exercise.suite_override.clone().unwrap_or_default()
    }
}

/// Grades the extra suites against the exercises in `dir` and adds their tests to `report`.
pub fn grade_extra(
    paths: &Paths,
    dir: &Path,
    extras: &[ExtraSuite],
    options: &Options,
    report: &mut GradeReport,
) -> Result<()> {
    if extras.is_empty() {
        return Ok(());
    }
    let targets: Vec<Target<'_>> = extras
        .iter()
        .map(|x| Target {
            exercise: &x.exercise,
            crate_dir: dir.join(&x.exercise.dir),
            only: None,
            runs: 1,
        })
        .collect();
    let key = format!(
        "extra-{}",
        short_hash(&format!(
            "{}|{}",
            dir.display(),
            extras
                .iter()
                .map(|x| x.dir().display().to_string())
                .collect::<Vec<_>>()
                .join("|")
        ))
    );
    for (extra, mut graded) in extras
        .iter()
        .zip(grade::evaluate(paths, &key, &targets, options)?)
    {
        let Some(entry) = report
            .exercises
            .iter_mut()
            .find(|e| e.slug == extra.exercise.slug)
        else {
            continue;
        };
        if entry.message.is_none() {
            entry.tests.append(&mut graded.tests);
        } else {
            // The crate did not get as far as the tests: the extra ones score 0 too.
            entry.max_score += extra.max_score();
            continue;
        }
        entry.score = entry.tests.iter().map(|t| t.score).sum();
        entry.max_score = entry.tests.iter().map(|t| t.max_score).sum();
        if entry.status == grade::ExerciseStatus::Passed && entry.tests.iter().any(|t| !t.passed())
        {
            entry.status = grade::ExerciseStatus::InProgress;
        }
    }
    report.score = report.exercises.iter().map(|e| e.score).sum();
    report.max_score = report.exercises.iter().map(|e| e.max_score).sum();
    Ok(())
}
