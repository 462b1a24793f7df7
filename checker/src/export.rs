//! `cargo checker export …`: what an instructor hands out or uploads.
//!
//! * `classroom DIR` — the repository students clone: the exercises (shipped stubs and starter
//!   tests), the book without its solution sections, and a checker that grades the tests
//!   marked public (starter tests, and hidden tests or loom models marked `public = true`).
//!   No reference solution, no hidden test and no known-wrong variant is in it, in source or
//!   in a binary (it holds no binary at all).
//! * `gradescope DIR` — a Gradescope autograder kit (`setup.sh`, `run_autograder`, and the
//!   whole workbook it grades with), to zip and upload.
//! * `github-classroom DIR` — the workflow GitHub Classroom's autograding runs in each
//!   student's repository, with the grading workbook beside it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use syn::spanned::Spanned;

use crate::curriculum::{Curriculum, Exercise};
use crate::paths::Paths;

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Copies a tree, skipping build output and version control.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if [".git", "target", "build"].contains(&name.to_string_lossy().as_ref()) {
            continue;
        }
        let dst = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dst)?;
        } else {
            fs::copy(entry.path(), &dst)?;
        }
    }
    Ok(())
}

fn fresh(dir: &Path) -> Result<()> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} exists and is not empty: give a new folder",
            dir.display()
        );
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// The classroom template.
pub fn classroom(paths: &Paths, curriculum: &Curriculum, dir: &Path) -> Result<()> {
    fresh(dir)?;
    let root = &paths.root;
    for file in ["Cargo.lock", ".gitignore"] {
        fs::copy(root.join(file), dir.join(file))?;
    }
    copy_tree(&root.join(".cargo"), &dir.join(".cargo"))?;
    write(
        &dir.join("Cargo.toml"),
        &fs::read_to_string(root.join("Cargo.toml"))?
            .replace("    \"solutions/*\",\n", "")
            // The bench of the reference pools needs the solutions; the bench kit and the
            // adapters (what `cargo checker bench` compiles against a student's crate) do not.
            .replace("    \"checker/benches\",\n", "")
            .replace(
                "# `cargo test` at the root must be green on a fresh clone, so the unsolved\n\
                 # exercises are left out of the default members. The checker's own tests\n\
                 # prove the curriculum (solutions pass, stubs fail, known-wrong variants fail).\n",
                "# The exercises are members but not default members: their stubs fail by design.\n",
            ),
    )?;
    // The checker: its sources, the facade and test kit, the curriculum — and of each suite only
    // what is public.
    let checker = dir.join("checker");
    copy_tree(&root.join("checker/src"), &checker.join("src"))?;
    copy_tree(&root.join("checker/sync"), &checker.join("sync"))?;
    copy_tree(
        &root.join("checker/benches/kit"),
        &checker.join("benches/kit"),
    )?;
    copy_tree(
        &root.join("checker/benches/adapters"),
        &checker.join("benches/adapters"),
    )?;
    copy_tree(&root.join("checker/testkit"), &checker.join("testkit"))?;
    copy_tree(&root.join("checker/vendor"), &checker.join("vendor"))?;
    copy_tree(
        &root.join("checker/tests/fixtures"),
        &checker.join("tests/fixtures"),
    )?;
    fs::copy(root.join("checker/Cargo.toml"), checker.join("Cargo.toml"))?;
    fs::copy(paths.curriculum(), checker.join("curriculum.toml"))?;
    for ex in &curriculum.exercise {
        export_suite(paths, ex, &checker.join("suites").join(&ex.slug))?;
        // The exercise crate as shipped.
        let krate = dir.join("exercises").join(&ex.dir);
        let shipped = root.join("exercises").join(&ex.dir).join("Cargo.toml");
        if ex.is_ready() && shipped.is_file() {
            fs::create_dir_all(krate.join("src"))?;
            fs::copy(&shipped, krate.join("Cargo.toml"))?;
            fs::copy(paths.pristine_stub(&ex.slug), krate.join("src/lib.rs"))?;
            fs::create_dir_all(krate.join("tests"))?;
            fs::copy(
                paths.pristine_starter(&ex.slug),
                krate.join("tests/starter.rs"),
            )?;
        }
    }
    export_book(paths, &dir.join("book"))?;
    write(&dir.join("README.md"), CLASSROOM_README)?;
    Ok(())
}

/// One exercise's folder with only its public tests.
fn export_suite(paths: &Paths, ex: &Exercise, to: &Path) -> Result<()> {
    let from = paths.suite_dir(&ex.slug);
    fs::create_dir_all(to)?;
    if from.join("stub").is_dir() {
        copy_tree(&from.join("stub"), &to.join("stub"))?;
    }
    let public: BTreeSet<&str> = ex
        .tests
        .iter()
        .filter(|t| t.is_public())
        .map(|t| t.name.as_str())
        .collect();
    let all: BTreeSet<&str> = ex.tests.iter().map(|t| t.name.as_str()).collect();
    for file in ["hidden.rs", "model.rs"] {
        if let Ok(source) = fs::read_to_string(from.join(file)) {
            write(&to.join(file), &public_items(&source, &public, &all)?)?;
        }
    }
    // The manifest: its tests filtered, the spec map and the known-wrong variants dropped.
    let text = fs::read_to_string(from.join("exercise.toml"))?;
    let mut table: toml::Table = toml::from_str(&text)?;
    if let Some(toml::Value::Array(tests)) = table.get_mut("test") {
        tests.retain(|t| {
            t.get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| public.contains(n))
        });
    }
    for key in ["spec", "wrong", "equivalent"] {
        table.remove(key);
    }
    let has_tests = table
        .get("test")
        .and_then(|t| t.as_array())
        .is_some_and(|t| !t.is_empty());
    if !has_tests && table.get("status").and_then(|s| s.as_str()) == Some("ready") {
        table.insert("status".into(), toml::Value::String("coming-soon".into()));
    }
    write(
        &to.join("exercise.toml"),
        &format!(
            "# Exported for the classroom: the public tests only.\n{}",
            toml::to_string(&table)?
        ),
    )
}

/// The items of a suite file students may see: `use` items, the public tests, and whatever
/// those use (by name, transitively). Hidden tests, and helpers only they use, are left out.
pub fn public_items(
    source: &str,
    public: &BTreeSet<&str>,
    tests: &BTreeSet<&str>,
) -> Result<String> {
    let file = syn::parse_file(source).context("parsing a suite file")?;
    let lines: Vec<&str> = source.lines().collect();
    let name_of = |item: &syn::Item| -> Option<String> {
        match item {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            syn::Item::Const(c) => Some(c.ident.to_string()),
            syn::Item::Static(s) => Some(s.ident.to_string()),
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            syn::Item::Type(t) => Some(t.ident.to_string()),
            syn::Item::Macro(m) => m.ident.as_ref().map(ToString::to_string),
            _ => None,
        }
    };
    let text_of = |item: &syn::Item| -> String {
        let span = item.span();
        let (a, b) = (span.start().line, span.end().line);
        lines
            .get(a.saturating_sub(1)..b.min(lines.len()))
            .map(|l| l.join("\n"))
            .unwrap_or_default()
    };
    let mut keep = vec![false; file.items.len()];
    let mut used = String::new();
    for (i, item) in file.items.iter().enumerate() {
        let name = name_of(item);
        let public_test = name.as_deref().is_some_and(|n| public.contains(n));
        if matches!(item, syn::Item::Use(_)) || public_test {
            keep[i] = true;
            used.push_str(&text_of(item));
        }
    }
    // Helpers the kept items mention, until nothing new is pulled in.
    loop {
        let mut changed = false;
        for (i, item) in file.items.iter().enumerate() {
            if keep[i] {
                continue;
            }
            let Some(name) = name_of(item) else { continue };
            if tests.contains(name.as_str()) {
                continue;
            }
            let mentioned = used
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == name);
            if mentioned {
                keep[i] = true;
                used.push_str(&text_of(item));
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = String::from(
        "//! The public part of this suite, exported for the classroom template.\n\
         #![allow(unused_imports)]\n\n",
    );
    for (i, item) in file.items.iter().enumerate() {
        if keep[i] {
            out.push_str(&text_of(item));
            out.push_str("\n\n");
        }
    }
    Ok(out)
}

/// The book without solutions: "Solution" sections are removed, and any other code taken from
/// a reference solution is replaced by a note.
fn export_book(paths: &Paths, to: &Path) -> Result<()> {
    let from = paths.root.join("book");
    copy_tree(&from, to)?;
    let src = to.join("src");
    for entry in fs::read_dir(&src)?.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&path)?;
        let mut out = Vec::new();
        let mut skipping = false;
        let mut in_code = false;
        for line in text.lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with("## ") {
                skipping = line.trim() == "## Solution";
                if skipping {
                    out.push("## Solution".to_string());
                    out.push(String::new());
                    out.push(
                        "Your instructor shares the reference solution after the deadline."
                            .to_string(),
                    );
                    continue;
                }
            }
            if skipping {
                continue;
            }
            if line.contains("{{#include") && line.contains("solutions/") {
                out.push("// (from the reference solution — shared after the deadline)".into());
                continue;
            }
            // The stubs are at the same place in the template's checker.
            out.push(line.to_string());
        }
        write(&path, &(out.join("\n") + "\n"))?;
    }
    Ok(())
}

const CLASSROOM_README: &str = "# Worker pools in Rust — a graded workbook\n\n\
Ten exercises on the worker-pool pattern. Edit `exercises/NN-name/src/lib.rs`, then:\n\n\
```sh\ncargo checker              # progress over every exercise\ncargo checker check basic  # one exercise in detail\ncargo checker hint basic   # a nudge\n```\n\n\
This checker runs the visible tests (and the models your instructor made public). Your \
instructor grades with the full hidden suite, which also model-checks your pool with loom.\n\n\
The book is in `book/src/`.\n";

/// A Gradescope autograder kit: zip the folder's contents and upload.
pub fn gradescope(paths: &Paths, dir: &Path) -> Result<()> {
    fresh(dir)?;
    copy_workbook(paths, &dir.join("workbook"))?;
    write(&dir.join("setup.sh"), GRADESCOPE_SETUP)?;
    write(&dir.join("run_autograder"), GRADESCOPE_RUN)?;
    make_executable(&dir.join("setup.sh"))?;
    make_executable(&dir.join("run_autograder"))?;
    write(
        &dir.join("README.md"),
        "Zip the contents of this folder (not the folder) and upload it as a Gradescope \
         autograder. Students submit their `exercises/` folder (or the whole repository).\n",
    )
}

/// The GitHub Classroom workflow, and the grading workbook it checks out beside the student's.
pub fn github_classroom(paths: &Paths, dir: &Path) -> Result<()> {
    fresh(dir)?;
    write(
        &dir.join(".github/workflows/classroom.yml"),
        CLASSROOM_WORKFLOW,
    )?;
    copy_workbook(paths, &dir.join(".grading/workbook"))?;
    write(
        &dir.join("README.md"),
        "Copy `.github/` and `.grading/` into the assignment's template repository (keep \
         `.grading/` out of what students see if your template is public: or host it as a \
         private repository and check it out in the workflow instead). The workflow grades \
         each push with the full hidden suite and reports to GitHub Classroom.\n",
    )
}

/// Everything grading needs (the checker, its suites, the curriculum), without solutions.
fn copy_workbook(paths: &Paths, to: &Path) -> Result<()> {
    let root = &paths.root;
    fs::create_dir_all(to)?;
    for file in ["Cargo.toml", "Cargo.lock", ".gitignore"] {
        fs::copy(root.join(file), to.join(file))?;
    }
    copy_tree(&root.join(".cargo"), &to.join(".cargo"))?;
    copy_tree(&root.join("checker"), &to.join("checker"))?;
    Ok(())
}

fn make_executable(path: &PathBuf) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    }
    let _ = path;
    Ok(())
}

const GRADESCOPE_SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope runs this once, to build the autograder image.
set -euo pipefail
apt-get update && apt-get install -y --no-install-recommends curl ca-certificates build-essential
curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
. "$HOME/.cargo/env"
cd /autograder/source/workbook
cargo build --release --locked -p checker
# Warm the dependency cache so grading needs no network.
cargo fetch --locked
"#;

const GRADESCOPE_RUN: &str = r#"#!/usr/bin/env bash
# Gradescope runs this for each submission; results go to /autograder/results/results.json.
set -uo pipefail
. "$HOME/.cargo/env"
cd /autograder/source/workbook
sub=/autograder/submission
[ -d "$sub/exercises" ] && sub="$sub/exercises"
mkdir -p /autograder/results
# Gradescope's containers block user namespaces: grade with the layers they allow (recorded
# in the results) rather than not at all.
./target/release/checker grade --exercises "$sub" --gradescope /autograder/results --insecure \
  || echo '{"score": 0, "output": "The checker could not grade this submission."}' > /autograder/results/results.json
"#;

const CLASSROOM_WORKFLOW: &str = r#"# GitHub Classroom autograding for the worker-pool workbook.
name: Autograding Tests
on:
  - push
  - workflow_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  autograding:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - name: Grade with the hidden suites
        id: workbook
        run: |
          cd .grading/workbook
          cargo build --release --locked -p checker
          ./target/release/checker grade --exercises "$GITHUB_WORKSPACE/exercises" \
            --github-classroom "$RUNNER_TEMP/result.b64"
          echo "result=$(cat "$RUNNER_TEMP/result.b64")" >> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          WORKBOOK_RESULTS: "${{ steps.workbook.outputs.result }}"
        with:
          runners: workbook
"#;
