//! `scenario-run test DIR`: the snapshot loop for repositories that hold
//! scenarios but no Rust. Every `*.toml` under DIR is run; its trace (or its
//! diagnostics) is compared with `DIR/snapshots/<path>.snap`, written in
//! insta's `.snap` format so `cargo insta review` and insta's tooling read
//! them. A change prints a unified diff and fails; `--accept` records it.

use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use crate::run::Options;
use crate::{ExitCode, render_to_string};

/// What became of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Same,
    Changed,
    New,
    Accepted,
}

/// Runs the command; exit 0 when every snapshot matches (or was accepted).
pub(crate) fn test_dir(dir: &Path, accept: bool, color: bool) -> ExitCode {
    if !dir.is_dir() {
        eprintln!("error: `{}` is not a directory", dir.display());
        return ExitCode::Invalid;
    }
    let files = scenarios(dir);
    if files.is_empty() {
        eprintln!("error: no `*.toml` scenarios under `{}`", dir.display());
        return ExitCode::Invalid;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let mut counts = [0usize; 4];
    for file in &files {
        let rel = relative(dir, file);
        let verdict = match one(dir, file, &rel, accept, ci, color) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::Invalid;
            }
        };
        counts[verdict as usize] += 1;
        let word = match verdict {
            Verdict::Same => "ok",
            Verdict::Changed => "CHANGED",
            Verdict::New => "NEW",
            Verdict::Accepted => "accepted",
        };
        println!("test {rel} ... {word}");
    }
    let [same, changed, new, accepted] = counts;
    println!(
        "\n{} scenarios: {same} unchanged, {changed} changed, {new} new, {accepted} accepted",
        files.len()
    );
    if changed + new > 0 {
        println!(
            "review the diffs above; record them with `scenario-run test {} --accept`",
            dir.display()
        );
        ExitCode::CheckFailed
    } else {
        ExitCode::Ok
    }
}

fn one(
    dir: &Path,
    file: &Path,
    rel: &str,
    accept: bool,
    ci: bool,
    color: bool,
) -> Result<Verdict, String> {
    let (trace, code) = match crate::load(file) {
        Ok(text) => render_to_string(rel, &text, &Options::default()),
        Err(why) => (format!("error: {why}\n"), ExitCode::Invalid),
    };
    let contents = format!("exit code: {}\n\n{trace}", code as i32);
    let snap = snapshot_path(dir, rel);
    let stored = std::fs::read_to_string(&snap)
        .ok()
        .map(|s| body(&s).to_owned());
    let pending = snap.with_extension("snap.new");
    if stored.as_deref().map(str::trim_end) == Some(contents.trim_end()) {
        let _ = std::fs::remove_file(&pending);
        return Ok(Verdict::Same);
    }
    if accept {
        write(&snap, rel, &contents)?;
        let _ = std::fs::remove_file(&pending);
        return Ok(Verdict::Accepted);
    }
    match &stored {
        Some(old) => print!("{}", diff(rel, old, &contents, color)),
        None => println!("new snapshot for {rel}:\n{contents}"),
    }
    if !ci {
        // Like insta: a pending snapshot beside the old one, for review.
        write(&pending, rel, &contents)?;
    }
    Ok(if stored.is_some() {
        Verdict::Changed
    } else {
        Verdict::New
    })
}

/// Every `*.toml` under `dir` (but not under its `snapshots/`), sorted.
fn scenarios(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "snapshots") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn relative(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// `DIR/snapshots/a__b.toml.snap` for `DIR/a/b.toml`.
fn snapshot_path(dir: &Path, rel: &str) -> PathBuf {
    dir.join("snapshots")
        .join(format!("{}.snap", rel.replace('/', "__")))
}

/// The contents of a `.snap` file, after its `---` header.
fn body(snap: &str) -> &str {
    let Some(rest) = snap.strip_prefix("---\n") else {
        return snap;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => snap,
    }
}

fn write(path: &Path, rel: &str, contents: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
    let text = format!("---\nsource: scenario-run test\ninput_file: {rel}\n---\n{contents}");
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// A unified diff of the stored and the new trace, red and green on a terminal.
fn diff(rel: &str, old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = format!("--- {rel} (snapshot)\n+++ {rel} (now)\n");
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            first.old_range().start + 1,
            last.old_range().end - first.old_range().start,
            first.new_range().start + 1,
            last.new_range().end - first.new_range().start
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, paint) = match change.tag() {
                    ChangeTag::Delete => ("-", "\x1b[31m"),
                    ChangeTag::Insert => ("+", "\x1b[32m"),
                    ChangeTag::Equal => (" ", ""),
                };
                let line = format!("{sign}{}", change.value().trim_end_matches('\n'));
                if color && !paint.is_empty() {
                    out.push_str(&format!("{paint}{line}\x1b[0m\n"));
                } else {
                    out.push_str(&format!("{line}\n"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_body_after_insta_header() {
        let snap = "---\nsource: x\nexpression: y\n---\nexit code: 0\n\nhello\n";
        assert_eq!(body(snap), "exit code: 0\n\nhello\n");
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = diff("a.toml", "one\ntwo\nthree\n", "one\n2\nthree\n", false);
        assert!(d.contains("-two\n+2\n"), "{d}");
        assert!(d.contains("@@ -1,3 +1,3 @@"), "{d}");
    }
}
