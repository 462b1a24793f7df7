//! The class report page (`--html FILE`): one static HTML file, no server and no JavaScript —
//! the score distribution of every exercise as a chart, the most frequent failure classes,
//! the tests most students fail, every student's scores, and the run record.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use plotters::prelude::*;

use crate::class::ClassReport;
use crate::curriculum::Curriculum;
use crate::grade::ExerciseReport;

/// Score bands a chart counts students in.
const BANDS: [&str; 4] = ["0 %", "1–49 %", "50–99 %", "100 %"];

fn band(e: &ExerciseReport) -> usize {
    if e.max_score == 0 || e.score == 0 {
        0
    } else if e.score == e.max_score {
        3
    } else if e.score * 2 >= e.max_score {
        2
    } else {
        1
    }
}

/// A bar chart of how many students fall in each band, as inline SVG.
fn chart(title: &str, counts: &[u32; 4]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (360, 200)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let top = counts.iter().copied().max().unwrap_or(0).max(1) + 1;
        let built = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(32)
            .build_cartesian_2d((0u32..4u32).into_segmented(), 0u32..top);
        if let Ok(mut chart) = built {
            let _ = chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => BANDS.get(*i as usize).unwrap_or(&"").to_string(),
                    _ => String::new(),
                })
                .y_desc("students")
                .draw();
            let _ = chart.draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(52, 101, 164).filled())
                    .margin(6)
                    .data(counts.iter().enumerate().map(|(i, &c)| (i as u32, c))),
            );
        }
        let _ = root.present();
    }
    svg
}

pub fn class_page(class: &ClassReport, curriculum: &Curriculum) -> String {
    let ready: Vec<_> = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .collect();
    let graded: Vec<_> = class
        .students
        .iter()
        .filter_map(|s| s.report.as_ref().map(|r| (s, r)))
        .collect();
    let mut diagnoses: BTreeMap<String, u32> = BTreeMap::new();
    let mut statuses: BTreeMap<String, u32> = BTreeMap::new();
    let mut failing: BTreeMap<(String, String), u32> = BTreeMap::new();
    for (_, report) in &graded {
        for e in &report.exercises {
            if e.max_score > 0 {
                let name = serde_json::to_value(e.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                *statuses.entry(name.replace('_', " ")).or_default() += 1;
            }
            for t in e.tests.iter().filter(|t| !t.passed()) {
                if let Some(d) = t.diagnosis {
                    let name = serde_json::to_value(d)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    *diagnoses.entry(name).or_default() += 1;
                }
                *failing.entry((e.slug.clone(), t.name.clone())).or_default() += 1;
            }
        }
    }
    let mut failing: Vec<_> = failing.into_iter().collect();
    failing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut diagnoses: Vec<_> = diagnoses.into_iter().collect();
    diagnoses.sort_by_key(|d| std::cmp::Reverse(d.1));

    let charts: Vec<(String, String)> = ready
        .iter()
        .map(|ex| {
            let mut counts = [0u32; 4];
            for (_, report) in &graded {
                if let Some(e) = report.exercises.iter().find(|e| e.slug == ex.slug) {
                    counts[band(e)] += 1;
                }
            }
            (
                ex.slug.clone(),
                chart(&format!("{}. {}", ex.id, ex.title), &counts),
            )
        })
        .collect();

    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Class report — worker-pool workbook" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Class report" }
                p.run {
                    (class.students.len()) " submissions · checker " (class.run.checker_version)
                    " · suites " code { (&class.run.suites_hash[..12]) }
                    " · sandbox: " (class.run.sandbox_layers.join(", "))
                }
                h2 id="distribution" { "Score distribution per exercise" }
                div.charts {
                    @for (slug, svg) in &charts {
                        figure id={ "chart-" (slug) } { (PreEscaped(svg)) }
                    }
                }
                h2 id="failure-classes" { "Most frequent failure classes" }
                table.failure-classes {
                    thead { tr { th { "failure" } th { "tests" } } }
                    tbody {
                        @for (name, count) in &diagnoses {
                            tr { td { (name) } td { (count) } }
                        }
                    }
                }
                h2 id="exercise-states" { "Where exercises stand" }
                table.states {
                    thead { tr { th { "state" } th { "exercises" } } }
                    tbody {
                        @for (name, count) in &statuses {
                            tr { td { (name) } td { (count) } }
                        }
                    }
                }
                h2 id="failing-tests" { "Tests most students fail" }
                table.failing-tests {
                    thead { tr { th { "exercise" } th { "test" } th { "students" } } }
                    tbody {
                        @for ((slug, test), count) in failing.iter().take(20) {
                            tr { td { (slug) } td { code { (test) } } td { (count) } }
                        }
                    }
                }
                h2 id="students" { "Students" }
                table.students {
                    thead {
                        tr {
                            th { "student" }
                            @for ex in &ready { th title=(ex.title) { (ex.id) } }
                            th { "total" }
                        }
                    }
                    tbody {
                        @for s in &class.students {
                            tr {
                                td { (s.student) }
                                @for ex in &ready {
                                    td {
                                        (s.report.as_ref()
                                            .and_then(|r| r.exercises.iter().find(|e| e.slug == ex.slug))
                                            .map_or(0, |e| e.score))
                                    }
                                }
                                td.total { (s.score) "/" (s.max_score) }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
.charts{display:flex;flex-wrap:wrap;gap:.5em}figure{margin:0}.run{color:#555}";
