//! Chrome trace-event JSON (the object format), streamed as events happen;
//! opens in Perfetto (ui.perfetto.dev) and chrome://tracing.
//!
//! One track (thread) per task, in order of creation. A task's life is a
//! duration span (`B`/`E`) named after it; waiting for a permit, a full or
//! empty queue, or a timer is a nested `waiting` span; holding a permit is
//! an async span per semaphore; logs and other events are instants; permits
//! in use and queue depths are counters. Times are microseconds of virtual
//! time.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};

use super::Renderer;
use crate::summary::Summary;
use crate::trace::Event;

#[derive(Default)]
pub(crate) struct Chrome {
    /// Track of each actor, by first appearance.
    tids: BTreeMap<String, u64>,
    /// Actors with an open `waiting` span.
    waiting: BTreeMap<String, bool>,
    /// Tasks whose life span is open.
    open: BTreeMap<String, u64>,
    first: bool,
}

fn micros(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl Chrome {
    fn write(&mut self, out: &mut dyn Write, event: Value) {
        let sep = if self.first { "" } else { ",\n" };
        self.first = false;
        let _ = write!(out, "{sep}{event}");
    }

    fn tid(&mut self, out: &mut dyn Write, actor: &str) -> u64 {
        if let Some(t) = self.tids.get(actor) {
            return *t;
        }
        let t = self.tids.len() as u64 + 1;
        self.tids.insert(actor.to_owned(), t);
        self.write(
            out,
            json!({ "ph": "M", "pid": 1, "tid": t, "name": "thread_name", "args": { "name": actor } }),
        );
        self.write(
            out,
            json!({ "ph": "M", "pid": 1, "tid": t, "name": "thread_sort_index", "args": { "sort_index": t } }),
        );
        t
    }
}

impl Renderer for Chrome {
    fn header(
        &mut self,
        out: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    ) {
        self.first = true;
        let _ = writeln!(out, "{{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
        let name = if scenario.is_empty() {
            "scenario"
        } else {
            scenario
        };
        self.write(
            out,
            json!({ "ph": "M", "pid": 1, "name": "process_name", "args": { "name": format!("{name} (seed {seed}, Python {python})") } }),
        );
    }

    fn event(&mut self, out: &mut dyn Write, e: &Event) {
        let tid = self.tid(out, &e.actor);
        let ts = micros(e.time);
        let base = |ph: &str, name: &str| json!({ "ph": ph, "pid": 1, "tid": tid, "ts": ts, "name": name });
        if self.waiting.remove(&e.actor).is_some() {
            self.write(out, base("E", "waiting"));
        }
        match e.kind {
            "started" => {
                let mut b = base("B", &e.actor);
                b["args"] = json!({ "detail": e.detail });
                self.write(out, b);
                self.open.insert(e.actor.clone(), tid);
            }
            "done" | "failed" | "cancelled" if self.open.remove(&e.actor).is_some() => {
                let mut end = base("E", &e.actor);
                end["args"] = json!({ "state": e.kind, "detail": e.detail });
                self.write(out, end);
            }
            "wait" => {
                let mut b = base("B", "waiting");
                b["args"] = json!({ "for": e.detail });
                self.write(out, b);
                self.waiting.insert(e.actor.clone(), true);
            }
            "sleep" => {
                let dur = crate::duration::parse(&e.detail).unwrap_or(0);
                let mut x = base("X", "sleep");
                x["dur"] = json!(micros(dur));
                self.write(out, x);
            }
            kind => {
                let mut i = base("i", kind);
                i["s"] = json!("t");
                i["args"] = json!({ "detail": e.detail });
                self.write(out, i);
            }
        }
        if let Some(g) = &e.gauge {
            if g.kind == "permits" && (e.kind == "acquired" || e.kind == "released") {
                let ph = if e.kind == "acquired" { "b" } else { "e" };
                let mut span = base(ph, &format!("holds {}", g.name));
                span["cat"] = json!("permit");
                span["id2"] = json!({ "local": format!("{}/{}", e.actor, g.name) });
                self.write(out, span);
            }
            let series = match g.kind {
                "permits" => format!("permits in use: {}", g.name),
                _ => format!("queue depth: {}", g.name),
            };
            self.write(
                out,
                json!({ "ph": "C", "pid": 1, "ts": ts, "name": series, "args": { "value": g.value } }),
            );
        }
    }

    fn wants_all(&self) -> bool {
        true
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        // Tasks left waiting: their spans end with the run.
        let ts = micros(s.makespan);
        for (actor, tid) in std::mem::take(&mut self.open) {
            let end =
                |name: &str| json!({ "ph": "E", "pid": 1, "tid": tid, "ts": ts, "name": name });
            if self.waiting.remove(&actor).is_some() {
                self.write(out, end("waiting"));
            }
            let mut e = end(&actor);
            e["args"] = json!({ "state": "left waiting" });
            self.write(out, e);
        }
        let _ = write!(
            out,
            "\n],\"otherData\":{}}}\n",
            json!({
                "makespan_ns": s.makespan,
                "done": s.done,
                "failed": s.failed,
                "cancelled": s.cancelled,
                "skipped": s.skipped,
                "left_waiting": s.pending,
                "deadlock": s.deadlock,
                "stopped": s.stopped,
                "main_raises": s.main_raises,
                "unretrieved": s.unretrieved_total,
            })
        );
    }
}
