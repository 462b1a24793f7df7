//! Every command of the checker, as a student or an instructor types it (`assert_cmd`):
//! help, typos, the progress table and its cache, hints that move on, solutions only after a
//! pass, reset with its backup, and the maintainers' checks.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

mod support;
use support::root;

fn checker() -> Command {
    Command::cargo_bin("checker").unwrap()
}

/// A fresh copy of the stubs for one test.
fn exercises(name: &str) -> PathBuf {
    let dir = root().join("target/checker-tests/cli").join(name);
    let _ = fs::remove_dir_all(&dir);
    support::pristine_exercises(&dir);
    dir
}

#[test]
fn every_command_has_help_with_examples() {
    checker()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
    for command in [
        "status", "watch", "check", "grade", "hint", "solution", "reset", "export", "mutants",
        "verify",
    ] {
        checker()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:").or(predicate::str::contains("Keys:")));
    }
}

#[test]
fn a_misspelt_exercise_gets_the_nearest_name() {
    checker()
        .args(["hint", "bufered"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("did you mean \"buffered\""));
}

#[test]
fn the_table_is_remembered_and_one_edit_invalidates_one_exercise() {
    let dir = exercises("cache");
    let grade = || -> serde_json::Value {
        let out = checker()
            .args(["grade", "--json", "--exercises"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let cached = |report: &serde_json::Value, slug: &str| {
        report["exercises"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["slug"] == slug)
            .unwrap()["cached"]
            .as_bool()
            .unwrap_or(false)
    };
    grade();
    let again = grade();
    assert!(
        cached(&again, "basic") && cached(&again, "buffered"),
        "{again:#}"
    );
    // A change to one exercise's file: that exercise is graded again, the others are not.
    // The edit is new on every run: results are remembered by content, so the same edit made
    // by an earlier run of this test would be remembered too.
    let lib = dir.join("02-buffered/src/lib.rs");
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let text = fs::read_to_string(&lib).unwrap() + &format!("\n// an edit ({nonce})\n");
    fs::write(&lib, text).unwrap();
    let after = grade();
    assert!(
        !cached(&after, "buffered"),
        "the edited exercise was not graded again"
    );
    assert!(
        cached(&after, "basic"),
        "an unchanged exercise was graded again"
    );
    // A corrupt cache entry is ignored, never trusted.
    for entry in fs::read_dir(root().join("target/checker/results"))
        .unwrap()
        .flatten()
    {
        fs::write(entry.path(), "{ not json").unwrap();
    }
    let fresh = grade();
    assert!(!cached(&fresh, "basic"));
    assert_eq!(fresh["score"], 0);

    checker()
        .args(["status", "--exercises"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Next: exercise 1 (basic)"));
}

#[test]
fn hints_move_on_each_time() {
    let state = root().join("target/checker-tests/cli/hint-state");
    let _ = fs::remove_dir_all(&state);
    let hint = |args: &[&str]| {
        checker()
            .args(args)
            .env("CHECKER_TARGET_DIR", &state)
            .assert()
            .success()
    };
    hint(&["hint", "basic"]).stdout(predicate::str::contains("Hint 1 of 3"));
    hint(&["hint", "basic"]).stdout(predicate::str::contains("Hint 2 of 3"));
    hint(&["hint", "1"]).stdout(predicate::str::contains("Hint 3 of 3"));
    hint(&["hint", "basic"]).stdout(predicate::str::contains("Hint 3 of 3"));
    hint(&["hint", "basic", "--level", "1"]).stdout(predicate::str::contains("Hint 1 of 3"));
    hint(&["hint", "buffered"]).stdout(predicate::str::contains("Hint 1 of"));
}

#[test]
fn a_solution_is_shown_only_once_the_exercise_passes() {
    let dir = exercises("solution");
    checker()
        .args(["solution", "basic", "--exercises"])
        .arg(&dir)
        .assert()
        .failure()
        .stdout(predicate::str::contains("does not pass yet"));
    checker()
        .args(["solution", "basic", "--force", "--exercises"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("impl<J> Drop for WorkerPool<J>"));
    fs::copy(
        root().join("solutions/01-basic/src/lib.rs"),
        dir.join("01-basic/src/lib.rs"),
    )
    .unwrap();
    checker()
        .args(["solution", "basic", "--exercises"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("reference solution"));
}

#[test]
fn reset_asks_keeps_a_backup_and_restores_the_stub() {
    let dir = exercises("reset");
    let lib = dir.join("01-basic/src/lib.rs");
    fs::write(&lib, "// my work in progress\n").unwrap();
    // Not at a terminal and no --yes: nothing changes.
    checker()
        .args(["reset", "basic", "--exercises"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--yes"));
    assert_eq!(
        fs::read_to_string(&lib).unwrap(),
        "// my work in progress\n"
    );
    checker()
        .args(["reset", "basic", "--yes", "--exercises"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("reset to the untouched stub"));
    assert_eq!(
        fs::read_to_string(&lib).unwrap(),
        fs::read_to_string(root().join("checker/suites/basic/stub/lib.rs")).unwrap()
    );
    assert_eq!(
        fs::read_to_string(dir.join("01-basic/src/lib.rs.bak")).unwrap(),
        "// my work in progress\n"
    );
}

#[test]
fn the_maintainers_checks_run() {
    checker()
        .args(["verify", "--shipped-stubs"])
        .current_dir(root())
        .assert()
        .success()
        .stdout(predicate::str::contains("matches the shipped stubs"));
    checker().arg("book").assert().success();
    let out = root().join("target/checker-tests/cli/kits");
    let _ = fs::remove_dir_all(&out);
    checker()
        .args(["export", "gradescope"])
        .arg(out.join("gradescope"))
        .assert()
        .success();
    for file in [
        "setup.sh",
        "run_autograder",
        "workbook/checker/curriculum.toml",
    ] {
        assert!(out.join("gradescope").join(file).is_file(), "{file}");
    }
    checker()
        .args(["export", "github-classroom"])
        .arg(out.join("classroom"))
        .assert()
        .success();
    let workflow =
        fs::read_to_string(out.join("classroom/.github/workflows/classroom.yml")).unwrap();
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&workflow).expect("the workflow is YAML");
    assert_eq!(yaml["name"], "Autograding Tests");
    assert!(
        workflow.contains("autograding-grading-reporter") && workflow.contains("WORKBOOK_RESULTS")
    );
    // Exporting into a folder that is not empty is refused.
    checker()
        .args(["export", "gradescope"])
        .arg(out.join("gradescope"))
        .assert()
        .failure();
}
