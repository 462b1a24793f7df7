//! What the checker remembers for a student between runs (under the target directory, so a
//! clean clone starts fresh): the hint level each exercise has reached. A missing or corrupt
//! file is simply a fresh start.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::paths::Paths;

#[derive(Default, Serialize, Deserialize)]
pub struct State {
    /// Highest hint level shown, per exercise slug.
    #[serde(default)]
    pub hints: BTreeMap<String, usize>,
}

fn file(paths: &Paths) -> PathBuf {
    paths.scratch.join("student-state.json")
}

impl State {
    pub fn load(paths: &Paths) -> State {
        std::fs::read(file(paths))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, paths: &Paths) {
        let path = file(paths);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Ok(text) = serde_json::to_vec_pretty(self) {
            let _ = std::fs::write(path, text);
        }
    }

    /// The next hint level for `slug` (1 the first time, then one more each time, staying at
    /// the last), remembered.
    pub fn next_hint(&mut self, slug: &str, levels: usize) -> usize {
        let level = (self.hints.get(slug).copied().unwrap_or(0) + 1).min(levels);
        self.hints.insert(slug.to_string(), level);
        level
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hints_advance_and_stop_at_the_last_level() {
        let mut s = super::State::default();
        let levels: Vec<usize> = (0..4).map(|_| s.next_hint("basic", 3)).collect();
        assert_eq!(levels, vec![1, 2, 3, 3]);
        assert_eq!(s.next_hint("buffered", 2), 1);
    }
}
