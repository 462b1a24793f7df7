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
