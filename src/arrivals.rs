//! Arrival processes: a task started by arrivals instead of once.
//!
//! An open process starts instances at instants of its own, whatever the
//! system does with them (k6's `constant-arrival-rate` and
//! `ramping-arrival-rate`, a Poisson stream of requests); a closed one keeps
//! a number of virtual users, each starting an instance, waiting for it to
//! end, thinking, and starting the next.
//!
//! An open process's rate is piecewise linear over stages. Its cumulative
//! intensity `L(t)` (arrivals expected by `t`) is then piecewise quadratic;
//! arrival `k` comes when `L` reaches a target: `k` for a constant process
//! (the first at the start), the running sum of unit exponentials for a
//! Poisson one (a non-homogeneous Poisson process by time rescaling). Each
//! instant is `L`'s inverse at the target, computed in `f64` with exactly
//! the operations the exported Python program performs, and rounded to the
//! nanosecond half to even, as Python's `round` does.

use crate::distribution::Dist;
use crate::rng::Rng;

/// What starts a task's instances, when it is not started once.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arrivals {
    Open(OpenProcess),
    Closed(Users),
}

impl Arrivals {
    /// The name of the random stream a process draws from (its gaps, or a
    /// user's think times): the task's name and the process, which no
    /// task's own stream shares.
    pub(crate) fn stream_name(task: &str) -> String {
        format!("{task}/arrivals")
    }
}

/// Requests arriving at a rate, whatever the system does.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OpenProcess {
    /// Exponential gaps (Poisson); else evenly spaced.
    pub(crate) poisson: bool,
    /// Consecutive stages; the rate moves linearly across each.
    pub(crate) stages: Vec<Stage>,
    /// At most this many arrivals.
    pub(crate) count: Option<u64>,
}

/// A stretch of time over which the rate moves linearly from `from` to `to`
/// (per second).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stage {
    pub(crate) from: f64,
    pub(crate) to: f64,
    /// Nanoseconds.
    pub(crate) duration: u64,
}

/// A closed loop: virtual users, each starting an instance, awaiting its
/// end, thinking, starting the next.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Users {
    pub(crate) users: u32,
    /// The pause between an instance's end and the user's next one.
    pub(crate) think: Think,
    /// No user starts an instance at or after this instant.
    pub(crate) duration: Option<u64>,
    /// At most this many instances, all users together.
    pub(crate) count: Option<u64>,
}

/// A think time: fixed or drawn from the user's stream.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Think {
    Fixed(u64),
    Drawn(Dist),
}

impl Think {
    pub(crate) fn draw(&self, rng: &mut Rng) -> u64 {
        match self {
            Think::Fixed(ns) => *ns,
            Think::Drawn(d) => d.sample(rng),
        }
    }
}

impl OpenProcess {
    /// When the last stage ends: no arrival comes at or after it.
    pub(crate) fn end(&self) -> u64 {
        self.stages
            .iter()
            .fold(0u64, |t, s| t.saturating_add(s.duration))
    }
}

/// Where an open process stands: the next target and the stage it lies in.
#[derive(Clone, Debug)]
pub(crate) struct OpenState {
    /// Arrivals started so far.
    pub(crate) started: u64,
    /// The cumulative intensity the next arrival waits for.
    target: f64,
    /// When the process ends ([`OpenProcess::end`]).
    end: u64,
    /// The stage the search has reached, its start (ns) and the intensity
    /// accumulated before it.
    stage: usize,
    stage_start: u64,
    stage_base: f64,
    rng: Rng,
}

impl OpenState {
    pub(crate) fn new(process: &OpenProcess, rng: Rng) -> OpenState {
        let mut state = OpenState {
            started: 0,
            target: 0.0,
            end: process.end(),
            stage: 0,
            stage_start: 0,
            stage_base: 0.0,
            rng,
        };
        if process.poisson {
            state.target = state.unit_exponential();
        }
        state
    }

    fn unit_exponential(&mut self) -> f64 {
        -(1.0 - self.rng.unit()).ln()
    }

    /// The instant of the next arrival, or `None` once the process is over.
    /// Each call after the first moves to the arrival after.
    pub(crate) fn next(&mut self, process: &OpenProcess) -> Option<u64> {
        if process.count.is_some_and(|n| self.started >= n) {
            return None;
        }
        let at = loop {
            let stage = process.stages.get(self.stage)?;
            let (a, b) = (stage.from, stage.to);
            let seconds = stage.duration as f64 / 1e9;
            let total = (a + b) / 2.0 * seconds;
            let r = self.target - self.stage_base;
            if r < total {
                let c = (b - a) / (2.0 * seconds);
                let x = if r == 0.0 {
                    0.0
                } else {
                    2.0 * r / (a + (a * a + 4.0 * c * r).max(0.0).sqrt())
                };
                let offset = (x * 1e9).round_ties_even();
                let offset = offset.clamp(0.0, stage.duration as f64) as u64;
                break self.stage_start + offset;
            }
            self.stage += 1;
            self.stage_start += stage.duration;
            self.stage_base += total;
        };
        if at >= self.end {
            return None;
        }
        self.started += 1;
        self.target += if process.poisson {
            self.unit_exponential()
        } else {
            1.0
        };
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(rate: f64, seconds: u64) -> OpenProcess {
        OpenProcess {
            poisson: false,
            stages: vec![Stage {
                from: rate,
                to: rate,
                duration: seconds * 1_000_000_000,
            }],
            count: None,
        }
    }

    fn all(process: &OpenProcess) -> Vec<u64> {
        let mut state = OpenState::new(process, Rng::new(7));
        std::iter::from_fn(|| state.next(process)).collect()
    }

    #[test]
    fn a_constant_rate_spaces_arrivals_evenly_from_the_start() {
        let at = all(&constant(50.0, 1));
        assert_eq!(at.len(), 50);
        assert_eq!(at[0], 0);
        assert_eq!(at[1], 20_000_000);
        assert_eq!(at[3], 60_000_000);
        assert_eq!(at[49], 980_000_000);
    }

    #[test]
    fn a_count_stops_the_process() {
        let mut p = constant(10.0, 100);
        p.count = Some(3);
        assert_eq!(all(&p), [0, 100_000_000, 200_000_000]);
    }

    #[test]
    fn a_ramp_from_zero_starts_slowly_and_arrives_as_its_area() {
        // 0 to 10/s over 10s: L(t) = t^2 / 2; arrival k at sqrt(2k) s.
        let p = OpenProcess {
            poisson: false,
            stages: vec![Stage {
                from: 0.0,
                to: 10.0,
                duration: 10_000_000_000,
            }],
            count: None,
        };
        let at = all(&p);
        assert_eq!(at.len(), 50);
        assert_eq!(at[2], 2_000_000_000);
        assert_eq!(at[8], 4_000_000_000);
        assert_eq!(at[32], 8_000_000_000);
    }

    #[test]
    fn stages_follow_each_other() {
        // 2/s for 1s, then nothing for 1s, then 4/s for 1s.
        let stage = |r: f64| Stage {
            from: r,
            to: r,
            duration: 1_000_000_000,
        };
        let p = OpenProcess {
            poisson: false,
            stages: vec![stage(2.0), stage(0.0), stage(4.0)],
            count: None,
        };
        let at = all(&p);
        assert_eq!(
            at,
            [
                0,
                500_000_000,
                2_000_000_000,
                2_250_000_000,
                2_500_000_000,
                2_750_000_000
            ]
        );
    }

    #[test]
    fn poisson_arrivals_come_at_the_rate_on_average() {
        let mut p = constant(100.0, 1000);
        p.poisson = true;
        let at = all(&p);
        // 100,000 expected; the standard deviation is about 316.
        assert!((98_500..101_500).contains(&at.len()), "{}", at.len());
        assert!(at.windows(2).all(|w| w[0] <= w[1]));
        assert!(at[0] > 0);
    }
}
