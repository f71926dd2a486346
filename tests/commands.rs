//! The commands besides `run`: check, graph, schema, test DIR, completions,
//! man; and `-o`, `--color`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scenario-run"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CI")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap(),
        text(out.stdout),
        text(out.stderr),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, &[])
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scenario-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_validates_without_running() {
    let (code, out, _) = run(&[
        "check",
        "scenarios/seed/01_event_loop_gather.toml",
        "scenarios/stuck/runaway_loop.toml",
    ]);
    assert_eq!(code, 0, "a runaway file is valid: check does not run it");
    assert!(
        out.contains("ok  scenarios/seed/01_event_loop_gather.toml: 2 tasks"),
        "{out}"
    );
    let (code, _, err) = run(&["check", "scenarios/invalid/counts.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("counts.toml:3:9"), "{err}");
}

#[test]
fn graph_writes_dot_and_mermaid() {
    let (code, dot, _) = run(&["graph", "scenarios/realistic/etl_dag.toml"]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph \"nightly ETL\" {"), "{dot}");
    assert!(dot.contains("t0 -> t3 [label=\"after\"];"), "{dot}");
    assert!(dot.contains("t4 -> s0 [label=\"limit\"];"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    let (code, mermaid, _) = run(&[
        "graph",
        "--format",
        "mermaid",
        "scenarios/seed/07_patterns_producer_consumer_semaphore.toml",
    ]);
    assert_eq!(code, 0);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(mermaid.contains("t0 -->|\"put\"| q0"), "{mermaid}");
    assert!(mermaid.contains("t5 -.->|\"calls\"| t2"), "{mermaid}");
}

#[test]
fn output_file_is_written_whole_and_atomically() {
    let dir = temp_dir("output");
    let dest = dir.join("trace.jsonl");
    let (code, out, _) = run(&[
        "--format",
        "jsonl",
        "-o",
        dest.to_str().unwrap(),
        "scenarios/sleep.toml",
    ]);
    assert_eq!((code, out.as_str()), (0, ""), "nothing on stdout");
    let written = std::fs::read_to_string(&dest).unwrap();
    assert!(written.starts_with("{\"format\":\"scenario-run/jsonl\""));
    assert!(
        written
            .lines()
            .last()
            .unwrap()
            .contains("\"kind\":\"summary\"")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    // Into a directory that does not exist: an error, and nothing written.
    let (code, _, err) = run(&["-o", "/nonexistent/dir/t.txt", "scenarios/sleep.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot write in `/nonexistent/dir`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn color_is_chosen_by_flag_and_no_color() {
    let file = "scenarios/invalid/counts.toml";
    let (_, _, plain) = run(&[file]);
    assert!(!plain.contains('\x1b'), "piped: no colour");
    let (_, _, always) = run(&["--color", "always", file]);
    assert!(always.contains('\x1b'), "--color always");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, _, never) = run_in(root, &["--color", "never", file], &[]);
    assert!(!never.contains('\x1b'));
    let (_, _, env) = run_in(root, &["--color", "auto", file], &[("NO_COLOR", "1")]);
    assert!(!env.contains('\x1b'));
}

#[test]
fn test_dir_records_compares_and_accepts_snapshots() {
    let dir = temp_dir("test-dir");
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("scenarios/seed/01_event_loop_gather.toml"),
        dir.join("gather.toml"),
    )
    .unwrap();
    std::fs::copy(
        root.join("scenarios/after_triggers.toml"),
        dir.join("flows/dag.toml"),
    )
    .unwrap();
    let d = dir.to_str().unwrap();

    // First run: every snapshot is new, the run fails and leaves .snap.new files.
    let (code, out, _) = run(&["test", d]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("test flows/dag.toml ... NEW"), "{out}");
    assert!(dir.join("snapshots/flows__dag.toml.snap.new").exists());

    // Accepted, they pass; the files are insta snapshots.
    let (code, out, _) = run(&["test", d, "--accept"]);
    assert_eq!(code, 0, "{out}");
    let snap = std::fs::read_to_string(dir.join("snapshots/gather.toml.snap")).unwrap();
    assert!(snap.starts_with(
        "---\nsource: scenario-run test\ninput_file: gather.toml\n---\nexit code: 0\n"
    ));
    assert!(!dir.join("snapshots/flows__dag.toml.snap.new").exists());
    let (code, out, _) = run(&["test", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 scenarios: 2 unchanged"), "{out}");

    // A change in behaviour: a unified diff, exit 1; CI writes nothing.
    let text = std::fs::read_to_string(dir.join("gather.toml")).unwrap();
    std::fs::write(
        dir.join("gather.toml"),
        text.replace("name = \"B\"", "name = \"Beta\""),
    )
    .unwrap();
    let (code, out, _) = run_in(root, &["test", d], &[("CI", "true")]);
    assert_eq!(code, 1);
    assert!(
        out.contains("--- gather.toml (snapshot)\n+++ gather.toml (now)\n@@"),
        "{out}"
    );
    assert!(
        out.contains("\n-   0.000        simple_task[1]   log       Task B starting..."),
        "{out}"
    );
    assert!(
        out.contains("\n+   0.000        simple_task[1]   log       Task Beta starting..."),
        "{out}"
    );
    assert!(
        !dir.join("snapshots/gather.toml.snap.new").exists(),
        "CI=true writes nothing"
    );
    let (_, coloured, _) = run_in(root, &["--color", "always", "test", d], &[]);
    assert!(coloured.contains("\x1b[31m-") && coloured.contains("\x1b[32m+"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn completions_and_man_page_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = run(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(out.contains("scenario-run"), "{shell}");
        assert!(out.contains("max-steps-per-instant"), "{shell}: every flag");
    }
    let (code, man, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(man.contains(".TH scenario-run 1"));
    assert!(man.contains("check"));
    // Not --help again: the language, the exit codes, each command's arguments;
    // no pointers to pages that do not exist.
    for section in [".SH LANGUAGE", ".SH \"EXIT STATUS\"", ".SH COMMANDS"] {
        assert!(man.contains(section), "{section}");
    }
    assert!(man.contains("retry_on"), "the language reference");
    assert!(man.contains("the run is stuck"), "the exit codes");
    assert!(
        man.contains("How many tasks (w1, w2) or items (w3)"),
        "gen --n"
    );
    assert!(!man.contains("scenario\\-run\\-run(1)"), "no such page");
    let (_, help, _) = run(&["--help"]);
    assert!(!help.contains("[FILE]... <COMMAND>"), "{help}");
    let (_, check, _) = run(&["check", "--help"]);
    assert!(check.contains("directories searched for"), "{check}");
}

#[test]
fn run_is_the_default_command() {
    let (a, out_a, _) = run(&["scenarios/sleep.toml"]);
    let (b, out_b, _) = run(&["run", "scenarios/sleep.toml"]);
    assert_eq!((a, &out_a), (b, &out_b));
}
