//! Interpolated text (`"Task {name} got {item}"`) and value expressions.
//!
//! Templates are parsed once, when the file is validated; at run time they
//! only look values up. A template that is exactly one placeholder evaluates
//! to the value itself, so `item = "{result}"` passes a list on as a list.

use std::fmt::{self, Write};
use std::ops::Range;
use std::rc::Rc;

use crate::footprint::TooBig;
use crate::ids::{BarrierId, DefId, EventId, FutId, Sym};
use crate::suggest::Suggestion;
use crate::value::Value;

/// Something a placeholder reads.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ref {
    /// A variable (argument, loop variable, `item`, `result`...), maybe a field of it.
    Var(Sym, Option<Rc<str>>),
    /// This task instance's name.
    Name,
    /// The virtual time, in seconds.
    Now,
    /// Seconds since this task (or `call`) began.
    Elapsed,
    /// This task's `cancelling()`: cancellations requested and not
    /// taken back.
    Cancelling,
    /// An attribute of a task, group or future handle (`{t.done}`).
    Attr(Target, Attr),
    /// Whether an event is set (`{ready.is_set}`).
    IsSet(EventId),
    /// Whether the callback a `call_* ... as` handle names was cancelled
    /// (`{h.cancelled}`, `handle.cancelled()`).
    CallbackCancelled(Sym),
    /// An attribute of a barrier (`{b.n_waiting}`).
    Barrier(BarrierId, BarrierAttr),
}

/// What a placeholder reads of a barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BarrierAttr {
    /// `n_waiting`: the tasks in it while it fills.
    Waiting,
    /// `broken`.
    Broken,
    /// `parties`.
    Parties,
}

impl BarrierAttr {
    pub(crate) const NAMES: [&'static str; 3] = ["n_waiting", "broken", "parties"];

    pub(crate) fn parse(s: &str) -> Option<BarrierAttr> {
        Some(match s {
            "n_waiting" => BarrierAttr::Waiting,
            "broken" => BarrierAttr::Broken,
            "parties" => BarrierAttr::Parties,
            _ => return None,
        })
    }

    /// Its name in Python.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BarrierAttr::Waiting => "n_waiting",
            BarrierAttr::Broken => "broken",
            BarrierAttr::Parties => "parties",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    Name,
    State,
    Done,
    Cancelled,
    Result,
    Error,
    Count,
    Cancelling,
}

impl Attr {
    pub(crate) const NAMES: [&'static str; 8] = [
        "name",
        "state",
        "done",
        "cancelled",
        "result",
        "error",
        "count",
        "cancelling",
    ];

    pub(crate) fn parse(s: &str) -> Option<Attr> {
        Some(match s {
            "name" => Attr::Name,
            "state" => Attr::State,
            "done" => Attr::Done,
            "cancelled" => Attr::Cancelled,
            "result" => Attr::Result,
            "error" => Attr::Error,
            "count" => Attr::Count,
            "cancelling" => Attr::Cancelling,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Lit(Box<str>),
    Ref { what: Ref, precision: Option<u8> },
}

/// A piece of a template, as [`Template::pieces`] shows it.
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Ref(&'a Ref, Option<u8>),
}

/// A parsed piece of text with placeholders.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template {
    parts: Box<[Part]>,
}

/// A value written in the file: a literal, a template, or a list/table of them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Value(Value),
    Text(Template),
    List(Vec<Expr>),
    Map(Vec<(Rc<str>, Expr)>),
}

/// What is wrong with a placeholder (or a brace) in a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TemplateError {
    /// A `}` with no `{` before it.
    UnmatchedClose,
    /// A `{` with no `}` after it.
    Unclosed,
    /// `{}`.
    Empty,
    /// A format spec other than a precision: `{x:%}`.
    UnknownFormat { spec: String },
    /// A handle attribute that handles do not have: `{t.colour}`.
    NoAttribute {
        handle: String,
        attribute: String,
        suggestion: Option<Suggestion>,
    },
    /// An event read other than as `{ready.is_set}`, its one attribute.
    EventAttribute { event: String, placeholder: String },
    /// A barrier read other than through one of its attributes.
    BarrierAttribute {
        barrier: String,
        placeholder: String,
        suggestion: Option<Suggestion>,
    },
    /// A callback's handle read other than as `{h.cancelled}`.
    CallbackAttribute { handle: String, placeholder: String },
    /// A name that is no variable, handle or future in scope.
    UnknownName {
        name: String,
        placeholder: String,
        suggestion: Option<Suggestion>,
    },
}

impl TemplateError {
    /// A hint on how to fix it, for the problems that have one.
    pub(crate) fn help(&self) -> Option<String> {
        match self {
            TemplateError::UnmatchedClose
            | TemplateError::Unclosed
            | TemplateError::Empty
            | TemplateError::UnknownFormat { .. } => None,
            TemplateError::EventAttribute { event, .. } => {
                Some(format!("write `{{{event}.is_set}}` (True or False)"))
            }
            TemplateError::BarrierAttribute {
                barrier,
                suggestion,
                ..
            } => Some(match suggestion {
                Some(s) => s.to_string(),
                None => format!(
                    "write `{{{barrier}.n_waiting}}`, `{{{barrier}.broken}}` or `{{{barrier}.parties}}`"
                ),
            }),
            TemplateError::CallbackAttribute { handle, .. } => {
                Some(format!("write `{{{handle}.cancelled}}` (True or False)"))
            }
            TemplateError::NoAttribute { suggestion, .. } => Some(match suggestion {
                Some(s) => s.to_string(),
                None => format!("a handle has {}", Attr::NAMES.join(", ")),
            }),
            TemplateError::UnknownName { suggestion, .. } => Some(match suggestion {
                Some(s) => s.to_string(),
                None => "pass it in `args`, or write `{{` for a brace".into(),
            }),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::UnmatchedClose => f.write_str("unmatched `}` (write `}}` for a brace)"),
            TemplateError::Unclosed => f.write_str("unclosed `{` (write `{{` for a brace)"),
            TemplateError::Empty => f.write_str("empty placeholder `{}` (write `{{}}` for braces)"),
            TemplateError::UnknownFormat { spec } => write!(
                f,
                "unknown format `:{spec}`; only a precision like `:.2` or `:.2f` is supported"
            ),
            TemplateError::NoAttribute {
                handle, attribute, ..
            } => write!(f, "`{handle}` has no attribute `{attribute}`"),
            TemplateError::EventAttribute { event, placeholder } => write!(
                f,
                "`{{{placeholder}}}`: event `{event}` has one attribute, `is_set`"
            ),
            TemplateError::BarrierAttribute {
                barrier,
                placeholder,
                ..
            } => write!(
                f,
                "`{{{placeholder}}}`: barrier `{barrier}` has the attributes n_waiting, broken and parties"
            ),
            TemplateError::CallbackAttribute {
                handle,
                placeholder,
            } => write!(
                f,
                "`{{{placeholder}}}`: the handle of callback `{handle}` has one attribute, `cancelled`"
            ),
            TemplateError::UnknownName {
                name, placeholder, ..
            } => write!(f, "unknown name `{name}` in `{{{placeholder}}}`"),
        }
    }
}

impl Template {
    pub(crate) fn literal(text: &str) -> Template {
        Template {
            parts: Box::new([Part::Lit(text.into())]),
        }
    }

    /// Parses `text`; `resolve` turns a placeholder's name (`x`, `x.y`) into a [`Ref`].
    pub(crate) fn parse(
        text: &str,
        resolve: &mut dyn FnMut(&str) -> Result<Ref, TemplateError>,
    ) -> Result<Template, Vec<(Range<usize>, TemplateError)>> {
        let mut parts = Vec::new();
        let mut errors = Vec::new();
        let mut lit = String::new();
        let bytes = text.as_bytes();
        let mut pos = 0;
        while pos < text.len() {
            let c = bytes[pos];
            if (c == b'{' || c == b'}') && bytes.get(pos + 1) == Some(&c) {
                lit.push(c as char);
                pos += 2;
                continue;
            }
            if c == b'}' {
                errors.push((pos..pos + 1, TemplateError::UnmatchedClose));
                pos += 1;
                continue;
            }
            if c != b'{' {
                let ch = text[pos..].chars().next().expect("in bounds");
                lit.push(ch);
                pos += ch.len_utf8();
                continue;
            }
            let Some(len) = text[pos..].find('}') else {
                errors.push((pos..text.len(), TemplateError::Unclosed));
                break;
            };
            let inner = &text[pos + 1..pos + len];
            let span = pos..pos + len + 1;
            match parse_placeholder(inner, resolve) {
                Ok(part) => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit).into()));
                    }
                    parts.push(part);
                }
                Err(message) => errors.push((span, message)),
            }
            pos += len + 1;
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(lit.into()));
        }
        if errors.is_empty() {
            Ok(Template {
                parts: parts.into(),
            })
        } else {
            Err(errors)
        }
    }

    /// The text, when the template has no placeholders.
    pub(crate) fn as_literal(&self) -> Option<&str> {
        match &*self.parts {
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// Renders the text, looking each placeholder up with `lookup`.
    pub(crate) fn render(&self, lookup: &dyn Fn(&Ref) -> Value) -> String {
        match self.render_within(lookup, u64::MAX) {
            Ok(text) => text,
            Err(_) => unreachable!("no text passes u64::MAX bytes"),
        }
    }

    /// The pieces in order: literal text, or a placeholder with its precision.
    pub(crate) fn pieces(&self) -> impl Iterator<Item = Piece<'_>> {
        self.parts.iter().map(|part| match part {
            Part::Lit(text) => Piece::Text(text),
            Part::Ref { what, precision } => Piece::Ref(what, *precision),
        })
    }

    /// Whether any placeholder reads something `wanted` picks.
    pub(crate) fn reads(&self, wanted: &dyn Fn(&Ref) -> bool) -> bool {
        self.parts.iter().any(|part| match part {
            Part::Lit(_) => false,
            Part::Ref { what, .. } => wanted(what),
        })
    }

    /// Whether the template is one placeholder, whose value it passes on
    /// as it is (nothing new is built).
    pub(crate) fn passes_on(&self) -> bool {
        matches!(
            &*self.parts,
            [Part::Ref {
                precision: None,
                ..
            }]
        )
    }

    /// [`Template::render`], given up as soon as the text passes `max` bytes.
    pub(crate) fn render_within(
        &self,
        lookup: &dyn Fn(&Ref) -> Value,
        max: u64,
    ) -> Result<String, TooBig> {
        if let Some(text) = self.as_literal() {
            return Ok(text.to_owned());
        }
        let mut out = Capped {
            text: String::new(),
            max,
        };
        for part in &*self.parts {
            let written = match part {
                Part::Lit(s) => out.write_str(s),
                Part::Ref { what, precision } => {
                    let value = lookup(what);
                    match (precision, value.as_f64()) {
                        (Some(p), Some(x)) => write!(out, "{x:.*}", *p as usize),
                        _ => write!(out, "{value}"),
                    }
                }
            };
            written.map_err(|_| TooBig::Bytes)?;
        }
        Ok(out.text)
    }

    /// Evaluates to a value: the placeholder's own value when the template is one placeholder.
    pub(crate) fn eval(&self, lookup: &dyn Fn(&Ref) -> Value) -> Value {
        match &*self.parts {
            [
                Part::Ref {
                    what,
                    precision: None,
                },
            ] => lookup(what),
            _ => Value::Str(Rc::from(self.render(lookup))),
        }
    }
}

/// A text that refuses to grow past `max` bytes: printing a huge value
/// stops at the limit instead of filling memory.
struct Capped {
    text: String,
    max: u64,
}

impl Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if (self.text.len() + s.len()) as u64 > self.max {
            return Err(std::fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}

fn parse_placeholder(
    inner: &str,
    resolve: &mut dyn FnMut(&str) -> Result<Ref, TemplateError>,
) -> Result<Part, TemplateError> {
    let (name, spec) = match inner.split_once(':') {
        Some((name, spec)) => (name.trim(), Some(spec.trim())),
        None => (inner.trim(), None),
    };
    if name.is_empty() {
        return Err(TemplateError::Empty);
    }
    let precision = match spec {
        None => None,
        Some(spec) => Some(
            parse_precision(spec).ok_or_else(|| TemplateError::UnknownFormat {
                spec: spec.to_owned(),
            })?,
        ),
    };
    Ok(Part::Ref {
        what: resolve(name)?,
        precision,
    })
}

fn parse_precision(spec: &str) -> Option<u8> {
    let digits = spec.strip_prefix('.')?;
    let digits = digits.strip_suffix('f').unwrap_or(digits);
    digits.parse::<u8>().ok().filter(|p| *p <= 9)
}

impl Expr {
    /// Whether any placeholder in it reads something `wanted` picks.
    pub(crate) fn reads(&self, wanted: &dyn Fn(&Ref) -> bool) -> bool {
        match self {
            Expr::Value(_) => false,
            Expr::Text(t) => t.reads(wanted),
            Expr::List(items) => items.iter().any(|e| e.reads(wanted)),
            Expr::Map(entries) => entries.iter().any(|(_, e)| e.reads(wanted)),
        }
    }

    /// Whether evaluating it builds a new value (a text, a list, a map),
    /// rather than passing one on (a literal, a lone placeholder).
    pub(crate) fn builds(&self) -> bool {
        match self {
            Expr::Value(_) => false,
            Expr::Text(t) => !t.passes_on(),
            Expr::List(_) | Expr::Map(_) => true,
        }
    }

    /// [`Expr::eval`], given up as soon as a text it builds passes `max` bytes.
    pub(crate) fn eval_within(
        &self,
        lookup: &dyn Fn(&Ref) -> Value,
        max: u64,
    ) -> Result<Value, TooBig> {
        Ok(match self {
            Expr::Value(v) => v.clone(),
            Expr::Text(t) if t.passes_on() => t.eval(lookup),
            Expr::Text(t) => Value::Str(Rc::from(t.render_within(lookup, max)?)),
            Expr::List(items) => Value::List(
                items
                    .iter()
                    .map(|e| e.eval_within(lookup, max))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, e)| Ok((k.clone(), e.eval_within(lookup, max)?)))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    pub(crate) fn eval(&self, lookup: &dyn Fn(&Ref) -> Value) -> Value {
        match self {
            Expr::Value(v) => v.clone(),
            Expr::Text(t) => t.eval(lookup),
            Expr::List(items) => Value::List(items.iter().map(|e| e.eval(lookup)).collect()),
            Expr::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, e)| (k.clone(), e.eval(lookup)))
                    .collect(),
            ),
        }
    }
}

/// Formats seconds from nanoseconds as Python prints a float (`1.5`, `3.0`).
pub(crate) fn seconds_value(ns: u64) -> Value {
    Value::Float(ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(name: &str) -> Result<Ref, TemplateError> {
        match name {
            "name" => Ok(Ref::Name),
            "x" => Ok(Ref::Var(0, None)),
            other => Err(TemplateError::UnknownName {
                name: other.to_owned(),
                placeholder: other.to_owned(),
                suggestion: crate::suggest::suggest(other, ["name", "x"]),
            }),
        }
    }

    fn lookup(r: &Ref) -> Value {
        match r {
            Ref::Name => Value::str("A"),
            _ => Value::Float(2.5),
        }
    }

    #[test]
    fn renders_placeholders_and_escapes() {
        let t = Template::parse("{{{name}}} took {x:.2f}s", &mut resolve).unwrap();
        assert_eq!(t.render(&lookup), "{A} took 2.50s");
        assert_eq!(
            Template::parse("{x}", &mut resolve).unwrap().eval(&lookup),
            Value::Float(2.5)
        );
    }

    #[test]
    fn reports_every_bad_placeholder() {
        let errs = Template::parse("{nope} and {x:%} and {", &mut resolve).unwrap_err();
        let spans: Vec<_> = errs.iter().map(|e| e.0.clone()).collect();
        assert_eq!(spans, vec![0..6, 11..16, 21..22]);
        let texts: Vec<_> = errs.iter().map(|e| e.1.to_string()).collect();
        assert_eq!(
            texts,
            [
                "unknown name `nope` in `{nope}`",
                "unknown format `:%`; only a precision like `:.2` or `:.2f` is supported",
                "unclosed `{` (write `{{` for a brace)",
            ]
        );
        assert_eq!(
            errs[0].1.help().as_deref(),
            Some("pass it in `args`, or write `{{` for a brace")
        );
    }

    #[test]
    fn each_template_error_renders_its_text() {
        let cases = [
            (
                TemplateError::UnmatchedClose,
                "unmatched `}` (write `}}` for a brace)",
                None,
            ),
            (
                TemplateError::Empty,
                "empty placeholder `{}` (write `{{}}` for braces)",
                None,
            ),
            (
                TemplateError::NoAttribute {
                    handle: "t".into(),
                    attribute: "dnoe".into(),
                    suggestion: crate::suggest::suggest("dnoe", Attr::NAMES),
                },
                "`t` has no attribute `dnoe`",
                Some("did you mean `done`?"),
            ),
            (
                TemplateError::NoAttribute {
                    handle: "t".into(),
                    attribute: "zzz".into(),
                    suggestion: None,
                },
                "`t` has no attribute `zzz`",
                Some("a handle has name, state, done, cancelled, result, error, count, cancelling"),
            ),
        ];
        for (error, text, help) in cases {
            assert_eq!(error.to_string(), text);
            assert_eq!(error.help().as_deref(), help);
        }
        let typo = Template::parse("{nmae}", &mut resolve).unwrap_err();
        assert_eq!(typo[0].1.help().as_deref(), Some("did you mean `name`?"));
    }
}

/// What a start passes to one handle parameter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Passed {
    /// Tasks or a future, as a target names them.
    Handle(Target),
    /// A queue: its id, or (see [`PARAM`](crate::handle_param::PARAM)) the caller's own queue
    /// parameter.
    Queue(u32),
    /// A semaphore, as [`Passed::Queue`] a queue.
    Semaphore(u32),
    /// An event, as [`Passed::Queue`] a queue.
    Event(u32),
}

/// What a step operand names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    /// A handle bound in this task (`spawn ... as`, `each ... as`, `wait`'s `done`/`pending`).
    Local(Sym),
    /// A task started at time 0, by its definition name.
    Root(DefId),
    Future(FutId),
    /// A task definition started afresh by this step (`gather(coro())`).
    Start(Start),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Start {
    pub(crate) def: DefId,
    pub(crate) count: Option<u32>,
    pub(crate) args: Vec<(Sym, Expr)>,
    /// What the caller passes to the definition's handle parameters: per
    /// parameter, a handle it holds (the same tasks, not copies of them).
    pub(crate) handles: Vec<(Sym, Passed)>,
}
