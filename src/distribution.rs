//! Delay distributions, each drawn from a task's seeded stream.
//!
//! Every draw uses a fixed number of values from the stream (except the
//! truncated normal, which redraws while the value is negative), and the
//! maths comes from `libm`, a pure-Rust port of musl's, so the same seed
//! gives the same nanoseconds on every platform.

use crate::rng::Rng;

/// A distribution of durations, in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Dist {
    /// Uniform in `[lo, hi]`.
    Uniform(u64, u64),
    /// Exponential with this mean (memoryless service or arrival times).
    Exponential(u64),
    /// Normal with this mean and standard deviation, truncated at 0.
    Normal(u64, u64),
    /// Log-normal with this median and shape `sigma` (long right tail).
    LogNormal(u64, f64),
    /// One of the values, with probability proportional to its weight.
    Choice(Vec<(u64, f64)>),
}

/// How many times a truncated normal redraws before it settles at 0.
const NORMAL_TRIES: u32 = 64;

impl Dist {
    pub(crate) fn sample(&self, rng: &mut Rng) -> u64 {
        match self {
            Dist::Uniform(lo, hi) => rng.range(*lo, *hi),
            Dist::Exponential(mean) => {
                // 1 - u is in (0, 1], so the logarithm is finite.
                to_ns(-(*mean as f64) * libm::log(1.0 - rng.unit()))
            }
            Dist::Normal(mean, sd) => {
                for _ in 0..NORMAL_TRIES {
                    let x = *mean as f64 + *sd as f64 * standard_normal(rng);
                    if x >= 0.0 {
                        return to_ns(x);
                    }
                }
                0
            }
            Dist::LogNormal(median, sigma) => {
                to_ns(*median as f64 * libm::exp(sigma * standard_normal(rng)))
            }
            Dist::Choice(options) => {
                let total: f64 = options.iter().map(|(_, w)| w).sum();
                let mut at = rng.unit() * total;
                for (value, weight) in options {
                    if at < *weight {
                        return *value;
                    }
                    at -= weight;
                }
                options.last().map_or(0, |(v, _)| *v)
            }
        }
    }
}

/// One draw of a standard normal, by Box-Muller (two values of the stream).
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.unit();
    let u2 = rng.unit();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(std::f64::consts::TAU * u2)
}

/// Nanoseconds, rounded, kept within what a duration can hold.
fn to_ns(x: f64) -> u64 {
    x.round().clamp(0.0, (u64::MAX / 2) as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn draws(d: &Dist, seed: u64, n: usize) -> Vec<u64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    fn mean(xs: &[u64]) -> f64 {
        xs.iter().map(|x| *x as f64).sum::<f64>() / xs.len() as f64
    }

    #[test]
    fn same_seed_same_draws_for_every_distribution() {
        let all = [
            Dist::Uniform(0, S),
            Dist::Exponential(S),
            Dist::Normal(S, S / 10),
            Dist::LogNormal(S, 0.5),
            Dist::Choice(vec![(S / 10, 9.0), (2 * S, 1.0)]),
        ];
        for d in &all {
            assert_eq!(draws(d, 42, 100), draws(d, 42, 100), "{d:?}");
            assert_ne!(draws(d, 42, 100), draws(d, 43, 100), "{d:?}");
        }
    }

    #[test]
    fn draws_are_pinned() {
        // These exact values are the stream's contract: if they change,
        // every trace with a distribution changes.
        assert_eq!(draws(&Dist::Exponential(S), 7, 3), pinned::EXPONENTIAL);
        assert_eq!(draws(&Dist::Normal(S, S / 10), 7, 2), pinned::NORMAL);
        assert_eq!(draws(&Dist::LogNormal(S, 0.5), 7, 2), pinned::LOGNORMAL);
    }

    mod pinned {
        pub(super) const EXPONENTIAL: [u64; 3] = [494017260, 16930815, 2310220978];
        pub(super) const NORMAL: [u64; 2] = [1098847433, 813574419];
        pub(super) const LOGNORMAL: [u64; 2] = [1639247289, 393715031];
    }

    #[test]
    fn shapes_are_right_on_average() {
        let n = 20_000;
        let e = mean(&draws(&Dist::Exponential(S), 1, n));
        assert!((e / S as f64 - 1.0).abs() < 0.03, "exponential mean {e}");
        let norm = draws(&Dist::Normal(S, S / 5), 2, n);
        assert!((mean(&norm) / S as f64 - 1.0).abs() < 0.01);
        let truncated = draws(&Dist::Normal(0, S), 3, n);
        assert!(
            truncated.iter().all(|x| *x < 10 * S),
            "truncated at 0, finite"
        );
        let mut ln = draws(&Dist::LogNormal(S, 0.5), 4, n);
        ln.sort_unstable();
        let median = ln[n / 2] as f64 / S as f64;
        assert!((median - 1.0).abs() < 0.03, "lognormal median {median}");
        let c = draws(&Dist::Choice(vec![(1, 9.0), (2, 1.0)]), 5, n);
        let twos = c.iter().filter(|x| **x == 2).count() as f64 / n as f64;
        assert!((twos - 0.1).abs() < 0.01, "choice weight {twos}");
    }
}
