//! The waiters of a priority semaphore: lowest priority first, equal ones
//! in the order they began to wait (SimPy's `PriorityResource`). The
//! exported program keeps an `asyncio.Semaphore`'s own algorithm and only
//! sorts its list of waiters the same way, so a grant, a cancelled waiter
//! passed over and a newcomer kept waiting behave as asyncio's do.
//!
//! A preemptive semaphore (SimPy's `PreemptiveResource`) also knows its
//! holders by priority, then by when they took their permit: a newcomer of
//! lower priority than the worst of them takes that one's permit.

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
    /// A preemptive semaphore's holders, by priority and then by when they
    /// took their permit (the worst last), and where each stands.
    holding: BTreeMap<Place, TaskId>,
    held: HashMap<TaskId, Place>,
    takes: u64,
    /// Holders that lost their permit, and the priority they lost it to,
    /// until their `with` ends.
    preempted: BTreeMap<TaskId, Priority>,
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

    /// The priority `task` waits at, if it waits.
    pub(crate) fn priority_of(&self, task: TaskId) -> Option<Priority> {
        self.places.get(&task).map(|p| p.0)
    }

    /// `task` holds a permit, taken at `priority` (a preemptive semaphore);
    /// one entry per task, as the exported program's dict of holders has.
    pub(crate) fn hold(&mut self, task: TaskId, priority: Priority) {
        self.unhold(task);
        let place = (priority, self.takes);
        self.takes += 1;
        self.held.insert(task, place);
        self.holding.insert(place, task);
    }

    /// `task` gives its permit back.
    pub(crate) fn unhold(&mut self, task: TaskId) {
        if let Some(p) = self.held.remove(&task) {
            self.holding.remove(&p);
        }
    }

    /// A newcomer `task` at `priority` takes the permit of the worst other
    /// holder if that one's priority is higher (a larger number): that
    /// holder, who lost it.
    pub(crate) fn preempt(&mut self, task: TaskId, priority: Priority) -> Option<TaskId> {
        let (&place, &victim) = self.holding.iter().rev().find(|(_, t)| **t != task)?;
        if place.0 <= priority {
            return None;
        }
        self.unhold(victim);
        self.preempted.insert(victim, priority);
        self.hold(task, priority);
        Some(victim)
    }

    /// Whether `task` lost its permit, and to which priority; forgotten
    /// once asked (its `with` ends).
    pub(crate) fn take_preempted(&mut self, task: TaskId) -> Option<Priority> {
        self.preempted.remove(&task)
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
    fn a_newcomer_preempts_the_worst_holder_only_when_it_is_lower() {
        let mut l = RankedLine::default();
        l.hold(1, Priority::Int(2));
        l.hold(2, Priority::Int(5));
        l.hold(3, Priority::Int(5));
        // Equal priority: no preemption.
        assert_eq!(l.preempt(9, Priority::Int(5)), None);
        // The worst is the latest of the two at 5.
        assert_eq!(l.preempt(9, Priority::Int(4)), Some(3));
        assert_eq!(l.take_preempted(3), Some(Priority::Int(4)));
        assert_eq!(l.take_preempted(3), None, "asked once");
        assert_eq!(l.preempt(8, Priority::Int(0)), Some(2));
        // Task 8 never preempts itself; task 9 (4) is the worst other.
        l.unhold(1);
        assert_eq!(l.preempt(8, Priority::Int(-1)), Some(9));
        assert_eq!(l.preempt(8, Priority::Int(-5)), None, "only itself holds");
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
