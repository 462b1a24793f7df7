//! The facade rule: exercise code takes every sync primitive from `workbook_sync`. Code that
//! reaches for `std::sync`, `std::thread` or crossbeam directly would compile, but loom could
//! not see it: a model would hang or pass without checking anything. The checker refuses
//! such code up front with a message that names the facade item to use instead.

use std::path::Path;

/// Paths that bypass the facade, and what to use instead.
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "std::sync::mpsc",
        "workbook_sync::channel (multi-consumer, like crossbeam-channel)",
    ),
    (
        "std::sync",
        "workbook_sync::{Arc, Mutex, Condvar, RwLock, atomic}",
    ),
    (
        "std::thread",
        "workbook_sync::thread::{spawn, JoinHandle, yield_now}",
    ),
    ("core::sync", "workbook_sync::atomic"),
    ("crossbeam_channel", "workbook_sync::channel (the same API)"),
    ("crossbeam", "workbook_sync::channel"),
    ("parking_lot", "workbook_sync::{Mutex, Condvar}"),
];

/// Every violation in the `.rs` files under `src`, as `file:line: message`.
pub fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let code = strip_comments_and_strings(&text);
        for (n, line) in code.lines().enumerate() {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            let braced_std = compact.contains("std::{")
                && (compact.contains("sync") || compact.contains("thread"));
            let hit = FORBIDDEN
                .iter()
                .find(|(path, _)| compact.contains(path))
                .map(|(path, instead)| (path.to_string(), *instead))
                .or(braced_std.then(|| {
                    (
                        "std::{sync | thread}".to_string(),
                        "workbook_sync::{Arc, Mutex, Condvar, thread, channel, atomic}",
                    )
                }));
            if let Some((path, instead)) = hit {
                let shown = file.strip_prefix(src).unwrap_or(&file);
                found.push(format!(
                    "src/{}:{}: uses `{path}` directly; use {instead} instead, so the loom \
                     model checks can see every lock, wait and thread",
                    shown.display(),
                    n + 1
                ));
            }
        }
    }
    found
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Blanks out comments and string/char literals, keeping line breaks so line numbers hold.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_direct_std_use_but_not_comments() {
        let dir = std::env::temp_dir().join(format!("facade-rule-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("lib.rs"),
            "//! never use std::sync here\nuse workbook_sync::Mutex;\nlet s = \"std::thread\";\n\
             use std::{collections::HashMap, sync::Arc};\nfn f() { std::thread::spawn(|| ()); }\n",
        )
        .unwrap();
        let found = violations(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("src/lib.rs:4:"), "{found:#?}");
        assert!(found[1].starts_with("src/lib.rs:5:"), "{found:#?}");
    }
}
