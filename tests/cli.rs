//! The binary as a user runs it: exit codes, streams, options.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap(),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn a_valid_run_exits_0() {
    let (code, out, err) = run(&["scenarios/seed/01_event_loop_gather.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Results: ['Result from A', 'Result from B', 'Result from C']"));
}

#[test]
fn a_failing_main_is_in_the_outcome_and_the_run_still_exits_0() {
    let (code, out, err) = run(&["scenarios/main_fails.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("main          asyncio.run raises ValueError('main gave up')"));
    assert!(out.contains(
        "unretrieved   orphan[0]: Task exception was never retrieved: OSError('nobody awaits me')"
    ));
    let (_, jsonl, _) = run(&["--format", "jsonl", "scenarios/main_fails.toml"]);
    let summary: serde_json::Value = serde_json::from_str(jsonl.lines().last().unwrap()).unwrap();
    assert_eq!(summary["main_raises"], "ValueError('main gave up')");
    assert_eq!(summary["unretrieved_total"], 2);
    assert_eq!(
        summary["unretrieved"][0]["message"],
        "unhandled exception during asyncio.run() shutdown"
    );
    let (_, chrome, _) = run(&["--format", "chrome", "scenarios/main_fails.toml"]);
    assert!(chrome.contains("\"main_raises\":\"ValueError('main gave up')\""));
}

#[test]
fn more_than_20_unretrieved_failures_are_summed_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.toml");
    std::fs::write(
        &file,
        "[tasks.broken]\ncount = 25\nsteps = [{ fail = \"boom\" }]\n",
    )
    .unwrap();
    let (code, out, _) = run(&["--summary", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        out.matches("Task exception was never retrieved").count(),
        20
    );
    assert!(out.contains("unretrieved   ... and 5 more"));
}

#[test]
fn a_failed_check_exits_1() {
    let (code, out, _) = run(&["scenarios/check_failed.toml"]);
    assert_eq!(code, 1);
    assert!(out.contains("FAILED: slow is pending, expected done"));
}

#[test]
fn invalid_input_exits_2_with_located_messages_on_stderr() {
    let (code, out, err) = run(&["scenarios/invalid/unknown_names.toml"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("scenarios/invalid/unknown_names.toml:5:1"),
        "{err}"
    );
    assert!(err.contains("did you mean `sleep`?"), "{err}");
}

#[test]
fn unreadable_inputs_exit_2() {
    let dir = std::env::temp_dir().join(format!("scenario-run-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let latin1 = dir.join("latin1.toml");
    std::fs::write(&latin1, b"[tasks.a]\nsleep = \"1s\" # caf\xe9\n").unwrap();
    for (path, says) in [
        (dir.to_str().unwrap(), "latin1.toml:2:19: not UTF-8"),
        (latin1.to_str().unwrap(), "latin1.toml:2:19: not UTF-8"),
        ("no/such/file.toml", "cannot read"),
    ] {
        let (code, _, err) = run(&[path]);
        assert_eq!(code, 2, "{path}");
        assert!(err.contains(says), "{path}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_worst_exit_code_of_several_files_wins() {
    let (code, _, _) = run(&[
        "scenarios/sleep.toml",
        "scenarios/check_failed.toml",
        "scenarios/invalid/empty.toml",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn seed_option_changes_draws_and_is_reproducible() {
    let file = "scenarios/seed/05_advanced_task_management.toml";
    let a = run(&[file, "--seed", "1"]).1;
    let b = run(&[file, "--seed", "1"]).1;
    let c = run(&[file, "--seed", "2"]).1;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn jsonl_has_integer_times_and_log_messages() {
    let (code, out, _) = run(&[
        "scenarios/seed/01_event_loop_gather.toml",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let log = events.iter().find(|e| e["kind"] == "log").unwrap();
    assert!(log["time_ns"].is_u64() && log["task"].is_string());
    assert_eq!(log["message"], "Event loop demonstration:");
    assert_eq!(events.last().unwrap()["kind"], "summary");
    assert_eq!(events.last().unwrap()["makespan_ns"], 3_000_000_000u64);
    // Three simple_task instances of 1, 2 and 3 s; main alone has no line.
    assert_eq!(
        events.last().unwrap()["tasks_by_definition"],
        serde_json::json!([{
            "name": "simple_task",
            "finished": 3,
            "throughput_per_s": 1.0,
            "p50_ns": 2_000_000_000u64,
            "p90_ns": 3_000_000_000u64,
            "p99_ns": 3_000_000_000u64,
            "max_ns": 3_000_000_000u64,
        }])
    );
}

#[test]
fn summary_only_prints_no_events() {
    let (code, out, _) = run(&["scenarios/limit.toml", "--summary"]);
    assert_eq!(code, 0);
    assert!(!out.contains("started"));
    assert!(out.contains("makespan      4s"), "{out}");
    assert!(out.contains("workers: peak 3/3 in use"), "{out}");
}

#[test]
fn deadlocks_and_limits_exit_3_with_the_reason_on_stderr() {
    let (code, out, err) = run(&["scenarios/stuck/lock_order_cycle.toml"]);
    assert_eq!(code, 3);
    assert!(out.contains("deadlock      alice -> bob -> alice"), "{out}");
    assert!(
        err.contains("alice -> bob -> alice wait on each other"),
        "{err}"
    );

    let (code, out, _) = run(&["--time-limit", "1s", "scenarios/sleep.toml"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("time limit of 1s"), "{out}");

    let (code, out, err) = run(&[
        "--max-steps",
        "5",
        "scenarios/seed/01_event_loop_gather.toml",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(err.contains("more than 5 steps"), "{err}");

    let (code, out, _) = run(&[
        "--max-tasks",
        "2",
        "scenarios/seed/01_event_loop_gather.toml",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("more than 2 tasks"), "{out}");

    // Arrivals of tasks that end at once are never many alive, but every
    // one keeps its slot: the tasks created in all are bounded too.
    let (code, out, err) = run(&[
        "--max-tasks-created",
        "50",
        "scenarios/capacity/api_poisson.toml",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(
        err.contains("more than 50 tasks in all") && err.contains("--max-tasks-created"),
        "{err}"
    );

    let (code, _, _) = run(&[
        "--max-steps-per-instant",
        "2000000",
        "scenarios/daemon.toml",
    ]);
    assert_eq!(code, 0, "a daemon left waiting is not a deadlock");

    let (code, _, err) = run(&[
        "--max-steps-per-instant",
        "5000000000",
        "scenarios/daemon.toml",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("5000000000"), "{err}");
}

#[test]
fn compare_sequential_prints_both_makespans_and_the_speed_up() {
    let (code, out, _) = run(&[
        "--compare",
        "sequential",
        "scenarios/seed/01_event_loop_gather.toml",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("as written    makespan 3s"), "{out}");
    assert!(
        out.contains("sequential    makespan 6s (every sleep blocking)"),
        "{out}"
    );
    assert!(out.contains("speed-up      2.00x"), "{out}");
}

#[test]
fn real_clock_runs_in_scaled_real_time_with_the_same_story() {
    let path = "scenarios/seed/01_event_loop_gather.toml";
    let logs = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(" log "))
            .map(|l| l.split_once(" log ").unwrap().1.trim().to_owned())
            .collect()
    };
    let (_, virtual_out, _) = run(&[path]);
    let started = std::time::Instant::now();
    let (code, out, _) = run(&["--clock", "real", "--speed", "20", path]);
    let wall = started.elapsed();
    assert_eq!(code, 0, "{out}");
    // 3 virtual seconds at 20x: 150ms of real time; generous bounds.
    assert!(wall >= std::time::Duration::from_millis(140), "{wall:?}");
    assert!(wall < std::time::Duration::from_secs(10), "{wall:?}");
    assert!(out.contains("real time at 20x"), "{out}");
    let makespan: f64 = out
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("makespan")?
                .trim()
                .strip_suffix('s')?
                .parse()
                .ok()
        })
        .unwrap();
    assert!(
        (3.0..6.0).contains(&makespan),
        "measured makespan {makespan}"
    );
    let (want, got) = (logs(&virtual_out), logs(&out));
    assert_eq!(want.len(), got.len());
    for (w, g) in want.iter().zip(&got) {
        // Lines that print measured time differ in digits only.
        if !w.contains("completed in") {
            assert_eq!(w, g);
        }
    }
}

/// One readable rule: 3 decimals in the trace, humanised durations in the
/// summary; `--precision ns` gives exact nanoseconds; an unnamed scenario is
/// headed by its file's name.
#[test]
fn times_read_well_and_precision_gives_them_exactly() {
    let (code, out, _) = run(&["scenarios/sleep.toml"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("# sleep.toml  (seed 0, Python 3.13)\n"),
        "{out}"
    );
    assert!(
        out.contains("\n   0.270  drawn    log       slept a uniform draw"),
        "{out}"
    );
    let (_, out, _) = run(&["--precision", "ns", "scenarios/sleep.toml"]);
    assert!(out.contains("\n   0.269931849  drawn    done"), "{out}");
    assert!(out.contains("\n   1.500000000  fixed    done"), "{out}");
    let (_, out, _) = run(&["scenarios/realistic/etl_dag.toml"]);
    assert!(out.contains("\n  makespan      23m 28.3s\n"), "{out}");
    assert!(out.contains("\n1408.254  report"), "{out}");
    let (_, out, _) = run(&["--precision", "ns", "scenarios/realistic/etl_dag.toml"]);
    assert!(out.contains("\n  makespan      1408.253878814s\n"), "{out}");
    let (_, out, _) = run(&["--format", "jsonl", "scenarios/realistic/etl_dag.toml"]);
    assert!(
        out.contains("\"makespan_ns\":1408253878814"),
        "JSON Lines stays exact"
    );
}

#[test]
fn only_and_events_filter_the_text_trace() {
    let file = "scenarios/seed/01_event_loop_gather.toml";
    let (_, out, _) = run(&["--only", "simple_task", "--events", "done", file]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("   ")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("simple_task[") && l.contains(" done "))
    );
    let (_, out, _) = run(&["--only", "simple_task[1],main", "--events", "log", file]);
    assert!(
        out.contains("simple_task[1]") && out.contains("main "),
        "{out}"
    );
    assert!(!out.contains("simple_task[0]"), "{out}");
    assert!(out.contains("\nsummary\n"), "the summary stays whole");
    let (code, _, err) = run(&["--events", "dnoe", file]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `done`?"), "{err}");
    let (code, _, err) = run(&["--only", "simple_tsak", file]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `simple_task`?"), "{err}");
}

/// A release that hands its permit to a waiter says so.
#[test]
fn a_hand_off_names_the_waiter() {
    let (_, out, _) = run(&["scenarios/cancel_releases_permit.toml"]);
    assert!(
        out.contains("released  db: handed to next_in_line (1/1 in use)"),
        "{out}"
    );
}

/// A sequential comparison cut short says which limit and what to raise.
#[test]
fn a_stopped_comparison_names_its_limit() {
    let file = "scenarios/seed/01_event_loop_gather.toml";
    let (_, out, _) = run(&["--compare", "sequential", "--max-steps", "6", file]);
    assert!(
        out.contains(
            "  sequential    stopped: the run took more than 6 steps (raise the limit with --max-steps)"
        ),
        "{out}"
    );
}

/// `--fold` writes consecutive replicas doing the same thing at the same
/// instant as one line, and nothing else changes.
#[test]
fn fold_writes_a_run_of_replicas_as_one_line() {
    let file = "scenarios/realistic/api_client.toml";
    let (_, plain, _) = run(&[file]);
    let (_, folded, _) = run(&["--fold", file]);
    assert!(
        folded.contains("\n   0.000  request[0..99]   created\n"),
        "{folded}"
    );
    assert!(!folded.contains("request[1]       created"), "{folded}");
    assert_eq!(plain.lines().count() - folded.lines().count(), 99);
    let summary = |t: &str| t[t.find("\nsummary\n").unwrap()..].to_owned();
    assert_eq!(summary(&plain), summary(&folded));
}

#[test]
fn set_changes_a_value_for_one_run_and_never_the_file() {
    let file = "scenarios/semaphore.toml";
    let before = std::fs::read_to_string(file).unwrap();
    let (code, out, err) = run(&["--summary", "--set", "semaphores.pool=1", file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("makespan      4s"), "{out}");
    assert!(out.contains("pool: peak 1/1 in use"), "{out}");
    // Several, on any command that reads a scenario.
    let sets = ["--set", "semaphores.pool=1", "--set", "tasks.user.count=2"];
    let (code, out, _) = run(&[&["--summary"], &sets[..], &[file]].concat());
    assert_eq!(code, 0);
    assert!(out.contains("tasks         3 done"), "{out}");
    let (code, out, _) = run(&[&["check"], &sets[..], &[file]].concat());
    assert_eq!((code, out.starts_with("ok  ")), (0, true), "{out}");
    let (code, out, _) = run(&[&["export"], &sets[..], &["python", file]].concat());
    assert_eq!(
        (code, out.contains("asyncio.Semaphore(1)")),
        (0, true),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(file).unwrap(), before);
}

#[test]
fn a_bad_set_exits_2_and_says_why() {
    let file = "scenarios/semaphore.toml";
    // Validated like the file: located at the changed line.
    let (code, _, err) = run(&["--set", "semaphores.pool=0", file]);
    assert_eq!(code, 2);
    assert!(err.contains("semaphore.toml:4:8"), "{err}");
    assert!(err.contains("pool = 0"), "{err}");
    assert!(err.contains("note: with --set semaphores.pool=0"), "{err}");
    for (set, says) in [
        (
            "semaphores.pol=3",
            "`semaphores.pol` is not in the file: did you mean `pool`?",
        ),
        ("tasks.user.count.x=1", "`tasks.user.count` is an integer"),
        ("tasks.user.steps.9.log=x", "past the end"),
        ("pool", "has no `=`"),
    ] {
        let (code, out, err) = run(&["--set", set, file]);
        assert_eq!(code, 2, "{set}");
        assert!(out.is_empty() && err.contains(says), "{set}: {err}");
    }
    let (code, _, err) = run(&["test", "--set", "a=1", "scenarios"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("give it to run, check, graph or export"),
        "{err}"
    );
}

#[test]
fn grid_runs_the_sweep_for_each_value_and_prints_a_line_each() {
    let file = "scenarios/semaphore.toml";
    let (code, out, err) = run(&["--runs", "20", "--grid", "semaphores.pool=1,2,4", file]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].contains("grid over semaphores.pool, 20 runs each"),
        "{out}"
    );
    assert!(lines[1].starts_with("semaphores.pool  ok"), "{out}");
    // Four users each holding a permit for 1s: more permits, shorter runs.
    for (line, value, makespan) in [(2, "1", "4.000s"), (3, "2", "2.000s"), (4, "4", "1.000s")] {
        let cells: Vec<&str> = lines[line].split_whitespace().collect();
        assert_eq!(
            (cells[0], cells[1], cells[2]),
            (value, "100.0%", makespan),
            "{out}"
        );
    }
    // Two paths: a line per pair, the first path outermost.
    let (code, out, _) = run(&[
        "--runs",
        "5",
        "--grid",
        "semaphores.pool=1,2",
        "--grid",
        "tasks.user.count=1,4",
        file,
    ]);
    assert_eq!(code, 0);
    let pairs: Vec<String> = out
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(pairs, ["1 1", "1 4", "2 1", "2 4"], "{out}");
    let (code, _, err) = run(&["--grid", "semaphores.pool=1,2", file]);
    assert_eq!(code, 2);
    assert!(err.contains("give --runs N"), "{err}");
    let (code, _, err) = run(&["--runs", "5", "--grid", "semaphores.pool=1,0", file]);
    assert_eq!(code, 2);
    assert!(
        err.contains("pool = 0") && err.contains("--set semaphores.pool=0"),
        "{err}"
    );
}

#[test]
fn a_grid_and_a_sweep_write_html_pages_with_their_charts() {
    let file = "scenarios/semaphore.toml";
    let (code, out, err) = run(&[
        "--runs",
        "10",
        "--grid",
        "semaphores.pool=1,2,4",
        "--format",
        "html",
        file,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
    // A chart per metric: the share of runs ending well, the makespan's
    // p99, and each task's latency p99 (user, manual), each through 3 values.
    assert!(out.contains("<h2>makespan p99 against semaphores.pool</h2>"));
    assert!(out.contains("<h2>user latency p99 against semaphores.pool</h2>"));
    assert_eq!(out.matches("<svg").count(), 4, "{out}");
    assert_eq!(out.matches("<circle").count(), 12, "{out}");
    // Four users holding a permit for 1s each: 4s with one permit.
    assert!(out.contains("semaphores.pool = 1: 4.000s"), "{out}");
    let (code, out, err) = run(&["--runs", "10", "--format", "html", file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("<h2>Makespan</h2>") && out.contains("<h2>Task latency, cumulative</h2>"));
    assert!(
        out.contains("<td>user</td><td>40</td><td>100.0%</td>"),
        "{out}"
    );
    assert!(out.contains("10 runs, seeds 0 to 9."), "{out}");
    let (code, _, err) = run(&[
        "--runs",
        "5",
        "--grid",
        "semaphores.pool=1,2",
        "--format",
        "svg",
        file,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--grid writes its table as text, or as html"),
        "{err}"
    );
}

#[test]
fn sweep_thresholds_judge_the_sweep_as_a_whole() {
    let file = "scenarios/sweep_thresholds.toml";
    // A third of the runs see a failed request, but the stated share (30%)
    // is met: the share decides, not the worst run.
    let (code, out, err) = run(&["--runs", "200", file]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("endings     ok 134, expect failed 66"),
        "{out}"
    );
    assert!(
        out.contains("  ok    runs that ended well: 67% (134 of 200)"),
        "{out}"
    );
    assert!(
        out.contains("  ok    makespan p95 over the runs: 1.069s"),
        "{out}"
    );
    assert!(
        out.contains("  ok    p99 of request over the runs: 1.040s"),
        "{out}"
    );
    // Unmet, the sweep exits 1 and names seeds to replay.
    let (code, out, _) = run(&["--runs", "200", "--set", "expect.sweep.ok=0.99", file]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL  runs that ended well: expected at least 99%, got 67% (134 of 200); replay with --seed 12 (or 13, 14, 15, 17)"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "--runs",
        "200",
        "--set",
        "expect.sweep.makespan.p95=1s",
        file,
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL  makespan p95 over the runs: expected at most 1.000s, got 1.069s; replay with --seed 132"),
        "{out}"
    );
    // A single run leaves them to a sweep, and says so.
    let (_, out, _) = run(&["--summary", file]);
    assert!(
        out.contains("--    [expect.sweep]: 3 thresholds judged only over a sweep (--runs N)"),
        "{out}"
    );
}

#[test]
fn a_sweep_writes_json_lines_and_refuses_the_pictures() {
    let file = "scenarios/sweep_thresholds.toml";
    let (code, out, err) = run(&["--runs", "20", "--format", "jsonl", file]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    let mut want = vec!["sweep"];
    want.extend(["run"; 20]);
    want.extend(["task", "expect", "expect", "expect", "summary"]);
    assert_eq!(kinds, want);
    assert_eq!(lines[0]["format"], "scenario-run/sweep-jsonl");
    assert_eq!(lines[1]["seed"], 11);
    let summary = lines.last().unwrap();
    assert_eq!(
        (summary["runs"].as_u64(), summary["exit_code"].as_i64()),
        (Some(20), Some(0))
    );
    let ended_well = lines
        .iter()
        .filter(|l| l["kind"] == "run" && l["ending"] == "ok")
        .count();
    assert_eq!(summary["ended_well"].as_u64(), Some(ended_well as u64));
    for format in ["svg", "chrome", "mermaid"] {
        let (code, out, err) = run(&["--runs", "5", "--format", format, file]);
        assert_eq!(code, 2, "{format}");
        assert!(
            out.is_empty() && err.contains("as text, jsonl or html"),
            "{format}: {err}"
        );
    }
}

#[test]
fn the_critical_path_stops_being_followed_past_its_limit_and_the_run_goes_on() {
    let file = "scenarios/capacity/closed_loop.toml";
    let (code, full, _) = run(&["--summary", file]);
    assert_eq!(code, 0);
    assert!(
        full.contains("critical path  what decided the makespan, in 18 links"),
        "{full}"
    );
    let (code, cut, _) = run(&["--summary", "--max-path-records", "3", file]);
    assert_eq!(code, 0, "the limit does not fail the run");
    assert!(
        cut.contains("critical path  not followed: tasks were made ready more than 3 times (raise the limit with --max-path-records)"),
        "{cut}"
    );
    // Everything else is the same run.
    let before = |s: &str| s.split("\ncritical path").next().unwrap().to_owned();
    assert_eq!(before(&full), before(&cut));
    let (_, json, _) = run(&["--format", "jsonl", "--max-path-records", "3", file]);
    let summary: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert!(
        summary["critical_path"]["not_followed"].is_string(),
        "{summary}"
    );
    // 0: never noted, never shown.
    let (_, off, _) = run(&["--summary", "--max-path-records", "0", file]);
    assert!(!off.contains("critical path"), "{off}");
    let (_, json, _) = run(&["--format", "jsonl", "--max-path-records", "0", file]);
    let summary: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert!(summary["critical_path"].is_null(), "{summary}");
}

#[test]
fn eager_tasks_are_refused_when_python_3_11_overrides_the_file() {
    let (code, _, err) = run(&["--python", "3.11", "scenarios/eager_tasks.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scenarios/eager_tasks.toml:8:15"), "{err}");
    assert!(err.contains("exists from CPython 3.12 on"), "{err}");
    assert!(err.contains("the run follows `--python 3.11`"), "{err}");
}

#[test]
fn eager_first_turns_nested_too_deep_stop_the_run_at_the_spawn() {
    // t0 spawns t1 at its first step, t1 spawns t2, ...: each first turn
    // runs inside the one before.
    let mut text = String::from("[scenario]\neager_tasks = true\n");
    for k in 0..150 {
        let next = match k {
            149 => String::new(),
            _ => format!("{{ spawn = \"t{}\" }}, ", k + 1),
        };
        text.push_str(&format!(
            "\n[tasks.t{k}]\nsteps = [{next}{{ log = \"t{k}\" }}]\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.toml");
    std::fs::write(&file, text).unwrap();
    let (code, _, err) = run(&[file.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("in task `t99[0]`, step `spawn` at line"),
        "{err}"
    );
    assert!(
        err.contains("more than 100 first turns inside one another"),
        "{err}"
    );
}
