//! The CPython versions whose asyncio semantics a run models, and what
//! differs between them (each difference measured on CPython itself and
//! pinned by the differential test).
//!
//! - `wait_for`: 3.11 wraps the awaitable in a task of its own and races it
//!   against a timer; 3.12 and later are `async with timeout(t): await it`,
//!   so a task finishing exactly at the deadline times out, and a result
//!   comes back a turn sooner.
//! - `gather` of futures that are all done: 3.11 takes two turns of the
//!   loop to return; 3.12 and later return at once.
//! - `TaskGroup`'s exit: 3.11 and 3.12 take back the cancellation a failing
//!   child asked of the parent before they wait for the children (so a
//!   child failing during that wait leaves the parent's count at 1), 3.13
//!   after; 3.13 also cancels the parent again when it raises its errors
//!   while the parent is being cancelled from outside.
//! - `Task.uncancel()` down to no cancellation forgets a cancellation the
//!   task asked of itself and has not yet received (3.13).
//! - `Condition.wait` (under `Barrier.wait`) cancelled notifies the next
//!   waiter of the condition (3.13), which looks again and may wait anew at
//!   the back of the line.
//! - `Condition.wait()` cancelled (waiting, or notified and not yet run)
//!   notifies the next waiter once it holds the lock again (3.13); 3.11 and
//!   3.12 let the notification it took go lost.
//! - `Queue.shutdown` and `QueueShutDown` exist from 3.13 on (validation
//!   refuses them for an older version).
//! - `asyncio.eager_task_factory` (`[scenario] eager_tasks`) exists from
//!   3.12 on (validation refuses it for 3.11).

use std::fmt;

/// A modelled CPython version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Python {
    V3_11,
    V3_12,
    /// The default: the newest modelled version.
    #[default]
    V3_13,
}

impl Python {
    /// Every modelled version, oldest first.
    pub const ALL: [Python; 3] = [Python::V3_11, Python::V3_12, Python::V3_13];

    /// The version as people write it (`"3.12"`).
    pub fn name(self) -> &'static str {
        match self {
            Python::V3_11 => "3.11",
            Python::V3_12 => "3.12",
            Python::V3_13 => "3.13",
        }
    }

    /// The version named `text`, if it is modelled.
    pub fn parse(text: &str) -> Option<Python> {
        Python::ALL.into_iter().find(|p| p.name() == text)
    }

    /// `wait_for` is a timeout around an `await` (3.12+), not a race with a
    /// task of its own (3.11).
    pub(crate) fn wait_for_is_a_timeout(self) -> bool {
        self >= Python::V3_12
    }

    /// `gather` of futures all done returns without suspending (3.12+).
    pub(crate) fn gather_done_at_once(self) -> bool {
        self >= Python::V3_12
    }

    /// A task group takes back its own cancellation of the parent after
    /// waiting for the children (3.13), not before (3.11, 3.12).
    pub(crate) fn group_uncancels_late(self) -> bool {
        self >= Python::V3_13
    }

    /// `uncancel()` to 0 clears `_must_cancel` (3.13).
    pub(crate) fn uncancel_forgets_cancel(self) -> bool {
        self >= Python::V3_13
    }

    /// `Condition.wait()` left by an error (a cancellation) notifies the
    /// next waiter in its place, once it has the lock again (3.13).
    pub(crate) fn condition_passes_notify_on(self) -> bool {
        self >= Python::V3_13
    }

    /// A task group raising its errors while the parent is being cancelled
    /// from outside cancels the parent again, keeping its count (3.13).
    pub(crate) fn group_recancels(self) -> bool {
        self >= Python::V3_13
    }
}

impl fmt::Display for Python {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Python::ALL {
            assert_eq!(Python::parse(p.name()), Some(p));
        }
        assert_eq!(Python::parse("3.10"), None);
        assert_eq!(Python::default(), Python::V3_13);
    }
}
