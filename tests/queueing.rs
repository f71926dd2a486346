//! The capacity numbers against queueing theory: open-loop queues (W4 and
//! its one-server variants, made with `--set`) whose mean wait, utilisation,
//! Little's law and throughput (the arrival rate) are known in closed form,
//! and for M/M/1 the latency percentiles too.
//!
//! In CI: 10 seeds of 10,000 arrivals each, and a tolerance of 15% on the
//! mean wait (a queue at 80% utilisation relaxes slowly, so short runs
//! scatter). The longer run tightens it to 5%:
//!
//! ```sh
//! QUEUEING_ARRIVALS=200000 QUEUEING_TOLERANCE=0.05 cargo test --release --test queueing -- --nocapture
//! ```

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scenario-run"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One run's summary line (JSON Lines), with `sets` applied to W4.
fn summary(file: &str, seed: u64, sets: &[&str]) -> serde_json::Value {
    let mut c = bin();
    c.args([
        "--format",
        "jsonl",
        "--summary",
        "--seed",
        &seed.to_string(),
    ]);
    for set in sets {
        c.args(["--set", set]);
    }
    let out = c.arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

struct Measured {
    utilisation: f64,
    /// Mean wait for a server (seconds), over the seeds.
    wait: f64,
    /// The largest gap between L (mean waiting) and lambda * W, relative.
    little: f64,
    /// Requests finished per second (the summary's per-definition line),
    /// over the seeds.
    throughput: f64,
    /// The requests' latency (start to end: wait plus service, seconds),
    /// p50 and p90 over the seeds.
    p50: f64,
    p90: f64,
}

fn measure(sets: &[&str]) -> Measured {
    let arrivals: u64 = env_or("QUEUEING_ARRIVALS", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w4.toml");
    let out = bin()
        .args(["gen", "w4", "--n", &arrivals.to_string()])
        .output()
        .unwrap();
    std::fs::write(&file, out.stdout).unwrap();
    let file = file.to_str().unwrap();
    let (mut utilisation, mut wait, mut little) = (0.0, 0.0, 0.0f64);
    let (mut throughput, mut p50, mut p90) = (0.0, 0.0, 0.0);
    let seeds = 10;
    for seed in 1..=seeds {
        let s = summary(file, seed, sets);
        let sem = &s["semaphores"][0];
        let makespan = s["makespan_ns"].as_f64().unwrap() / 1e9;
        let lambda = sem["acquisitions"].as_f64().unwrap() / makespan;
        let w = sem["wait_mean_ns"].as_f64().unwrap() / 1e9;
        let l = sem["mean_waiting"].as_f64().unwrap();
        utilisation += sem["utilisation"].as_f64().unwrap() / seeds as f64;
        wait += w / seeds as f64;
        little = little.max((l - lambda * w).abs() / l);
        let request = s["tasks_by_definition"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "request")
            .unwrap();
        assert_eq!(
            request["finished"].as_u64(),
            Some(arrivals),
            "every request ends"
        );
        throughput += request["throughput_per_s"].as_f64().unwrap() / seeds as f64;
        p50 += request["p50_ns"].as_f64().unwrap() / 1e9 / seeds as f64;
        p90 += request["p90_ns"].as_f64().unwrap() / 1e9 / seeds as f64;
    }
    Measured {
        utilisation,
        wait,
        little,
        throughput,
        p50,
        p90,
    }
}

fn tolerance() -> f64 {
    env_or("QUEUEING_TOLERANCE", 0.15)
}

/// Checks the measures of an open queue fed at `lambda` a second.
fn check(what: &str, m: &Measured, lambda: f64, rho: f64, wait: f64) {
    let tolerance = tolerance();
    println!(
        "{what}: utilisation {:.4} (theory {rho}), mean wait {:.2} ms (theory {:.2} ms, tolerance {:.0}%), Little's law within {:.2}%, throughput {:.2}/s (theory {lambda})",
        m.utilisation,
        m.wait * 1e3,
        wait * 1e3,
        tolerance * 100.0,
        m.little * 100.0,
        m.throughput
    );
    assert!(
        (m.utilisation - rho).abs() < 0.03,
        "{what}: utilisation {}",
        m.utilisation
    );
    assert!(
        (m.wait - wait).abs() / wait < tolerance,
        "{what}: mean wait {} s, theory {wait} s",
        m.wait
    );
    // L = lambda W, for the waiting line: an identity of the measures.
    assert!(m.little < 0.01, "{what}: Little's law off by {}", m.little);
    // A stable queue passes on what arrives: requests finish at the
    // arrival rate (the makespan adds only the last ones' sojourn).
    assert!(
        (m.throughput - lambda).abs() / lambda < tolerance,
        "{what}: throughput {}/s, arrivals {lambda}/s",
        m.throughput
    );
}

/// M/M/c (Erlang C): lambda 80/s, mu 10/s per server, c = 10.
#[test]
fn mmc_waits_as_erlang_c_says() {
    let (lambda, mu, c) = (80.0f64, 10.0f64, 10u32);
    let a = lambda / mu;
    let rho = a / c as f64;
    let factorial = |k: u32| (1..=k).map(f64::from).product::<f64>();
    let below: f64 = (0..c).map(|k| a.powi(k as i32) / factorial(k)).sum();
    let top = a.powi(c as i32) / factorial(c) / (1.0 - rho);
    let p_wait = top / (below + top);
    let wq = p_wait / (c as f64 * mu - lambda);
    check("M/M/10", &measure(&[]), lambda, rho, wq);
}

/// M/M/1: lambda 8/s, mu 10/s: Wq = rho / (mu - lambda) = 0.4 s. First
/// come, first served, the time in the system (a request's latency) is
/// exponential with rate mu - lambda: its p-quantile is -ln(1 - p) / 2 s.
#[test]
fn mm1_waits_as_theory_says() {
    let sets = [
        "semaphores.servers=1",
        "tasks.main.steps.0.do.0.sleep.exponential=125ms",
    ];
    let m = measure(&sets);
    check("M/M/1", &m, 8.0, 0.8, 0.8 / (10.0 - 8.0));
    let quantile = |p: f64| -(1.0 - p).ln() / (10.0 - 8.0);
    for (name, got, p) in [("p50", m.p50, 0.5), ("p90", m.p90, 0.9)] {
        let want = quantile(p);
        println!(
            "M/M/1: latency {name} {:.2} ms (theory {:.2} ms)",
            got * 1e3,
            want * 1e3
        );
        assert!(
            (got - want).abs() / want < tolerance(),
            "M/M/1: latency {name} {got} s, theory {want} s"
        );
    }
}

/// M/D/1 (Pollaczek-Khinchine): lambda 8/s, a fixed 100 ms service:
/// Wq = rho / (2 mu (1 - rho)) = 0.2 s.
#[test]
fn md1_waits_as_pollaczek_khinchine_says() {
    let sets = [
        "semaphores.servers=1",
        "tasks.main.steps.0.do.0.sleep.exponential=125ms",
        "tasks.request.steps.0.do.0.sleep=\"100ms\"",
    ];
    check("M/D/1", &measure(&sets), 8.0, 0.8, 0.8 / (2.0 * 10.0 * 0.2));
}
