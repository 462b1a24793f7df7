//! The facade rule: exercise code takes every sync primitive from `workbook_sync`. Code that
//! reaches for `std::sync`, `std::thread` or crossbeam directly would compile, but loom could
//! not see it: a model would hang or pass without checking anything. The checker refuses such
//! code up front with a message that names the facade item to use instead.
//!
//! The rule reads Rust syntax (`syn`), not text: a path is judged wherever it appears (`use`
//! trees, types, expressions, patterns, macro arguments), renaming `std` (`use std as s;`,
//! `extern crate std as s;`) or glob-importing it is refused because it would hide the paths
//! that follow, and the source tree itself is bounded: no symlinks, a capped number and size
//! of files, and `#[path]` / `include!` / `include_str!` / `include_bytes!` may not leave `src/`.

use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::Visit;

/// Paths that bypass the facade, and what to use instead. The first matching prefix wins.
const FORBIDDEN: &[(&[&str], &str)] = &[
    (
        &["std", "sync", "mpsc"],
        "workbook_sync::channel (multi-consumer, like crossbeam-channel)",
    ),
    (
        &["std", "sync"],
        "workbook_sync::{Arc, Mutex, Condvar, RwLock, atomic}",
    ),
    (
        &["std", "thread"],
        "workbook_sync::thread::{spawn, JoinHandle, yield_now}",
    ),
    (&["core", "sync"], "workbook_sync::atomic"),
    (&["alloc", "sync"], "workbook_sync::Arc"),
    (
        &["crossbeam_channel"],
        "workbook_sync::channel (the same API)",
    ),
    (&["crossbeam"], "workbook_sync::channel"),
    (&["parking_lot"], "workbook_sync::{Mutex, Condvar}"),
];

/// What the facade re-exports from std under the same name: the very same type in both
/// builds, with nothing for loom to see (an enum, error types, a result alias). These paths
/// are fine to write either way.
const SAME_IN_BOTH_BUILDS: &[&[&str]] = &[
    &["std", "sync", "atomic", "Ordering"],
    &["core", "sync", "atomic", "Ordering"],
    &["std", "sync", "LockResult"],
    &["std", "sync", "PoisonError"],
    &["std", "sync", "TryLockError"],
    &["std", "sync", "TryLockResult"],
    &["std", "thread", "Result"],
];

/// The crates whose renaming would hide a forbidden path.
const ROOTS: &[&str] = &["std", "core", "alloc"];

/// At most this many files under `src/`, and this many bytes in all.
const MAX_FILES: usize = 64;
const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// Every violation under `src`, as `src/file:line: message`.
pub fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let files = match source_files(src) {
        Ok(files) => files,
        Err(problem) => return vec![problem],
    };
    let mut queue: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .cloned()
        .collect();
    let mut scanned = std::collections::BTreeSet::new();
    while let Some(file) = queue.pop() {
        if !scanned.insert(file.clone()) {
            continue;
        }
        let shown = format!("src/{}", file.strip_prefix(src).unwrap_or(&file).display());
        let Ok(text) = std::fs::read_to_string(&file) else {
            found.push(format!("{shown}: cannot be read as UTF-8 text"));
            continue;
        };
        // The compiler stops a `const` that evaluates for too long — unless the code lifts
        // that guard, which no exercise needs and which lets one `loop {}` stall the build
        // until its deadline. An identifier cannot be assembled from pieces in stable Rust,
        // so finding the name anywhere in the file finds every way to name the lint.
        if let Some(at) = text.find("long_running_const_eval") {
            let line = text[..at].lines().count().max(1);
            found.push(format!(
                "{shown}:{line}: names the `long_running_const_eval` lint; the compiler's guard \
                 against endless constant evaluation stays on (a `const` that never finishes \
                 would stall the build)"
            ));
        }
        let ast = match syn::parse_file(&text) {
            Ok(ast) => ast,
            // The compiler will say it better; the rule has nothing to judge yet.
            Err(_) => continue,
        };
        let mut v = Visitor {
            src,
            dir: file.parent().unwrap_or(src).to_path_buf(),
            shown: &shown,
            found: &mut found,
            more: Vec::new(),
        };
        v.visit_file(&ast);
        queue.extend(v.more);
    }
    found
}

/// Every file under `src`, refusing symlinks and oversized trees.
fn source_files(src: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut bytes = 0u64;
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let shown = format!("src/{}", path.strip_prefix(src).unwrap_or(&path).display());
            let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{shown}: {e}"))?;
            if meta.file_type().is_symlink() {
                return Err(format!(
                    "{shown}: is a symbolic link; the checker reads only real files inside \
                     src/ (copy the file in instead)"
                ));
            }
            if meta.is_dir() {
                dirs.push(path);
                continue;
            }
            bytes += meta.len();
            files.push(path);
            if files.len() > MAX_FILES || bytes > MAX_BYTES {
                return Err(format!(
                    "src/ holds more than {MAX_FILES} files or {} MiB: an exercise needs far \
                     less; remove what does not belong there",
                    MAX_BYTES / 1024 / 1024
                ));
            }
        }
    }
    files.sort();
    Ok(files)
}

struct Visitor<'a> {
    src: &'a Path,
    /// The directory of the file being read (where its `include!` paths start).
    dir: PathBuf,
    shown: &'a str,
    found: &'a mut Vec<String>,
    /// Further files to read: `include!`d code.
    more: Vec<PathBuf>,
}

fn name(ident: &proc_macro2::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

/// The facade advice for a path, or `None` when it is fine.
fn judge(segments: &[String]) -> Option<(String, &'static str)> {
    if SAME_IN_BOTH_BUILDS.iter().any(|ok| {
        segments.len() >= ok.len() && ok.iter().zip(segments).all(|(a, b)| *a == b.as_str())
    }) {
        return None;
    }
    FORBIDDEN
        .iter()
        .find(|(prefix, _)| {
            segments.len() >= prefix.len()
                && prefix.iter().zip(segments).all(|(a, b)| *a == b.as_str())
        })
        .map(|(prefix, instead)| (prefix.join("::"), *instead))
}

impl Visitor<'_> {
    fn report(&mut self, line: usize, what: String) {
        self.found.push(format!("{}:{line}: {what}", self.shown));
    }

    fn check_path(&mut self, line: usize, segments: &[String]) {
        if let Some((path, instead)) = judge(segments) {
            self.report(
                line,
                format!(
                    "uses `{path}` directly; use {instead} instead, so the loom model checks \
                     can see every lock, wait and thread"
                ),
            );
        }
    }

    fn check_use(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(name(&p.ident));
                self.check_use(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(name(&n.ident));
                }
                self.check_path(n.span().start().line, &full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(name(&r.ident));
                }
                if full.len() == 1 && ROOTS.contains(&full[0].as_str()) {
                    self.report(
                        r.span().start().line,
                        format!(
                            "renames `{}`; write `{}::…` paths as they are, so what you use \
                             stays visible (import sync primitives from workbook_sync)",
                            full[0], full[0]
                        ),
                    );
                } else {
                    self.check_path(r.span().start().line, &full);
                }
            }
            syn::UseTree::Glob(g) => {
                if prefix.len() == 1 && ROOTS.contains(&prefix[0].as_str()) {
                    self.report(
                        g.span().start().line,
                        format!(
                            "glob-imports `{}::*`, which brings `sync` and `thread` into scope; \
                             import what you need by name (sync primitives from workbook_sync)",
                            prefix[0]
                        ),
                    );
                } else {
                    self.check_path(g.span().start().line, prefix);
                }
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.check_use(t, prefix);
                }
            }
        }
    }

    /// Paths written inside a macro's arguments or a `macro_rules!` body.
    fn check_tokens(&mut self, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.check_tokens(&g.stream()),
                TokenTree::Ident(ident)
                    if matches!(
                        name(ident).as_str(),
                        "include" | "include_str" | "include_bytes"
                    ) && matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!') =>
                {
                    self.report(
                        ident.span().start().line,
                        format!(
                            "`{}!` inside a macro's arguments or definition is refused: the \
                             checker cannot see which file it would read",
                            name(ident)
                        ),
                    );
                }
                TokenTree::Ident(ident) => {
                    let first = name(ident);
                    let watched = ROOTS.contains(&first.as_str())
                        || FORBIDDEN.iter().any(|(p, _)| p.len() == 1 && p[0] == first);
                    if watched {
                        let line = ident.span().start().line;
                        let mut segments = vec![first.clone()];
                        let mut j = i + 1;
                        while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) =
                            (trees.get(j), trees.get(j + 1))
                        {
                            if a.as_char() != ':' || b.as_char() != ':' {
                                break;
                            }
                            match trees.get(j + 2) {
                                Some(TokenTree::Ident(next)) => segments.push(name(next)),
                                _ => break,
                            }
                            j += 3;
                        }
                        let preceded_by_colons = i >= 2
                            && matches!((&trees[i - 2], &trees[i - 1]),
                                (TokenTree::Punct(a), TokenTree::Punct(b))
                                    if a.as_char() == ':' && b.as_char() == ':');
                        if segments.len() == 1 && ROOTS.contains(&first.as_str()) {
                            if !preceded_by_colons {
                                self.report(
                                    line,
                                    format!(
                                        "passes `{first}` into a macro, which can hide the \
                                         paths it builds; write the paths out"
                                    ),
                                );
                            }
                        } else if !preceded_by_colons {
                            self.check_path(line, &segments);
                        }
                        i = j;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// A file named by `#[path]` or an `include*!` must stay inside `src/`.
    fn check_file_reference(&mut self, line: usize, what: &str, relative: &str, code: bool) {
        let target = self.dir.join(relative);
        let inside = target
            .canonicalize()
            .ok()
            .zip(self.src.canonicalize().ok())
            .is_some_and(|(t, s)| t.starts_with(s));
        if !inside {
            self.report(
                line,
                format!(
                    "{what} names {relative:?}, outside src/ (or missing); the checker builds \
                     only what is inside src/"
                ),
            );
        } else if code {
            self.more.push(target);
        }
    }

    fn check_macro(&mut self, mac: &syn::Macro) {
        let last = mac.path.segments.last().map(|s| name(&s.ident));
        self.check_path(
            mac.path.span().start().line,
            &mac.path
                .segments
                .iter()
                .map(|s| name(&s.ident))
                .collect::<Vec<_>>(),
        );
        match last.as_deref() {
            Some(m @ ("include" | "include_str" | "include_bytes")) => {
                let line = mac.span().start().line;
                match mac.parse_body::<syn::LitStr>() {
                    Ok(lit) => self.check_file_reference(
                        line,
                        &format!("`{m}!`"),
                        &lit.value(),
                        m == "include",
                    ),
                    Err(_) => self.report(
                        line,
                        format!("`{m}!` with anything but a plain string literal is refused"),
                    ),
                }
            }
            _ => self.check_tokens(&mac.tokens),
        }
    }
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.check_use(&u.tree, &mut Vec::new());
    }

    fn visit_item_extern_crate(&mut self, e: &'ast syn::ItemExternCrate) {
        let krate = name(&e.ident);
        let line = e.span().start().line;
        if e.rename.is_some() {
            self.report(
                line,
                format!(
                    "renames the crate `{krate}`; write its paths as they are, so what you use \
                     stays visible"
                ),
            );
        }
        self.check_path(line, &[krate]);
        syn::visit::visit_item_extern_crate(self, e);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| name(&s.ident)).collect();
        self.check_path(p.span().start().line, &segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.check_macro(m);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        for attr in &m.attrs {
            let line = attr.span().start().line;
            if attr.path().is_ident("path") {
                match &attr.meta {
                    syn::Meta::NameValue(syn::MetaNameValue {
                        value:
                            syn::Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Str(s),
                                ..
                            }),
                        ..
                    }) => self.check_file_reference(line, "`#[path]`", &s.value(), true),
                    _ => self.report(line, "a `#[path]` the checker cannot read".to_string()),
                }
            } else if attr.path().is_ident("cfg_attr")
                && attr.meta.to_token_stream_string().contains("path")
            {
                self.report(
                    line,
                    "`#[cfg_attr(…, path = …)]` is refused: write `#[path]` plainly, or keep \
                     modules in their usual files"
                        .to_string(),
                );
            }
        }
        syn::visit::visit_item_mod(self, m);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        // Paths inside attributes (`#[doc = include_str!(…)]`, derives) are judged too.
        if let syn::Meta::NameValue(nv) = &attr.meta {
            self.visit_expr(&nv.value);
        }
    }
}

trait TokensText {
    fn to_token_stream_string(&self) -> String;
}

impl TokensText for syn::Meta {
    fn to_token_stream_string(&self) -> String {
        quote::ToTokens::to_token_stream(self).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(files: &[(&str, &str)]) -> Vec<String> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "facade-rule-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let src = dir.join("src");
        for (name, text) in files {
            let path = src.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let found = violations(&src);
        std::fs::remove_dir_all(&dir).unwrap();
        found
    }

    fn one(code: &str) -> Vec<String> {
        scan(&[("lib.rs", code)])
    }

    #[test]
    fn finds_direct_std_use_but_not_comments_or_strings() {
        let found = one(
            "//! never use std::sync here\nuse workbook_sync::Mutex;\nconst S: &str = \"std::thread\";\n\
             use std::{collections::HashMap, sync::Arc};\nfn f() { std::thread::spawn(|| ()); }\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("src/lib.rs:4:"), "{found:#?}");
        assert!(found[1].starts_with("src/lib.rs:5:"), "{found:#?}");
    }

    #[test]
    fn accepts_what_the_facade_reexports_unchanged() {
        let found = one(
            "use std::sync::atomic::Ordering;\nuse std::sync::{PoisonError, TryLockError};\n\
             fn f(o: core::sync::atomic::Ordering) -> std::thread::Result<()> { Ok(()) }\n",
        );
        assert!(found.is_empty(), "{found:#?}");
        assert_eq!(one("use std::sync::atomic::AtomicUsize;").len(), 1);
    }

    #[test]
    fn sees_through_renames_globs_macros_and_odd_literals() {
        for (code, expect) in [
            (
                "use std as s;\nfn f() { s::thread::spawn(|| ()); }",
                "renames `std`",
            ),
            ("extern crate std as x;", "renames the crate `std`"),
            ("use std::*;", "glob-imports `std::*`"),
            ("use ::std::{self as s};", "renames `std`"),
            (
                "fn f() { let _ = vec![std::sync::Mutex::new(1)]; }",
                "`std::sync`",
            ),
            (
                "macro_rules! m { ($a:ident) => { $a::sync::Mutex::new(1) } }\nfn f() { m!(std); }",
                "passes `std` into a macro",
            ),
            (
                "const C: char = '\"'; fn f() { let _ = std::sync::Mutex::new(1); }",
                "`std::sync`",
            ),
            ("type M = r#std::sync::Mutex<u8>;", "`std::sync`"),
            ("use std::sync::mpsc::channel;", "`std::sync::mpsc`"),
            (
                "fn f() { let _ = <std::sync::Mutex<u8>>::new(1); }",
                "`std::sync`",
            ),
        ] {
            let found = one(code);
            assert!(
                found.iter().any(|f| f.contains(expect)),
                "{code:?}: expected {expect:?} in {found:#?}"
            );
        }
    }

    #[test]
    fn files_outside_src_and_symlinks_are_refused() {
        for (code, expect) in [
            ("#[path = \"../../secret.rs\"] mod m;", "outside src/"),
            (
                "const S: &str = include_str!(\"/proc/self/cwd/Cargo.toml\");",
                "outside src/",
            ),
            (
                "const B: &[u8] = include_bytes!(concat!(\"..\", \"/x\"));",
                "plain string literal",
            ),
            ("#[cfg_attr(all(), path = \"../x.rs\")] mod m;", "cfg_attr"),
            (
                "#[allow(long_running_const_eval)]\nconst F: u8 = loop {};",
                "long_running_const_eval",
            ),
            (
                "macro_rules! quiet { ($l:ident) => { #[allow($l)] const F: u8 = loop {}; } }\n\
                 quiet!(r#long_running_const_eval);",
                "long_running_const_eval",
            ),
            (
                "macro_rules! grab { ($p:literal) => { include_str!($p) } }",
                "inside a macro",
            ),
        ] {
            let found = one(code);
            assert!(
                found.iter().any(|f| f.contains(expect)),
                "{code:?}: expected {expect:?} in {found:#?}"
            );
        }
        // include! of a file inside src/ is read as code too, whatever its extension.
        let found = scan(&[
            ("lib.rs", "include!(\"more.txt\");"),
            ("more.txt", "fn f() { std::thread::spawn(|| ()); }"),
        ]);
        assert!(
            found.iter().any(|f| f.contains("src/more.txt:1")),
            "{found:#?}"
        );

        let dir = std::env::temp_dir().join(format!("facade-link-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("src/a")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("src/b")).unwrap();
        let found = violations(&dir.join("src"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            found.iter().any(|f| f.contains("symbolic link")),
            "{found:#?}"
        );
    }
}
