//! The hostile-input corpus (`tests/hostile/`): every case of its manifest
//! runs through the built binary in a temporary directory, under a memory
//! limit (`ulimit -v`) and a time limit, and must end by itself with the
//! exit code the manifest gives, never above 3, never by a signal.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space a case may use, in KiB (`ulimit -v`): enough for the
/// values a run may build by default (1 GiB), the 64 MiB stacks, and no more.
const MEMORY_KIB: u64 = 3 << 20;
/// Wall time a case may take (a debug build, on a busy machine).
const TIME: Duration = Duration::from_secs(120);

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");

/// The large files of the corpus, generated rather than kept.
fn generate(dir: &Path) {
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
    write(
        "many_tasks.toml",
        (0..100_000)
            .map(|i| format!("[tasks.t{i}]\nsleep = \"1s\"\n"))
            .collect(),
    );
    let mut keys = String::from("[tasks.main]\nsleep = \"1s\"\n");
    keys.extend((0..100_000).map(|i| format!("k{i} = 1\n")));
    write("unknown_keys.toml", keys);
    let mut chain = String::from("[scenario]\nmain = \"t0\"\n\n[tasks]\n");
    chain
        .extend((0..6999).map(|i| format!("t{i} = {{ steps = [{{ call = \"t{}\" }}] }}\n", i + 1)));
    chain.push_str("t6999 = { steps = [{ sleep = \"1s\" }] }\n");
    write("call_chain.toml", chain);
    write(
        "big_args.toml",
        format!(
            "[scenario]\nmain = \"main\"\n\n[tasks.worker]\nargs = {{ blob = \"\" }}\n\
             steps = [{{ sleep = \"1s\" }}, {{ log = \"{{blob}}\" }}]\n\n\
             [tasks.main]\nargs = {{ big = \"{}\" }}\n\
             steps = [{{ spawn = \"worker\", count = 2000, args = {{ blob = \"{{big}}!\" }}, as = \"w\" }}, {{ gather = \"w\" }}]\n",
            "x".repeat(1_000_000)
        ),
    );
    let mut huge = String::from("[tasks.a]\nsleep = \"1s\"\n");
    huge.push_str(&"# padding to pass 16 MiB\n".repeat(700_000));
    write("huge_input.toml", huge);
}

#[test]
fn no_hostile_input_crashes_hangs_or_exhausts_memory() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(CORPUS).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    generate(dir.path());
    let manifest = std::fs::read_to_string(Path::new(CORPUS).join("manifest.txt")).unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in manifest.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        cases += 1;
        let mut words = line.split_whitespace();
        let want: i32 = words.next().unwrap().parse().expect("an exit code first");
        let args: Vec<String> = words
            .map(|w| w.strip_prefix('@').unwrap_or(w).to_owned())
            .collect();
        match run_limited(dir.path(), &args) {
            Ok(code) if code == want && code <= 3 => {}
            Ok(code) => failures.push(format!("{line}: exit {code}, not {want}")),
            Err(why) => failures.push(format!("{line}: {why}")),
        }
    }
    assert!(cases > 25, "the manifest has only {cases} cases");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Runs the binary with `args` under the limits: its exit code, or how it
/// ended otherwise.
fn run_limited(dir: &Path, args: &[String]) -> Result<i32, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_scenario-run"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return status
                .code()
                .ok_or_else(|| format!("ended by a signal: {status}"));
        }
        if start.elapsed() > TIME {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {TIME:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
