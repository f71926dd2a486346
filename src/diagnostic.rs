//! Problems found in a scenario file, and how they are shown to people.
//!
//! Every problem has one message, the span it is about, and maybe a hint
//! ("did you mean `sleep`?"). All problems of a file are collected and shown
//! together, in file order, as `file:line:column` with the line and a caret.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::problem::Problem;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Diagnostic {
    /// Byte range in the file; `None` for problems of the whole file.
    span: Option<Range<usize>>,
    problem: Problem,
}

impl Diagnostic {
    pub(crate) fn new(span: Range<usize>, problem: Problem) -> Diagnostic {
        Diagnostic {
            span: Some(span),
            problem,
        }
    }

    pub(crate) fn span(&self) -> Option<&Range<usize>> {
        self.span.as_ref()
    }

    pub(crate) fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// A problem as shown: where, message, label and help.
type Shown<'a> = (
    Option<&'a Range<usize>>,
    String,
    Option<String>,
    Option<String>,
);

/// At most this many problems are shown; the rest are counted.
pub(crate) const SHOWN: usize = 100;

/// Renders problems as `error: ...` blocks; sorted by position, deduplicated;
/// the first [`SHOWN`] only, then how many more there are. Each block
/// renders only the lines it is about, so the time is linear in the file.
pub(crate) fn render(path: &str, source: &str, diags: &[Diagnostic], color: bool) -> String {
    let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
    sorted.sort_by_key(|d| d.span().map(|s| (s.start, s.end)));
    // Problems are told apart by what they show: the same text at the same
    // place is shown once.
    let mut shown: Vec<Shown<'_>> = sorted
        .into_iter()
        .map(|d| {
            let (message, label, help) = d.problem().texts();
            (d.span(), message, label, help)
        })
        .collect();
    shown.dedup();
    let lines = LineIndex::new(source);
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for (span, message, label, help) in shown.iter().take(SHOWN) {
        let title = Level::ERROR.primary_title(message.as_str());
        let mut group = match span.cloned() {
            Some(span) => {
                let span = clamp(span, source);
                let (lines, first) = lines.around(source, span.clone());
                let span = span.start - lines.start..span.end - lines.start;
                let mut annotation = AnnotationKind::Primary.span(span);
                if let Some(label) = &label {
                    annotation = annotation.label(label.as_str());
                }
                title.element(
                    Snippet::source(&source[lines])
                        .line_start(first)
                        .path(path)
                        .annotation(annotation),
                )
            }
            None => Group::with_title(title).element(Level::NOTE.message(format!("in `{path}`"))),
        };
        if let Some(help) = &help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    let n = shown.len();
    if n > SHOWN {
        out.push_str(&format!(
            "error: and {} more problems (only the first {SHOWN} are shown)\n",
            n - SHOWN
        ));
    }
    out.push_str(&format!(
        "error: `{path}` is not a valid scenario ({n} problem{})\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// Where each line starts, to cut a file down to the lines a span is on.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(source: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex(starts)
    }

    /// The byte range of the whole lines `span` touches (each with its
    /// line break), and the number of the first (from 1).
    fn around(&self, source: &str, span: Range<usize>) -> (Range<usize>, usize) {
        let line_of = |at: usize| self.0.partition_point(|s| *s <= at) - 1;
        let first = line_of(span.start);
        let last = line_of(span.end);
        let end = self.0.get(last + 1).copied().unwrap_or(source.len());
        (self.0[first]..end, first + 1)
    }
}

/// Keeps a span inside the text and on character boundaries.
fn clamp(span: Range<usize>, source: &str) -> Range<usize> {
    let fit = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fit(span.start);
    let end = fit(span.end).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_and_caret() {
        let src = "[tasks.a]\nsleeep = \"1s\"\n";
        let d = Diagnostic::new(
            10..16,
            Problem::UnknownKey {
                key: "sleeep".into(),
                what: "task `a`".into(),
                known: &["sleep"],
                suggestion: crate::suggest::suggest("sleeep", ["sleep"]),
            },
        );
        let out = render("x.toml", src, &[d], false);
        assert!(out.contains("x.toml:2:1"), "{out}");
        assert!(out.contains("^^^^^^"), "{out}");
        assert!(out.contains("did you mean `sleep`?"), "{out}");
    }
}
