//! Durations as people write them (`"250ms"`, `"1.5s"`, `2`) and as traces show them.

/// The units a duration may use: every spelling, and its nanoseconds.
const UNITS: [(&[&str], u64); 8] = [
    (
        &["ns", "nsec", "nsecs", "nanos", "nanosecond", "nanoseconds"],
        1,
    ),
    (
        &[
            "us",
            "µs",
            "usec",
            "usecs",
            "micros",
            "microsecond",
            "microseconds",
        ],
        1_000,
    ),
    (
        &[
            "ms",
            "msec",
            "msecs",
            "millis",
            "millisecond",
            "milliseconds",
        ],
        1_000_000,
    ),
    (&["s", "sec", "secs", "second", "seconds"], 1_000_000_000),
    (&["m", "min", "mins", "minute", "minutes"], 60_000_000_000),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600_000_000_000),
    (&["d", "day", "days"], 86_400_000_000_000),
    (&["w", "week", "weeks"], 604_800_000_000_000),
];

/// The longest duration a file may write: 100 years (36,500 days). The
/// clock holds about 584 years; a run that would pass that stops (exit 3).
pub(crate) const MAX_DURATION: u64 = 36_500 * 86_400 * 1_000_000_000;

/// Why a text or a number is not a duration. `understood` is what was read
/// before the problem (empty when nothing was).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Invalid {
    Empty,
    Negative {
        text: String,
    },
    /// A number alone: `"500"`.
    BareNumber {
        text: String,
    },
    /// Not starting with a number: `"s"`, `".5s"`.
    NoNumber {
        text: String,
    },
    /// A malformed number after a first part: `"1s .5ms"`.
    NumberExpected {
        text: String,
        at: String,
        understood: String,
    },
    /// A number without its unit after a first part: `"1m30"`.
    NoUnit {
        text: String,
        number: String,
        understood: String,
    },
    MonthsOrYears {
        text: String,
        unit: String,
    },
    UnknownUnit {
        text: String,
        unit: String,
        number: String,
        understood: String,
    },
    /// Past what the arithmetic holds.
    Overflow {
        text: String,
    },
    /// Past half of `u64::MAX` nanoseconds.
    TooLong {
        text: String,
    },
    BelowResolution {
        text: String,
    },
    /// A number of seconds below 0, or not finite.
    NegativeSeconds {
        secs: f64,
    },
    TooManySeconds {
        secs: f64,
    },
}

impl Invalid {
    /// Whether the duration is well written but too long to hold.
    pub(crate) fn is_too_long(&self) -> bool {
        matches!(
            self,
            Invalid::Overflow { .. } | Invalid::TooLong { .. } | Invalid::TooManySeconds { .. }
        )
    }
}

/// ` (understood `1m` before it)`, when something was.
fn so_far(understood: &str) -> String {
    if understood.is_empty() {
        String::new()
    } else {
        format!(" (understood `{understood}` before it)")
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Empty => f.write_str("`` is not a duration: it is empty"),
            Invalid::Negative { text } => write!(f, "`{text}`: a duration cannot be negative"),
            Invalid::BareNumber { text } => write!(
                f,
                "`{text}` has no unit: add one, e.g. {text}ms or {text}s (an unquoted number is seconds)"
            ),
            Invalid::NoNumber { text } => write!(
                f,
                "`{text}` is not a duration: it must start with a number, like `2s`"
            ),
            Invalid::NumberExpected {
                text,
                at,
                understood,
            } => write!(
                f,
                "`{text}` is not a duration: a number was expected at `{at}`{}",
                so_far(understood)
            ),
            Invalid::NoUnit {
                text,
                number,
                understood,
            } => write!(
                f,
                "`{text}`: the number {number} has no unit{}; add one, e.g. `{number}s`",
                so_far(understood)
            ),
            Invalid::MonthsOrYears { text, unit } => write!(
                f,
                "`{text}`: months and years are not allowed (`{unit}`); write `m` for minutes, `d` for days"
            ),
            Invalid::UnknownUnit {
                text,
                unit,
                number,
                understood,
            } => write!(
                f,
                "`{text}` is not a duration: unknown unit `{unit}` after {number}{} \
                 (use ns, us, ms, s, m, h, d or w, or their names: msec, seconds, minutes, days...)",
                so_far(understood)
            ),
            Invalid::Overflow { text } => write!(f, "`{text}` is too long"),
            Invalid::TooLong { text } => {
                write!(f, "`{text}` is too long (at most about 292 years)")
            }
            Invalid::BelowResolution { text } => write!(
                f,
                "`{text}` is below the resolution of 1ns: write 0s, or at least 1ns"
            ),
            Invalid::NegativeSeconds { secs } => {
                write!(f, "a duration cannot be negative or infinite (got {secs})")
            }
            Invalid::TooManySeconds { secs } => write!(f, "{secs} seconds is too long"),
        }
    }
}

/// Parses a duration written as a string: one or more numbers, each with
/// its unit, optionally separated by spaces: `"250ms"`, `"1.5s"`,
/// `"2m 30s"`, `"1 day"`, `"200 milliseconds"`. Units: ns, us (µs), ms, s,
/// m, h, d, w, and their long names (`msec`, `minutes`, `days`...). A bare
/// number is refused (`"500"` could be seconds or milliseconds; unquoted
/// TOML numbers are seconds), and so are months and years (`"1M"` would
/// silently mean a month where a minute was meant). The resolution is 1ns.
pub(crate) fn parse(text: &str) -> Result<u64, Invalid> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Invalid::Empty);
    }
    let owned = || text.to_owned();
    if text.starts_with('-') {
        return Err(Invalid::Negative { text: owned() });
    }
    if text.parse::<f64>().is_ok() {
        return Err(Invalid::BareNumber { text: owned() });
    }
    let mut total: u128 = 0;
    let mut nonzero = false;
    let mut rest = text;
    let mut understood = String::new();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let so_far = || understood.trim_end().to_owned();
        let malformed = number.starts_with('.') || number.ends_with('.');
        if number.is_empty() || malformed || number.matches('.').count() > 1 {
            if understood.is_empty() {
                return Err(Invalid::NoNumber { text: owned() });
            }
            return Err(Invalid::NumberExpected {
                text: owned(),
                at: rest.to_owned(),
                understood: so_far(),
            });
        }
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(Invalid::NoUnit {
                text: owned(),
                number: number.to_owned(),
                understood: so_far(),
            });
        }
        let Some(scale) = UNITS
            .iter()
            .find(|(names, _)| names.contains(&unit))
            .map(|(_, ns)| *ns)
        else {
            if unit == "M" || unit.starts_with("mo") || unit.starts_with('y') {
                return Err(Invalid::MonthsOrYears {
                    text: owned(),
                    unit: unit.to_owned(),
                });
            }
            return Err(Invalid::UnknownUnit {
                text: owned(),
                unit: unit.to_owned(),
                number: number.to_owned(),
                understood: so_far(),
            });
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .map_err(|_| Invalid::Overflow { text: owned() })?
        };
        // Digits past the 20th cannot move the result by a nanosecond (the
        // largest unit is a week, 6.048e14 ns), and keeping 20 keeps the
        // product below u128's range (found by fuzzing: 30 overflowed).
        let frac_digits = frac.len().min(20) as u32;
        let frac_value: u128 = frac[..frac_digits as usize].parse().unwrap_or(0);
        let denominator = 10u128.pow(frac_digits);
        let part = whole
            .checked_mul(scale as u128)
            .and_then(|w| {
                let f = frac_value.checked_mul(scale as u128)?;
                w.checked_add((f + denominator / 2) / denominator)
            })
            .ok_or_else(|| Invalid::Overflow { text: owned() })?;
        nonzero |= whole > 0 || frac_value > 0;
        total = total
            .checked_add(part)
            .ok_or_else(|| Invalid::Overflow { text: owned() })?;
        understood.push_str(&format!("{number}{unit} "));
        rest = rest[unit_len..].trim_start();
    }
    if total > (u64::MAX / 2) as u128 {
        return Err(Invalid::TooLong { text: owned() });
    }
    if total == 0 && nonzero {
        return Err(Invalid::BelowResolution { text: owned() });
    }
    Ok(total as u64)
}

/// The grammar of [`parse`] as a regular expression, for the JSON Schema:
/// numbers like `2` or `1.5`, each followed by a unit, spaces allowed.
#[cfg(test)]
pub(crate) fn pattern() -> String {
    let mut names: Vec<&str> = UNITS.iter().flat_map(|(n, _)| n.iter().copied()).collect();
    // Longest first, so that `ms` is not read as `m` followed by `s`.
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    format!(r"^\s*(\d+(\.\d+)?\s*({})\s*)+$", names.join("|"))
}

/// A duration a template rendered at run time (`sleep = "{delay}"`): a
/// bare number is seconds there, as the unquoted number it came from.
pub(crate) fn parse_rendered(text: &str) -> Result<u64, Invalid> {
    match text.trim().parse::<f64>() {
        Ok(secs) => from_secs(secs),
        Err(_) => parse(text),
    }
}

/// A number of seconds as nanoseconds.
pub(crate) fn from_secs(secs: f64) -> Result<u64, Invalid> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(Invalid::NegativeSeconds { secs });
    }
    let ns = (secs * 1e9).round();
    if ns > u64::MAX as f64 / 2.0 {
        return Err(Invalid::TooManySeconds { secs });
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
        assert_eq!(parse("0s"), Ok(0));
        assert_eq!(parse("2m 30s"), Ok(150_000_000_000));
        assert!(parse("-1s").is_err());
        assert!(parse("1M").is_err());
        assert!(parse("soon").is_err());
    }

    #[test]
    fn long_fractions_round_to_the_nanosecond() {
        // Found by fuzzing: 30 kept digits overflowed the product.
        let long = format!("1.5{}s", "3".repeat(100));
        assert_eq!(parse(&long), Ok(1_533_333_333));
        assert_eq!(
            parse(&format!("0.{}w", "9".repeat(60))),
            Ok(604_800_000_000_000)
        );
        assert_eq!(parse("0.0000000005000000000000000001s"), Ok(1));
    }

    #[test]
    fn one_grammar_for_every_spelling_of_a_unit() {
        const DAY: u64 = 86_400_000_000_000;
        for text in ["1d", "1 day", "1day", "24h", "1440 minutes"] {
            assert_eq!(parse(text), Ok(DAY), "{text}");
        }
        assert_eq!(parse("2days"), Ok(2 * DAY));
        for text in ["200ms", "200 msec", "200msecs", "200 milliseconds", "0.2s"] {
            assert_eq!(parse(text), Ok(200_000_000), "{text}");
        }
        assert_eq!(parse("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse("1.5ns"), Ok(2), "rounded to the nearest ns");
        assert_eq!(parse("3µs"), Ok(3_000));
        // Every duration the trace writes reads back.
        for ns in [
            1,
            999,
            1_500,
            250_000_000,
            1_000_000_001,
            604_800_000_000_000,
        ] {
            assert_eq!(parse(&format(ns)), Ok(ns));
        }
    }

    #[test]
    fn each_invalid_duration_keeps_its_wording() {
        let cases: [(Invalid, &str); 5] = [
            (Invalid::Empty, "`` is not a duration: it is empty"),
            (
                Invalid::NoUnit {
                    text: "1m30".into(),
                    number: "30".into(),
                    understood: "1m".into(),
                },
                "`1m30`: the number 30 has no unit (understood `1m` before it); add one, e.g. `30s`",
            ),
            (
                Invalid::NumberExpected {
                    text: "x".into(),
                    at: "x".into(),
                    understood: String::new(),
                },
                "`x` is not a duration: a number was expected at `x`",
            ),
            (
                Invalid::NegativeSeconds { secs: -1.5 },
                "a duration cannot be negative or infinite (got -1.5)",
            ),
            (
                Invalid::TooLong {
                    text: "300y".into(),
                },
                "`300y` is too long (at most about 292 years)",
            ),
        ];
        for (invalid, text) in cases {
            assert_eq!(invalid.to_string(), text);
        }
        assert!(parse("1e30 s").is_err());
        assert!(from_secs(1e30).unwrap_err().is_too_long());
        assert!(!parse("2 parsecs").unwrap_err().is_too_long());
    }

    #[test]
    fn errors_say_what_was_understood() {
        let parse = |text: &str| parse(text).map_err(|e| e.to_string());
        let e = parse("1m30").unwrap_err();
        assert!(
            e.contains("the number 30 has no unit (understood `1m` before it)"),
            "{e}"
        );
        let e = parse("500").unwrap_err();
        assert!(e.contains("add one, e.g. 500ms or 500s"), "{e}");
        let e = parse("0.0000000001ns").unwrap_err();
        assert!(e.contains("below the resolution of 1ns"), "{e}");
        let e = parse("1 fortnight").unwrap_err();
        assert!(e.contains("unknown unit `fortnight` after 1"), "{e}");
        let e = parse("2 months").unwrap_err();
        assert!(e.contains("months and years are not allowed"), "{e}");
        let e = parse("1y").unwrap_err();
        assert!(e.contains("months and years"), "{e}");
        assert!(parse("1..5s").is_err());
        assert!(
            parse("99999999999999999999999999999999999999999s")
                .unwrap_err()
                .contains("too long")
        );
        assert!(parse("300y").is_err());
        assert_eq!(
            parse_rendered("2"),
            Ok(2_000_000_000),
            "from a number argument"
        );
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
