//! Runs one test in a process of its own, with a timeout, and decides its outcome from the
//! completion record alone (see `testkit::harness`): exit codes and printed text prove
//! nothing, because student code can produce both.

use std::io::Read;
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
    /// What the test wrote on stderr (its first 64 KiB, or more when asked for).
    pub stderr: String,
}

/// Bytes kept from each of stdout and stderr (the record is found however much is printed).
const KEEP: usize = 64 * 1024;
/// Longest line scanned for a record.
const MAX_LINE: usize = 1024 * 1024;

/// How a test process is started.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Run inside the sandbox (see `sandbox`); otherwise only a process group of its own.
    pub sandbox: bool,
    /// Refuse to give a verdict unless the test thread could be confined (instructors).
    pub require_confinement: bool,
    /// Where each test gets a scratch folder of its own (the only place it may write).
    pub scratch_root: std::path::PathBuf,
}

/// How long readers of a finished test's output are waited for before they are abandoned
/// (a process that escaped could hold a pipe open for ever). The process group is already
/// dead by then, so this is only ever waited in full for an escape; it must also cover a
/// reader thread that a loaded machine has not scheduled yet (at 500 ms, a loom model's
/// verdict was once lost on a 2-core machine running two gradings and a verify at once).
const GRACE: Duration = Duration::from_secs(5);

pub fn run_test(
    exe: &Path,
    harness_name: &str,
    timeout: Duration,
    settings: &Settings,
) -> Result<Run> {
    let run = run_test_with(exe, harness_name, timeout, settings, &Extra::default())?;
    // A clean exit with no verdict is what a stub that calls `exit(0)` does, and it stays a
    // crash however often it is run. On a loaded machine the checker has also, rarely, read
    // no verdict from a run of a reference solution that exited cleanly (twice in hundreds
    // of thousands of runs; not yet explained). One more run tells the two apart: only a
    // verdict the harness writes can ever pass.
    if let Outcome::NoRecord { exit, .. } = &run.outcome
        && exit.contains("exited with code 0")
    {
        return run_test_with(exe, harness_name, timeout, settings, &Extra::default());
    }
    Ok(run)
}

/// What a run may add for the checker's own purposes (a loom replay).
#[derive(Default)]
pub struct Extra {
    /// More environment (the `LOOM_*` and trace switches of a replay).
    pub env: Vec<(String, String)>,
    /// Use this scratch folder and keep it (a checkpoint file lives there).
    pub scratch: Option<std::path::PathBuf>,
    /// Keep this much of stderr instead of the usual 64 KiB (a replay's trace).
    pub keep_stderr: Option<usize>,
}

/// Like [`run_test`]; the run's stderr is in [`Run::stderr`].
pub fn run_test_with(
    exe: &Path,
    harness_name: &str,
    timeout: Duration,
    settings: &Settings,
    extra: &Extra,
) -> Result<Run> {
    let nonce = new_nonce()?;
    let scratch = extra.scratch.clone().unwrap_or_else(|| {
        settings
            .scratch_root
            .join(format!("{}-{}", std::process::id(), &nonce[..12]))
    });
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let scratch_arg = scratch.to_string_lossy().into_owned();
    let mut args = vec![
        "--run",
        harness_name,
        "--verdict",
        "--scratch",
        &scratch_arg,
    ];
    if settings.require_confinement {
        args.push("--require-confinement");
    }
    let mut cmd = if settings.sandbox {
        let cpu = timeout.as_secs() + 2;
        let mut policy = crate::sandbox::Policy::test(exe, &scratch, cpu);
        policy.env.extend(extra.env.iter().cloned());
        crate::sandbox::command(&policy, exe, &args)
    } else {
        let mut cmd = Command::new(exe);
        cmd.args(&args)
            // A clean environment: no LOOM_* caps that would end a model early.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_BACKTRACE", "0")
            .envs(extra.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let channel = verdict::Channel::new(&nonce)?;
    channel.attach(&mut cmd);

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let group = child.id();
    let verdict_in = channel.after_spawn();
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let keep_stderr = extra.keep_stderr.unwrap_or(KEEP);
    let reader = |tx: std::sync::mpsc::Sender<(u8, String, Option<Record>)>,
                  which: u8,
                  stream: Box<dyn Read + Send>,
                  nonce: Option<String>| {
        let keep = if which == 2 { keep_stderr } else { KEEP };
        thread::spawn(move || {
            let (text, record) = scan_keeping(stream, nonce.as_deref(), keep);
            let _ = tx.send((which, text, record));
        })
    };
    reader(tx.clone(), 0, Box::new(verdict_in), Some(nonce.clone()));
    reader(tx.clone(), 1, Box::new(stdout), None);
    reader(tx, 2, Box::new(stderr), None);

    let status = match child.wait_timeout(timeout).context("waiting for a test")? {
        Some(status) => Some(status),
        None => {
            kill_group(group);
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    // Whatever the test started is stopped with it.
    kill_group(group);
    let elapsed = start.elapsed();
    let mut record = None;
    let mut stderr_text = String::new();
    let mut stderr_full = String::new();
    let deadline = Instant::now() + GRACE;
    for _ in 0..3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((0, _, r)) => record = r,
            Ok((2, text, _)) => {
                stderr_full.clone_from(&text);
                stderr_text = text;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    if extra.scratch.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
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
            stderr: stderr_text,
        },
    };
    Ok(Run {
        outcome,
        elapsed,
        stderr: stderr_full,
    })
}

fn new_nonce() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a nonce: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Kills a test's whole process group (the test started it as its own leader).
fn kill_group(leader: u32) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(leader) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    #[cfg(not(unix))]
    let _ = leader;
}

/// The verdict pipe (fd 3 in the test) and the nonce pipe (fd 4), set up around a spawn.
mod verdict {
    use std::process::Command;

    use anyhow::{Context, Result};

    #[cfg(unix)]
    pub struct Channel {
        verdict: (std::os::fd::OwnedFd, std::os::fd::OwnedFd),
        nonce: (std::os::fd::OwnedFd, std::os::fd::OwnedFd),
    }

    #[cfg(unix)]
    impl Channel {
        /// Both pipes, with `nonce` already waiting in the nonce pipe. It is written now,
        /// while this process still holds the pipe's read end: written after the spawn, to a
        /// test that had already died, it would raise SIGPIPE — which kills the checker, since
        /// `main` restores SIGPIPE's default so that `cargo checker | head` ends quietly.
        pub fn new(nonce: &str) -> Result<Self> {
            use std::io::Write;
            // Close-on-exec: the child gets only the ends dup'ed onto fds 3 and 4.
            #[cfg(not(target_vendor = "apple"))]
            let pipe = || {
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                    .context("creating a pipe for a test")
            };
            // macOS has no pipe2: set the flag right after (the checker spawns from several
            // threads, but every spawn dup's its ends explicitly, so a brief window is harmless).
            #[cfg(target_vendor = "apple")]
            let pipe = || -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
                use std::os::fd::AsRawFd;
                let (r, w) = nix::unistd::pipe().context("creating a pipe for a test")?;
                for fd in [r.as_raw_fd(), w.as_raw_fd()] {
                    nix::fcntl::fcntl(
                        fd,
                        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
                    )
                    .context("marking a pipe close-on-exec")?;
                }
                Ok((r, w))
            };
            let verdict = pipe()?;
            let (nonce_read, nonce_write) = pipe()?;
            // A nonce is a few dozen bytes; a pipe holds 64 KiB, so this never blocks.
            let mut w = std::fs::File::from(nonce_write);
            w.write_all(nonce.as_bytes())
                .context("writing a test's nonce")?;
            Ok(Channel {
                verdict,
                nonce: (nonce_read, w.into()),
            })
        }

        /// In the child: the verdict pipe's write end as fd 3, the nonce pipe's read end as
        /// fd 4, and a process group of its own.
        pub fn attach(&self, cmd: &mut Command) {
            use std::os::fd::AsRawFd;
            use std::os::unix::process::CommandExt;
            let verdict = self.verdict.1.as_raw_fd();
            let nonce = self.nonce.0.as_raw_fd();
            let parent = std::process::id();
            // SAFETY: between fork and exec this only calls dup2, setpgid, prctl and getppid,
            // which are async-signal-safe, and allocates nothing.
            unsafe {
                cmd.pre_exec(move || {
                    if libc_dup2(verdict, 3) < 0 || libc_dup2(nonce, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    nix::unistd::setpgid(
                        nix::unistd::Pid::from_raw(0),
                        nix::unistd::Pid::from_raw(0),
                    )
                    .map_err(std::io::Error::from)?;
                    // Die with the checker, however it ends (a watch closed mid-check, a
                    // killed grader): the launcher's own child dies with the launcher, so
                    // nothing of the test outlives grading.
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    if libc::getppid() as u32 != parent {
                        return Err(std::io::Error::other("the checker has already ended"));
                    }
                    Ok(())
                });
            }
        }

        /// In the parent, after the spawn: closes the nonce pipe (the test reads the nonce,
        /// then end of file) and keeps only the verdict's read end.
        pub fn after_spawn(self) -> std::fs::File {
            let Channel { verdict, nonce } = self;
            drop(verdict.1);
            drop(nonce);
            std::fs::File::from(verdict.0)
        }
    }

    #[cfg(unix)]
    fn libc_dup2(from: i32, to: i32) -> i32 {
        use std::os::fd::{BorrowedFd, OwnedFd};
        // SAFETY: `from` is open for the duration of the spawn; dup2 onto 3 and 4, which the
        // child owns from then on (forgotten, so nothing here closes them).
        let from = unsafe { BorrowedFd::borrow_raw(from) };
        let mut target = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(to) };
        let ok = nix::unistd::dup2(from, &mut target).is_ok();
        std::mem::forget(target);
        if ok { 0 } else { -1 }
    }
}

/// Reads a stream to its end, keeping its first `KEEP` bytes as text and, with a nonce,
/// the completion record.
#[cfg(test)]
fn scan(stream: impl Read, nonce: Option<&str>) -> (String, Option<Record>) {
    scan_keeping(stream, nonce, KEEP)
}

/// [`scan`], keeping `keep` bytes of text.
fn scan_keeping(
    mut stream: impl Read,
    nonce: Option<&str>,
    keep: usize,
) -> (String, Option<Record>) {
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
        if kept.len() < keep {
            let take = (keep - kept.len()).min(n);
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

    /// A test that is gone before it reads its nonce is its own outcome; it must never kill
    /// the checker, whose SIGPIPE is at its default (see `main`).
    #[cfg(unix)]
    #[test]
    fn a_test_that_exits_at_once_does_not_kill_the_checker() {
        // SAFETY: restoring a signal's default disposition, as the checker's `main` does.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
        let channel =
            verdict::Channel::new("nonce-of-a-test-that-never-reads-it").expect("pipes for a test");
        let mut cmd = std::process::Command::new("true");
        channel.attach(&mut cmd);
        let mut child = cmd.spawn().expect("`true` starts");
        child.wait().expect("`true` ends");
        // The test has exited without reading fd 4. Writing the nonce now would raise
        // SIGPIPE and end this process; it was written before the spawn.
        let mut verdict_in = channel.after_spawn();
        let (text, record) = scan(&mut verdict_in, Some("nonce-of-a-test-that-never-reads-it"));
        assert!(
            text.is_empty() && record.is_none(),
            "no verdict from `true`"
        );
    }
}
