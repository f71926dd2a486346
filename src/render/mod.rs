//! Renderers: how a trace is written out (`--format text|jsonl`).

mod jsonl;
mod text;

use std::io::Write;

pub(crate) use jsonl::Jsonl;
pub(crate) use text::Text;

use crate::trace::{Event, Summary};

/// Writes events as they happen, then the summary.
pub(crate) trait Renderer {
    fn header(&mut self, out: &mut dyn Write, scenario: &str, seed: u64);
    fn event(&mut self, out: &mut dyn Write, event: &Event);
    fn summary(&mut self, out: &mut dyn Write, summary: &Summary);
}
