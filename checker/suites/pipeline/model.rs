//! Hidden suite, exercise 10 (pipeline): loom models. Small on purpose (at most 2 workers in
//! all, at most 3 items, links of 0–1 places, at most 4 threads counting main): loom
//! explores every interleaving, so a bug found here is a bug in some real run. A panic on any
//! thread fails a model.

use pipeline::{Failure, InputError, Pipeline, Report, StageError};
use workbook_sync::{Arc, thread};

pub fn loom_close_drains_two_stages() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (mut input, mut output) = Pipeline::<u8, _, ()>::new(1)
            .stage(1, 1, move |n: u8| {
                let _ = &held;
                Ok(u16::from(n) + 1)
            })
            .stage(1, 1, |n: u16| Ok(n * 10))
            .build()
            .expect("a valid pipeline");
        for n in 0..3 {
            input.send(n).expect("a running pipeline accepts items");
        }
        input.close();
        let got: Vec<u16> = output
            .by_ref()
            .map(|r| r.expect("no stage fails"))
            .collect();
        assert_eq!(
            got,
            vec![10, 20, 30],
            "2 stages of 1 worker, 3 items, input closed: in some interleaving the output \
             gave {got:?}. Every item must go through both stages and come out once (a single \
             worker per stage keeps them in order); missing ones mean a stage stopped before \
             it had drained its link."
        );
        assert_eq!(
            output.finish(),
            Report {
                delivered: 3,
                discarded: 0,
                failure: None
            }
        );
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after finish a worker thread still holds its stage function"
        );
    });
}

pub fn loom_early_drop_stops_every_stage() {
    testkit::model(|| {
        let probe = Arc::new(());
        let (p0, p1) = (Arc::clone(&probe), Arc::clone(&probe));
        let (mut input, mut output) = Pipeline::<u8, _, ()>::new(1)
            .stage(1, 1, move |n: u8| {
                let _ = &p0;
                Ok(n)
            })
            .stage(1, 1, move |n: u8| {
                let _ = &p1;
                Ok(n)
            })
            .build()
            .expect("a valid pipeline");
        input.send(0).expect("a running pipeline accepts items");
        input.send(1).expect("a running pipeline accepts items");
        assert_eq!(output.next().map(|r| r.ok()), Some(Some(0)));
        // The consumer leaves early: item 1 may be in any link or stage, and the input is
        // still open, so stage 0's worker may be waiting for an item that never comes.
        drop(output);
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after the output was dropped a worker thread still holds its stage \
             function: dropping the output must stop every stage and join every worker"
        );
        assert_eq!(
            input.send(9),
            Err(9),
            "after the consumer left, send hands the item back"
        );
    });
}

pub fn loom_waiting_send_wakes_when_output_dropped() {
    testkit::model(|| {
        let (input, mut output) = Pipeline::<u8, _, ()>::new(1)
            .stage(1, 0, |n: u8| Ok(n))
            .build()
            .expect("a valid pipeline");
        // The producer sends until an item is handed back: it may be waiting on a full link
        // when the consumer leaves, and must not wait for ever.
        let producer = thread::spawn(move || {
            let mut input = input;
            let mut accepted = 0u8;
            while accepted < 4 && input.send(accepted).is_ok() {
                accepted += 1;
            }
            accepted
        });
        assert_eq!(output.next().map(|r| r.ok()), Some(Some(0)));
        let report = output.finish();
        let accepted = producer.join().expect("producer thread");
        assert_eq!(
            u64::from(accepted),
            report.delivered + report.discarded,
            "in some interleaving the producer's accepted items ({accepted}) were not all \
             delivered or counted as discarded ({report:?})"
        );
    });
}

pub fn loom_failure_stops_every_stage() {
    testkit::model(|| {
        let probe = Arc::new(());
        let held = Arc::clone(&probe);
        let (mut input, mut output) = Pipeline::<u8, _, &'static str>::new(1)
            .stage(1, 1, move |n: u8| {
                let _ = &held;
                Ok(n)
            })
            .stage(1, 1, |n: u8| if n == 0 { Err("zero") } else { Ok(n) })
            .build()
            .expect("a valid pipeline");
        input.send(0).expect("a running pipeline accepts items");
        let sent_second = input.send(1).is_ok();
        // The input stays open: stage 0's worker may be waiting for an item that never
        // comes. The failure must stop it anyway.
        assert_eq!(
            output.next(),
            Some(Err(Failure {
                stage: 1,
                seq: 0,
                error: StageError::Failed("zero")
            })),
            "stage 1 failed on item 0: the output must report it (a deadlock here means the \
             failure did not stop every stage)"
        );
        assert_eq!(output.next(), None, "after the failure the output ends");
        let report = output.finish();
        assert_eq!(
            (report.delivered, report.discarded, report.failure),
            (0, u64::from(sent_second), None),
            "the failed item is reported; the other accepted item is discarded"
        );
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "LEAK: after finish a worker thread still holds its stage function"
        );
        assert_eq!(
            input.try_send(2),
            Err(InputError::Stopped(2)),
            "a failed pipeline hands items back as Stopped"
        );
    });
}

pub fn loom_fan_in_waits_for_last_worker() {
    testkit::model(|| {
        let (mut input, output) = Pipeline::<u8, _, ()>::new(1)
            .stage(2, 1, |n: u8| Ok(n))
            .build()
            .expect("a valid pipeline");
        input.send(1).expect("a running pipeline accepts items");
        input.send(2).expect("a running pipeline accepts items");
        input.close();
        let mut got: Vec<u8> = output.map(|r| r.expect("no stage fails")).collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![1, 2],
            "one stage of 2 workers: in some interleaving the output ended after {got:?}. The \
             link after a stage must close when its LAST worker is done, not its first."
        );
    });
}

pub fn loom_ordered_fan_in() {
    testkit::model(|| {
        let (mut input, output) = Pipeline::<u8, _, ()>::new(1)
            .stage(2, 1, |n: u8| Ok(n))
            .ordered()
            .build()
            .expect("a valid pipeline");
        for n in 0..3 {
            input.send(n).expect("a running pipeline accepts items");
        }
        input.close();
        let got: Vec<u8> = output.map(|r| r.expect("no stage fails")).collect();
        assert_eq!(
            got,
            vec![0, 1, 2],
            "ordered pipeline, one stage of 2 workers: in some interleaving the output was \
             {got:?}. A worker that finishes an item before the items ahead of it have gone \
             on must wait for its turn before sending it."
        );
    });
}

pub fn loom_links_bound_items_in_flight() {
    testkit::model(|| {
        let (mut input, mut output) = Pipeline::<u8, _, ()>::new(1)
            .stage(1, 1, |n: u8| Ok(n))
            .build()
            .expect("a valid pipeline");
        // Link 0 (1) + the worker (1) + link 1 (1): 3 items fit while nobody reads.
        for n in 0..3 {
            input.send(n).expect("a running pipeline accepts items");
        }
        assert_eq!(
            input.try_send(3),
            Err(InputError::Full(3)),
            "links of 1 place and 1 worker, nobody reading, 3 items accepted: in some \
             interleaving a 4th got in. A link holds more than its capacity (unbounded?)."
        );
        assert_eq!(output.next().map(|r| r.ok()), Some(Some(0)));
        input.close();
        let rest: Vec<u8> = output.map(|r| r.expect("no stage fails")).collect();
        assert_eq!(rest, vec![1, 2]);
    });
}

pub fn loom_ordered_reorder_holds_no_extra_item() {
    testkit::model(|| {
        let (mut input, output) = Pipeline::<u8, _, ()>::new(0)
            .stage(2, 0, |n: u8| Ok(n))
            .ordered()
            .build()
            .expect("a valid pipeline");
        // Hand-off links: only the 2 workers hold items, whatever order they finish in.
        input.send(0).expect("a running pipeline accepts items");
        input.send(1).expect("a running pipeline accepts items");
        assert_eq!(
            input.try_send(2),
            Err(InputError::Full(2)),
            "ordered pipeline with hand-off links and 2 workers, nobody reading, 2 items \
             accepted: in some interleaving a 3rd got in. Reordering must not buffer items \
             beyond the workers' own hands: a worker whose item is not yet due waits with it."
        );
        input.close();
        let got: Vec<u8> = output.map(|r| r.expect("no stage fails")).collect();
        assert_eq!(got, vec![0, 1]);
    });
}
