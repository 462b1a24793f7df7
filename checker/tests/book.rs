//! The book builds, and its code is real: every `{{#include}}` names a file that exists and an
//! anchor that exists in it (mdBook would silently show an empty block), and every internal
//! link points at a page or file that exists (mdBook would only log it). Then the book is
//! built with mdBook itself, into `target/book`.

use std::fs;
use std::path::{Path, PathBuf};

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("book")
}

fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = fs::read_dir(book_dir().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// Every `{{#include path}}`, `{{#include path:anchor}}` and `{{#rustdoc_include …}}`.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            let after = &rest[start + directive.len()..];
            let end = after
                .find("}}")
                .expect("an include directive is closed with }}");
            found.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn every_include_names_a_real_file_and_anchor() {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for include in includes(&text) {
            count += 1;
            let (file, selector) = match include.split_once(':') {
                Some((f, s)) => (f, Some(s)),
                None => (include.as_str(), None),
            };
            let path = page.parent().unwrap().join(file);
            let Ok(source) = fs::read_to_string(&path) else {
                problems.push(format!("{}: includes missing file {file}", page.display()));
                continue;
            };
            match selector {
                Some(anchor) if anchor.chars().next().is_some_and(|c| !c.is_ascii_digit()) => {
                    let opens = source.contains(&format!("ANCHOR: {anchor}"));
                    let closes = source.contains(&format!("ANCHOR_END: {anchor}"));
                    if !(opens && closes) {
                        problems.push(format!(
                            "{}: anchor `{anchor}` is not (fully) defined in {file}",
                            page.display()
                        ));
                    }
                }
                Some(lines) => {
                    let last: usize = lines
                        .split(':')
                        .filter_map(|n| n.parse().ok())
                        .max()
                        .unwrap_or(0);
                    if last > source.lines().count() {
                        problems.push(format!(
                            "{}: line range {lines} is past the end of {file}",
                            page.display()
                        ));
                    }
                }
                None => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
    assert!(count > 0, "the book includes no code at all");
}

#[test]
fn every_internal_link_resolves() {
    let mut problems = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            rest = &after[end..];
            if target.is_empty()
                || target.starts_with('#')
                || target.contains("://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let file = target.split('#').next().unwrap();
            if !page.parent().unwrap().join(file).exists() {
                problems.push(format!("{}: link to missing {target}", page.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

/// Every image a page shows: Markdown `![alt](src)` and HTML `<img src="…">`.
fn images(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("![") {
        let after = &rest[start + 2..];
        rest = after;
        let Some(close) = after.find("](") else { break };
        let target = &after[close + 2..];
        let end = target.find(')').unwrap_or(target.len());
        if let Some(src) = target[..end].split_whitespace().next() {
            found.push(src.to_string());
        }
    }
    let mut rest = text;
    while let Some(start) = rest.find("<img") {
        let after = &rest[start..];
        rest = &after[4..];
        let Some(src) = after.find("src=\"") else {
            continue;
        };
        let value = &after[src + 5..];
        if let Some(end) = value.find('"') {
            found.push(value[..end].to_string());
        }
    }
    found
}

#[test]
fn every_image_exists() {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for src in images(&text) {
            count += 1;
            if src.contains("://") {
                problems.push(format!(
                    "{}: {src} is not in the book (it must render offline)",
                    page.display()
                ));
            } else if !page.parent().unwrap().join(&src).is_file() {
                problems.push(format!("{}: image {src} does not exist", page.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken images:\n{}",
        problems.join("\n")
    );
    assert!(count > 0, "the book shows no plot at all");
}

#[test]
fn the_image_check_finds_both_forms() {
    let text = "a ![plot](perf/tiny.svg \"title\") b <img alt=\"x\" src=\"perf/coarse.svg\"> c";
    assert_eq!(images(text), ["perf/tiny.svg", "perf/coarse.svg"]);
}

#[test]
fn generated_pages_match_the_curriculum() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("book")
        .output()
        .expect("the checker runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_book_builds_with_mdbook() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("target")
        .join("book");
    let mut book = mdbook_driver::MDBook::load(book_dir()).expect("book.toml and SUMMARY.md load");
    book.config.build.build_dir = out.clone();
    book.build().expect("the book builds");
    assert!(out.join("index.html").is_file());
    assert!(out.join("ch01-basic.html").is_file());
    // The print view (every chapter on one page) and the search index.
    assert!(out.join("print.html").is_file(), "no print view");
    let search = fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
    assert!(
        search,
        "no search index: is mdbook-driver's `search` feature on?"
    );
    // The TOC numbers each chapter once (the titles carry the exercise numbers).
    let toc = fs::read_to_string(out.join("toc.html")).unwrap_or_default();
    assert!(
        !toc.contains("<strong aria-hidden=\"true\">1.</strong>"),
        "mdBook numbers the chapters a second time: keep `no-section-label = true`"
    );
}
