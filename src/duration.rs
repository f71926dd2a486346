//! Durations as people write them (`"250ms"`, `"1.5s"`, `2`) and as traces show them.

/// Parses a duration: a humantime string (`"1.5s"`, `"2m 30s"`) or a plain
/// number of seconds (`"2"`, `"0.5"`). Months and years are refused: `"1M"`
/// would silently mean a month where a minute was meant.
pub(crate) fn parse(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return from_secs(secs);
    }
    if text.starts_with('-') {
        return Err(format!("`{text}`: a duration cannot be negative"));
    }
    if text.chars().any(|c| c == 'M' || c == 'y') || text.contains("month") {
        return Err(format!(
            "`{text}`: months and years are not allowed (write `m` for minutes)"
        ));
    }
    match humantime::parse_duration(text) {
        Ok(d) => u64::try_from(d.as_nanos()).map_err(|_| format!("`{text}` is too long")),
        Err(e) => Err(format!("`{text}` is not a duration: {}", why(&e))),
    }
}

/// What is wrong with a duration, in a few words.
fn why(e: &humantime::DurationError) -> String {
    use humantime::DurationError as E;
    match e {
        E::InvalidCharacter(at) => format!("unexpected character at {}", at + 1),
        E::NumberExpected(0) => "it must start with a number".into(),
        E::NumberExpected(at) => format!("a number is missing at {}", at + 1),
        E::UnknownUnit { unit, .. } => {
            format!("unknown unit `{unit}` (use ns, us, ms, s, m, h or d)")
        }
        E::NumberOverflow => "the number is too large".into(),
        E::Empty => "it is empty".into(),
    }
}

/// A number of seconds as nanoseconds.
pub(crate) fn from_secs(secs: f64) -> Result<u64, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!(
            "a duration cannot be negative or infinite (got {secs})"
        ));
    }
    let ns = (secs * 1e9).round();
    if ns > u64::MAX as f64 / 2.0 {
        return Err(format!("{secs} seconds is too long"));
    }
    Ok(ns as u64)
}

/// Formats nanoseconds to about four significant digits, for reports of
/// many runs: `962.1s`, `2.550s`, `1.24ms`, `0s`.
pub(crate) fn approx(ns: u64) -> String {
    let (value, unit) = match ns {
        0 => return "0s".into(),
        n if n < 1_000 => (n as f64, "ns"),
        n if n < 1_000_000 => (n as f64 / 1e3, "us"),
        n if n < 1_000_000_000 => (n as f64 / 1e6, "ms"),
        n => (n as f64 / 1e9, "s"),
    };
    let decimals = match value {
        v if v >= 1000.0 => 0,
        v if v >= 100.0 => 1,
        v if v >= 10.0 => 2,
        _ => 3,
    };
    format!("{value:.decimals$}{unit}")
}

/// Formats nanoseconds compactly and exactly: `1.5s`, `250ms`, `3s`, `1.000000001s`.
pub(crate) fn format(ns: u64) -> String {
    let (unit, scale) = if ns != 0 && ns < 1_000 {
        ("ns", 1)
    } else if ns != 0 && ns < 1_000_000 {
        ("us", 1_000)
    } else if ns != 0 && ns < 1_000_000_000 {
        ("ms", 1_000_000)
    } else {
        ("s", 1_000_000_000)
    };
    let whole = ns / scale;
    let frac = ns % scale;
    if frac == 0 {
        return format!("{whole}{unit}");
    }
    let digits = scale.ilog10() as usize;
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}{unit}", frac.trim_end_matches('0'))
}

/// How precisely the text trace shows times: the time column in seconds
/// with 3, 6 or 9 decimals; with `Ms` (the default) the summary's durations
/// are humanised (`3m 16.3s`), otherwise exact (`196.284874562s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Milliseconds: `1.235` in the trace, `3m 16.3s` in the summary.
    #[default]
    Ms,
    /// Microseconds: `1.234568`.
    Us,
    /// Nanoseconds, exact: `1.234567891`.
    Ns,
}

/// A virtual time for the trace's time column: seconds with the decimals
/// of a [`Precision`], rounded to the nearest, right-aligned on 4 digits.
pub(crate) struct Stamp(pub u64, pub Precision);

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (unit, digits) = match self.1 {
            Precision::Ms => (1_000_000, 3),
            Precision::Us => (1_000, 6),
            Precision::Ns => (1, 9),
        };
        let units = self.0 / unit + u64::from(self.0 % unit >= unit.div_ceil(2) && unit > 1);
        let per_sec = 1_000_000_000 / unit;
        let (secs, frac) = (units / per_sec, units % per_sec);
        write!(f, "{secs:>4}.{frac:0digits$}")
    }
}

/// A duration for people: `0s`, `850ns`, `12.5us`, `40.5ms`, `1.25s`,
/// `3m 16.3s`, `2h 5m`, `7d`: at most three significant decimals below a
/// minute, tenths of a second above, zero parts left out.
pub(crate) fn human(ns: u64) -> String {
    fn trim(value: f64, decimals: usize) -> String {
        let text = format!("{value:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        }
    }
    const SEC: u64 = 1_000_000_000;
    match ns {
        0 => "0s".into(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}us", trim(n as f64 / 1e3, 1)),
        n if n < SEC => format!("{}ms", trim(n as f64 / 1e6, 1)),
        n if n < 60 * SEC - SEC / 2000 => format!("{}s", trim(n as f64 / 1e9, 3)),
        n => {
            let tenths = n / (SEC / 10) + u64::from(n % (SEC / 10) >= SEC / 20);
            let (days, rest) = (tenths / 864_000, tenths % 864_000);
            let (hours, rest) = (rest / 36_000, rest % 36_000);
            let (minutes, tenths) = (rest / 600, rest % 600);
            let mut parts = Vec::new();
            for (v, unit) in [(days, "d"), (hours, "h"), (minutes, "m")] {
                if v > 0 {
                    parts.push(format!("{v}{unit}"));
                }
            }
            if tenths > 0 {
                parts.push(format!("{}s", trim(tenths as f64 / 10.0, 1)));
            }
            parts.join(" ")
        }
    }
}

/// A duration of the summary at a [`Precision`]: humanised at `Ms`, exact otherwise.
pub(crate) fn shown(ns: u64, precision: Precision) -> String {
    match precision {
        Precision::Ms => human(ns),
        Precision::Us | Precision::Ns => format(ns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strings_and_numbers() {
        assert_eq!(parse("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse("250ms"), Ok(250_000_000));
        assert_eq!(parse("2"), Ok(2_000_000_000));
        assert_eq!(parse("0s"), Ok(0));
        assert!(parse("-1s").is_err());
        assert!(parse("1M").is_err());
        assert!(parse("soon").is_err());
    }

    #[test]
    fn approximates_to_four_digits() {
        assert_eq!(approx(962_072_674_303), "962.1s");
        assert_eq!(approx(2_550_136_831), "2.550s");
        assert_eq!(approx(1_240_000), "1.240ms");
        assert_eq!(approx(0), "0s");
        assert_eq!(approx(4_000_000_000_000), "4000s");
    }

    #[test]
    fn formats_exactly() {
        assert_eq!(format(1_500_000_000), "1.5s");
        assert_eq!(format(250_000_000), "250ms");
        assert_eq!(format(0), "0s");
        assert_eq!(format(1_000_000_001), "1.000000001s");
    }

    #[test]
    fn stamps_round_to_their_precision() {
        assert_eq!(Stamp(500_000_000, Precision::Ms).to_string(), "   0.500");
        assert_eq!(Stamp(888_123_456, Precision::Ms).to_string(), "   0.888");
        assert_eq!(Stamp(888_623_456, Precision::Ms).to_string(), "   0.889");
        assert_eq!(Stamp(999_500_000, Precision::Ms).to_string(), "   1.000");
        assert_eq!(Stamp(888_123_456, Precision::Us).to_string(), "   0.888123");
        assert_eq!(
            Stamp(888_123_456, Precision::Ns).to_string(),
            "   0.888123456"
        );
        assert_eq!(
            Stamp(604_800 * 1_000_000_000, Precision::Ms).to_string(),
            "604800.000"
        );
    }

    #[test]
    fn humanises_for_the_summary() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(850), "850ns");
        assert_eq!(human(40_528_309), "40.5ms");
        assert_eq!(human(250_000_000), "250ms");
        assert_eq!(human(2_193_796_172), "2.194s");
        assert_eq!(human(4_000_000_000), "4s");
        assert_eq!(human(59_999_900_000), "1m");
        assert_eq!(human(196_284_874_562), "3m 16.3s");
        assert_eq!(human(1_408_253_878_814), "23m 28.3s");
        assert_eq!(human(3_600_000_000_000), "1h");
        assert_eq!(human(604_800_000_000_000), "7d");
        assert_eq!(shown(196_284_874_562, Precision::Ns), "196.284874562s");
    }
}
