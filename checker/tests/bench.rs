//! `cargo checker bench`: it refuses a stub (with the reason), refuses a pool that fails its
//! hidden suite unless forced, and on a passing pool runs the whole way — harness build in
//! release, the bench in the sandbox, tables printed, plot written — on tiny sizes (`--quick`:
//! a smoke run, nothing is measured). The full bench is `cargo checker bench <exercise>`.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;

mod support;
use support::root;

fn checker() -> Command {
    Command::cargo_bin("checker").unwrap()
}

#[test]
fn an_untouched_stub_is_not_benched_and_the_student_is_told_why() {
    checker()
        .args(["bench", "basic"])
        .assert()
        .failure()
        .stdout(predicate::str::contains("Nothing to bench yet"))
        .stdout(predicate::str::contains("untouched stub"))
        .stdout(predicate::str::contains("cargo checker check basic"));
}

#[test]
fn a_pool_that_fails_its_suite_needs_force() {
    // Exercise 1 with a known bug: every job gets a thread of its own.
    let dir = root().join("target/checker-tests/bench/failing");
    let _ = fs::remove_dir_all(&dir);
    let krate = dir.join("01-basic/src");
    fs::create_dir_all(&krate).unwrap();
    let solution = fs::read_to_string(root().join("solutions/01-basic/src/lib.rs")).unwrap();
    // A pool whose `workers()` is wrong fails its hidden suite and still runs every job.
    let broken = solution.replace(
        "    pub fn workers(&self) -> usize {\n        self.workers.len()\n    }",
        "    pub fn workers(&self) -> usize {\n        self.workers.len() + 1\n    }",
    );
    assert_ne!(
        broken, solution,
        "the solution changed: update this test's edit"
    );
    fs::write(krate.join("lib.rs"), broken).unwrap();
    checker()
        .args(["bench", "basic", "--exercises"])
        .arg(&dir)
        .assert()
        .failure()
        .stdout(predicate::str::contains(
            "does not pass its hidden suite yet",
        ))
        .stdout(predicate::str::contains("--force"));
}

#[test]
fn a_passing_pool_is_benched_against_the_reference_and_plotted() {
    let svg = root().join("target/checker-tests/bench/basic.svg");
    let _ = fs::remove_file(&svg);
    let out = checker()
        .args([
            "bench",
            "basic",
            "--exercises",
            "solutions",
            "--quick",
            "--svg",
        ])
        .arg(&svg)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for expected in [
        "| yours: basic |",
        "| reference: basic |",
        "| threadpool |",
        "| rayon spawn |",
        "| tokio spawn_blocking |",
        "### Summary",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }
    let plot = fs::read_to_string(&svg).expect("the plot was written");
    assert!(plot.starts_with("<svg") && plot.contains("yours: basic"));
}
