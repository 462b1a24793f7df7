//! Results remembered between runs: an exercise whose `src/` has not changed since it was
//! last graded — by the same checker binary, with the same suites and the same settings — is
//! not graded again. Entries live under the target directory (`results/`), keyed by a hash of
//! all of that; an entry that does not parse, or whose key does not match, is ignored and
//! replaced, never trusted.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::grade::{ExerciseReport, Options, Target, TestStatus};
use crate::paths::Paths;

pub struct Cache {
    dir: PathBuf,
    /// Everything but the exercise and its code: checker, suites, settings.
    context: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    report: ExerciseReport,
}

/// The checker's own executable: its version, path, size and date (a rebuilt checker grades
/// afresh). Cheap on purpose: `cargo checker` with nothing changed must answer at once.
fn checker_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let exe = crate::sandbox::checker_exe();
        let meta = std::fs::metadata(&exe).ok();
        let modified = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos());
        format!(
            "{}|{}|{:?}|{:?}",
            env!("CARGO_PKG_VERSION"),
            exe.display(),
            meta.map(|m| m.len()),
            modified
        )
    })
}

impl Cache {
    pub fn new(paths: &Paths, options: &Options) -> Cache {
        let suites = crate::digest::tree(&paths.suite_inputs());
        Cache {
            dir: paths.target.join("results"),
            context: format!(
                "{}|{suites}|{}|{}|{}|{}",
                checker_hash(),
                options.timeout_scale,
                options.strict,
                options.sandbox,
                options.build_timeout.as_secs()
            ),
        }
    }

    fn key(&self, t: &Target<'_>) -> String {
        let source = crate::digest::tree(&[t.crate_dir.join("src")]);
        let tests: Vec<&str> = t
            .exercise
            .tests
            .iter()
            .filter(|x| t.only.as_ref().is_none_or(|o| o.contains(&x.name)))
            .map(|x| x.name.as_str())
            .collect();
        let text = format!(
            "{}|{}|{source}|{}|{}",
            self.context,
            t.exercise.slug,
            tests.join(","),
            t.runs
        );
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }

    /// The remembered report for this target, if it is still valid.
    pub fn get(&self, t: &Target<'_>) -> Option<ExerciseReport> {
        if t.runs > 1 || !t.crate_dir.join("src").join("lib.rs").is_file() {
            return None;
        }
        let key = self.key(t);
        let text = std::fs::read(self.dir.join(format!("{key}.json"))).ok()?;
        let entry: Entry = serde_json::from_slice(&text).ok()?;
        if entry.key != key || entry.report.slug != t.exercise.slug {
            return None;
        }
        let mut report = entry.report;
        report.cached = true;
        Some(report)
    }

    /// Remembers a report, unless it depends on how busy the machine was (a timeout).
    pub fn put(&self, t: &Target<'_>, report: &ExerciseReport) {
        if t.runs > 1
            || report.tests.is_empty()
            || report
                .tests
                .iter()
                .any(|r| matches!(r.status, TestStatus::Timeout | TestStatus::NotRun))
        {
            return;
        }
        let key = self.key(t);
        let entry = Entry {
            key: key.clone(),
            report: report.clone(),
        };
        if std::fs::create_dir_all(&self.dir).is_ok()
            && let Ok(text) = serde_json::to_vec(&entry)
        {
            // Write then rename: a half-written entry is never read.
            let tmp = self.dir.join(format!("{key}.{}.tmp", std::process::id()));
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, self.dir.join(format!("{key}.json")));
            }
        }
    }
}
