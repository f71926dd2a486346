//! Issue 12: nothing a file or a flag does can crash the tool, lose a file
//! or hang it. Each test runs the binary inside its own temporary directory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the binary did.
struct Ran {
    code: i32,
    out: String,
    err: String,
    took: Duration,
}

/// Runs the binary in `dir`, killing it after `limit`.
fn run_in(dir: &Path, args: &[&str], limit: Duration) -> Ran {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes on threads so a large output cannot block the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Ran {
        code: status
            .code()
            .unwrap_or_else(|| panic!("{args:?} ended by a signal")),
        out: text(out.join().unwrap()),
        err: text(err.join().unwrap()),
        took: start.elapsed(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Ran {
    run_in(dir, args, Duration::from_secs(60))
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn checking_many_tasks_takes_linear_time() {
    let dir = temp();
    let text: String = (0..100_000)
        .map(|i| format!("[tasks.t{i}]\nsleep = \"1s\"\n"))
        .collect();
    std::fs::write(dir.path().join("many.toml"), text).unwrap();
    let ran = run(dir.path(), &["check", "many.toml"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.contains("100000 tasks"), "{}", ran.out);
    assert!(ran.took < Duration::from_secs(30), "{:?}", ran.took);
}

#[test]
fn many_problems_are_shown_up_to_a_hundred_and_counted() {
    let dir = temp();
    let mut text = String::from("[tasks.main]\nsleep = \"1s\"\n");
    for i in 0..100_000 {
        text.push_str(&format!("k{i} = 1\n"));
    }
    std::fs::write(dir.path().join("keys.toml"), text).unwrap();
    let ran = run(dir.path(), &["check", "keys.toml"]);
    assert_eq!(ran.code, 2);
    assert_eq!(ran.err.matches("unknown key").count(), 100, "{}", ran.err);
    assert!(
        ran.err.contains("and 99900 more problems"),
        "{}",
        ran.err.lines().last().unwrap_or_default()
    );
    assert!(ran.err.contains("(100000 problems)"));
    assert!(ran.took < Duration::from_secs(30), "{:?}", ran.took);
}

#[test]
fn many_misspelt_names_are_checked_in_linear_time() {
    // Each unknown name is compared with every declared one for a "did you
    // mean": without a bound on that work, 20,000 of each took minutes.
    let dir = temp();
    let mut text = String::from("[exceptions]\nFirst = \"ValueEror\"\n");
    for i in 0..20_000 {
        text.push_str(&format!("E{i} = \"Missing{i}\"\n"));
    }
    for i in 0..20_000 {
        text.push_str(&format!(
            "[tasks.t{i}]\nsteps = [{{ await = \"t{i}x\" }}]\n"
        ));
    }
    std::fs::write(dir.path().join("typos.toml"), text).unwrap();
    let ran = run(dir.path(), &["check", "typos.toml"]);
    assert_eq!(ran.code, 2, "{}", ran.err);
    assert!(ran.err.contains("(40001 problems)"), "{}", ran.err);
    // The first ones still say what was probably meant.
    assert!(
        ran.err.contains("did you mean `ValueError`?"),
        "{}",
        ran.err
    );
    assert!(ran.took < Duration::from_secs(30), "{:?}", ran.took);
}

/// A scenario that logs `n` lines at one instant.
fn logs(n: u32) -> String {
    format!("[tasks.a]\nsteps = [{{ repeat = {n}, do = [{{ log = \"x\" }}] }}]\n")
}

#[test]
fn absurd_flags_are_refused_with_their_range() {
    let dir = temp();
    std::fs::write(dir.path().join("s.toml"), logs(1)).unwrap();
    for (args, says) in [
        (&["--runs", "0", "s.toml"][..], "0 is not in 1..=1000000"),
        (
            &["--runs", "18446744073709551615", "s.toml"],
            "not in 1..=1000000",
        ),
        (&["--runs", "300000000", "s.toml"], "not in 1..=1000000"),
        (
            &["--runs", "2", "--jobs", "0", "s.toml"],
            "0 is not in 1..=1024",
        ),
        (&["--speed", "1e12", "s.toml"], "at most 1000000000"),
        (&["--time-limit", "0s", "s.toml"], "must be more than 0s"),
        (
            &["--time-limit", "40000d", "s.toml"],
            "longer than a run can last",
        ),
        (&["gen", "w1", "--n", "0"], "0 is not in 1..=10000000"),
    ] {
        let ran = run(dir.path(), args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.err);
        assert!(ran.err.contains(says), "{args:?}: {}", ran.err);
        assert!(ran.out.is_empty(), "{args:?}");
    }
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let dir = temp();
    std::fs::write(dir.path().join("s.toml"), logs(200_000)).unwrap();
    for args in [
        &["s.toml"][..],
        &["schema"],
        &["gen", "w1"],
        &["completions", "zsh"],
        &["man"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");

        // A pipe whose reader is gone before anything is written: the
        // first write fails, however small the output.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
            .args(args)
            .current_dir(dir.path())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    }
}

#[test]
fn an_input_larger_than_the_limit_is_refused_without_reading_it_all() {
    let dir = temp();
    let mut text = logs(1);
    text.push_str(&"# padding\n".repeat(1_700_000));
    std::fs::write(dir.path().join("big.toml"), &text).unwrap();
    let ran = run(dir.path(), &["check", "big.toml"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.err.contains("larger than 16777216 bytes"),
        "{}",
        ran.err
    );
    assert!(ran.err.contains("--max-input-bytes"), "{}", ran.err);
    let ran = run(
        dir.path(),
        &["--max-input-bytes", "20000000", "check", "big.toml"],
    );
    assert_eq!(ran.code, 0, "{}", ran.err);
    let ran = run(dir.path(), &["--max-input-bytes", "10", "big.toml"]);
    assert_eq!(ran.code, 2);
}

#[test]
fn single_document_formats_take_one_input() {
    let dir = temp();
    std::fs::write(dir.path().join("s.toml"), logs(1)).unwrap();
    for format in ["svg", "chrome", "html", "mermaid"] {
        let ran = run(dir.path(), &["--format", format, "s.toml", "s.toml"]);
        assert_eq!(ran.code, 2, "{format}");
        assert!(ran.err.contains("writes one document"), "{}", ran.err);
        assert!(ran.out.is_empty());
    }
    let ran = run(dir.path(), &["--format", "jsonl", "s.toml", "s.toml"]);
    assert_eq!(ran.code, 0);
}

mod output_file {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_invalid_or_missing_input_leaves_the_target_as_it_was() {
        let dir = temp();
        std::fs::write(dir.path().join("bad.toml"), "[tasks.a]\nsleeep = \"1s\"\n").unwrap();
        std::fs::write(dir.path().join("out.txt"), "keep me").unwrap();
        for input in ["bad.toml", "missing.toml"] {
            let ran = run(dir.path(), &["-o", "out.txt", input]);
            assert_eq!(ran.code, 2);
            let kept = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
            assert_eq!(kept, "keep me", "{input}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn the_target_may_not_be_an_input() {
        let dir = temp();
        let text = "[tasks.a]\nsleeep = \"1s\"\n";
        std::fs::write(dir.path().join("s.toml"), text).unwrap();
        std::os::unix::fs::symlink("s.toml", dir.path().join("link.toml")).unwrap();
        for target in ["s.toml", "./s.toml", "link.toml"] {
            let ran = run(dir.path(), &["-o", target, "s.toml"]);
            assert_eq!(ran.code, 2, "{target}");
            assert!(ran.err.contains("is the input `s.toml`"), "{}", ran.err);
            assert_eq!(
                std::fs::read_to_string(dir.path().join("s.toml")).unwrap(),
                text
            );
        }
    }

    #[test]
    fn a_fifo_is_refused_and_a_symlink_stays_a_symlink() {
        let dir = temp();
        std::fs::write(dir.path().join("s.toml"), logs(1)).unwrap();
        let made = Command::new("mkfifo")
            .arg(dir.path().join("fifo"))
            .status()
            .unwrap();
        assert!(made.success());
        let ran = run(dir.path(), &["-o", "fifo", "s.toml"]);
        assert_eq!(ran.code, 2);
        assert!(ran.err.contains("not a regular file"), "{}", ran.err);
        let fifo = std::fs::symlink_metadata(dir.path().join("fifo")).unwrap();
        assert!(!fifo.is_file());

        std::fs::write(dir.path().join("real.txt"), "old").unwrap();
        std::os::unix::fs::symlink("real.txt", dir.path().join("link.txt")).unwrap();
        let ran = run(dir.path(), &["-o", "link.txt", "s.toml"]);
        assert_eq!(ran.code, 0, "{}", ran.err);
        let link = std::fs::symlink_metadata(dir.path().join("link.txt")).unwrap();
        assert!(link.file_type().is_symlink());
        let written = std::fs::read_to_string(dir.path().join("real.txt")).unwrap();
        assert!(written.contains("x"), "{written}");
    }

    #[test]
    fn new_files_follow_the_umask_and_old_ones_keep_their_mode() {
        let dir = temp();
        std::fs::write(dir.path().join("s.toml"), logs(1)).unwrap();
        std::fs::write(dir.path().join("old.txt"), "").unwrap();
        std::fs::set_permissions(
            dir.path().join("old.txt"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        // The umask is set for the child only, through the shell.
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 027 && '{}' -o new.txt s.toml && '{}' -o old.txt s.toml",
                env!("CARGO_BIN_EXE_scenario-run"),
                env!("CARGO_BIN_EXE_scenario-run")
            ))
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let mode = |f: &str| {
            std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("new.txt"), 0o640);
        assert_eq!(mode("old.txt"), 0o640);
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 022 && '{}' -o new2.txt s.toml",
                env!("CARGO_BIN_EXE_scenario-run")
            ))
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(mode("new2.txt"), 0o644);
    }

    #[test]
    fn a_signal_during_a_run_removes_the_temporary_file() {
        let dir = temp();
        // Real time: the run lasts 30 s unless stopped.
        std::fs::write(dir.path().join("s.toml"), "[tasks.a]\nsleep = \"30s\"\n").unwrap();
        for signal in ["TERM", "INT"] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
                .args(["--clock", "real", "-o", "out.txt", "s.toml"])
                .current_dir(dir.path())
                .spawn()
                .unwrap();
            let hidden = || {
                std::fs::read_dir(dir.path())
                    .unwrap()
                    .filter(|e| {
                        let name = e.as_ref().unwrap().file_name();
                        name.to_string_lossy().starts_with(".scenario-run-")
                    })
                    .count()
            };
            let start = Instant::now();
            while hidden() == 0 {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "no temporary file"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            let killed = Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            let status = child.wait().unwrap();
            assert!(!status.success(), "{signal}");
            assert_eq!(hidden(), 0, "{signal}: the temporary file is left");
            assert!(!dir.path().join("out.txt").exists());
        }
    }
}

mod sweeps {
    use super::*;

    const DEADLOCK: &str =
        "[tasks.a]\nsteps = [{ acquire = \"s\" }, { acquire = \"s\" }]\n\n[semaphores]\ns = 1\n";
    const CHECK: &str = "[tasks.a]\nsleep = \"1s\"\n\n[tasks.main]\nsteps = [{ check = \"a\", state = \"done\" }]\n";
    const EXPECT: &str = "[tasks.a]\nsleep = \"1s\"\n\n[expect]\nmakespan = [\"2s\", \"3s\"]\n";
    const LIMIT: &str = "[tasks.a]\nsteps = [{ forever = [{ sleep = \"1s\" }] }]\n\n[scenario]\ntime_limit = \"10s\"\n";

    #[test]
    fn each_run_is_judged_as_a_single_run_would_be() {
        let dir = temp();
        for (file, text, code, says) in [
            (
                "deadlock.toml",
                DEADLOCK,
                3,
                "deadlock 4 (seeds 0, 1, 2, 3)",
            ),
            ("check.toml", CHECK, 1, "check failed 4 (seeds 0, 1, 2, 3)"),
            (
                "expect.toml",
                EXPECT,
                1,
                "expect failed 4 (seeds 0, 1, 2, 3)",
            ),
            ("limit.toml", LIMIT, 3, "stopped 4 (seeds 0, 1, 2, 3)"),
        ] {
            std::fs::write(dir.path().join(file), text).unwrap();
            let single = run(dir.path(), &[file]);
            assert_eq!(single.code, code, "{file}: {}", single.err);
            let ran = run(dir.path(), &["--runs", "4", file]);
            assert_eq!(ran.code, code, "{file}: {}{}", ran.out, ran.err);
            assert!(ran.out.contains(says), "{file}: {}", ran.out);
            assert!(
                ran.out.contains(&format!("(exit code {code})")),
                "{}",
                ran.out
            );
        }
    }

    #[test]
    fn merge_refuses_shards_no_sweep_could_write() {
        let dir = temp();
        std::fs::write(dir.path().join("s.toml"), CHECK).unwrap();
        let shard = run(dir.path(), &["--runs", "2", "--shard", "1/1", "s.toml"]);
        assert_eq!(shard.code, 1, "{}", shard.err);
        let json = shard.out.trim().to_owned();
        std::fs::write(dir.path().join("good.json"), &json).unwrap();
        let merged = run(dir.path(), &["merge", "good.json"]);
        assert_eq!(merged.code, 1, "{}", merged.err);
        for (forged, says) in [
            (
                json.replace(
                    "\"states\":[2,0,0,0,0]",
                    "\"states\":[2,18446744073709551000,0,0,0]",
                ),
                "counts no sweep could record",
            ),
            (
                json.replace("\"outcome\":\"ok\"", "\"outcome\":\"great\""),
                "unknown outcome `great`",
            ),
            (
                json.replace("\"ending\":\"check failed\"", "\"ending\":\"fine\""),
                "unknown ending `fine`",
            ),
            (
                json.replace("\"seeds\":2", "\"seeds\":18446744073709551615"),
                "a sweep has 1 to 1000000",
            ),
            (
                json.replace("\"seeds\":2", "\"seeds\":1"),
                "2 runs of a sweep of 1 seeds",
            ),
            (
                json.replacen(
                    "\"count\":2,\"sum\":2000000000",
                    "\"count\":3,\"sum\":2000000000",
                    1,
                ),
                "histogram",
            ),
        ] {
            assert_ne!(forged, json, "{says}: the forgery did not apply");
            std::fs::write(dir.path().join("bad.json"), &forged).unwrap();
            let ran = run(dir.path(), &["merge", "bad.json"]);
            assert_eq!(ran.code, 2, "{says}: {}", ran.out);
            assert!(ran.err.contains(says), "{says}: {}", ran.err);
        }
    }
}

#[test]
fn values_are_bounded_one_by_one_and_in_all() {
    let dir = temp();
    // 300 workers, each given a new 100 kB text: 30 MB of values in all.
    let text = format!(
        "[scenario]\nmain = \"main\"\n\n[tasks.worker]\nargs = {{ blob = \"\" }}\nsleep = \"1s\"\n\n\
         [tasks.main]\nargs = {{ big = \"{}\" }}\n\
         steps = [{{ spawn = \"worker\", count = 300, args = {{ blob = \"{{big}}!\" }}, as = \"w\" }}, {{ gather = \"w\" }}]\n",
        "x".repeat(100_000)
    );
    std::fs::write(dir.path().join("blobs.toml"), text).unwrap();
    let ran = run(dir.path(), &["--summary", "blobs.toml"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    let ran = run(
        dir.path(),
        &["--summary", "--max-values-built", "10000000", "blobs.toml"],
    );
    assert_eq!(ran.code, 3, "{}", ran.err);
    assert!(
        ran.err.contains("in task `main`, step `spawn` at line 10, column 10: the run's values would weigh more than 10000000 bytes in all"),
        "{}",
        ran.err
    );
    let ran = run(
        dir.path(),
        &["--summary", "--max-value-bytes", "50000", "blobs.toml"],
    );
    assert_eq!(ran.code, 3, "{}", ran.err);
    assert!(
        ran.err
            .contains("a value would weigh more than 50000 bytes"),
        "{}",
        ran.err
    );
}

/// A chain of `n` tasks, each `call`ing the next.
fn call_chain(n: usize) -> String {
    let mut text = String::from("[scenario]\nmain = \"t0\"\n\n[tasks]\n");
    for i in 0..n - 1 {
        text.push_str(&format!(
            "t{i} = {{ steps = [{{ call = \"t{}\" }}] }}\n",
            i + 1
        ));
    }
    text.push_str(&format!(
        "t{} = {{ steps = [{{ sleep = \"1s\" }}] }}\n",
        n - 1
    ));
    text
}

#[test]
fn call_chains_are_bounded_and_the_deepest_allowed_runs_everywhere() {
    let dir = temp();
    std::fs::write(dir.path().join("deepest.toml"), call_chain(100)).unwrap();
    std::fs::write(dir.path().join("long.toml"), call_chain(7000)).unwrap();
    for args in [
        &["--summary", "deepest.toml"][..],
        &["--runs", "3", "--jobs", "2", "deepest.toml"],
    ] {
        let ran = run(dir.path(), args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err);
    }
    for args in [&["long.toml"][..], &["--runs", "3", "long.toml"]] {
        let ran = run(dir.path(), args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.err);
        assert!(
            ran.err.contains("would run 7000 levels deep"),
            "{}",
            ran.err
        );
        assert!(ran.err.contains("long.toml:5:"), "{}", ran.err);
    }
}

#[test]
fn control_characters_are_escaped_in_every_format() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/control_characters.toml"
    );
    let dir = temp();
    for format in ["text", "jsonl", "chrome", "mermaid", "svg", "html"] {
        let ran = run(dir.path(), &["--format", format, scenario]);
        assert_eq!(ran.code, 0, "{format}: {}", ran.err);
        let raw = ran
            .out
            .chars()
            .find(|c| c.is_control() && *c != '\n' && *c != '\t');
        assert_eq!(raw, None, "{format} writes a raw control character");
        // The Gantt charts (Mermaid, SVG) show no logs; names with control
        // characters are refused (see `scenarios/invalid/names.toml`).
        if format != "mermaid" && format != "svg" {
            assert!(ran.out.contains("u{1b}"), "{format}: {}", ran.out);
        }
        if format == "svg" {
            resvg::usvg::Tree::from_str(&ran.out, &resvg::usvg::Options::default())
                .expect("the SVG parses");
        }
    }
}

#[test]
fn a_closed_standard_error_is_no_crash() {
    let dir = temp();
    let mut text = String::from("[tasks.main]\nsleep = \"1s\"\n");
    for i in 0..1000 {
        text.push_str(&format!("unknown_key_with_a_long_name_{i} = 1\n"));
    }
    std::fs::write(dir.path().join("keys.toml"), text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .args(["check", "keys.toml"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{status}");
}

/// A task group of many tasks, one of which fails at once: the failure
/// cancels the others and the group's exit waits for them, each task
/// touched a bounded number of times (a walk over the group per task
/// would take minutes).
#[test]
fn a_task_group_of_many_tasks_fails_in_linear_time() {
    let dir = temp();
    let text = r#"
[tasks.child]
steps = [{ sleep = "1s" }]

[tasks.bad]
steps = [{ sleep = "1ms" }, { fail = "one of many" }]

[tasks.main]
steps = [
  { try = [
      { task_group = "tg", do = [
          { spawn = "child", into = "tg", count = 100000 },
          { spawn = "bad", into = "tg" },
      ] },
  ], except = [{ log = "caught {error}" }] },
]
"#;
    std::fs::write(dir.path().join("group.toml"), text).unwrap();
    let ran = run(dir.path(), &["run", "--summary", "group.toml"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.contains("100000 cancelled"), "{}", ran.out);
    assert!(ran.took < Duration::from_secs(30), "{:?}", ran.took);
}
