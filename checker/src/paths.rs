//! Where things are: the workbook's root (found from the checker's own source location, so
//! the checker always grades with *its* suites and manifests, never a student's copies), and
//! the one target directory every checker build shares.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Paths {
    /// The workbook repository the checker was built from.
    pub root: PathBuf,
    /// Shared by every harness build (`target/checker`, or `$CHECKER_TARGET_DIR`).
    pub target: PathBuf,
    /// Where this workbook's generated crates go (harness workspaces, variants, mutants):
    /// `target` itself, or a folder of its own for a workbook given by `CHECKER_ROOT`, so two
    /// copies can share one target directory (and its compiled dependencies) without mixing.
    pub scratch: PathBuf,
}

impl Paths {
    pub fn discover() -> Self {
        // `CHECKER_ROOT` points the checker at another copy of the workbook (the tests use
        // it to prove that nothing a student does to `exercises/` changes `verify`).
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the checker crate lives one level below the workbook root")
            .to_path_buf();
        let root = std::env::var_os("CHECKER_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| built_from.clone());
        let target = std::env::var_os("CHECKER_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target").join("checker"));
        let scratch = if root == built_from {
            target.clone()
        } else {
            target
                .join("roots")
                .join(short_hash(&root.to_string_lossy()))
        };
        Paths {
            root,
            target,
            scratch,
        }
    }

    pub fn curriculum(&self) -> PathBuf {
        self.root.join("checker").join("curriculum.toml")
    }

    /// The exercise's one home: `exercise.toml`, `hidden.rs`, `model.rs`, `wrong/`, `stub/`.
    pub fn suite_dir(&self, slug: &str) -> PathBuf {
        self.root.join("checker").join("suites").join(slug)
    }

    /// The untouched stub (`src/lib.rs` as shipped), whatever the student has done to
    /// `exercises/`: `verify` proves the curriculum against it and `reset` restores it.
    pub fn pristine_stub(&self, slug: &str) -> PathBuf {
        self.suite_dir(slug).join("stub").join("lib.rs")
    }

    /// The visible starter tests as shipped (`tests/starter.rs`): the checker grades these,
    /// never a student's edited copy.
    pub fn pristine_starter(&self, slug: &str) -> PathBuf {
        self.suite_dir(slug).join("stub").join("starter.rs")
    }

    pub fn facade(&self) -> PathBuf {
        self.root.join("checker").join("sync")
    }

    pub fn testkit(&self) -> PathBuf {
        self.root.join("checker").join("testkit")
    }

    pub fn exercises(&self) -> PathBuf {
        self.root.join("exercises")
    }

    pub fn solutions(&self) -> PathBuf {
        self.root.join("solutions")
    }

    pub fn lockfile(&self) -> PathBuf {
        self.root.join("Cargo.lock")
    }

    /// Everything a verdict depends on besides the subject's code and the checker itself:
    /// the curriculum, the suites, and what they are built with (the facade the subject
    /// compiles against, the test kit, the patched loom). Hashed to key cached results.
    pub fn suite_inputs(&self) -> [PathBuf; 5] {
        [
            self.curriculum(),
            self.root.join("checker").join("suites"),
            self.facade(),
            self.testkit(),
            self.vendored_loom(),
        ]
    }

    /// The workbook's patched loom (see `checker/vendor/loom/PATCHED.md`).
    pub fn vendored_loom(&self) -> PathBuf {
        self.root.join("checker").join("vendor").join("loom")
    }
}

/// A short, stable name for a text (FNV-1a), used to key work folders.
pub fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}
