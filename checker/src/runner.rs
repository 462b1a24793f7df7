//! Runs one test in a process of its own, with a timeout, and decides its outcome from the
//! completion record alone (see `testkit::harness`): exit codes and printed text prove
//! nothing, because student code can produce both.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use testkit::Record;
use wait_timeout::ChildExt;

/// How one test ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Passed,
    /// The harness reported a failure: the panic message on the test's thread.
    /// `hung_after`: the test then hung while cleaning up and was stopped.
    Failed {
        record: Record,
        hung_after: bool,
    },
    /// Killed after the timeout.
    TimedOut,
    /// The process ended without a completion record (exit, abort, crash).
    NoRecord {
        exit: String,
        stderr: String,
    },
}

/// What one run produced, besides its outcome.
#[derive(Clone, Debug)]
pub struct Run {
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// Bytes kept from each of stdout and stderr (the record is found however much is printed).
const KEEP: usize = 64 * 1024;
/// Longest line scanned for a record.
const MAX_LINE: usize = 1024 * 1024;

pub fn run_test(exe: &Path, harness_name: &str, timeout: Duration) -> Result<Run> {
    let nonce = new_nonce()?;
    let start = Instant::now();
    let mut child = Command::new(exe)
        .args(["--run", harness_name])
        // A clean environment: no LOOM_* caps that would end a model early.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    {
        let mut stdin = child.stdin.take().expect("piped");
        // The test may already be gone; that is its outcome, not the checker's error.
        let _ = writeln!(stdin, "{nonce}");
    }
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let out_nonce = nonce.clone();
    let out_reader = thread::spawn(move || scan(stdout, Some(&out_nonce)));
    let err_reader = thread::spawn(move || scan(stderr, None));

    let status = match child.wait_timeout(timeout).context("waiting for a test")? {
        Some(status) => Some(status),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let elapsed = start.elapsed();
    let (_, record) = out_reader.join().unwrap_or_default();
    let (stderr, _) = err_reader.join().unwrap_or_default();
    let outcome = match (status, record) {
        // The test had already failed, then hung while unwinding (typically dropping a pool
        // whose jobs were still blocked): the failure is the news, not the hang.
        (None, Some(record)) if !record.passed => Outcome::Failed {
            record,
            hung_after: true,
        },
        (None, _) => Outcome::TimedOut,
        (Some(_), Some(r)) if r.passed => Outcome::Passed,
        (Some(_), Some(record)) => Outcome::Failed {
            record,
            hung_after: false,
        },
        (Some(status), None) => Outcome::NoRecord {
            exit: describe_exit(status),
            stderr,
        },
    };
    Ok(Run { outcome, elapsed })
}

fn new_nonce() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a nonce: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads a stream to its end, keeping its first `KEEP` bytes as text and, with a nonce,
/// the completion record.
fn scan(mut stream: impl Read, nonce: Option<&str>) -> (String, Option<Record>) {
    let mut kept = Vec::new();
    let mut line = Vec::new();
    let mut record = None;
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if kept.len() < KEEP {
            let take = (KEEP - kept.len()).min(n);
            kept.extend_from_slice(&chunk[..take]);
        }
        if let Some(nonce) = nonce {
            for &b in chunk {
                if b == b'\n' {
                    if record.is_none() {
                        record =
                            testkit::harness::find_record(&String::from_utf8_lossy(&line), nonce);
                    }
                    line.clear();
                } else if line.len() < MAX_LINE {
                    line.push(b);
                }
            }
        }
    }
    if let Some(nonce) = nonce
        && record.is_none()
    {
        record = testkit::harness::find_record(&String::from_utf8_lossy(&line), nonce);
    }
    (String::from_utf8_lossy(&kept).into_owned(), record)
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return match signal {
                6 => "the process aborted (SIGABRT): often a panic while already panicking"
                    .to_string(),
                11 => "the process crashed (SIGSEGV): a stack overflow or invalid memory access"
                    .to_string(),
                9 => "the process was killed (SIGKILL)".to_string(),
                s => format!("the process was killed by signal {s}"),
            };
        }
    }
    match status.code() {
        Some(code) => format!(
            "the process exited with code {code} before the test finished \
             (was std::process::exit called?)"
        ),
        None => "the process ended before the test finished".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes a few at a time, so a record straddles read boundaries.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(self.data.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn record_line(nonce: &str, passed: bool) -> String {
        let record = Record {
            test: "hidden::t".to_string(),
            passed,
            message: None,
            location: None,
            other_panics: Vec::new(),
        };
        format!(
            "\n{}{nonce} {}\n",
            testkit::harness::RECORD_TAG,
            serde_json::to_string(&record).unwrap()
        )
    }

    #[test]
    fn the_record_is_found_across_read_boundaries() {
        let nonce = "0123456789abcdef";
        // Noise before, a partial line, the record, noise after; read in every chunk size
        // that splits the tag, the nonce and the JSON somewhere.
        let text = format!(
            "student output\nno newline here{}more output\n",
            record_line(nonce, true)
        );
        for step in [1, 2, 3, 7, 13, 8192] {
            let (_, record) = scan(
                Trickle {
                    data: text.as_bytes(),
                    step,
                },
                Some(nonce),
            );
            assert!(record.is_some_and(|r| r.passed), "chunk size {step}");
        }
    }

    #[test]
    fn a_record_with_another_nonce_or_without_its_line_end_counts_only_if_whole() {
        let nonce = "0123456789abcdef";
        let forged = record_line("ffffffffffffffff", true);
        let (_, record) = scan(forged.as_bytes(), Some(nonce));
        assert!(record.is_none(), "a record with the wrong nonce is ignored");
        // The first record wins: a later forged pass cannot overturn an early failure.
        let both = format!("{}{}", record_line(nonce, false), record_line(nonce, true));
        let (_, record) = scan(both.as_bytes(), Some(nonce));
        assert!(record.is_some_and(|r| !r.passed));
        // A record cut short is not a record.
        let cut = record_line(nonce, true);
        let cut = &cut[..cut.len() - 10];
        let (_, record) = scan(cut.as_bytes(), Some(nonce));
        assert!(record.is_none());
    }
}
