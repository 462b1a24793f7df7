//! The grader's promises, checked end to end through the `checker` binary: solutions score
//! full marks, stubs score zero, cheating and broken crates score zero with a readable message,
//! and grading always finishes with exit code 0 and one JSON object.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;
use support::root;

/// `checker grade --exercises DIR --json`, which must exit 0 and print one JSON object.
fn grade(dir: &Path, extra: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["grade", "--json", "--exercises"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("the checker runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "grading must exit 0 whatever the score:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{stdout}"))
}

fn exercise<'a>(report: &'a Value, slug: &str) -> &'a Value {
    report["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slug"] == slug)
        .unwrap_or_else(|| panic!("no {slug} in {report}"))
}

/// The ready exercises' folders (`01-basic`, …), from the curriculum.
fn ready_dirs() -> Vec<String> {
    let text = fs::read_to_string(root().join("checker/curriculum.toml")).unwrap();
    let order: toml::Table = text.parse().unwrap();
    order["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter_map(|(i, slug)| {
            let slug = slug.as_str().unwrap();
            let file = root()
                .join("checker/suites")
                .join(slug)
                .join("exercise.toml");
            let ex: toml::Table = fs::read_to_string(file).unwrap().parse().unwrap();
            (ex["status"].as_str() == Some("ready")).then(|| format!("{:02}-{slug}", i + 1))
        })
        .collect()
}

/// A student's folder holding the given exercises (`01-basic`, …), each stub's `src/lib.rs`
/// passed through `edit`.
fn subject(name: &str, krates: &[String], edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = root().join("target").join("checker-tests").join(name);
    for krate in krates {
        let stub = support::stub_lib(krate);
        let krate = dir.join(krate);
        fs::create_dir_all(krate.join("src")).unwrap();
        // The student's manifest is never read: make it useless to prove it.
        fs::write(krate.join("Cargo.toml"), "this is not toml").unwrap();
        let lib = krate.join("src").join("lib.rs");
        let code = edit(&stub);
        if fs::read_to_string(&lib).ok().as_deref() != Some(code.as_str()) {
            fs::write(lib, code).unwrap();
        }
    }
    dir
}

/// `stub` with every `todo!(…)` replaced by `body` (parentheses inside strings allowed).
fn replace_todos(stub: &str, body: &str) -> String {
    let mut out = String::new();
    let mut rest = stub;
    while let Some(start) = rest.find("todo!(") {
        out.push_str(&rest[..start]);
        let mut depth = 0;
        let mut in_string = false;
        let mut end = start;
        let bytes = rest.as_bytes();
        for (i, &b) in bytes.iter().enumerate().skip(start + "todo!".len()) {
            match b {
                b'"' if bytes[i - 1] != b'\\' => in_string = !in_string,
                b'(' if !in_string => depth += 1,
                b')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(body);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn ready_reports(report: &Value) -> Vec<&Value> {
    report["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] != "coming_soon")
        .collect()
}

#[test]
fn solutions_score_full_marks_with_loom_tests() {
    let report = grade(&root().join("solutions"), &[]);
    let ready = ready_reports(&report);
    assert_eq!(ready.len(), ready_dirs().len());
    for ex in ready {
        assert_eq!(ex["status"], "passed", "{ex:#}");
        assert_eq!(ex["score"], ex["max_score"]);
        let tests = ex["tests"].as_array().unwrap();
        assert!(
            tests.iter().filter(|t| t["kind"] == "loom").count() >= 2,
            "{}: fewer than two loom tests",
            ex["slug"]
        );
        for t in tests {
            for key in ["name", "kind", "status", "score", "max_score", "message"] {
                assert!(t.get(key).is_some(), "test record lacks {key}: {t}");
            }
        }
    }
    // An exercise not yet written (while there is one) is listed, and weighs nothing.
    let exercises = report["exercises"].as_array().unwrap();
    for coming in exercises.iter().filter(|e| e["status"] == "coming_soon") {
        assert_eq!(coming["max_score"], 0, "{coming:#}");
    }
    assert!(report["score"].as_u64().unwrap() > 0);
    assert!(report["checker_version"].is_string());
    assert_eq!(report["score"], report["max_score"]);
}

#[test]
fn untouched_stubs_score_zero_and_read_as_not_started() {
    let stubs = root().join("target/checker-tests/pristine-stubs");
    let _ = fs::remove_dir_all(&stubs);
    support::pristine_exercises(&stubs);
    let report = grade(&stubs, &[]);
    for ex in ready_reports(&report) {
        assert_eq!(ex["score"], 0, "{ex:#}");
        assert_eq!(ex["status"], "not_started", "{}", ex["slug"]);
    }
    assert_eq!(report["score"], 0);
}

#[test]
fn a_stub_that_exits_zero_scores_zero() {
    let dir = subject("exit-zero", &ready_dirs(), |stub| {
        replace_todos(stub, "std::process::exit(0)")
    });
    let report = grade(&dir, &[]);
    for ex in ready_reports(&report) {
        assert_eq!(ex["score"], 0, "{ex:#}");
        assert!(
            ex["tests"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["status"] == "crashed"),
            "{ex:#}"
        );
    }
}

#[test]
fn a_stub_that_prints_fake_passes_scores_zero() {
    let fake = r#"{
        println!("test starter::squares_every_job ... ok");
        println!("test result: ok. 18 passed; 0 failed");
        println!("@@workbook-record:00000000000000000000000000000000 {{\"test\":\"x\",\"passed\":true,\"message\":null,\"location\":null,\"other_panics\":[]}}");
        eprintln!("test result: ok.");
        std::process::exit(0)
    }"#;
    let dir = subject("fake-output", &ready_dirs(), |stub| {
        replace_todos(stub, fake)
    });
    let report = grade(&dir, &[]);
    for ex in ready_reports(&report) {
        assert_eq!(ex["score"], 0, "{ex:#}");
    }
}

#[test]
fn an_endless_loop_scores_zero_and_grading_ends() {
    let dir = subject("endless-loop", &["01-basic".to_string()], |stub| {
        replace_todos(stub, "loop {}")
    });
    // Shorter timeouts keep this test quick; the behaviour is the same at full length.
    let basic = exercise(&grade(&dir, &["--timeout-scale", "0.1"]), "basic").clone();
    assert_eq!(basic["score"], 0, "{basic:#}");
    let timeouts = basic["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "timeout")
        .count();
    assert!(timeouts > 0, "{basic:#}");
    let message = basic["tests"][0]["message"].as_str().unwrap();
    assert!(message.contains("timed out"), "{message}");
}

#[test]
fn a_crate_that_does_not_compile_gets_the_compiler_errors() {
    let dir = subject("broken", &["01-basic".to_string()], |stub| {
        stub.replace(
            "pub fn workers(&self) -> usize {",
            "pub fn workers(&self) -> usize { let x: u8 = \"no\";",
        )
    });
    let basic = exercise(&grade(&dir, &[]), "basic").clone();
    assert_eq!(basic["status"], "compile_error", "{basic:#}");
    assert_eq!(basic["score"], 0);
    let message = basic["message"].as_str().unwrap();
    assert!(message.contains("error[E0308]"), "{message}");
    assert!(
        !message.contains('\u{1b}'),
        "JSON messages carry no terminal colour codes"
    );
}

#[test]
fn a_crate_that_bypasses_the_facade_is_rejected_with_the_fix() {
    let dir = subject("facade", &["01-basic".to_string()], |stub| {
        stub.replace(
            "use std::fmt;",
            "use std::fmt;\nuse std::sync::Mutex as StdMutex;",
        )
    });
    let basic = exercise(&grade(&dir, &[]), "basic").clone();
    assert_eq!(basic["status"], "rejected", "{basic:#}");
    let message = basic["message"].as_str().unwrap();
    assert!(message.contains("workbook_sync"), "{message}");
}
