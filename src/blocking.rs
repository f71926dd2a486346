//! Making `block` visible: which tasks a blocking call delayed, and by how
//! much. Used only by scenarios that have a `block` step.
//!
//! Waking a task records the instant it became ready. When its next turn
//! begins later than that, a blocking call held the loop in between: the
//! delay is traced and blamed on the blocks that overlapped it.

use std::cell::{Cell, RefCell};

use crate::duration;
use crate::task::TaskId;

const NOT_READY: u64 = u64::MAX;

/// The instant a task became ready, if it is ready and has not run since.
pub(crate) struct Ready {
    due: Cell<u64>,
}

impl Ready {
    /// A task ready from `now` (a new task is queued at once).
    pub(crate) fn new(now: u64) -> Ready {
        Ready {
            due: Cell::new(now),
        }
    }

    /// The instant it became ready, if it did (`u64::MAX` if not), and not
    /// ready from now: its turn begins.
    pub(crate) fn take_due(&self) -> u64 {
        self.due.replace(NOT_READY)
    }

    /// Marks the task ready since `at` (a timer that fired late says when
    /// it was due); the earliest mark counts.
    pub(crate) fn ready_since(&self, at: u64) {
        self.due.set(self.due.get().min(at));
    }
}

/// Every block so far, and the delays they caused.
#[derive(Default)]
pub(crate) struct Blocks {
    /// (blocker, from, to)
    spans: Vec<(TaskId, u64, u64)>,
    /// Per blocker: (time it held the loop, delay it caused to others, tasks delayed).
    pub(crate) totals: Vec<(TaskId, u64, u64, u64)>,
}

impl Blocks {
    pub(crate) fn record(&mut self, blocker: TaskId, from: u64, to: u64) {
        self.spans.push((blocker, from, to));
        match self.totals.iter_mut().find(|t| t.0 == blocker) {
            Some(t) => t.1 += to - from,
            None => self.totals.push((blocker, to - from, 0, 0)),
        }
    }

    /// A task ready since `due` ran only at `now`: blames the blocks that
    /// overlapped the wait, and returns them, oldest first.
    pub(crate) fn delayed(&mut self, task: TaskId, due: u64, now: u64) -> Vec<TaskId> {
        let mut by = Vec::new();
        for (blocker, from, to) in self.spans.iter().rev() {
            if *to <= due {
                break;
            }
            if *from < now && *blocker != task && !by.contains(blocker) {
                by.push(*blocker);
            }
        }
        by.reverse();
        let late = now - due;
        for blocker in &by {
            if let Some(t) = self.totals.iter_mut().find(|t| t.0 == *blocker) {
                t.2 += late;
                t.3 += 1;
            }
        }
        by
    }
}

/// The summary's line on blocking, if anything blocked.
pub(crate) fn summary(name: &dyn Fn(TaskId) -> String, blocks: &RefCell<Blocks>) -> Vec<String> {
    blocks
        .borrow()
        .totals
        .iter()
        .map(|(blocker, held, caused, tasks)| {
            let who = name(*blocker);
            let held = duration::format(*held);
            match tasks {
                0 => format!("{who} held the loop {held}; no other task was ready meanwhile"),
                n => format!(
                    "{who} held the loop {held}, delaying {n} task{} by {} in all",
                    if *n == 1 { "" } else { "s" },
                    duration::format(*caused)
                ),
            }
        })
        .collect()
}
