//! `[expect]`: the run's own assertions, checked against what it did.
//! Each gives a verdict with what was expected and what happened.

use crate::duration;
use crate::model::{Bounds, Expect, RunOutcome, Selector, Stat, StateName};
use crate::runtime::{Sim, State};
use crate::summary::{QueueUse, SemaphoreUse, Summary, Verdict};

/// How a finished run ended.
pub(crate) fn outcome_of(summary: &Summary) -> RunOutcome {
    if summary.stopped.is_some() {
        RunOutcome::Stopped
    } else if summary.deadlock.is_some() {
        RunOutcome::Deadlock
    } else if summary.failed > 0 {
        RunOutcome::Failed
    } else {
        RunOutcome::Ok
    }
}

/// Checks every expectation of `expect`, in the order of the README's table;
/// `durations` are the run's, as [`durations`] gives them.
pub(crate) fn evaluate(
    sim: &Sim,
    expect: &Expect,
    summary: &Summary,
    durations: &[Vec<u64>],
) -> Vec<Verdict> {
    let mut out = Vec::new();
    let model = sim.model();
    if let Some(b) = expect.makespan {
        let got = summary.makespan;
        out.push(
            Verdict::new(
                "makespan".into(),
                show(b, duration::format),
                duration::format(got),
                within(b, got),
            )
            .of_duration(got),
        );
    }
    if let Some(want) = expect.outcome {
        let got = outcome_of(summary);
        out.push(Verdict::new(
            "outcome".into(),
            want.name().into(),
            got.name().into(),
            want == got,
        ));
    }
    for (label, selector, want) in &expect.tasks {
        out.push(task_state(sim, label, selector, *want));
    }
    for (sem, b) in &expect.max_concurrency {
        let SemaphoreUse { name, peak, .. } = &summary.semaphores[*sem as usize];
        let what = format!("max concurrency of {name}");
        out.push(count(what, *b, *peak as u64));
    }
    for (q, b) in &expect.max_depth {
        let QueueUse { name, peak, .. } = &summary.queues[*q as usize];
        out.push(count(format!("max depth of {name}"), *b, *peak as u64));
    }
    for (state, b) in &expect.states {
        let n = match state {
            StateName::Pending => summary.pending,
            StateName::Done => summary.done,
            StateName::Failed => summary.failed,
            StateName::Cancelled => summary.cancelled,
            StateName::Skipped => summary.skipped,
            StateName::Finished => {
                summary.done + summary.failed + summary.cancelled + summary.skipped
            }
        };
        let name = StateName::NAMES[*state as usize];
        out.push(count(format!("tasks {name}"), *b, n as u64));
    }
    for (def, stat, b) in &expect.durations {
        let name = &model.tasks[*def as usize].name;
        let what = format!("{} of {name}", stat_name(*stat));
        out.push(match stat.of(&durations[*def as usize]) {
            Some(v) => Verdict::new(
                what,
                show(*b, duration::format),
                duration::format(v),
                within(*b, v),
            )
            .of_duration(v),
            None => Verdict::new(
                what,
                show(*b, duration::format),
                "no instance finished".into(),
                false,
            ),
        });
    }
    out
}

pub(crate) fn within(b: Bounds, v: u64) -> bool {
    (b.lo..=b.hi).contains(&v)
}

fn count(what: String, b: Bounds, got: u64) -> Verdict {
    Verdict::new(
        what,
        show(b, |n| n.to_string()),
        got.to_string(),
        within(b, got),
    )
}

/// `3s`, `at most 500ms`, `at least 2`, or `2.9s..3.1s`.
pub(crate) fn show(b: Bounds, f: impl Fn(u64) -> String) -> String {
    if b.lo == b.hi {
        f(b.lo)
    } else if b.lo == 0 {
        format!("at most {}", f(b.hi))
    } else if b.hi == u64::MAX {
        format!("at least {}", f(b.lo))
    } else {
        format!("{}..{}", f(b.lo), f(b.hi))
    }
}

pub(crate) fn stat_name(stat: Stat) -> String {
    match stat {
        Stat::Percentile(p) => format!("p{p}"),
        Stat::Max => "max".into(),
        Stat::Mean => "mean".into(),
    }
}

/// Start-to-end durations of the finished instances, per task definition
/// (indexed as `model.tasks`), each sorted.
pub(crate) fn durations(sim: &Sim) -> Vec<Vec<u64>> {
    let mut out = vec![Vec::new(); sim.model().tasks.len()];
    sim.each_task(|_, t| {
        if let (Some(start), Some(end)) = (t.started_at(), t.finished_at()) {
            out[t.def() as usize].push(end - start);
        }
    });
    out.iter_mut().for_each(|d| d.sort_unstable());
    out
}

fn task_state(sim: &Sim, label: &str, selector: &Selector, want: StateName) -> Verdict {
    let mut picked: Vec<(u32, State)> = Vec::new();
    sim.each_task(|i, t| {
        let chosen = match selector {
            Selector::Def(d) => t.def() == *d,
            Selector::Instance(d, k) => t.def() == *d && t.k() == *k,
        };
        if chosen {
            picked.push((i, t.state()));
        }
    });
    let matches = |s: State| match want {
        StateName::Finished => s != State::Pending,
        other => StateName::NAMES[other as usize] == s.name(),
    };
    let wrong: Vec<String> = picked
        .iter()
        .filter(|(_, s)| !matches(*s))
        .map(|(t, s)| format!("{} {}", sim.task_name(*t), s.name()))
        .collect();
    let actual = if picked.is_empty() {
        "it never ran".to_owned()
    } else if wrong.is_empty() {
        StateName::NAMES[want as usize].to_owned()
    } else {
        summarise_list(&wrong)
    };
    Verdict::new(
        format!("state of {label}"),
        StateName::NAMES[want as usize].into(),
        actual,
        !picked.is_empty() && wrong.is_empty(),
    )
}

/// The first few items, then how many more.
fn summarise_list(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut out = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        out.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_read_as_people_write_them() {
        let f = |n: u64| n.to_string();
        assert_eq!(show(Bounds { lo: 3, hi: 3 }, f), "3");
        assert_eq!(show(Bounds { lo: 0, hi: 5 }, f), "at most 5");
        assert_eq!(
            show(
                Bounds {
                    lo: 2,
                    hi: u64::MAX
                },
                f
            ),
            "at least 2"
        );
        assert_eq!(show(Bounds { lo: 2, hi: 4 }, f), "2..4");
    }
}
