//! Typed reading of the spanned TOML tree, recording a located problem for
//! every value of the wrong type or out of range instead of stopping.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::Diagnostic;
use crate::duration;
use crate::problem::Problem;
use crate::suggest::suggest;

pub(crate) type Node<'a> = Spanned<DeValue<'a>>;

pub(crate) use crate::duration::MAX_DURATION;

/// Collects problems while the file is read.
pub(crate) struct Reader<'s> {
    pub(crate) source: &'s str,
    pub(crate) diags: Vec<Diagnostic>,
}

/// A table's entries, in file order, with their key spans.
pub(crate) struct Entries<'a, 'd> {
    pub(crate) items: Vec<(&'a str, Range<usize>, &'a Node<'d>)>,
}

impl<'a, 'd> Entries<'a, 'd> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a Node<'d>> {
        self.items
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

pub(crate) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'s> Reader<'s> {
    /// Records `problem` at `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, problem: Problem) {
        self.diags.push(Diagnostic::new(span, problem));
    }

    fn wrong_type(&mut self, node: &Node<'_>, what: &str, expected: &'static str) {
        let found = type_name(node.get_ref());
        self.error(
            node.span(),
            Problem::WrongType {
                what: what.to_owned(),
                expected,
                found,
            },
        );
    }

    /// Reads a table, reporting keys not in `known` (with a suggestion).
    pub(crate) fn table<'a, 'd>(
        &mut self,
        node: &'a Node<'d>,
        what: &str,
        known: &'static [&'static str],
    ) -> Option<Entries<'a, 'd>> {
        let entries = self.free_table(node, what)?;
        for (key, span, _) in &entries.items {
            if !known.contains(key) {
                let suggestion = suggest(key, known.iter().copied());
                let key = (*key).to_owned();
                let problem = if what == "the file" {
                    Problem::UnknownTable {
                        key,
                        known,
                        suggestion,
                    }
                } else {
                    Problem::UnknownKey {
                        key,
                        what: what.to_owned(),
                        known,
                        suggestion,
                    }
                };
                self.error(span.clone(), problem);
            }
        }
        Some(entries)
    }

    /// Reads a table whose keys are names the file chooses (`[tasks]`,
    /// `args`, `[expect] durations`...): every key is taken.
    pub(crate) fn free_table<'a, 'd>(
        &mut self,
        node: &'a Node<'d>,
        what: &str,
    ) -> Option<Entries<'a, 'd>> {
        let DeValue::Table(table) = node.get_ref() else {
            self.wrong_type(node, what, "a table");
            return None;
        };
        Some(entries(table))
    }

    pub(crate) fn string<'a>(&mut self, node: &'a Node<'_>, what: &str) -> Option<&'a str> {
        match node.get_ref() {
            DeValue::String(s) => Some(s),
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, node: &Node<'_>, what: &str) -> Option<bool> {
        match node.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(node, what, "true or false");
                None
            }
        }
    }

    /// An integer within `lo..=hi`.
    pub(crate) fn int(&mut self, node: &Node<'_>, what: &str, lo: i64, hi: i64) -> Option<i64> {
        let parsed = match node.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => {
                self.wrong_type(node, what, "an integer");
                return None;
            }
        };
        match parsed {
            Some(v) if (lo..=hi).contains(&v) => Some(v),
            _ => {
                let written = self.source[node.span()].to_owned();
                self.error(
                    node.span(),
                    Problem::IntOutOfRange {
                        what: what.to_owned(),
                        lo,
                        hi,
                        written,
                    },
                );
                None
            }
        }
    }

    /// A number (integer or float).
    pub(crate) fn number(&mut self, node: &Node<'_>, what: &str) -> Option<f64> {
        match node.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|v| v as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
            _ => {
                self.wrong_type(node, what, "a number");
                None
            }
        }
    }

    /// A probability in `0.0..=1.0`.
    pub(crate) fn probability(&mut self, node: &Node<'_>, what: &str) -> Option<f64> {
        let p = self.number(node, what)?;
        if (0.0..=1.0).contains(&p) {
            Some(p)
        } else {
            self.error(
                node.span(),
                Problem::NotAProbability {
                    what: what.to_owned(),
                    value: p,
                },
            );
            None
        }
    }

    /// A fixed duration: a string like `"1.5s"` or a number of seconds.
    pub(crate) fn duration(&mut self, node: &Node<'_>, what: &str) -> Option<u64> {
        let parsed = match node.get_ref() {
            DeValue::String(s) => duration::parse(s),
            DeValue::Integer(_) | DeValue::Float(_) => {
                duration::from_secs(self.number(node, what)?)
            }
            _ => {
                self.wrong_type(node, what, "a duration (\"1.5s\" or a number of seconds)");
                return None;
            }
        };
        match parsed {
            Ok(ns) if ns > MAX_DURATION => {
                self.error(
                    node.span(),
                    Problem::DurationTooLong {
                        what: what.to_owned(),
                        ns,
                    },
                );
                None
            }
            Ok(ns) => Some(ns),
            Err(invalid) => {
                self.error(
                    node.span(),
                    Problem::InvalidDuration {
                        what: what.to_owned(),
                        invalid,
                    },
                );
                None
            }
        }
    }

    /// A non-empty list of names: one string or an array of strings.
    pub(crate) fn names<'a>(
        &mut self,
        node: &'a Node<'_>,
        what: &str,
    ) -> Vec<(&'a str, Range<usize>)> {
        match node.get_ref() {
            DeValue::String(s) => vec![(&**s, node.span())],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    if let Some(s) = self.string(item, what) {
                        out.push((s, item.span()));
                    }
                }
                if items.is_empty() {
                    self.error(
                        node.span(),
                        Problem::NoNames {
                            what: what.to_owned(),
                        },
                    );
                }
                out
            }
            _ => {
                self.wrong_type(node, what, "a name or an array of names");
                Vec::new()
            }
        }
    }

    /// The byte range of a string value's text (inside its quotes), when the
    /// text is written without escapes; else the whole value.
    pub(crate) fn text_span(&self, node: &Node<'_>, text: &str) -> Option<usize> {
        let raw = self.source.get(node.span())?;
        let inner = raw.get(1..raw.len().checked_sub(1)?)?;
        (inner == text).then_some(node.span().start + 1)
    }
}

pub(crate) fn entries<'a, 'd>(table: &'a DeTable<'d>) -> Entries<'a, 'd> {
    Entries {
        items: table
            .iter()
            .map(|(k, v)| (&**k.get_ref(), k.span(), v))
            .collect(),
    }
}
