//! Builds hidden suites against a subject's code in a workspace the checker controls.
//!
//! For each (subject, exercise) the checker writes two packages under
//! `target/checker/work/<key>/<tier>/`: a *subject* package whose library is the subject's
//! `src/lib.rs` (with the checker's manifest: the subject's own `Cargo.toml`, `build.rs` and
//! `.cargo/config.toml` are never read) and a *suite* package: a `harness = false` test
//! target whose `main` is generated from the curriculum. Everything is built by one cargo
//! invocation per tier with `--keep-going`, so one exercise that does not compile does not
//! stop the others, and all builds share one target directory.
//!
//! Tiers are separate workspaces because the loom tier turns on `workbook-sync/loom`, and
//! cargo unifies features across everything built together.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::curriculum::{Exercise, Kind};
use crate::paths::{Paths, short_hash};
use crate::progress::Progress;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Starter and hidden behavioural tests, debug build.
    Unit,
    /// Loom models, release build with `workbook-sync/loom`.
    Loom,
}

impl Tier {
    pub fn of(kind: Kind) -> Tier {
        match kind {
            Kind::Starter | Kind::Unit => Tier::Unit,
            Kind::Loom => Tier::Loom,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tier::Unit => "unit",
            Tier::Loom => "loom",
        }
    }

    /// What building this tier means, for progress lines.
    pub fn describe(self) -> &'static str {
        match self {
            Tier::Unit => "building the tests (debug)",
            Tier::Loom => "building the loom models (release)",
        }
    }

    fn kinds(self) -> &'static [Kind] {
        match self {
            Tier::Unit => &[Kind::Starter, Kind::Unit],
            Tier::Loom => &[Kind::Loom],
        }
    }
}

/// One crate to build a suite against: `crate_dir/src/lib.rs` is the code under test.
pub struct Unit<'a> {
    pub exercise: &'a Exercise,
    pub crate_dir: PathBuf,
    /// The tests to build (a tier with none of them is not built at all).
    pub tests: Vec<&'a crate::curriculum::TestSpec>,
}

/// The outcome of building one unit.
#[derive(Clone, Debug)]
pub enum Built {
    /// The suite's executable.
    Ready(PathBuf),
    /// The subject's own code does not compile: the compiler's messages, as rustc wrote them.
    CrateError(String),
    /// The subject compiles but the tests cannot use it (a changed public signature).
    SuiteError(String),
    /// This tier has no tests for the exercise.
    NoTests,
}

/// What building one unit produced, with the compiler's warnings about the subject's code.
pub struct UnitBuild {
    pub built: Built,
    pub warnings: Vec<String>,
}

/// Builds `tier` of every unit; results come back in the order of `units`.
pub fn build(
    paths: &Paths,
    key: &str,
    tier: Tier,
    units: &[Unit<'_>],
    progress: &Progress,
) -> Result<Vec<UnitBuild>> {
    let work = paths.scratch.join("work").join(key).join(tier.name());
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    // One build of this workspace at a time (two checkers may share a target directory).
    let lock = fs::File::create(work.join(".lock"))?;
    lock.lock().context("locking the harness workspace")?;

    // Cargo hashes path packages relative to their workspace, so two harness workspaces with
    // the same member names would write the same executables: name members after the folder.
    let tag = short_hash(&work.to_string_lossy());
    let tag = &tag[..8];
    let mut members = Vec::new();
    let mut wanted = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let tests: Vec<_> = unit
            .tests
            .iter()
            .copied()
            .filter(|t| tier.kinds().contains(&t.kind))
            .collect();
        if tests.is_empty() {
            wanted.push(false);
            continue;
        }
        wanted.push(true);
        write_units(paths, &work, tier, tag, i, unit, &tests)?;
        members.push(subject_pkg(tag, i, unit.exercise));
        members.push(suite_pkg(tag, i, unit.exercise));
    }
    let no_tests = || UnitBuild {
        built: Built::NoTests,
        warnings: Vec::new(),
    };
    if members.is_empty() {
        return Ok(units.iter().map(|_| no_tests()).collect());
    }
    write_if_changed(&work.join("Cargo.toml"), &workspace_manifest(&members))?;
    let lock_copy = work.join("Cargo.lock");
    let newer = |a: &Path, b: &Path| {
        let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        modified(a) > modified(b)
    };
    if !lock_copy.exists() || newer(&paths.lockfile(), &lock_copy) {
        // Same dependency versions as the workbook itself, and no index update needed.
        fs::copy(paths.lockfile(), &lock_copy).context("copying Cargo.lock")?;
    }

    let bar = progress.build(tier.describe(), members.len());
    let messages = run_cargo(paths, &work, tier, &bar)?;
    bar.done();
    Ok(units
        .iter()
        .enumerate()
        .map(|(i, unit)| {
            if !wanted[i] {
                return no_tests();
            }
            let subject = subject_pkg(tag, i, unit.exercise);
            let suite = suite_pkg(tag, i, unit.exercise);
            let warnings = messages.warnings.get(&subject).cloned().unwrap_or_default();
            let built = if let Some(errors) = messages.errors.get(&subject) {
                Built::CrateError(errors.clone())
            } else if let Some(exe) = messages.executables.get(&suite) {
                Built::Ready(exe.clone())
            } else {
                match messages.errors.get(&suite) {
                    Some(errors) => Built::SuiteError(errors.clone()),
                    None => Built::CrateError(format!(
                        "the build stopped before this crate was compiled:\n{}",
                        messages.stderr_tail
                    )),
                }
            };
            UnitBuild { built, warnings }
        })
        .collect())
}

fn subject_pkg(tag: &str, i: usize, ex: &Exercise) -> String {
    format!("s{i}-{}-{tag}", ex.slug)
}

fn suite_pkg(tag: &str, i: usize, ex: &Exercise) -> String {
    format!("t{i}-{}-{tag}", ex.slug)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn path_str(p: &Path) -> String {
    toml_str(&p.to_string_lossy())
}

fn workspace_manifest(members: &[String]) -> String {
    let list: Vec<String> = members.iter().map(|m| toml_str(m)).collect();
    format!(
        "# Generated by the checker for each grading run; do not edit.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n\
         [profile.release]\ndebug = \"line-tables-only\"\nincremental = true\n",
        list.join(", ")
    )
}

fn write_units(
    paths: &Paths,
    work: &Path,
    tier: Tier,
    tag: &str,
    i: usize,
    unit: &Unit<'_>,
    tests: &[&crate::curriculum::TestSpec],
) -> Result<()> {
    let ex = unit.exercise;
    let lib = unit.crate_dir.join("src").join("lib.rs");
    let subject = subject_pkg(tag, i, ex);
    let suite = suite_pkg(tag, i, ex);

    let subject_dir = work.join(&subject);
    fs::create_dir_all(&subject_dir)?;
    write_if_changed(
        &subject_dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = {name}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\
             autobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\
             build = false\n\n\
             [lib]\nname = {lib_name}\npath = {lib}\ntest = false\ndoctest = false\n\n\
             [dependencies]\nworkbook-sync = {{ path = {facade} }}\n{extra}",
            name = toml_str(&subject),
            lib_name = toml_str(&format!("subject_{i}_{}", ex.krate)),
            lib = path_str(&lib),
            facade = path_str(&paths.facade()),
            extra = dependency_lines(&ex.dependencies),
        ),
    )?;

    let suite_dir = work.join(&suite);
    fs::create_dir_all(&suite_dir)?;
    let mut features = Vec::new();
    if tier == Tier::Loom {
        features.push("\"loom\"");
    }
    if ex.suite_dependencies.contains_key("tokio") {
        features.push("\"tokio\"");
    }
    let loom_feature = if features.is_empty() {
        String::new()
    } else {
        format!(", features = [{}]", features.join(", "))
    };
    write_if_changed(
        &suite_dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = {name}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\
             autobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\
             build = false\n\n\
             [[test]]\nname = \"suite\"\npath = \"main.rs\"\nharness = false\n\n\
             [dependencies]\n{krate} = {{ package = {subject}, path = {subject_path} }}\n\
             testkit = {{ path = {testkit}{loom_feature} }}\n\
             workbook-sync = {{ path = {facade} }}\npretty_assertions = \"1.4\"\n{extra}",
            name = toml_str(&suite),
            extra = dependency_lines(&ex.suite_dependencies),
            krate = ex.krate,
            subject = toml_str(&subject),
            subject_path = path_str(&subject_dir),
            testkit = path_str(&paths.testkit()),
            facade = path_str(&paths.facade()),
        ),
    )?;

    let mut main = String::from(
        "// Generated by the checker from curriculum.toml; do not edit.\n\
         #![allow(unused_imports, dead_code, clippy::all)]\n\n",
    );
    let suite_src = paths.suite_dir(&ex.slug);
    match tier {
        Tier::Unit => {
            // The exercise's visible starter tests, from the checker's own copy of the
            // workbook. `use testkit::test` keeps their `#[test]` functions compiled.
            // The starter tests as shipped: a student's edits to their copy change nothing.
            let starter = paths.pristine_starter(&ex.slug);
            if tests.iter().any(|t| t.kind == Kind::Starter) {
                let text = fs::read_to_string(&starter)
                    .with_context(|| format!("reading {}", starter.display()))?;
                // The starter functions are private to their module: list them from inside.
                let mut table = String::new();
                for t in tests.iter().filter(|t| t.kind == Kind::Starter) {
                    let _ = writeln!(table, "    ({:?}, {} as fn()),", t.harness_name(), t.name);
                }
                write_if_changed(
                    &suite_dir.join("starter.rs"),
                    &format!(
                        "{text}\n#[allow(unused_imports)]\nuse testkit::test;\n\n\
                         pub(crate) const TESTS: &[(&str, fn())] = &[\n{table}];\n"
                    ),
                )?;
                main.push_str("mod starter;\n");
            }
            if tests.iter().any(|t| t.kind == Kind::Unit) {
                let _ = writeln!(
                    main,
                    "#[path = {:?}]\nmod hidden;",
                    suite_src.join("hidden.rs").to_string_lossy()
                );
            }
        }
        Tier::Loom => {
            let _ = writeln!(
                main,
                "#[path = {:?}]\nmod model;",
                suite_src.join("model.rs").to_string_lossy()
            );
        }
    }
    main.push_str("\nfn main() {\n    let mut tests: Vec<(&str, fn())> = Vec::new();\n");
    if tests.iter().any(|t| t.kind == Kind::Starter) {
        main.push_str("    tests.extend_from_slice(starter::TESTS);\n");
    }
    main.push_str("    tests.extend_from_slice(&[\n");
    for t in tests.iter().filter(|t| t.kind != Kind::Starter) {
        let _ = writeln!(
            main,
            "        ({:?}, {} as fn()),",
            t.harness_name(),
            t.harness_name()
        );
    }
    main.push_str("    ]);\n    testkit::harness::main(&tests);\n}\n");
    write_if_changed(&suite_dir.join("main.rs"), &main)?;
    Ok(())
}

/// `name = { … }` lines for a manifest's dependency table.
fn dependency_lines(deps: &toml::Table) -> String {
    deps.iter()
        .map(|(name, spec)| format!("{name} = {spec}\n"))
        .collect()
}

/// Keeps mtimes stable so cargo's fingerprints stay warm between runs.
pub fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[derive(Default)]
struct Messages {
    errors: HashMap<String, String>,
    warnings: HashMap<String, Vec<String>>,
    executables: HashMap<String, PathBuf>,
    stderr_tail: String,
}

/// The environment cargo runs in: the checker's choices, not the caller's.
pub fn cargo_command(paths: &Paths) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let keep = key == "CARGO_HOME" || key == "CARGO_TERM_COLOR";
        if (key.starts_with("CARGO_") && !keep)
            || key.starts_with("RUSTC_")
            || key == "RUSTFLAGS"
            || key == "RUSTDOCFLAGS"
        {
            cmd.env_remove(&*key);
        }
    }
    cmd.env("CARGO_TARGET_DIR", &paths.target);
    cmd
}

fn run_cargo(
    paths: &Paths,
    work: &Path,
    tier: Tier,
    bar: &crate::progress::BuildBar,
) -> Result<Messages> {
    let mut cmd = cargo_command(paths);
    cmd.current_dir(work)
        .args(["build", "--tests", "--workspace", "--keep-going"])
        .args(["--message-format", "json-diagnostic-rendered-ansi"])
        .arg("--manifest-path")
        .arg(work.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if tier == Tier::Loom {
        cmd.arg("--release");
    }
    let mut child = cmd.spawn().context("starting cargo")?;
    let stderr = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut tail = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            tail.push(line);
            if tail.len() > 40 {
                tail.remove(0);
            }
        }
        tail.join("\n")
    });
    let mut messages = Messages::default();
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let Some(member) = msg["package_id"].as_str().map(member_name) else {
            continue;
        };
        match msg["reason"].as_str() {
            Some("compiler-message") if msg["message"]["level"] == "error" => {
                if let Some(rendered) = msg["message"]["rendered"].as_str() {
                    messages
                        .errors
                        .entry(member)
                        .or_default()
                        .push_str(rendered);
                }
            }
            Some("compiler-message")
                if msg["message"]["level"] == "warning"
                    && msg["message"]["spans"]
                        .as_array()
                        .is_some_and(|s| !s.is_empty()) =>
            {
                if let Some(rendered) = msg["message"]["rendered"].as_str() {
                    messages
                        .warnings
                        .entry(member)
                        .or_default()
                        .push(rendered.to_string());
                }
            }
            Some("compiler-artifact") => {
                bar.compiled(msg["target"]["name"].as_str().unwrap_or(&member));
                if let Some(exe) = msg["executable"].as_str() {
                    messages.executables.insert(member, PathBuf::from(exe));
                }
            }
            _ => {}
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    messages.stderr_tail = stderr_reader.join().unwrap_or_default();
    if !status.success() && messages.errors.is_empty() {
        bail!(
            "cargo failed before compiling anything:\n{}",
            messages.stderr_tail
        );
    }
    Ok(messages)
}

/// `path+file:///…/work/x/unit/s0-basic#0.0.0` → `s0-basic` (also `…#name@0.0.0`).
fn member_name(package_id: &str) -> String {
    let (url, fragment) = package_id.split_once('#').unwrap_or((package_id, ""));
    match fragment.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => url.rsplit('/').next().unwrap_or(url).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::member_name;

    #[test]
    fn dependency_tables_become_manifest_lines() {
        let deps: toml::Table = toml::from_str(
            "tokio = { version = \"1\", features = [\"rt\", \"time\"] }\nserde = \"1\"",
        )
        .unwrap();
        let lines = super::dependency_lines(&deps);
        let back: toml::Table = toml::from_str(&lines).unwrap();
        assert_eq!(back, deps, "{lines}");
    }

    #[test]
    fn member_names_from_package_ids() {
        assert_eq!(
            member_name("path+file:///w/unit/s0-basic#0.0.0"),
            "s0-basic"
        );
        assert_eq!(
            member_name("path+file:///w/unit/dir#t1-basic@0.0.0"),
            "t1-basic"
        );
    }
}
