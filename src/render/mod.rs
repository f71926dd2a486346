//! Renderers: how a trace is written out (`--format`), and the tracer that
//! routes each event to the chosen one: streamed as it
//! happens (text, jsonl, chrome), or drawn from the whole run at its end
//! (mermaid, svg, html, through [`timeline`]).

mod chrome;
mod jsonl;
mod mermaid;
pub(crate) mod svg;
mod text;
mod timeline;

use std::io::Write;

pub(crate) use chrome::Chrome;
pub(crate) use jsonl::Jsonl;
pub(crate) use mermaid::Mermaid;
pub(crate) use svg::{Html, Svg};
pub(crate) use text::Text;

use crate::summary::Summary;
use crate::trace::Event;

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

/// Routes events to the renderer, when there is one.
pub(crate) struct Tracer {
    renderer: Option<Box<dyn Renderer>>,
    out: Box<dyn Write>,
    verbose: bool,
    last_time: u64,
    /// Flush after every event (real time: the trace streams as it happens).
    pub(crate) flush_each: bool,
}

impl Tracer {
    pub(crate) fn new(
        renderer: Option<Box<dyn Renderer>>,
        out: Box<dyn Write>,
        verbose: bool,
    ) -> Tracer {
        Tracer {
            renderer,
            out,
            verbose,
            last_time: 0,
            flush_each: false,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.renderer.is_some()
    }

    /// Whether `--verbose` events are wanted, by the user or the renderer.
    pub(crate) fn verbose(&self) -> bool {
        self.verbose || self.renderer.as_ref().is_some_and(|r| r.wants_all())
    }

    pub(crate) fn event(&mut self, event: Event) {
        debug_assert!(event.time >= self.last_time, "time went back");
        self.last_time = event.time;
        if event.verbose && !self.verbose() {
            return;
        }
        if let Some(r) = &mut self.renderer {
            r.event(&mut self.out, &event);
            if self.flush_each {
                let _ = self.out.flush();
            }
        }
    }

    pub(crate) fn flush_time(&mut self, now: u64) {
        self.last_time = self.last_time.max(now);
    }

    pub(crate) fn header(&mut self, scenario: &str, seed: u64, python: crate::python::Python) {
        if let Some(r) = &mut self.renderer {
            r.header(&mut self.out, scenario, seed, python);
        }
    }

    /// Writes the summary (every format has one) and flushes.
    pub(crate) fn finish(&mut self, summary: &Summary, fallback: &mut dyn Renderer) {
        match &mut self.renderer {
            Some(r) => r.summary(&mut self.out, summary),
            None => fallback.summary(&mut self.out, summary),
        }
        let _ = self.out.flush();
    }
}
