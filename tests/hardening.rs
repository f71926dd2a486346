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
