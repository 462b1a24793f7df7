//! Content hashes for the run record: a grade names exactly what it graded and with what.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes`, in hex.
pub fn bytes(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// SHA-256 over every file under `roots` (each file's path relative to its root, then its
/// bytes), in sorted order: the same tree gives the same hash wherever it lies.
pub fn tree(roots: &[PathBuf]) -> String {
    let mut hasher = Sha256::new();
    for root in roots {
        let mut files = Vec::new();
        collect(root, &mut files);
        files.sort();
        for file in files {
            let relative = file.strip_prefix(root).unwrap_or(&file);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            if let Ok(bytes) = std::fs::read(&file) {
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
        }
    }
    format!("{:x}", hasher.finalize())
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                collect(&entry.path(), out);
            }
        }
    } else if meta.is_file() {
        out.push(path.to_path_buf());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tree_hash_depends_on_content_and_names_not_place() {
        let base = std::env::temp_dir().join(format!("digest-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b"));
        for dir in [&a, &b] {
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            std::fs::write(dir.join("lib.rs"), "fn main() {}").unwrap();
            std::fs::write(dir.join("sub/x.rs"), "x").unwrap();
        }
        assert_eq!(
            super::tree(std::slice::from_ref(&a)),
            super::tree(std::slice::from_ref(&b))
        );
        std::fs::write(b.join("sub/x.rs"), "y").unwrap();
        assert_ne!(super::tree(&[a]), super::tree(&[b]));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
