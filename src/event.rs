//! asyncio's `Event`, modelled in the single-threaded simulation: a flag,
//! and the tasks waiting for it to be set, in the order they began to wait.
//!
//! The rules are CPython's (`asyncio/locks.py`, the same in 3.11 to 3.13):
//! - `wait()` returns at once, without yielding, while the flag is set;
//!   otherwise its task waits on a future of its own, kept in the list;
//! - `set()` of a flag not set sets it and completes every waiting future
//!   not yet done, in list order: each task's wakeup is queued then, so they
//!   run in the order they began to wait, after what was already queued;
//! - `clear()` only clears the flag: a waiter released by a `set` before it
//!   stays released, even if the flag is clear again by the time it runs;
//! - a cancelled waiter's future is cancelled (done), so a later `set`
//!   passes it over.
//!
//! A waiter is done once released or cancelled. A `set` empties the list
//! (every waiter in it is then done, and CPython's own list only loses them
//! as their tasks run, which nothing can observe); cancelled waiters left
//! behind while the flag stays clear are swept out when the list has doubled
//! since the last sweep, so a wait costs O(1) amortised, a cancel O(1), and
//! a `set` O(waiters).

use std::rc::Rc;

use crate::task::{TaskId, Waiter};

#[derive(Default)]
pub(crate) struct Event {
    set: bool,
    /// Waiters in the order they began to wait; some may be done
    /// (cancelled) and not yet swept out.
    waiters: Vec<Rc<Waiter>>,
    /// The list's length after the last sweep: the next sweep comes when it
    /// has doubled (plus a little).
    swept: usize,
}

impl Event {
    /// `is_set()`.
    pub(crate) fn is_set(&self) -> bool {
        self.set
    }

    /// `task` begins to wait (the flag is not set); its waiter is done when
    /// it is released.
    pub(crate) fn wait(&mut self, task: TaskId) -> Rc<Waiter> {
        if self.waiters.len() >= 2 * self.swept + 16 {
            self.waiters.retain(|w| !w.done.get());
            self.swept = self.waiters.len();
        }
        let waiter = Waiter::new(task);
        self.waiters.push(waiter.clone());
        waiter
    }

    /// `set()`: the tasks released, in the order they began to wait (none
    /// when the flag was set already).
    pub(crate) fn set(&mut self) -> Vec<TaskId> {
        if std::mem::replace(&mut self.set, true) {
            return Vec::new();
        }
        self.swept = 0;
        std::mem::take(&mut self.waiters)
            .into_iter()
            .filter(|w| !w.done.replace(true))
            .map(|w| w.task)
            .collect()
    }

    /// `clear()`.
    pub(crate) fn clear(&mut self) {
        self.set = false;
    }

    /// How many tasks wait for it, not yet released nor cancelled.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.waiters.iter().filter(|w| !w.done.get()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_releases_every_waiter_in_the_order_they_began_to_wait() {
        let mut e = Event::default();
        let ws: Vec<_> = (0..4).map(|t| e.wait(t)).collect();
        assert_eq!(e.set(), vec![0, 1, 2, 3]);
        assert!(ws.iter().all(|w| w.done.get()));
        assert!(e.is_set());
        // Set again: nothing more to release.
        assert_eq!(e.set(), Vec::<TaskId>::new());
    }

    #[test]
    fn a_cancelled_waiter_is_passed_over() {
        let mut e = Event::default();
        let _a = e.wait(0);
        let b = e.wait(1);
        let _c = e.wait(2);
        b.done.set(true);
        assert_eq!(e.waiting(), 2);
        assert_eq!(e.set(), vec![0, 2]);
    }

    #[test]
    fn clear_after_set_keeps_the_released_released() {
        let mut e = Event::default();
        let a = e.wait(0);
        assert_eq!(e.set(), vec![0]);
        e.clear();
        assert!(!e.is_set() && a.done.get());
        let _b = e.wait(1);
        assert_eq!(e.set(), vec![1]);
    }

    #[test]
    fn cancelled_waiters_do_not_pile_up_while_the_flag_stays_clear() {
        let mut e = Event::default();
        for t in 0..10_000 {
            e.wait(t).done.set(true);
        }
        assert!(e.waiters.len() < 64, "{}", e.waiters.len());
        let live = e.wait(10_000);
        assert_eq!(e.set(), vec![10_000]);
        assert!(live.done.get());
    }
}
