//! `cargo test` proves the curriculum: this runs `checker verify` (solutions pass every test,
//! untouched stubs fail every test, every known-wrong variant is caught by the tests that
//! claim to catch it, and the sync facade's own loom models pass).

use std::process::Command;

#[test]
fn checker_verify_proves_the_curriculum() {
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("verify")
        .output()
        .expect("the checker runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown with --nocapture, and on failure: the evidence, not just the verdict.
    println!("{stdout}");
    assert!(
        output.status.success(),
        "checker verify failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("verify: OK"), "{stdout}");
}

/// A copy of the workbook (without build output or history) under `target/`.
fn copy_workbook(name: &str) -> std::path::PathBuf {
    use std::fs;
    use std::path::Path;
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if [".git", "target", "build"].contains(&name.to_string_lossy().as_ref()) {
                continue;
            }
            let (src, dst) = (entry.path(), to.join(&name));
            if entry.file_type().unwrap().is_dir() {
                copy(&src, &dst);
            } else {
                fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dest = root.join("target").join("checker-tests").join(name);
    let _ = fs::remove_dir_all(&dest);
    copy(root, &dest);
    dest
}

/// A student who has solved exercise 1 (and edited its starter tests) runs `cargo test`: the
/// curriculum is still proved against the shipped stub, and the checker grades the solved
/// exercise as passed.
#[test]
fn verify_ignores_what_a_student_did_to_exercises() {
    use std::fs;
    let copy = copy_workbook("student-solved-basic");
    let basic = copy.join("exercises").join("01-basic");
    fs::copy(
        copy.join("solutions/01-basic/src/lib.rs"),
        basic.join("src/lib.rs"),
    )
    .unwrap();
    fs::write(
        basic.join("tests/starter.rs"),
        "// the student rewrote their starter tests\n#[test]\nfn mine() {}\n",
    )
    .unwrap();
    let shared_target = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("target")
        .join("checker");
    let checker = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_checker"))
            .args(args)
            .env("CHECKER_ROOT", &copy)
            .env("CHECKER_TARGET_DIR", &shared_target)
            .output()
            .expect("the checker runs")
    };
    let verify = checker(&["verify", "basic"]);
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && stdout.contains("verify: OK"),
        "verify must prove the shipped stub, not the student's solved copy:\n{stdout}\n{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let grade = checker(&["check", "basic", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&grade.stdout).expect("one JSON object");
    assert_eq!(report["exercises"][0]["status"], "passed", "{report:#}");
    assert_eq!(
        report["exercises"][0]["score"], report["exercises"][0]["max_score"],
        "the shipped starter tests are graded, not the student's rewrite"
    );
}
