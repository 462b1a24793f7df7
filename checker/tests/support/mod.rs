//! What the integration tests share: the repository root, a plain folder copy, and the
//! shipped stubs as a student's folder. The tests never read the working `exercises/`: a
//! student who has solved some of them still gets a green `cargo test`.
#![allow(dead_code)] // each test crate uses only some of these

use std::fs;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &dst);
        } else {
            fs::copy(entry.path(), dst).unwrap();
        }
    }
}

/// The shipped stub of the exercise folder `NN-slug` (`src/lib.rs`), whatever the student
/// did to `exercises/`.
pub fn stub_lib(krate: &str) -> String {
    let slug = krate.split_once('-').map_or(krate, |(_, s)| s);
    fs::read_to_string(root().join("checker/suites").join(slug).join("stub/lib.rs")).unwrap()
}

/// A student's `exercises/` folder at `to`, exactly as shipped: the layout of `exercises/`
/// with every `src/lib.rs` and `tests/starter.rs` taken from `checker/suites/<slug>/stub/`.
pub fn pristine_exercises(to: &Path) {
    copy(&root().join("exercises"), to);
    for entry in fs::read_dir(to).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, slug)) = name.split_once('-') else {
            continue;
        };
        let stub = root().join("checker/suites").join(slug).join("stub");
        if !stub.is_dir() {
            continue;
        }
        fs::copy(stub.join("lib.rs"), entry.path().join("src/lib.rs")).unwrap();
        if entry.path().join("tests/starter.rs").exists() {
            fs::copy(
                stub.join("starter.rs"),
                entry.path().join("tests/starter.rs"),
            )
            .unwrap();
        }
    }
}
