//! The curriculum manifest (`checker/curriculum.toml`): the single source of truth for every
//! exercise. Loading it also validates it, so a typo fails loudly instead of grading wrongly.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curriculum {
    pub exercise: Vec<Exercise>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    pub id: u32,
    pub slug: String,
    pub title: String,
    /// The library name the tests `use` (`basic`, `rate_limit`, ...).
    #[serde(rename = "crate")]
    pub krate: String,
    /// The crate's folder name under `exercises/` and `solutions/`.
    pub dir: String,
    /// The book page, relative to `book/src/`.
    pub chapter: String,
    pub status: Status,
    pub hints: Vec<String>,
    #[serde(default, rename = "test")]
    pub tests: Vec<TestSpec>,
    #[serde(default, rename = "wrong")]
    pub wrong: Vec<WrongSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ready,
    ComingSoon,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    pub name: String,
    pub kind: Kind,
    pub points: u32,
    /// What the test proves; shown with each failure and on a timeout.
    pub explains: String,
    /// Overrides the kind's default timeout.
    pub timeout_secs: Option<u64>,
}

/// Which tier a test belongs to. Serialised in `--json` output as `"starter"`, `"unit"`,
/// `"loom"`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A visible test from the exercise's `tests/starter.rs`.
    Starter,
    /// A hidden behavioural test.
    Unit,
    /// A hidden loom model check.
    Loom,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrongSpec {
    pub name: String,
    pub bug: String,
    pub caught_by: Vec<String>,
}

impl Kind {
    /// The harness module a test of this kind lives in.
    pub fn module(self) -> &'static str {
        match self {
            Kind::Starter => "starter",
            Kind::Unit => "hidden",
            Kind::Loom => "model",
        }
    }

    pub fn default_timeout_secs(self) -> u64 {
        match self {
            Kind::Starter | Kind::Unit => 5,
            Kind::Loom => 120,
        }
    }
}

impl TestSpec {
    /// The name the harness binary knows this test by.
    pub fn harness_name(&self) -> String {
        format!("{}::{}", self.kind.module(), self.name)
    }

    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.timeout_secs
                .unwrap_or_else(|| self.kind.default_timeout_secs()),
        )
    }
}

impl Exercise {
    pub fn is_ready(&self) -> bool {
        self.status == Status::Ready
    }

    pub fn max_score(&self) -> u32 {
        self.tests.iter().map(|t| t.points).sum()
    }

    pub fn tests_of(&self, kind: Kind) -> impl Iterator<Item = &TestSpec> {
        self.tests.iter().filter(move |t| t.kind == kind)
    }
}

impl Curriculum {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the curriculum {}", path.display()))?;
        let curriculum: Curriculum = toml::from_str(&text)
            .with_context(|| format!("parsing the curriculum {}", path.display()))?;
        curriculum
            .validate()
            .with_context(|| format!("checking the curriculum {}", path.display()))?;
        Ok(curriculum)
    }

    fn validate(&self) -> Result<()> {
        let mut slugs = HashSet::new();
        for (i, ex) in self.exercise.iter().enumerate() {
            ensure!(
                ex.id as usize == i + 1,
                "exercise {} ({}) is listed in position {}: ids must run 1, 2, 3, ...",
                ex.id,
                ex.slug,
                i + 1
            );
            ensure!(slugs.insert(&ex.slug), "slug {:?} is listed twice", ex.slug);
            if !ex.is_ready() {
                continue;
            }
            ensure!(
                !ex.tests.is_empty(),
                "{}: a ready exercise needs tests",
                ex.slug
            );
            ensure!(
                (2..=3).contains(&ex.hints.len()),
                "{}: give two or three hint levels",
                ex.slug
            );
            let mut names = HashSet::new();
            for t in &ex.tests {
                ensure!(
                    names.insert(t.name.as_str()),
                    "{}: test {:?} is listed twice",
                    ex.slug,
                    t.name
                );
                ensure!(
                    t.points > 0,
                    "{}: test {} is worth no points",
                    ex.slug,
                    t.name
                );
            }
            for w in &ex.wrong {
                ensure!(
                    !w.caught_by.is_empty(),
                    "{}: known-wrong variant {} names no test that catches it",
                    ex.slug,
                    w.name
                );
                for c in &w.caught_by {
                    if !names.contains(c.as_str()) {
                        bail!(
                            "{}: known-wrong variant {} is caught_by {:?}, which is not a test",
                            ex.slug,
                            w.name,
                            c
                        );
                    }
                }
            }
        }
        Ok(())
    }

    pub fn find(&self, slug: &str) -> Result<&Exercise> {
        self.exercise
            .iter()
            .find(|e| e.slug == slug || e.id.to_string() == slug)
            .with_context(|| {
                let known: Vec<&str> = self.exercise.iter().map(|e| e.slug.as_str()).collect();
                format!(
                    "no exercise {slug:?}; the exercises are: {}",
                    known.join(", ")
                )
            })
    }
}
