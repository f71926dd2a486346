//! "Did you mean ...?": the closest of some known names to a misspelt one.

use std::cell::Cell;
use std::fmt;

/// How many names one file's suggestions may compare in all: a file of many
/// misspelt names against many declared ones is still checked in linear
/// time, its later problems without a "did you mean" (docs/limits.md).
pub(crate) const COMPARISONS: u64 = 2_000_000;

thread_local! {
    static LEFT: Cell<u64> = const { Cell::new(COMPARISONS) };
}

/// A new file: the suggestions' budget is whole again.
pub(crate) fn reset_budget() {
    LEFT.with(|left| left.set(COMPARISONS));
}

/// The candidate closest to `name`, when one is close enough to be a typo
/// (and the file's budget of comparisons lasts).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let spent = LEFT.with(|left| {
            let n = left.get();
            left.set(n.saturating_sub(1));
            n == 0
        });
        if spent {
            return None;
        }
        let score = strsim::jaro_winkler(name, candidate);
        // Optimal string alignment counts a swap of two neighbours as one
        // edit: `ulr` is one from `url` (Jaro-Winkler misses swaps in short names).
        let close = score >= 0.8 || strsim::osa_distance(name, candidate) <= name.len().max(3) / 3;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The closest candidate as an owned [`Suggestion`].
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<Suggestion> {
    closest(name, candidates).map(|c| Suggestion(c.to_owned()))
}

/// "did you mean `x`?" for the closest candidate, when one is close enough.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(name, candidates).map(|s| s.to_string())
}

/// A known name that a misspelt one is probably meant to be; shown as
/// "did you mean `x`?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Suggestion(pub(crate) String);

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "did you mean `{}`?", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("sleeep", ["sleep", "log"]).as_deref(),
            Some("did you mean `sleep`?")
        );
        assert_eq!(did_you_mean("zzz", ["sleep", "log"]), None);
        // Two neighbours swapped, in a short name.
        assert_eq!(
            did_you_mean("ulr", ["name", "i", "url"]).as_deref(),
            Some("did you mean `url`?")
        );
    }

    #[test]
    fn the_closest_of_several_wins() {
        assert_eq!(
            closest("retyr", ["retry", "retry_on", "after"]),
            Some("retry")
        );
        assert_eq!(
            suggest("tmeout", ["timeout"]),
            Some(Suggestion("timeout".into()))
        );
    }
}
