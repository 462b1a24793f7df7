//! The words of a grade: how a test ended, what its failure proves, and where an exercise
//! stands. Each is serialised to the same snake_case strings the `--json` record has always
//! used; scoring and ordering are decided from these types, never from message text.

use serde::{Deserialize, Serialize};

/// How one test ended (`tests[].status` in the JSON).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    Passed,
    /// The test's own assertion (or a loom report, or a `todo!()`) failed.
    Failed,
    /// Stopped after its time limit.
    Timeout,
    /// The process ended without a completion record (exit, abort, crash).
    Crashed,
    /// The crate does not compile, or the tests cannot use it.
    CompileError,
    /// Not run (a selection, or the exercise stopped early).
    NotRun,
}

impl TestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Passed => "passed",
            TestStatus::Failed => "failed",
            TestStatus::Timeout => "timeout",
            TestStatus::Crashed => "crashed",
            TestStatus::CompileError => "compile_error",
            TestStatus::NotRun => "not_run",
        }
    }
}

impl std::fmt::Display for TestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failure proves (`tests[].diagnosis` in the JSON), most conclusive first.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Diagnosis {
    /// Loom found an interleaving in which every live thread is blocked.
    Deadlock,
    /// Loom found an `Arc` or a thread alive after the model ended.
    Leak,
    /// Loom saw a thread spin without progress.
    Livelock,
    /// The model spawned more threads than loom allows.
    TooManyThreads,
    /// A loom model's assertion failed in some interleaving (a lost update, a race).
    ModelFailure,
    /// An ordinary test's assertion failed: the pool did the wrong thing, observably.
    Assertion,
    /// The process crashed or exited without reporting.
    Crash,
    /// The test ran out of time: a hang, most likely a deadlock.
    Timeout,
    /// A `todo!()` is still in place.
    Todo,
}

/// Where an exercise stands (`exercises[].status` in the JSON).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseStatus {
    /// Every test passed.
    Passed,
    /// Some tests pass.
    InProgress,
    /// Every failure is a `todo!()` still in place.
    NotStarted,
    /// The crate does not compile, or the tests cannot use it.
    CompileError,
    /// The crate bypasses the sync facade (see `facade_rule`).
    Rejected,
    /// No crate at the expected place.
    Missing,
    /// Not yet part of the workbook.
    ComingSoon,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialise_to_the_published_strings() {
        let all = [
            TestStatus::Passed,
            TestStatus::Failed,
            TestStatus::Timeout,
            TestStatus::Crashed,
            TestStatus::CompileError,
            TestStatus::NotRun,
        ];
        for s in all {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
        assert_eq!(
            serde_json::to_value(ExerciseStatus::NotStarted).unwrap(),
            "not_started"
        );
        assert_eq!(
            serde_json::to_value(ExerciseStatus::ComingSoon).unwrap(),
            "coming_soon"
        );
        assert_eq!(
            serde_json::to_value(Diagnosis::TooManyThreads).unwrap(),
            "too_many_threads"
        );
    }

    #[test]
    fn loom_proofs_rank_before_assertions_and_timeouts() {
        assert!(Diagnosis::Deadlock < Diagnosis::Assertion);
        assert!(Diagnosis::ModelFailure < Diagnosis::Assertion);
        assert!(Diagnosis::Assertion < Diagnosis::Timeout);
    }
}
