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

/// A virtual time for the trace's time column: seconds with 3, 6 or 9
/// decimals (as few as make it exact), padded so columns stay aligned.
pub(crate) struct Stamp(pub u64);

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0 / 1_000_000_000;
        let frac = self.0 % 1_000_000_000;
        if frac.is_multiple_of(1_000_000) {
            write!(f, "{secs:>4}.{:03}      ", frac / 1_000_000)
        } else if frac.is_multiple_of(1_000) {
            write!(f, "{secs:>4}.{:06}   ", frac / 1_000)
        } else {
            write!(f, "{secs:>4}.{frac:09}")
        }
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
        assert_eq!(Stamp(500_000_000).to_string(), "   0.500      ");
        assert_eq!(Stamp(888_123_456).to_string(), "   0.888123456");
    }
}
