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
///
/// # Errors
/// When `book/seed-map.toml` names a variant the curriculum does not have.
pub fn pages(paths: &Paths, curriculum: &Curriculum) -> Result<Vec<(PathBuf, String)>> {
    let dir = paths.root.join("book").join("src").join("generated");
    let mut pages: Vec<(PathBuf, String)> = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .map(|ex| {
            (
                dir.join(format!("pitfalls-{}.md", ex.slug)),
                pitfall_table(ex),
            )
        })
        .collect();
    pages.extend(seed_tables(paths, curriculum, &dir)?);
    Ok(pages)
}

/// `book/seed-map.toml`: the seed's pitfalls and wrong Go snippets, each with the
/// known-wrong variants that commit it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedMap {
    #[serde(default)]
    pitfall: Vec<SeedEntry>,
    #[serde(default)]
    go: Vec<SeedEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedEntry {
    id: String,
    /// `slug/variant`.
    variants: Vec<String>,
}

/// One table per seed entry: the exercise, the bug, what the student sees, the tests.
fn seed_tables(
    paths: &Paths,
    curriculum: &Curriculum,
    dir: &std::path::Path,
) -> Result<Vec<(PathBuf, String)>> {
    let file = paths.root.join("book").join("seed-map.toml");
    let Ok(text) = fs::read_to_string(&file) else {
        return Ok(Vec::new());
    };
    let map: SeedMap =
        toml::from_str(&text).with_context(|| format!("reading {}", file.display()))?;
    let mut pages = Vec::new();
    for (prefix, entries) in [("seed-pitfall", &map.pitfall), ("seed-go", &map.go)] {
        for entry in entries {
            let mut out = String::from(
                "<!-- Generated from book/seed-map.toml and checker/suites/*/exercise.toml by \
                 `cargo checker book --write`; do not edit. -->\n\n\
                 | Exercise | The bug, as a known-wrong pool the checker keeps | Caught by |\n\
                 |----------|--------------------------------------------------|-----------|\n",
            );
            for v in &entry.variants {
                let (slug, name) = v
                    .split_once('/')
                    .with_context(|| format!("{}: `{v}` is not `slug/variant`", file.display()))?;
                let ex = curriculum
                    .exercise
                    .iter()
                    .find(|e| e.slug == slug)
                    .with_context(|| format!("{}: no exercise `{slug}`", file.display()))?;
                let w = ex.wrong.iter().find(|w| w.name == name).with_context(|| {
                    format!(
                        "{}: exercise `{slug}` has no known-wrong variant `{name}`",
                        file.display()
                    )
                })?;
                let caught: Vec<String> = w
                    .caught_by
                    .iter()
                    .map(|t| match ex.test(t) {
                        Some(spec) => format!("`{t}` ({})", spec.kind.label()),
                        None => format!("`{t}`"),
                    })
                    .collect();
                let bug = match &w.shows {
                    Some(shows) => format!("{} You see: {shows}", w.bug),
                    None => w.bug.clone(),
                };
                let _ = writeln!(
                    out,
                    "| [{}. {}]({}) | {} *(`{}`)* | {} |",
                    ex.id,
                    cell(&ex.title),
                    ex.chapter,
                    cell(&bug),
                    w.name,
                    caught.join("<br>")
                );
            }
            pages.push((dir.join(format!("{prefix}-{}.md", entry.id)), out));
        }
    }
    Ok(pages)
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
    for (path, text) in pages(paths, curriculum)? {
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
