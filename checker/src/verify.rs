//! `checker verify`: proves the curriculum. For every ready exercise: each starter and hidden
//! test passes on the reference solution; each test fails on the untouched stub (the copy
//! shipped in `checker/suites/<slug>/stub/`, never the student's working `exercises/`); each
//! known-wrong variant (the solution with one classic bug patched in) fails every test that
//! claims to catch it; the suite files, the starter tests and the manifest list the same
//! tests; and the spec map covers every promise of the stub's documentation. It also runs
//! the sync facade's own loom models.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::curriculum::{Curriculum, Exercise, Kind};
use crate::grade::{self, ExerciseReport, Target};
use crate::harness::{self, write_if_changed};
use crate::paths::Paths;

/// How `verify` runs.
pub struct Options {
    /// Only these exercises (all ready ones, and the facade's models, when empty).
    pub only: Vec<String>,
    /// Grade each known-wrong variant this many times: every run must catch it.
    pub repeat: usize,
    /// Only the manifest listings and spec maps: nothing is built or run.
    pub static_only: bool,
}

pub fn verify(paths: &Paths, curriculum: &Curriculum, options: &Options) -> Result<()> {
    let only = &options.only;
    let start = Instant::now();
    let mut problems = Vec::new();
    let exercises: Vec<&Exercise> = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .filter(|e| only.is_empty() || only.contains(&e.slug))
        .collect();
    if exercises.is_empty() {
        bail!("nothing to verify: no ready exercise matches {only:?}");
    }

    if options.static_only {
        for ex in &exercises {
            problems.extend(check_listing(paths, ex)?);
            problems.extend(check_spec(paths, ex)?);
        }
        println!(
            "checked the manifests and spec maps of {} exercise(s) in {:.1}s",
            exercises.len(),
            start.elapsed().as_secs_f64()
        );
        return conclude(&problems);
    }

    if only.is_empty() {
        match facade_models(paths) {
            Ok(summary) => println!("facade: loom models of the channel pass ({summary})"),
            Err(e) => problems.push(format!("facade: {e:#}")),
        }
    }

    let mut targets = Vec::new();
    let mut roles = Vec::new();
    for ex in &exercises {
        problems.extend(check_listing(paths, ex)?);
        problems.extend(check_spec(paths, ex)?);
        targets.push(Target {
            exercise: ex,
            crate_dir: paths.solutions().join(&ex.dir),
            only: None,
            runs: 1,
        });
        roles.push(Role::Solution);
        targets.push(Target {
            exercise: ex,
            crate_dir: pristine_crate(paths, ex)?,
            only: None,
            runs: 1,
        });
        roles.push(Role::Stub);
        for (k, wrong) in ex.wrong.iter().enumerate() {
            let dir = variant_crate(paths, ex, &wrong.name).with_context(|| {
                format!("{}: building known-wrong variant {}", ex.slug, wrong.name)
            })?;
            targets.push(Target {
                exercise: ex,
                crate_dir: dir,
                // Only what must catch it: a variant that hangs costs a timeout per test.
                only: Some(wrong.caught_by.clone()),
                runs: options.repeat.max(1),
            });
            roles.push(Role::Wrong(k));
        }
    }
    let key = if only.is_empty() {
        "verify".to_string()
    } else {
        format!("verify-{}", only.join("-"))
    };
    let reports = grade::evaluate(
        paths,
        &key,
        &targets,
        &grade::Options {
            cache: false,
            fast_feedback: false,
            // Each variant is built once: no later edit for incremental caches to speed up.
            incremental: false,
            ..grade::Options::student(1.0)
        },
    )?;

    for ((target, role), report) in targets.iter().zip(&roles).zip(&reports) {
        let ex = target.exercise;
        match role {
            Role::Solution => {
                let failing = failures(report, |t| !t.passed());
                if let Some(msg) = &report.message {
                    problems.push(format!("{}: the solution does not build:\n{msg}", ex.slug));
                } else if !failing.is_empty() {
                    problems.push(format!(
                        "{}: the solution fails {}",
                        ex.slug,
                        failing.join("\n")
                    ));
                } else {
                    println!(
                        "{}: solution passes all {} tests ({}/{} points)",
                        ex.slug,
                        report.tests.len(),
                        report.score,
                        report.max_score
                    );
                }
            }
            Role::Stub => {
                let passing = failures(report, |t| t.passed());
                if let Some(msg) = &report.message {
                    problems.push(format!("{}: the stub does not build:\n{msg}", ex.slug));
                } else if !passing.is_empty() {
                    problems.push(format!(
                        "{}: the untouched stub passes tests that should fail: {}",
                        ex.slug,
                        passing.join(", ")
                    ));
                } else {
                    println!(
                        "{}: stub fails all {} tests (score {})",
                        ex.slug,
                        report.tests.len(),
                        report.score
                    );
                }
            }
            Role::Wrong(k) => {
                let wrong = &ex.wrong[*k];
                if let Some(msg) = &report.message {
                    problems.push(format!(
                        "{}: known-wrong variant {} does not build:\n{msg}",
                        ex.slug, wrong.name
                    ));
                    continue;
                }
                let escaped: Vec<&str> = report
                    .tests
                    .iter()
                    .filter(|t| t.passed())
                    .map(|t| t.name.as_str())
                    .collect();
                // A loom-proven deadlock or leak must come with its interleaving.
                let untold: Vec<&str> = report
                    .tests
                    .iter()
                    .filter(|t| {
                        t.kind == Kind::Loom
                            && matches!(
                                t.diagnosis,
                                Some(grade::Diagnosis::Deadlock | grade::Diagnosis::Leak)
                            )
                            && !t.message.contains("How it happens")
                    })
                    .map(|t| t.name.as_str())
                    .collect();
                if !untold.is_empty() {
                    problems.push(format!(
                        "{}: known-wrong variant {}: loom proved it but the report shows no \
                         interleaving for {}",
                        ex.slug,
                        wrong.name,
                        untold.join(", ")
                    ));
                }
                if escaped.is_empty() && report.looks_like.is_none() {
                    problems.push(format!(
                        "{}: known-wrong variant {} is caught, but its report names no known bug",
                        ex.slug, wrong.name
                    ));
                }
                if escaped.is_empty() {
                    let how: Vec<String> = report
                        .tests
                        .iter()
                        .map(|t| format!("{} ({})", t.name, t.status))
                        .collect();
                    println!(
                        "{}: rejects {:<32} caught by {}",
                        ex.slug,
                        wrong.name,
                        how.join(", ")
                    );
                } else {
                    problems.push(format!(
                        "{}: known-wrong variant {} ({}) passes {} — the suite does not catch it",
                        ex.slug,
                        wrong.name,
                        wrong.bug,
                        escaped.join(", ")
                    ));
                }
            }
        }
    }

    println!(
        "verified {} exercise(s) in {:.1}s",
        exercises.len(),
        start.elapsed().as_secs_f64()
    );
    conclude(&problems)
}

fn conclude(problems: &[String]) -> Result<()> {
    if problems.is_empty() {
        println!("verify: OK");
        Ok(())
    } else {
        let mut text = String::new();
        for p in problems {
            let _ = writeln!(text, "- {p}");
        }
        bail!("verify found {} problem(s):\n{text}", problems.len())
    }
}

enum Role {
    Solution,
    Stub,
    Wrong(usize),
}

fn failures(report: &ExerciseReport, pick: impl Fn(&grade::TestReport) -> bool) -> Vec<String> {
    report
        .tests
        .iter()
        .filter(|t| pick(t))
        .map(|t| format!("{} [{}]: {}", t.name, t.status, t.message))
        .collect()
}

/// The manifest, the suite files and the starter file must list the same tests.
fn check_listing(paths: &Paths, ex: &Exercise) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let sources = [
        (Kind::Starter, paths.pristine_starter(&ex.slug), "#[test]"),
        (
            Kind::Unit,
            paths.suite_dir(&ex.slug).join("hidden.rs"),
            "pub fn",
        ),
        (
            Kind::Loom,
            paths.suite_dir(&ex.slug).join("model.rs"),
            "pub fn",
        ),
    ];
    for (kind, file, marker) in sources {
        let in_file = test_functions(&file, marker)?;
        let in_manifest: BTreeSet<String> = ex.tests_of(kind).map(|t| t.name.clone()).collect();
        for missing in in_file.difference(&in_manifest) {
            problems.push(format!(
                "{}: {} defines test `{missing}`, which curriculum.toml does not list (it would never be graded)",
                ex.slug,
                file.display()
            ));
        }
        for missing in in_manifest.difference(&in_file) {
            problems.push(format!(
                "{}: curriculum.toml lists {kind:?} test `{missing}`, which {} does not define",
                ex.slug,
                file.display()
            ));
        }
    }
    Ok(problems)
}

/// Names of `pub fn name(` (hidden suites) or of the `fn` after each `#[test]` (starter).
fn test_functions(file: &Path, marker: &str) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let Ok(text) = fs::read_to_string(file) else {
        return Ok(names);
    };
    let mut armed = marker != "#[test]";
    for line in text.lines().map(str::trim) {
        if marker == "#[test]" && line.starts_with("#[test]") {
            armed = true;
            continue;
        }
        let rest = if marker == "#[test]" {
            line.strip_prefix("fn ")
        } else {
            line.strip_prefix("pub fn ")
        };
        if let (true, Some(rest)) = (armed, rest) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if rest[name.len()..].starts_with("()") {
                names.insert(name);
            }
            if marker == "#[test]" {
                armed = false;
            }
        }
    }
    Ok(names)
}

/// The spec map against the shipped stub (see `spec_map`).
fn check_spec(paths: &Paths, ex: &Exercise) -> Result<Vec<String>> {
    let stub = paths.pristine_stub(&ex.slug);
    let source =
        fs::read_to_string(&stub).with_context(|| format!("reading {}", stub.display()))?;
    crate::spec_map::check(ex, &source)
}

/// The shipped stub as a crate folder (`target/checker/pristine/<slug>/src/lib.rs`).
fn pristine_crate(paths: &Paths, ex: &Exercise) -> Result<PathBuf> {
    let dir = paths.scratch.join("pristine").join(&ex.slug);
    let stub = paths.pristine_stub(&ex.slug);
    let text = fs::read_to_string(&stub).with_context(|| format!("reading {}", stub.display()))?;
    fs::create_dir_all(dir.join("src"))?;
    write_if_changed(&dir.join("src").join("lib.rs"), &text)?;
    Ok(dir)
}

/// `exercises/` as shipped must equal the stubs `verify` proves (CI checks this on a clean
/// clone; a student's copy differs by design).
pub fn check_shipped_stubs(paths: &Paths, curriculum: &Curriculum) -> Result<()> {
    let mut problems = Vec::new();
    for ex in curriculum.exercise.iter().filter(|e| e.is_ready()) {
        let krate = paths.exercises().join(&ex.dir);
        for (shipped, working) in [
            (
                paths.pristine_stub(&ex.slug),
                krate.join("src").join("lib.rs"),
            ),
            (
                paths.pristine_starter(&ex.slug),
                krate.join("tests").join("starter.rs"),
            ),
        ] {
            if fs::read(&shipped).ok() != fs::read(&working).ok() {
                problems.push(format!(
                    "{} differs from {}: edit the stub in checker/suites/{}/stub/ and run                      `cargo checker reset {} --yes` to copy it out",
                    working.display(),
                    shipped.display(),
                    ex.slug,
                    ex.slug
                ));
            }
        }
    }
    if problems.is_empty() {
        println!("exercises/ matches the shipped stubs");
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

/// The solution with the variant's patch applied, in `target/checker/variants/`.
fn variant_crate(paths: &Paths, ex: &Exercise, name: &str) -> Result<PathBuf> {
    let patch_file = paths
        .suite_dir(&ex.slug)
        .join("wrong")
        .join(format!("{name}.diff"));
    let patch_text = fs::read_to_string(&patch_file)
        .with_context(|| format!("reading {}", patch_file.display()))?;
    let patch = diffy::Patch::from_str(&patch_text)
        .with_context(|| format!("parsing {}", patch_file.display()))?;
    let file = patch
        .modified()
        .or(patch.original())
        .context("the patch names no file")?;
    let file = file.trim_start_matches("b/").trim_start_matches("a/");
    let solution = paths.solutions().join(&ex.dir);
    let out = paths.scratch.join("variants").join(&ex.slug).join(name);
    copy_src(&solution.join("src"), &out.join("src"))?;
    let original = fs::read_to_string(solution.join(file))
        .with_context(|| format!("reading {file} of the solution"))?;
    let patched = diffy::apply(&original, &patch).with_context(|| {
        format!(
            "{} no longer applies to the solution's {file}: update the variant",
            patch_file.display()
        )
    })?;
    write_if_changed(&out.join(file), &patched)?;
    Ok(out)
}

fn copy_src(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_src(&entry.path(), &dest)?;
        } else {
            write_if_changed(&dest, &fs::read_to_string(entry.path())?)?;
        }
    }
    Ok(())
}

/// Runs the facade's own tests in the model-check build (a separate cargo invocation: the
/// `loom` feature must not leak into the workbook's ordinary build).
fn facade_models(paths: &Paths) -> Result<String> {
    let output = harness::cargo_command(paths)
        .current_dir(&paths.root)
        .args([
            "test",
            "--release",
            "--tests",
            "-p",
            "workbook-sync",
            "--features",
            "loom",
        ])
        .args(harness::LOOM_CONFIG)
        .output()
        .context("running cargo for the facade's loom models")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the facade's loom models fail:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let passed: usize = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    Ok(format!("{passed} tests"))
}
