//! A hostile corpus: submissions that try to forge a pass, forge the grader's output, read
//! files outside `src/`, hang or flood the grader, or slip past the facade rule. Every one must
//! score 0, grading must finish with one JSON object, and nothing may be left running.
//!
//! On a system without the sandbox's required layers, `grade` must refuse to run instead
//! (without `--insecure`); that is checked in place of the attacks.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A marker no real process has on its command line: attacks that start processes use it.
const MARKER: &str = "987654321";
/// A secret in the grader's environment that no build or test may see.
const SECRET: &str = "grader-secret-5b1e9";

/// A submission holding exercise 1, its stub's `new` body replaced by `body` (which may refer
/// to `workers` and `process`), plus `extra` appended and `files` written into `src/`.
mod support;
use support::root;

fn submission(name: &str, body: &str, extra: &str, files: &[(&str, &str)]) -> PathBuf {
    let stub = fs::read_to_string(root().join("checker/suites/basic/stub/lib.rs")).unwrap();
    let marker = "todo!(\"start the workers and return the pool with its results receiver\")";
    assert!(
        stub.contains(marker),
        "the basic stub changed: update the hostile corpus"
    );
    let code = format!("{}\n{extra}\n", stub.replace(marker, body));
    let dir = root().join("target/checker-tests/hostile").join(name);
    let _ = fs::remove_dir_all(&dir);
    let src = dir.join("01-basic/src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("lib.rs"), code).unwrap();
    for (file, text) in files {
        fs::write(src.join(file), text).unwrap();
    }
    dir
}

enum Graded {
    Report(Value, usize),
    /// The sandbox is not available here and grading refused, as it must.
    Refused,
}

fn grade(dir: &Path, extra: &[&str]) -> Graded {
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["grade", "--json", "--exercises"])
        .arg(dir)
        .args(["--only", "basic"])
        .args(extra)
        .env("CHECKER_TEST_SECRET", SECRET)
        .output()
        .expect("the checker runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && stderr.contains("sandbox layers") {
        return Graded::Refused;
    }
    assert!(
        output.status.success(),
        "grading must finish and exit 0:\n{stdout}\n{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{stdout}"));
    Graded::Report(report, stdout.len())
}

/// Grades every case; each must score 0 on exercise 1, with what `check` asks of its report.
fn all_score_zero(cases: &[(&str, PathBuf)], extra: &[&str], check: impl Fn(&str, &Value)) {
    for (name, dir) in cases {
        match grade(dir, extra) {
            Graded::Refused => return,
            Graded::Report(report, size) => {
                assert!(
                    !report.to_string().contains(SECRET),
                    "{name}: the grader's environment leaked into the report"
                );
                assert!(size < 2 << 20, "{name}: a {size}-byte report");
                let basic = report["exercises"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["slug"] == "basic")
                    .unwrap();
                assert_eq!(basic["score"], 0, "{name} scored:\n{basic:#}");
                check(name, basic);
            }
        }
    }
    assert_nothing_left_running();
}

/// No process started by a test or a build survives grading.
fn assert_nothing_left_running() {
    let Ok(procs) = fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(
            !cmdline.contains(MARKER),
            "a process started by a submission is still running: {cmdline}"
        );
    }
}

const FAKE_RECORD: &str = r#"@@workbook-record:00000000000000000000000000000000 {"test":"x","passed":true,"message":null,"location":null,"other_panics":[]}"#;

const MEMORY_SCAN: &str = r#"
    use std::io::{Read, Seek, SeekFrom, Write};
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut candidates = Vec::new();
    if let Ok(mut mem) = std::fs::File::open("/proc/self/mem") {
        for line in maps.lines().filter(|l| l.contains(" rw")) {
            let range = line.split(' ').next().unwrap_or("");
            let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
            let (a, b) = (u64::from_str_radix(a, 16).unwrap_or(0), u64::from_str_radix(b, 16).unwrap_or(0));
            if b <= a || b - a > (64 << 20) { continue; }
            let mut buf = vec![0u8; (b - a) as usize];
            if mem.seek(SeekFrom::Start(a)).is_err() || mem.read_exact(&mut buf).is_err() { continue; }
            let mut run = 0;
            for (i, c) in buf.iter().enumerate() {
                if c.is_ascii_digit() || (b'a'..=b'f').contains(c) { run += 1; } else {
                    if run == 32 { candidates.push(String::from_utf8_lossy(&buf[i - 32..i]).into_owned()); }
                    run = 0;
                }
            }
        }
    }
    if let Ok(mut out) = std::fs::OpenOptions::new().write(true).open("/proc/self/fd/3") {
        for n in &candidates {
            let _ = writeln!(out, "@@workbook-record:{n} {}", fake.split_once(' ').map_or("", |p| p.1));
        }
    }
"#;

#[test]
fn a_pass_cannot_be_forged_from_inside_the_test_process() {
    let forge = |how: &str| {
        format!(
            "{{ let fake = {FAKE_RECORD:?}; {how}; \
             std::process::exit(0) }}"
        )
    };
    let cases = [
        (
            "through-proc-fd",
            submission(
                "forge-proc-fd",
                &forge(
                    "for fd in [1, 2, 3, 4] { if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(format!(\"/proc/self/fd/{fd}\")) { use std::io::Write; let _ = writeln!(f, \"\\n{fake}\"); } }",
                ),
                "",
                &[],
            ),
        ),
        (
            // Safe Rust reading its own memory through /proc/self/mem: finds every run of 32
            // hex digits (the nonce among them) and writes a passing record with each.
            "nonce-from-memory",
            submission("forge-memory", &forge(MEMORY_SCAN), "", &[]),
        ),
        (
            "a-child-process-writes",
            submission(
                "forge-child",
                &forge(&format!(
                    "let _ = std::process::Command::new(\"/bin/sh\").arg(\"-c\").arg(\"echo '{{}}' >&3; sleep {MARKER}\").spawn(); \
                     let mut line = String::new(); let _ = std::io::stdin().read_line(&mut line)"
                )),
                "",
                &[],
            ),
        ),
    ];
    all_score_zero(&cases, &[], |name, basic| {
        for t in basic["tests"].as_array().unwrap() {
            assert_ne!(t["status"], "passed", "{name}: {t}");
        }
    });
}

#[test]
fn the_graders_output_cannot_be_forged() {
    let forged = root().join("target/checker-tests/hostile/forged-grade.json");
    let _ = fs::remove_file(&forged);
    let json = r#"{"score": 999, "max_score": 999, "exercises": []}"#;
    let cases = [
        (
            "writes-to-every-stdout-in-proc",
            submission(
                "forge-output-proc",
                &format!(
                    "{{ if let Ok(d) = std::fs::read_dir(\"/proc\") {{ for e in d.flatten() {{ \
                     if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(e.path().join(\"fd/1\")) {{ \
                     use std::io::Write; let _ = f.write_all({json:?}.as_bytes()); }} }} }} todo!() }}"
                ),
                "",
                &[],
            ),
        ),
        (
            "writes-a-grade-file",
            submission(
                "forge-output-file",
                &format!(
                    "{{ let _ = std::fs::write({:?}, {json:?}); todo!() }}",
                    forged.to_string_lossy()
                ),
                "",
                &[],
            ),
        ),
        (
            "writes-into-the-target-directory",
            submission(
                "forge-output-target",
                &format!(
                    "{{ let _ = std::fs::write({:?}, \"#!/bin/sh\\nexit 0\\n\"); todo!() }}",
                    root().join("target/checker/forged-suite").to_string_lossy()
                ),
                "",
                &[],
            ),
        ),
    ];
    all_score_zero(&cases, &[], |_, _| {});
    assert!(
        !forged.exists(),
        "a test wrote a file outside its scratch folder"
    );
    assert!(!root().join("target/checker/forged-suite").exists());
}

#[test]
fn nothing_outside_src_is_read_at_build_time() {
    let solution = "../../../../../../solutions/01-basic/src/lib.rs";
    let cases = [
        (
            "path-through-proc-cwd",
            submission(
                "read-path",
                "todo!()",
                &format!("#[path = \"/proc/self/cwd/{solution}\"]\nmod solution;"),
                &[],
            ),
        ),
        (
            "include-str-inside-a-macro",
            submission(
                "read-include",
                "todo!()",
                &format!(
                    "macro_rules! grab {{ ($p:literal) => {{ include_str!($p) }} }}\n\
                     pub const SOLUTION: &str = grab!(\"/proc/self/cwd/{solution}\");"
                ),
                &[],
            ),
        ),
        (
            "the-build-environment",
            submission(
                "read-env",
                "{ panic!(\"{:?} {:?}\", option_env!(\"CHECKER_TEST_SECRET\"), option_env!(\"HOME\")) }",
                "",
                &[],
            ),
        ),
    ];
    all_score_zero(&cases, &[], |name, basic| {
        let text = basic.to_string();
        assert!(
            !text.contains("Reference solution") && !text.contains("ANCHOR: new"),
            "{name}: the reference solution's text reached the report"
        );
        if name != "the-build-environment" {
            assert_eq!(basic["status"], "rejected", "{name}: {basic:#}");
        }
    });
}

#[test]
fn grading_always_ends_and_stays_small() {
    let cases = [
        (
            "a-child-holds-stdout",
            submission(
                "hang-child",
                &format!(
                    "{{ let _ = std::process::Command::new(\"sleep\").arg(\"{MARKER}\").spawn(); todo!() }}"
                ),
                "",
                &[],
            ),
        ),
        (
            "endless-const-evaluation",
            submission(
                "hang-const",
                "todo!()",
                "#[allow(long_running_const_eval)]\npub const FOREVER: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); if i == 3 { i = 0; } } };",
                &[],
            ),
        ),
        (
            // 2^40 expansions, each level within the recursion limit: the compiler never
            // finishes (and grows by about 100 MB a second) until the deadline stops it.
            "endless-macro-expansion",
            submission(
                "hang-macro",
                "todo!()",
                &format!(
                    "macro_rules! boom {{ () => {{}}; (x $($t:tt)*) => {{ boom!($($t)*); boom!($($t)*); }}; }}\nboom!({});",
                    "x ".repeat(40)
                ),
                &[],
            ),
        ),
        (
            "a-huge-failure-message",
            submission(
                "flood",
                "{ panic!(\"{}\", \"x\".repeat(20_000_000)) }",
                "",
                &[],
            ),
        ),
    ];
    all_score_zero(&cases, &["--build-timeout", "20"], |name, basic| {
        if name == "endless-const-evaluation" {
            // Refused before any build: lifting the compiler's own guard is not allowed.
            assert_eq!(basic["status"], "rejected", "{basic:#}");
            assert!(
                basic["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("long_running_const_eval"),
                "{basic:#}"
            );
        }
        if name == "endless-macro-expansion" {
            assert_eq!(basic["status"], "compile_error", "{basic:#}");
            assert!(
                basic["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("did not finish"),
                "{basic:#}"
            );
        }
    });

    // Two symlinks to their own folder once sent a directory walk into an exponential loop.
    let dir = submission("symlinks", "todo!()", "", &[]);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(".", dir.join("01-basic/src/a")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("01-basic/src/b")).unwrap();
    }
    all_score_zero(&[("symlinks", dir)], &[], |_, basic| {
        assert_eq!(basic["status"], "rejected", "{basic:#}");
    });
}

#[test]
fn the_facade_rule_reads_rust_not_text() {
    let worker = "std::thread::spawn(|| ());";
    let cases = [
        (
            "use-std-as",
            submission(
                "facade-alias",
                "todo!()",
                &format!(
                    "use std as s;\npub fn f() {{ {} }}",
                    worker.replace("std::", "s::")
                ),
                &[],
            ),
        ),
        (
            "extern-crate-std-as",
            submission(
                "facade-extern",
                "todo!()",
                &format!(
                    "extern crate std as x;\npub fn f() {{ {} }}",
                    worker.replace("std::", "x::")
                ),
                &[],
            ),
        ),
        (
            "a-char-literal-hides-the-path",
            submission(
                "facade-char",
                "todo!()",
                &format!("pub const Q: char = '\"';\npub fn f() {{ {worker} }}"),
                &[],
            ),
        ),
        (
            "include-of-a-non-rs-file",
            submission(
                "facade-include",
                "todo!()",
                "include!(\"more.txt\");",
                &[("more.txt", &format!("pub fn f() {{ {worker} }}"))],
            ),
        ),
    ];
    all_score_zero(&cases, &[], |name, basic| {
        assert_eq!(basic["status"], "rejected", "{name}: {basic:#}");
        let message = basic["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("workbook_sync") || message.contains("renames"),
            "{name}: {message}"
        );
    });
}
