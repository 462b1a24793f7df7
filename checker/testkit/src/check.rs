//! Assertions whose failure messages teach: they say what the pool did, what was expected,
//! and the usual cause.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Every id in `0..expected` appears exactly once in `seen` (in any order).
///
/// `what` names the things counted, e.g. "job" or "result".
pub fn each_exactly_once(what: &str, seen: &[u64], expected: u64) {
    // Counted in a table for the expected ids (a suite's largest runs count 100 000 of them,
    // and a map made that count a fifth of the test), in a map for any other id.
    let mut table = vec![0usize; usize::try_from(expected).expect("an id count that fits")];
    let mut others: BTreeMap<u64, usize> = BTreeMap::new();
    for &id in seen {
        match usize::try_from(id).ok().and_then(|i| table.get_mut(i)) {
            Some(n) => *n += 1,
            None => *others.entry(id).or_default() += 1,
        }
    }
    let mut problems = String::new();
    let missing: Vec<u64> = (0..expected)
        .zip(&table)
        .filter(|&(_, &n)| n == 0)
        .map(|(id, _)| id)
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            problems,
            "- {} {what}(s) never came back: {}",
            missing.len(),
            preview(&missing)
        );
    }
    let twice: Vec<String> = (0..expected)
        .zip(table.iter().copied())
        .chain(others.iter().map(|(&id, &n)| (id, n)))
        .filter(|&(_, n)| n > 1)
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
    let unknown: Vec<u64> = others.keys().copied().collect();
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

#[cfg(test)]
mod tests {
    use super::each_exactly_once;

    fn message(seen: &[u64], expected: u64) -> String {
        let panic = std::panic::catch_unwind(|| each_exactly_once("job", seen, expected))
            .expect_err("the check fails");
        panic
            .downcast_ref::<String>()
            .cloned()
            .expect("a formatted message")
    }

    #[test]
    fn each_once_in_any_order_passes() {
        each_exactly_once("job", &[2, 0, 1], 3);
        each_exactly_once("job", &[], 0);
    }

    #[test]
    fn missing_repeated_and_unknown_ids_are_each_named_in_order() {
        let got = message(&[9, 1, 1, 7, 2, 9, 9, 3], 4);
        assert_eq!(
            got,
            "expected each of 4 jobs exactly once, got 8 in all:\n\
             - 1 job(s) never came back: [0]\n\
             - 2 job(s) came back more than once: [\"1 (2×)\", \"9 (3×)\"]\n\
             - unexpected job ids: [7, 9]\n"
        );
    }

    #[test]
    fn long_lists_are_previewed() {
        let got = message(&[], 20);
        assert!(
            got.contains("- 20 job(s) never came back: [0, 1, 2, 3, 4, 5, 6, 7] and 12 more"),
            "{got}"
        );
    }
}
