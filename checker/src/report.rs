//! Human output: the progress table, one exercise's test results, and the next step.
//! (Machine output is the `GradeReport` itself, printed as JSON.)

use anstyle::{AnsiColor, Style};
use std::fmt::Write as _;

use crate::curriculum::Curriculum;
use crate::grade::{Diagnosis, ExerciseReport, ExerciseStatus, GradeReport, TestReport};
use crate::status::TestStatus;

/// `writeln!` into the function's `out` buffer (a report is built, then printed at once).
macro_rules! outln {
    ($out:ident) => {{
        let _ = writeln!($out);
    }};
    ($out:ident, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();

fn status_text(e: &ExerciseReport) -> (Style, String) {
    let passed = e.tests.iter().filter(|t| t.passed()).count();
    match e.status {
        ExerciseStatus::Passed => (GREEN, "passed".to_string()),
        ExerciseStatus::InProgress => (YELLOW, format!("{passed} of {} tests", e.tests.len())),
        ExerciseStatus::NotStarted => (DIM, "not started".to_string()),
        ExerciseStatus::CompileError => (RED, "does not compile".to_string()),
        ExerciseStatus::Rejected => (RED, "bypasses the facade".to_string()),
        ExerciseStatus::Missing => (RED, "missing".to_string()),
        ExerciseStatus::ComingSoon => (DIM, "coming soon".to_string()),
    }
}

/// The progress table for `cargo checker` with no arguments.
pub fn print_table(report: &GradeReport, curriculum: &Curriculum) {
    anstream::print!("{}", table(report, curriculum));
}

pub fn table(report: &GradeReport, curriculum: &Curriculum) -> String {
    let mut out = String::new();
    outln!(
        out,
        "{BOLD} #  exercise     title                            status               points{BOLD:#}"
    );
    for e in &report.exercises {
        let (style, status) = status_text(e);
        let points = if e.status == ExerciseStatus::ComingSoon {
            "–".to_string()
        } else {
            format!("{}/{}", e.score, e.max_score)
        };
        outln!(
            out,
            "{:>2}  {:<12} {:<32} {style}{:<20}{style:#} {points:>6}",
            e.id,
            e.slug,
            e.title,
            status
        );
    }
    outln!(
        out,
        "{BOLD}Total: {}/{} points{BOLD:#}",
        report.score,
        report.max_score
    );
    outln!(out);
    out.push_str(&next_step(report, curriculum));
    out
}

/// The one thing to do next.
pub fn next_step(report: &GradeReport, curriculum: &Curriculum) -> String {
    let mut out = String::new();
    let next = report.exercises.iter().find(|e| {
        !matches!(
            e.status,
            ExerciseStatus::Passed | ExerciseStatus::ComingSoon
        )
    });
    match next {
        Some(e) => {
            let why = match e.status {
                ExerciseStatus::NotStarted => "not started yet",
                ExerciseStatus::CompileError => "fix the compiler errors first",
                ExerciseStatus::Rejected => "import sync primitives from workbook_sync",
                ExerciseStatus::Missing => "restore the exercise's crate",
                _ => "make the next failing test pass",
            };
            let (dir, chapter) = curriculum
                .find(&e.slug)
                .map(|x| (x.dir.as_str(), x.chapter.as_str()))
                .unwrap_or_default();
            outln!(
                out,
                "{BOLD}Next:{BOLD:#} exercise {} ({}) — {why}.\n  Read book/src/{chapter}, edit exercises/{dir}/src/lib.rs, run `cargo checker check {}`",
                e.id,
                e.slug,
                e.slug
            );
        }
        None if report
            .exercises
            .iter()
            .any(|e| e.status == ExerciseStatus::ComingSoon) =>
        {
            outln!(
                out,
                "{GREEN}Every available exercise passes.{GREEN:#} More are coming soon."
            )
        }
        None => outln!(
            out,
            "{GREEN}All {} exercises pass: you have built every pool of the workbook.{GREEN:#}\n  \
             Next: compare your pools with the references (`cargo checker solution <exercise>`), \
             measure them (`cargo checker bench <exercise>`), and read the book's closing \
             chapters.",
            report.exercises.len()
        ),
    }
    out
}

/// How many failures, and warnings, are shown in full unless `--all` is given.
const SHOWN: usize = 3;

fn diagnosis_label(d: Option<Diagnosis>) -> &'static str {
    match d {
        Some(Diagnosis::Deadlock) => "DEADLOCK, proved by loom",
        Some(Diagnosis::Leak) => "LEAK, proved by loom",
        Some(Diagnosis::Livelock) => "LIVELOCK, proved by loom",
        Some(Diagnosis::TooManyThreads) => "too many threads",
        Some(Diagnosis::ModelFailure) => "failed in an interleaving loom found",
        Some(Diagnosis::Assertion) => "assertion failed",
        Some(Diagnosis::Crash) => "crashed",
        Some(Diagnosis::Timeout) => "timed out",
        Some(Diagnosis::Todo) => "not implemented yet",
        None => "not run",
    }
}

/// Every test of one exercise, then the failures in full, most conclusive first (all of them
/// with `all`, else the first few).
pub fn print_exercise(e: &ExerciseReport, all: bool) {
    anstream::print!("{}", exercise(e, all, true));
}

/// One test's line of the list.
pub fn test_line(t: &TestReport) -> String {
    let (mark, style) = if t.passed() {
        ("✓", GREEN)
    } else if t.status == TestStatus::NotRun {
        ("·", DIM)
    } else {
        ("✗", RED)
    };
    let status = if t.passed() {
        String::new()
    } else {
        format!("  [{}]", t.status.as_str())
    };
    format!(
        "  {style}{mark}{style:#} {:<44} {DIM}{:<7} {} pt{}{DIM:#}{RED}{status}{RED:#}",
        t.name,
        t.kind.label(),
        t.max_score,
        if t.max_score == 1 { "" } else { "s" },
    )
}

/// The text of [`print_exercise`]; without `list`, the failures and the score only (the
/// tests' lines were shown as they finished).
pub fn exercise(e: &ExerciseReport, all: bool, list: bool) -> String {
    let mut out = String::new();
    if list || e.message.is_some() {
        outln!(
            out,
            "{BOLD}Exercise {} · {} — {}{BOLD:#}",
            e.id,
            e.slug,
            e.title
        );
    }
    if let Some(message) = &e.message {
        let (style, status) = status_text(e);
        outln!(out, "{style}{status}{style:#}\n");
        outln!(out, "{message}");
        return out;
    }
    if list {
        for t in &e.tests {
            outln!(out, "{}", test_line(t));
        }
    }
    if !e.warnings.is_empty() {
        outln!(
            out,
            "\n{YELLOW}The compiler warns about your crate (warnings often point at the bug):{YELLOW:#}"
        );
        let shown = if all { e.warnings.len() } else { SHOWN };
        for w in e.warnings.iter().take(shown) {
            outln!(out, "{}", w.trim_end());
        }
        if e.warnings.len() > shown {
            outln!(
                out,
                "{DIM}… and {} more warnings{DIM:#}",
                e.warnings.len() - shown
            );
        }
    }
    if let Some(l) = &e.looks_like {
        outln!(
            out,
            "\n{YELLOW}This looks like *{}*:{YELLOW:#} {}\n  See book/src/{}, \"Pitfalls the hidden suite catches\".",
            l.variant.replace('-', " "),
            l.bug,
            l.chapter
        );
    }
    let (failed, not_run): (Vec<&TestReport>, Vec<&TestReport>) = e
        .failures_by_proof()
        .into_iter()
        .partition(|t| t.status != TestStatus::NotRun);
    let shown = if all { failed.len() } else { SHOWN };
    // Several models often prove the same deadlock: print its report once.
    let finding = |m: &str| {
        m.split("\nThis test checks:")
            .next()
            .unwrap_or(m)
            .to_string()
    };
    let mut printed: Vec<(String, &str)> = Vec::new();
    for t in failed.iter().take(shown) {
        let header = format!(
            "{RED}── {} ({} test · {}) ──{RED:#}",
            t.name,
            t.kind.label(),
            diagnosis_label(t.diagnosis)
        );
        let same = printed.iter().find(|(f, _)| *f == finding(&t.message));
        match same {
            Some((_, first)) if t.diagnosis.is_some_and(|d| d != Diagnosis::Assertion) => {
                outln!(out, "\n{header}\nThe same finding as `{first}` above.");
            }
            _ => {
                outln!(out, "\n{header}\n{}", t.message);
                printed.push((finding(&t.message), t.name.as_str()));
            }
        }
    }
    if failed.len() > shown {
        outln!(
            out,
            "\n{DIM}… and {} more failing tests (`cargo checker check {} --all` shows every one){DIM:#}",
            failed.len() - shown,
            e.slug
        );
    }
    if let Some(first) = not_run.first() {
        outln!(
            out,
            "\n{DIM}{} tests not run — {}{DIM:#}",
            not_run.len(),
            first.message.trim_start_matches("not run: ")
        );
    }
    let (style, status) = status_text(e);
    outln!(
        out,
        "\n{BOLD}Score:{BOLD:#} {}/{} points · {style}{status}{style:#}",
        e.score,
        e.max_score
    );
    if e.status != ExerciseStatus::Passed {
        outln!(
            out,
            "{DIM}Stuck? `cargo checker hint {}` gives a nudge (ask again for more).{DIM:#}",
            e.slug
        );
    }
    out
}
