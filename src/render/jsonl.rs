//! JSON Lines: a header object, one object per event, then one summary
//! object. The schema is versioned: the header carries
//! `"format": "scenario-run/jsonl"` and `"version"`, which changes only when
//! a field is removed or changes meaning (new fields may appear within a
//! version). docs/formats.md documents every field.

use std::io::Write;

use serde_json::json;

use super::Renderer;
use crate::summary::Summary;
use crate::trace::Event;

/// The version of the JSON Lines schema.
pub(crate) const VERSION: u32 = 1;

pub(crate) struct Jsonl;

impl Renderer for Jsonl {
    fn header(
        &mut self,
        out: &mut dyn Write,
        scenario: &str,
        seed: u64,
        python: crate::python::Python,
    ) {
        let _ = writeln!(
            out,
            "{}",
            json!({ "kind": "scenario", "format": "scenario-run/jsonl", "version": VERSION, "name": scenario, "seed": seed, "python": python.name() })
        );
    }

    fn event(&mut self, out: &mut dyn Write, e: &Event) {
        let mut obj =
            json!({ "time_ns": e.time, "task": e.actor, "kind": e.kind, "detail": e.detail });
        if e.kind == "log" {
            obj["message"] = json!(e.detail);
        }
        if let Some(g) = &e.gauge {
            obj[g.kind] = json!({ "name": g.name, "value": g.value, "bound": g.bound });
        }
        let _ = writeln!(out, "{obj}");
    }

    fn summary(&mut self, out: &mut dyn Write, s: &Summary) {
        let sems: Vec<_> = s
            .semaphores
            .iter()
            .map(|u| {
                json!({
                    "name": u.name,
                    "peak": u.peak,
                    "permits": u.permits,
                    "mean_in_use": u.mean_in_use,
                    "utilisation": u.utilisation(),
                    "mean_waiting": u.mean_waiting,
                    "acquisitions": u.acquisitions,
                    "wait_mean_ns": u.wait_mean,
                    "wait_p95_ns": u.wait_p95,
                })
            })
            .collect();
        let queues: Vec<_> = s
            .queues
            .iter()
            .map(|u| {
                json!({
                    "name": u.name,
                    "peak": u.peak,
                    "capacity": u.capacity,
                    "mean_depth": u.mean_depth,
                    "puts": u.puts,
                    "gets": u.gets,
                    "get_wait_mean_ns": u.get_wait_mean,
                    "put_wait_mean_ns": u.put_wait_mean,
                })
            })
            .collect();
        let tasks: Vec<_> = s
            .tasks_by_definition
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "finished": t.finished,
                    "throughput_per_s": t.throughput(s.makespan),
                    "p50_ns": t.p50,
                    "p90_ns": t.p90,
                    "p99_ns": t.p99,
                    "max_ns": t.max,
                })
            })
            .collect();
        let waiting: Vec<_> = s
            .waiting
            .iter()
            .map(|(t, w)| json!({ "task": t, "waiting_on": w }))
            .collect();
        let expectations: Vec<_> = s
            .expectations
            .iter()
            .map(|v| json!({ "what": v.what, "expected": v.expected, "actual": v.actual, "ok": v.ok }))
            .collect();
        let critical = s.critical.as_ref().map(|c| {
            let c = match c {
                Ok(c) => c,
                Err(why) => return json!({ "not_followed": why }),
            };
            let links: Vec<_> = c
                .links
                .iter()
                .map(|l| {
                    json!({
                        "task": l.task,
                        "from_ns": l.from,
                        "to_ns": l.to,
                        "what": l.what,
                        "after": l.after,
                    })
                })
                .collect();
            let by: Vec<_> = c
                .by_definition
                .iter()
                .map(|(name, ns)| json!({ "name": name, "ns": ns }))
                .collect();
            json!({
                "links": links,
                "omitted_links": c.omitted,
                "omitted_ns": c.omitted_ns,
                "by_definition": by,
            })
        });
        let unretrieved: Vec<_> = s
            .unretrieved
            .iter()
            .map(|u| json!({ "name": u.who, "message": u.why.message(), "error": u.error }))
            .collect();
        let obj = json!({
            "kind": "summary",
            "expectations": expectations,
            "makespan_ns": s.makespan,
            "tasks": { "done": s.done, "failed": s.failed, "cancelled": s.cancelled, "skipped": s.skipped, "pending": s.pending },
            "tasks_by_definition": tasks,
            "semaphores": sems,
            "queues": queues,
            "left_waiting": waiting,
            "blocking": s.blocking,
            "sequential_makespan_ns": s.sequential.as_ref().and_then(|r| r.as_ref().ok()),
            "real_clock": s.real.map(|(speed, wall)| json!({ "speed": speed, "wall_ns": wall })),
            "checks_failed": s.checks_failed,
            "stopped": s.stopped,
            "deadlock": s.deadlock,
            "main_raises": s.main_raises,
            "unretrieved": unretrieved,
            "unretrieved_total": s.unretrieved_total,
            "critical_path": critical,
        });
        let _ = writeln!(out, "{obj}");
    }
}
