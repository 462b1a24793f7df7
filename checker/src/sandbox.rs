//! The sandbox every build of student code and every test process runs in, in layers.
//!
//! The checker starts the sandboxed program through itself (`checker sandbox-exec POLICY --
//! PROGRAM ARGS…`): a fresh single-threaded process that sets the layers up and then executes
//! the program. On Linux the layers are
//!
//! * **namespaces** — user (so no privilege is needed), pid (the sandbox sees only its own
//!   processes, and all of them die with it), mount (a private `/proc` of that pid namespace:
//!   the checker's own `/proc` entries are out of sight), network (no network at all), IPC and
//!   UTS;
//! * **Landlock** — the filesystem is reduced to what the program needs: for a test, its own
//!   executable and the system libraries; for a build, the toolchain, the dependency cache,
//!   the facade, the suites and the generated harness (read-only) and the target directory
//!   (writable). The reference solutions, the rest of the repository, other submissions and
//!   the grader's home are not there;
//! * **seccomp** — no `ptrace`, no access to another process's memory or descriptors, no
//!   io_uring, no new namespaces or mounts, and no leaving the process group;
//! * **rlimits** — CPU time, address space, processes and threads, file size, open files, no
//!   core dumps;
//! * **a process group** that the checker kills whole, at the timeout and after the test.
//!
//! Elsewhere (macOS, or Linux without user namespaces) the layers the system has are used, and
//! [`Layers`] says which; instructor grading refuses to run without the required ones.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The layers in force, as recorded in every report.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Layers {
    pub user_namespace: bool,
    pub pid_namespace: bool,
    pub mount_namespace: bool,
    pub network_namespace: bool,
    pub landlock: bool,
    pub seccomp: bool,
    pub rlimits: bool,
    pub process_group: bool,
}

impl Layers {
    /// Names of the layers in force.
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.user_namespace, "user-namespace"),
            (self.pid_namespace, "pid-namespace"),
            (self.mount_namespace, "mount-namespace"),
            (self.network_namespace, "network-namespace"),
            (self.landlock, "landlock"),
            (self.seccomp, "seccomp"),
            (self.rlimits, "rlimits"),
            (self.process_group, "process-group"),
        ];
        all.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect()
    }

    /// What instructor grading needs, each missing one with how to get it.
    pub fn missing_for_grading(&self) -> Vec<String> {
        let mut missing = Vec::new();
        let userns = "user namespaces (Linux; in Docker run with `--security-opt \
                      seccomp=unconfined` or a runtime that allows them, or on the host)";
        if !self.pid_namespace {
            missing.push(format!("pid namespace — needs {userns}"));
        }
        if !self.network_namespace {
            missing.push(format!("network namespace — needs {userns}"));
        }
        if !self.landlock {
            missing.push(
                "Landlock (Linux 5.13 or newer with `landlock` in the kernel's `lsm=` list)"
                    .to_string(),
            );
        }
        if !self.seccomp {
            missing.push("seccomp filters (Linux)".to_string());
        }
        if !self.rlimits {
            missing.push("resource limits (setrlimit)".to_string());
        }
        if !self.process_group {
            missing.push("process groups (a Unix system)".to_string());
        }
        missing
    }
}

/// What a sandboxed program may do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Policy {
    /// Folders and files it may read (and execute).
    pub read: Vec<PathBuf>,
    /// Folders it may write.
    pub write: Vec<PathBuf>,
    /// CPU seconds before the kernel stops it.
    pub cpu_secs: u64,
    /// Address space, bytes.
    pub address_space: u64,
    /// Processes and threads.
    pub processes: u64,
    /// Largest file it may write, bytes.
    pub file_size: u64,
    /// Open descriptors.
    pub open_files: u64,
    /// The working directory.
    pub cwd: PathBuf,
    /// The whole environment (nothing else is passed on).
    pub env: Vec<(String, String)>,
    /// Use namespaces where the system has them.
    pub namespaces: bool,
}

impl Policy {
    /// For one test process: its executable, the system's libraries, a scratch folder.
    pub fn test(exe: &Path, scratch: &Path, cpu_secs: u64) -> Policy {
        let mut read: Vec<PathBuf> = system_paths();
        read.push(exe.to_path_buf());
        Policy {
            read,
            write: vec![scratch.to_path_buf()],
            cpu_secs,
            // Loom, tokio and a pool of threads reserve more address space than they use; a
            // thread bomb runs out of it long before the machine runs out of anything.
            address_space: 4 << 30,
            processes: 512,
            file_size: 64 << 20,
            open_files: 512,
            cwd: scratch.to_path_buf(),
            env: vec![
                ("PATH".to_string(), "/usr/bin:/bin".to_string()),
                ("RUST_BACKTRACE".to_string(), "0".to_string()),
            ],
            namespaces: true,
        }
    }
}

/// What any program needs to start: the system's libraries and configuration.
pub fn system_paths() -> Vec<PathBuf> {
    [
        "/usr",
        "/lib",
        "/lib64",
        "/lib32",
        "/bin",
        "/sbin",
        "/etc",
        "/dev/null",
        "/dev/zero",
        "/dev/urandom",
        "/dev/random",
        "/proc",
        "/sys",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.exists())
    .collect()
}

/// Whether the sandbox launcher works here at all (it needs Linux).
pub fn usable() -> bool {
    cfg!(target_os = "linux") && layers().landlock
}

/// The layers this system gives a sandboxed process (probed once, by starting one).
pub fn layers() -> &'static Layers {
    static LAYERS: OnceLock<Layers> = OnceLock::new();
    LAYERS.get_or_init(|| {
        if std::env::var_os("CHECKER_NO_SANDBOX").is_some() {
            return Layers {
                process_group: cfg!(unix),
                ..Layers::default()
            };
        }
        probe().unwrap_or(Layers {
            process_group: cfg!(unix),
            ..Layers::default()
        })
    })
}

fn probe() -> Option<Layers> {
    let exe = checker_exe();
    let scratch = std::env::temp_dir();
    let policy = Policy::test(&exe, &scratch, 10);
    let output = command(&policy, &exe, &["sandbox-report"])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    serde_json::from_slice(&output.stdout).ok()
}

/// The checker's own executable, as it was when the checker started. Asked later, Linux
/// answers "… (deleted)" once the file has been rebuilt in place (a `cargo build` while a
/// class is being graded), and every launch would fail.
pub fn checker_exe() -> PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| std::env::current_exe().unwrap_or_else(|_| PathBuf::from("checker")))
        .clone()
}

/// A command that runs `program args` inside the sandbox `policy` describes.
pub fn command(policy: &Policy, program: &Path, args: &[&str]) -> Command {
    let checker = checker_exe();
    let mut cmd = Command::new(checker);
    cmd.arg("sandbox-exec")
        .arg(serde_json::to_string(policy).expect("a policy serialises"))
        .arg("--")
        .arg(program)
        .args(args)
        .env_clear();
    cmd
}

/// `checker sandbox-exec POLICY -- PROGRAM ARGS…`: sets the layers up and executes PROGRAM.
/// Never returns.
pub fn exec_main(policy_json: &str, program: &str, args: &[String]) -> ! {
    let policy: Policy = match serde_json::from_str(policy_json) {
        Ok(p) => p,
        Err(e) => fail(&format!("bad sandbox policy: {e}")),
    };
    #[cfg(target_os = "linux")]
    linux::enter(&policy, program, args);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (&policy, program, args);
        fail("sandbox-exec runs on Linux only")
    }
}

/// `checker sandbox-report`, run inside a sandbox: prints the layers it finds itself in.
pub fn report_main() -> ! {
    #[cfg(target_os = "linux")]
    let layers = linux::observed();
    #[cfg(not(target_os = "linux"))]
    let layers = Layers::default();
    println!(
        "{}",
        serde_json::to_string(&layers).expect("layers serialise")
    );
    std::process::exit(0)
}

fn fail(message: &str) -> ! {
    eprintln!("checker sandbox: {message}");
    std::process::exit(125)
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::path::Path;

    use nix::sched::{CloneFlags, unshare};
    use nix::sys::resource::{Resource, setrlimit};
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::{ForkResult, Gid, Uid, fork};

    use super::{Layers, Policy, fail};

    /// Environment marks the launcher leaves for `sandbox-report` (and nothing else reads).
    const MARK: &str = "CHECKER_SANDBOX_LAYERS";

    pub fn enter(policy: &Policy, program: &str, args: &[String]) -> ! {
        let mut layers = Layers {
            process_group: true,
            ..Layers::default()
        };
        let uid = Uid::current();
        let gid = Gid::current();
        if policy.namespaces
            && unshare(
                CloneFlags::CLONE_NEWUSER
                    | CloneFlags::CLONE_NEWNS
                    | CloneFlags::CLONE_NEWPID
                    | CloneFlags::CLONE_NEWNET
                    | CloneFlags::CLONE_NEWIPC
                    | CloneFlags::CLONE_NEWUTS,
            )
            .is_ok()
        {
            // Keep our own identity inside (files stay ours; nothing new is granted outside).
            let _ = std::fs::write("/proc/self/setgroups", "deny");
            let mapped = std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1")).is_ok()
                && std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1")).is_ok();
            if !mapped {
                fail("could not map the user into the new user namespace");
            }
            layers.user_namespace = true;
            layers.network_namespace = true;
            // The pid namespace applies to children: fork, and let the child be its init.
            // SAFETY: the launcher is single-threaded here, so fork is sound.
            match unsafe { fork() } {
                Ok(ForkResult::Parent { child }) => relay(child),
                Ok(ForkResult::Child) => {
                    // Die with the launcher, so killing the process group kills everything.
                    // SAFETY: prctl only sets this process's parent-death signal.
                    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
                    layers.pid_namespace = true;
                    layers.mount_namespace = private_proc();
                }
                Err(e) => fail(&format!("fork: {e}")),
            }
        }
        layers.rlimits = limits(policy);
        // SAFETY: prctl only sets no_new_privs on this process.
        let nnp = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } == 0;
        if nnp {
            layers.landlock = landlock(policy);
            layers.seccomp = seccomp().is_ok();
        }
        let mut env: Vec<CString> = policy
            .env
            .iter()
            .filter_map(|(k, v)| CString::new(format!("{k}={v}")).ok())
            .collect();
        if let Ok(mark) = CString::new(format!(
            "{MARK}={}",
            serde_json::to_string(&layers).unwrap_or_default()
        )) {
            env.push(mark);
        }
        if std::env::set_current_dir(&policy.cwd).is_err() {
            fail(&format!("cannot enter {}", policy.cwd.display()));
        }
        let Ok(path) = CString::new(program) else {
            fail("program path has a NUL byte")
        };
        let mut argv = vec![path.clone()];
        argv.extend(args.iter().filter_map(|a| CString::new(a.as_str()).ok()));
        let err = nix::unistd::execve(&path, &argv, &env).unwrap_err();
        fail(&format!("cannot execute {program}: {err}"))
    }

    /// Waits for the sandbox's init and ends the same way.
    fn relay(child: nix::unistd::Pid) -> ! {
        loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => std::process::exit(code),
                Ok(WaitStatus::Signaled(_, signal, _)) => {
                    // Die of the same signal, so the checker sees what happened.
                    // SAFETY: restoring the default action and raising a signal on ourselves.
                    unsafe {
                        libc::signal(signal as i32, libc::SIG_DFL);
                        libc::raise(signal as i32);
                    }
                    std::process::exit(128 + signal as i32)
                }
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => fail(&format!("waitpid: {e}")),
            }
        }
    }

    /// A `/proc` of the new pid namespace: only the sandbox's own processes are in it.
    fn private_proc() -> bool {
        use nix::mount::{MsFlags, mount};
        let private = mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .is_ok();
        private
            && mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            )
            .is_ok()
    }

    fn limits(p: &Policy) -> bool {
        let set = |r, v: u64| setrlimit(r, v, v).is_ok();
        // The hard limit one second later, so a runaway gets SIGXCPU, then SIGKILL.
        let cpu = setrlimit(Resource::RLIMIT_CPU, p.cpu_secs, p.cpu_secs + 1).is_ok();
        cpu & set(Resource::RLIMIT_AS, p.address_space)
            & set(Resource::RLIMIT_NPROC, p.processes)
            & set(Resource::RLIMIT_FSIZE, p.file_size)
            & set(Resource::RLIMIT_NOFILE, p.open_files)
            & set(Resource::RLIMIT_CORE, 0)
    }

    fn landlock(p: &Policy) -> bool {
        use landlock::{
            ABI, Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
            RulesetStatus,
        };
        let abi = ABI::V5;
        let attempt = || -> Result<RulesetStatus, landlock::RulesetError> {
            let mut ruleset = Ruleset::default()
                .handle_access(AccessFs::from_all(abi))?
                .create()?;
            for path in &p.read {
                if let Ok(fd) = PathFd::new(path) {
                    let access = if Path::new(path).is_dir() {
                        AccessFs::from_read(abi)
                    } else {
                        AccessFs::from_read(abi) & AccessFs::from_file(abi)
                    };
                    ruleset = ruleset.add_rule(PathBeneath::new(fd, access))?;
                }
            }
            for path in &p.write {
                if let Ok(fd) = PathFd::new(path) {
                    let access = if Path::new(path).is_dir() {
                        AccessFs::from_all(abi)
                    } else {
                        AccessFs::from_file(abi)
                    };
                    ruleset = ruleset.add_rule(PathBeneath::new(fd, access))?;
                }
            }
            // Writing to /dev/null is harmless and many tools expect it.
            if let Ok(fd) = PathFd::new("/dev/null") {
                ruleset = ruleset.add_rule(PathBeneath::new(
                    fd,
                    (AccessFs::from_read(abi) & AccessFs::from_file(abi)) | AccessFs::WriteFile,
                ))?;
            }
            Ok(ruleset.restrict_self()?.ruleset)
        };
        matches!(attempt(), Ok(RulesetStatus::FullyEnforced))
    }

    fn seccomp() -> Result<(), seccompiler::Error> {
        use std::collections::BTreeMap;

        use seccompiler::{SeccompAction, SeccompFilter};
        let denied = [
            libc::SYS_ptrace,
            libc::SYS_process_vm_readv,
            libc::SYS_process_vm_writev,
            libc::SYS_pidfd_getfd,
            libc::SYS_pidfd_open,
            libc::SYS_io_uring_setup,
            libc::SYS_io_uring_enter,
            libc::SYS_io_uring_register,
            libc::SYS_kcmp,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_pivot_root,
            libc::SYS_chroot,
            libc::SYS_setsid,
            libc::SYS_setpgid,
            libc::SYS_bpf,
            libc::SYS_perf_event_open,
            libc::SYS_userfaultfd,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_request_key,
            libc::SYS_kexec_load,
            libc::SYS_init_module,
            libc::SYS_finit_module,
            libc::SYS_delete_module,
            libc::SYS_reboot,
            libc::SYS_swapon,
            libc::SYS_swapoff,
            libc::SYS_acct,
            libc::SYS_settimeofday,
            libc::SYS_clock_settime,
        ];
        let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
            denied.iter().map(|&s| (s, Vec::new())).collect();
        let arch: seccompiler::TargetArch = std::env::consts::ARCH
            .try_into()
            .map_err(seccompiler::Error::Backend)?;
        let program: seccompiler::BpfProgram = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )?
        .try_into()?;
        seccompiler::apply_filter(&program)
    }

    /// The layers as the launcher left them, read back by `sandbox-report` inside the sandbox.
    pub fn observed() -> Layers {
        std::env::var(MARK)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }
}
