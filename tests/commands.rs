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
fn graph_names_a_queue_of_another_kind() {
    let (code, dot, _) = run(&["graph", "scenarios/stuck/queue_kinds.toml"]);
    assert_eq!(code, 0);
    assert!(
        dot.contains("q0 [shape=cylinder, label=\"urgent (priority, capacity 1)\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("q1 [shape=cylinder, label=\"stack (lifo, unbounded)\"];"),
        "{dot}"
    );
    let (_, plain, _) = run(&["graph", "scenarios/queue.toml"]);
    assert!(plain.contains("label=\"jobs (capacity 2)\""), "{plain}");
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
        out.contains("\n-   0.000  simple_task[1]   log       Task B starting..."),
        "{out}"
    );
    assert!(
        out.contains("\n+   0.000  simple_task[1]   log       Task Beta starting..."),
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
        man.contains("How many tasks (w1, w2, w4) or items (w3)"),
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

/// The loop cannot pass a broken scenario: an invalid or stuck file fails
/// unless its folder (`invalid/`, `stuck/`) says it should; snapshots of
/// deleted scenarios are reported and fail in CI; a malformed snapshot is
/// called so; two files with one snapshot name are refused; links to
/// directories are not followed.
#[test]
fn test_dir_fails_what_does_not_end_as_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("test-dir-strict");
    let d = dir.to_str().unwrap();
    let copy = |from: &str, to: &str| {
        let to = dir.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(from), to).unwrap();
    };
    copy("scenarios/sleep.toml", "ok.toml");
    copy("scenarios/invalid/counts.toml", "invalid/counts.toml");
    copy("scenarios/stuck/lock_order_cycle.toml", "stuck/cycle.toml");
    let (code, out, _) = run_in(root, &["test", d, "--accept"], &[]);
    assert_eq!(code, 0, "{out}");

    // Out of their folders, an invalid and a stuck file fail, and say why.
    copy("scenarios/invalid/counts.toml", "counts.toml");
    copy("scenarios/stuck/lock_order_cycle.toml", "cycle.toml");
    copy("scenarios/sleep.toml", "invalid/valid.toml");
    let (code, out, _) = run_in(root, &["test", d, "--accept"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("test counts.toml ... FAILED"), "{out}");
    assert!(
        out.contains("counts.toml: the scenario is invalid (exit 2)"),
        "{out}"
    );
    assert!(out.contains("test cycle.toml ... FAILED"), "{out}");
    assert!(
        out.contains("put the file under a `stuck/` folder"),
        "{out}"
    );
    assert!(out.contains("test invalid/valid.toml ... FAILED"), "{out}");
    assert!(
        !dir.join("snapshots/counts.toml.snap").exists(),
        "never recorded"
    );
    for f in ["counts.toml", "cycle.toml", "invalid/valid.toml"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }

    // A renamed scenario leaves a stale snapshot: reported; in CI, a failure.
    std::fs::rename(dir.join("ok.toml"), dir.join("renamed.toml")).unwrap();
    let (code, out, _) = run_in(root, &["test", d], &[]);
    assert_eq!(code, 1, "the renamed file is new: {out}");
    assert!(out.contains("ok.toml.snap ... no scenario"), "{out}");
    assert!(out.contains("1 stale snapshots"), "{out}");
    let (code, _, _) = run_in(root, &["test", d, "--accept"], &[]);
    assert_eq!(code, 0);
    assert!(
        !dir.join("snapshots/ok.toml.snap").exists(),
        "--accept removes it"
    );
    std::fs::write(dir.join("snapshots/gone.toml.snap"), "---\nx: y\n---\n").unwrap();
    let (code, out, _) = run_in(root, &["test", d], &[("CI", "true")]);
    assert_eq!(code, 1, "stale fails in CI: {out}");
    std::fs::remove_file(dir.join("snapshots/gone.toml.snap")).unwrap();

    // A first run summarises a new snapshot instead of printing it.
    copy("scenarios/seed/01_event_loop_gather.toml", "gather.toml");
    let (code, out, _) = run_in(root, &["test", d], &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("test gather.toml ... NEW (exit 0, 34 lines"),
        "{out}"
    );
    assert!(
        !out.contains("Task A starting"),
        "not printed in full: {out}"
    );
    std::fs::remove_file(dir.join("gather.toml")).unwrap();
    std::fs::remove_file(dir.join("snapshots/gather.toml.snap.new")).unwrap();

    // A snapshot without its header is malformed, not new.
    std::fs::write(dir.join("snapshots/renamed.toml.snap"), "exit code: 0\n").unwrap();
    let (code, out, _) = run_in(root, &["test", d], &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("test renamed.toml ... MALFORMED SNAPSHOT"),
        "{out}"
    );
    run_in(root, &["test", d, "--accept"], &[]);

    // Two files, one snapshot name: refused, naming both.
    copy("scenarios/sleep.toml", "sub/b.toml");
    copy("scenarios/sleep.toml", "sub__b.toml");
    let (code, _, err) = run_in(root, &["test", d], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`sub/b.toml` and `sub__b.toml` would share"),
        "{err}"
    );
    std::fs::remove_file(dir.join("sub__b.toml")).unwrap();
    std::fs::remove_dir_all(dir.join("sub")).unwrap();

    // Links to directories, even two looping ones, are not followed.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(".", dir.join("l")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("m")).unwrap();
        let (code, out, err) = run_in(root, &["test", d], &[]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("3 scenarios: 3 unchanged"), "{out}");
        assert!(err.contains("links to a directory"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_and_run_accept_directories() {
    let (code, out, err) = run(&["check", "scenarios/seed"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 9, "{out}");
    let (code, out, _) = run(&["check", "scenarios"]);
    assert_eq!(code, 2, "scenarios/invalid is in it");
    assert!(
        out.contains("ok  scenarios/sleep.toml"),
        "top-level files too"
    );
    let (code, out, _) = run(&["scenarios/seed"]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("\nsummary\n").count(), 9);
    let empty = temp_dir("empty-dir");
    let (code, _, err) = run(&["check", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no `*.toml` scenarios under"), "{err}");
}
