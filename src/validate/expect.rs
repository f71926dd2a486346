//! Reads `[expect]`: every name resolved, every bound in range.

use toml::de::DeValue;

use super::Validator;
use super::reader::Node;
use crate::model::{Bounds, Expect, RunOutcome, Selector, Stat, StateName, SweepExpect};
use crate::problem::Problem;
use crate::suggest::suggest;

pub(crate) const KEYS: [&str; 8] = [
    "makespan",
    "outcome",
    "tasks",
    "max_concurrency",
    "max_depth",
    "states",
    "durations",
    "sweep",
];

/// The keys of `[expect.sweep]`.
const SWEEP_KEYS: [&str; 3] = ["ok", "makespan", "durations"];

impl Validator<'_> {
    pub(crate) fn expect(&mut self, node: Option<&Node<'_>>) -> Expect {
        let mut expect = Expect::default();
        let Some(t) = node.and_then(|n| self.r.table(n, "[expect]", &KEYS)) else {
            return expect;
        };
        if let Some(m) = t.get("makespan") {
            expect.makespan = self.bounds(m, "`makespan`", Kind::Duration);
        }
        if let Some(o) = t.get("outcome") {
            expect.outcome = self
                .pick(o, "outcome", &RunOutcome::NAMES)
                .map(|i| RunOutcome::ALL[i]);
        }
        if let Some(tasks) = t.get("tasks") {
            expect.tasks = self.expected_states(tasks);
        }
        if let Some(m) = t.get("max_concurrency") {
            expect.max_concurrency = self.peaks(m, "`max_concurrency`", "semaphore");
        }
        if let Some(m) = t.get("max_depth") {
            expect.max_depth = self.peaks(m, "`max_depth`", "queue");
        }
        if let Some(s) = t.get("states") {
            for (name, span, value) in self.keyed(s, "`states`") {
                let state = self.state_name(&name, span);
                let b = self.bounds(value, "a count", Kind::Count);
                if let (Some(state), Some(b)) = (state, b) {
                    expect.states.push((state, b));
                }
            }
        }
        if let Some(d) = t.get("durations") {
            expect.durations = self.expected_durations(d);
        }
        if let Some(sweep) = t.get("sweep") {
            expect.sweep = self.sweep_expect(sweep);
        }
        expect
    }

    /// `[expect.sweep]`: `ok` (a share: `"99%"` or `0.99`), `makespan` and
    /// `durations` statistics with budgets.
    fn sweep_expect(&mut self, node: &Node<'_>) -> Option<SweepExpect> {
        let t = self.r.table(node, "[expect.sweep]", &SWEEP_KEYS)?;
        let mut sweep = SweepExpect::default();
        if let Some(ok) = t.get("ok") {
            sweep.ok = self.share(ok);
        }
        if let Some(m) = t.get("makespan") {
            for (stat, span, budget) in self.keyed(m, "the sweep's `makespan`") {
                let parsed = self.stat(&stat, span);
                let b = self.bounds(budget, "a duration budget", Kind::Budget);
                if let (Some(stat), Some(b)) = (parsed, b) {
                    sweep.makespan.push((stat, b));
                }
            }
        }
        if let Some(d) = t.get("durations") {
            sweep.durations = self.expected_durations(d);
        }
        Some(sweep)
    }

    /// A share of runs: `"99%"`, `"99.5%"`, or a number from 0.0 to 1.0.
    fn share(&mut self, node: &Node<'_>) -> Option<f64> {
        if let DeValue::String(text) = node.get_ref() {
            let parsed = text
                .trim()
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<f64>().ok())
                .filter(|p| (0.0..=100.0).contains(p));
            return match parsed {
                Some(p) => Some(p / 100.0),
                None => {
                    self.r.error(
                        node.span(),
                        Problem::NotAPercentage {
                            text: text.to_string(),
                        },
                    );
                    None
                }
            };
        }
        self.r
            .probability(node, "the share of runs that must end well (`ok`)")
    }

    /// A statistic's name: `p1`..`p100`, `max` or `mean`.
    fn stat(&mut self, stat: &str, span: std::ops::Range<usize>) -> Option<Stat> {
        let parsed = match stat {
            "max" => Some(Stat::Max),
            "mean" => Some(Stat::Mean),
            p => p
                .strip_prefix('p')
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=100).contains(n))
                .map(Stat::Percentile),
        };
        if parsed.is_none() {
            self.r.error(
                span,
                Problem::UnknownStatistic {
                    name: stat.to_owned(),
                },
            );
        }
        parsed
    }

    /// `{ name = peak }` for semaphores or queues: exact or a range.
    fn peaks(&mut self, node: &Node<'_>, what: &str, kind: &'static str) -> Vec<(u32, Bounds)> {
        let mut out = Vec::new();
        for (name, span, value) in self.keyed(node, what) {
            let id = self.global_ref(&name, span, kind);
            let b = self.bounds(value, "a peak", Kind::Count);
            if let (Some(id), Some(b)) = (id, b) {
                out.push((id, b));
            }
        }
        out
    }

    /// A table's entries as (key, key span, value), or a located problem.
    fn keyed<'a, 'd>(
        &mut self,
        node: &'a Node<'d>,
        what: &str,
    ) -> Vec<(String, std::ops::Range<usize>, &'a Node<'d>)> {
        let Some(t) = self.r.free_table(node, what) else {
            return Vec::new();
        };
        t.items
            .iter()
            .map(|(k, span, v)| (k.to_string(), span.clone(), *v))
            .collect()
    }

    /// `tasks = { merge = "done", "worker[2]" = "failed" }`.
    fn expected_states(&mut self, node: &Node<'_>) -> Vec<(String, Selector, StateName)> {
        let mut out = Vec::new();
        for (label, span, value) in self.keyed(node, "`tasks`") {
            let (name, index) = match label.strip_suffix(']').and_then(|l| l.split_once('[')) {
                Some((name, k)) => (name.to_owned(), k.parse::<u32>().ok()),
                None => (label.clone(), None),
            };
            let def = self.global_ref(&name, span.clone(), "task");
            if label.contains('[') && index.is_none() {
                self.r.error(
                    span.clone(),
                    Problem::InstanceSyntax {
                        label: label.clone(),
                    },
                );
                continue;
            }
            let state = self.pick(value, "state", &StateName::NAMES);
            if let (Some(def), Some(state)) = (def, state) {
                let selector = match index {
                    Some(k) => Selector::Instance(def, k),
                    None => Selector::Def(def),
                };
                out.push((label, selector, state_name(state)));
            }
        }
        out
    }

    /// `durations = { call_api = { p99 = "500ms", max = "2s" } }`.
    fn expected_durations(&mut self, node: &Node<'_>) -> Vec<(u32, Stat, Bounds)> {
        let mut out = Vec::new();
        for (name, span, value) in self.keyed(node, "`durations`") {
            let def = self.global_ref(&name, span, "task");
            let what = format!("the durations of `{name}`");
            for (stat, span, budget) in self.keyed(value, &what) {
                let parsed = self.stat(&stat, span);
                let b = self.bounds(budget, "a duration budget", Kind::Budget);
                if let (Some(def), Some(stat), Some(b)) = (def, parsed, b) {
                    out.push((def, stat, b));
                }
            }
        }
        out
    }

    /// A name of a task, semaphore or queue, with "did you mean".
    fn global_ref(
        &mut self,
        name: &str,
        span: std::ops::Range<usize>,
        kind: &'static str,
    ) -> Option<u32> {
        let names = match kind {
            "task" => &self.globals.tasks,
            "semaphore" => &self.globals.semaphores,
            _ => &self.globals.queues,
        };
        if let Some(i) = names.iter().position(|n| n == name) {
            return Some(i as u32);
        }
        let suggestion = suggest(name, names.iter().map(String::as_str));
        self.r.error(
            span,
            Problem::NoSuchName {
                kind,
                name: name.to_owned(),
                suggestion,
            },
        );
        None
    }

    fn state_name(&mut self, name: &str, span: std::ops::Range<usize>) -> Option<StateName> {
        match StateName::NAMES.iter().position(|n| *n == name) {
            Some(i) => Some(state_name(i)),
            None => {
                let suggestion = suggest(name, StateName::NAMES);
                self.r.error(
                    span,
                    Problem::UnknownState {
                        name: name.to_owned(),
                        suggestion,
                    },
                );
                None
            }
        }
    }

    /// One of `names`, as a string; its index.
    fn pick(
        &mut self,
        node: &Node<'_>,
        what: &'static str,
        names: &'static [&'static str],
    ) -> Option<usize> {
        let s = self.r.string(node, &format!("an {what}"))?;
        let found = names.iter().position(|n| *n == s);
        if found.is_none() {
            let suggestion = suggest(s, names.iter().copied());
            self.r.error(
                node.span(),
                Problem::UnknownChoice {
                    what,
                    name: s.to_owned(),
                    names,
                    suggestion,
                },
            );
        }
        found
    }

    /// An exact value, or a range `[lo, hi]`.
    fn bounds(&mut self, node: &Node<'_>, what: &str, kind: Kind) -> Option<Bounds> {
        let one = |this: &mut Self, n: &Node<'_>| -> Option<u64> {
            match kind {
                Kind::Count => this.r.int(n, what, 0, i64::MAX).map(|v| v as u64),
                Kind::Duration | Kind::Budget => this.r.duration(n, what),
            }
        };
        match node.get_ref() {
            DeValue::Array(items) if items.len() == 2 => {
                let lo = one(self, &items[0]);
                let (lo, hi) = (lo?, one(self, &items[1])?);
                if lo > hi {
                    self.r.error(
                        node.span(),
                        Problem::BackwardsRange {
                            what: what.to_owned(),
                        },
                    );
                    return None;
                }
                Some(Bounds { lo, hi })
            }
            DeValue::Array(_) => {
                self.r.error(
                    node.span(),
                    Problem::NotValueOrRange {
                        what: what.to_owned(),
                    },
                );
                None
            }
            _ => {
                let v = one(self, node)?;
                let lo = if kind == Kind::Budget { 0 } else { v };
                Some(Bounds { lo, hi: v })
            }
        }
    }
}

/// What a bound measures; a budget's single value is an upper bound.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Count,
    Duration,
    Budget,
}

fn state_name(i: usize) -> StateName {
    [
        StateName::Pending,
        StateName::Done,
        StateName::Failed,
        StateName::Cancelled,
        StateName::Finished,
        StateName::Skipped,
    ][i]
}
