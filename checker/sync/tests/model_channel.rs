//! The model-checked channel, checked two ways (run with `--features loom --release`):
//! scripted single-threaded operations give the same answers as crossbeam-channel, and loom
//! models of the blocking behaviour that worker pools rely on.
#![cfg(all(feature = "loom", workbook_loom))]

use loom::model::Builder;
use workbook_sync::channel::{self, TryRecvError, TrySendError};
use workbook_sync::{Arc, thread};

fn bounded_model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// One scripted step, applied identically to both implementations.
#[derive(Clone, Copy, Debug)]
enum Op {
    TrySend(u32),
    TryRecv,
    Len,
    DropSender,
    DropReceiver,
}

macro_rules! run_script {
    ($tx:expr, $rx:expr, $script:expr) => {{
        let (mut tx, mut rx) = (Some($tx), Some($rx));
        let mut log = Vec::new();
        for op in $script {
            let line = match *op {
                Op::TrySend(n) => match tx.as_ref().map(|tx| tx.try_send(n)) {
                    Some(Ok(())) => "sent".to_string(),
                    Some(Err(TrySendError::Full(v))) => format!("full({v})"),
                    Some(Err(TrySendError::Disconnected(v))) => format!("disconnected({v})"),
                    None => "no sender".to_string(),
                },
                Op::TryRecv => match rx.as_ref().map(|rx| rx.try_recv()) {
                    Some(Ok(v)) => format!("got({v})"),
                    Some(Err(TryRecvError::Empty)) => "empty".to_string(),
                    Some(Err(TryRecvError::Disconnected)) => "disconnected".to_string(),
                    None => "no receiver".to_string(),
                },
                // len, is_empty and is_full, from whichever end is left.
                Op::Len => format!(
                    "len {:?}",
                    tx.as_ref()
                        .map(|t| (t.len(), t.is_empty(), t.is_full()))
                        .or(rx.as_ref().map(|r| (r.len(), r.is_empty(), r.is_full())))
                ),
                Op::DropSender => {
                    tx = None;
                    "dropped sender".to_string()
                }
                Op::DropReceiver => {
                    rx = None;
                    "dropped receiver".to_string()
                }
            };
            log.push(line);
        }
        log
    }};
}

const SCRIPTS: &[&[Op]] = &[
    &[
        Op::TrySend(1),
        Op::TrySend(2),
        Op::TrySend(3),
        Op::Len,
        Op::TryRecv,
        Op::TrySend(4),
        Op::TryRecv,
        Op::TryRecv,
        Op::TryRecv,
    ],
    &[Op::TrySend(1), Op::DropSender, Op::TryRecv, Op::TryRecv],
    &[Op::TrySend(1), Op::DropReceiver, Op::TrySend(2)],
    &[Op::TryRecv, Op::DropSender, Op::TryRecv, Op::Len],
    &[Op::Len, Op::TrySend(1), Op::Len, Op::TrySend(2), Op::Len],
];

#[test]
fn scripted_operations_match_crossbeam() {
    for cap in [None, Some(0), Some(1), Some(2)] {
        for script in SCRIPTS {
            let expected = match cap {
                None => {
                    let (tx, rx) = crossbeam_channel::unbounded();
                    run_script!(tx, rx, *script)
                }
                Some(c) => {
                    let (tx, rx) = crossbeam_channel::bounded(c);
                    run_script!(tx, rx, *script)
                }
            };
            let script = *script;
            let actual = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let out = std::sync::Arc::clone(&actual);
            loom::model(move || {
                let log = match cap {
                    None => {
                        let (tx, rx) = channel::unbounded();
                        run_script!(tx, rx, script)
                    }
                    Some(c) => {
                        let (tx, rx) = channel::bounded(c);
                        run_script!(tx, rx, script)
                    }
                };
                *out.lock().unwrap() = log;
            });
            let actual = actual.lock().unwrap().clone();
            pretty_assertions::assert_eq!(actual, expected, "capacity {cap:?}, script {script:?}");
        }
    }
}

/// Two receivers blocked on an empty channel both wake when the last sender goes.
/// (A `notify_one` on disconnect leaves one of them asleep: loom reports a deadlock.)
#[test]
fn disconnect_wakes_every_blocked_receiver() {
    bounded_model(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        let rx2 = rx.clone();
        let a = thread::spawn(move || rx.recv().is_err());
        let b = thread::spawn(move || rx2.recv().is_err());
        drop(tx);
        assert!(a.join().unwrap());
        assert!(b.join().unwrap());
    });
}

/// A full bounded channel blocks the sender until a receiver makes room; nothing is lost
/// or duplicated, and order is kept.
#[test]
fn bounded_backpressure_loses_nothing() {
    bounded_model(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let producer = thread::spawn(move || {
            for n in 0..3 {
                tx.send(n).unwrap();
            }
        });
        let got: Vec<u32> = rx.iter().collect();
        producer.join().unwrap();
        assert_eq!(got, vec![0, 1, 2]);
    });
}

/// A rendezvous send completes only once a receiver has the message.
#[test]
fn rendezvous_hands_over_directly() {
    bounded_model(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let taken = Arc::new(workbook_sync::atomic::AtomicBool::new(false));
        let consumer = {
            let taken = Arc::clone(&taken);
            thread::spawn(move || {
                let v = rx.recv().unwrap();
                taken.store(true, workbook_sync::atomic::Ordering::SeqCst);
                v
            })
        };
        tx.send(7).unwrap();
        assert_eq!(consumer.join().unwrap(), 7);
        assert!(taken.load(workbook_sync::atomic::Ordering::SeqCst));
    });
}

/// Two consumers share the messages of two producers: every message arrives exactly once.
#[test]
fn multi_consumer_gets_every_message_once() {
    bounded_model(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let tx2 = tx.clone();
        let rx2 = rx.clone();
        let p = thread::spawn(move || tx2.send(1).unwrap());
        let c = thread::spawn(move || rx2.iter().collect::<Vec<_>>());
        tx.send(2).unwrap();
        drop(tx);
        p.join().unwrap();
        let mut all: Vec<u32> = rx.iter().collect();
        all.extend(c.join().unwrap());
        all.sort_unstable();
        assert_eq!(all, vec![1, 2]);
    });
}

/// A sender blocked on a full channel wakes and gets its message back when the last
/// receiver goes.
#[test]
fn receiver_drop_unblocks_a_waiting_sender() {
    bounded_model(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        tx.send(1).unwrap();
        let sender = thread::spawn(move || tx.send(2).map_err(|e| e.into_inner()));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(2));
    });
}
