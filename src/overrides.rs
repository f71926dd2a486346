//! `--set PATH=VALUE`: what-if runs without editing the file. Each change is
//! made to the scenario's text before it is read (the file itself is never
//! written), so the changed file is validated like any other: a value out of
//! range, or a key that does not exist, is reported at its line, with the
//! changed line shown.
//!
//! PATH is the TOML path of the value (`semaphores.pool`,
//! `tasks.fetch.fail`, `tasks.fetch.sleep.exponential`), with a number for
//! an element of an array (`tasks.main.steps.0.sleep`); tables on the way
//! that the file lacks are added. VALUE is read as TOML (`8`, `0.2`,
//! `true`, `"x"`, `[1, 2]`, `{ uniform = ["1s", "2s"] }`), and as text when
//! it is not TOML, so `300ms` needs no quotes.

use std::fmt;

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use crate::suggest::{Suggestion, suggest};

/// One `--set`.
#[derive(Clone, Debug)]
pub(crate) struct Set {
    path: Vec<Key>,
    value: Value,
    /// As given, for messages.
    spelled: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Name(String),
    Index(usize),
}

impl std::fmt::Display for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--set {}", self.spelled)
    }
}

/// Why a `--set` argument is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    NoEquals { arg: String },
    EmptyPath,
    EmptyPart { path: String },
    StartsWithNumber { path: String },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::NoEquals { arg } => write!(
                f,
                "`{arg}` has no `=`: write PATH=VALUE, as in semaphores.pool=8"
            ),
            Malformed::EmptyPath => f.write_str(
                "the path before `=` is empty: write PATH=VALUE, as in semaphores.pool=8",
            ),
            Malformed::EmptyPart { path } => write!(
                f,
                "`{path}` has an empty part: parts are joined by single dots"
            ),
            Malformed::StartsWithNumber { path } => write!(
                f,
                "`{path}` starts with a number: the file's top level is a table"
            ),
        }
    }
}

impl std::error::Error for Malformed {}

/// Why a `--set` cannot be made to a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unset {
    /// A key to add is close to one the table has.
    Misspelt {
        path: String,
        suggestion: Suggestion,
    },
    PastTheEnd {
        path: String,
        len: usize,
    },
    /// The path goes through a value that has no such key or element;
    /// `parent` is empty for the top of the file.
    Mismatch {
        parent: String,
        kind: &'static str,
        key: Key,
    },
}

impl fmt::Display for Unset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unset::Misspelt { path, suggestion } => {
                write!(f, "`{path}` is not in the file: {suggestion}")
            }
            Unset::PastTheEnd { path, len } => write!(
                f,
                "`{path}` is past the end: the array has {len} element{}",
                if *len == 1 { "" } else { "s" }
            ),
            Unset::Mismatch { parent, kind, key } => {
                let parent = if parent.is_empty() {
                    "the file"
                } else {
                    parent
                };
                match key {
                    Key::Name(k) => write!(f, "`{parent}` is {kind}: it has no key `{k}` to set"),
                    Key::Index(i) => {
                        write!(
                            f,
                            "`{parent}` is {kind}, not an array: it has no element {i}"
                        )
                    }
                }
            }
        }
    }
}

/// A `--set` that cannot be made, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetError {
    set: String,
    why: Unset,
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.set, self.why)
    }
}

impl Set {
    /// Reads `PATH=VALUE` (clap's value parser for `--set`).
    pub(crate) fn parse(arg: &str) -> Result<Set, Malformed> {
        let Some((path, value)) = arg.split_once('=') else {
            return Err(Malformed::NoEquals {
                arg: arg.to_owned(),
            });
        };
        let path = path.trim();
        if path.is_empty() {
            return Err(Malformed::EmptyPath);
        }
        let mut keys = Vec::new();
        for part in path.split('.') {
            let part = part.trim();
            if part.is_empty() {
                return Err(Malformed::EmptyPart {
                    path: path.to_owned(),
                });
            }
            keys.push(match part.parse::<usize>() {
                Ok(i) => Key::Index(i),
                Err(_) => Key::Name(part.to_owned()),
            });
        }
        if matches!(keys[0], Key::Index(_)) {
            return Err(Malformed::StartsWithNumber {
                path: path.to_owned(),
            });
        }
        let value = value.trim();
        let value = match value.parse::<Value>() {
            Ok(v) => v.decorated(" ", ""),
            Err(_) => Value::from(value).decorated(" ", ""),
        };
        Ok(Set {
            path: keys,
            value,
            spelled: arg.to_owned(),
        })
    }
}

/// The text with every change made, in order; the text as it is when it is
/// not TOML (validation then reports where). An error names the `--set`
/// that cannot be made, and why.
pub(crate) fn apply(text: &str, sets: &[Set]) -> Result<String, SetError> {
    if sets.is_empty() {
        return Ok(text.to_owned());
    }
    let Ok(mut doc) = text.parse::<DocumentMut>() else {
        return Ok(text.to_owned());
    };
    for set in sets {
        put(doc.as_item_mut(), &set.path, set.value.clone()).map_err(|why| SetError {
            set: set.to_string(),
            why,
        })?;
    }
    Ok(doc.to_string())
}

/// Where a path leads: a table, an array of tables, or a value inside an
/// inline table or an array.
enum Place<'a> {
    Table(&'a mut Table),
    Tables(&'a mut toml_edit::ArrayOfTables),
    Value(&'a mut Value),
    /// Something else (`Item::None` cannot be in a document).
    Other,
}

impl<'a> Place<'a> {
    fn of(item: &'a mut Item) -> Place<'a> {
        match item {
            Item::Table(t) => Place::Table(t),
            Item::ArrayOfTables(a) => Place::Tables(a),
            Item::Value(v) => Place::Value(v),
            Item::None => Place::Other,
        }
    }
}

fn put(root: &mut Item, path: &[Key], value: Value) -> Result<(), Unset> {
    let mut place = Place::of(root);
    let (last, on_the_way) = path.split_last().expect("a path has a part");
    for (n, key) in on_the_way.iter().enumerate() {
        let parent = spell(&path[..n]);
        let here = spell(&path[..=n]);
        place = match (place, key) {
            (Place::Table(t), Key::Name(k)) => {
                typo(&parent, k, t.get(k).is_none(), t.iter().map(|(k, _)| k))?;
                Place::of(t.entry(k).or_insert_with(|| {
                    let mut table = Table::new();
                    table.set_implicit(true);
                    Item::Table(table)
                }))
            }
            (Place::Tables(a), Key::Index(i)) => {
                let len = a.len();
                Place::Table(a.get_mut(*i).ok_or_else(|| out_of_range(&here, len))?)
            }
            (Place::Value(Value::InlineTable(t)), Key::Name(k)) => {
                typo(&parent, k, t.get(k).is_none(), t.iter().map(|(k, _)| k))?;
                Place::Value(
                    t.entry(k)
                        .or_insert_with(|| Value::InlineTable(InlineTable::new())),
                )
            }
            (Place::Value(Value::Array(a)), Key::Index(i)) => {
                let len = a.len();
                Place::Value(a.get_mut(*i).ok_or_else(|| out_of_range(&here, len))?)
            }
            (place, key) => return Err(mismatch(&parent, &place, key)),
        };
    }
    let whole = spell(path);
    let parent = spell(&path[..path.len() - 1]);
    match (place, last) {
        (Place::Table(t), Key::Name(k)) => {
            typo(&parent, k, t.get(k).is_none(), t.iter().map(|(k, _)| k))?;
            match t.get_mut(k) {
                Some(Item::Value(old)) => *old = keep_decor(old, value),
                Some(item) => *item = Item::Value(value),
                None => {
                    t.insert(k, Item::Value(value));
                }
            }
        }
        (Place::Value(Value::InlineTable(t)), Key::Name(k)) => {
            typo(&parent, k, t.get(k).is_none(), t.iter().map(|(k, _)| k))?;
            match t.get_mut(k) {
                Some(old) => *old = keep_decor(old, value),
                None => {
                    t.insert(k, value);
                }
            }
        }
        (Place::Value(Value::Array(a)), Key::Index(i)) => {
            let len = a.len();
            let old = a.get_mut(*i).ok_or_else(|| out_of_range(&whole, len))?;
            *old = keep_decor(old, value);
        }
        (place, key) => return Err(mismatch(&parent, &place, key)),
    }
    Ok(())
}

/// A key to add is refused when it is close to one the table has: most
/// likely a misspelling, which would add a new semaphore or task instead
/// of changing one.
fn typo<'a>(
    parent: &str,
    key: &str,
    missing: bool,
    siblings: impl Iterator<Item = &'a str>,
) -> Result<(), Unset> {
    if !missing {
        return Ok(());
    }
    match suggest(key, siblings) {
        Some(suggestion) => {
            let path = if parent.is_empty() {
                key.to_owned()
            } else {
                format!("{parent}.{key}")
            };
            Err(Unset::Misspelt { path, suggestion })
        }
        None => Ok(()),
    }
}

fn keep_decor(old: &Value, mut new: Value) -> Value {
    *new.decor_mut() = old.decor().clone();
    new
}

fn spell(path: &[Key]) -> String {
    path.iter()
        .map(|k| match k {
            Key::Name(n) => n.clone(),
            Key::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn out_of_range(path: &str, len: usize) -> Unset {
    Unset::PastTheEnd {
        path: path.to_owned(),
        len,
    }
}

fn mismatch(parent: &str, place: &Place<'_>, key: &Key) -> Unset {
    let kind = match place {
        Place::Table(_) => "a table",
        Place::Tables(_) => "an array of tables",
        Place::Value(Value::String(_)) => "a string",
        Place::Value(Value::Integer(_)) => "an integer",
        Place::Value(Value::Float(_)) => "a float",
        Place::Value(Value::Boolean(_)) => "a boolean",
        Place::Value(Value::Datetime(_)) => "a date",
        Place::Value(Value::Array(_)) => "an array",
        Place::Value(Value::InlineTable(_)) => "a table",
        Place::Other => "nothing",
    };
    Unset::Mismatch {
        parent: parent.to_owned(),
        kind,
        key: key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, sets: &[&str]) -> Result<String, String> {
        let sets: Vec<Set> = sets.iter().map(|s| Set::parse(s).unwrap()).collect();
        apply(text, &sets).map_err(|e| e.to_string())
    }

    const FILE: &str = "# pools\n[semaphores]\npool = 5 # permits\n\n[tasks.fetch]\nsleep = { exponential = \"100ms\" }\nsteps = [{ sleep = \"1s\" }, { log = \"x\" }]\n";

    #[test]
    fn changes_a_value_and_keeps_the_rest_of_the_file() {
        let out = set(FILE, &["semaphores.pool=8"]).unwrap();
        assert_eq!(
            out,
            FILE.replace("pool = 5 # permits", "pool = 8 # permits")
        );
    }

    #[test]
    fn reaches_into_inline_tables_and_arrays() {
        let out = set(
            FILE,
            &[
                "tasks.fetch.sleep.exponential=300ms",
                "tasks.fetch.steps.1.log=\"y\"",
            ],
        )
        .unwrap();
        assert!(out.contains("sleep = { exponential = \"300ms\" }"), "{out}");
        assert!(out.contains("{ log = \"y\" }"), "{out}");
    }

    #[test]
    fn values_are_toml_or_else_text() {
        let out = set(
            FILE,
            &["tasks.fetch.fail=0.2", "tasks.fetch.retry={ attempts = 3 }"],
        )
        .unwrap();
        assert!(
            out.contains("fail = 0.2") && out.contains("retry = { attempts = 3 }"),
            "{out}"
        );
        let out = set(FILE, &["tasks.fetch.timeout=1.5s"]).unwrap();
        assert!(out.contains("timeout = \"1.5s\""), "{out}");
    }

    #[test]
    fn adds_keys_and_tables_but_not_misspelt_ones() {
        let out = set(FILE, &["queues.jobs=10"]).unwrap();
        assert!(out.contains("[queues]\njobs = 10"), "{out}");
        assert_eq!(
            set(FILE, &["semaphores.pol=3"]),
            Err(
                "--set semaphores.pol=3: `semaphores.pol` is not in the file: did you mean `pool`?"
                    .into()
            )
        );
        assert_eq!(
            set(FILE, &["tasks.fetch.steps.2.log=z"]),
            Err("--set tasks.fetch.steps.2.log=z: `tasks.fetch.steps.2` is past the end: the array has 2 elements".into())
        );
        assert_eq!(
            set(FILE, &["semaphores.pool.size=3"]),
            Err("--set semaphores.pool.size=3: `semaphores.pool` is an integer: it has no key `size` to set".into())
        );
    }

    #[test]
    fn refuses_malformed_arguments() {
        let why = |arg: &str| Set::parse(arg).unwrap_err().to_string();
        assert!(why("pool").contains("no `=`"));
        assert!(why("=3").contains("empty"));
        assert!(why("a..b=3").contains("empty part"));
        assert!(why("0.a=3").contains("starts with a number"));
        assert_eq!(Set::parse("=3").unwrap_err(), Malformed::EmptyPath);
    }

    #[test]
    fn each_reason_keeps_its_wording() {
        let cases = [
            (
                Unset::PastTheEnd {
                    path: "a.0".into(),
                    len: 1,
                },
                "`a.0` is past the end: the array has 1 element",
            ),
            (
                Unset::Mismatch {
                    parent: String::new(),
                    kind: "a table",
                    key: Key::Index(2),
                },
                "`the file` is a table, not an array: it has no element 2",
            ),
            (
                Unset::Misspelt {
                    path: "tasks.fecth".into(),
                    suggestion: suggest("fecth", ["fetch"]).unwrap(),
                },
                "`tasks.fecth` is not in the file: did you mean `fetch`?",
            ),
        ];
        for (why, text) in cases {
            assert_eq!(why.to_string(), text);
        }
    }

    #[test]
    fn text_that_is_not_toml_is_left_for_validation() {
        assert_eq!(set("[x", &["a=1"]), Ok("[x".to_owned()));
    }
}
