//! The seeded random stream: SplitMix64, written out so its values never
//! change with a crate upgrade or a platform (a test pins them).
//!
//! Each task instance draws from its own stream, derived from the scenario
//! seed and the instance's identity, so adding a task to a file does not
//! change what the other tasks draw.

/// A SplitMix64 generator.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
    /// Draws taken from the stream since it began.
    drawn: u64,
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a of a name, so a stream depends on the task's name, not its position.
pub(crate) fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            drawn: 0,
        }
    }

    /// The stream of instance `k` of the task whose name hashes to `def_hash`.
    pub(crate) fn for_instance(seed: u64, def_hash: u64, k: u64) -> Rng {
        Rng::new(mix(
            seed ^ mix(def_hash.wrapping_add(mix(k.wrapping_add(GOLDEN))))
        ))
    }

    /// The same stream after `n` more draws: SplitMix64 can jump.
    pub(crate) fn skip(self, n: u64) -> Rng {
        Rng {
            state: self.state.wrapping_add(GOLDEN.wrapping_mul(n)),
            drawn: self.drawn + n,
        }
    }

    /// How many draws were taken from the stream since it began (skips included).
    pub(crate) fn drawn(&self) -> u64 {
        self.drawn
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        self.drawn += 1;
        mix(self.state)
    }

    /// A float in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// An integer in `[lo, hi]`, without modulo bias worth the name
    /// (a 64x64-bit multiply, Lemire's method without the rejection step).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        lo + ((self.next_u64() as u128 * (span as u128 + 1)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream is part of the product: these values must never change.
    #[test]
    fn stream_is_pinned() {
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let mut r = Rng::for_instance(7, name_hash("worker"), 3);
        let draws: Vec<u64> = (0..3).map(|_| r.range(500, 2000)).collect();
        assert_eq!(draws, PINNED_DRAWS);
    }

    const PINNED_DRAWS: [u64; 3] = [779, 1221, 1695];

    #[test]
    fn a_stream_can_be_skipped_and_counted() {
        let start = Rng::for_instance(3, name_hash("w"), 9);
        let mut drawn = start.clone();
        let seen: Vec<u64> = (0..7).map(|_| drawn.next_u64()).collect();
        assert_eq!(drawn.drawn(), 7);
        assert_eq!(start.clone().skip(3).drawn(), 3);
        let mut skipped = start.clone().skip(4);
        assert_eq!(skipped.next_u64(), seen[4]);
    }

    #[test]
    fn range_stays_in_bounds() {
        let mut r = Rng::new(42);
        for _ in 0..10_000 {
            let x = r.range(5, 9);
            assert!((5..=9).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
