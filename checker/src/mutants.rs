//! `cargo checker mutants <exercise>`: how much of the reference solution the hidden suite
//! really pins down. `cargo-mutants` (crates.io) generates the mutants of the solution's
//! `src/lib.rs`; each one is graded like a known-wrong variant — the ordinary tier first, and
//! the loom tier only for mutants the ordinary tests let through — and a mutant is *killed*
//! when any test fails on it. Survivors are printed with their diff: each needs a new test,
//! or an `[[equivalent]]` entry in `exercise.toml` saying why no test can tell it apart.
//!
//! A maintainer's command (minutes per exercise), not part of `cargo test`.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::curriculum::{Exercise, Kind};
use crate::grade::{self, ExerciseReport, Target, TestStatus};
use crate::harness::write_if_changed;
use crate::paths::Paths;

#[derive(Debug, Deserialize)]
struct Mutant {
    name: String,
    diff: String,
}

/// The score of one exercise's suite.
pub struct Score {
    pub mutants: usize,
    pub killed: usize,
    pub equivalent: usize,
    pub unviable: usize,
    pub survivors: Vec<(String, String)>,
}

impl Score {
    /// Killed among the mutants that could have been killed.
    pub fn percent(&self) -> f64 {
        let viable = self.killed + self.survivors.len();
        if viable == 0 {
            100.0
        } else {
            100.0 * self.killed as f64 / viable as f64
        }
    }
}

pub fn run(paths: &Paths, ex: &Exercise, show_diffs: bool) -> Result<Score> {
    // Mutants build a hundred throw-away crates: in a target directory of their own, removed
    // afterwards, so they do not fill the disk or the shared one.
    let build = paths.target.join("mutants-build");
    let own = Paths {
        root: paths.root.clone(),
        target: build.clone(),
        scratch: build.clone(),
    };
    let score = score(&own, ex, show_diffs);
    let _ = std::fs::remove_dir_all(&build);
    score
}

fn score(paths: &Paths, ex: &Exercise, show_diffs: bool) -> Result<Score> {
    let start = Instant::now();
    let lib = paths.solutions().join(&ex.dir).join("src").join("lib.rs");
    let output = Command::new("cargo")
        .args(["mutants", "--Zmutate-file"])
        .arg(&lib)
        .args(["--json", "--diff"])
        .output()
        .context("running cargo-mutants")?;
    if !output.status.success() {
        bail!(
            "cargo-mutants did not list the mutants (install it with `cargo install \
             cargo-mutants --locked`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mutants: Vec<Mutant> =
        serde_json::from_slice(&output.stdout).context("reading cargo-mutants' list")?;
    let original =
        fs::read_to_string(&lib).with_context(|| format!("reading {}", lib.display()))?;

    // Matched without the `lib.rs:LINE:COL: ` prefix, so an entry survives edits elsewhere.
    let equivalent = |m: &Mutant| {
        let what = m.name.split_once(": ").map_or(m.name.as_str(), |(_, w)| w);
        ex.equivalent.iter().any(|e| e.mutant == what)
    };
    let mut dirs: Vec<(usize, PathBuf)> = Vec::new();
    let mut unviable = 0;
    let mut equivalents = 0;
    for (n, m) in mutants.iter().enumerate() {
        if equivalent(m) {
            equivalents += 1;
            continue;
        }
        let diff = plain_headers(&m.diff);
        let patch = diffy::Patch::from_str(&diff)
            .with_context(|| format!("parsing the diff of mutant {}", m.name))?;
        let Ok(mutated) = diffy::apply(&original, &patch) else {
            unviable += 1;
            continue;
        };
        let dir = paths
            .scratch
            .join("mutants")
            .join(&ex.slug)
            .join(n.to_string());
        fs::create_dir_all(dir.join("src"))?;
        write_if_changed(&dir.join("src").join("lib.rs"), &mutated)?;
        dirs.push((n, dir));
    }
    println!(
        "{}: {} mutants from cargo-mutants ({} marked equivalent); grading the ordinary tier …",
        ex.slug,
        mutants.len(),
        equivalents
    );

    let names = |kinds: &[Kind]| -> Vec<String> {
        ex.tests
            .iter()
            .filter(|t| kinds.contains(&t.kind))
            .map(|t| t.name.clone())
            .collect()
    };
    let grade_tier = |dirs: &[(usize, PathBuf)], kinds: &[Kind]| -> Result<Vec<ExerciseReport>> {
        let targets: Vec<Target<'_>> = dirs
            .iter()
            .map(|(_, dir)| Target {
                exercise: ex,
                crate_dir: dir.clone(),
                only: Some(names(kinds)),
                runs: 1,
            })
            .collect();
        grade::evaluate(
            paths,
            &format!("mutants-{}", ex.slug),
            &targets,
            &grade::Options {
                cache: false,
                ..grade::Options::student(1.0)
            },
        )
    };

    let mut killed = 0;
    let mut survivors_of_unit = Vec::new();
    for ((n, dir), report) in dirs
        .iter()
        .zip(grade_tier(&dirs, &[Kind::Starter, Kind::Unit])?)
    {
        match verdict(&report) {
            Verdict::Killed => killed += 1,
            Verdict::Unviable => unviable += 1,
            Verdict::Survived => survivors_of_unit.push((*n, dir.clone())),
        }
    }
    println!(
        "{}: {} survive the ordinary tier; grading them with the loom models …",
        ex.slug,
        survivors_of_unit.len()
    );
    let mut survivors = Vec::new();
    if !survivors_of_unit.is_empty() {
        for ((n, _), report) in survivors_of_unit
            .iter()
            .zip(grade_tier(&survivors_of_unit, &[Kind::Loom])?)
        {
            match verdict(&report) {
                Verdict::Killed => killed += 1,
                Verdict::Unviable => unviable += 1,
                Verdict::Survived => {
                    survivors.push((mutants[*n].name.clone(), mutants[*n].diff.clone()))
                }
            }
        }
    }
    let score = Score {
        mutants: mutants.len(),
        killed,
        equivalent: equivalents,
        unviable,
        survivors,
    };
    for e in &ex.equivalent {
        println!("equivalent: {} — {}", e.mutant, e.why);
    }
    for (name, diff) in &score.survivors {
        println!("SURVIVED {name}");
        if show_diffs {
            println!("{diff}");
        }
    }
    println!(
        "{}: mutation score {:.1}% — {} mutants: {} killed, {} survived, {} equivalent, {} \
         unviable ({:.0}s)",
        ex.slug,
        score.percent(),
        score.mutants,
        score.killed,
        score.survivors.len(),
        score.equivalent,
        score.unviable,
        start.elapsed().as_secs_f64()
    );
    Ok(score)
}

enum Verdict {
    Killed,
    Survived,
    Unviable,
}

fn verdict(report: &ExerciseReport) -> Verdict {
    if report.message.is_some() {
        return Verdict::Unviable;
    }
    if report.tests.iter().any(|t| {
        !matches!(
            t.status,
            TestStatus::Passed | TestStatus::NotRun | TestStatus::CompileError
        )
    }) {
        Verdict::Killed
    } else {
        Verdict::Survived
    }
}

/// cargo-mutants names the mutant on the diff's `+++` line (`+++ replace f -> String with
/// "xyzzy".into()`); diffy reads that line as a file name and refuses the quotes. The file
/// is known anyway, so both header lines (those before the first hunk) get plain names.
fn plain_headers(diff: &str) -> String {
    let mut in_hunks = false;
    let mut out = String::with_capacity(diff.len());
    for line in diff.split_inclusive('\n') {
        in_hunks |= line.starts_with("@@");
        if !in_hunks && line.starts_with("--- ") {
            out.push_str("--- a/lib.rs\n");
        } else if !in_hunks && line.starts_with("+++ ") {
            out.push_str("+++ b/lib.rs\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutant_named_with_quotes_still_parses() {
        let diff = "--- solutions/06-errors/src/lib.rs\n\
                    +++ replace f -> String with \"xyzzy\".into()\n\
                    @@ -1,3 +1,3 @@\n \
                    fn f() -> String {\n\
                    -    String::from(\"a\")\n\
                    +    \"xyzzy\".into()\n \
                    }\n";
        assert!(
            diffy::Patch::from_str(diff).is_err(),
            "the raw header is what diffy refuses"
        );
        let plain = plain_headers(diff);
        let patch = diffy::Patch::from_str(&plain).expect("plain headers parse");
        let original = "fn f() -> String {\n    String::from(\"a\")\n}\n";
        assert_eq!(
            diffy::apply(original, &patch).expect("applies"),
            "fn f() -> String {\n    \"xyzzy\".into()\n}\n"
        );
    }
}
