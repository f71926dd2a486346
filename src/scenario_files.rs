//! Which files a command takes: a file as given, a directory as every
//! `*.toml` under it (sorted, `snapshots/` and hidden directories left out).
//! Symbolic links to directories are not followed, so a link back up the
//! tree (`ln -s . dir/l`) can neither invent scenarios nor loop.

use std::path::{Path, PathBuf};

/// What a walk found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Scenario files, sorted within each directory given.
    pub(crate) files: Vec<PathBuf>,
    /// Symbolic links to directories that were not followed.
    pub(crate) skipped_links: Vec<PathBuf>,
    /// Directories given that hold no scenario.
    pub(crate) empty: Vec<PathBuf>,
}

/// Every `*.toml` under `dir`, sorted.
pub(crate) fn under(dir: &Path) -> Found {
    let mut found = Found::default();
    walk(dir, &mut found);
    found.files.sort();
    found.skipped_links.sort();
    found
}

/// The files a command was given, each directory replaced by the scenarios
/// under it. Paths that are neither stay, so reading them reports why.
pub(crate) fn expand(paths: &[PathBuf]) -> Found {
    let mut found = Found::default();
    for path in paths {
        if path.is_dir() {
            let mut inner = under(path);
            if inner.files.is_empty() {
                found.empty.push(path.clone());
            }
            found.files.append(&mut inner.files);
            found.skipped_links.append(&mut inner.skipped_links);
        } else {
            found.files.push(path.clone());
        }
    }
    found
}

fn walk(dir: &Path, found: &mut Found) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if kind.is_dir() {
            if !hidden && entry.file_name() != "snapshots" {
                walk(&path, found);
            }
        } else if kind.is_symlink() && path.is_dir() {
            found.skipped_links.push(path);
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_and_skips_snapshots_and_hidden_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "b.toml",
            "a/c.toml",
            "snapshots/x.toml",
            ".git/y.toml",
            "n.txt",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let found = under(root);
        assert_eq!(found.files, [root.join("a/c.toml"), root.join("b.toml")]);
    }

    #[cfg(unix)]
    #[test]
    fn does_not_follow_directory_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.toml"), "").unwrap();
        std::os::unix::fs::symlink(".", root.join("l")).unwrap();
        std::os::unix::fs::symlink(".", root.join("m")).unwrap();
        std::os::unix::fs::symlink("a.toml", root.join("f.toml")).unwrap();
        let found = under(root);
        assert_eq!(found.files, [root.join("a.toml"), root.join("f.toml")]);
        assert_eq!(found.skipped_links, [root.join("l"), root.join("m")]);
    }

    #[test]
    fn expands_directories_and_keeps_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "").unwrap();
        let given = [PathBuf::from("x.toml"), dir.path().to_path_buf()];
        let found = expand(&given);
        assert_eq!(
            found.files,
            [PathBuf::from("x.toml"), dir.path().join("a.toml")]
        );
    }
}
