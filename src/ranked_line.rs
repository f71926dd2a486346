//! The waiters of a priority semaphore: lowest priority first, equal ones
//! in the order they began to wait (SimPy's `PriorityResource`). The
//! exported program keeps an `asyncio.Semaphore`'s own algorithm and only
//! sorts its list of waiters the same way, so a grant, a cancelled waiter
//! passed over and a newcomer kept waiting behave as asyncio's do.

use std::collections::{BTreeMap, HashMap};

use crate::priority::Priority;
use crate::task::TaskId;

/// A waiter's place: its priority, then its arrival.
type Place = (Priority, u64);

/// One waiter, and whether a permit was granted to it (it stays in line
/// until it runs, as asyncio's granted future does).
pub(crate) struct Ranked {
    pub(crate) task: TaskId,
    pub(crate) granted: bool,
    /// When it began to wait.
    pub(crate) since: u64,
}

#[derive(Default)]
pub(crate) struct RankedLine {
    line: BTreeMap<Place, Ranked>,
    /// Where each waiting task stands (a task waits for one thing at a
    /// time); looked up, never iterated.
    places: HashMap<TaskId, Place>,
    arrivals: u64,
}

impl RankedLine {
    pub(crate) fn len(&self) -> usize {
        self.line.len()
    }

    /// `task` joins the line at `priority`, behind those of equal priority.
    pub(crate) fn push(&mut self, task: TaskId, priority: Priority, since: u64) {
        let place = (priority, self.arrivals);
        self.arrivals += 1;
        self.places.insert(task, place);
        let waiter = Ranked {
            task,
            granted: false,
            since,
        };
        self.line.insert(place, waiter);
    }

    /// Whether some waiter keeps a newcomer waiting: one granted, or one
    /// not cancelled (asyncio's `locked()` looks at every waiter).
    pub(crate) fn holds_back(&self, cancelled: impl Fn(TaskId) -> bool) -> bool {
        self.line.values().any(|w| w.granted || !cancelled(w.task))
    }

    pub(crate) fn is_granted(&self, task: TaskId) -> bool {
        self.places
            .get(&task)
            .is_some_and(|p| self.line.get(p).is_some_and(|w| w.granted))
    }

    /// Takes `task` out of the line; true when a permit had been granted
    /// to it.
    pub(crate) fn leave(&mut self, task: TaskId) -> bool {
        self.places
            .remove(&task)
            .and_then(|p| self.line.remove(&p))
            .is_some_and(|w| w.granted)
    }

    /// Grants the first waiter (in priority order) neither granted nor
    /// cancelled, as `_wake_up_next` walks the sorted waiters.
    pub(crate) fn grant_next(&mut self, cancelled: impl Fn(TaskId) -> bool) -> Option<&Ranked> {
        let w = self
            .line
            .values_mut()
            .find(|w| !w.granted && !cancelled(w.task))?;
        w.granted = true;
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_priority_first_ties_in_arrival_order() {
        let mut l = RankedLine::default();
        l.push(1, Priority::Int(5), 0);
        l.push(2, Priority::Int(1), 0);
        l.push(3, Priority::Float(1.0), 0);
        l.push(4, Priority::Int(-2), 0);
        let order: Vec<TaskId> =
            std::iter::from_fn(|| l.grant_next(|_| false).map(|w| w.task)).collect();
        assert_eq!(order, [4, 2, 3, 1]);
        assert!(l.is_granted(3));
        assert!(l.leave(3));
        assert!(!l.leave(3), "gone already");
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn a_cancelled_waiter_is_passed_over_and_holds_nobody_back() {
        let mut l = RankedLine::default();
        l.push(1, Priority::Int(0), 0);
        l.push(2, Priority::Int(3), 0);
        assert_eq!(l.grant_next(|t| t == 1).map(|w| w.task), Some(2));
        assert!(l.holds_back(|t| t == 1), "a granted waiter holds back");
        l.leave(2);
        assert!(!l.holds_back(|t| t == 1));
        assert!(!l.leave(1), "never granted");
    }
}
