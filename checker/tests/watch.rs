//! Watch mode, driven through a real pseudo-terminal and read back as a screen (`vt100`):
//! start it, solve an exercise by editing its file, accept the move to the next one, ask for a
//! hint, quit — and the terminal is left as it was found.

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

mod support;
use support::root;

/// The terminal's screen, updated by a reader thread.
struct Screen {
    state: Arc<(Mutex<(vt100::Parser, bool)>, Condvar)>,
}

impl Screen {
    fn contents(&self) -> String {
        self.state.0.lock().unwrap().0.screen().contents()
    }

    /// Waits (on the reader's notifications, not a sleep) until the screen shows `text`.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + limit;
        let mut guard = lock.lock().unwrap();
        loop {
            let screen = guard.0.screen().contents();
            if screen.contains(text) {
                return screen;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero() && !guard.1,
                "the screen never showed {text:?}; it shows:\n{screen}"
            );
            guard = cv.wait_timeout(guard, left).unwrap().0;
        }
    }
}

#[test]
fn watch_mode_follows_edits_and_keys() {
    let dir = root().join("target/checker-tests/watch/exercises");
    let _ = std::fs::remove_dir_all(&dir);
    support::pristine_exercises(&dir);

    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 60,
            cols: 140,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_checker"));
    cmd.args(["watch", "--exercises"]);
    cmd.arg(&dir);
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let state = Arc::new((
        Mutex::new((vt100::Parser::new(60, 140, 0), false)),
        Condvar::new(),
    ));
    let feed = Arc::clone(&state);
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = reader.read(&mut buf).unwrap_or(0);
            let (lock, cv) = &*feed;
            let mut guard = lock.lock().unwrap();
            if n == 0 {
                guard.1 = true;
                cv.notify_all();
                return;
            }
            guard.0.process(&buf[..n]);
            cv.notify_all();
        }
    });
    let screen = Screen { state };
    let long = Duration::from_secs(600);

    // It starts on the first exercise that does not pass, and shows its check.
    screen.wait_for("Exercise 1 · basic", long);
    screen.wait_for("Score:", long);
    assert!(
        screen.contents().contains("0/10 exercises pass")
            || screen.contents().contains("exercises pass")
    );

    // Solving it in the editor re-checks it on save, and offers the next exercise.
    std::fs::copy(
        root().join("solutions/01-basic/src/lib.rs"),
        dir.join("01-basic/src/lib.rs"),
    )
    .unwrap();
    screen.wait_for("Exercise 1 passes!", long);
    writer.write_all(b"y").unwrap();
    screen.wait_for("Exercise 2 · buffered", long);
    screen.wait_for("Score:", long);

    // A hint, then quit. Hints are remembered per exercise between runs, so this is the next
    // one, whichever that is.
    writer.write_all(b"h").unwrap();
    let hinted = screen.wait_for("Hint ", long);
    assert!(
        hinted
            .lines()
            .any(|l| l.starts_with("Hint ") && l.contains(" of ")),
        "{hinted}"
    );
    writer.write_all(b"q").unwrap();
    let shown = screen.wait_for("Bye.", long);
    let status = child.wait().unwrap();
    assert!(status.success(), "watch ended with {status:?}\n{shown}");
    drop(writer);
    let _ = reading.join();
}
