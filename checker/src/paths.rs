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
}

impl Paths {
    pub fn discover() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the checker crate lives one level below the workbook root")
            .to_path_buf();
        let target = std::env::var_os("CHECKER_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target").join("checker"));
        Paths { root, target }
    }

    pub fn curriculum(&self) -> PathBuf {
        self.root.join("checker").join("curriculum.toml")
    }

    pub fn suite_dir(&self, slug: &str) -> PathBuf {
        self.root.join("checker").join("suites").join(slug)
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
}
