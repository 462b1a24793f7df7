//! `cargo checker reset`: puts an exercise back as it was shipped — the stub `src/lib.rs` and
//! the starter tests — from the checker's own copy (`checker/suites/<slug>/stub/`), so no git
//! is needed. What it replaces is kept as a backup beside it first.

use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::curriculum::Exercise;
use crate::paths::Paths;

pub fn reset(paths: &Paths, dir: &Path, exercises: &[&Exercise], yes: bool) -> Result<()> {
    let names: Vec<&str> = exercises.iter().map(|e| e.slug.as_str()).collect();
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("reset replaces your code: confirm with `--yes` when not at a terminal");
        }
        eprint!(
            "Reset {} to the untouched stub? Your code is kept as src/lib.rs.bak. [y/N] ",
            names.join(", ")
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(());
        }
    }
    for ex in exercises {
        for line in restore(paths, dir, ex)? {
            println!("{line}");
        }
        println!("{}: reset to the untouched stub", ex.slug);
    }
    Ok(())
}

/// Puts one exercise back as shipped; says what it kept as a backup.
pub fn restore(paths: &Paths, dir: &Path, ex: &Exercise) -> Result<Vec<String>> {
    let mut said = Vec::new();
    let krate = dir.join(&ex.dir);
    for (shipped, working) in [
        (
            paths.pristine_stub(&ex.slug),
            krate.join("src").join("lib.rs"),
        ),
        (
            paths.pristine_starter(&ex.slug),
            krate.join("tests").join("starter.rs"),
        ),
    ] {
        let text = fs::read(&shipped)
            .with_context(|| format!("reading the shipped {}", shipped.display()))?;
        if fs::read(&working).ok().as_deref() == Some(text.as_slice()) {
            continue;
        }
        if working.exists() {
            let backup = working.with_extension("rs.bak");
            fs::copy(&working, &backup)
                .with_context(|| format!("keeping a backup in {}", backup.display()))?;
            said.push(format!(
                "kept your {} as {}",
                working.display(),
                backup.display()
            ));
        }
        if let Some(parent) = working.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&working, text).with_context(|| format!("writing {}", working.display()))?;
    }
    Ok(said)
}
