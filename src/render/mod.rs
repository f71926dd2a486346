//! Renderers: how a trace is written out (`--format`): streamed as it
//! happens (text, jsonl, chrome), or drawn from the whole run at its end
//! (mermaid, svg, html, through [`timeline`]).

mod chrome;
mod jsonl;
mod mermaid;
mod svg;
mod text;
mod timeline;

use std::io::Write;

pub(crate) use chrome::Chrome;
pub(crate) use jsonl::Jsonl;
pub(crate) use mermaid::Mermaid;
pub(crate) use svg::{Html, Svg};
pub(crate) use text::Text;

use crate::trace::{Event, Summary};

/// Writes events as they happen, then the summary.
pub(crate) trait Renderer {
    fn header(
        &mut self,
        out: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    );
    fn event(&mut self, out: &mut dyn Write, event: &Event);
    fn summary(&mut self, out: &mut dyn Write, summary: &Summary);
    /// Whether it wants every event, `--verbose` ones included (a picture
    /// draws sleeps as waits).
    fn wants_all(&self) -> bool {
        false
    }
}
