//! Hidden suite, exercise 10 (pipeline): ordinary tests. Each runs in its own process with a
//! timeout; a test that hangs is reported with the explanation in exercise.toml.
//!
//! No sleeps and no timing: stage functions are held with gates and counted with arrival
//! counters, so "item 0 is still in stage 1" or "stage 0's worker has taken item 3" is known,
//! not hoped for. Where a wrong pipeline can only be caught by waiting for something that
//! never comes (an output that never ends, a worker that never wakes), the test hangs on it
//! and the checker's timeout reports it with the test's explanation. What only a race can
//! show (an item overtaking another, a link holding one item too many) is proven in every
//! interleaving by the loom models.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use pipeline::{
    BuildError, Failure, Input, InputError, NON_TEXT_PANIC, Output, Pipeline, Report, StageError,
};
use pretty_assertions::assert_eq;
use testkit::check;
use testkit::gate::{self, Arrivals, Gate, ThreadExits};

type Log = Arc<Mutex<Vec<u64>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn logged(log: &Log) -> Vec<u64> {
    log.lock().unwrap().clone()
}

/// A little work that depends on `n`, so items take different times without any sleep.
fn uneven_work(n: u64) -> u64 {
    let mut x = n;
    for _ in 0..(n % 5) * 1_500 {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
    std::hint::black_box(x);
    n
}

/// Tries to send `item` until the pipeline reports that it has stopped, and returns how many
/// copies it accepted on the way. A pipeline whose stop never reaches its input loops here
/// until the checker's timeout.
fn send_until_stopped(input: &mut Input<u64>, item: u64) -> u64 {
    let mut accepted = 0;
    loop {
        match input.try_send(item) {
            Ok(()) => accepted += 1,
            Err(InputError::Full(_)) => thread::yield_now(),
            Err(InputError::Stopped(back)) => {
                assert_eq!(
                    back, item,
                    "try_send must hand back the very item it refused"
                );
                return accepted;
            }
        }
    }
}

/// A pipeline of `u64 → u64` stages (identity functions) with the given capacities (link 0
/// first) and worker counts.
fn identity_pipeline(
    caps: &[usize],
    workers: &[usize],
    ordered: bool,
) -> (Input<u64>, Output<u64, ()>) {
    assert_eq!(caps.len(), workers.len() + 1);
    let mut p = Pipeline::<u64, u64, ()>::new(caps[0]);
    for (w, c) in workers.iter().zip(&caps[1..]) {
        p = p.stage(*w, *c, |n: u64| Ok(n));
    }
    if ordered {
        p = p.ordered();
    }
    p.build().expect("a valid pipeline")
}

fn describe(caps: &[usize], workers: &[usize], ordered: bool) -> String {
    format!(
        "{} pipeline with link capacities {caps:?} (link 0 first) and stages of {workers:?} workers",
        if ordered { "an ordered" } else { "a" }
    )
}

fn assert_probe_released(probe: &Arc<()>, when: &str) {
    assert_eq!(
        Arc::strong_count(probe),
        1,
        "{when}, a worker thread still holds its stage function: not every worker was \
         joined. Every worker must leave its loop (after a stop, every link must close or be \
         drained) and be joined before the Output's drop or finish returns."
    );
}

fn assert_accounted(sent: u64, report: &Report<&'static str>, failures: u64, what: &str) {
    assert_eq!(
        report.delivered + report.discarded + failures,
        sent,
        "{what}: `send` accepted {sent} items, but the pipeline accounted for {} (delivered \
         {}, discarded {}, failed {failures}). Every accepted item must end exactly once: \
         returned by `next`, the one reported failure, or counted as discarded (items found in \
         a link after the stop, finished after it, or failed after the first failure).",
        report.delivered + report.discarded + failures,
        report.delivered,
        report.discarded
    );
}

// ---------------------------------------------------------------------------------------
// Typed stages

pub fn types_change_from_stage_to_stage() {
    let (mut input, output) = Pipeline::<u32, _, &'static str>::new(3)
        .stage(1, 2, |n: u32| Ok(format!("{n:04}"))) // u32 → String
        .stage(4, 5, |s: String| {
            // String → u64
            let n: u64 = s.parse().map_err(|_| "not a number")?;
            Ok(n + s.len() as u64)
        })
        .stage(2, 1, |m: u64| Ok((m, m % 2 == 0))) // u64 → (u64, bool)
        .build()
        .expect("a valid pipeline");
    let producer = thread::spawn(move || {
        for n in 0..500 {
            input.send(n).expect("a running pipeline accepts items");
        }
    });
    let mut got: Vec<(u64, bool)> = output.map(|r| r.expect("no stage fails here")).collect();
    producer.join().expect("producer thread");
    got.sort_unstable();
    let want: Vec<(u64, bool)> = (0..500).map(|n| (n + 4, n % 2 == 0)).collect();
    assert_eq!(
        got, want,
        "500 items through u32 → String → u64 → (u64, bool) stages of 1, 4 and 2 workers: \
         every item must come out once, transformed by every stage in turn"
    );
}

pub fn no_stage_passes_items_through() {
    let (mut input, mut output) = Pipeline::<u64, _, ()>::new(4)
        .build()
        .expect("a pipeline with no stage is valid");
    for n in 0..4 {
        input
            .send(n)
            .expect("a pipeline with no stage still has its input link of 4 places");
    }
    assert_eq!(
        input.try_send(4),
        Err(InputError::Full(4)),
        "no stage and nobody reading: link 0 holds its 4 items and no more"
    );
    let first: Vec<u64> = output.by_ref().take(4).map(|r| r.unwrap()).collect();
    assert_eq!(
        first,
        vec![0, 1, 2, 3],
        "no stage: items come out unchanged, in order"
    );
    input.send(4).expect("room again");
    input.send(5).expect("room again");
    input.close();
    let rest: Vec<u64> = output.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(
        rest,
        vec![4, 5],
        "the input is closed: the rest, then the end"
    );
    assert_eq!(
        output.finish(),
        Report {
            delivered: 6,
            discarded: 0,
            failure: None
        }
    );
}

// ---------------------------------------------------------------------------------------
// Fan-out and fan-in

pub fn slow_item_holds_up_only_its_worker() {
    // Stage 1 has 3 workers. The first item it gets waits at a gate that opens only after
    // the stage has finished 12 other items: the two other workers must keep taking items.
    let gate = Gate::new();
    let done = Arrivals::new();
    let first = Arc::new(AtomicUsize::new(0));
    let (g, d, f) = (gate.clone(), done.clone(), Arc::clone(&first));
    let (mut input, output) = Pipeline::<u64, _, ()>::new(2)
        .stage(2, 2, |n: u64| Ok(n))
        .stage(3, 16, move |n: u64| {
            if f.fetch_add(1, Ordering::SeqCst) == 0 {
                g.wait();
            } else {
                d.arrive();
            }
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    let producer = thread::spawn(move || {
        for n in 0..13 {
            input.send(n).expect("a running pipeline accepts items");
        }
    });
    // Hangs on a pipeline that deals items to workers in turn: the held worker's next item
    // waits for it, and so does everything behind.
    done.wait_for(12);
    gate.open();
    producer.join().expect("producer thread");
    let got: Vec<u64> = output.map(|r| r.unwrap()).collect();
    check::each_exactly_once("item", &got, 13);
}

pub fn last_worker_closes_the_link() {
    // Stage 0 has 2 workers. Item 0 is held until the OTHER worker's thread has exited after
    // the input was closed; only then may it finish. Its output must still come out: a link
    // closes when the stage's last worker is done, not its first.
    let release = Gate::new();
    let started = Arrivals::new();
    let (r, s) = (release.clone(), started.clone());
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(2)
        .stage(2, 2, move |n: u64| {
            if n == 0 {
                s.arrive();
                r.wait();
            } else {
                // The other worker (item 0's is busy): when its thread exits, item 0 goes on.
                gate::open_on_thread_exit(&r);
            }
            Ok(n)
        })
        .stage(1, 2, |n: u64| Ok(n * 10))
        .build()
        .expect("a valid pipeline");
    let _release = release.open_on_drop();
    input.send(0).expect("a running pipeline accepts items");
    started.wait_for(1);
    input.send(1).expect("a running pipeline accepts items");
    input.close();
    let mut got: Vec<u64> = output.by_ref().map(|r| r.unwrap()).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![0, 10],
        "item 0 finished stage 0 after the stage's other worker had exited, and its output \
         was lost: the link after stage 0 was closed when the FIRST worker finished. Give \
         every worker its own Sender clone of the next link and drop the original, so the \
         link closes when the last clone goes (Go's `wg.Wait(); close(out)`)."
    );
    let report = output.finish();
    assert_eq!((report.delivered, report.discarded), (2, 0));
}

// ---------------------------------------------------------------------------------------
// Bounded links

/// With nobody reading, exactly `sum(caps) + sum(workers)` items fit, and then the input is
/// full; afterwards every item comes out once (in order if ordered).
fn fills_to_exactly(caps: &[usize], workers: &[usize], ordered: bool) {
    let what = describe(caps, workers, ordered);
    let bound = (caps.iter().sum::<usize>() + workers.iter().sum::<usize>()) as u64;
    let (mut input, mut output) = identity_pipeline(caps, workers, ordered);
    // Blocking sends: each returns once there is room. If a link holds fewer items than its
    // capacity (or a worker cannot hold one), this hangs before `bound`.
    for n in 0..bound {
        input.send(n).expect("a running pipeline accepts items");
    }
    assert_eq!(
        input.try_send(bound),
        Err(InputError::Full(bound)),
        "{what}: nobody reads the output, and `send` has accepted {bound} items — every link \
         full and every worker holding one. The input must now be full: something holds more \
         than its stated capacity (an unbounded link? a capacity + 1? a dispatcher thread \
         holding an item of its own?)"
    );
    let got: Vec<u64> = output
        .by_ref()
        .take(bound as usize)
        .map(|r| r.unwrap())
        .collect();
    if ordered {
        let want: Vec<u64> = (0..bound).collect();
        assert_eq!(
            got, want,
            "{what}: items must come out in the order they were sent"
        );
    } else {
        check::each_exactly_once("item", &got, bound);
    }
    drop(input);
    assert!(
        output.next().is_none(),
        "{what}: every item came out and the input is closed: the output must end"
    );
}

pub fn links_fill_to_exactly_their_capacity() {
    fills_to_exactly(&[2, 3, 1], &[2, 3], false);
    fills_to_exactly(&[5, 0], &[4], false);
    fills_to_exactly(&[1, 0, 2, 0], &[3, 1, 2], false);
}

pub fn hand_off_links_hold_nothing() {
    // Capacity 0 everywhere: only the workers hold items.
    fills_to_exactly(&[0, 0, 0], &[1, 2], false);
    fills_to_exactly(&[0, 0], &[3], true);
}

pub fn ordered_links_fill_to_exactly_their_capacity() {
    fills_to_exactly(&[2, 3, 1], &[2, 3], true);
    fills_to_exactly(&[1, 0, 2, 0], &[3, 1, 2], true);
}

pub fn slow_last_stage_bounds_items_in_flight() {
    // The last stage's 2 workers are held at a gate, so its output link stays empty: what
    // fits is link 0 (2) + stage 0's workers (2) + link 1 (1) + stage 1's workers (2).
    let gate = Gate::new();
    let g = gate.clone();
    let (mut input, output) = Pipeline::<u64, _, ()>::new(2)
        .stage(2, 1, |n: u64| Ok(n))
        .stage(2, 3, move |n: u64| {
            g.wait();
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    for n in 0..7 {
        input.send(n).expect("a running pipeline accepts items");
    }
    assert_eq!(
        input.try_send(7),
        Err(InputError::Full(7)),
        "the last stage is stuck on its 2 items: link 0 (2 places), stage 0's 2 workers, link \
         1 (1 place) and stage 1's 2 workers hold 7 items, so the 8th must not get in. A slow \
         last stage must slow the whole pipeline down (backpressure), not pile items up."
    );
    gate.open();
    input.close();
    let got: Vec<u64> = output.map(|r| r.unwrap()).collect();
    check::each_exactly_once("item", &got, 7);
}

// ---------------------------------------------------------------------------------------
// Closing and streaming

pub fn closing_drains_every_stage() {
    // Stage 0's only worker is held on item 0 while 19 more wait in link 0; the input is
    // closed before the gate opens. All 20 must still go through all three stages.
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(32)
        .stage(1, 1, move |n: u64| {
            if n == 0 {
                s.arrive();
                g.wait();
            }
            Ok(n + 1)
        })
        .stage(3, 0, |n: u64| Ok(uneven_work(n) * 2))
        .stage(2, 2, |n: u64| Ok(n - 2))
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    for n in 0..20 {
        input.send(n).expect("a running pipeline accepts items");
    }
    started.wait_for(1);
    input.close();
    gate.open();
    let got: Vec<u64> = output.by_ref().map(|r| r.unwrap()).collect();
    let halves: Vec<u64> = got.iter().map(|n| n / 2).collect();
    check::each_exactly_once("item", &halves, 20);
    assert!(
        got.iter().all(|n| n % 2 == 0),
        "every item must go through every stage"
    );
    assert!(
        output.next().is_none(),
        "an ended output stays ended: next keeps returning None"
    );
    assert_eq!(
        output.finish(),
        Report {
            delivered: 20,
            discarded: 0,
            failure: None
        },
        "a run that ended normally delivered everything and discarded nothing"
    );
}

pub fn output_streams_as_items_finish() {
    let gate = Gate::new();
    let g = gate.clone();
    let (mut input, mut output) = Pipeline::<u64, _, ()>::new(2)
        .stage(2, 2, move |n: u64| {
            if n == 1 {
                g.wait();
            }
            Ok(n * 3)
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    input.send(0).expect("a running pipeline accepts items");
    input.send(1).expect("a running pipeline accepts items");
    // Item 1 cannot finish until the gate opens: this must not wait for it.
    assert_eq!(
        output.next().map(|r| r.unwrap()),
        Some(0),
        "item 1 is still in stage 0, so the first output can only be item 0's, and it must \
         come out while item 1 is still being processed"
    );
    gate.open();
    assert_eq!(output.next().map(|r| r.unwrap()), Some(3));
    drop(input);
    assert!(
        output.next().is_none(),
        "closed and drained: the output ends"
    );
}

// ---------------------------------------------------------------------------------------
// Order

pub fn ordered_many_items() {
    let seen_by_single_worker = log();
    let seen = Arc::clone(&seen_by_single_worker);
    let (mut input, output) = Pipeline::<u64, _, &'static str>::new(4)
        .stage(3, 2, |n: u64| Ok(uneven_work(n)))
        .stage(1, 0, move |n: u64| {
            seen.lock().unwrap().push(n);
            Ok(n)
        })
        .stage(4, 3, |n: u64| Ok(uneven_work(n + 1) - 1))
        .stage(2, 1, |n: u64| Ok(n * 2))
        .ordered()
        .build()
        .expect("a valid pipeline");
    let producer = thread::spawn(move || {
        for n in 0..300 {
            input.send(n).expect("a running pipeline accepts items");
        }
    });
    let got: Vec<u64> = output.map(|r| r.unwrap() / 2).collect();
    producer.join().expect("producer thread");
    let want: Vec<u64> = (0..300).collect();
    assert_eq!(
        got, want,
        "an ordered pipeline (stages of 3, 1, 4 and 2 workers, items of uneven length) must \
         deliver items in the order they were sent. Reorder at each stage's fan-in: a worker \
         that finished an item early waits until the items ahead of it have gone on."
    );
    assert_eq!(
        logged(&seen_by_single_worker),
        want,
        "in an ordered pipeline items enter EVERY link in input order: the single worker of \
         stage 1 received them out of order from stage 0's three workers"
    );
}

pub fn ordered_despite_a_slow_first_item() {
    // Item 0 finishes only after stage 0's other worker has finished item 1.
    let item1_done = Arrivals::new();
    let a = item1_done.clone();
    let (mut input, output) = Pipeline::<u64, _, ()>::new(4)
        .stage(2, 4, move |n: u64| {
            if n == 0 {
                a.wait_for(1);
            }
            if n == 1 {
                a.arrive();
            }
            Ok(n)
        })
        .ordered()
        .build()
        .expect("a valid pipeline");
    for n in 0..4 {
        input.send(n).expect("a running pipeline accepts items");
    }
    input.close();
    let got: Vec<u64> = output.map(|r| r.unwrap()).collect();
    assert_eq!(
        got,
        vec![0, 1, 2, 3],
        "ordered mode: item 1 finished before item 0, but item 0 must still come out first"
    );
}

// ---------------------------------------------------------------------------------------
// Early exit

pub fn dropping_the_output_stops_every_stage() {
    let panics = testkit::count_unplanned_panics();
    let exits = ThreadExits::new();
    let (gate0, gate1) = (Gate::new(), Gate::new());
    let (at0, at1) = (Arrivals::new(), Arrivals::new());
    let (ran0, ran1) = (log(), log());
    let (e0, g0, a0, l0) = (exits.clone(), gate0.clone(), at0.clone(), Arc::clone(&ran0));
    let (e1, g1, a1, l1) = (exits.clone(), gate1.clone(), at1.clone(), Arc::clone(&ran1));
    let (mut input, output) = Pipeline::<u64, _, &'static str>::new(6)
        .stage(1, 2, move |n: u64| {
            e0.enlist();
            l0.lock().unwrap().push(n);
            if n == 3 {
                a0.arrive();
                g0.wait();
            }
            Ok(n)
        })
        .stage(2, 2, move |n: u64| {
            e1.enlist();
            l1.lock().unwrap().push(n);
            a1.arrive();
            g1.wait();
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    let _release = (gate0.open_on_drop(), gate1.open_on_drop());
    for n in 0..10 {
        input.send(n).expect("a running pipeline accepts items");
    }
    // Stage 1's two workers hold items 0 and 1, item 2 waits in link 1, stage 0's worker
    // holds item 3, and items 4..=9 fill link 0.
    at1.wait_for(2);
    at0.wait_for(1);
    let consumer = thread::spawn(move || drop(output));
    let accepted_late = send_until_stopped(&mut input, 99);
    // The stop has been seen; now let the held items finish.
    gate0.open();
    gate1.open();
    consumer.join().expect("the consumer's thread");
    assert_eq!(
        accepted_late, 0,
        "link 0 was full until the stop: nothing more could get in"
    );
    // Stage 1's two workers may have logged items 0 and 1 in either order.
    let mut ran1 = logged(&ran1);
    ran1.sort_unstable();
    assert_eq!(
        (logged(&ran0), ran1),
        (vec![0, 1, 2, 3], vec![0, 1]),
        "after the consumer dropped the output, a stage ran an item that was still waiting \
         in a link (stage 0 had run 0..=3 and stage 1 items 0 and 1 when the output was \
         dropped). After the stop, a worker that takes an item must drop it unprocessed: \
         check the stop flag before calling the stage function."
    );
    assert_eq!(
        exits.exited(),
        exits.enlisted(),
        "dropping the output returned while a worker thread was still running: join every \
         worker in Output's Drop"
    );
    assert_eq!(
        input.send(5),
        Err(5),
        "the consumer has left: send must hand the item back"
    );
    assert_eq!(
        input.try_send(6),
        Err(InputError::Stopped(6)),
        "the consumer has left: try_send hands the item back as Stopped"
    );
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "a thread panicked after the consumer dropped the output — most likely a worker's \
         `send(..).unwrap()`. A stop is not an error: no thread may panic because of it."
    );
}

pub fn idle_pipeline_drop_joins_every_worker() {
    let panics = testkit::count_unplanned_panics();
    let probe = Arc::new(());
    let (p0, p1, p2) = (Arc::clone(&probe), Arc::clone(&probe), Arc::clone(&probe));
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(1)
        .stage(2, 1, move |n: u64| {
            let _ = &p0;
            Ok(n)
        })
        .stage(3, 0, move |n: u64| {
            let _ = &p1;
            Ok(n)
        })
        .stage(1, 2, move |n: u64| {
            let _ = &p2;
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    input.send(7).expect("a running pipeline accepts items");
    assert_eq!(output.next().map(|r| r.unwrap()), Some(7));
    // Every worker now waits for an item, and the input is still open. Dropping the output
    // must wake them all, stop them and join them (this hangs if they are never woken).
    drop(output);
    assert_probe_released(&probe, "after the output was dropped");
    assert_eq!(
        input.try_send(8),
        Err(InputError::Stopped(8)),
        "the consumer has left: try_send hands the item back as Stopped"
    );
    assert_eq!(
        input.send(9),
        Err(9),
        "the consumer has left: send hands the item back"
    );
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "no thread may panic on a stop"
    );
}

pub fn waiting_sender_wakes_when_the_consumer_leaves() {
    let probe = Arc::new(());
    let p = Arc::clone(&probe);
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(1)
        .stage(2, 1, move |n: u64| {
            let _ = &p;
            Ok(n)
        })
        .stage(1, 1, |n: u64| Ok(n))
        .build()
        .expect("a valid pipeline");
    // The producer sends until the pipeline hands an item back; most of the time it waits on
    // a full link 0. It must not wait for ever once the consumer has left.
    let producer = thread::spawn(move || {
        let mut accepted = 0;
        while input.send(accepted).is_ok() {
            accepted += 1;
        }
        accepted
    });
    // Stage 1 has two workers, so the first three out need not be items 0, 1 and 2.
    let mut first: Vec<u64> = output.by_ref().take(3).map(|r| r.unwrap()).collect();
    first.sort_unstable();
    first.dedup();
    assert_eq!(
        first.len(),
        3,
        "3 items taken from the output must be 3 different items (each accepted item comes \
         out at most once)"
    );
    let report = output.finish();
    let accepted = producer.join().expect("producer thread");
    assert!(
        first.iter().all(|&n| n < accepted),
        "the output gave {first:?}, but only items 0..{accepted} were ever accepted"
    );
    assert_eq!(report.delivered, 3, "3 items were taken before finish");
    assert_eq!(report.failure, None, "nothing failed");
    assert_accounted(accepted, &report, 0, "after finish() stopped the pipeline");
    assert_probe_released(&probe, "after finish returned");
}

pub fn finish_counts_what_it_discards() {
    // Nobody reads: 9 items fill the pipeline. finish() must stop it and count all 9 as
    // discarded — including those in the last link, which only the consumer's side can
    // empty (joining before draining it waits for ever on a worker blocked in `send`).
    let (caps, workers) = ([2, 1, 3], [2, 1]);
    let (mut input, output) = identity_pipeline(&caps, &workers, false);
    for n in 0..9 {
        input.send(n).expect("a running pipeline accepts items");
    }
    let report = output.finish();
    assert_eq!(
        report,
        Report {
            delivered: 0,
            discarded: 9,
            failure: None
        },
        "finish before the end, with 9 items in the pipeline and none delivered: all 9 are \
         discarded, and each must be counted exactly once"
    );
    assert_eq!(input.send(9), Err(9), "after finish, send hands items back");
}

// ---------------------------------------------------------------------------------------
// Errors

pub fn failure_reports_stage_and_seq() {
    let panics = testkit::count_unplanned_panics();
    let probe = Arc::new(());
    let p = Arc::clone(&probe);
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(2)
        .stage(2, 2, |n: u64| Ok(uneven_work(n)))
        .stage(3, 1, move |n: u64| {
            let _ = &p;
            if n == 7 {
                Err("seven is not allowed")
            } else {
                Ok(n)
            }
        })
        .stage(2, 2, |n: u64| Ok(n + 100))
        .ordered()
        .build()
        .expect("a valid pipeline");
    let producer = thread::spawn(move || {
        let mut accepted = 0;
        while accepted < 40 && input.send(accepted).is_ok() {
            accepted += 1;
        }
        (accepted, input)
    });
    let mut delivered = Vec::new();
    let failure = loop {
        match output.next() {
            Some(Ok(n)) => delivered.push(n - 100),
            Some(Err(failure)) => break failure,
            None => panic!(
                "stage 1 failed on item 7, but the output ended without reporting the \
                 failure (after items {delivered:?}): `next` must return Some(Err(failure)) \
                 once before None"
            ),
        }
    };
    assert_eq!(
        failure,
        Failure {
            stage: 1,
            seq: 7,
            error: StageError::Failed("seven is not allowed")
        },
        "the failure must name the failing stage (1: the second stage added), the sequence \
         number of the input item it came from (7: the 8th item sent) and the error"
    );
    let prefix: Vec<u64> = (0..delivered.len() as u64).collect();
    assert!(
        delivered == prefix && delivered.len() <= 7,
        "ordered pipeline failing on item 7: what came out before the failure must be items \
         0, 1, 2, … in order and never an item after 7; got {delivered:?}"
    );
    assert!(output.next().is_none(), "after the failure the output ends");
    assert!(output.next().is_none(), "an ended output stays ended");
    let report = output.finish();
    assert_eq!(
        report.failure, None,
        "next already returned the failure: finish must not report it a second time"
    );
    assert_eq!(report.delivered, delivered.len() as u64);
    let (accepted, mut input) = producer.join().expect("producer thread");
    assert_accounted(accepted, &report, 1, "after a failure");
    assert_probe_released(&probe, "after a failure and finish");
    assert_eq!(input.send(1), Err(1), "a failed pipeline hands items back");
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "no thread may panic on a failure"
    );
}

pub fn failure_leaves_queued_items_unrun() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let ran0 = log();
    let ran1 = log();
    let (g, s, l0, l1) = (
        gate.clone(),
        started.clone(),
        Arc::clone(&ran0),
        Arc::clone(&ran1),
    );
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(8)
        .stage(1, 4, move |n: u64| {
            l0.lock().unwrap().push(n);
            if n == 0 {
                s.arrive();
                g.wait();
                return Err("item 0 failed");
            }
            Ok(n)
        })
        .stage(2, 4, move |n: u64| {
            l1.lock().unwrap().push(n);
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    input.send(0).expect("a running pipeline accepts items");
    started.wait_for(1);
    for n in 1..6 {
        input.send(n).expect("a running pipeline accepts items");
    }
    gate.open(); // item 0 fails while items 1..=5 wait in link 0
    assert_eq!(
        output.next(),
        Some(Err(Failure {
            stage: 0,
            seq: 0,
            error: StageError::Failed("item 0 failed")
        }))
    );
    assert_eq!(output.next(), None, "after the failure the output ends");
    assert_eq!(
        (logged(&ran0), logged(&ran1)),
        (vec![0], vec![]),
        "items 1..=5 were waiting in link 0 when stage 0 failed on item 0, and a stage ran \
         them anyway, for nobody. A failure stops the pipeline: after the stop, items taken \
         from a link are dropped unprocessed."
    );
    let report = output.finish();
    assert_eq!(
        report,
        Report {
            delivered: 0,
            discarded: 5,
            failure: None
        },
        "5 items were left behind by the failure: counted as discarded"
    );
    assert_eq!(input.send(6), Err(6), "a failed pipeline hands items back");
}

pub fn failure_stops_stages_upstream_and_downstream() {
    // Stage 1 fails on the only item while the input stays open: stage 0's workers are
    // waiting for an item that never comes, stage 2's for stage 1. All must stop.
    let probe = Arc::new(());
    let (p0, p2) = (Arc::clone(&probe), Arc::clone(&probe));
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(2)
        .stage(2, 2, move |n: u64| {
            let _ = &p0;
            Ok(n)
        })
        .stage(2, 2, |_: u64| Err::<u64, _>("stage 1 refuses everything"))
        .stage(2, 2, move |n: u64| {
            let _ = &p2;
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    input.send(0).expect("a running pipeline accepts items");
    // Hangs if the failure stopped only stage 1: the output waits for stage 2, which waits
    // for stage 1's link, which stays open while stage 0's workers wait on the open input.
    assert_eq!(
        output.next(),
        Some(Err(Failure {
            stage: 1,
            seq: 0,
            error: StageError::Failed("stage 1 refuses everything")
        }))
    );
    assert_eq!(output.next(), None);
    let report = output.finish();
    assert_eq!((report.delivered, report.discarded), (0, 0));
    assert_probe_released(&probe, "after a failure and finish");
    assert_eq!(
        input.try_send(1),
        Err(InputError::Stopped(1)),
        "a failed pipeline hands items back as Stopped, even while its Input is still open"
    );
}

fn panicking_run(
    stage2: impl Fn(u64) -> Result<u64, &'static str> + Send + Sync + 'static,
) -> Failure<&'static str> {
    let probe = Arc::new(());
    let p = Arc::clone(&probe);
    let (mut input, output) = Pipeline::<u64, _, &'static str>::new(4)
        .stage(2, 1, |n: u64| Ok(n))
        .stage(1, 1, |n: u64| Ok(n))
        .stage(2, 2, move |n: u64| {
            let _ = &p;
            stage2(n)
        })
        .build()
        .expect("a valid pipeline");
    let producer = thread::spawn(move || {
        for n in 0..6 {
            if input.send(n).is_err() {
                break;
            }
        }
    });
    let mut failures = Vec::new();
    for r in output {
        if let Err(f) = r {
            failures.push(f);
        }
    }
    producer.join().expect("producer thread");
    assert_probe_released(&probe, "after a stage panicked and the output was dropped");
    assert_eq!(
        failures.len(),
        1,
        "a stage function panicked on item 2: the output must report exactly one failure \
         (catch the panic in the worker — `std::panic::catch_unwind` — and treat it as the \
         stage failing), got {failures:?}"
    );
    failures.remove(0)
}

pub fn panics_are_failures() {
    let panics = testkit::count_unplanned_panics();
    let failure = panicking_run(|n| {
        if n == 2 {
            testkit::panic_on_purpose("stage 2 gave up");
        }
        Ok(n)
    });
    assert_eq!(
        failure,
        Failure {
            stage: 2,
            seq: 2,
            error: StageError::Panicked("stage 2 gave up".to_string())
        },
        "a panic with a &str payload: Panicked(its message), with the stage and item"
    );
    let failure = panicking_run(|n| {
        if n == 2 {
            testkit::panic_on_purpose_with_string(format!("item {n} broke stage 2"));
        }
        Ok(n)
    });
    assert_eq!(
        failure.error,
        StageError::Panicked("item 2 broke stage 2".to_string()),
        "a panic with a String payload (what `panic!(\"{{x}}\")` makes): Panicked(its message)"
    );
    let failure = panicking_run(|n| {
        if n == 2 {
            testkit::panic_on_purpose_with_payload(testkit::DeliberatePayload(2));
        }
        Ok(n)
    });
    assert_eq!(
        failure.error,
        StageError::Panicked(NON_TEXT_PANIC.to_string()),
        "a panic whose payload is not text: Panicked(NON_TEXT_PANIC)"
    );
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "no other thread may panic"
    );
}

pub fn first_failure_wins() {
    // Stage 0 has 2 workers: item 1 fails at once; item 0 fails too, but only after the
    // pipeline has visibly stopped. Only the first failure is reported.
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(1)
        .stage(2, 2, move |n: u64| {
            if n == 0 {
                s.arrive();
                g.wait();
                return Err::<u64, _>("item 0 failed second");
            }
            Err("item 1 failed first")
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    input.send(0).expect("a running pipeline accepts items");
    started.wait_for(1);
    input.send(1).expect("a running pipeline accepts items");
    let late = send_until_stopped(&mut input, 9);
    gate.open();
    assert_eq!(
        output.next(),
        Some(Err(Failure {
            stage: 0,
            seq: 1,
            error: StageError::Failed("item 1 failed first")
        })),
        "item 1 failed first, and item 0 only after the pipeline had stopped: the FIRST \
         failure is the one reported (keep it; do not overwrite it with later ones)"
    );
    assert_eq!(output.next(), None, "one failure is reported, once");
    let report = output.finish();
    assert_eq!(report.failure, None, "next already returned the failure");
    assert_accounted(
        2 + late,
        &report,
        1,
        "two failures, the second after the stop",
    );
}

pub fn failure_waits_for_every_stage_then_discards_late_items() {
    // One stage of 2 workers: item 1 fails at once; item 0 is held until the stop has been
    // seen, then succeeds — its output reaches the last link AFTER the failure.
    let gate = Gate::new();
    let started = Arrivals::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let (g, s, f) = (gate.clone(), started.clone(), Arc::clone(&finished));
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(1)
        .stage(2, 2, move |n: u64| {
            if n == 1 {
                return Err("item 1 failed");
            }
            if n == 0 {
                s.arrive();
                g.wait();
                f.store(1, Ordering::SeqCst);
            }
            Ok(n)
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    input.send(0).expect("a running pipeline accepts items");
    started.wait_for(1);
    input.send(1).expect("a running pipeline accepts items");
    let opener = {
        let gate = gate.clone();
        thread::spawn(move || {
            let late = send_until_stopped(&mut input, 7);
            gate.open();
            late
        })
    };
    let first = output.next();
    let item0_done = finished.load(Ordering::SeqCst) == 1;
    assert_eq!(
        first,
        Some(Err(Failure {
            stage: 0,
            seq: 1,
            error: StageError::Failed("item 1 failed")
        })),
        "item 0's output reached the output only after item 1 had failed: `next` must not \
         hand it out (items that arrive after the failure are discarded), but report the \
         failure"
    );
    assert!(
        item0_done,
        "`next` reported the failure while item 0 was still inside stage 0: it must wait \
         until every stage has stopped (every link before it has closed)"
    );
    assert_eq!(output.next(), None);
    let late = opener.join().expect("the gate opener's thread");
    let report = output.finish();
    assert_eq!(report.delivered, 0, "nothing came out before the failure");
    assert_accounted(2 + late, &report, 1, "an item finished after the failure");
}

pub fn unread_failure_comes_with_the_report() {
    let (mut input, output) = Pipeline::<u64, _, &'static str>::new(1)
        .stage(1, 1, |_: u64| Err::<u64, _>("no"))
        .stage(1, 1, |n: u64| Ok(n))
        .build()
        .expect("a valid pipeline");
    input.send(3).expect("a running pipeline accepts items");
    // Wait until the failure has stopped the pipeline, then finish without reading.
    let late = send_until_stopped(&mut input, 4);
    let report = output.finish();
    assert_eq!(
        report.failure,
        Some(Failure {
            stage: 0,
            seq: 0,
            error: StageError::Failed("no")
        }),
        "the consumer never read the failure, so finish must report it: a failure is \
         reported exactly once, by next or by finish"
    );
    assert_accounted(1 + late, &report, 1, "a failure nobody read");
}

pub fn refused_items_get_no_sequence_number() {
    let gate = Gate::new();
    let started = Arrivals::new();
    let (g, s) = (gate.clone(), started.clone());
    let (mut input, mut output) = Pipeline::<u64, _, &'static str>::new(1)
        .stage(1, 4, move |n: u64| {
            if n == 10 {
                s.arrive();
                g.wait();
            }
            if n == 12 { Err("twelve") } else { Ok(n) }
        })
        .build()
        .expect("a valid pipeline");
    let _release = gate.open_on_drop();
    input.send(10).expect("seq 0");
    started.wait_for(1);
    assert_eq!(input.try_send(11), Ok(()), "seq 1 fills link 0");
    let refused = input.try_send(12);
    assert_eq!(refused, Err(InputError::Full(12)), "link 0 is full");
    assert_eq!(
        refused.unwrap_err().into_inner(),
        12,
        "into_inner gives the item back"
    );
    assert_eq!(InputError::Stopped(5).into_inner(), 5);
    gate.open();
    input
        .send(12)
        .expect("seq 2: room again once the worker moves on");
    let failure = output
        .by_ref()
        .find_map(|r| r.err())
        .expect("stage 0 fails on item 12");
    assert_eq!(
        failure.seq, 2,
        "item 12 was the third item `send` ACCEPTED (10, 11, then 12; the try_send that was \
         refused as Full does not count), so its sequence number is 2. Give an item its \
         number only once it is in."
    );
}

pub fn zero_workers_rejected() {
    let built = Pipeline::<u8, _, ()>::new(1)
        .stage(0, 1, |n: u8| Ok(n))
        .build();
    assert_eq!(
        built.err(),
        Some(BuildError::NoWorkers { stage: 0 }),
        "a stage with no workers is an error"
    );
    let built = Pipeline::<u8, _, ()>::new(1)
        .stage(1, 1, |n: u8| Ok(n))
        .stage(2, 0, |n: u8| Ok(u16::from(n)))
        .stage(0, 1, |n: u16| Ok(n))
        .stage(3, 1, |n: u16| Ok(n))
        .stage(0, 1, |n: u16| Ok(n))
        .build();
    assert_eq!(
        built.err(),
        Some(BuildError::NoWorkers { stage: 2 }),
        "stages 2 and 4 have no workers: build names the first (lowest index)"
    );
    assert_eq!(
        BuildError::NoWorkers { stage: 2 }.to_string(),
        "stage 2 has no workers"
    );
}
