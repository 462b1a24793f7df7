//! Human output: the progress table, one exercise's test results, and the next step.
//! (Machine output is the `GradeReport` itself, printed as JSON.)

use anstream::println;
use anstyle::{AnsiColor, Style};

use crate::curriculum::Curriculum;
use crate::grade::{ExerciseReport, ExerciseStatus, GradeReport};

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
    println!(
        "{BOLD} #  exercise     title                            status               points{BOLD:#}"
    );
    for e in &report.exercises {
        let (style, status) = status_text(e);
        let points = if e.status == ExerciseStatus::ComingSoon {
            "–".to_string()
        } else {
            format!("{}/{}", e.score, e.max_score)
        };
        println!(
            "{:>2}  {:<12} {:<32} {style}{:<20}{style:#} {points:>6}",
            e.id, e.slug, e.title, status
        );
    }
    println!(
        "{BOLD}Total: {}/{} points{BOLD:#}",
        report.score, report.max_score
    );
    println!();
    print_next_step(report, curriculum);
}

/// The one thing to do next.
pub fn print_next_step(report: &GradeReport, curriculum: &Curriculum) {
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
            println!(
                "{BOLD}Next:{BOLD:#} exercise {} ({}) — {why}.\n  Read book/src/{chapter}, edit exercises/{dir}/src/lib.rs, run `cargo checker check {}`",
                e.id, e.slug, e.slug
            );
        }
        None => println!("{GREEN}Every available exercise passes.{GREEN:#} More are coming soon."),
    }
}

/// Every test of one exercise, then each failure in full.
pub fn print_exercise(e: &ExerciseReport) {
    println!("{BOLD}Exercise {} · {} — {}{BOLD:#}", e.id, e.slug, e.title);
    if let Some(message) = &e.message {
        let (style, status) = status_text(e);
        println!("{style}{status}{style:#}\n");
        println!("{message}");
        return;
    }
    for t in &e.tests {
        let (mark, style) = if t.passed() {
            ("✓", GREEN)
        } else {
            ("✗", RED)
        };
        let status = if t.passed() {
            String::new()
        } else {
            format!("  [{}]", t.status)
        };
        println!(
            "  {style}{mark}{style:#} {:<40} {DIM}{:<7} {} pt{}{DIM:#}{RED}{status}{RED:#}",
            t.name,
            format!("{:?}", t.kind).to_lowercase(),
            t.max_score,
            if t.max_score == 1 { "" } else { "s" },
        );
    }
    let failed: Vec<_> = e.tests.iter().filter(|t| !t.passed()).collect();
    // The first few failures in full; a todo!() stub would otherwise print them all.
    for t in failed.iter().take(3) {
        println!(
            "\n{RED}── {} ({:?}) ──{RED:#}\n{}",
            t.name, t.kind, t.message
        );
    }
    if failed.len() > 3 {
        println!(
            "\n{DIM}… and {} more failing tests{DIM:#}",
            failed.len() - 3
        );
    }
    let (style, status) = status_text(e);
    println!(
        "\n{BOLD}Score:{BOLD:#} {}/{} points · {style}{status}{style:#}",
        e.score, e.max_score
    );
    if e.status != ExerciseStatus::Passed {
        println!(
            "{DIM}Stuck? `cargo checker hint {}` gives a nudge (`--level 2` and `3` say more).{DIM:#}",
            e.slug
        );
    }
}
