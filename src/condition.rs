//! asyncio's `Condition`, modelled in the single-threaded simulation: the
//! tasks waiting to be notified, in the order they began to wait (the lock
//! itself is a lock-kind semaphore, see `semaphore.rs`).
//!
//! The rules are CPython's (`asyncio/locks.py`, measured on 3.11 to 3.13):
//! - `wait()` raises `RuntimeError` unless the lock is locked (by anyone),
//!   releases it, and waits on a future of its own, kept in the line;
//! - `notify(n)` completes the first `n` futures in the line not yet done
//!   (notified before and not yet run, or cancelled): each task's wakeup is
//!   queued then, in line order; `notify_all()` all of them;
//! - a cancelled waiter's future is cancelled (done), so a later `notify`
//!   passes it over and does not count it; one notified and then cancelled
//!   before it ran took its notification with it (3.11, 3.12) or, once it
//!   holds the lock again, notifies the next in its place (3.13).
//!
//! A waiter is done once notified or cancelled. A notify takes waiters off
//! the front of the line as it goes, done or not: each waiter leaves the
//! line once, so a notify costs O(waiters it passes). Cancelled waiters left
//! behind while nobody notifies are swept out when the line has doubled
//! since the last sweep, so a wait costs O(1) amortised.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::task::{TaskId, Waiter};

#[derive(Default)]
pub(crate) struct Condition {
    /// Waiters in the order they began to wait; some may be done
    /// (cancelled) and not yet taken off.
    waiters: VecDeque<Rc<Waiter>>,
    /// The line's length after the last sweep.
    swept: usize,
}

impl Condition {
    /// `task` begins to wait (it released the lock); its waiter is done
    /// when it is notified.
    pub(crate) fn wait(&mut self, task: TaskId) -> Rc<Waiter> {
        if self.waiters.len() >= 2 * self.swept + 16 {
            self.waiters.retain(|w| !w.done.get());
            self.swept = self.waiters.len();
        }
        let waiter = Waiter::new(task);
        self.waiters.push_back(waiter.clone());
        waiter
    }

    /// `notify(n)` (`None`: `notify_all()`): the tasks notified, in the
    /// order they began to wait.
    pub(crate) fn notify(&mut self, n: Option<u32>) -> Vec<TaskId> {
        let n = n.map_or(usize::MAX, |n| n as usize);
        let mut woken = Vec::new();
        while woken.len() < n {
            let Some(w) = self.waiters.pop_front() else {
                break;
            };
            if !w.done.replace(true) {
                woken.push(w.task);
            }
        }
        self.swept = self.swept.min(self.waiters.len());
        woken
    }

    /// How many tasks wait to be notified (not notified, not cancelled).
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiters.iter().filter(|w| !w.done.get()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_wakes_the_first_n_in_the_order_they_began_to_wait() {
        let mut c = Condition::default();
        let ws: Vec<_> = (0..3).map(|t| c.wait(t)).collect();
        assert_eq!(c.notify(Some(2)), vec![0, 1]);
        assert!(ws[0].done.get() && ws[1].done.get() && !ws[2].done.get());
        assert_eq!(c.waiting(), 1);
        assert_eq!(c.notify(Some(0)), Vec::<TaskId>::new());
        assert_eq!(c.notify(None), vec![2]);
        assert_eq!(c.notify(None), Vec::<TaskId>::new());
    }

    #[test]
    fn a_cancelled_waiter_is_passed_over_and_not_counted() {
        let mut c = Condition::default();
        let a = c.wait(0);
        let _b = c.wait(1);
        let _c = c.wait(2);
        a.done.set(true);
        assert_eq!(c.notify(Some(2)), vec![1, 2]);
    }

    #[test]
    fn cancelled_waiters_do_not_pile_up_while_nobody_notifies() {
        let mut c = Condition::default();
        for t in 0..10_000 {
            c.wait(t).done.set(true);
        }
        assert!(c.waiters.len() < 64, "{}", c.waiters.len());
        let live = c.wait(10_000);
        assert_eq!(c.notify(Some(1)), vec![10_000]);
        assert!(live.done.get());
    }
}
