//! The experiments: each measures a set of cases in interleaved rounds, prints a Markdown
//! table (readable as it is in a terminal) and keeps a chart panel for the plots.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::plot::{Bar, Line, Panel};
use crate::stats::{Case, Measured, Rounds, Summary, measure, short};
use crate::{Subject, Work, time_per_job};

/// A run of experiments: its settings, the text so far, and the charts so far.
pub struct Bench {
    pub rounds: Rounds,
    /// Everything printed, as Markdown.
    pub text: String,
    /// Chart panels by experiment id, in order.
    pub panels: Vec<(String, Panel)>,
    /// Lines of progress on stderr.
    pub verbose: bool,
}

impl Bench {
    pub fn new(rounds: Rounds) -> Self {
        Bench {
            rounds,
            text: String::new(),
            panels: Vec::new(),
            verbose: true,
        }
    }

    /// Prints `text` and keeps it.
    pub fn say(&mut self, text: &str) {
        print!("{text}");
        let _ = std::io::stdout().flush();
        self.text.push_str(text);
    }

    fn run_cases(
        &mut self,
        label: &str,
        cases: &[Case<'_>],
        baseline: usize,
    ) -> Result<Vec<Measured>, String> {
        let started = Instant::now();
        let verbose = self.verbose;
        let rounds = self.rounds;
        let result = measure(cases, baseline, rounds, |round, of| {
            if verbose {
                eprint!("\r  {label}: round {}/{of} …", round + 1);
            }
        });
        if verbose {
            eprintln!(
                "\r  {label}: {} cases × ({} + {}) rounds in {:.1} s",
                cases.len(),
                rounds.warm_up,
                rounds.samples,
                started.elapsed().as_secs_f64()
            );
        }
        result
    }

    /// Time per job of each subject on the same jobs; ratios to `subjects[baseline]`.
    /// `focus`: the subjects the chart highlights.
    #[allow(clippy::too_many_arguments)]
    pub fn per_job(
        &mut self,
        id: &str,
        title: &str,
        workers: usize,
        jobs: u64,
        work: Work,
        subjects: &[&dyn Subject],
        baseline: usize,
        focus: &[usize],
    ) -> Result<Vec<Measured>, String> {
        let expected = work.expected(jobs);
        let cases: Vec<Case<'_>> = subjects
            .iter()
            .map(|s| {
                let s = *s;
                let case: Box<dyn Fn() -> Result<f64, String>> =
                    Box::new(move || time_per_job(s, workers, jobs, work, expected));
                (s.name(), case)
            })
            .collect();
        let measured = self.run_cases(id, &cases, baseline)?;
        let base = subjects[baseline].name();
        let mut t = format!(
            "\n### {title}\n\n{workers} workers, {jobs} {}; {} rounds after {} warm-up. \
             Nanoseconds per job (wall time of the whole run: start, submit every job, wait \
             for all, stop), median [min–max]; the ratio is taken round by round.\n\n\
             | subject | ns per job | × {base} |\n|---|---:|---:|\n",
            work.describe(),
            self.rounds.samples,
            self.rounds.warm_up
        );
        for m in &measured {
            let _ = writeln!(t, "| {} | {} | {} |", m.name, m.value(), m.ratio());
        }
        self.say(&t);
        let rows = measured
            .iter()
            .enumerate()
            .map(|(i, m)| Bar {
                label: m.name.clone(),
                value: m.value(),
                focus: focus.contains(&i),
                note: format!(
                    "{} ns · {}×",
                    short(m.value().median),
                    short(m.ratio().median)
                ),
            })
            .collect();
        self.panels.push((
            id.to_string(),
            Panel::Bars {
                title: format!("{title} — ns per job, {workers} workers"),
                unit: "ns per job (median; whisker: min–max)".into(),
                rows,
            },
        ));
        Ok(measured)
    }

    /// Speed-up of each subject over `subjects[sequential]` (its time / theirs, round by
    /// round) on the same jobs.
    #[allow(clippy::too_many_arguments)]
    pub fn speedup(
        &mut self,
        id: &str,
        title: &str,
        workers: usize,
        jobs: u64,
        work: Work,
        subjects: &[&dyn Subject],
        sequential: usize,
        focus: &[usize],
    ) -> Result<Vec<(String, Summary)>, String> {
        let expected = work.expected(jobs);
        let cases: Vec<Case<'_>> = subjects
            .iter()
            .map(|s| {
                let s = *s;
                let case: Box<dyn Fn() -> Result<f64, String>> =
                    Box::new(move || time_per_job(s, workers, jobs, work, expected));
                (s.name(), case)
            })
            .collect();
        let measured = self.run_cases(id, &cases, sequential)?;
        let base = subjects[sequential].name();
        let mut t = format!(
            "\n### {title}\n\n{workers} workers, {jobs} {}; {} rounds after {} warm-up. \
             Speed-up = time of {base} / time of the subject, round by round; median \
             [min–max]. {workers} workers can reach at most {workers}× on {} cores.\n\n\
             | subject | µs per job | speed-up |\n|---|---:|---:|\n",
            work.describe(),
            self.rounds.samples,
            self.rounds.warm_up,
            cores()
        );
        let mut out = Vec::new();
        for m in &measured {
            let speedup = Summary::of(&m.ratios.iter().map(|r| 1.0 / r).collect::<Vec<_>>());
            let micros = Summary::of(&m.samples.iter().map(|s| s / 1e3).collect::<Vec<_>>());
            let _ = writeln!(t, "| {} | {micros} | {speedup} |", m.name);
            out.push((m.name.clone(), speedup));
        }
        self.say(&t);
        let rows = out
            .iter()
            .enumerate()
            .map(|(i, (name, s))| Bar {
                label: name.clone(),
                value: *s,
                focus: focus.contains(&i),
                note: format!("{}×", short(s.median)),
            })
            .collect();
        self.panels.push((
            id.to_string(),
            Panel::Bars {
                title: format!("{title} — speed-up over {base}, {workers} workers"),
                unit: "speed-up (median; whisker: min–max)".into(),
                rows,
            },
        ));
        Ok(out)
    }

    /// Speed-up over sequential code of each subject at each worker count.
    pub fn sweep(
        &mut self,
        id: &str,
        title: &str,
        subjects: &[&dyn Subject],
        workers: &[usize],
        jobs: u64,
        work: Work,
    ) -> Result<Vec<Line>, String> {
        let expected = work.expected(jobs);
        let sequential = crate::alternatives::Sequential;
        let mut cases: Vec<Case<'_>> = Vec::new();
        let seq: &dyn Subject = &sequential;
        cases.push((
            seq.name(),
            Box::new(move || time_per_job(seq, 1, jobs, work, expected)),
        ));
        for s in subjects {
            let s = *s;
            for &w in workers {
                cases.push((
                    format!("{} ×{w}", s.name()),
                    Box::new(move || time_per_job(s, w, jobs, work, expected)),
                ));
            }
        }
        let measured = self.run_cases(id, &cases, 0)?;
        let mut t = format!(
            "\n### {title}\n\n{jobs} {}; {} rounds after {} warm-up; {} cores. Speed-up over \
             sequential code (round by round), median [min–max].\n\n| workers |",
            work.describe(),
            self.rounds.samples,
            self.rounds.warm_up,
            cores()
        );
        for s in subjects {
            let _ = write!(t, " {} |", s.name());
        }
        t.push_str("\n|---:|");
        for _ in subjects {
            t.push_str("---:|");
        }
        t.push('\n');
        let mut series: Vec<Line> = subjects
            .iter()
            .map(|s| Line {
                name: s.name(),
                points: Vec::new(),
            })
            .collect();
        for (k, &w) in workers.iter().enumerate() {
            let _ = write!(t, "| {w} |");
            for (j, line) in series.iter_mut().enumerate() {
                let m = &measured[1 + j * workers.len() + k];
                let speedup = Summary::of(&m.ratios.iter().map(|r| 1.0 / r).collect::<Vec<_>>());
                let _ = write!(t, " {speedup} |");
                line.points.push((w as f64, speedup));
            }
            t.push('\n');
        }
        self.say(&t);
        let ideal: Vec<(f64, f64)> = match work {
            // Waiting jobs: every worker waits in parallel, up to one worker per job.
            Work::Wait(_) => workers
                .iter()
                .map(|&w| (w as f64, (w as f64).min(jobs as f64)))
                .collect(),
            // CPU-bound: no more than one core's worth per core.
            _ => workers
                .iter()
                .map(|&w| (w as f64, (w.min(cores())) as f64))
                .collect(),
        };
        self.panels.push((
            id.to_string(),
            Panel::Lines {
                title: title.to_string(),
                x_desc: "workers (log scale)".into(),
                y_desc: "speed-up over sequential".into(),
                series: series
                    .iter()
                    .map(|l| Line {
                        name: l.name.clone(),
                        points: l.points.clone(),
                    })
                    .collect(),
                guide: Some((
                    match work {
                        Work::Wait(_) => "ideal: every worker waits at once".to_string(),
                        _ => format!("ideal: min(workers, {} cores)", cores()),
                    },
                    ideal,
                )),
            },
        ));
        Ok(series)
    }

    /// Any set of closures that each return nanoseconds per operation; ratios to
    /// `cases[baseline]`.
    pub fn custom(
        &mut self,
        id: &str,
        title: &str,
        what: &str,
        cases: &[Case<'_>],
        baseline: usize,
    ) -> Result<Vec<Measured>, String> {
        let measured = self.run_cases(id, cases, baseline)?;
        let base = &cases[baseline].0;
        let mut t = format!(
            "\n### {title}\n\n{what}; {} rounds after {} warm-up. Nanoseconds per operation, \
             median [min–max]; the ratio is taken round by round.\n\n\
             | case | ns per operation | × {base} |\n|---|---:|---:|\n",
            self.rounds.samples, self.rounds.warm_up
        );
        for m in &measured {
            let _ = writeln!(t, "| {} | {} | {} |", m.name, m.value(), m.ratio());
        }
        self.say(&t);
        let rows = measured
            .iter()
            .map(|m| Bar {
                label: m.name.clone(),
                value: m.value(),
                focus: false,
                note: format!(
                    "{} ns · {}×",
                    short(m.value().median),
                    short(m.ratio().median)
                ),
            })
            .collect();
        self.panels.push((
            id.to_string(),
            Panel::Bars {
                title: title.to_string(),
                unit: "ns per operation (median; whisker: min–max)".into(),
                rows,
            },
        ));
        Ok(measured)
    }
}

/// Logical CPUs this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What machine and moment a run comes from, as Markdown.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_else(|_| std::env::consts::OS.into());
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "rustc (version unknown)".into());
    format!(
        "{} logical CPUs ({cpu}), Linux {kernel}, {rustc}, release build; load average at the \
         start: {load}; {}.",
        cores(),
        utc_now()
    )
}

/// The load average now (1, 5, 15 minutes).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The date and time (UTC) as `2026-11-20 14:03 UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        let now = super::utc_now();
        assert!(now.starts_with("20") && now.ends_with("UTC"), "{now}");
    }
}
