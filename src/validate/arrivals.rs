//! `arrivals = { ... }` on a task: the arrival process that starts it.

use toml::de::DeValue;

use super::reader::Node;
use super::{MAX_COUNT, MAX_DURATION, Validator};
use crate::arrivals::{Arrivals, OpenProcess, Stage, Think, Users};
use crate::problem::Problem;
use crate::rate::parse_rate;

/// The keys of `arrivals`.
pub(crate) const KEYS: [&str; 7] = [
    "rate", "poisson", "users", "think", "stages", "duration", "count",
];

/// The keys of a stage.
const STAGE_KEYS: [&str; 2] = ["target", "duration"];

/// The highest rate a file may write: a billion arrivals a second.
const MAX_RATE: f64 = 1e9;

/// The most virtual users.
const MAX_USERS: i64 = 1_000_000;

impl Validator<'_> {
    /// `arrivals = { rate | poisson = "50/s", stages, duration, count }` or
    /// `arrivals = { users = 20, think, duration, count }`.
    pub(super) fn arrivals(&mut self, node: &Node<'_>) -> Option<Arrivals> {
        let t = self.r.table(node, "`arrivals`", &KEYS)?;
        let kinds: Vec<&str> = ["rate", "poisson", "users"]
            .into_iter()
            .filter(|k| t.has(k))
            .collect();
        let kind = match kinds.as_slice() {
            [one] => *one,
            [] => {
                self.r.error(node.span(), Problem::NoArrivalProcess);
                return None;
            }
            [first, second, ..] => {
                let span = t.get(second).map_or(node.span(), |n| n.span());
                self.r
                    .error(span, Problem::TwoArrivalProcesses { first, second });
                return None;
            }
        };
        let count = match t.get("count") {
            Some(c) => Some(self.r.int(c, "`count`", 1, MAX_COUNT)? as u64),
            None => None,
        };
        let duration = match t.get("duration") {
            Some(d) => Some(self.positive_duration(d, "`duration`")?),
            None => None,
        };
        if kind == "users" {
            if let Some(s) = t.get("stages") {
                self.r.error(s.span(), Problem::StagesWithUsers);
            }
            let users = self
                .r
                .int(t.get("users")?, "`users`", 1, MAX_USERS)
                .map(|u| u as u32);
            let think = match t.get("think") {
                Some(n) => match n.get_ref() {
                    DeValue::Table(_) => self.distribution(n, "`think`").map(Think::Drawn),
                    _ => self.r.duration(n, "`think`").map(Think::Fixed),
                },
                None => Some(Think::Fixed(0)),
            };
            if count.is_none() && duration.is_none() {
                self.never_ends(node);
                return None;
            }
            return Some(Arrivals::Closed(Users {
                users: users?,
                think: think?,
                duration,
                count,
            }));
        }
        if let Some(n) = t.get("think") {
            self.r.error(n.span(), Problem::ThinkWithoutUsers);
        }
        let rate = self.rate(t.get(kind)?, &format!("`{kind}`"))?;
        let stages = match t.get("stages") {
            Some(s) => {
                if let Some(d) = t.get("duration") {
                    self.r.error(d.span(), Problem::StagesWithDuration);
                }
                self.stages(s, rate)?
            }
            None => {
                if rate == 0.0 {
                    let n = t.get(kind)?;
                    self.r.error(n.span(), Problem::ZeroRate { kind });
                    return None;
                }
                if count.is_none() && duration.is_none() {
                    self.never_ends(node);
                    return None;
                }
                vec![Stage {
                    from: rate,
                    to: rate,
                    duration: duration.unwrap_or(MAX_DURATION),
                }]
            }
        };
        Some(Arrivals::Open(OpenProcess {
            poisson: kind == "poisson",
            stages,
            count,
        }))
    }

    fn never_ends(&mut self, node: &Node<'_>) {
        self.r.error(node.span(), Problem::ArrivalsNeverEnd);
    }

    fn positive_duration(&mut self, node: &Node<'_>, what: &str) -> Option<u64> {
        let d = self.r.duration(node, what)?;
        if d == 0 {
            self.r.error(
                node.span(),
                Problem::NotPositive {
                    what: what.to_owned(),
                },
            );
            return None;
        }
        Some(d)
    }

    /// `stages = [{ target = "100/s", duration = "30s" }, ...]`: each moves
    /// the rate linearly from where the last ended to its target.
    fn stages(&mut self, node: &Node<'_>, start: f64) -> Option<Vec<Stage>> {
        let DeValue::Array(items) = node.get_ref() else {
            self.r.error(node.span(), Problem::StagesNotArray);
            return None;
        };
        if items.is_empty() {
            self.r.error(node.span(), Problem::NoStages);
            return None;
        }
        let mut out = Vec::new();
        let mut from = start;
        let mut total: u64 = 0;
        let mut ok = true;
        for item in items.iter() {
            let Some(s) = self.r.table(item, "a stage", &STAGE_KEYS) else {
                ok = false;
                continue;
            };
            let (Some(target), Some(d)) = (s.get("target"), s.get("duration")) else {
                self.r.error(item.span(), Problem::IncompleteStage);
                ok = false;
                continue;
            };
            let (Some(to), Some(duration)) = (
                self.rate(target, "`target`"),
                self.positive_duration(d, "a stage's `duration`"),
            ) else {
                ok = false;
                continue;
            };
            total = total.saturating_add(duration);
            out.push(Stage { from, to, duration });
            from = to;
        }
        if total > MAX_DURATION {
            self.r.error(node.span(), Problem::StagesTooLong { total });
            return None;
        }
        if ok && out.iter().all(|s| s.from == 0.0 && s.to == 0.0) {
            self.r.error(node.span(), Problem::AllStagesZero);
            return None;
        }
        ok.then_some(out)
    }

    /// A rate: `"50/s"`, `"3000/min"`, `"1/250ms"`, or a number per second.
    fn rate(&mut self, node: &Node<'_>, what: &str) -> Option<f64> {
        let per_second = match node.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => Ok(self.r.number(node, what)?),
            DeValue::String(s) => parse_rate(s).map_err(Problem::from),
            _ => Err(Problem::NotARate {
                what: what.to_owned(),
            }),
        };
        match per_second {
            Ok(r) if r.is_finite() && (0.0..=MAX_RATE).contains(&r) => Some(r),
            Ok(r) => {
                self.r.error(
                    node.span(),
                    Problem::RateOutOfRange {
                        what: what.to_owned(),
                        rate: r,
                    },
                );
                None
            }
            Err(problem) => {
                self.r.error(node.span(), problem);
                None
            }
        }
    }
}
