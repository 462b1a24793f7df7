//! The spec map: every promise a stub's documentation makes is tied to the tests that fail
//! when it is broken. An exercise's `[[spec]]` entries quote its stub; this module reads the
//! stub with `syn` and checks, without building anything, that
//!
//! * every quote is still in the doc comment it claims (so the map cannot drift from the
//!   stub), and every test it names exists (checked when the manifest loads);
//! * every sentence of the crate documentation's "What the checker expects" list, and of
//!   every public function's doc comment, is quoted by at least one entry — either with the
//!   tests that check it or with the reason it needs none (`untested`).

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::curriculum::Exercise;

/// What kind of item a doc comment belongs to: only functions (and the crate's list of
/// expectations) must be covered sentence by sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Crate,
    Type,
    Function,
    Field,
}

/// One item's doc comment.
#[derive(Clone, Debug)]
pub struct Doc {
    pub kind: ItemKind,
    pub text: String,
}

/// Doc comments by item: `crate`, `Type`, `Type::method`, `Type::field`, `function`.
pub type Docs = BTreeMap<String, Doc>;

/// The doc comments of a stub, by item name.
pub fn docs(source: &str) -> Result<Docs> {
    let file = syn::parse_file(source).context("parsing the stub")?;
    let mut docs = Docs::new();
    add(&mut docs, "crate".to_string(), ItemKind::Crate, &file.attrs);
    for item in &file.items {
        collect(item, &mut docs);
    }
    docs.retain(|_, d| !d.text.trim().is_empty());
    Ok(docs)
}

fn add(docs: &mut Docs, name: String, kind: ItemKind, attrs: &[syn::Attribute]) {
    let text = doc_text(attrs);
    docs.entry(name)
        .and_modify(|d| {
            // Several impl blocks may document the same name (rare): keep both.
            d.text.push('\n');
            d.text.push_str(&text);
        })
        .or_insert(Doc { kind, text });
}

fn collect(item: &syn::Item, docs: &mut Docs) {
    match item {
        syn::Item::Fn(f) => add(docs, f.sig.ident.to_string(), ItemKind::Function, &f.attrs),
        syn::Item::Struct(s) => {
            let name = s.ident.to_string();
            for field in &s.fields {
                if let Some(ident) = &field.ident {
                    add(
                        docs,
                        format!("{name}::{ident}"),
                        ItemKind::Field,
                        &field.attrs,
                    );
                }
            }
            add(docs, name, ItemKind::Type, &s.attrs);
        }
        syn::Item::Enum(e) => {
            let name = e.ident.to_string();
            for v in &e.variants {
                add(
                    docs,
                    format!("{name}::{}", v.ident),
                    ItemKind::Field,
                    &v.attrs,
                );
            }
            add(docs, name, ItemKind::Type, &e.attrs);
        }
        syn::Item::Trait(t) => {
            let name = t.ident.to_string();
            for item in &t.items {
                if let syn::TraitItem::Fn(f) = item {
                    add(
                        docs,
                        format!("{name}::{}", f.sig.ident),
                        ItemKind::Function,
                        &f.attrs,
                    );
                }
            }
            add(docs, name, ItemKind::Type, &t.attrs);
        }
        syn::Item::Type(t) => add(docs, t.ident.to_string(), ItemKind::Type, &t.attrs),
        syn::Item::Impl(i) => {
            let syn::Type::Path(ty) = &*i.self_ty else {
                return;
            };
            let Some(ty) = ty.path.segments.last() else {
                return;
            };
            for item in &i.items {
                if let syn::ImplItem::Fn(f) = item {
                    let public = matches!(f.vis, syn::Visibility::Public(_)) || i.trait_.is_some();
                    if public {
                        let key = format!("{}::{}", ty.ident, f.sig.ident);
                        add(docs, key, ItemKind::Function, &f.attrs);
                    }
                }
            }
        }
        syn::Item::Mod(m) => {
            if let Some((_, items)) = &m.content {
                for item in items {
                    collect(item, docs);
                }
            }
        }
        _ => {}
    }
}

fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let line = s.value();
            lines.push(line.strip_prefix(' ').unwrap_or(&line).to_string());
        }
    }
    lines.join("\n")
}

/// Collapses every run of whitespace to one space.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drops fenced code blocks and headings: what is left is prose that makes promises.
fn prose(doc: &str) -> String {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || line.trim_start().starts_with('#') {
            out.push(String::new());
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n")
}

/// The list items that follow the line saying what "the checker expects", each as one
/// normalised paragraph.
fn expectations(crate_doc: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut in_list = false;
    let mut started = false;
    let mut blank = false;
    for line in prose(crate_doc).lines() {
        if !started {
            started = line.contains("checker expects");
            continue;
        }
        let trimmed = line.trim_start();
        let bullet = trimmed.starts_with("* ")
            || trimmed.starts_with("- ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if bullet {
            in_list = true;
            blank = false;
            let text = trimmed
                .split_once(' ')
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            items.push(text.to_string());
        } else if trimmed.is_empty() {
            blank = true;
        } else if in_list && !blank && line.starts_with(' ') {
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else if in_list {
            break;
        }
    }
    items.iter().map(|i| normalise(i)).collect()
}

/// Splits prose into sentences: after `.`, `!` or `?` followed by a capital (or markup),
/// and after every `;`.
pub fn sentences(text: &str) -> Vec<String> {
    let text = normalise(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        let next = chars.get(i + 1).copied();
        let after = chars.get(i + 2).copied();
        let ends = match c {
            ';' => next == Some(' '),
            '.' | '!' | '?' => {
                next == Some(' ')
                    && after.is_some_and(|a| {
                        a.is_uppercase() || matches!(a, '*' | '[' | '`' | '(' | '"')
                    })
            }
            _ => false,
        };
        if ends {
            out.push(current.trim().to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out.retain(|s| s.chars().any(char::is_alphanumeric));
    out
}

/// The sentences a spec map must cover, by item.
pub fn promises(docs: &Docs) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(crate_doc) = docs.get("crate") {
        for item in expectations(&crate_doc.text) {
            for s in sentences(&item) {
                out.push(("crate".to_string(), s));
            }
        }
    }
    for (item, doc) in docs {
        if doc.kind == ItemKind::Function {
            for s in sentences(&prose(&doc.text)) {
                out.push((item.clone(), s));
            }
        }
    }
    out
}

/// Every problem with `ex`'s spec map against its stub, as sentences for `verify`.
pub fn check(ex: &Exercise, stub_source: &str) -> Result<Vec<String>> {
    let docs = docs(stub_source)?;
    let mut problems = Vec::new();
    for entry in &ex.spec {
        let Some(doc) = docs.get(&entry.item) else {
            problems.push(format!(
                "{}: spec entry for `{}` — the stub documents no such item (items: {})",
                ex.slug,
                entry.item,
                docs.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        if !normalise(&doc.text).contains(&normalise(&entry.says)) {
            problems.push(format!(
                "{}: spec entry quotes {:?}, which `{}`'s documentation does not say (did the \
                 stub change?)",
                ex.slug, entry.says, entry.item
            ));
        }
    }
    for (item, sentence) in promises(&docs) {
        let covered = ex.spec.iter().any(|e| {
            let says = normalise(&e.says);
            e.item == item && (sentence.contains(&says) || says.contains(&sentence))
        });
        if !covered {
            problems.push(format!(
                "{}: no spec entry covers this sentence of `{item}`: {sentence:?} — add a \
                 [[spec]] entry with the tests that fail when it is broken (or `untested` \
                 with the reason)",
                ex.slug
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUB: &str = r#"
//! # Exercise
//!
//! Intro text is free.
//!
//! What the checker expects (every point below is tested):
//!
//! * every job runs **exactly once**; results
//!   come back. Nothing is lost;
//! * `workers == 0` is an error.
//!
//! Closing words.

/// A pool.
pub struct Pool { jobs: usize }

impl Pool {
    /// Queues a job. Never blocks.
    ///
    /// # Errors
    /// Hands the job back, e.g. after close.
    ///
    /// ```
    /// pool.submit(1);
    /// ```
    pub fn submit(&self) {}

    fn private(&self) {}
}

impl Drop for Pool {
    /// Drop joins the workers.
    fn drop(&mut self) {}
}
"#;

    #[test]
    fn extracts_docs_by_item() {
        let d = docs(STUB).unwrap();
        assert!(d["crate"].text.contains("What the checker expects"));
        assert_eq!(d["Pool"].text, "A pool.");
        assert!(d["Pool::submit"].text.starts_with("Queues a job."));
        assert_eq!(d["Pool::drop"].text, "Drop joins the workers.");
        assert!(!d.contains_key("Pool::private"));
    }

    #[test]
    fn splits_the_expectations_and_functions_into_sentences() {
        let d = docs(STUB).unwrap();
        let p = promises(&d);
        let texts: Vec<&str> = p.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "every job runs **exactly once**;",
                "results come back.",
                "Nothing is lost;",
                "`workers == 0` is an error.",
                "Drop joins the workers.",
                "Queues a job.",
                "Never blocks.",
                "Hands the job back, e.g. after close.",
            ]
        );
    }
}
