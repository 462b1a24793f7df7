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
use std::time::Duration;

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
    /// `cargo checker bench`: the exercise's bench adapter (`checker/benches/adapters/<slug>.rs`)
    /// compiled against the subject and against the reference, release build (see `bench`).
    Bench,
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
            Tier::Bench => "bench",
        }
    }

    /// What building this tier means, for progress lines.
    pub fn describe(self) -> &'static str {
        match self {
            Tier::Unit => "building the tests (debug)",
            Tier::Loom => "building the loom models (release)",
            Tier::Bench => "building the benchmark (release)",
        }
    }

    fn kinds(self) -> &'static [Kind] {
        match self {
            Tier::Unit => &[Kind::Starter, Kind::Unit],
            Tier::Loom => &[Kind::Loom],
            // A benchmark runs no test: every unit is built.
            Tier::Bench => &[],
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
    /// The checker's copy of the subject's `src/`'s crate (what was compiled, and what
    /// locations in reports refer to).
    pub source_dir: PathBuf,
}

/// How a harness build runs.
#[derive(Clone, Copy, Debug)]
pub struct BuildOptions {
    /// Compile student code inside the sandbox (see `sandbox`).
    pub sandbox: bool,
    /// Wall-clock limit for compiling one unit's crates (dependencies are built before,
    /// without a limit, as trusted code).
    pub deadline: Duration,
    /// [`prepare_sources`] has copied the subjects' sources already: both tiers build from
    /// that one copy at once, and a file the student saves meanwhile is never half-read.
    pub sources_ready: bool,
    /// Keep rustc's incremental caches. They make a student's next edit rebuild in a
    /// fraction of the time, but cost a few megabytes per crate: `verify` builds hundreds of
    /// variants once each, and with them kept it needed 5 GB more disk (it ran out in CI).
    pub incremental: bool,
}

/// Copies each unit's `src/` to where [`build`] compiles it from (see
/// [`BuildOptions::sources_ready`]).
pub fn prepare_sources(paths: &Paths, key: &str, units: &[Unit<'_>]) -> Result<()> {
    for (i, unit) in units.iter().enumerate() {
        copy_sources(
            &unit.crate_dir.join("src"),
            &unit_source_dir(paths, key, i, unit).join("src"),
        )?;
    }
    Ok(())
}

fn unit_source_dir(paths: &Paths, key: &str, i: usize, unit: &Unit<'_>) -> PathBuf {
    paths
        .scratch
        .join("work")
        .join(key)
        .join("src")
        .join(format!("s{i}-{}", unit.exercise.slug))
}

/// Builds `tier` of every unit; results come back in the order of `units`.
pub fn build(
    paths: &Paths,
    key: &str,
    tier: Tier,
    units: &[Unit<'_>],
    progress: &Progress,
    options: &BuildOptions,
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
    let mut members = vec![deps_pkg(tag)];
    let mut wanted = Vec::new();
    let mut sources = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        // The subject's code is compiled from a copy, written with fresh dates whenever its
        // content changes: what is graded depends on the content alone, never on file dates
        // or on where the submission lives.
        let source_dir = unit_source_dir(paths, key, i, unit);
        if !options.sources_ready {
            copy_sources(&unit.crate_dir.join("src"), &source_dir.join("src"))?;
        }
        sources.push(source_dir.clone());
        let tests: Vec<_> = unit
            .tests
            .iter()
            .copied()
            .filter(|t| tier.kinds().contains(&t.kind))
            .collect();
        if tests.is_empty() && tier != Tier::Bench {
            wanted.push(false);
            continue;
        }
        wanted.push(true);
        write_units(paths, &work, tier, tag, i, unit, &tests, &source_dir)?;
        members.push(subject_pkg(tag, i, unit.exercise));
        members.push(suite_pkg(tag, i, unit.exercise));
    }
    let no_tests = |i: usize| UnitBuild {
        built: Built::NoTests,
        warnings: Vec::new(),
        source_dir: sources[i].clone(),
    };
    if members.len() == 1 {
        return Ok((0..units.len()).map(no_tests).collect());
    }
    write_deps_package(paths, &work, tier, tag, units)?;
    write_if_changed(
        &work.join("Cargo.toml"),
        &workspace_manifest(paths, tier, &members, options.incremental),
    )?;
    let lock_copy = work.join("Cargo.lock");
    let newer = |a: &Path, b: &Path| {
        let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        modified(a) > modified(b)
    };
    if !lock_copy.exists() || newer(&paths.lockfile(), &lock_copy) {
        // Same dependency versions as the workbook itself, and no index update needed.
        fs::copy(paths.lockfile(), &lock_copy).context("copying Cargo.lock")?;
    }

    let bar = progress.build(tier.describe(), members.len() - 1);
    // Trusted first: every dependency, with no student code involved, so the limited,
    // sandboxed build below compiles only the subject and its suite. Skipped when nothing it
    // depends on changed since it last succeeded (a no-op cargo run is a tenth of a second of
    // a student's check); should the artefacts be gone anyway, the build below makes them.
    // One stamp per key: a student moving between two exercises changes the workspace's
    // members each time, and both sets of dependencies stay built. The build fits the lock
    // file to the members, so each stamp keeps the lock file its build left, and a skipped
    // build puts it back (the sandboxed build below is `--locked`).
    let stamps = work.join(".deps-built.d");
    let _ = fs::remove_file(work.join(".deps-built")); // the single stamp of earlier versions
    let deps_key = [
        work.join("Cargo.toml"),
        work.join(deps_pkg(tag)).join("Cargo.toml"),
        paths.lockfile(),
    ]
    .iter()
    .map(|p| fs::read_to_string(p).unwrap_or_default())
    .chain([
        format!("{:?} {:?}", toolchain().rustc, toolchain().sysroot),
        // The path dependencies' own sources (they change while the workbook is developed).
        crate::digest::tree(&[paths.facade(), paths.testkit(), paths.vendored_loom()]),
    ])
    .collect::<Vec<_>>()
    .join("\n\0");
    let deps_key = crate::digest::bytes(deps_key.as_bytes());
    let deps_stamp = stamps.join(&deps_key);
    let stamped_lock = fs::read_to_string(&deps_stamp)
        .ok()
        .filter(|lock| lock.contains("[[package]]"));
    if let Some(lock) = stamped_lock {
        if fs::read_to_string(&lock_copy).ok().as_deref() != Some(lock.as_str()) {
            fs::write(&lock_copy, lock).context("restoring the harness's Cargo.lock")?;
        }
    } else {
        let deps = run_cargo(
            paths,
            &work,
            tier,
            &bar,
            &Invocation::Deps(deps_pkg(tag)),
            None,
        )?;
        if let Some(errors) = deps.errors.values().next() {
            bail!("the checker's own dependencies do not build:\n{errors}");
        }
        // A handful of stamps at most: past that, start again from this one.
        if fs::read_dir(&stamps).map_or(0, |d| d.count()) >= 16 {
            let _ = fs::remove_dir_all(&stamps);
        }
        fs::create_dir_all(&stamps)?;
        fs::copy(&lock_copy, &deps_stamp).context("stamping the dependencies' build")?;
    }
    let everything = Invocation::Units {
        exclude: deps_pkg(tag),
        only: Vec::new(),
    };
    let sandbox = options.sandbox.then(|| {
        let mut policy = build_policy(paths, &work, units, &sources);
        if tier == Tier::Bench {
            policy.read.extend(crate::bench::build_reads(paths, units));
        }
        policy
    });
    // The dependencies' package is built already; two crates (subject and suite) per unit.
    // One unit gets the whole deadline, each further one an eighth more: ten exercises
    // build in well under a minute, and a compile-time loop in one of them must not hold
    // its class for long before the units are retried one at a time (there it gets the
    // deadline of its own it overruns).
    let units_to_build = ((members.len() - 1) / 2).max(1);
    let deadline = options.deadline + (options.deadline / 8) * (units_to_build as u32 - 1);
    let mut messages = run_cargo(
        paths,
        &work,
        tier,
        &bar,
        &everything,
        Some((deadline, sandbox.as_ref())),
    )?;
    let units_built = wanted.iter().filter(|w| **w).count();
    if messages.timed_out && units_built == 1 {
        if let Some((i, unit)) = units.iter().enumerate().find(|(i, _)| wanted[*i]) {
            messages.errors.insert(
                subject_pkg(tag, i, unit.exercise),
                timed_out_message(options.deadline),
            );
        }
    } else if messages.timed_out {
        // One unit (or more) does not finish compiling: find which, one at a time, so the
        // others are still graded.
        messages = Messages::default();
        for (i, unit) in units.iter().enumerate().filter(|(i, _)| wanted[*i]) {
            let one = Invocation::Units {
                exclude: deps_pkg(tag),
                only: vec![
                    subject_pkg(tag, i, unit.exercise),
                    suite_pkg(tag, i, unit.exercise),
                ],
            };
            let m = run_cargo(
                paths,
                &work,
                tier,
                &bar,
                &one,
                Some((options.deadline, sandbox.as_ref())),
            )?;
            let subject = subject_pkg(tag, i, unit.exercise);
            if m.timed_out {
                messages
                    .errors
                    .insert(subject, timed_out_message(options.deadline));
            } else {
                messages.absorb(m);
            }
        }
    }
    bar.done();
    Ok(units
        .iter()
        .enumerate()
        .map(|(i, unit)| {
            if !wanted[i] {
                return no_tests(i);
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
            UnitBuild {
                built,
                warnings,
                source_dir: sources[i].clone(),
            }
        })
        .collect())
}

fn timed_out_message(deadline: Duration) -> String {
    format!(
        "the build of this crate did not finish within {} s and was stopped: an endless \
         compile-time evaluation (a `const` or a `static` that loops)?",
        deadline.as_secs()
    )
}

/// Copies a submission's `src/` (already checked: real files only, bounded in number and
/// size) into the checker's folder, rewriting only what changed and removing what is gone.
fn copy_sources(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut keep = std::collections::BTreeSet::new();
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        keep.insert(name.clone());
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_sources(&src, &dst)?;
        } else {
            let bytes = fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            if fs::read(&dst).ok().as_deref() != Some(bytes.as_slice()) {
                fs::write(&dst, &bytes).with_context(|| format!("writing {}", dst.display()))?;
            }
        }
    }
    for entry in fs::read_dir(to)?.flatten() {
        if !keep.contains(&entry.file_name()) {
            let path = entry.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

fn deps_pkg(tag: &str) -> String {
    format!("deps-{tag}")
}

/// A package that depends on everything the units need, so the trusted warm-up build can
/// compile all dependencies (with the features the units use) before any student code.
fn write_deps_package(
    paths: &Paths,
    work: &Path,
    tier: Tier,
    tag: &str,
    units: &[Unit<'_>],
) -> Result<()> {
    let dir = work.join(deps_pkg(tag));
    fs::create_dir_all(dir.join("src"))?;
    let mut deps = toml::Table::new();
    for unit in units {
        for table in [
            &unit.exercise.dependencies,
            &unit.exercise.suite_dependencies,
        ] {
            for (name, spec) in table {
                merge_dependency(&mut deps, name, spec);
            }
        }
    }
    if tier == Tier::Bench {
        for unit in units {
            for (name, spec) in crate::bench::dependencies(paths, unit.exercise) {
                merge_dependency(&mut deps, &name, &spec);
            }
        }
    }
    let mut features = Vec::new();
    if tier == Tier::Loom {
        features.push("\"loom\"");
    }
    if units
        .iter()
        .any(|u| u.exercise.suite_dependencies.contains_key("tokio"))
    {
        features.push("\"tokio\"");
    }
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = {name}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\
             autobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\
             build = false\n\n[lib]\npath = \"src/lib.rs\"\n\n\
             [dependencies]\ntestkit = {{ path = {testkit}, features = [{features}] }}\n\
             workbook-sync = {{ path = {facade} }}\npretty_assertions = \"1.4\"\n{extra}",
            name = toml_str(&deps_pkg(tag)),
            testkit = path_str(&paths.testkit()),
            features = features.join(", "),
            facade = path_str(&paths.facade()),
            extra = dependency_lines(&deps),
        ),
    )?;
    write_if_changed(
        &dir.join("src").join("lib.rs"),
        "// Generated: makes the checker build every dependency before any student code.\n",
    )
}

/// Adds `name = spec` to `deps`, uniting the features when two exercises both name it.
fn merge_dependency(deps: &mut toml::Table, name: &str, spec: &toml::Value) {
    let as_table = |v: &toml::Value| -> toml::Table {
        match v {
            toml::Value::String(version) => {
                let mut t = toml::Table::new();
                t.insert("version".into(), toml::Value::String(version.clone()));
                t
            }
            toml::Value::Table(t) => t.clone(),
            _ => toml::Table::new(),
        }
    };
    let mut new = as_table(spec);
    if let Some(old) = deps.get(name).map(as_table) {
        let mut features: Vec<toml::Value> = Vec::new();
        for t in [&old, &new] {
            if let Some(toml::Value::Array(list)) = t.get("features") {
                for f in list {
                    if !features.contains(f) {
                        features.push(f.clone());
                    }
                }
            }
        }
        if !features.is_empty() {
            new.insert("features".into(), toml::Value::Array(features));
        }
        if old.get("default-features") == Some(&toml::Value::Boolean(true))
            || (old.get("default-features").is_none() && new.get("default-features").is_some())
        {
            new.remove("default-features");
        }
    }
    deps.insert(name.to_string(), toml::Value::Table(new));
}

/// What the sandboxed build may touch: the toolchain, the dependency cache, the checker's
/// facade and test kit, exactly the suite files the units compile, the generated harness and
/// the copied sources (read-only), and the target directory (writable).
fn build_policy(
    paths: &Paths,
    work: &Path,
    units: &[Unit<'_>],
    sources: &[PathBuf],
) -> crate::sandbox::Policy {
    let tools = toolchain();
    let mut read = crate::sandbox::system_paths();
    read.extend(tools.sysroot.iter().cloned());
    read.extend([
        tools.cargo_home.join("registry"),
        tools.cargo_home.join("git"),
    ]);
    read.extend([
        paths.facade(),
        paths.testkit(),
        paths.vendored_loom(),
        work.to_path_buf(),
    ]);
    for unit in units {
        let dir = unit.exercise.suite_dir(paths);
        read.extend([
            dir.join("hidden.rs"),
            dir.join("model.rs"),
            paths.pristine_starter(&unit.exercise.slug),
        ]);
    }
    read.extend(sources.iter().cloned());
    // Cargo reads every `.cargo/config.toml` above the folder it runs in, and the manifests
    // above the facade and the test kit (they inherit from the workbook's workspace).
    for ancestor in work.ancestors() {
        let config = ancestor.join(".cargo");
        if config.is_dir() {
            read.push(config);
        }
    }
    for crate_dir in [paths.facade(), paths.testkit()] {
        for ancestor in crate_dir.ancestors().skip(1) {
            let manifest = ancestor.join("Cargo.toml");
            if manifest.is_file() {
                read.push(manifest);
            }
        }
    }
    let home = paths.scratch.join("build-home");
    let tmp = home.join("tmp");
    let _ = fs::create_dir_all(&tmp);
    // The real cargo home (the same paths as the trusted build, so nothing is rebuilt), with
    // writes only to cargo's own lock and cache-tracking files in it.
    let mut write = vec![paths.target.clone(), home.clone()];
    for name in [".package-cache", ".package-cache-mutate", ".global-cache"] {
        let file = tools.cargo_home.join(name);
        if file.is_file() {
            write.push(file);
        }
    }
    let mut env = vec![
        ("PATH".to_string(), tools.path.clone()),
        ("HOME".to_string(), home.to_string_lossy().into_owned()),
        ("TMPDIR".to_string(), tmp.to_string_lossy().into_owned()),
        (
            "CARGO_HOME".to_string(),
            tools.cargo_home.to_string_lossy().into_owned(),
        ),
        (
            "CARGO_TARGET_DIR".to_string(),
            paths.target.to_string_lossy().into_owned(),
        ),
        ("CARGO_TERM_COLOR".to_string(), "always".to_string()),
    ];
    if let Some(rustc) = &tools.rustc {
        env.push(("RUSTC".to_string(), rustc.to_string_lossy().into_owned()));
    }
    crate::sandbox::Policy {
        read,
        write,
        cpu_secs: 3600,
        // Far above what rustc needs for an exercise (under 2 GiB), far below the machine:
        // a macro that expands without end fails here instead of taking the grader's memory.
        address_space: 8 << 30,
        processes: 4096,
        file_size: 4 << 30,
        open_files: 4096,
        cwd: work.to_path_buf(),
        env,
        namespaces: true,
    }
}

/// Where the toolchain is (found once, outside any sandbox).
struct Toolchain {
    cargo: PathBuf,
    rustc: Option<PathBuf>,
    sysroot: Option<PathBuf>,
    cargo_home: PathBuf,
    /// PATH for the build: the toolchain's `bin/` first, then the system's.
    path: String,
}

fn toolchain() -> &'static Toolchain {
    static TOOLS: std::sync::OnceLock<Toolchain> = std::sync::OnceLock::new();
    TOOLS.get_or_init(|| {
        let sysroot = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        let in_sysroot = |name: &str| {
            sysroot
                .as_ref()
                .map(|s| s.join("bin").join(name))
                .filter(|p| p.is_file())
        };
        let cargo = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .or_else(|| in_sysroot("cargo"))
            .unwrap_or_else(|| PathBuf::from("cargo"));
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_else(|| PathBuf::from(".cargo"));
        let mut path = String::new();
        if let Some(bin) = sysroot.as_ref().map(|s| s.join("bin")) {
            path.push_str(&bin.to_string_lossy());
            path.push(':');
        }
        path.push_str("/usr/local/bin:/usr/bin:/bin");
        Toolchain {
            cargo,
            rustc: in_sysroot("rustc"),
            sysroot,
            cargo_home,
            path,
        }
    })
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

fn workspace_manifest(paths: &Paths, tier: Tier, members: &[String], incremental: bool) -> String {
    let list: Vec<String> = members.iter().map(|m| toml_str(m)).collect();
    // Loom's own code (a dependency) does the work of a model; the subject and its suite are
    // what a student's edit recompiles, and at `opt-level = 1` a real change to a pool
    // rebuilds in a fraction of the time, with models as fast (measured on the buffered
    // suite). The bench tier measures the subject's code itself, so it stays fully optimised.
    let release_members = if tier == Tier::Loom {
        "opt-level = 1\n"
    } else {
        ""
    };
    format!(
        "# Generated by the checker for each grading run; do not edit.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n\
         # Only the subject and its suite are rebuilt after an edit; the dependencies are built\n\
         # once, so they may take longer to build for faster tests: optimised in the debug tier\n\
         # (a suite's 100 000-job tests), one codegen unit in the loom tier (loom's scheduler).\n\
         # No debug info: nothing reads it (locations come from `#[track_caller]`), and without\n\
         # it a suite compiles and links about 15 % faster after an edit.\n\
         [profile.dev]\ndebug = false\nincremental = {incremental}\n\n\
         [profile.dev.package.\"*\"]\nopt-level = 2\n\n\
         [profile.release]\n{release_members}debug = false\nincremental = {incremental}\n\n\
         [profile.release.package.\"*\"]\nopt-level = 3\ncodegen-units = 1\n\n\
         # The workbook's loom, as in its own workspace (the same Cargo.lock).\n\
         [patch.crates-io]\nloom = {{ path = {} }}\n",
        list.join(", "),
        path_str(&paths.vendored_loom()),
    )
}

#[allow(clippy::too_many_arguments)]
fn write_units(
    paths: &Paths,
    work: &Path,
    tier: Tier,
    tag: &str,
    i: usize,
    unit: &Unit<'_>,
    tests: &[&crate::curriculum::TestSpec],
    source_dir: &Path,
) -> Result<()> {
    let ex = unit.exercise;
    let lib = source_dir.join("src").join("lib.rs");
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
             # Forbidden, not denied: `#![allow(unsafe_code)]` in the code cannot undo it.\n\
             [lints.rust]\nunsafe_code = \"forbid\"\n\n\
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
            extra = if tier == Tier::Bench {
                dependency_lines(&crate::bench::dependencies(paths, ex))
            } else {
                dependency_lines(&ex.suite_dependencies)
            },
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
    let suite_src = ex.suite_dir(paths);
    match tier {
        Tier::Bench => {
            return write_if_changed(
                &suite_dir.join("main.rs"),
                &crate::bench::main_rs(paths, ex),
            );
        }
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
    /// The build was stopped at its deadline.
    timed_out: bool,
}

impl Messages {
    fn absorb(&mut self, other: Messages) {
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.executables.extend(other.executables);
        if self.stderr_tail.is_empty() {
            self.stderr_tail = other.stderr_tail;
        }
    }
}

/// The model build: the `loom` feature alone is not enough, `--cfg workbook_loom` must be set
/// too (so an editor's "all features" never turns it on). Given as cargo configuration, the
/// same for every loom-tier build, so no build invalidates another.
pub const LOOM_CONFIG: [&str; 2] = ["--config", "build.rustflags=[\"--cfg\", \"workbook_loom\"]"];

/// What one cargo invocation builds.
enum Invocation {
    /// The dependencies' package (trusted, no student code).
    Deps(String),
    /// The units' crates: all but `exclude`, or `only` these.
    Units { exclude: String, only: Vec<String> },
}

/// The environment cargo runs in: the checker's choices, not the caller's.
pub fn cargo_command(paths: &Paths) -> Command {
    let mut cmd = Command::new(&toolchain().cargo);
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

/// Runs one cargo build of the harness workspace. With `limit`, the build runs in the
/// sandbox (when a policy is given) and is stopped, process group and all, at the deadline.
fn run_cargo(
    paths: &Paths,
    work: &Path,
    tier: Tier,
    bar: &crate::progress::BuildBar,
    what: &Invocation,
    limit: Option<(Duration, Option<&crate::sandbox::Policy>)>,
) -> Result<Messages> {
    let mut args: Vec<String> = vec!["build".into(), "--keep-going".into()];
    args.extend([
        "--message-format".into(),
        "json-diagnostic-rendered-ansi".into(),
    ]);
    args.push("--manifest-path".into());
    args.push(work.join("Cargo.toml").to_string_lossy().into_owned());
    if tier == Tier::Loom {
        args.push("--release".into());
        args.extend(LOOM_CONFIG.iter().map(|a| a.to_string()));
    }
    if tier == Tier::Bench {
        args.push("--release".into());
    }
    match what {
        Invocation::Deps(pkg) => args.extend(["-p".into(), pkg.clone()]),
        Invocation::Units { exclude, only } if only.is_empty() => {
            args.extend(["--tests".into(), "--workspace".into(), "--exclude".into()]);
            args.push(exclude.clone());
        }
        Invocation::Units { only, .. } => {
            args.push("--tests".into());
            for pkg in only {
                args.extend(["-p".into(), pkg.clone()]);
            }
        }
    }
    let sandbox = limit.and_then(|(_, p)| p);
    let mut cmd = match sandbox {
        Some(policy) => {
            // Offline and locked: the sandbox has no network, and the lock file (written by
            // the trusted build above) must not change.
            args.extend(["--offline".into(), "--locked".into()]);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::sandbox::command(policy, &toolchain().cargo, &refs)
        }
        None => {
            let mut cmd = cargo_command(paths);
            cmd.args(&args).current_dir(work);
            cmd
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        // SAFETY: prctl is async-signal-safe and allocates nothing. A build dies with the
        // checker (a watch closed mid-build leaves no cargo behind).
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().context("starting cargo")?;
    // The deadline: a watchdog kills the build's whole process group (cargo and rustc).
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let timed_out = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = limit.map(|(deadline, _)| {
        let group = child.id();
        let timed_out = std::sync::Arc::clone(&timed_out);
        std::thread::spawn(move || {
            if done_rx.recv_timeout(deadline).is_err() {
                timed_out.store(true, std::sync::atomic::Ordering::SeqCst);
                #[cfg(unix)]
                if let Ok(pid) = i32::try_from(group) {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        })
    });
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
        let Ok(line) = line else { break };
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
    let _ = done_tx.send(());
    if let Some(w) = watchdog {
        let _ = w.join();
    }
    messages.timed_out = timed_out.load(std::sync::atomic::Ordering::SeqCst);
    messages.stderr_tail = stderr_reader.join().unwrap_or_default();
    if !status.success() && messages.errors.is_empty() && !messages.timed_out {
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
