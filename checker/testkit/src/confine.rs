//! Confines the thread that runs a test — and so every thread it starts, the pool's workers
//! included — before any test or student code runs on it:
//!
//! * **Landlock**: no filesystem access at all (reading `/proc/self/mem` or reopening the
//!   verdict pipe through `/proc/self/fd` is refused), except a scratch folder if given;
//! * **seccomp**: every system call that could touch the verdict and nonce descriptors
//!   (write, dup, fcntl, close, splice, …) fails with `EBADF`; the calls that reach
//!   around descriptors altogether (io_uring, `pidfd_getfd`, `process_vm_writev`, `ptrace`)
//!   fail with `EPERM`; and so does starting a process (`fork`, `exec`, `clone` without
//!   `CLONE_THREAD`): nothing a test starts can outlive it or hold its pipes open.
//!
//! Both are per-thread on Linux and inherited by threads created later; the harness's main
//! thread, which writes the verdict, is not confined and runs no student code.

/// The layers this thread ended up with.
#[derive(Debug, Default, Clone)]
pub struct Confined {
    pub landlock: bool,
    pub seccomp: bool,
}

#[cfg(target_os = "linux")]
pub fn confine_this_thread(protected: &[i32], scratch: Option<&std::path::Path>) -> Confined {
    let mut out = Confined::default();
    // Both Landlock and an unprivileged seccomp filter need no_new_privs (per thread).
    // SAFETY: prctl with these arguments only sets a flag on the calling thread.
    let nnp = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } == 0;
    if !nnp {
        return out;
    }
    out.landlock = landlock_no_fs(scratch);
    out.seccomp = seccomp_protect(protected).is_ok();
    out
}

#[cfg(not(target_os = "linux"))]
pub fn confine_this_thread(_protected: &[i32], _scratch: Option<&std::path::Path>) -> Confined {
    Confined::default()
}

#[cfg(target_os = "linux")]
fn landlock_no_fs(scratch: Option<&std::path::Path>) -> bool {
    use landlock::{
        ABI, Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus,
    };
    let abi = ABI::V5;
    let attempt = || -> Result<RulesetStatus, landlock::RulesetError> {
        let mut ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))?
            .create()?;
        if let Some(dir) = scratch
            && let Ok(fd) = PathFd::new(dir)
        {
            ruleset = ruleset.add_rule(PathBeneath::new(fd, AccessFs::from_all(abi)))?;
        }
        Ok(ruleset.restrict_self()?.ruleset)
    };
    matches!(
        attempt(),
        Ok(RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced)
    )
}

#[cfg(target_os = "linux")]
fn seccomp_protect(protected: &[i32]) -> Result<(), seccompiler::Error> {
    use std::collections::BTreeMap;

    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };

    // System calls whose argument `n` names a descriptor the test must not touch.
    let mut by_arg: Vec<(i64, &[u8])> = vec![
        (libc::SYS_write, &[0]),
        (libc::SYS_writev, &[0]),
        (libc::SYS_pwrite64, &[0]),
        (libc::SYS_pwritev, &[0]),
        (libc::SYS_pwritev2, &[0]),
        (libc::SYS_read, &[0]),
        (libc::SYS_readv, &[0]),
        (libc::SYS_pread64, &[0]),
        (libc::SYS_preadv, &[0]),
        (libc::SYS_preadv2, &[0]),
        (libc::SYS_sendto, &[0]),
        (libc::SYS_sendmsg, &[0]),
        (libc::SYS_sendmmsg, &[0]),
        (libc::SYS_recvfrom, &[0]),
        (libc::SYS_recvmsg, &[0]),
        (libc::SYS_fcntl, &[0]),
        (libc::SYS_ioctl, &[0]),
        (libc::SYS_close, &[0]),
        (libc::SYS_dup, &[0]),
        (libc::SYS_dup3, &[0, 1]),
        (libc::SYS_splice, &[0, 2]),
        (libc::SYS_tee, &[0, 1]),
        (libc::SYS_vmsplice, &[0]),
        (libc::SYS_sendfile, &[0, 1]),
        (libc::SYS_copy_file_range, &[0, 2]),
        (libc::SYS_ftruncate, &[0]),
        (libc::SYS_fallocate, &[0]),
        (libc::SYS_lseek, &[0]),
        (libc::SYS_mmap, &[4]),
        (libc::SYS_epoll_ctl, &[2]),
    ];
    #[cfg(target_arch = "x86_64")]
    by_arg.push((libc::SYS_dup2, &[0, 1]));
    // System calls that reach another descriptor table or memory directly: refused outright.
    let always = [
        libc::SYS_close_range,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_pidfd_getfd,
        libc::SYS_pidfd_open,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_ptrace,
        libc::SYS_kcmp,
    ];

    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for (syscall, args) in by_arg {
        let mut list = Vec::new();
        for &arg in args {
            for &fd in protected {
                list.push(SeccompRule::new(vec![SeccompCondition::new(
                    arg,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    fd as u64,
                )?])?);
            }
        }
        rules.insert(syscall, list);
    }
    let mut denied = BTreeMap::new();
    for syscall in always {
        denied.insert(syscall, Vec::new());
    }
    let arch: seccompiler::TargetArch = std::env::consts::ARCH
        .try_into()
        .map_err(seccompiler::Error::Backend)?;
    let fds: seccompiler::BpfProgram = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EBADF as u32),
        arch,
    )?
    .try_into()?;
    let reach: seccompiler::BpfProgram = SeccompFilter::new(
        denied,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )?
    .try_into()?;
    // No new processes: a test has no reason to start one, and one could outlive it. Threads
    // (`clone` with CLONE_THREAD) are fine; `clone3` says ENOSYS, so libc falls back to `clone`.
    let mut spawn: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    spawn.insert(
        libc::SYS_clone,
        vec![SeccompRule::new(vec![SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
            0,
        )?])?],
    );
    for syscall in [libc::SYS_execve, libc::SYS_execveat] {
        spawn.insert(syscall, Vec::new());
    }
    #[cfg(target_arch = "x86_64")]
    for syscall in [libc::SYS_fork, libc::SYS_vfork] {
        spawn.insert(syscall, Vec::new());
    }
    let no_spawn: seccompiler::BpfProgram = SeccompFilter::new(
        spawn,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )?
    .try_into()?;
    let mut clone3 = BTreeMap::new();
    clone3.insert(libc::SYS_clone3, Vec::new());
    let no_clone3: seccompiler::BpfProgram = SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )?
    .try_into()?;
    seccompiler::apply_filter(&fds)?;
    seccompiler::apply_filter(&reach)?;
    seccompiler::apply_filter(&no_spawn)?;
    seccompiler::apply_filter(&no_clone3)?;
    Ok(())
}
