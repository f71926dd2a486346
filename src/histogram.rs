//! A mergeable histogram of durations: log-linear buckets (32 per power of
//! two, so a bucket is at most ~2.2% wide), exact count, sum, min and max.
//! Two histograms merge by adding counts, so a sweep split over machines
//! merges into exactly the histogram of the whole sweep.

use serde::{Deserialize, Serialize};

const SUB: u32 = 32;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Histogram {
    /// (bucket, count), sorted by bucket, counts above 0.
    pub(crate) buckets: Vec<(u32, u64)>,
    pub(crate) count: u64,
    pub(crate) sum: u128,
    pub(crate) min: u64,
    pub(crate) max: u64,
}

/// The bucket of a value: exact below 32, then 32 per power of two.
fn bucket(v: u64) -> u32 {
    if v < SUB as u64 {
        return v as u32;
    }
    let exp = 63 - v.leading_zeros(); // 5..=63
    let shift = exp - 5;
    let sub = ((v >> shift) as u32) - SUB; // 0..32
    SUB + (exp - 5) * SUB + sub
}

/// The largest value in a bucket.
fn upper(b: u32) -> u64 {
    if b < SUB {
        return b as u64;
    }
    let exp = (b - SUB) / SUB + 5;
    let sub = ((b - SUB) % SUB + SUB) as u64;
    let shift = exp - 5;
    ((sub + 1) << shift).saturating_sub(1)
}

impl Histogram {
    pub(crate) fn record(&mut self, v: u64) {
        let b = bucket(v);
        match self.buckets.binary_search_by_key(&b, |(k, _)| *k) {
            Ok(i) => self.buckets[i].1 += 1,
            Err(i) => self.buckets.insert(i, (b, 1)),
        }
        self.min = if self.count == 0 { v } else { self.min.min(v) };
        self.max = self.max.max(v);
        self.count += 1;
        self.sum += v as u128;
    }

    /// Each bucket's largest value (at most the greatest recorded) with
    /// its count, smallest first.
    pub(crate) fn values(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.buckets
            .iter()
            .map(|(b, n)| (upper(*b).min(self.max).max(self.min), *n))
    }

    pub(crate) fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        for (b, n) in &other.buckets {
            match self.buckets.binary_search_by_key(b, |(k, _)| *k) {
                Ok(i) => self.buckets[i].1 += n,
                Err(i) => self.buckets.insert(i, (*b, *n)),
            }
        }
        self.min = if self.count == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
    }

    /// The nearest-rank percentile, as the upper bound of its bucket (never
    /// above the maximum).
    pub(crate) fn percentile(&self, p: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((p / 100.0 * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return upper(*b).min(self.max).max(self.min);
            }
        }
        self.max
    }

    /// Whether a histogram read from a file could have been recorded:
    /// buckets in order, counts above 0 adding up to `count`, `min <= max`
    /// within the buckets, and a sum no larger than `count` maxima.
    pub(crate) fn is_consistent(&self) -> bool {
        let ordered = self.buckets.windows(2).all(|w| w[0].0 < w[1].0);
        let valid = self
            .buckets
            .iter()
            .all(|(b, n)| *n > 0 && *b <= bucket(u64::MAX));
        let total = self
            .buckets
            .iter()
            .try_fold(0u64, |t, (_, n)| t.checked_add(*n));
        let bounded = self.count == 0
            || (self.min <= self.max
                && self
                    .buckets
                    .first()
                    .is_some_and(|(b, _)| *b == bucket(self.min))
                && self
                    .buckets
                    .last()
                    .is_some_and(|(b, _)| *b == bucket(self.max))
                && self.sum <= self.max as u128 * self.count as u128);
        ordered && valid && total == Some(self.count) && bounded
    }

    pub(crate) fn mean(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            (self.sum / self.count as u128) as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_narrow_and_ordered() {
        let mut last = 0;
        for v in [
            0u64,
            1,
            31,
            32,
            33,
            63,
            64,
            1000,
            1_000_000,
            1 << 40,
            u64::MAX / 3,
        ] {
            let b = bucket(v);
            assert!(b >= last);
            last = b;
            assert!(upper(b) >= v, "{v}");
            assert!(
                (upper(b) - v) as f64 <= v as f64 * 0.032 + 1.0,
                "{v} in bucket up to {}",
                upper(b)
            );
        }
    }

    #[test]
    fn merging_equals_recording_everything() {
        let values: Vec<u64> = (0..1000).map(|i| i * i * 7919 % 1_000_003).collect();
        let mut whole = Histogram::default();
        values.iter().for_each(|v| whole.record(*v));
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        values[..300].iter().for_each(|v| a.record(*v));
        values[300..].iter().for_each(|v| b.record(*v));
        a.merge(&b);
        assert_eq!(a, whole);
    }

    #[test]
    fn percentiles_are_within_a_bucket() {
        let mut h = Histogram::default();
        (1..=1000u64).for_each(|v| h.record(v * 1_000_000));
        let p50 = h.percentile(50.0) as f64 / 1e6;
        assert!((p50 - 500.0).abs() / 500.0 < 0.035, "{p50}");
        assert_eq!(h.percentile(100.0), 1_000_000_000);
        assert_eq!(h.min, 1_000_000);
    }
}
