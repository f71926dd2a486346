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
    /// The stored snapshot is not an insta `.snap` file.
    Malformed,
    /// The scenario is invalid or stuck where its place does not say so
    /// (or the other way round): no snapshot is compared or recorded.
    Unexpected,
}

/// How a scenario is expected to end, by the folder it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    /// Anywhere else: the run must not be invalid (exit 2) or stuck (exit 3);
    /// a scenario that expects its deadlock says so with `[expect] outcome`,
    /// and then exits 0.
    Runs,
    /// Under an `invalid/` folder: the file must be invalid (exit 2).
    Invalid,
    /// Under a `stuck/` folder: the run must be stuck (exit 3).
    Stuck,
}

impl Expected {
    fn of(rel: &str) -> Expected {
        let mut folders = rel.split('/').rev().skip(1);
        if folders.clone().any(|f| f == "invalid") {
            Expected::Invalid
        } else if folders.any(|f| f == "stuck") {
            Expected::Stuck
        } else {
            Expected::Runs
        }
    }

    /// Why `code` is not what this place expects, if it is not.
    fn mismatch(self, code: ExitCode) -> Option<String> {
        let n = code as i32;
        match (self, code) {
            (Expected::Runs, ExitCode::Invalid) => Some(
                "the scenario is invalid (exit 2); only files under an `invalid/` folder are \
                 expected to be"
                    .into(),
            ),
            (Expected::Runs, ExitCode::Stuck) => Some(
                "the run is stuck (exit 3); put the file under a `stuck/` folder, or say \
                 `[expect] outcome = \"deadlock\"` (or \"stopped\") in it"
                    .into(),
            ),
            (Expected::Invalid, ExitCode::Invalid) | (Expected::Stuck, ExitCode::Stuck) => None,
            (Expected::Invalid, _) => Some(format!(
                "the file is under an `invalid/` folder but is a valid scenario (exit {n})"
            )),
            (Expected::Stuck, _) => Some(format!(
                "the file is under a `stuck/` folder but its run is not stuck (exit {n})"
            )),
            (Expected::Runs, _) => None,
        }
    }
}

/// Runs the command; exit 0 when every snapshot matches (or was accepted).
pub(crate) fn test_dir(dir: &Path, accept: bool, color: bool) -> ExitCode {
    if !dir.is_dir() {
        eprintln!("error: `{}` is not a directory", dir.display());
        return ExitCode::Invalid;
    }
    let found = crate::scenario_files::under(dir);
    for link in &found.skipped_links {
        eprintln!(
            "note: `{}` links to a directory; links to directories are not followed",
            link.display()
        );
    }
    let files = found.files;
    if files.is_empty() {
        eprintln!("error: no `*.toml` scenarios under `{}`", dir.display());
        return ExitCode::Invalid;
    }
    let rels: Vec<String> = files.iter().map(|f| relative(dir, f)).collect();
    if let Err(e) = distinct_names(dir, &rels) {
        eprintln!("error: {e}");
        return ExitCode::Invalid;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let mut counts = [0usize; 6];
    for (file, rel) in files.iter().zip(&rels) {
        let (verdict, note) = match one(dir, file, rel, accept, ci, color) {
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
            Verdict::Malformed => "MALFORMED SNAPSHOT",
            Verdict::Unexpected => "FAILED",
        };
        println!("test {rel} ... {word}{note}");
    }
    let stale = stale(dir, &rels, accept);
    let [same, changed, new, accepted, malformed, unexpected] = counts;
    let mut line = format!(
        "\n{} scenarios: {same} unchanged, {changed} changed, {new} new, {accepted} accepted",
        files.len()
    );
    let stale_word = if accept {
        "stale snapshots removed"
    } else {
        "stale snapshots"
    };
    for (n, what) in [
        (malformed, "malformed snapshots"),
        (unexpected, "not ending as expected"),
        (stale.len(), stale_word),
    ] {
        if n > 0 {
            line.push_str(&format!(", {n} {what}"));
        }
    }
    println!("{line}");
    let shown = dir.display();
    if changed + new + malformed > 0 {
        if ci {
            println!(
                "record the snapshots where you can review them: `scenario-run test {shown}`, \
                 read the diffs and the new `.snap.new` files, then `--accept` and commit"
            );
        } else {
            println!(
                "review the diffs above and the new `.snap.new` files under `{}`; \
                 record them with `scenario-run test {shown} --accept`",
                dir.join("snapshots").display()
            );
        }
    }
    if !accept && !stale.is_empty() {
        println!(
            "stale snapshots belong to no scenario (deleted or renamed?); `--accept` removes them{}",
            if ci { "; in CI they fail the run" } else { "" }
        );
    }
    let stale_fails = ci && !accept && !stale.is_empty();
    if changed + new + malformed + unexpected > 0 || stale_fails {
        ExitCode::CheckFailed
    } else {
        ExitCode::Ok
    }
}

/// Refuses two scenarios whose snapshots would be the same file
/// (`a/b.toml` and `a__b.toml`): `--accept` would never settle.
fn distinct_names(dir: &Path, rels: &[String]) -> Result<(), String> {
    let mut seen = std::collections::BTreeMap::new();
    for rel in rels {
        let snap = snapshot_path(dir, rel);
        if let Some(other) = seen.insert(snap.clone(), rel) {
            return Err(format!(
                "`{other}` and `{rel}` would share the snapshot `{}`: rename one of them",
                snap.display()
            ));
        }
    }
    Ok(())
}

/// Snapshots under `DIR/snapshots/` that no scenario produces: reported, and
/// removed with `--accept`.
fn stale(dir: &Path, rels: &[String], accept: bool) -> Vec<PathBuf> {
    let wanted: std::collections::BTreeSet<PathBuf> =
        rels.iter().map(|r| snapshot_path(dir, r)).collect();
    let Ok(entries) = std::fs::read_dir(dir.join("snapshots")) else {
        return Vec::new();
    };
    let mut stale: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap") && !wanted.contains(p))
        .collect();
    stale.sort();
    for path in &stale {
        if accept {
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(path.with_extension("snap.new"));
            println!("stale {} ... removed", path.display());
        } else {
            println!("stale {} ... no scenario", path.display());
        }
    }
    stale
}

/// Tests one scenario: its verdict and a note for its line.
fn one(
    dir: &Path,
    file: &Path,
    rel: &str,
    accept: bool,
    ci: bool,
    color: bool,
) -> Result<(Verdict, String), String> {
    let (trace, code) = match crate::load(file) {
        Ok(text) => render_to_string(rel, &text, &Options::default()),
        Err(why) => (format!("error: {why}\n"), ExitCode::Invalid),
    };
    if let Some(why) = Expected::of(rel).mismatch(code) {
        let mut shown: Vec<&str> = trace.lines().collect();
        if code != ExitCode::Invalid {
            // The end of a trace says why it is stuck or how it ended.
            shown = shown.split_off(shown.len().saturating_sub(12));
        }
        println!("{rel}: {why}:");
        for line in shown.iter().take(40) {
            println!("    {line}");
        }
        return Ok((Verdict::Unexpected, String::new()));
    }
    let contents = format!("exit code: {}\n\n{trace}", code as i32);
    let snap = snapshot_path(dir, rel);
    let stored = match std::fs::read(&snap) {
        Err(_) => None,
        Ok(bytes) => Some(
            String::from_utf8(bytes)
                .map_err(|_| "it is not UTF-8 text".to_owned())
                .and_then(|s| body(&s).map(str::to_owned)),
        ),
    };
    let pending = snap.with_extension("snap.new");
    if let Some(Ok(old)) = &stored
        && old.trim_end() == contents.trim_end()
    {
        let _ = std::fs::remove_file(&pending);
        return Ok((Verdict::Same, String::new()));
    }
    if accept {
        write(&snap, rel, &contents)?;
        let _ = std::fs::remove_file(&pending);
        return Ok((Verdict::Accepted, String::new()));
    }
    if !ci {
        // Like insta: a pending snapshot beside the old one, for review.
        write(&pending, rel, &contents)?;
    }
    Ok(match stored {
        Some(Ok(old)) => {
            print!("{}", diff(rel, &old, &contents, color));
            (Verdict::Changed, String::new())
        }
        Some(Err(why)) => (
            Verdict::Malformed,
            format!(" (`{}`: {why}; `--accept` rewrites it)", snap.display()),
        ),
        None => (
            Verdict::New,
            format!(
                " (exit {}, {} lines{})",
                code as i32,
                contents.lines().count(),
                if ci { "" } else { "; see its .snap.new" }
            ),
        ),
    })
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

/// The contents of a `.snap` file, after its `---` header; why not, when
/// the file has no such header.
fn body(snap: &str) -> Result<&str, String> {
    let malformed = || "no insta header (`---` lines around `source: ...`)".to_owned();
    let rest = snap.strip_prefix("---\n").ok_or_else(malformed)?;
    let end = rest.find("\n---\n").ok_or_else(malformed)?;
    Ok(&rest[end + 5..])
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
        assert_eq!(body(snap), Ok("exit code: 0\n\nhello\n"));
        assert!(body("exit code: 0\n").is_err());
        assert!(body("---\nsource: x\n").is_err());
    }

    #[test]
    fn the_folder_says_how_a_scenario_should_end() {
        assert_eq!(Expected::of("a.toml"), Expected::Runs);
        assert_eq!(Expected::of("invalid/a.toml"), Expected::Invalid);
        assert_eq!(Expected::of("x/stuck/a.toml"), Expected::Stuck);
        assert_eq!(Expected::of("invalid.toml"), Expected::Runs);
        assert!(Expected::Runs.mismatch(ExitCode::Invalid).is_some());
        assert!(Expected::Runs.mismatch(ExitCode::Stuck).is_some());
        assert!(Expected::Runs.mismatch(ExitCode::CheckFailed).is_none());
        assert!(Expected::Invalid.mismatch(ExitCode::Ok).is_some());
        assert!(Expected::Stuck.mismatch(ExitCode::Stuck).is_none());
    }

    #[test]
    fn two_files_with_one_snapshot_name_are_refused() {
        let rels = ["sub/b.toml".to_owned(), "sub__b.toml".to_owned()];
        let e = distinct_names(Path::new("d"), &rels).unwrap_err();
        assert!(e.contains("`sub/b.toml` and `sub__b.toml`"), "{e}");
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = diff("a.toml", "one\ntwo\nthree\n", "one\n2\nthree\n", false);
        assert!(d.contains("-two\n+2\n"), "{d}");
        assert!(d.contains("@@ -1,3 +1,3 @@"), "{d}");
    }
}
