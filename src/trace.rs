//! Trace events and where they go: a renderer writing them out as they
//! happen (never collected in memory), and the run's summary at the end.

use std::io::Write;

use crate::render::Renderer;
use crate::runtime::{Sim, TaskId};

/// One line of the trace.
/// Every kind of event a trace can hold (`--events` takes these).
pub(crate) const KINDS: [&str; 23] = [
    "created",
    "started",
    "log",
    "sleep",
    "block",
    "put",
    "get",
    "wait",
    "acquired",
    "released",
    "join",
    "cancel",
    "cancelled",
    "caught",
    "timeout",
    "resolve",
    "check",
    "failed",
    "done",
    "skipped",
    "retry",
    "attempt",
    "delayed",
];

pub(crate) struct Event {
    pub time: u64,
    pub actor: String,
    pub kind: &'static str,
    pub detail: String,
    /// Shown only with `--verbose`.
    pub verbose: bool,
    /// A level this event changed: permits in use, or a queue's depth.
    pub gauge: Option<Gauge>,
}

/// A value over time, for the renderers that plot it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gauge {
    /// `permits` or `depth`.
    pub kind: &'static str,
    /// The semaphore or queue.
    pub name: String,
    pub value: u64,
    /// Permits, or the queue's capacity.
    pub bound: Option<u64>,
}

impl Event {
    pub(crate) fn task(sim: &Sim, id: TaskId, kind: &'static str, detail: String) -> Event {
        Event::named(sim, sim.task_name(id), kind, detail)
    }

    pub(crate) fn named(sim: &Sim, actor: String, kind: &'static str, detail: String) -> Event {
        Event {
            time: sim.now(),
            actor: visible(actor),
            kind,
            detail: visible(detail),
            verbose: false,
            gauge: None,
        }
    }

    pub(crate) fn verbose(mut self) -> Event {
        self.verbose = true;
        self
    }

    pub(crate) fn with_gauge(mut self, gauge: Gauge) -> Event {
        self.gauge = Some(gauge);
        self
    }
}

/// The text with every control character but line breaks and tabs written
/// as a visible escape (`\u{1b}`): a log's ESC or BEL never reaches a
/// terminal raw, and every format stays well-formed (XML 1.0 forbids most
/// control characters even escaped).
pub(crate) fn visible(text: String) -> String {
    let hidden = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(hidden) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// What the run reports at its end.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub makespan: u64,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub skipped: usize,
    pub pending: usize,
    /// (name, peak in use, permits)
    pub semaphores: Vec<(String, u32, u32)>,
    /// (name, peak depth, capacity)
    pub queues: Vec<(String, usize, Option<u32>)>,
    /// (task, what it waits on) for tasks left unfinished.
    pub waiting: Vec<(String, String)>,
    pub checks_failed: u32,
    /// Why a limit stopped the run.
    pub stopped: Option<String>,
    /// Why the tasks that should finish cannot.
    pub deadlock: Option<String>,
    /// Per blocking task: how long it held the loop, whom it delayed.
    pub blocking: Vec<String>,
    /// `--compare sequential`: the makespan with every sleep blocking
    /// (`Err`: which limit stopped that run, and how to raise it).
    pub sequential: Option<Result<u64, String>>,
    /// `--clock real`: (speed, measured wall time in nanoseconds).
    pub real: Option<(f64, u64)>,
    /// `[expect]`, checked.
    pub expectations: Vec<crate::expect::Verdict>,
}

impl Summary {
    /// How many of the tasks left waiting are listed one by one.
    pub(crate) const WAITING_SHOWN: usize = 20;
}

/// Routes events to the renderer, when there is one.
pub(crate) struct Tracer {
    renderer: Option<Box<dyn Renderer>>,
    out: Box<dyn Write>,
    verbose: bool,
    last_time: u64,
    /// Flush after every event (real time: the trace streams as it happens).
    pub flush_each: bool,
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
