//! Assertions whose failure messages teach: they say what the pool did, what was expected,
//! and the usual cause.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Every id in `0..expected` appears exactly once in `seen` (in any order).
///
/// `what` names the things counted, e.g. "job" or "result".
pub fn each_exactly_once(what: &str, seen: &[u64], expected: u64) {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for &id in seen {
        *counts.entry(id).or_default() += 1;
    }
    let mut problems = String::new();
    let missing: Vec<u64> = (0..expected)
        .filter(|id| !counts.contains_key(id))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            problems,
            "- {} {what}(s) never came back: {}",
            missing.len(),
            preview(&missing)
        );
    }
    let twice: Vec<String> = counts
        .iter()
        .filter(|&(_, &n)| n > 1)
        .map(|(id, n)| format!("{id} ({n}×)"))
        .collect();
    if !twice.is_empty() {
        let _ = writeln!(
            problems,
            "- {} {what}(s) came back more than once: {}",
            twice.len(),
            preview(&twice)
        );
    }
    let unknown: Vec<u64> = counts
        .keys()
        .copied()
        .filter(|&id| id >= expected)
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(problems, "- unexpected {what} ids: {}", preview(&unknown));
    }
    assert!(
        problems.is_empty(),
        "expected each of {expected} {what}s exactly once, got {} in all:\n{problems}",
        seen.len()
    );
}

fn preview<T: std::fmt::Debug>(items: &[T]) -> String {
    const SHOW: usize = 8;
    if items.len() <= SHOW {
        format!("{items:?}")
    } else {
        format!("{:?} and {} more", &items[..SHOW], items.len() - SHOW)
    }
}

/// Takes every result already waiting, then insists the stream has *ended* (every `Sender`
/// gone), not merely run dry. Call it once the pool has shut down: by then only a leaked
/// `Sender` or a worker still running can keep the stream open.
pub fn drain_closed<R>(results: &workbook_sync::channel::Receiver<R>) -> Vec<R> {
    use workbook_sync::channel::TryRecvError;
    let mut got = Vec::new();
    loop {
        match results.try_recv() {
            Ok(r) => got.push(r),
            Err(TryRecvError::Disconnected) => return got,
            Err(TryRecvError::Empty) => panic!(
                "the results stream is still open after shutdown returned ({} results taken): \
                 something other than the workers still holds a results Sender, or a worker \
                 is still running. A consumer writing `for r in results` would wait forever. \
                 Keep results Senders only in the workers (drop the original after cloning it \
                 into them) and join every worker in shutdown.",
                got.len()
            ),
        }
    }
}
