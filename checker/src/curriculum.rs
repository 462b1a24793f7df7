//! The curriculum: `checker/curriculum.toml` lists the exercises in order, and each exercise
//! lives in one folder, `checker/suites/<slug>/`, whose `exercise.toml` holds its title,
//! hints, spec map, tests and known-wrong variants. Everything else about an exercise (its id,
//! crate folders, library name and chapter) is derived from its slug and position, so it is
//! written nowhere else. Loading validates all of it, so a typo fails loudly instead of
//! grading wrongly.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

/// The ordered list of exercises.
#[derive(Debug)]
pub struct Curriculum {
    pub exercise: Vec<Exercise>,
}

/// The top manifest: just the order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    exercises: Vec<String>,
}

/// One exercise's `exercise.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseFile {
    title: String,
    status: Status,
    hints: Vec<String>,
    #[serde(default, rename = "spec")]
    spec: Vec<SpecEntry>,
    #[serde(default, rename = "test")]
    tests: Vec<TestSpec>,
    #[serde(default, rename = "wrong")]
    wrong: Vec<WrongSpec>,
    #[serde(default)]
    equivalent: Vec<Equivalent>,
    #[serde(default)]
    dependencies: toml::Table,
    #[serde(default, rename = "suite-dependencies")]
    suite_dependencies: toml::Table,
}

/// A mutant of the reference solution that no test can tell apart from it, and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    /// cargo-mutants' description without its location: `replace … with …`.
    pub mutant: String,
    pub why: String,
}

#[derive(Debug)]
pub struct Exercise {
    /// Position in the curriculum, from 1.
    pub id: u32,
    pub slug: String,
    pub title: String,
    /// The library name the tests `use` (`basic`, `rate_limit`, ...): the slug, `-` → `_`.
    pub krate: String,
    /// The crate's folder name under `exercises/` and `solutions/`: `NN-slug`.
    pub dir: String,
    /// The book page, relative to `book/src/`: `chNN-slug.md`.
    pub chapter: String,
    pub status: Status,
    pub hints: Vec<String>,
    /// What the stub's documentation promises, sentence by sentence, and the tests that
    /// fail when a promise is broken (checked by `verify`).
    pub spec: Vec<SpecEntry>,
    pub tests: Vec<TestSpec>,
    pub wrong: Vec<WrongSpec>,
    /// Mutants shown equivalent to the solution (see `checker mutants`).
    pub equivalent: Vec<Equivalent>,
    /// Crates the exercise's code may use besides `workbook_sync` (its `[dependencies]`).
    pub dependencies: toml::Table,
    /// Crates only the hidden suite uses.
    pub suite_dependencies: toml::Table,
    /// Where `hidden.rs` and `model.rs` are, when not in `checker/suites/<slug>/` (an
    /// instructor's extra suite).
    pub suite_override: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ready,
    ComingSoon,
}

/// One promise of the stub's documentation and what checks it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecEntry {
    /// Whose doc comment says it: `crate`, a type (`Buffers`), or a function
    /// (`WorkerPool::submit`, `fold`).
    pub item: String,
    /// A verbatim quote from that doc comment (whitespace and line breaks do not matter).
    pub says: String,
    /// The tests that fail when the promise is broken.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Instead of tests: why this sentence needs none (it promises nothing checkable).
    pub untested: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    pub name: String,
    pub kind: Kind,
    pub points: u32,
    /// What the test proves; shown with each failure and on a timeout.
    pub explains: String,
    /// The likely cause when this test times out (shown only for a timeout).
    pub on_timeout: Option<String>,
    /// Overrides the kind's default timeout.
    pub timeout_secs: Option<u64>,
    /// Shipped in the classroom template (`checker export classroom`), so students can run
    /// it. Starter tests always are; hidden tests and loom models only when marked.
    #[serde(default)]
    pub public: bool,
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
    /// What a student with this bug sees (for the book's pitfall table).
    pub shows: Option<String>,
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

    /// How the kind reads in a sentence ("a loom model").
    pub fn label(self) -> &'static str {
        match self {
            Kind::Starter => "visible",
            Kind::Unit => "hidden",
            Kind::Loom => "loom",
        }
    }
}

impl TestSpec {
    /// Whether students may see this test's code.
    pub fn is_public(&self) -> bool {
        self.public || self.kind == Kind::Starter
    }

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

    pub fn tests_of(&self, kind: Kind) -> impl Iterator<Item = &TestSpec> {
        self.tests.iter().filter(move |t| t.kind == kind)
    }

    /// The folder of this exercise's `hidden.rs` and `model.rs`.
    pub fn suite_dir(&self, paths: &crate::paths::Paths) -> std::path::PathBuf {
        self.suite_override
            .clone()
            .unwrap_or_else(|| paths.suite_dir(&self.slug))
    }

    pub fn test(&self, name: &str) -> Option<&TestSpec> {
        self.tests.iter().find(|t| t.name == name)
    }
}

impl Curriculum {
    /// Loads `checker/curriculum.toml` and every exercise folder it names.
    pub fn load(path: &Path) -> Result<Self> {
        let suites = path
            .parent()
            .context("the curriculum lives in the checker's folder")?
            .join("suites");
        let order = std::fs::read_to_string(path)
            .with_context(|| format!("reading the curriculum {}", path.display()))?;
        Self::parse(&order, |slug| {
            let file = suites.join(slug).join("exercise.toml");
            std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
        })
        .with_context(|| format!("loading the curriculum {}", path.display()))
    }

    /// The curriculum from the text of the top manifest and a reader for each exercise's file.
    pub fn parse(order: &str, read: impl Fn(&str) -> Result<String>) -> Result<Self> {
        let order: Order = toml::from_str(order).context("parsing the list of exercises")?;
        let mut exercise = Vec::new();
        let mut seen = HashSet::new();
        for (i, slug) in order.exercises.iter().enumerate() {
            ensure!(
                !slug.is_empty()
                    && slug
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "exercise slug {slug:?}: use lowercase letters, digits and `-`"
            );
            ensure!(seen.insert(slug.clone()), "slug {slug:?} is listed twice");
            let text = read(slug)?;
            let file: ExerciseFile = toml::from_str(&text)
                .with_context(|| format!("parsing checker/suites/{slug}/exercise.toml"))?;
            let id = u32::try_from(i + 1).context("too many exercises")?;
            let ex = Exercise {
                id,
                slug: slug.clone(),
                title: file.title,
                krate: slug.replace('-', "_"),
                dir: format!("{id:02}-{slug}"),
                chapter: format!("ch{id:02}-{slug}.md"),
                status: file.status,
                hints: file.hints,
                spec: file.spec,
                tests: file.tests,
                wrong: file.wrong,
                equivalent: file.equivalent,
                dependencies: file.dependencies,
                suite_dependencies: file.suite_dependencies,
                suite_override: None,
            };
            ex.validate()
                .with_context(|| format!("checking checker/suites/{slug}/exercise.toml"))?;
            exercise.push(ex);
        }
        ensure!(!exercise.is_empty(), "the curriculum lists no exercise");
        Ok(Curriculum { exercise })
    }

    pub fn find(&self, slug: &str) -> Result<&Exercise> {
        self.exercise
            .iter()
            .find(|e| e.slug == slug || e.id.to_string() == slug || e.dir == slug)
            .with_context(|| {
                let known: Vec<&str> = self.exercise.iter().map(|e| e.slug.as_str()).collect();
                match nearest(slug, &known) {
                    Some(near) => format!(
                        "no exercise {slug:?}; did you mean {near:?}? The exercises are: {}",
                        known.join(", ")
                    ),
                    None => format!(
                        "no exercise {slug:?}; the exercises are: {}",
                        known.join(", ")
                    ),
                }
            })
    }
}

/// The known name closest to `wanted`, if it is close enough to be a typo.
fn nearest<'a>(wanted: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(wanted, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

impl Exercise {
    fn validate(&self) -> Result<()> {
        if !self.is_ready() {
            return Ok(());
        }
        ensure!(!self.tests.is_empty(), "a ready exercise needs tests");
        ensure!(
            (2..=3).contains(&self.hints.len()),
            "give two or three hint levels (found {})",
            self.hints.len()
        );
        let mut names = HashSet::new();
        for t in &self.tests {
            ensure!(
                names.insert(t.name.as_str()),
                "test {:?} is listed twice",
                t.name
            );
            ensure!(t.points > 0, "test {} is worth no points", t.name);
            ensure!(
                !t.explains.trim().is_empty(),
                "test {} explains nothing: say what it proves",
                t.name
            );
        }
        let mut wrong_names = HashSet::new();
        for w in &self.wrong {
            ensure!(
                wrong_names.insert(w.name.as_str()),
                "known-wrong variant {} is listed twice",
                w.name
            );
            ensure!(
                !w.caught_by.is_empty(),
                "known-wrong variant {} names no test that catches it",
                w.name
            );
            for c in &w.caught_by {
                if !names.contains(c.as_str()) {
                    bail!(
                        "known-wrong variant {} is caught_by {:?}, which is not a test",
                        w.name,
                        c
                    );
                }
            }
        }
        for s in &self.spec {
            ensure!(
                !s.says.trim().is_empty(),
                "a spec entry of {} quotes nothing",
                s.item
            );
            match (&s.untested, s.tests.is_empty()) {
                (None, true) => bail!(
                    "spec entry {:?} ({}) names no test: list the tests that fail when it is \
                     broken, or say why it needs none with `untested = \"…\"`",
                    s.says,
                    s.item
                ),
                (Some(_), false) => bail!(
                    "spec entry {:?} ({}) has both tests and `untested`",
                    s.says,
                    s.item
                ),
                _ => {}
            }
            for t in &s.tests {
                ensure!(
                    names.contains(t.as_str()),
                    "spec entry {:?} ({}) names test {t:?}, which is not a test",
                    s.says,
                    s.item
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASIC: &str = r#"
        title = "Basic"
        status = "ready"
        hints = ["one", "two"]
        [[spec]]
        item = "crate"
        says = "every job runs once"
        tests = ["runs_once"]
        [[test]]
        name = "runs_once"
        kind = "unit"
        points = 2
        explains = "every job runs once"
        [[wrong]]
        name = "runs-twice"
        bug = "runs each job twice"
        caught_by = ["runs_once"]
    "#;

    fn load(order: &str, files: &[(&str, &str)]) -> Result<Curriculum> {
        Curriculum::parse(order, |slug| {
            files
                .iter()
                .find(|(s, _)| *s == slug)
                .map(|(_, t)| t.to_string())
                .with_context(|| format!("no file for {slug}"))
        })
    }

    fn error(order: &str, files: &[(&str, &str)]) -> String {
        format!(
            "{:#}",
            load(order, files).expect_err("the manifest is invalid")
        )
    }

    #[test]
    fn derives_id_dir_crate_and_chapter_from_slug_and_place() {
        let c = load(
            r#"exercises = ["basic", "rate-limit"]"#,
            &[("basic", BASIC), ("rate-limit", BASIC)],
        )
        .unwrap();
        let rl = &c.exercise[1];
        assert_eq!(
            (
                rl.id,
                rl.dir.as_str(),
                rl.krate.as_str(),
                rl.chapter.as_str()
            ),
            (2, "02-rate-limit", "rate_limit", "ch02-rate-limit.md")
        );
        assert_eq!(c.find("2").unwrap().slug, "rate-limit");
        assert_eq!(c.find("02-rate-limit").unwrap().slug, "rate-limit");
    }

    #[test]
    fn a_misspelt_slug_suggests_the_nearest() {
        let c = load(r#"exercises = ["basic"]"#, &[("basic", BASIC)]).unwrap();
        let e = format!("{:#}", c.find("basik").unwrap_err());
        assert!(e.contains("did you mean \"basic\""), "{e}");
        let e = format!("{:#}", c.find("pipeline").unwrap_err());
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn validation_errors_name_the_problem() {
        let one = r#"exercises = ["basic"]"#;
        let cases: &[(&str, String, &str)] = &[
            (
                r#"exercises = ["basic", "basic"]"#,
                BASIC.to_string(),
                "listed twice",
            ),
            (
                r#"exercises = ["Basic"]"#,
                BASIC.to_string(),
                "use lowercase",
            ),
            (
                one,
                BASIC.replace("kind = \"unit\"", "kind = \"fuzz\""),
                "kind",
            ),
            (one, BASIC.replace("points = 2", "points = 0"), "no points"),
            (
                one,
                BASIC.replace("hints = [\"one\", \"two\"]", "hints = [\"one\"]"),
                "hint levels",
            ),
            (
                one,
                BASIC.replace("caught_by = [\"runs_once\"]", "caught_by = [\"nope\"]"),
                "caught_by \"nope\", which is not a test",
            ),
            (
                one,
                BASIC.replace("caught_by = [\"runs_once\"]", "caught_by = []"),
                "names no test that catches it",
            ),
            (
                one,
                BASIC.replace("tests = [\"runs_once\"]", "tests = [\"missing\"]"),
                "names test \"missing\", which is not a test",
            ),
            (
                one,
                BASIC.replace("tests = [\"runs_once\"]", ""),
                "names no test",
            ),
            (
                one,
                BASIC.replace("title = \"Basic\"", "title = \"Basic\"\ncolour = 1"),
                "unknown field",
            ),
        ];
        for (order, file, expected) in cases {
            let e = error(order, &[("basic", file), ("Basic", file)]);
            assert!(e.contains(expected), "expected {expected:?} in: {e}");
        }
    }
}
