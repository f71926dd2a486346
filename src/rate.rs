//! Rates as files write them (`"50/s"`, `"3000/min"`, `"1/250ms"`), for arrivals.

use crate::duration::{self, Invalid};

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
