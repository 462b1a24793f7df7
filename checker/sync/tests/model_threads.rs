//! The model-checked threads (run with `--features loom --release`): a panic the harness
//! declared deliberate ends its thread the std way, `join` returning `Err(payload)`; any other
//! panic still fails the model.
#![cfg(feature = "loom")]

use std::any::Any;

use loom::model::Builder;
use workbook_sync::atomic::{AtomicUsize, Ordering};
use workbook_sync::{Arc, thread};

const ON_PURPOSE: &str = "a job that panics on purpose";

fn on_purpose(payload: &(dyn Any + Send)) -> bool {
    payload.downcast_ref::<&str>() == Some(&ON_PURPOSE)
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    thread::catch_deliberate_panics(on_purpose);
    let mut builder = Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

#[test]
fn a_deliberate_panic_ends_only_its_thread() {
    model(|| {
        let done = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&done);
        let panicking = thread::spawn(|| -> u8 { std::panic::panic_any(ON_PURPOSE) });
        let healthy = thread::spawn(move || d.fetch_add(1, Ordering::SeqCst));
        let payload = panicking.join().expect_err("the thread panicked");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&ON_PURPOSE));
        healthy.join().expect("the other thread is unaffected");
        assert_eq!(done.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn builder_threads_catch_deliberate_panics_too() {
    model(|| {
        let handle = thread::Builder::new()
            .name("worker".to_string())
            .spawn(|| std::panic::panic_any(ON_PURPOSE))
            .expect("spawned");
        assert!(handle.join().is_err());
    });
}

#[test]
#[should_panic(expected = "not on purpose")]
fn any_other_panic_still_fails_the_model() {
    model(|| {
        let handle = thread::spawn(|| panic!("not on purpose"));
        let _ = handle.join();
    });
}
