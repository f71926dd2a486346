//! The differential test: every scenario that runs to completion is exported
//! as an asyncio program (`export python`), run on CPython's own event loop
//! under a virtual clock (`tests/differential/vclock.py`), and must log the
//! same lines at the same nanoseconds as scenario-run's trace.
//!
//! It runs on every CPython 3.11, 3.12 and 3.13 it finds (`python3`,
//! `python3.1x`, and pyenv's versions). A version it cannot find is reported
//! on stderr; with `CI` set, a missing 3.11 fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::cpython::{VERSIONS, interpreters};
use scenario_run::{ExitCode, Format, Options, Python, export_python, render_to_string};

/// Every scenario expected to run to completion.
fn completing_scenarios() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "invalid" && name != "stuck" {
                    walk(&p, out);
                }
            } else if name.ends_with(".toml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &mut out,
    );
    out
}

/// What scenario-run makes of a scenario under one version.
enum Ours {
    /// `[ns] line` for each line it logs.
    Logs(String),
    /// The run deadlocks (CPython would wait forever).
    Deadlock,
    /// The scenario uses what the version lacks (`Queue.shutdown` before
    /// 3.13): refused, so not compared there.
    Newer,
}

fn ours(path: &Path, text: &str, python: Python) -> Ours {
    let options = Options {
        format: Format::Jsonl,
        python: Some(python),
        ..Options::default()
    };
    let (out, code) = render_to_string(&path.display().to_string(), text, &options);
    if code == ExitCode::Invalid {
        assert!(
            out.contains("exists from CPython"),
            "{} is refused on {python}:\n{out}",
            path.display()
        );
        return Ours::Newer;
    }
    let mut lines = String::new();
    for line in out.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["kind"] == "summary" && !event["deadlock"].is_null() {
            return Ours::Deadlock;
        }
        if event["kind"] == "log" {
            let ns = event["time_ns"].as_u64().unwrap();
            for part in event["message"].as_str().unwrap().split('\n') {
                lines.push_str(&format!("[{ns}] {part}\n"));
            }
        }
        lines.push_str(&common::cpython::report_line(&event));
    }
    Ours::Logs(lines)
}

/// `[ns] line` for each line CPython prints, or why it could not run.
fn theirs(python: &Path, program: &Path) -> Result<String, String> {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/vclock.py");
    let out = Command::new("timeout")
        .arg("60")
        .arg(python)
        .arg(&runner)
        .arg(program)
        .output()
        .map_err(|e| format!("could not start {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A `main` that fails: asyncio.run raises its exception, said on the
    // last line, and the program exits 1 (its traceback on stderr).
    let raised = out.status.code() == Some(1)
        && stdout
            .lines()
            .last()
            .is_some_and(|l| l.contains("] asyncio.run raises "));
    if !out.status.success() && !raised {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(visible(&stdout))
}

/// As scenario-run shows a logged line: control characters other than line
/// breaks and tabs as visible escapes (`\u{1b}`), in every format.
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn scenarios_log_what_cpython_logs() {
    let pythons = interpreters();
    for v in VERSIONS {
        if !pythons.iter().any(|(have, _)| have == v) {
            eprintln!("warning: differential test: no CPython {v} found; not compared on {v}");
        }
    }
    if std::env::var_os("CI").is_some() {
        assert!(
            pythons.iter().any(|(v, _)| v == "3.11"),
            "CI must compare against CPython 3.11 (python3)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    let mut divergences = Vec::new();
    for path in completing_scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let shown = path.display().to_string();
        let program = export_python(&shown, &text, false)
            .unwrap_or_else(|why| panic!("{shown} cannot be exported:\n{why}"));
        let file = dir.path().join("program.py");
        std::fs::write(&file, program).unwrap();
        for (version, python) in &pythons {
            let modelled = Python::parse(version).expect("a modelled version");
            let expected = match ours(&path, &text, modelled) {
                Ours::Logs(logs) => logs,
                Ours::Deadlock => {
                    eprintln!("  deadlocks on {version} (not compared): {shown}");
                    continue;
                }
                Ours::Newer => {
                    eprintln!("  needs a newer CPython than {version} (not compared): {shown}");
                    continue;
                }
            };
            match theirs(python, &file) {
                Ok(got) if got == expected => compared += 1,
                Ok(got) => {
                    let diff = similar::TextDiff::from_lines(&expected, &got)
                        .unified_diff()
                        .header("scenario-run", "CPython")
                        .to_string();
                    divergences.push(format!("{shown} on CPython {version}:\n{diff}"));
                }
                Err(why) => divergences.push(format!("{shown} on CPython {version}: {why}")),
            }
        }
    }
    eprintln!(
        "differential: {compared} scenario runs agree with CPython ({})",
        pythons
            .iter()
            .map(|(v, _)| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(divergences.is_empty(), "{}", divergences.join("\n"));
    if !pythons.is_empty() {
        assert!(compared >= 30, "only {compared} scenario runs compared");
    }
}
