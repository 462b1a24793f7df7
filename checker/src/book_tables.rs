//! The book's tables that come from the curriculum, so a renamed test or variant cannot leave
//! the book wrong: each chapter's "Pitfalls the hidden suite catches" table is generated into
//! `book/src/generated/pitfalls-<slug>.md` from the exercise's known-wrong variants.
//! `cargo checker book --write` regenerates them; `cargo test` fails while one is stale.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::curriculum::{Curriculum, Exercise};
use crate::paths::Paths;

/// Every generated page: where it goes and what it must hold.
pub fn pages(paths: &Paths, curriculum: &Curriculum) -> Vec<(PathBuf, String)> {
    let dir = paths.root.join("book").join("src").join("generated");
    curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .map(|ex| {
            (
                dir.join(format!("pitfalls-{}.md", ex.slug)),
                pitfall_table(ex),
            )
        })
        .collect()
}

/// One exercise's known-wrong variants as a table: the bug, and what the student sees.
pub fn pitfall_table(ex: &Exercise) -> String {
    let mut out = String::from(
        "<!-- Generated from checker/suites/<slug>/exercise.toml by `cargo checker book --write`; do not edit. -->\n\n",
    );
    let _ = writeln!(out, "| Bug | What you see |\n|-----|--------------|");
    for w in &ex.wrong {
        let caught: Vec<String> = w
            .caught_by
            .iter()
            .map(|name| match ex.test(name) {
                Some(t) => format!("`{name}` ({})", t.kind.label()),
                None => format!("`{name}`"),
            })
            .collect();
        let seen = match &w.shows {
            Some(shows) => format!("{shows} — caught by {}", caught.join(", ")),
            None => format!("caught by {}", caught.join(", ")),
        };
        let _ = writeln!(
            out,
            "| {} <br>*(`{}`)* | {} |",
            cell(&w.bug),
            w.name,
            cell(&seen)
        );
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Writes the generated pages (`write`), or fails naming each stale one.
pub fn run(paths: &Paths, curriculum: &Curriculum, write: bool) -> Result<()> {
    let mut stale = Vec::new();
    for (path, text) in pages(paths, curriculum) {
        if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if write {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        } else {
            stale.push(path.display().to_string());
        }
    }
    if !stale.is_empty() {
        bail!(
            "these book pages no longer match the curriculum: {}\nrun `cargo checker book --write`",
            stale.join(", ")
        );
    }
    Ok(())
}
