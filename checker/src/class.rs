//! Class grading: `cargo checker grade --submissions DIR` grades every student's folder (a
//! copy of `exercises/`, or of the whole repository), `-j N` at a time, and writes every
//! requested format from the one native record. A submission that hangs, does not build or
//! attacks the grader gets its own clear entry; the class always finishes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::curriculum::Curriculum;
use crate::grade::{self, GradeReport, Options, RunRecord};
use crate::paths::Paths;

/// The whole class, as every export is made from.
#[derive(Debug, Serialize)]
pub struct ClassReport {
    pub run: RunRecord,
    pub students: Vec<StudentReport>,
}

#[derive(Debug, Serialize)]
pub struct StudentReport {
    /// The submission's folder name.
    pub student: String,
    pub score: u32,
    pub max_score: u32,
    /// Absent when the submission could not be graded at all (`error` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<GradeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub seconds: f64,
}

/// The exercises folder inside one submission.
fn exercises_of(submission: &Path) -> PathBuf {
    let nested = submission.join("exercises");
    if nested.is_dir() {
        nested
    } else {
        submission.to_path_buf()
    }
}

pub fn grade_class(
    paths: &Paths,
    curriculum: &Curriculum,
    dir: &Path,
    jobs: usize,
    options: &Options,
    extra: &[crate::extra::ExtraSuite],
) -> Result<ClassReport> {
    let mut submissions: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    submissions.sort();
    if submissions.is_empty() {
        bail!(
            "{} holds no submission folders (one folder per student)",
            dir.display()
        );
    }
    let options = Options {
        quiet: true,
        ..options.clone()
    };
    let max_score = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .flat_map(|e| &e.tests)
        .map(|t| t.points)
        .sum::<u32>()
        + extra.iter().map(|x| x.max_score()).sum::<u32>();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(submissions.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "  [{bar:30}] {pos}/{len} submissions {elapsed} {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar
    });
    eprintln!(
        "checker: grading {} submissions, {} at a time …",
        submissions.len(),
        jobs
    );
    let results: Mutex<Vec<Option<StudentReport>>> =
        Mutex::new((0..submissions.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for slot in 0..jobs.max(1).min(submissions.len()) {
            let options = Options {
                work_key: Some(format!(
                    "class-{}-{slot}",
                    crate::paths::short_hash(&dir.to_string_lossy())
                )),
                ..options.clone()
            };
            let (submissions, results, next, done, bar) =
                (&submissions, &results, &next, &done, &bar);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(sub) = submissions.get(i) else { break };
                    let student = sub
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let start = Instant::now();
                    let graded =
                        grade::grade_dir(paths, curriculum, &exercises_of(sub), None, &options)
                            .and_then(|mut r| {
                                crate::extra::grade_extra(
                                    paths,
                                    &exercises_of(sub),
                                    extra,
                                    &options,
                                    &mut r,
                                )?;
                                Ok(r)
                            });
                    let seconds = start.elapsed().as_secs_f64();
                    let entry = match graded {
                        Ok(report) => StudentReport {
                            student: student.clone(),
                            score: report.score,
                            max_score: report.max_score,
                            report: Some(report),
                            error: None,
                            seconds,
                        },
                        Err(e) => StudentReport {
                            student: student.clone(),
                            score: 0,
                            max_score,
                            report: None,
                            error: Some(format!("{e:#}")),
                            seconds,
                        },
                    };
                    let line = format!(
                        "{student}: {}/{} ({seconds:.0}s)",
                        entry.score, entry.max_score
                    );
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(entry);
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    match &bar {
                        Some(bar) => {
                            bar.inc(1);
                            bar.set_message(line);
                        }
                        None => eprintln!("checker: [{n}/{}] {line}", submissions.len()),
                    }
                }
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(ClassReport {
        run: RunRecord::new(paths, &options),
        students: results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .flatten()
            .collect(),
    })
}
