//! `[expect.sweep]`: a `--runs` sweep judged as a whole: the share of runs
//! that ended well (each judged as a single run is), statistics of the
//! runs' makespans (exact: every makespan is kept) and of each task's
//! latencies over every instance of every run (from the sweep's histogram,
//! whose buckets are at most ~2.2% wide).

use std::fmt::Write as _;

use crate::ExitCode;
use crate::duration::approx as dur;
use crate::expect::{show, stat_name, within};
use crate::model::{Model, Stat, SweepExpect};
use crate::montecarlo::Sweep;
use crate::summary::Verdict;

/// At most this many seeds are named for replay.
const SEEDS_SHOWN: usize = 5;

/// Each threshold, checked.
pub(crate) fn judge(expect: &SweepExpect, sweep: &Sweep, model: &Model) -> Vec<Verdict> {
    let mut out = Vec::new();
    let n = sweep.runs.len().max(1);
    if let Some(want) = expect.ok {
        let ok = sweep.runs.iter().filter(|r| r.ending == "ok").count();
        let share = ok as f64 / n as f64;
        let mut v = Verdict::new(
            "runs that ended well".into(),
            format!("at least {}", percent(want)),
            format!("{} ({ok} of {n})", percent(share)),
            share + 1e-12 >= want,
        );
        if !v.ok {
            let bad: Vec<u64> = sweep
                .runs
                .iter()
                .filter(|r| r.ending != "ok")
                .map(|r| r.seed)
                .collect();
            v.actual.push_str(&replay(&bad));
        }
        out.push(v);
    }
    if !expect.makespan.is_empty() {
        let mut sorted: Vec<u64> = sweep.runs.iter().map(|r| r.makespan_ns).collect();
        sorted.sort_unstable();
        for (stat, bounds) in &expect.makespan {
            let Some(got) = stat.of(&sorted) else {
                continue;
            };
            let mut v = Verdict::new(
                format!("makespan {} over the runs", stat_name(*stat)),
                show(*bounds, dur),
                dur(got),
                within(*bounds, got),
            );
            if !v.ok {
                v.actual.push_str(&replay(&longest(sweep)));
            }
            out.push(v);
        }
    }
    for (def, stat, bounds) in &expect.durations {
        let name = &model.tasks[*def as usize].name;
        let what = format!("{} of {name} over the runs", stat_name(*stat));
        let histogram = sweep
            .tasks
            .iter()
            .find(|t| t.name == *name)
            .map(|t| &t.durations)
            .filter(|h| h.count > 0);
        let Some(h) = histogram else {
            out.push(Verdict::new(
                what,
                show(*bounds, dur),
                "no instance finished".into(),
                false,
            ));
            continue;
        };
        let got = match stat {
            Stat::Percentile(p) => h.percentile(f64::from(*p)),
            Stat::Max => h.max,
            Stat::Mean => h.mean(),
        };
        let mut v = Verdict::new(what, show(*bounds, dur), dur(got), within(*bounds, got));
        if !v.ok {
            v.actual.push_str(&replay(&longest(sweep)));
        }
        out.push(v);
    }
    out
}

/// The sweep's exit code under its thresholds: when the share of runs is
/// stated, it decides instead of the worst single run; any unmet threshold
/// is a failed expectation (1).
pub(crate) fn exit_code(expect: &SweepExpect, verdicts: &[Verdict], sweep: &Sweep) -> ExitCode {
    let base = match expect.ok {
        Some(_) => ExitCode::Ok,
        None => crate::montecarlo::exit_code(sweep),
    };
    if verdicts.iter().any(|v| !v.ok) {
        base.max(ExitCode::CheckFailed)
    } else {
        base
    }
}

/// The report's section.
pub(crate) fn report(verdicts: &[Verdict]) -> String {
    let mut out = String::from("sweep expect\n");
    for v in verdicts {
        let _ = if v.ok {
            writeln!(out, "  ok    {}: {}", v.what, v.actual)
        } else {
            writeln!(
                out,
                "  FAIL  {}: expected {}, got {}",
                v.what, v.expected, v.actual
            )
        };
    }
    let failed = verdicts.iter().filter(|v| !v.ok).count();
    if failed > 0 {
        let _ = writeln!(
            out,
            "  {failed} of {} sweep expectations failed",
            verdicts.len()
        );
    }
    out
}

fn percent(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// The seeds of the runs with the longest makespans, longest first.
fn longest(sweep: &Sweep) -> Vec<u64> {
    let mut runs: Vec<(u64, u64)> = sweep.runs.iter().map(|r| (r.makespan_ns, r.seed)).collect();
    runs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    runs.into_iter().map(|(_, seed)| seed).collect()
}

/// "; replay --seed 4 (or 17, 52)" for the first few seeds.
fn replay(seeds: &[u64]) -> String {
    let Some((first, rest)) = seeds.split_first() else {
        return String::new();
    };
    let more: Vec<String> = rest
        .iter()
        .take(SEEDS_SHOWN - 1)
        .map(u64::to_string)
        .collect();
    match more.is_empty() {
        true => format!("; replay with --seed {first}"),
        false => format!("; replay with --seed {first} (or {})", more.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_seeds_read_well() {
        assert_eq!(percent(0.99), "99%");
        assert_eq!(percent(0.375), "37.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(replay(&[]), "");
        assert_eq!(replay(&[7]), "; replay with --seed 7");
        assert_eq!(
            replay(&[1, 2, 3, 4, 5, 6, 7]),
            "; replay with --seed 1 (or 2, 3, 4, 5)"
        );
    }

    #[test]
    fn a_stated_share_decides_the_exit_code() {
        let run = |seed, ending: &str| crate::montecarlo::RunRecord {
            seed,
            makespan_ns: 1,
            outcome: "ok".into(),
            ending: ending.into(),
        };
        let sweep = Sweep {
            format: String::new(),
            version: 0,
            scenario: String::new(),
            first_seed: 0,
            seeds: 2,
            runs: vec![run(0, "ok"), run(1, "deadlock")],
            makespan: Default::default(),
            tasks: Vec::new(),
        };
        let passed = [Verdict::new(
            String::new(),
            String::new(),
            String::new(),
            true,
        )];
        let failed = [Verdict::new(
            String::new(),
            String::new(),
            String::new(),
            false,
        )];
        let with_share = SweepExpect {
            ok: Some(0.5),
            ..Default::default()
        };
        let without = SweepExpect::default();
        assert_eq!(exit_code(&with_share, &passed, &sweep), ExitCode::Ok);
        assert_eq!(
            exit_code(&with_share, &failed, &sweep),
            ExitCode::CheckFailed
        );
        // Without a share, the worst run (a deadlock: 3) still counts.
        assert_eq!(
            exit_code(&without, &passed, &sweep),
            crate::montecarlo::exit_code(&sweep)
        );
        assert_eq!(
            exit_code(&without, &failed, &sweep),
            crate::montecarlo::exit_code(&sweep)
        );
    }
}
