//! `[exceptions]`, and the exception names steps use: a `type` to raise,
//! the classes a `catch` or `retry_on` names.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::Validator;
use super::reader::Node;
use crate::exception::{Catch, ClassId, Classes, EXCEPTION, QUEUE_SHUT_DOWN};
use crate::problem::Problem;
use crate::suggest::suggest;

/// What a list of exception names is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// A `try`'s `catch`: `error`, `timeout`, `cancelled` and classes.
    Catch,
    /// A task's `retry_on`: `error`, `timeout` and classes of `Exception`.
    RetryOn,
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Validator<'_> {
    /// `[exceptions]`: `Name = "Base"` per class. Each base is builtin or
    /// declared, and leads to `Exception`; classes are numbered so that a
    /// base comes before the classes derived from it.
    pub(crate) fn exceptions(&mut self, node: Option<&Node<'_>>) -> Classes {
        let Some(node) = node else {
            return Classes::default();
        };
        let Some(t) = self.r.free_table(node, "[exceptions]") else {
            return Classes::default();
        };
        // (name, its span, its base's name and span), as written.
        let mut declared = Vec::new();
        for (name, span, value) in &t.items {
            if !is_identifier(name) {
                let name = (*name).to_owned();
                self.r
                    .error(span.clone(), Problem::ClassNameNotIdentifier { name });
                continue;
            }
            if Classes::builtin(name).is_some() || *name == "Skipped" {
                let name = (*name).to_owned();
                self.r
                    .error(span.clone(), Problem::ClassNameIsBuiltin { name });
                continue;
            }
            let what = format!("the base of `{name}`");
            if let Some(base) = self.r.string(value, &what) {
                declared.push((*name, base, value.span()));
            }
        }
        let index: BTreeMap<&str, usize> = declared
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| (*n, i))
            .collect();
        // Per declared class: its id once known (`None` after a problem).
        let mut ids: Vec<Option<Option<ClassId>>> = vec![None; declared.len()];
        let mut own: Vec<(Rc<str>, ClassId)> = Vec::new();
        let mut on_path = vec![false; declared.len()];
        for first in 0..declared.len() {
            // Walk up the bases to a known class, then number the path down.
            let mut path = Vec::new();
            let mut at = first;
            let mut cycle = false;
            while ids[at].is_none() {
                if on_path[at] {
                    let from = path.iter().position(|p| *p == at).unwrap_or(0);
                    let mut names: Vec<String> = path[from..]
                        .iter()
                        .map(|&p: &usize| declared[p].0.to_owned())
                        .collect();
                    names.push(declared[at].0.to_owned());
                    self.r
                        .error(declared[at].2.clone(), Problem::ClassCycle { names });
                    cycle = true;
                    break;
                }
                path.push(at);
                on_path[at] = true;
                match index.get(declared[at].1) {
                    Some(&base) => at = base,
                    None => break,
                }
            }
            for &p in path.iter().rev() {
                on_path[p] = false;
                let (name, base, span) = &declared[p];
                let id = match index.get(base) {
                    _ if cycle => None,
                    Some(&b) => ids[b].flatten(),
                    None => self.builtin_base(base, span.clone(), &own, &index),
                };
                ids[p] = Some(id.map(|base| {
                    own.push((Rc::from(*name), base));
                    (crate::exception::BUILTIN_COUNT + own.len() - 1) as ClassId
                }));
            }
        }
        Classes::new(own)
    }

    /// The builtin base a declared class names, which must be an
    /// `Exception`.
    fn builtin_base(
        &mut self,
        base: &str,
        span: std::ops::Range<usize>,
        own: &[(Rc<str>, ClassId)],
        declared: &BTreeMap<&str, usize>,
    ) -> Option<ClassId> {
        match Classes::builtin(base) {
            Some(id) if Classes::is_group(id) => {
                let (name, what) = (base.to_owned(), "the base of an exception class");
                self.r.error(span, Problem::GroupNotRaised { name, what });
                None
            }
            Some(id) if Classes::builtin_is_a(id, EXCEPTION) => {
                self.class_exists(id, span).then_some(id)
            }
            Some(_) => {
                let (name, what) = (base.to_owned(), "the base of an exception class");
                self.r.error(span, Problem::NotAnException { name, what });
                None
            }
            None => {
                // Lazily: the suggestions' budget stops the walk early.
                fn any<'a>(name: &'static str) -> &'a str {
                    name
                }
                let candidates = Classes::builtin_names()
                    .map(any)
                    .chain(own.iter().map(|(n, _)| &**n))
                    .chain(declared.keys().copied());
                let suggestion = suggest(base, candidates);
                let name = base.to_owned();
                self.r
                    .error(span, Problem::UnknownClass { name, suggestion });
                None
            }
        }
    }

    /// Whether builtin class `id` exists in the version the run follows
    /// (refused at `span` if not).
    fn class_exists(&mut self, id: ClassId, span: std::ops::Range<usize>) -> bool {
        id != QUEUE_SHUT_DOWN
            || self.needs_python(span, "`QueueShutDown`", crate::python::Python::V3_13)
    }

    /// A class a step names (`type = "ValueError"`), which must be an
    /// `Exception` to be raised.
    pub(crate) fn raised_class(&mut self, node: &Node<'_>) -> Option<ClassId> {
        let name = self.r.string(node, "`type`")?;
        let id = self.class_named(name, node.span())?;
        if Classes::is_group(id) {
            let (name, what) = (name.to_owned(), "raised by a step");
            self.r
                .error(node.span(), Problem::GroupNotRaised { name, what });
            return None;
        }
        if !self.classes.is_a(id, EXCEPTION) {
            let (name, what) = (name.to_owned(), "a raised exception");
            self.r
                .error(node.span(), Problem::NotAnException { name, what });
            return None;
        }
        Some(id)
    }

    fn class_named(&mut self, name: &str, span: std::ops::Range<usize>) -> Option<ClassId> {
        if let Some(id) = self.classes.find(name) {
            return self.class_exists(id, span).then_some(id);
        }
        let suggestion = suggest(name, self.classes.names());
        let name = name.to_owned();
        self.r
            .error(span, Problem::UnknownClass { name, suggestion });
        None
    }

    /// A `catch` or a `retry_on`: the kinds and the classes it names.
    pub(crate) fn exception_names(&mut self, node: &Node<'_>, for_: Names) -> Catch {
        let what = match for_ {
            Names::Catch => "`catch`",
            Names::RetryOn => "`retry_on`",
        };
        let mut catch = Catch::default();
        for (name, span) in self.r.names(node, what) {
            match name {
                "error" => catch.error = true,
                "timeout" => catch.timeout = true,
                "cancelled" if for_ == Names::Catch => catch.cancelled = true,
                _ => match self.classes.find(name) {
                    Some(id) if for_ == Names::RetryOn && !self.classes.is_a(id, EXCEPTION) => {
                        let name = name.to_owned();
                        self.r.error(span, Problem::RetryOnCancel { name });
                    }
                    Some(id) => {
                        if self.class_exists(id, span) {
                            catch.classes.push(id);
                        }
                    }
                    None if name == "cancelled" => {
                        let name = name.to_owned();
                        self.r.error(span, Problem::RetryOnCancel { name });
                    }
                    None => {
                        let kinds: &[&str] = match for_ {
                            Names::Catch => &["error", "timeout", "cancelled"],
                            Names::RetryOn => &["error", "timeout"],
                        };
                        let candidates = kinds.iter().copied().chain(self.classes.names());
                        let suggestion = suggest(name, candidates);
                        let name = name.to_owned();
                        let problem = match for_ {
                            Names::Catch => Problem::UnknownExceptionKind { name, suggestion },
                            Names::RetryOn => Problem::UnknownRetryOn { name, suggestion },
                        };
                        self.r.error(span, problem);
                    }
                },
            }
        }
        catch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_identifiers() {
        assert!(is_identifier("RateLimited"));
        assert!(is_identifier("_Private2"));
        assert!(!is_identifier("2fast"));
        assert!(!is_identifier("rate-limited"));
        assert!(!is_identifier(""));
    }
}
