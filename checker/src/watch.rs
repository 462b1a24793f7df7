//! `cargo checker watch`: the student's loop. It watches the exercise files (`notify`, with a
//! debouncer), re-checks the current exercise on save and shows its first failure the moment
//! it is known, then the rest; a progress bar over the exercises; keys for next exercise,
//! hint, list, check all, reset and quit; and, once an exercise passes, it offers the next.
//!
//! `--manual-run` is for file systems that send no events (network mounts, some containers):
//! Enter checks. Without it, a save that brought no event (the file's date moved, no event
//! came) suggests it. The terminal is put back on every way out: a key, Ctrl-C, an error or a
//! panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};

use crate::curriculum::Curriculum;
use crate::grade::{self, ExerciseStatus, GradeReport, Options};
use crate::paths::Paths;
use crate::report;

enum Event {
    Key(KeyEvent),
    /// A file of this exercise folder changed.
    Changed(String),
    /// A test of the running check finished.
    Test(grade::TestReport),
    /// The running check is over.
    Checked(Result<GradeReport, String>),
}

/// Raw mode while it lives; the terminal restored when it drops (and by the panic hook).
struct Terminal;

impl Terminal {
    fn enter() -> Result<Terminal> {
        terminal::enable_raw_mode()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        Ok(Terminal)
    }
}

fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(std::io::stdout(), cursor::Show);
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}

/// Writes text in raw mode (each line needs its carriage return).
fn show(text: &str) {
    let mut out = anstream::stdout();
    let _ = write!(out, "{}", text.replace('\n', "\r\n"));
    let _ = out.flush();
}

fn clear() {
    let _ = execute!(
        std::io::stdout(),
        terminal::Clear(terminal::ClearType::All),
        cursor::MoveTo(0, 0)
    );
}

struct App<'a> {
    paths: &'a Paths,
    curriculum: &'a Curriculum,
    dir: PathBuf,
    options: Options,
    manual: bool,
    tx: Sender<Event>,
    /// Index into the ready exercises.
    current: usize,
    /// The last status of each ready exercise.
    statuses: Vec<Option<ExerciseStatus>>,
    running: bool,
    /// A save arrived while a check was running: check again when it ends (its result is
    /// already out of date).
    again: bool,
    /// The newest modification time of the current exercise's sources when the running
    /// check started. Dates, not contents: reading the files would itself raise file events
    /// (inotify reports opens), and the watcher would chase its own reads.
    checked_at: Option<SystemTime>,
    /// The running check's first failure has been shown.
    first_failure_shown: bool,
    /// When the current exercise's files were last seen changed, and whether an event came.
    last_seen: Option<SystemTime>,
    /// What the last tick saw (for the no-file-events hint).
    tick_seen: Option<SystemTime>,
    event_since_change: bool,
    /// A question is open: what a `y` does.
    asking: Option<Question>,
}

#[derive(Clone, Copy)]
enum Question {
    MoveOn,
    Reset,
}

impl App<'_> {
    fn ready(&self) -> Vec<&crate::curriculum::Exercise> {
        self.curriculum
            .exercise
            .iter()
            .filter(|e| e.is_ready())
            .collect()
    }

    fn exercise(&self) -> &crate::curriculum::Exercise {
        self.ready()[self.current]
    }

    fn progress_bar(&self) -> String {
        let total = self.statuses.len();
        let done = self
            .statuses
            .iter()
            .filter(|s| **s == Some(ExerciseStatus::Passed))
            .count();
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(0);
        format!(
            "[{}{}] {done}/{total} exercises pass",
            "#".repeat(filled),
            "-".repeat(width - filled)
        )
    }

    fn header(&self) {
        clear();
        let ex = self.exercise();
        show(&format!(
            "\x1b[1mWorker pools in Rust — watch mode\x1b[0m  {}\nExercise {} · {} — {} (exercises/{}/src/lib.rs)\n\n",
            self.progress_bar(),
            ex.id,
            ex.slug,
            ex.title,
            ex.dir
        ));
    }

    fn keys_line(&self) {
        let run = if self.manual { "Enter check · " } else { "" };
        show(&format!(
            "\n\x1b[2m{run}n next · h hint · l list · c check all · r reset · q quit\x1b[0m\n"
        ));
    }

    /// Starts checking the current exercise in the background.
    /// A file event for the current exercise. Only a new modification date counts: inotify
    /// also reports opens, and the checker itself reads the sources it grades.
    fn on_change(&mut self) {
        let now = self.modified();
        if self.running {
            if now != self.checked_at {
                self.again = true;
            }
        } else if now != self.last_seen {
            self.check();
        }
    }

    fn check(&mut self) {
        if self.running {
            self.again = true;
            return;
        }
        self.running = true;
        self.checked_at = self.modified();
        self.first_failure_shown = false;
        self.header();
        show("checking …\n");
        let (paths, dir) = (self.paths.clone(), self.dir.clone());
        let slug = self.exercise().slug.clone();
        let tx = self.tx.clone();
        let (tests_tx, tests_rx) = mpsc::channel();
        let mut options = self.options.clone();
        options.listener = Some(tests_tx);
        let forward = self.tx.clone();
        std::thread::spawn(move || {
            for (_, t) in tests_rx {
                if forward.send(Event::Test(t)).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            // The checking thread reads its own copy of the curriculum (a few small files).
            let result = Curriculum::load(&paths.curriculum())
                .and_then(|c| grade::grade_dir(&paths, &c, &dir, Some(&slug), &options))
                .map_err(|e| format!("{e:#}"));
            let _ = tx.send(Event::Checked(result));
        });
    }

    fn on_test(&mut self, t: &grade::TestReport) {
        if !self.running {
            return;
        }
        show(&format!("{}\n", report::test_line(t)));
        if !t.passed() && !self.first_failure_shown {
            // The first failure at once, in full: the student can start reading.
            self.first_failure_shown = true;
            show(&format!(
                "\n\x1b[31m── {} ──\x1b[0m\n{}\n\n",
                t.name, t.message
            ));
        }
    }

    fn on_checked(&mut self, result: Result<GradeReport, String>) {
        self.running = false;
        self.last_seen = self.modified();
        self.header();
        match result {
            Err(e) => show(&format!("the check could not run: {e}\n")),
            Ok(report) => {
                if let Some(e) = report.exercises.first() {
                    self.statuses[self.current] = Some(e.status);
                    self.header();
                    for t in &e.tests {
                        show(&format!("{}\n", report::test_line(t)));
                    }
                    show(&report::exercise(e, false, false));
                    if e.status == ExerciseStatus::Passed {
                        if self.current + 1 < self.statuses.len() {
                            let next = self.ready()[self.current + 1];
                            show(&format!(
                                "\n\x1b[32mExercise {} passes!\x1b[0m Go on to exercise {} ({})? [y/n]\n",
                                e.id, next.id, next.slug
                            ));
                            self.asking = Some(Question::MoveOn);
                        } else {
                            show("\n\x1b[32mEvery exercise passes. Well done!\x1b[0m\n");
                        }
                    }
                }
            }
        }
        self.keys_line();
        // A save during the check (not merely a second event of the same save) is checked
        // now; what was just shown is out of date.
        if std::mem::take(&mut self.again) && self.checked_at != self.modified() {
            self.asking = None;
            self.check();
        }
    }

    /// The newest modification time among the current exercise's sources.
    fn modified(&self) -> Option<SystemTime> {
        fn newest(dir: &Path) -> Option<SystemTime> {
            let mut best = None;
            for entry in std::fs::read_dir(dir).ok()?.flatten() {
                let meta = entry.metadata().ok()?;
                let t = if meta.is_dir() {
                    newest(&entry.path())
                } else {
                    meta.modified().ok()
                };
                best = best.max(t);
            }
            best
        }
        newest(&self.dir.join(&self.exercise().dir).join("src"))
    }

    fn on_key(&mut self, key: KeyEvent) -> bool {
        if key.kind != KeyEventKind::Press {
            return true;
        }
        let ctrl_c =
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        if ctrl_c || key.code == KeyCode::Char('q') {
            return false;
        }
        if let Some(question) = self.asking.take() {
            if key.code == KeyCode::Char('y') {
                match question {
                    Question::MoveOn => {
                        self.current += 1;
                        self.check();
                    }
                    Question::Reset => {
                        let ex = self.exercise();
                        let result = crate::reset::restore(self.paths, &self.dir, ex).map(|_| ());
                        self.header();
                        match result {
                            Ok(()) => show(
                                "Reset to the untouched stub (your code is in src/lib.rs.bak).\n",
                            ),
                            Err(e) => show(&format!("reset failed: {e:#}\n")),
                        }
                        self.keys_line();
                    }
                }
            } else {
                show("(no)\n");
            }
            return true;
        }
        match key.code {
            KeyCode::Enter | KeyCode::Char(' ') => self.check(),
            KeyCode::Char('n') => {
                self.current = (self.current + 1) % self.statuses.len();
                self.check();
            }
            KeyCode::Char('h') => {
                let ex = self.exercise();
                let mut state = crate::state::State::load(self.paths);
                let level = state.next_hint(&ex.slug, ex.hints.len().max(1));
                state.save(self.paths);
                show(&format!(
                    "\n\x1b[1mHint {level} of {}:\x1b[0m {}\n",
                    ex.hints.len(),
                    ex.hints.get(level - 1).map_or("", String::as_str)
                ));
            }
            KeyCode::Char('l') | KeyCode::Char('c') => {
                let all = key.code == KeyCode::Char('c');
                clear();
                show(if all {
                    "checking every exercise …\n"
                } else {
                    ""
                });
                let options = Options {
                    quiet: true,
                    ..self.options.clone()
                };
                match grade::grade_dir(self.paths, self.curriculum, &self.dir, None, &options) {
                    Ok(r) => {
                        let slugs: Vec<String> =
                            self.ready().iter().map(|e| e.slug.clone()).collect();
                        for (i, slug) in slugs.iter().enumerate() {
                            if let Some(e) = r.exercises.iter().find(|e| &e.slug == slug) {
                                self.statuses[i] = Some(e.status);
                            }
                        }
                        clear();
                        show(&report::table(&r, self.curriculum));
                    }
                    Err(e) => show(&format!("{e:#}\n")),
                }
                self.keys_line();
            }
            KeyCode::Char('r') => {
                show(&format!(
                    "\nReset {} to the untouched stub? Your code is kept as src/lib.rs.bak. [y/n]\n",
                    self.exercise().slug
                ));
                self.asking = Some(Question::Reset);
            }
            _ => {}
        }
        true
    }

    fn on_tick(&mut self) {
        if self.manual || self.running {
            return;
        }
        let now = self.modified();
        if now != self.tick_seen && now.is_some() {
            // `last_seen` stays the file events' business: a save whose event is still being
            // debounced must still be checked when it arrives.
            if !self.event_since_change && now != self.last_seen {
                show(
                    "\n\x1b[33mA file changed but no file event arrived: this file system may not \
                     report changes. Press Enter to check now, or restart with `cargo checker \
                     watch --manual-run`.\x1b[0m\n",
                );
            }
            self.tick_seen = now;
        }
        self.event_since_change = false;
    }
}

pub fn watch(paths: &Paths, curriculum: &Curriculum, dir: &Path, manual: bool) -> Result<()> {
    let ready: Vec<_> = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .collect();
    if ready.is_empty() {
        anyhow::bail!("no exercise is ready yet");
    }
    let mut options = Options::student(1.0);
    options.quiet = true;
    // Where to start: the first exercise that does not pass (results come from the cache).
    let first = grade::grade_dir(paths, curriculum, dir, None, &options)?;
    let statuses: Vec<Option<ExerciseStatus>> = ready
        .iter()
        .map(|ex| {
            first
                .exercises
                .iter()
                .find(|e| e.slug == ex.slug)
                .map(|e| e.status)
        })
        .collect();
    let current = statuses
        .iter()
        .position(|s| *s != Some(ExerciseStatus::Passed))
        .unwrap_or(0);

    let (tx, rx) = mpsc::channel();
    let _terminal = Terminal::enter()?;
    let keys = tx.clone();
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if let TermEvent::Key(k) = ev
                && keys.send(Event::Key(k)).is_err()
            {
                break;
            }
        }
    });
    let _watcher = if manual {
        None
    } else {
        Some(watch_files(dir, curriculum, tx.clone())?)
    };
    let mut app = App {
        paths,
        curriculum,
        dir: dir.to_path_buf(),
        options,
        manual,
        tx,
        current,
        statuses,
        running: false,
        again: false,
        checked_at: None,
        first_failure_shown: false,
        last_seen: None,
        tick_seen: None,
        event_since_change: false,
        asking: None,
    };
    app.last_seen = app.modified();
    app.check();
    run(&mut app, rx);
    clear();
    show("Bye. `cargo checker watch` takes you back where you left off.\n");
    Ok(())
}

fn run(app: &mut App<'_>, rx: Receiver<Event>) {
    let mut tick = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(Event::Key(k)) => {
                if !app.on_key(k) {
                    return;
                }
            }
            Ok(Event::Changed(slug)) => {
                app.event_since_change = true;
                if slug == app.exercise().slug {
                    app.on_change();
                }
            }
            Ok(Event::Test(t)) => app.on_test(&t),
            Ok(Event::Checked(r)) => app.on_checked(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if tick.elapsed() > Duration::from_secs(3) {
            app.on_tick();
            tick = Instant::now();
        }
    }
}

/// File events for the exercises' `src/` folders, debounced, as the slug that changed.
fn watch_files(
    dir: &Path,
    curriculum: &Curriculum,
    tx: Sender<Event>,
) -> Result<notify_debouncer_mini::Debouncer<notify::RecommendedWatcher>> {
    let dirs: Vec<(PathBuf, String)> = curriculum
        .exercise
        .iter()
        .filter(|e| e.is_ready())
        .map(|e| (dir.join(&e.dir), e.slug.clone()))
        .collect();
    // An editor's save (write a temporary file, rename it over) takes a few milliseconds:
    // 50 ms coalesces it and keeps the first failure close to the save.
    let mut debouncer = notify_debouncer_mini::new_debouncer(
        Duration::from_millis(50),
        move |res: notify_debouncer_mini::DebounceEventResult| {
            let Ok(events) = res else { return };
            let mut seen = std::collections::BTreeSet::new();
            for e in events {
                for (d, slug) in &dirs {
                    if e.path.starts_with(d.join("src"))
                        && e.path.extension().is_some_and(|x| x == "rs")
                    {
                        seen.insert(slug.clone());
                    }
                }
            }
            for slug in seen {
                let _ = tx.send(Event::Changed(slug));
            }
        },
    )?;
    debouncer
        .watcher()
        .watch(dir, notify::RecursiveMode::Recursive)?;
    Ok(debouncer)
}
