//! Task graphs: trigger rules, the exact virtual times of retries, timeout
//! versus deadline, and seeded reproducibility of every distribution.

use scenario_run::{ExitCode, Format, Options, render_to_string};
use serde_json::Value;

/// (seconds, task, kind, detail) of every event of a run.
fn events(text: &str, seed: Option<u64>) -> Vec<(f64, String, String, String)> {
    let options = Options {
        format: Format::Jsonl,
        seed,
        ..Options::default()
    };
    let (out, code) = render_to_string("t.toml", text, &options);
    assert_ne!(code, ExitCode::Invalid, "{out}");
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["time_ns"].is_u64())
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (
                e["time_ns"].as_u64().unwrap() as f64 / 1e9,
                s("task"),
                s("kind"),
                s("detail"),
            )
        })
        .collect()
}

/// The times at which `task` had an event of `kind`.
fn times(evs: &[(f64, String, String, String)], task: &str, kind: &str) -> Vec<f64> {
    evs.iter()
        .filter(|e| e.1 == task && e.2 == kind)
        .map(|e| e.0)
        .collect()
}

fn final_state(evs: &[(f64, String, String, String)], task: &str) -> String {
    evs.iter()
        .rev()
        .find(|e| e.1 == task && ["done", "failed", "cancelled", "skipped"].contains(&e.2.as_str()))
        .map(|e| e.2.clone())
        .unwrap_or_else(|| "pending".into())
}

const UPSTREAM: &str = r#"
[tasks.ok1]
sleep = "1s"
[tasks.ok2]
sleep = "2s"
[tasks.bad]
steps = [{ sleep = "1.5s" }, { fail = "x" }]
"#;

fn with_downstream(after: &str, trigger: &str) -> Vec<(f64, String, String, String)> {
    let text = format!(
        "{UPSTREAM}\n[tasks.down]\nafter = {after}\ntrigger = \"{trigger}\"\nsteps = [{{ log = \"ran\" }}]\n"
    );
    events(&text, None)
}

#[test]
fn all_success_starts_when_all_succeeded_and_skips_at_the_first_failure() {
    let ok = with_downstream(r#"["ok1", "ok2"]"#, "all_success");
    assert_eq!(times(&ok, "down", "started"), [2.0]);
    let bad = with_downstream(r#"["ok2", "bad"]"#, "all_success");
    assert_eq!(times(&bad, "down", "skipped"), [1.5]);
    assert_eq!(final_state(&bad, "down"), "skipped");
}

#[test]
fn all_done_waits_for_every_end() {
    let evs = with_downstream(r#"["ok2", "bad"]"#, "all_done");
    assert_eq!(times(&evs, "down", "started"), [2.0]);
}

#[test]
fn one_success_starts_at_the_first_success_and_skips_when_none() {
    let evs = with_downstream(r#"["bad", "ok1"]"#, "one_success");
    assert_eq!(times(&evs, "down", "started"), [1.0]);
    let none = with_downstream(r#"["bad"]"#, "one_success");
    assert_eq!(final_state(&none, "down"), "skipped");
}

#[test]
fn one_failed_starts_at_the_first_failure_and_skips_when_none() {
    let evs = with_downstream(r#"["ok2", "bad"]"#, "one_failed");
    assert_eq!(times(&evs, "down", "started"), [1.5]);
    let none = with_downstream(r#"["ok1", "ok2"]"#, "one_failed");
    assert_eq!(times(&none, "down", "skipped"), [2.0]);
}

#[test]
fn a_skip_propagates_downstream() {
    let text = format!(
        "{UPSTREAM}\n[tasks.mid]\nafter = \"bad\"\nsleep = \"1s\"\n[tasks.end]\nafter = \"mid\"\nsleep = \"1s\"\n"
    );
    let evs = events(&text, None);
    assert_eq!(final_state(&evs, "mid"), "skipped");
    assert_eq!(times(&evs, "end", "skipped"), [1.5]);
}

#[test]
fn retry_waits_grow_by_factor_up_to_max_backoff() {
    let text = r#"
[tasks.op]
retry = { attempts = 5, backoff = "100ms", factor = 3.0, max_backoff = "1s" }
steps = [{ sleep = "10ms" }, { fail = "down" }]
"#;
    let evs = events(text, None);
    // Attempts start at 0, then after each 10ms try and a wait of
    // 100ms, 300ms, 900ms, 1s (capped).
    let starts: Vec<f64> = std::iter::once(0.0)
        .chain(times(&evs, "op", "attempt"))
        .collect();
    let expect = [0.0, 0.11, 0.42, 1.33, 2.34];
    assert_eq!(starts.len(), expect.len());
    for (got, want) in starts.iter().zip(expect) {
        assert!((got - want).abs() < 1e-9, "{starts:?}");
    }
    assert_eq!(times(&evs, "op", "failed"), [2.35]);
}

#[test]
fn timeout_bounds_an_attempt_and_deadline_the_whole_task() {
    let text = r#"
[tasks.op]
timeout = "1s"
deadline = "3s"
retry = { attempts = 10, backoff = "200ms", factor = 1.0 }
steps = [{ sleep = "5s" }]
"#;
    let evs = events(text, None);
    // Attempts at 0, 1.2, 2.4; each times out after 1s, the third is cut by
    // the deadline at 3s and not retried.
    assert_eq!(times(&evs, "op", "attempt"), [1.2, 2.4]);
    let timeouts: Vec<&str> = evs
        .iter()
        .filter(|e| e.2 == "timeout")
        .map(|e| e.3.as_str())
        .collect();
    assert_eq!(
        timeouts,
        [
            "timed out after 1s",
            "timed out after 1s",
            "deadline of 3s passed"
        ]
    );
    assert_eq!(times(&evs, "op", "failed"), [3.0]);
}

#[test]
fn retry_on_errors_only_leaves_timeouts_alone() {
    let text = r#"
[tasks.op]
timeout = "1s"
retry = { attempts = 3 }
retry_on = ["error"]
steps = [{ sleep = "5s" }]
"#;
    let evs = events(text, None);
    assert!(times(&evs, "op", "attempt").is_empty());
    assert_eq!(times(&evs, "op", "failed"), [1.0]);
}

#[test]
fn every_distribution_is_reproducible_per_seed() {
    for dist in [
        r#"{ uniform = ["0s", "1s"] }"#,
        r#"{ exponential = "1s" }"#,
        r#"{ normal = ["1s", "300ms"] }"#,
        r#"{ lognormal = ["1s", 0.8] }"#,
        r#"{ choice = { "1s" = 1, "2s" = 1, "3s" = 1, "4s" = 1 } }"#,
    ] {
        let text = format!("[tasks.t]\ncount = 20\nsleep = {dist}\n");
        let done = |seed| {
            let evs = events(&text, Some(seed));
            (0..20)
                .map(|k| times(&evs, &format!("t[{k}]"), "done")[0])
                .collect::<Vec<f64>>()
        };
        assert_eq!(done(1), done(1), "{dist}");
        assert_ne!(done(1), done(2), "{dist}: the seed must matter");
    }
}
