//! Monte Carlo sweeps: one scenario under many seeds, in parallel across
//! cores, each run on its own single-threaded executor so each stays
//! deterministic. Results are gathered by seed, so they are identical
//! whatever the number of threads; a sweep can be split into shards
//! (`--shard i/n`) whose JSON results merge into exactly the whole sweep.

use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::ExitCode;
use crate::duration::approx as dur;
use crate::ending::Ending;
use crate::histogram::Histogram;
use crate::limits::Limits;
use crate::model::RunOutcome;
use crate::run::measure;

/// The identity of the results format.
const FORMAT: &str = "scenario-run/sweep";
const VERSION: u32 = 2;
/// The most runs a sweep takes (`--runs`): each run keeps a record.
pub(crate) const MAX_RUNS: u64 = 1_000_000;
/// The largest results file `merge` reads: a sweep of [`MAX_RUNS`] runs
/// writes about 100 MB.
const MAX_RESULTS_BYTES: u64 = 256 << 20;

/// One run of the sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    pub(crate) seed: u64,
    pub(crate) makespan_ns: u64,
    /// `ok`, `failed`, `deadlock` or `stopped`.
    pub(crate) outcome: String,
    /// How the run ended, judged as a single run would be: `ok`,
    /// `check failed`, `expect failed`, `deadlock` or `stopped` (the last
    /// two only when `[expect] outcome` did not expect them).
    pub(crate) ending: String,
}

/// The worst ending of a sweep's runs, as an exit code.
pub(crate) fn exit_code(s: &Sweep) -> ExitCode {
    s.runs
        .iter()
        .filter_map(|r| Ending::named(&r.ending))
        .map(Ending::exit_code)
        .max()
        .unwrap_or(ExitCode::Ok)
}

/// One task definition across the sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TaskStats {
    pub(crate) name: String,
    /// Instances per final state: done, failed, cancelled, skipped, left waiting.
    pub(crate) states: [u64; 5],
    /// Start-to-end durations of the instances that finished.
    pub(crate) durations: Histogram,
    /// Runs in which an instance lay on the critical path.
    #[serde(default)]
    pub(crate) critical_runs: u64,
    /// Its shares of those runs' makespans, in millionths, summed.
    #[serde(default)]
    pub(crate) critical_ppm: u64,
}

impl TaskStats {
    /// Adds another part's counts (the same definition's).
    fn add(&mut self, other: &TaskStats) -> Option<()> {
        for (a, b) in self.states.iter_mut().zip(other.states) {
            *a = a.checked_add(b)?;
        }
        self.durations.merge(&other.durations);
        self.critical_runs = self.critical_runs.checked_add(other.critical_runs)?;
        self.critical_ppm = self.critical_ppm.checked_add(other.critical_ppm)?;
        Some(())
    }
}

/// The results of a sweep, or of one shard of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sweep {
    pub(crate) format: String,
    pub(crate) version: u32,
    pub(crate) scenario: String,
    /// The seeds of the whole sweep: `first_seed .. first_seed + seeds`.
    pub(crate) first_seed: u64,
    pub(crate) seeds: u64,
    /// Every run in this result, by seed.
    pub(crate) runs: Vec<RunRecord>,
    pub(crate) makespan: Histogram,
    pub(crate) tasks: Vec<TaskStats>,
}

/// Which slice of the seeds to run: `i` of `n`, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) i: u64,
    pub(crate) n: u64,
}

impl Shard {
    pub(crate) fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: write i/n, like 2/8 (i from 1 to n)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (i, n) = (
            i.parse::<u64>().map_err(|_| bad())?,
            n.parse::<u64>().map_err(|_| bad())?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { i, n })
    }

    /// This shard's seeds, as offsets into the sweep: contiguous slices.
    fn range(self, total: u64) -> std::ops::Range<u64> {
        let start = total * (self.i - 1) / self.n;
        let end = total * self.i / self.n;
        start..end
    }
}

/// How to run a sweep.
pub(crate) struct Plan<'a> {
    pub(crate) path: &'a str,
    pub(crate) text: &'a str,
    pub(crate) first_seed: Option<u64>,
    pub(crate) runs: u64,
    pub(crate) shard: Option<Shard>,
    pub(crate) threads: usize,
    pub(crate) limits: Limits,
    pub(crate) progress: bool,
    /// `--python`, over `[scenario] python`.
    pub(crate) python: Option<crate::python::Python>,
}

/// Runs the plan; `Err` carries the rendered problems of an invalid file.
pub(crate) fn sweep(plan: &Plan<'_>) -> Result<Sweep, String> {
    let model = crate::validate::validate_for(plan.text, plan.python)
        .map_err(|d| crate::diagnostic::render(plan.path, plan.text, &d, false))?;
    let first = plan.first_seed.unwrap_or(model.seed);
    let offsets = match plan.shard {
        Some(s) => s.range(plan.runs),
        None => 0..plan.runs,
    };
    let names: Vec<String> = model.tasks.iter().map(|t| t.name.clone()).collect();
    let limits = Limits {
        time: plan.limits.time.or(model.time_limit),
        ..plan.limits
    };
    drop(model);
    let count = (offsets.end - offsets.start) as usize;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let empty = Sweep {
        format: FORMAT.into(),
        version: VERSION,
        scenario: plan.path.to_owned(),
        first_seed: first,
        seeds: plan.runs,
        runs: Vec::new(),
        makespan: Histogram::default(),
        tasks: names
            .into_iter()
            .map(|name| TaskStats {
                name,
                ..TaskStats::default()
            })
            .collect(),
    };
    // Each thread folds its runs into its own partial sweep as they end
    // (histograms merge exactly, so the order does not matter): nothing
    // is held per run but its record. Each worker sends its partial sweep
    // to the collector over a channel when it is done.
    let (partials, collected) = async_channel::unbounded::<(Vec<usize>, Sweep)>();
    // One worker: takes the next run until none is left, folding them in.
    let work = || {
        // Each worker has its own model: nothing is shared but the counter.
        let mut model = crate::validate::validate_for(plan.text, plan.python).expect("valid above");
        model.python = plan.python.unwrap_or(model.python);
        let model = Rc::new(model);
        let mut mine = empty.clone();
        let mut order = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= count {
                break;
            }
            let seed = first.wrapping_add(offsets.start + k as u64);
            fold(&mut mine, seed, measure(model.clone(), seed, limits));
            order.push(k);
            done.fetch_add(1, Ordering::Relaxed);
        }
        // The receiver lives until every worker has ended: the send cannot fail.
        let _ = partials.send_blocking((order, mine));
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..plan.threads.max(1) {
            let worker = std::thread::Builder::new().stack_size(crate::limits::STACK_BYTES);
            if worker.spawn_scoped(scope, work).is_err() {
                // No more threads: the ones started share the runs.
                break;
            }
            started += 1;
        }
        if started == 0 {
            // Not even one: this thread does the runs.
            work();
        }
        if plan.progress {
            progress(&done, count);
        }
    });
    let mut sweep = empty;
    let mut records = Vec::new();
    drop(partials);
    while let Ok((order, part)) = collected.try_recv() {
        records.extend(order.into_iter().zip(part.runs));
        sweep.makespan.merge(&part.makespan);
        for (mine, theirs) in sweep.tasks.iter_mut().zip(&part.tasks) {
            mine.add(theirs).expect("a sweep's counts fit");
        }
    }
    records.sort_by_key(|(k, _)| *k);
    sweep.runs = records.into_iter().map(|(_, r)| r).collect();
    Ok(sweep)
}

/// Adds one run to a (partial) sweep.
fn fold(sweep: &mut Sweep, seed: u64, m: crate::run::Measured) {
    sweep.runs.push(RunRecord {
        seed,
        makespan_ns: m.makespan,
        outcome: m.outcome.name().to_owned(),
        ending: m.ending.name().to_owned(),
    });
    sweep.makespan.record(m.makespan);
    for ((stats, (states, durations)), on_path) in
        sweep.tasks.iter_mut().zip(m.tasks).zip(m.critical)
    {
        for (total, n) in stats.states.iter_mut().zip(states) {
            *total += n;
        }
        durations.iter().for_each(|d| stats.durations.record(*d));
        if on_path > 0 {
            stats.critical_runs += 1;
            let ppm = u128::from(on_path) * 1_000_000 / u128::from(m.makespan.max(1));
            stats.critical_ppm += ppm.min(1_000_000) as u64;
        }
    }
}

/// A progress bar on stderr, until every run is done.
fn progress(done: &AtomicUsize, count: usize) {
    use std::io::Write;
    loop {
        let n = done.load(Ordering::Relaxed);
        let filled = (n * 30).checked_div(count).unwrap_or(30).min(30);
        crate::output::warn(&format!(
            "\r[{}{}] {n}/{count} runs",
            "#".repeat(filled),
            " ".repeat(30 - filled)
        ));
        let _ = std::io::stderr().flush();
        if n >= count {
            crate::output::warn("\n");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Merges shards into one sweep; they must be of the same sweep and disjoint.
pub(crate) fn merge(parts: Vec<Sweep>) -> Result<Sweep, String> {
    let mut parts = parts.into_iter();
    let mut all = parts.next().ok_or("nothing to merge")?;
    for part in parts {
        if (
            part.scenario.as_str(),
            part.first_seed,
            part.seeds,
            part.tasks.len(),
        ) != (
            all.scenario.as_str(),
            all.first_seed,
            all.seeds,
            all.tasks.len(),
        ) {
            return Err(format!(
                "results of different sweeps: `{}` seeds {}+{} and `{}` seeds {}+{}",
                all.scenario, all.first_seed, all.seeds, part.scenario, part.first_seed, part.seeds
            ));
        }
        if all.runs.len() + part.runs.len() > all.seeds as usize {
            return Err(format!(
                "the shards hold more runs than the sweep's {} seeds",
                all.seeds
            ));
        }
        all.runs.extend(part.runs);
        all.makespan.merge(&part.makespan);
        for (mine, theirs) in all.tasks.iter_mut().zip(&part.tasks) {
            mine.add(theirs)
                .ok_or("the shards' task counts add up to more than can be counted")?;
        }
    }
    all.runs.sort_by_key(|r| r.seed);
    if all.runs.windows(2).any(|w| w[0].seed == w[1].seed) {
        return Err("the shards overlap: a seed appears twice".into());
    }
    Ok(all)
}

/// Reads a results file, checking its format.
pub(crate) fn read(path: &std::path::Path) -> Result<Sweep, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_RESULTS_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    if text.len() as u64 > MAX_RESULTS_BYTES {
        return Err(format!(
            "`{}` is larger than {MAX_RESULTS_BYTES} bytes: no sweep writes results that large",
            path.display()
        ));
    }
    let sweep: Sweep = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not sweep results: {e}", path.display()))?;
    if sweep.format != FORMAT || sweep.version != VERSION {
        return Err(format!(
            "`{}` is `{}` version {}, not {FORMAT} version {VERSION}",
            path.display(),
            sweep.format,
            sweep.version
        ));
    }
    sound(&sweep).map_err(|why| format!("`{}` is not sweep results: {why}", path.display()))?;
    Ok(sweep)
}

/// Checks what a results file says against what a sweep can record: a
/// seed count within `--runs`, runs of the sweep's seeds with known
/// outcomes, histograms that could have been recorded, and task counts
/// that the runs could have produced.
fn sound(s: &Sweep) -> Result<(), String> {
    if s.seeds == 0 || s.seeds > MAX_RUNS {
        return Err(format!(
            "it claims {} seeds; a sweep has 1 to {MAX_RUNS}",
            s.seeds
        ));
    }
    if s.runs.len() as u64 > s.seeds {
        return Err(format!(
            "it holds {} runs of a sweep of {} seeds",
            s.runs.len(),
            s.seeds
        ));
    }
    for r in &s.runs {
        if r.seed.wrapping_sub(s.first_seed) >= s.seeds {
            return Err(format!("seed {} is not one of the sweep's", r.seed));
        }
        if !RunOutcome::NAMES.contains(&r.outcome.as_str()) {
            return Err(format!(
                "seed {} has the unknown outcome `{}` (outcomes: {})",
                r.seed,
                r.outcome,
                RunOutcome::NAMES.join(", ")
            ));
        }
        if Ending::named(&r.ending).is_none() {
            return Err(format!(
                "seed {} has the unknown ending `{}`",
                r.seed, r.ending
            ));
        }
    }
    if !s.makespan.is_consistent() || s.makespan.count != s.runs.len() as u64 {
        return Err("its makespan histogram does not match its runs".into());
    }
    // A run has at most this many instances of one task definition.
    let most = s.runs.len() as u64 * crate::validate::MAX_COUNT as u64 * 1000;
    for t in &s.tasks {
        let total = t.states.iter().try_fold(0u64, |a, n| a.checked_add(*n));
        if total.is_none_or(|n| n > most) || !t.durations.is_consistent() {
            return Err(format!(
                "task `{}` has counts no sweep could record",
                t.name
            ));
        }
        if t.durations.count > total.unwrap_or(0) {
            return Err(format!(
                "task `{}` has more durations than instances",
                t.name
            ));
        }
    }
    Ok(())
}

/// The distribution, in words and a small histogram.
pub(crate) fn report(s: &Sweep, threads: Option<usize>) -> String {
    let mut out = String::new();
    let n = s.runs.len();
    let on = threads.map_or(String::new(), |t| {
        format!(", on {t} thread{}", if t == 1 { "" } else { "s" })
    });
    let _ = writeln!(
        out,
        "# {}: {n} runs of seeds {} to {}{on}",
        s.scenario,
        s.first_seed,
        s.first_seed + s.seeds.saturating_sub(1)
    );
    if n < s.seeds as usize {
        let _ = writeln!(
            out,
            "# (a shard or partial merge: {n} of {} seeds)",
            s.seeds
        );
    }
    let m = &s.makespan;
    let _ = writeln!(
        out,
        "makespan    min {}  p50 {}  p90 {}  p99 {}  max {}  mean {}",
        dur(m.min),
        dur(m.percentile(50.0)),
        dur(m.percentile(90.0)),
        dur(m.percentile(99.0)),
        dur(m.max),
        dur(m.mean())
    );
    let mut outcomes: Vec<(&str, usize)> = Vec::new();
    for name in crate::model::RunOutcome::NAMES {
        let k = s.runs.iter().filter(|r| r.outcome == name).count();
        if k > 0 {
            outcomes.push((name, k));
        }
    }
    let shown: Vec<String> = outcomes
        .iter()
        .map(|(name, k)| format!("{name} {k} ({:.1}%)", 100.0 * *k as f64 / n.max(1) as f64))
        .collect();
    let _ = writeln!(out, "outcomes    {}", shown.join(", "));
    let _ = writeln!(out, "endings     {}", endings(s));
    let _ = writeln!(out, "histogram   makespan of each run");
    out.push_str(&histogram(s));
    out.push_str(&worst(s));
    let w = s
        .tasks
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(4)
        .max(8);
    let _ = writeln!(
        out,
        "tasks       {:<w$}  {:>7} {:>7} {:>9} {:>7} {:>7}   {:<9} {:<9} {:<9} max",
        "", "done", "failed", "cancelled", "skipped", "waiting", "p50", "p90", "p99"
    );
    for t in &s.tasks {
        let total: u64 = t.states.iter().sum();
        let pct = |k: usize| format!("{:.1}%", 100.0 * t.states[k] as f64 / total.max(1) as f64);
        let d = &t.durations;
        let _ = writeln!(
            out,
            "            {:<w$}  {:>7} {:>7} {:>9} {:>7} {:>7}   {:<9} {:<9} {:<9} {}",
            t.name,
            pct(0),
            pct(1),
            pct(2),
            pct(3),
            pct(4),
            dur(d.percentile(50.0)),
            dur(d.percentile(90.0)),
            dur(d.percentile(99.0)),
            dur(d.max)
        );
    }
    out.push_str(&critical(s));
    out
}

/// How often each task definition lay on the critical path, and its mean
/// share of the makespan in the runs where it did.
fn critical(s: &Sweep) -> String {
    let n = s.runs.len().max(1) as f64;
    let mut on: Vec<&TaskStats> = s.tasks.iter().filter(|t| t.critical_runs > 0).collect();
    if on.is_empty() {
        return String::new();
    }
    on.sort_by(|a, b| {
        b.critical_runs
            .cmp(&a.critical_runs)
            .then(b.critical_ppm.cmp(&a.critical_ppm))
    });
    let w = s
        .tasks
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(4)
        .max(8);
    let mut out = format!(
        "critical    {:<w$}  {:>7}   share of the makespan when on it\n",
        "", "runs"
    );
    for t in on {
        let _ = writeln!(
            out,
            "            {:<w$}  {:>7}   {:.1}%",
            t.name,
            format!("{:.1}%", 100.0 * t.critical_runs as f64 / n),
            t.critical_ppm as f64 / t.critical_runs as f64 / 1e4
        );
    }
    out
}

/// How many runs ended each way, and the first seeds of each bad ending.
fn endings(s: &Sweep) -> String {
    const SEEDS: usize = 10;
    let mut parts = Vec::new();
    for ending in Ending::ALL {
        let seeds: Vec<u64> = s
            .runs
            .iter()
            .filter(|r| r.ending == ending.name())
            .map(|r| r.seed)
            .collect();
        if seeds.is_empty() {
            continue;
        }
        let mut part = format!("{} {}", ending.name(), seeds.len());
        if ending != Ending::Ok {
            let mut shown: Vec<String> = seeds.iter().take(SEEDS).map(u64::to_string).collect();
            if seeds.len() > SEEDS {
                shown.push("...".into());
            }
            let word = if seeds.len() == 1 { "seed" } else { "seeds" };
            part.push_str(&format!(" ({word} {})", shown.join(", ")));
        }
        parts.push(part);
    }
    let code = exit_code(s) as i32;
    format!("{}  (exit code {code})", parts.join(", "))
}

/// Ten equal bins of makespan between the fastest and the slowest run.
fn histogram(s: &Sweep) -> String {
    let (lo, hi) = (s.makespan.min, s.makespan.max);
    let mut out = String::new();
    if s.runs.is_empty() {
        return out;
    }
    const BINS: u64 = 10;
    let width = (hi - lo).div_ceil(BINS).max(1);
    let mut counts = [0usize; BINS as usize];
    for r in &s.runs {
        let b = ((r.makespan_ns - lo) / width).min(BINS - 1);
        counts[b as usize] += 1;
    }
    let peak = *counts.iter().max().unwrap_or(&1);
    let bins = if hi == lo { 1 } else { BINS as usize };
    for (b, count) in counts.iter().enumerate().take(bins) {
        let from = lo + width * b as u64;
        let bar = "#".repeat((count * 40).div_ceil(peak.max(1)));
        let _ = writeln!(
            out,
            "            {:>9} .. {:<9} {bar:<40} {count}",
            dur(from),
            dur(from + width)
        );
    }
    out
}

/// The seeds of the worst runs: stuck, then failing a check or `[expect]`,
/// then stuck as expected, then with a failed task, then the slowest.
fn worst(s: &Sweep) -> String {
    let badness = |r: &RunRecord| match (r.ending.as_str(), r.outcome.as_str()) {
        ("deadlock" | "stopped", _) => 0,
        ("check failed" | "expect failed", _) => 1,
        (_, "deadlock" | "stopped") => 2,
        (_, "failed") => 3,
        _ => 4,
    };
    let mut runs: Vec<&RunRecord> = s.runs.iter().collect();
    runs.sort_by_key(|r| (badness(r), std::cmp::Reverse(r.makespan_ns), r.seed));
    let shown: Vec<String> = runs
        .iter()
        .take(5)
        .map(|r| format!("{} ({}, {})", r.seed, r.outcome, dur(r.makespan_ns)))
        .collect();
    format!(
        "worst seeds {}  (replay one with --seed)\n",
        shown.join(", ")
    )
}

/// The sweep as JSON Lines (`--runs N --format jsonl`): a header, one line
/// per run (by seed), one per task definition, then the `[expect.sweep]`
/// verdicts and a closing summary, each with its `kind`.
pub(crate) fn jsonl(s: &Sweep, verdicts: &[crate::summary::Verdict], code: ExitCode) -> String {
    use serde_json::json;
    let mut out = String::new();
    let mut line = |v: serde_json::Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    line(json!({
        "kind": "sweep",
        "format": "scenario-run/sweep-jsonl",
        "version": 1,
        "scenario": s.scenario,
        "first_seed": s.first_seed,
        "seeds": s.seeds,
    }));
    for r in &s.runs {
        line(json!({
            "kind": "run",
            "seed": r.seed,
            "makespan_ns": r.makespan_ns,
            "outcome": r.outcome,
            "ending": r.ending,
        }));
    }
    for t in &s.tasks {
        let d = &t.durations;
        let stats = (d.count > 0).then(|| {
            json!({
                "p50_ns": d.percentile(50.0),
                "p90_ns": d.percentile(90.0),
                "p99_ns": d.percentile(99.0),
                "max_ns": d.max,
                "mean_ns": d.mean(),
            })
        });
        line(json!({
            "kind": "task",
            "name": t.name,
            "done": t.states[0],
            "failed": t.states[1],
            "cancelled": t.states[2],
            "skipped": t.states[3],
            "left_waiting": t.states[4],
            "durations": stats,
            // Runs whose critical path went through this definition, and
            // its mean share of the makespan (parts per million) in them.
            "critical_path": {
                "runs": t.critical_runs,
                "mean_share_ppm": t.critical_ppm.checked_div(t.critical_runs),
            },
        }));
    }
    for v in verdicts {
        line(json!({
            "kind": "expect",
            "what": v.what,
            "expected": v.expected,
            "actual": v.actual,
            "ok": v.ok,
        }));
    }
    let m = &s.makespan;
    let ok = s.runs.iter().filter(|r| r.ending == "ok").count();
    line(json!({
        "kind": "summary",
        "runs": s.runs.len(),
        "ended_well": ok,
        "makespan": {
            "min_ns": m.min,
            "p50_ns": m.percentile(50.0),
            "p90_ns": m.percentile(90.0),
            "p99_ns": m.percentile(99.0),
            "max_ns": m.max,
            "mean_ns": m.mean(),
        },
        "exit_code": code as i32,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_seeds_once() {
        for total in [0u64, 1, 7, 100, 101] {
            for n in 1..=5 {
                let mut next = 0;
                for i in 1..=n {
                    let r = Shard { i, n }.range(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err());
        assert_eq!(Shard::parse("2/3"), Ok(Shard { i: 2, n: 3 }));
    }
}
