//! The run as a timeline, gathered from its events for the picture formats
//! (Mermaid, SVG, HTML): one lane per task with its life and its waits, and
//! the levels of every semaphore and queue over time.

use crate::summary::Summary;
use crate::trace::Event;

/// One task's life.
#[derive(Clone, Debug)]
pub(crate) struct Lane {
    pub(crate) name: String,
    /// The task definition (`worker` for `worker[3]`).
    pub(crate) group: String,
    pub(crate) created: u64,
    pub(crate) start: Option<u64>,
    pub(crate) end: Option<u64>,
    /// Final state; `pending` when it was left waiting.
    pub(crate) state: &'static str,
    /// Spans spent waiting for a resource (a permit, a queue, upstream
    /// tasks); a sleep is the task's own work and is not counted.
    pub(crate) waits: Vec<(u64, u64)>,
    open_wait: Option<u64>,
    /// The waits between a failed attempt and the next (retries' backoff):
    /// the attempts are the bar's segments around them.
    pub(crate) backoffs: Vec<(u64, u64)>,
    open_backoff: Option<u64>,
}

/// A semaphore's permits in use, or a queue's depth, over time.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    pub(crate) bound: Option<u64>,
    /// (time, value), in time order; the value holds until the next point.
    pub(crate) points: Vec<(u64, u64)>,
}

#[derive(Default)]
pub(crate) struct Timeline {
    pub(crate) title: String,
    pub(crate) lanes: Vec<Lane>,
    pub(crate) series: Vec<Series>,
    pub(crate) end: u64,
    /// Blocking calls: (who, from, to).
    pub(crate) blocks: Vec<(String, u64, u64)>,
    /// Lane of each task name (lookup only: output follows `lanes`' order).
    index: std::collections::BTreeMap<String, usize>,
}

const FINAL: [&str; 4] = ["done", "failed", "cancelled", "skipped"];

impl Timeline {
    pub(crate) fn header(&mut self, scenario: &str, seed: u64, python: crate::python::Python) {
        self.title = if scenario.is_empty() {
            format!("seed {seed}, Python {python}")
        } else {
            format!("{scenario} (seed {seed}, Python {python})")
        };
    }

    fn lane(&mut self, name: &str) -> Option<&mut Lane> {
        let i = *self.index.get(name)?;
        self.lanes.get_mut(i)
    }

    pub(crate) fn event(&mut self, e: &Event) {
        self.end = self.end.max(e.time);
        if let Some(g) = &e.gauge {
            self.gauge(g.kind, &g.name, g.bound, e.time, g.value);
        }
        if e.kind == "created" {
            let group = e.actor.split('[').next().unwrap_or(&e.actor).to_owned();
            self.index.insert(e.actor.clone(), self.lanes.len());
            self.lanes.push(Lane {
                name: e.actor.clone(),
                group,
                created: e.time,
                start: None,
                end: None,
                state: "pending",
                waits: Vec::new(),
                open_wait: None,
                backoffs: Vec::new(),
                open_backoff: None,
            });
            return;
        }
        if e.kind == "block" {
            let held = e.detail.rsplit("for ").next().unwrap_or("");
            if let Ok(ns) = crate::duration::parse(held) {
                self.blocks.push((e.actor.clone(), e.time, e.time + ns));
            }
        }
        let Some(lane) = self.lane(&e.actor) else {
            return; // a future's callbacks, not a task
        };
        if let Some(from) = lane.open_wait.take() {
            lane.waits.push((from, e.time));
        }
        match e.kind {
            "started" => {
                // Waiting to start: for upstream tasks, or for a first turn.
                if e.time > lane.created {
                    lane.waits.push((lane.created, e.time));
                }
                lane.start = Some(e.time);
            }
            "wait" => lane.open_wait = Some(e.time),
            "retry" => lane.open_backoff = Some(e.time),
            "attempt" => {
                if let Some(from) = lane.open_backoff.take() {
                    lane.backoffs.push((from, e.time));
                }
            }
            kind => {
                if let Some(state) = FINAL.iter().find(|s| **s == kind) {
                    lane.end = Some(e.time);
                    lane.state = state;
                }
            }
        }
    }

    fn gauge(&mut self, kind: &'static str, name: &str, bound: Option<u64>, t: u64, v: u64) {
        let series = match self
            .series
            .iter_mut()
            .position(|s| s.kind == kind && s.name == name)
        {
            Some(i) => &mut self.series[i],
            None => {
                self.series.push(Series {
                    kind,
                    name: name.to_owned(),
                    bound,
                    points: vec![(0, 0)],
                });
                self.series.last_mut().expect("just pushed")
            }
        };
        match series.points.last_mut() {
            Some(last) if last.0 == t => last.1 = v,
            _ => series.points.push((t, v)),
        }
    }

    /// Closes lanes still open at the end of the run.
    pub(crate) fn finish(&mut self, summary: &Summary) {
        self.end = self.end.max(summary.makespan);
        for lane in &mut self.lanes {
            if let Some(from) = lane.open_wait.take() {
                lane.waits.push((from, self.end));
            }
            if lane.end.is_none() {
                lane.end = Some(self.end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_split_a_lane_into_attempts_around_their_backoffs() {
        let mut t = Timeline::default();
        let e = |time: u64, kind: &'static str, detail: &str| {
            Event::new(time, "flaky".into(), kind, detail.into())
        };
        for event in [
            e(0, "created", ""),
            e(0, "started", ""),
            e(50, "retry", "attempt 1 failed (boom); next in 100ns"),
            e(150, "attempt", "2 of 3"),
            e(200, "retry", "attempt 2 failed (boom); next in 200ns"),
            e(400, "attempt", "3 of 3"),
            e(450, "done", ""),
        ] {
            t.event(&event);
        }
        let lane = &t.lanes[0];
        assert_eq!(lane.backoffs, [(50, 150), (200, 400)]);
        assert_eq!(
            (lane.start, lane.end, lane.state),
            (Some(0), Some(450), "done")
        );
    }
}
