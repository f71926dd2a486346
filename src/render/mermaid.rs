//! A Mermaid Gantt chart of the run, which GitHub renders in a pull request
//! or a Markdown file: one bar per task from its start to its end, grouped
//! in sections by task definition, tagged by final state.

use std::io::Write;

use super::Renderer;
use super::timeline::Timeline;
use crate::summary::Summary;
use crate::trace::Event;

#[derive(Default)]
pub(crate) struct Mermaid {
    timeline: Timeline,
}

/// Mermaid's task names end at `:` and its lines at `;` or `#`.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, ':' | ';' | '#' | '\n') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A d3 time format for the axis, by the length of the run.
fn axis(end_ms: u64) -> &'static str {
    if end_ms < 60_000 {
        "%S.%L"
    } else if end_ms < 3_600_000 {
        "%M:%S"
    } else {
        "%H:%M"
    }
}

impl Renderer for Mermaid {
    fn header(
        &mut self,
        _: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    ) {
        self.timeline.header(scenario, seed, python);
    }

    fn event(&mut self, _: &mut dyn Write, event: &Event) {
        self.timeline.event(event);
    }

    fn wants_all(&self) -> bool {
        true
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        let t = &mut self.timeline;
        t.finish(s);
        let end_ms = t.end.div_ceil(1_000_000);
        let _ = writeln!(out, "gantt");
        let _ = writeln!(out, "    title {}", clean(&t.title));
        let _ = writeln!(out, "    dateFormat x");
        let _ = writeln!(out, "    axisFormat {}", axis(end_ms));
        let mut section = None;
        for (i, lane) in t.lanes.iter().enumerate() {
            if section != Some(&lane.group) {
                let _ = writeln!(out, "    section {}", clean(&lane.group));
                section = Some(&lane.group);
            }
            // A task that never started (skipped, cancelled first) is a milestone at its end.
            let end = lane.end.unwrap_or(t.end).div_ceil(1_000_000);
            let start = lane.start.map_or(end, |s| s / 1_000_000);
            let tag = match lane.state {
                "done" => "done, ",
                "failed" | "cancelled" => "crit, ",
                "pending" => "active, ",
                _ => "",
            };
            let (tag, end) = if end <= start {
                ("milestone, ", start)
            } else {
                (tag, end)
            };
            let label = format!("{} ({})", lane.name, lane.state);
            let _ = writeln!(out, "    {} :{tag}t{i}, {start}, {end}", clean(&label));
        }
    }
}
