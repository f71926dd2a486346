//! Python's `repr()` of a string: the quotes it picks and the escapes it
//! writes, for values and exception arguments printed as CPython prints them.

use std::fmt;

/// Writes `s` quoted as Python's `repr(s)` does for the text scenarios hold.
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    write!(f, "{quote}")?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c == quote => write!(f, "\\{c}")?,
            c if !printable(c) => match c as u32 {
                n @ 0..=0xff => write!(f, "\\x{n:02x}")?,
                n @ 0x100..=0xffff => write!(f, "\\u{n:04x}")?,
                n => write!(f, "\\U{n:08x}")?,
            },
            c => write!(f, "{c}")?,
        }
    }
    write!(f, "{quote}")
}

/// Whether Python's `str.isprintable()` holds for `c`, for the characters
/// it refuses that can be told without Unicode's tables: controls, the
/// separators but the space, the common format characters, private use.
fn printable(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{a0}'
                | '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{1680}'
                | '\u{180e}'
                | '\u{2000}'..='\u{200f}'
                | '\u{2028}'..='\u{202f}'
                | '\u{205f}'..='\u{206f}'
                | '\u{3000}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e000}'..='\u{f8ff}'
                | '\u{f0000}'..='\u{10ffff}'
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quoted<'a>(&'a str);

    impl fmt::Display for Quoted<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_quoted(f, self.0)
        }
    }

    #[test]
    fn escapes_as_python_repr_does() {
        // Each measured with CPython 3.11's repr().
        let cases = [
            ("it's", "\"it's\""),
            ("a\tb\r\n", "'a\\tb\\r\\n'"),
            ("esc \u{1b} nul \u{0}", "'esc \\x1b nul \\x00'"),
            ("\u{7f}\u{85}\u{a0}\u{ad}", "'\\x7f\\x85\\xa0\\xad'"),
            ("\u{2028}\u{200b}\u{feff}", "'\\u2028\\u200b\\ufeff'"),
            ("\u{f0000}", "'\\U000f0000'"),
            ("é中 ok", "'é中 ok'"),
        ];
        for (text, repr) in cases {
            assert_eq!(Quoted(text).to_string(), repr, "{text:?}");
        }
    }
}
