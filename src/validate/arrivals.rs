//! `arrivals = { ... }` on a task: the arrival process that starts it.

use toml::de::DeValue;

use super::reader::Node;
use super::{MAX_COUNT, MAX_DURATION, Validator};
use crate::arrivals::{Arrivals, OpenProcess, Stage, Think, Users};
use crate::duration::{self, Invalid};
use crate::problem::Problem;

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

/// Why a text is not a rate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RateError {
    /// No `/`: `"50"`.
    NoSlash {
        text: String,
    },
    NotANumber {
        text: String,
        number: String,
    },
    Negative {
        text: String,
    },
    /// What follows the `/` is no duration.
    Per {
        text: String,
        invalid: Invalid,
    },
    /// `"5/0s"`.
    ZeroUnit {
        text: String,
    },
}

impl std::fmt::Display for RateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RateError::NoSlash { text } => {
                write!(f, "`{text}` is not a rate: write it as \"50/s\"")
            }
            RateError::NotANumber { text, number } => {
                write!(f, "`{text}`: `{number}` is not a number")
            }
            RateError::Negative { text } => write!(f, "`{text}`: a rate cannot be negative"),
            RateError::Per { text, invalid } => write!(f, "`{text}`: {invalid}"),
            RateError::ZeroUnit { text } => write!(f, "`{text}`: the time unit cannot be 0"),
        }
    }
}

/// Arrivals per second from `"N/unit"` or `"N/duration"`.
pub(crate) fn parse_rate(text: &str) -> Result<f64, RateError> {
    let owned = || text.to_owned();
    let Some((n, per)) = text.split_once('/') else {
        return Err(RateError::NoSlash { text: owned() });
    };
    let n: f64 = n.trim().parse().map_err(|_| RateError::NotANumber {
        text: owned(),
        number: n.trim().to_owned(),
    })?;
    if n < 0.0 || !n.is_finite() {
        return Err(RateError::Negative { text: owned() });
    }
    let per = per.trim();
    let starts_with_digit = per.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    let written = if starts_with_digit {
        per.to_owned()
    } else {
        format!("1{per}")
    };
    let ns = duration::parse(&written).map_err(|invalid| RateError::Per {
        text: owned(),
        invalid,
    })?;
    if ns == 0 {
        return Err(RateError::ZeroUnit { text: owned() });
    }
    Ok(n * 1e9 / ns as f64)
}

#[cfg(test)]
mod tests {
    use super::{RateError, parse_rate};

    #[test]
    fn rates_read_per_unit_or_per_duration() {
        assert_eq!(parse_rate("50/s"), Ok(50.0));
        assert_eq!(parse_rate("3000/min"), Ok(50.0));
        assert_eq!(parse_rate("1/250ms"), Ok(4.0));
        assert_eq!(parse_rate("0.5 / s"), Ok(0.5));
        assert!(parse_rate("50").is_err());
        assert!(parse_rate("x/s").is_err());
        assert!(parse_rate("5/0s").is_err());
        assert!(parse_rate("5/parsec").is_err());
    }

    #[test]
    fn each_rate_error_keeps_its_wording() {
        let text = |t: &str| parse_rate(t).unwrap_err().to_string();
        assert_eq!(text("50"), "`50` is not a rate: write it as \"50/s\"");
        assert_eq!(text("x/s"), "`x/s`: `x` is not a number");
        assert_eq!(text("-5/s"), "`-5/s`: a rate cannot be negative");
        assert_eq!(text("5/0s"), "`5/0s`: the time unit cannot be 0");
        assert!(matches!(parse_rate("5/parsec"), Err(RateError::Per { .. })));
        assert!(
            text("5/parsec")
                .starts_with("`5/parsec`: `1parsec` is not a duration: unknown unit `parsec`")
        );
    }
}
