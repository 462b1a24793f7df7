//! The classroom template (`checker export classroom`): it holds no reference solution, no
//! hidden test and no known-wrong variant; its workspace resolves, its book builds, and its
//! checker grades the public tests — zero on the stubs, full marks on solved exercises.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;
use support::root;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `pub fn name()` test functions of a suite file.
fn test_functions(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("pub fn "))
        .filter_map(|rest| rest.split_once("()").map(|(n, _)| n.to_string()))
        .collect()
}

#[test]
fn the_classroom_template_hides_what_it_must_and_grades_what_it_can() {
    let dir = root().join("target/checker-tests/classroom");
    let _ = fs::remove_dir_all(&dir);
    let checker = |args: &[&str], checker_root: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_checker"));
        cmd.args(args);
        if let Some(r) = checker_root {
            cmd.env("CHECKER_ROOT", r)
                .env("CHECKER_TARGET_DIR", root().join("target/checker"));
        }
        cmd.output().expect("the checker runs")
    };
    let out = checker(&["export", "classroom", dir.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut all = Vec::new();
    files(&dir, &mut all);
    let texts: Vec<(PathBuf, String)> = all
        .iter()
        .map(|p| {
            (
                p.clone(),
                String::from_utf8_lossy(&fs::read(p).unwrap()).into_owned(),
            )
        })
        .collect();
    assert!(!dir.join("solutions").exists());
    for (path, _) in &texts {
        let p = path.to_string_lossy();
        assert!(
            !p.contains("/wrong/") && !p.ends_with(".diff"),
            "a known-wrong variant: {p}"
        );
    }

    // No line that only the reference solutions (and the suites built on them) contain.
    let mut sources = Vec::new();
    for part in [
        "checker/src",
        "checker/sync",
        "checker/testkit",
        "exercises",
        "book/src",
    ] {
        files(&root().join(part), &mut sources);
    }
    for entry in fs::read_dir(root().join("checker/suites"))
        .unwrap()
        .flatten()
    {
        for name in ["stub/lib.rs", "stub/starter.rs", "exercise.toml"] {
            sources.push(entry.path().join(name));
        }
    }
    let elsewhere: String = sources
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .join("\n");
    let stub_lines: BTreeSet<&str> = elsewhere.lines().map(str::trim).collect();
    for entry in fs::read_dir(root().join("solutions")).unwrap().flatten() {
        let solution = fs::read_to_string(entry.path().join("src/lib.rs")).unwrap();
        let distinctive: Vec<&str> = solution
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.len() > 30
                    && !l.starts_with("//")
                    && !l.starts_with("use ")
                    && !stub_lines.contains(l)
            })
            .collect();
        assert!(!distinctive.is_empty());
        for (path, text) in &texts {
            for line in &distinctive {
                assert!(
                    !text.contains(line),
                    "{} holds a line of the reference solution {:?}: {line}",
                    path.display(),
                    entry.file_name()
                );
            }
        }
    }

    // No hidden test that is not public, by name or by body. A name that some exercise ships
    // as a public or starter test (`zero_workers_is_an_error` is one of exercise 1's starter
    // tests and one of exercise 7's hidden tests) says nothing about the hidden one.
    let shipped_names: BTreeSet<String> = fs::read_dir(root().join("checker/suites"))
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read_to_string(e.path().join("exercise.toml")).ok())
        .filter_map(|text| text.parse::<toml::Table>().ok())
        .flat_map(|m| {
            m.get("test")
                .and_then(|t| t.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .filter(|t| {
            t.get("public").and_then(|p| p.as_bool()) == Some(true)
                || t.get("kind").and_then(|k| k.as_str()) == Some("starter")
        })
        .filter_map(|t| t.get("name").and_then(|n| n.as_str()).map(String::from))
        .collect();
    for entry in fs::read_dir(root().join("checker/suites"))
        .unwrap()
        .flatten()
    {
        let manifest: toml::Table = fs::read_to_string(entry.path().join("exercise.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let public: BTreeSet<String> = manifest
            .get("test")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
            .filter(|t| t.get("public").and_then(|p| p.as_bool()) == Some(true))
            .filter_map(|t| t.get("name").and_then(|n| n.as_str()).map(String::from))
            .collect();
        for file in ["hidden.rs", "model.rs"] {
            let Ok(source) = fs::read_to_string(entry.path().join(file)) else {
                continue;
            };
            for name in test_functions(&source)
                .into_iter()
                .filter(|n| !public.contains(n) && !shipped_names.contains(n))
            {
                for (path, text) in &texts {
                    assert!(
                        !text.contains(&format!("fn {name}(")),
                        "{} holds the hidden test {name}",
                        path.display()
                    );
                }
            }
        }
    }

    // The template's workspace resolves and its book builds.
    let metadata = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        metadata.status.success(),
        "{}",
        String::from_utf8_lossy(&metadata.stderr)
    );
    let mut book =
        mdbook_driver::MDBook::load(dir.join("book")).expect("the template's book loads");
    book.config.build.build_dir = root().join("target/checker-tests/classroom-book");
    book.build().expect("the template's book builds");

    // Its checker grades the public tests: nothing on the stubs, everything once solved.
    let grade = |exercises: &Path| -> Value {
        let out = checker(
            &[
                "grade",
                "--json",
                "--insecure",
                "--exercises",
                exercises.to_str().unwrap(),
            ],
            Some(&dir),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let stubs = grade(&dir.join("exercises"));
    assert_eq!(stubs["score"], 0);
    assert!(stubs["max_score"].as_u64().unwrap() > 0);
    let solved = grade(&root().join("solutions"));
    assert_eq!(solved["score"], solved["max_score"]);
    for e in solved["exercises"].as_array().unwrap() {
        for t in e["tests"].as_array().unwrap() {
            assert!(
                t["kind"] == "starter"
                    || texts
                        .iter()
                        .any(|(_, x)| x.contains(&format!("fn {}(", t["name"].as_str().unwrap()))),
                "the template graded a test it does not ship: {t}"
            );
        }
    }
}
