//! Every platform's format, translated from the one native record (`GradeReport`, or the
//! `ClassReport` of a whole class): a class CSV, JUnit XML, Gradescope's `results.json`, GitHub
//! Classroom's autograding result, and exercism's `results.json` (version 3).

use std::fmt::Write as _;

use anyhow::Result;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::class::ClassReport;
use crate::curriculum::Curriculum;
use crate::grade::{GradeReport, TestReport};

/// One row per student, one column per exercise, then the total and the maximum.
pub fn class_csv(class: &ClassReport, curriculum: &Curriculum) -> Result<String> {
    let ready: Vec<_> = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["student".to_string()];
    header.extend(ready.iter().map(|e| e.slug.clone()));
    header.extend(["total".to_string(), "max".to_string(), "error".to_string()]);
    w.write_record(&header)?;
    for s in &class.students {
        let mut row = vec![s.student.clone()];
        for ex in &ready {
            let score = s
                .report
                .as_ref()
                .and_then(|r| r.exercises.iter().find(|e| e.slug == ex.slug))
                .map_or(0, |e| e.score);
            row.push(score.to_string());
        }
        row.push(s.score.to_string());
        row.push(s.max_score.to_string());
        row.push(s.error.clone().unwrap_or_default());
        w.write_record(&row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// JUnit XML: a `<testsuite>` per student and exercise, a `<testcase>` per test.
pub fn junit(class: &ClassReport) -> Result<String> {
    use quick_xml::Writer;
    use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, BytesText, Event};

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let all: Vec<&TestReport> = class
        .students
        .iter()
        .filter_map(|s| s.report.as_ref())
        .flat_map(|r| r.exercises.iter().flat_map(|e| &e.tests))
        .collect();
    let failures = all.iter().filter(|t| !t.passed()).count();
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "worker-pool workbook"));
    root.push_attribute(("tests", all.len().to_string().as_str()));
    root.push_attribute(("failures", failures.to_string().as_str()));
    w.write_event(Event::Start(root))?;
    for s in &class.students {
        let Some(report) = &s.report else {
            // A submission that could not be graded: one failing case that says why.
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", s.student.as_str()));
            suite.push_attribute(("tests", "1"));
            suite.push_attribute(("failures", "0"));
            suite.push_attribute(("errors", "1"));
            w.write_event(Event::Start(suite))?;
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("name", "grading"));
            case.push_attribute(("classname", s.student.as_str()));
            w.write_event(Event::Start(case))?;
            let mut error = BytesStart::new("error");
            error.push_attribute(("message", "the submission could not be graded"));
            w.write_event(Event::Start(error))?;
            w.write_event(Event::Text(BytesText::new(
                s.error.as_deref().unwrap_or_default(),
            )))?;
            w.write_event(Event::End(BytesEnd::new("error")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
            w.write_event(Event::End(BytesEnd::new("testsuite")))?;
            continue;
        };
        for e in &report.exercises {
            let name = format!("{}.{}", s.student, e.slug);
            let failed = e.tests.iter().filter(|t| !t.passed()).count();
            let time: f64 = e.tests.iter().map(|t| t.duration_ms as f64).sum::<f64>() / 1000.0;
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", name.as_str()));
            suite.push_attribute(("tests", e.tests.len().to_string().as_str()));
            suite.push_attribute(("failures", failed.to_string().as_str()));
            suite.push_attribute(("errors", "0"));
            suite.push_attribute(("time", format!("{time:.3}").as_str()));
            w.write_event(Event::Start(suite))?;
            for t in &e.tests {
                let mut case = BytesStart::new("testcase");
                case.push_attribute(("name", t.name.as_str()));
                case.push_attribute(("classname", name.as_str()));
                case.push_attribute((
                    "time",
                    format!("{:.3}", t.duration_ms as f64 / 1000.0).as_str(),
                ));
                if t.passed() {
                    w.write_event(Event::Empty(case))?;
                    continue;
                }
                w.write_event(Event::Start(case))?;
                let mut failure = BytesStart::new("failure");
                failure.push_attribute(("type", t.status.as_str()));
                let first = t.message.lines().next().unwrap_or_default();
                failure.push_attribute(("message", first));
                w.write_event(Event::Start(failure))?;
                w.write_event(Event::CData(BytesCData::new(cdata_safe(&t.message))))?;
                w.write_event(Event::End(BytesEnd::new("failure")))?;
                w.write_event(Event::End(BytesEnd::new("testcase")))?;
            }
            if let Some(message) = &e.message {
                let mut out = BytesStart::new("system-out");
                out.push_attribute(("name", "build"));
                w.write_event(Event::Start(out))?;
                w.write_event(Event::CData(BytesCData::new(cdata_safe(message))))?;
                w.write_event(Event::End(BytesEnd::new("system-out")))?;
            }
            w.write_event(Event::End(BytesEnd::new("testsuite")))?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(String::from_utf8(w.into_inner())?)
}

/// CDATA cannot hold `]]>`; split it (and drop control characters XML forbids).
fn cdata_safe(text: &str) -> String {
    text.replace("]]>", "]] >")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .collect()
}

/// Gradescope's `results.json` for one submission.
pub fn gradescope(report: &GradeReport) -> Value {
    let mut tests = Vec::new();
    for e in &report.exercises {
        if e.tests.is_empty() && e.max_score > 0 {
            tests.push(json!({
                "name": format!("{} · {}", e.id, e.slug),
                "score": 0,
                "max_score": e.max_score,
                "status": "failed",
                "output": e.message.clone().unwrap_or_default(),
                "visibility": "visible",
            }));
        }
        for t in &e.tests {
            tests.push(json!({
                "name": format!("{} · {} · {}", e.id, e.slug, t.name),
                "number": format!("{}.{}", e.id, tests.len() + 1),
                "score": t.score,
                "max_score": t.max_score,
                "status": if t.passed() { "passed" } else { "failed" },
                "output": t.message,
                "tags": [e.slug.clone(), format!("{:?}", t.kind).to_lowercase()],
                "visibility": "visible",
            }));
        }
    }
    json!({
        "score": report.score,
        "output": format!(
            "{}/{} points. Layers in force: {}.",
            report.score,
            report.max_score,
            report.run.sandbox_layers.join(", ")
        ),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// GitHub Classroom's autograding result (what `autograding-grading-reporter` reads from
/// `<RUNNER>_RESULTS`): version 1 JSON, base64-encoded.
pub fn github_classroom(report: &GradeReport) -> String {
    let tests: Vec<Value> = report
        .exercises
        .iter()
        .flat_map(|e| {
            e.tests.iter().map(move |t| {
                json!({
                    "name": format!("{} · {}", e.slug, t.name),
                    "status": if t.passed() { "pass" } else { "fail" },
                    "score": t.score,
                    "message": t.message,
                    "test_code": format!("cargo checker check {}", e.slug),
                    "filename": format!("exercises/{:02}-{}/src/lib.rs", e.id, e.slug),
                    "line_no": 0,
                    "duration": t.duration_ms,
                })
            })
        })
        .collect();
    let status = if report.score == report.max_score {
        "pass"
    } else {
        "fail"
    };
    let result = json!({
        "version": 1,
        "status": status,
        "max_score": report.max_score,
        "tests": tests,
    });
    base64::engine::general_purpose::STANDARD.encode(result.to_string())
}

/// exercism's `results.json`, version 3 (one task per exercise).
pub fn exercism(report: &GradeReport) -> Value {
    let mut tests = Vec::new();
    let mut errors = Vec::new();
    for e in &report.exercises {
        if let Some(message) = &e.message
            && e.max_score > 0
        {
            errors.push(format!("{}: {message}", e.slug));
        }
        for t in &e.tests {
            let status = match t.status {
                crate::status::TestStatus::Passed => "pass",
                crate::status::TestStatus::Failed => "fail",
                _ => "error",
            };
            let mut entry = json!({
                "name": format!("{} · {}", e.slug, t.name),
                "status": status,
                "test_code": format!("cargo checker check {}", e.slug),
                "task_id": e.id,
            });
            if !t.passed() {
                entry["message"] = Value::from(truncate(&t.message, 65_535));
            }
            tests.push(entry);
        }
    }
    let status = if !errors.is_empty() && tests.is_empty() {
        "error"
    } else if tests.iter().all(|t| t["status"] == "pass") && errors.is_empty() {
        "pass"
    } else {
        "fail"
    };
    let mut out = json!({ "version": 3, "status": status, "tests": tests });
    if status == "error" {
        out["message"] = Value::from(truncate(&errors.join("\n"), 65_535));
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// A one-line summary of a class for the terminal.
pub fn class_summary(class: &ClassReport) -> String {
    let mut out = String::new();
    for s in &class.students {
        let _ = writeln!(
            out,
            "{:<24} {:>4}/{:<4} {}",
            s.student,
            s.score,
            s.max_score,
            s.error.as_deref().map_or(String::new(), |e| format!(
                "error: {}",
                e.lines().next().unwrap_or_default()
            ))
        );
    }
    out
}
