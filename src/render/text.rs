//! The human trace: one aligned line per event, then a summary block.

use std::io::Write;

use super::Renderer;
use crate::duration::{Precision, Stamp, format as exact, shown};
use crate::trace::{Event, Summary};

#[derive(Default)]
pub(crate) struct Text {
    /// Width of the task column.
    pub width: usize,
    /// Decimals of the time column; humanised or exact summary durations.
    pub precision: Precision,
    /// `--only`: the tasks whose events are shown, as instances (`fetch[3]`)
    /// or definitions (`fetch`, every replica); empty: every task.
    pub only: Vec<String>,
    /// `--events`: the kinds of events shown; empty: every kind.
    pub events: Vec<String>,
    /// The header's name for a scenario without one: its file's name.
    pub label: String,
}

impl Text {
    pub(crate) fn new(width: usize) -> Text {
        Text {
            width,
            ..Text::default()
        }
    }

    /// Whether `--only` and `--events` let this event through.
    fn shows(&self, e: &Event) -> bool {
        let task = self.only.is_empty()
            || self.only.iter().any(|t| {
                e.actor == *t
                    || e.actor
                        .strip_prefix(t.as_str())
                        .is_some_and(|rest| rest.starts_with('['))
            });
        task && (self.events.is_empty() || self.events.iter().any(|k| k == e.kind))
    }

    fn dur(&self, ns: u64) -> String {
        shown(ns, self.precision)
    }
}

impl Renderer for Text {
    fn header(&mut self, out: &mut dyn Write, scenario: &str, seed: u64) {
        let name = match (scenario, self.label.as_str()) {
            ("", "") => String::new(),
            ("", label) => format!("{label}  "),
            (name, _) => format!("{name}  "),
        };
        let _ = writeln!(out, "# {name}(seed {seed})");
    }

    fn event(&mut self, out: &mut dyn Write, e: &Event) {
        if !self.shows(e) {
            return;
        }
        let (w, time) = (self.width, Stamp(e.time, self.precision));
        // A multi-line log message becomes one line per line, like print();
        // no line ends in spaces.
        for line in e.detail.split('\n') {
            let _ = match line.trim_end() {
                "" => writeln!(out, "{time}  {:<w$}  {}", e.actor, e.kind),
                line => writeln!(out, "{time}  {:<w$}  {:<9} {line}", e.actor, e.kind),
            };
        }
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        let _ = writeln!(out, "\nsummary");
        let _ = writeln!(out, "  makespan      {}", self.dur(s.makespan));
        if let Some((speed, wall)) = s.real {
            let _ = writeln!(
                out,
                "  clock         real time at {speed}x: measured times; the run took {} of wall time",
                self.dur(wall)
            );
        }
        let mut states = Vec::new();
        for (n, name) in [
            (s.done, "done"),
            (s.failed, "failed"),
            (s.cancelled, "cancelled"),
            (s.skipped, "skipped"),
            (s.pending, "left waiting"),
        ] {
            if n > 0 {
                states.push(format!("{n} {name}"));
            }
        }
        let _ = writeln!(
            out,
            "  tasks         {}",
            if states.is_empty() {
                "none".into()
            } else {
                states.join(", ")
            }
        );
        for (name, peak, permits) in &s.semaphores {
            let _ = writeln!(out, "  semaphore     {name}: peak {peak}/{permits} in use");
        }
        for (name, peak, cap) in &s.queues {
            let cap = cap.map_or("unbounded".to_string(), |c| c.to_string());
            let _ = writeln!(
                out,
                "  queue         {name}: peak depth {peak} (capacity {cap})"
            );
        }
        for line in &s.blocking {
            let _ = writeln!(out, "  blocking      {line}");
        }
        for (task, what) in &s.waiting {
            let _ = writeln!(out, "  left waiting  {task}: {what}");
        }
        if s.pending > s.waiting.len() {
            let more = s.pending - s.waiting.len();
            let _ = writeln!(out, "  left waiting  ... and {more} more");
        }
        if let Some(why) = &s.stopped {
            let _ = writeln!(out, "  stopped       {why}");
        }
        if let Some(why) = &s.deadlock {
            let _ = writeln!(out, "  deadlock      {why}");
        }
        if let Some(sequential) = &s.sequential {
            let _ = writeln!(out, "\ncompare");
            let _ = writeln!(out, "  as written    makespan {}", self.dur(s.makespan));
            match sequential {
                Ok(seq) => {
                    let _ = writeln!(
                        out,
                        "  sequential    makespan {} (every sleep blocking)",
                        self.dur(*seq)
                    );
                    let _ = writeln!(out, "  speed-up      {}", speed_up(*seq, s.makespan));
                }
                Err(why) => {
                    let _ = writeln!(out, "  sequential    stopped: {why}");
                }
            }
        }
        if !s.expectations.is_empty() {
            let _ = writeln!(out, "\nexpect");
            for v in &s.expectations {
                // A duration at the trace's precision; exact when a failure
                // would otherwise read "expected at most 3s, got 3s".
                let actual = match v.actual_ns {
                    Some(ns) if v.ok || !v.expected.contains(&self.dur(ns)) => self.dur(ns),
                    Some(ns) => exact(ns),
                    None => v.actual.clone(),
                };
                let line = if v.ok {
                    format!("  ok    {}: {actual}", v.what)
                } else {
                    format!("  FAIL  {}: expected {}, got {actual}", v.what, v.expected)
                };
                let _ = writeln!(out, "{line}");
            }
            let failed = s.expectations.iter().filter(|v| !v.ok).count();
            if failed > 0 {
                let n = s.expectations.len();
                let _ = writeln!(out, "  {failed} of {n} expectations failed");
            }
        }
        if s.checks_failed > 0 {
            let _ = writeln!(out, "  checks        {} failed", s.checks_failed);
        }
    }
}

/// `3.00x`, or `n/a` when the async run took no time.
pub(crate) fn speed_up(sequential: u64, concurrent: u64) -> String {
    if concurrent == 0 {
        "n/a (the run took no time)".into()
    } else {
        format!("{:.2}x", sequential as f64 / concurrent as f64)
    }
}
