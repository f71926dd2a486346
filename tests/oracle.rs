//! Every seed scenario logs what CPython prints for its program, line for
//! line, at the same virtual times (program 05 draws random numbers: only
//! its shape is compared).

use std::path::Path;

use scenario_run::{Format, Options, Python, render_to_string};

/// (milliseconds, text) of each line the scenario logs.
fn logged(path: &Path) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    // The stored answers are CPython 3.11's.
    let options = Options {
        format: Format::Jsonl,
        python: Some(Python::V3_11),
        ..Options::default()
    };
    let (out, _) = render_to_string(&path.display().to_string(), &text, &options);
    let mut lines = Vec::new();
    for line in out.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["kind"] == "log" {
            let ms = (event["time_ns"].as_u64().unwrap() + 500_000) / 1_000_000;
            for part in event["message"].as_str().unwrap().split('\n') {
                lines.push((ms, part.to_owned()));
            }
        }
    }
    lines
}

/// (milliseconds, text) of each line CPython printed.
fn oracle(name: &str) -> Vec<(u64, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle")
        .join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|line| {
            let (stamp, rest) = line
                .split_once("] ")
                .unwrap_or((line.trim_end_matches(']'), ""));
            let secs: f64 = stamp.trim_start_matches('[').trim().parse().unwrap();
            ((secs * 1000.0).round() as u64, rest.to_owned())
        })
        .collect()
}

/// Python object reprs (`<Task pending ...>`) are CPython's own: compare up to them.
fn comparable(text: &str) -> &str {
    match text.find('<') {
        Some(i) => &text[..i],
        None => text,
    }
}

fn seed_scenarios() -> Vec<(String, std::path::PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/seed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    files.sort();
    files
}

#[test]
fn there_are_nine_seed_scenarios() {
    let names: Vec<String> = seed_scenarios().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 9, "{names:?}");
}

#[test]
fn seed_scenarios_match_cpython() {
    for (name, path) in seed_scenarios() {
        if name.starts_with("05_") {
            continue;
        }
        let ours = logged(&path);
        let theirs = oracle(&name);
        let ours: Vec<(u64, &str)> = ours.iter().map(|(t, s)| (*t, comparable(s))).collect();
        let theirs: Vec<(u64, &str)> = theirs.iter().map(|(t, s)| (*t, comparable(s))).collect();
        assert_eq!(
            ours, theirs,
            "{name}: the scenario's log lines differ from CPython's"
        );
    }
}

/// Catalogue scenarios with an asyncio program of their own (`tests/oracle/programs/`).
#[test]
fn catalogue_scenarios_match_cpython() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("tests/oracle/programs")).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ours = logged(&root.join("scenarios").join(format!("{name}.toml")));
        let ours: Vec<(u64, &str)> = ours.iter().map(|(t, s)| (*t, s.as_str())).collect();
        let theirs = oracle(&name);
        let theirs: Vec<(u64, &str)> = theirs.iter().map(|(t, s)| (*t, s.as_str())).collect();
        assert_eq!(
            ours, theirs,
            "{name}: the scenario's log lines differ from CPython's"
        );
        checked += 1;
    }
    assert!(checked >= 2);
}

/// Program 05: one first completion, four cancellations, then a timeout 1s later.
#[test]
fn program_05_has_cpythons_shape() {
    let (_, path) = seed_scenarios()
        .into_iter()
        .find(|(n, _)| n.starts_with("05_"))
        .unwrap();
    for seed in [0, 1, 2, 3, 7, 42] {
        let text = std::fs::read_to_string(&path).unwrap();
        let options = Options {
            seed: Some(seed),
            format: Format::Jsonl,
            python: Some(Python::V3_11),
            ..Options::default()
        };
        let (out, _) = render_to_string("05", &text, &options);
        let mut ours = Vec::new();
        for line in out.lines() {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            if e["kind"] == "log" {
                for part in e["message"].as_str().unwrap().split('\n') {
                    ours.push((e["time_ns"].as_u64().unwrap(), shape(part)));
                }
            }
        }
        let theirs: Vec<String> = oracle("05_advanced_task_management")
            .iter()
            .map(|(_, s)| shape(s))
            .collect();
        let texts: Vec<String> = ours.iter().map(|(_, s)| s.clone()).collect();
        assert_eq!(texts, theirs, "seed {seed}");
        let first = ours[4].0;
        assert!(
            (500_000_000..=2_000_000_000).contains(&first),
            "first completion within uniform(0.5, 2)"
        );
        assert!(
            ours[4..ours.len() - 1].iter().all(|(t, _)| *t == first),
            "seed {seed}: all at the first completion"
        );
        assert_eq!(
            ours.last().unwrap().0,
            first + 1_000_000_000,
            "seed {seed}: the timeout 1s later"
        );
    }
}

/// Program 05's lines without what the random draws decide.
fn shape(line: &str) -> String {
    let line = comparable(line);
    if line.starts_with("First result: ") || line.starts_with("First task failed: ") {
        return "First outcome".into();
    }
    line.to_owned()
}
