//! A FIFO semaphore with asyncio's (3.11+) semantics.
//!
//! A release hands the permit straight to the first waiter, and a newcomer
//! never takes a permit while others wait: smol's own semaphore lets
//! newcomers barge, which asyncio does not. A waiter whose task has a
//! cancellation pending counts as gone, as asyncio's cancelled waiter
//! future does: it is passed over, and does not keep a newcomer waiting
//! (`locked()` looks only at waiters not cancelled).

use std::collections::VecDeque;

use crate::histogram::Histogram;
use crate::model::SemKind;
use crate::priority::Priority;
use crate::ranked_line::RankedLine;
use crate::task::TaskId;

/// A task waiting for a permit, and whether one was granted to it (a task
/// waits for one thing at a time, so it is in the queue at most once).
struct Waiter {
    task: TaskId,
    granted: bool,
    /// When it began to wait.
    since: u64,
}

/// Time-weighted use since the run began, brought up to date by
/// [`Semaphore::at`] before every change.
#[derive(Default)]
pub(crate) struct Usage {
    /// The instant the integrals reach.
    pub(crate) since: u64,
    /// The integral of permits in use over time (permit-nanoseconds).
    pub(crate) in_use_area: u128,
    /// The integral of waiting acquirers over time.
    pub(crate) waiting_area: u128,
    /// How long each acquisition waited for its permit (0 when at once).
    pub(crate) waits: Histogram,
}

pub(crate) struct Semaphore {
    pub(crate) permits: u32,
    /// A `BoundedSemaphore`: a release that would raise the value above
    /// `permits` fails; a plain one lets it grow, as asyncio's does. A
    /// `Lock`: a release wakes its first waiter only, if that one is not
    /// cancelled already (asyncio's `_wake_up_first`).
    kind: SemKind,
    /// The permits there are: `permits`, and one more for each release of
    /// a plain semaphore while none was out (held or granted). Always
    /// `value` plus the permits out.
    capacity: u32,
    value: u32,
    /// Waiting acquirers in arrival order; a granted one stays until it runs.
    waiters: VecDeque<Waiter>,
    /// A priority semaphore's waiters instead, in priority order.
    ranked: Option<Box<RankedLine>>,
    /// How many waiters at the front were granted a permit or passed over
    /// (their task was cancelled, which lasts until it runs and leaves):
    /// the next grant looks only past them, so a release costs the same
    /// however many permits are in flight.
    passed: usize,
    /// Tasks holding a permit, oldest first (for the deadlock report).
    pub(crate) holders: Vec<TaskId>,
    pub(crate) peak: u32,
    pub(crate) usage: Usage,
}

impl Semaphore {
    pub(crate) fn new(permits: u32, kind: SemKind) -> Semaphore {
        Semaphore {
            permits,
            kind,
            capacity: permits,
            value: permits,
            waiters: VecDeque::new(),
            ranked: kind.ranked().then(Box::default),
            passed: 0,
            holders: Vec::new(),
            peak: 0,
            usage: Usage::default(),
        }
    }

    /// Brings the time-weighted use up to `now`, before a change at `now`.
    pub(crate) fn at(&mut self, now: u64) -> &mut Semaphore {
        let dt = now.saturating_sub(self.usage.since);
        if dt > 0 {
            self.usage.in_use_area += u128::from(self.in_use()) * u128::from(dt);
            self.usage.waiting_area += self.waiting() as u128 * u128::from(dt);
            self.usage.since = now;
        }
        self
    }

    /// How many wait (granted ones that have not run included).
    fn waiting(&self) -> usize {
        self.waiters.len() + self.ranked.as_ref().map_or(0, |r| r.len())
    }

    pub(crate) fn in_use(&self) -> u32 {
        self.capacity - self.value
    }

    /// The permits there are now (see `capacity`).
    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    fn note_peak(&mut self) {
        self.peak = self.peak.max(self.in_use());
    }

    /// Takes a permit at once when one is free and nobody waits (but
    /// waiters already cancelled).
    pub(crate) fn try_acquire(
        &mut self,
        task: TaskId,
        priority: Option<Priority>,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> bool {
        let locked = self.value == 0
            || match &self.ranked {
                Some(r) => r.holds_back(&cancelled),
                None => self.waiters.iter().any(|w| w.granted || !cancelled(w.task)),
            };
        if !locked {
            self.value -= 1;
            self.holders.push(task);
            if self.kind == SemKind::Preemptive
                && let Some(r) = &mut self.ranked
            {
                r.hold(task, priority.unwrap_or(Priority::Int(0)));
            }
            self.note_peak();
            self.usage.waits.record(0);
            true
        } else {
            false
        }
    }

    /// A lock's `locked()`: acquired, and not only granted to a waiter that
    /// has not run yet (asyncio's lock is unlocked until that one runs).
    pub(crate) fn locked(&self) -> bool {
        self.value == 0 && !self.waiters.front().is_some_and(|w| w.granted)
    }

    /// `task` joins the queue of waiters: at `priority` on a priority
    /// semaphore (0 when none is given), at the back on the others.
    pub(crate) fn enqueue(&mut self, task: TaskId, priority: Option<Priority>) {
        if let Some(r) = &mut self.ranked {
            let priority = priority.unwrap_or(Priority::Int(0));
            return r.push(task, priority, self.usage.since);
        }
        self.waiters.push_back(Waiter {
            task,
            granted: false,
            since: self.usage.since,
        });
    }

    /// Whether a permit was granted to `task`, waiting in the queue.
    /// Granted waiters are at the front, so the search is short.
    pub(crate) fn is_granted(&self, task: TaskId) -> bool {
        if let Some(r) = &self.ranked {
            return r.is_granted(task);
        }
        self.waiters
            .range(..self.passed)
            .any(|w| w.granted && w.task == task)
    }

    /// A granted waiter runs: it leaves the queue, holds the permit, and
    /// passes on any permit still free.
    pub(crate) fn granted(
        &mut self,
        task: TaskId,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> Option<TaskId> {
        if self.kind == SemKind::Preemptive
            && let Some(r) = &mut self.ranked
            && let Some(p) = r.priority_of(task)
        {
            r.hold(task, p);
        }
        self.leave(task);
        self.holders.push(task);
        if self.value > 0 && self.kind != SemKind::Lock {
            self.wake_next(cancelled)
        } else {
            None
        }
    }

    /// A waiter was cancelled: it leaves, and a permit granted to it goes
    /// on. Whether a permit had been granted to it, and the task a permit
    /// was handed to, if any: a lock left free (its first waiter was
    /// cancelled when it was released) goes to the next waiter now, as
    /// asyncio's cancelled `Lock.acquire` wakes the first.
    pub(crate) fn abandon(
        &mut self,
        task: TaskId,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> (bool, Option<TaskId>) {
        let granted = self.leave(task);
        if granted {
            self.value += 1;
            (true, self.wake_next(cancelled))
        } else if self.kind == SemKind::Lock && self.value > 0 {
            (false, self.wake_next(cancelled))
        } else {
            (false, None)
        }
    }

    /// Takes a task out of the queue; true when a permit had been granted
    /// to it. Granted waiters are at the front, so the search is short (at
    /// most the permits) except for a cancellation.
    fn leave(&mut self, task: TaskId) -> bool {
        if let Some(r) = &mut self.ranked {
            return r.leave(task);
        }
        match self.waiters.iter().position(|w| w.task == task) {
            Some(i) => {
                if i < self.passed {
                    self.passed -= 1;
                }
                self.waiters.remove(i).is_some_and(|w| w.granted)
            }
            None => false,
        }
    }

    /// Returns a permit (whoever holds it: asyncio lets any task release),
    /// and hands it to the next waiter. Fails only for a bounded semaphore
    /// whose value would pass its permits.
    pub(crate) fn release(
        &mut self,
        task: TaskId,
        cancelled: impl Fn(TaskId) -> bool,
    ) -> Result<Option<TaskId>, ()> {
        let refused = match self.kind {
            SemKind::Semaphore | SemKind::Priority | SemKind::Preemptive => false,
            SemKind::Bounded => self.value >= self.permits,
            // Not acquired: free, or granted to a waiter that has not run.
            SemKind::Lock => self.value > 0 || self.waiters.front().is_some_and(|w| w.granted),
        };
        if refused {
            return Err(());
        }
        if let Some(r) = &mut self.ranked {
            r.unhold(task);
        }
        match self.holders.iter().position(|h| *h == task) {
            Some(i) => self.holders.remove(i),
            None if !self.holders.is_empty() => self.holders.remove(0),
            None => 0,
        };
        if self.value == self.capacity {
            // None is out: this release makes a new one.
            self.capacity = self.capacity.saturating_add(1);
        }
        self.value = self.value.min(self.capacity - 1) + 1;
        Ok(self.wake_next(cancelled))
    }

    /// A newcomer `task` at `priority`, kept out, takes the permit of the
    /// worst other holder if that one's priority is higher: that holder,
    /// who lost it (a preemptive semaphore; never on the others).
    pub(crate) fn preempt(&mut self, task: TaskId, priority: Priority) -> Option<TaskId> {
        if self.kind != SemKind::Preemptive {
            return None;
        }
        let victim = self.ranked.as_mut()?.preempt(task, priority)?;
        if let Some(i) = self.holders.iter().position(|h| *h == victim) {
            self.holders[i] = task;
        }
        self.usage.waits.record(0);
        Some(victim)
    }

    /// Whether `task` lost its permit to a newcomer, and to which
    /// priority; forgotten once asked (its `with` ends).
    pub(crate) fn take_preempted(&mut self, task: TaskId) -> Option<Priority> {
        self.ranked.as_mut()?.take_preempted(task)
    }

    /// Grants the first waiter neither granted nor cancelled; returns the
    /// task to wake.
    fn wake_next(&mut self, cancelled: impl Fn(TaskId) -> bool) -> Option<TaskId> {
        if let Some(r) = &mut self.ranked {
            let w = r.grant_next(cancelled)?;
            let (task, waited) = (w.task, self.usage.since - w.since);
            self.value -= 1;
            self.usage.waits.record(waited);
            self.note_peak();
            return Some(task);
        }
        let found = match self.kind {
            // Only the first waiter, if it is not cancelled nor granted yet.
            SemKind::Lock => match self.waiters.front() {
                Some(w) if !w.granted && !cancelled(w.task) => Some(0),
                _ => return None,
            },
            // Past `passed`, no waiter is granted yet.
            SemKind::Semaphore | SemKind::Bounded | SemKind::Priority | SemKind::Preemptive => {
                (self.passed..self.waiters.len()).find(|i| !cancelled(self.waiters[*i].task))
            }
        };
        let Some(i) = found else {
            self.passed = self.waiters.len();
            return None;
        };
        self.passed = i + 1;
        let waiter = &mut self.waiters[i];
        self.value -= 1;
        waiter.granted = true;
        let (task, waited) = (waiter.task, self.usage.since - waiter.since);
        self.usage.waits.record(waited);
        self.note_peak();
        Some(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: TaskId) -> bool {
        false
    }

    #[test]
    fn hands_permits_over_in_fifo_order() {
        let mut s = Semaphore::new(1, SemKind::Bounded);
        assert!(s.try_acquire(0, None, none));
        s.enqueue(1, None);
        s.enqueue(2, None);
        assert_eq!(s.release(0, none), Ok(Some(1)));
        assert!(s.is_granted(1) && !s.is_granted(2));
        // A newcomer cannot barge while a granted waiter has not run yet.
        assert!(!s.try_acquire(3, None, none));
        assert_eq!(s.granted(1, none), None);
        assert_eq!(s.release(1, none), Ok(Some(2)));
        assert_eq!(s.peak, 1);
    }

    #[test]
    fn a_cancelled_grant_passes_on() {
        let mut s = Semaphore::new(1, SemKind::Bounded);
        assert!(s.try_acquire(0, None, none));
        s.enqueue(1, None);
        s.enqueue(2, None);
        assert_eq!(s.release(0, none), Ok(Some(1)));
        assert_eq!(s.abandon(1, none), (true, Some(2)));
        assert_eq!(s.abandon(7, none), (false, None), "never granted");
        assert!(s.release(9, none).is_ok());
        assert!(s.release(9, none).is_err(), "bounded");
    }

    #[test]
    fn a_lock_wakes_only_its_first_waiter() {
        let mut s = Semaphore::new(1, SemKind::Lock);
        assert!(s.try_acquire(0, None, none));
        s.enqueue(1, None);
        s.enqueue(2, None);
        // Task 1 was cancelled: the release wakes nobody, unlike a semaphore.
        assert_eq!(s.release(0, |t| t == 1), Ok(None));
        assert!(s.release(0, none).is_err(), "not acquired");
        // Task 1 runs and leaves: the free lock goes to task 2.
        assert_eq!(s.abandon(1, |t| t == 1), (false, Some(2)));
        assert!(s.release(5, none).is_err(), "granted, not acquired yet");
        assert!(!s.locked(), "granted, not acquired yet");
        assert_eq!(s.granted(2, none), None);
        assert!(s.locked());
        assert_eq!(s.release(2, none), Ok(None));
        assert!(!s.locked());
    }

    #[test]
    fn a_plain_semaphore_grows_past_its_permits() {
        let mut s = Semaphore::new(1, SemKind::Semaphore);
        assert_eq!(s.release(0, none), Ok(None));
        assert_eq!((s.capacity(), s.in_use()), (2, 0));
        assert!(s.try_acquire(1, None, none) && s.try_acquire(2, None, none));
        assert!(!s.try_acquire(3, None, none));
        assert_eq!((s.capacity(), s.in_use()), (2, 2));
        assert_eq!(s.release(2, none), Ok(None));
        assert_eq!((s.capacity(), s.in_use()), (2, 1));
    }

    #[test]
    fn waiters_with_a_cancel_pending_are_passed_over() {
        let mut s = Semaphore::new(1, SemKind::Bounded);
        assert!(s.try_acquire(0, None, none));
        s.enqueue(1, None);
        s.enqueue(2, None);
        // Task 1 was cancelled and has not run yet: task 2 gets the permit.
        assert_eq!(s.release(0, |t| t == 1), Ok(Some(2)));
        // Only cancelled waiters left, and a permit free: a newcomer takes it.
        let mut s = Semaphore::new(1, SemKind::Bounded);
        assert!(s.try_acquire(0, None, none));
        s.enqueue(1, None);
        assert_eq!(s.release(0, |t| t == 1), Ok(None));
        assert!(s.try_acquire(3, None, |t| t == 1));
    }

    #[test]
    fn a_priority_semaphore_grants_the_lowest_priority_first() {
        let mut s = Semaphore::new(1, SemKind::Priority);
        assert!(s.try_acquire(0, None, none));
        s.enqueue(1, Some(Priority::Int(3)));
        s.enqueue(2, None);
        s.enqueue(3, Some(Priority::Int(-1)));
        assert_eq!(s.release(0, none), Ok(Some(3)));
        // A newcomer cannot barge while a granted waiter has not run yet.
        assert!(!s.try_acquire(4, None, none));
        assert_eq!(s.granted(3, none), None);
        // Task 2 (priority 0) is cancelled: task 1 gets the next permit.
        assert_eq!(s.release(3, |t| t == 2), Ok(Some(1)));
        assert_eq!(s.abandon(2, |t| t == 2), (false, None));
        assert_eq!(s.granted(1, none), None);
        assert_eq!(s.release(1, none), Ok(None));
        assert_eq!((s.capacity(), s.in_use(), s.peak), (1, 0, 1));
    }

    #[test]
    fn many_grants_in_flight_go_in_order() {
        let mut s = Semaphore::new(3, SemKind::Bounded);
        for t in 0..3 {
            assert!(s.try_acquire(t, None, none));
        }
        for t in 10..16 {
            s.enqueue(t, None);
        }
        // Task 11 is cancelled: passed over, and it stays passed over.
        let cancelled = |t| t == 11;
        assert_eq!(s.release(0, cancelled), Ok(Some(10)));
        assert_eq!(s.release(1, cancelled), Ok(Some(12)));
        assert_eq!(s.release(2, cancelled), Ok(Some(13)));
        assert!(s.is_granted(12) && !s.is_granted(11) && !s.is_granted(14));
        // The cancelled waiter runs and leaves without a permit.
        assert_eq!(s.abandon(11, cancelled), (false, None));
        assert_eq!(s.granted(12, none), None);
        assert_eq!(s.granted(10, none), None);
        assert_eq!(s.release(10, none), Ok(Some(14)));
        assert_eq!(s.release(12, none), Ok(Some(15)));
        assert!(s.is_granted(13) && s.is_granted(14) && s.is_granted(15));
    }
}
