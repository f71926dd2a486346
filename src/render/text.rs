//! The human trace: one aligned line per event, then a summary block.

use std::io::Write;

use super::Renderer;
use crate::duration::{Precision, Stamp, format as exact, shown};
use crate::summary::{CriticalPath, PathLink, Summary};
use crate::trace::Event;

#[derive(Default)]
pub(crate) struct Text {
    /// Width of the task column.
    pub(crate) width: usize,
    /// Decimals of the time column; humanised or exact summary durations.
    pub(crate) precision: Precision,
    /// `--only`: the tasks whose events are shown, as instances (`fetch[3]`)
    /// or definitions (`fetch`, every replica); empty: every task.
    pub(crate) only: Vec<String>,
    /// `--events`: the kinds of events shown; empty: every kind.
    pub(crate) events: Vec<String>,
    /// The header's name for a scenario without one: its file's name.
    pub(crate) label: String,
    /// `--fold`: replicas doing the same thing at the same instant, one
    /// after another, are one line (`fetch[0..49]  started`).
    pub(crate) fold: bool,
    /// The run of replicas being folded, not written yet.
    pending: Option<Fold>,
}

/// Consecutive replicas `base[first]`..`base[last]` with one event.
struct Fold {
    time: u64,
    kind: &'static str,
    detail: String,
    base: String,
    first: u64,
    last: u64,
}

/// `("fetch", 3)` out of `fetch[3]`.
fn replica(actor: &str) -> Option<(&str, u64)> {
    let (base, rest) = actor.split_once('[')?;
    Some((base, rest.strip_suffix(']')?.parse().ok()?))
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

    /// The critical path: each link with its share of the makespan, then
    /// each task definition's share.
    fn critical_path(&self, out: &mut dyn Write, path: &CriticalPath, makespan: u64) {
        let share = |ns: u64| match makespan {
            0 => 0.0,
            m => 100.0 * ns as f64 / m as f64,
        };
        let shown = path.links.len() + usize::from(path.omitted > 0);
        let _ = writeln!(
            out,
            "\ncritical path  what decided the makespan, in {} link{}",
            path.links.len() + path.omitted,
            if path.links.len() + path.omitted == 1 {
                ""
            } else {
                "s"
            }
        );
        // As wide as its own names: the same whatever the trace's width.
        let w = path.links.iter().map(|l| l.task.len()).max().unwrap_or(4);
        let half = CriticalPath::SHOWN / 2;
        let (head, tail, hidden) = if shown > CriticalPath::SHOWN {
            let hidden = &path.links[half..path.links.len() - half];
            let ns = hidden.iter().map(|l| l.to - l.from).sum::<u64>() + path.omitted_ns;
            (half, half, Some((hidden.len() + path.omitted, ns)))
        } else {
            (path.links.len(), 0, None)
        };
        let line = |out: &mut dyn Write, l: &PathLink| {
            let (from, to) = (Stamp(l.from, self.precision), Stamp(l.to, self.precision));
            // A link of no time shows only what made its task ready.
            let what = match &l.after {
                Some(after) if l.from == l.to => after.clone(),
                Some(after) => format!("{} ({after})", l.what),
                None => l.what.clone(),
            };
            let pct = share(l.to - l.from);
            let task = &l.task;
            let _ = writeln!(out, "  {task:<w$}  {from} → {to}  {pct:>5.1}%  {what}");
        };
        for l in &path.links[..head] {
            line(out, l);
        }
        if let Some((n, ns)) = hidden {
            let _ = writeln!(
                out,
                "  ... {n} more link{} ({:.1}% of the makespan)",
                if n == 1 { "" } else { "s" },
                share(ns)
            );
        }
        for l in &path.links[path.links.len() - tail..] {
            line(out, l);
        }
        let defs: Vec<String> = path
            .by_definition
            .iter()
            .map(|(name, ns)| format!("{name} {:.1}%", share(*ns)))
            .collect();
        if !defs.is_empty() {
            let _ = writeln!(out, "  by task       {}", defs.join(", "));
        }
    }

    /// Writes one event's line (or lines, for a multi-line message).
    fn write(&self, out: &mut dyn Write, time: u64, actor: &str, kind: &str, detail: &str) {
        let (w, time) = (self.width, Stamp(time, self.precision));
        // A multi-line log message becomes one line per line, like print();
        // no line ends in spaces.
        for line in detail.split('\n') {
            let _ = match line.trim_end() {
                "" => writeln!(out, "{time}  {actor:<w$}  {kind}"),
                line => writeln!(out, "{time}  {actor:<w$}  {kind:<9} {line}"),
            };
        }
    }

    /// Writes the folded run of replicas, if any.
    fn flush(&mut self, out: &mut dyn Write) {
        if let Some(f) = self.pending.take() {
            let actor = if f.first == f.last {
                format!("{}[{}]", f.base, f.first)
            } else {
                format!("{}[{}..{}]", f.base, f.first, f.last)
            };
            self.write(out, f.time, &actor, f.kind, &f.detail);
        }
    }
}

impl Renderer for Text {
    fn header(
        &mut self,
        out: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    ) {
        let name = match (scenario, self.label.as_str()) {
            ("", "") => String::new(),
            ("", label) => format!("{label}  "),
            (name, _) => format!("{name}  "),
        };
        let _ = writeln!(out, "# {name}(seed {seed}, Python {python})");
    }

    fn event(&mut self, out: &mut dyn Write, e: &Event) {
        if !self.shows(e) {
            return;
        }
        if !self.fold {
            self.write(out, e.time, &e.actor, e.kind, &e.detail);
            return;
        }
        let Some((base, k)) = replica(&e.actor) else {
            self.flush(out);
            self.write(out, e.time, &e.actor, e.kind, &e.detail);
            return;
        };
        if let Some(f) = &mut self.pending
            && f.time == e.time
            && f.kind == e.kind
            && f.detail == e.detail
            && f.base == base
            && f.last + 1 == k
        {
            f.last = k;
            return;
        }
        self.flush(out);
        self.pending = Some(Fold {
            time: e.time,
            kind: e.kind,
            detail: e.detail.clone(),
            base: base.to_owned(),
            first: k,
            last: k,
        });
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        self.flush(out);
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
        for t in &s.tasks_by_definition {
            let rate = t
                .throughput(s.makespan)
                .map_or(String::new(), |r| format!(" ({r:.2}/s)"));
            let _ = writeln!(
                out,
                "  task          {}: {} finished in {}{rate}; latency p50 {} p90 {} p99 {} max {}",
                t.name,
                t.finished,
                self.dur(s.makespan),
                self.dur(t.p50),
                self.dur(t.p90),
                self.dur(t.p99),
                self.dur(t.max)
            );
        }
        for u in &s.semaphores {
            let (name, peak, permits) = (&u.name, u.peak, u.permits);
            let mut line = format!("  semaphore     {name}: peak {peak}/{permits} in use");
            if u.acquisitions > 0 && s.makespan > 0 {
                line.push_str(&format!(
                    ", mean {:.2} ({:.1}% utilisation); mean {:.2} waiting, wait mean {} p95 {}",
                    u.mean_in_use,
                    100.0 * u.utilisation(),
                    u.mean_waiting,
                    self.dur(u.wait_mean),
                    self.dur(u.wait_p95)
                ));
            }
            let _ = writeln!(out, "{line}");
        }
        for u in &s.queues {
            let (name, peak) = (&u.name, u.peak);
            let cap = u
                .capacity
                .map_or("unbounded".to_string(), |c| c.to_string());
            let mut line = format!("  queue         {name}: peak depth {peak} (capacity {cap})");
            if u.puts > 0 && s.makespan > 0 {
                line.push_str(&format!(
                    ", mean depth {:.2}; per item, getters waited {} and putters {}",
                    u.mean_depth,
                    self.dur(u.get_wait_mean),
                    self.dur(u.put_wait_mean)
                ));
            }
            let _ = writeln!(out, "{line}");
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
        if let Some(raised) = &s.main_raises {
            let _ = writeln!(out, "  main          asyncio.run raises {raised}");
        }
        for u in &s.unretrieved {
            let _ = writeln!(out, "  unretrieved   {}: {}", u.who, u.detail());
        }
        if s.unretrieved_total > s.unretrieved.len() {
            let more = s.unretrieved_total - s.unretrieved.len();
            let _ = writeln!(out, "  unretrieved   ... and {more} more");
        }
        if let Some(why) = &s.stopped {
            let _ = writeln!(out, "  stopped       {why}");
        }
        if let Some(why) = &s.deadlock {
            let _ = writeln!(out, "  deadlock      {why}");
        }
        if s.checks_failed > 0 {
            let _ = writeln!(out, "  checks        {} failed", s.checks_failed);
        }
        match &s.critical {
            // A run that took no time has no path worth showing.
            Some(Ok(_)) if s.makespan == 0 => {}
            Some(Ok(path)) => self.critical_path(out, path, s.makespan),
            Some(Err(why)) => {
                let _ = writeln!(out, "\ncritical path  {why}");
            }
            None => {}
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
        if !s.expectations.is_empty() || s.sweep_only > 0 {
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
            if s.sweep_only > 0 {
                let n = s.sweep_only;
                let _ = writeln!(
                    out,
                    "  --    [expect.sweep]: {n} threshold{} judged only over a sweep (--runs N)",
                    if n == 1 { "" } else { "s" }
                );
            }
            let failed = s.expectations.iter().filter(|v| !v.ok).count();
            if failed > 0 {
                let n = s.expectations.len();
                let _ = writeln!(out, "  {failed} of {n} expectations failed");
            }
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
