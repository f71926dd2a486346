//! Monte Carlo sweeps: the same results on any number of threads, shards
//! that merge into exactly the whole sweep, and the benchmark workloads.

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap(),
        text(out.stdout),
        text(out.stderr),
    )
}

const FILE: &str = "scenarios/realistic/etl_dag.toml";

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let one = run(&["--runs", "60", "--jobs", "1", "--shard", "1/1", FILE]);
    let three = run(&["--runs", "60", "--jobs", "3", "--shard", "1/1", FILE]);
    // Most seeds miss the `[expect]` written for seed 12: exit 1, as a run of each would.
    assert_eq!(one.0, 1, "{}", one.2);
    assert_eq!(one.1, three.1);
}

#[test]
fn sharded_and_merged_equals_unsharded() {
    let dir = std::env::temp_dir().join(format!("scenario-run-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = dir.join(format!("part{i}.json"));
        let shard = format!("{i}/3");
        let (code, _, err) = run(&[
            "--runs",
            "50",
            "--shard",
            &shard,
            "-o",
            part.to_str().unwrap(),
            FILE,
        ]);
        assert_eq!(code, 1, "{err}");
        parts.push(part.to_str().unwrap().to_owned());
    }
    let mut merge = vec!["merge", "--json"];
    merge.extend(parts.iter().map(String::as_str));
    let (code, merged, err) = run(&merge);
    assert_eq!(code, 1, "{err}");
    let (_, whole, _) = run(&["--runs", "50", "--shard", "1/1", FILE]);
    assert_eq!(merged, whole);

    // The report of the merge is the report of the whole sweep.
    let mut report = vec!["merge"];
    report.extend(parts.iter().map(String::as_str));
    let (_, merged_report, _) = run(&report);
    let (_, direct, _) = run(&["--runs", "50", "--jobs", "2", FILE]);
    let body = |r: &str| r.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&merged_report), body(&direct));
    assert!(direct.contains("worst seeds"), "{direct}");

    // Overlapping shards are refused.
    let (code, _, err) = run(&["merge", &parts[0], &parts[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("overlap"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_report_gives_the_distribution_and_replayable_seeds() {
    let (code, out, _) = run(&[
        "--runs",
        "40",
        "--seed",
        "100",
        "scenarios/realistic/api_client.toml",
    ]);
    // Three seeds miss the scenario's `[expect]`: exit 1, and their seeds are listed.
    assert_eq!(code, 1);
    assert!(
        out.contains("expect failed 3 (seeds 102, 106, 132)"),
        "{out}"
    );
    assert!(
        out.starts_with("# scenarios/realistic/api_client.toml: 40 runs of seeds 100 to 139"),
        "{out}"
    );
    for needle in [
        "makespan    min ",
        "outcomes    ok 40 (100.0%)",
        "histogram",
        "worst seeds ",
        "request ",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let worst: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("worst seeds "))
        .and_then(|l| l.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!((100..140).contains(&worst));
}

#[test]
fn gen_writes_valid_workloads_of_any_size() {
    let dir = std::env::temp_dir().join(format!("scenario-run-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for w in ["w1", "w2", "w3", "w4"] {
        let (code, text, _) = run(&["gen", w, "--n", "200"]);
        assert_eq!(code, 0);
        let file = dir.join(format!("{w}.toml"));
        std::fs::write(&file, text).unwrap();
        let (code, out, err) = run(&["--summary", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{w}: {out}{err}");
        assert!(out.contains("tasks "), "{out}");
    }
    let (_, w2, _) = run(&["--summary", dir.join("w2.toml").to_str().unwrap()]);
    assert!(
        w2.contains("makespan      2s"),
        "200 tasks, 100 permits, 1s each: {w2}"
    );
    let (_, w3, _) = run(&["--summary", dir.join("w3.toml").to_str().unwrap()]);
    assert!(w3.contains("peak depth"), "{w3}");
    // 200 arrivals at 80 a second: about 2.5 s; 10 servers, all busy at times.
    let (_, w4, _) = run(&["--summary", dir.join("w4.toml").to_str().unwrap()]);
    assert!(w4.contains("tasks         201 done"), "{w4}");
    assert!(w4.contains("servers: peak 10/10 in use"), "{w4}");
    assert!(Path::new(&dir).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The sweep's count of runs whose critical path went through each task
/// definition, and its mean share of the makespan then, recounted from
/// each seed's own run.
#[test]
fn the_critical_path_count_is_each_run_path_summed() {
    const RUNS: u64 = 25;
    let (_, sweep, err) = run(&["--runs", "25", "--format", "jsonl", FILE]);
    let lines: Vec<serde_json::Value> = sweep
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = lines[0]["first_seed"]
        .as_u64()
        .unwrap_or_else(|| panic!("{err}"));
    // Per definition: runs on the path, and the sum of its share (ppm).
    let mut counted: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for seed in first..first + RUNS {
        let (_, out, _) = run(&["--format", "jsonl", "--seed", &seed.to_string(), FILE]);
        let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        let makespan = summary["makespan_ns"].as_u64().unwrap();
        for d in summary["critical_path"]["by_definition"]
            .as_array()
            .unwrap()
        {
            let ns = d["ns"].as_u64().unwrap();
            let e = counted
                .entry(d["name"].as_str().unwrap().to_owned())
                .or_default();
            if ns > 0 {
                e.0 += 1;
                e.1 += (ns as u128 * 1_000_000 / makespan as u128) as u64;
            }
        }
    }
    let mut seen = 0;
    for task in lines.iter().filter(|l| l["kind"] == "task") {
        let name = task["name"].as_str().unwrap();
        let (runs, ppm) = counted.get(name).copied().unwrap_or_default();
        let on = &task["critical_path"];
        assert_eq!(on["runs"].as_u64(), Some(runs), "{name}");
        assert_eq!(
            on["mean_share_ppm"].as_u64(),
            ppm.checked_div(runs),
            "{name}"
        );
        seen += runs;
    }
    assert!(seen >= RUNS, "every run has a path: {counted:?}");
    // The report ranks the definitions most often on the path first; the
    // last step (report) is on it in every run.
    let (_, report, _) = run(&["--runs", "25", FILE]);
    let table = report.split("critical ").nth(1).expect("a critical table");
    assert!(table.lines().nth(1).unwrap().contains("100.0%"), "{table}");
    let row = table.lines().find(|l| l.contains(" report ")).unwrap();
    assert!(row.contains("100.0%"), "{table}");
}
