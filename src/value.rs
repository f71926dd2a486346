//! Values that flow through a scenario: results, items, arguments, errors.
//!
//! They print the way CPython's `str()` prints them (`True`, `None`, `3.0`,
//! `['a', 'b']`), so a trace reads like the program it models.

use std::fmt;
use std::rc::Rc;

use crate::exception::Exception;
use crate::quote::write_quoted;

/// A value a task can hold, pass, return or put on a queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Value {
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<[Value]>),
    Map(Rc<[(Rc<str>, Value)]>),
    /// An exception held as a value (a `gather(..., return_exceptions=True)`
    /// slot, or the `error` an `except` caught).
    Error(Rc<Exception>),
}

impl Value {
    pub(crate) fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    /// A field of a map value (`{r.url}`).
    pub(crate) fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What `{x.key}` reads (`{x.a.b}`: one key after the other): a field
    /// of a map, an exception's `cause` (its `__cause__`), else `None`.
    pub(crate) fn attribute(&self, path: &str) -> Value {
        let mut value = self.clone();
        for key in path.split('.') {
            value = match &value {
                Value::Error(e) if key == "cause" => match &e.cause {
                    Some(cause) => Value::Error(cause.clone()),
                    None => Value::None,
                },
                other => other.field(key).cloned().unwrap_or_default(),
            };
        }
        value
    }

    /// The value as a float, when it is a number (for `{x:.2f}`).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// `str()` of the value, or `None` when it would pass `max` bytes (a
    /// list of shared parts can print far larger than it is in memory).
    pub(crate) fn display_within(&self, max: u64) -> Option<String> {
        let mut out = Capped::new(max);
        fmt::write(&mut out, format_args!("{self}")).ok()?;
        Some(out.text)
    }

    /// `repr()` of the value, cut after `max` bytes with ` ...` (for the trace).
    pub(crate) fn repr_within(&self, max: u64) -> String {
        struct Repr<'a>(&'a Value);
        impl fmt::Display for Repr<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.repr(f)
            }
        }
        let mut out = Capped::new(max);
        match fmt::write(&mut out, format_args!("{}", Repr(self))) {
            Ok(()) => out.text,
            Err(_) => out.text + " ...",
        }
    }

    /// Python's `repr()`: strings quoted, as inside a printed list.
    pub(crate) fn repr(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write_quoted(f, s),
            Value::Error(e) => e.repr(f),
            other => fmt::Display::fmt(other, f),
        }
    }
}

/// A text that stops growing at `max` bytes (cut on a character boundary).
struct Capped {
    text: String,
    max: u64,
}

impl Capped {
    fn new(max: u64) -> Capped {
        Capped {
            text: String::new(),
            max,
        }
    }
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max.saturating_sub(self.text.len() as u64);
        if s.len() as u64 <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut cut = room as usize;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
        Err(fmt::Error)
    }
}

/// Formats a float like Python's `str(float)` for the values scenarios use.
pub(crate) fn fmt_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e16 {
        write!(f, "{x:.1}")
    } else {
        write!(f, "{x}")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => fmt_float(f, *x),
            Value::Str(s) => f.write_str(s),
            Value::Error(e) => f.write_str(&e.text()),
            Value::List(items) => {
                f.write_str("[")?;
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    item.repr(f)?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (n, (k, v)) in entries.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, k)?;
                    f.write_str(": ")?;
                    v.repr(f)?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exception_s_cause_is_read_link_by_link() {
        let classes = crate::exception::Classes::default();
        let key = Rc::new(classes.raise(crate::exception::KEY_ERROR, "k"));
        let wrapped = crate::exception::Exception {
            cause: Some(key.clone()),
            ..classes.raise(crate::exception::RUNTIME_ERROR, "x")
        };
        let error = Value::Error(Rc::new(wrapped));
        assert_eq!(error.attribute("cause"), Value::Error(key));
        assert_eq!(error.attribute("cause.cause"), Value::None);
        assert_eq!(error.attribute("url"), Value::None);
        let timed_out = Value::Error(Rc::new(crate::exception::Exception::timed_out()));
        assert_eq!(timed_out.attribute("cause").to_string(), "CancelledError");
        let map = Value::Map(Rc::from(vec![(Rc::from("url"), Value::str("/a"))]));
        assert_eq!(map.attribute("url"), Value::str("/a"));
    }

    #[test]
    fn prints_like_python() {
        let classes = crate::exception::Classes::default();
        let list = Value::List(Rc::from(vec![
            Value::str("a"),
            Value::Int(2),
            Value::Float(1.5),
            Value::Float(3.0),
            Value::Bool(true),
            Value::None,
            Value::Error(Rc::new(classes.raise(crate::exception::EXCEPTION, "boom"))),
            Value::Error(Rc::new(Exception::timeout())),
            Value::Error(Rc::new(Exception::cancelled(None))),
        ]));
        assert_eq!(
            list.to_string(),
            "['a', 2, 1.5, 3.0, True, None, Exception('boom'), TimeoutError(), CancelledError('')]"
        );
        assert_eq!(Value::str("it's").to_string(), "it's");
        let map = Value::Map(Rc::from(vec![(Rc::from("url"), Value::str("x"))]));
        assert_eq!(map.to_string(), "{'url': 'x'}");
    }

    #[test]
    fn printing_stops_at_the_limit() {
        let big = Value::str(&"é".repeat(100));
        let list = Value::List(Rc::from(vec![big; 1000]));
        assert_eq!(list.display_within(1000), None);
        let cut = list.repr_within(101);
        assert!(cut.len() <= 105 && cut.ends_with(" ..."), "{cut}");
        assert_eq!(Value::Int(5).display_within(1).as_deref(), Some("5"));
    }
}
