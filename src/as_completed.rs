//! `asyncio.as_completed(aws, timeout=t)` iterated by one task: the
//! awaitables still to complete, the queue of those done (`None` for each
//! one the timeout gave up on) and the task waiting on it.
//!
//! The rules are CPython's (`tasks.py`, the same in 3.11 to 3.13 for plain
//! iteration): a done callback on each awaitable puts it on an
//! `asyncio.Queue`, so the loop learns of an end one turn after the
//! awaitable's callbacks run (a hop more than an `await` of it); each turn
//! awaits `done.get()`, at once when something is queued. The timeout's
//! timer puts a `None` for every awaitable not yet done (its callbacks do
//! nothing after that), which the next turns raise as `TimeoutError`; the
//! awaitables themselves are not cancelled. The timer is cancelled once
//! every awaitable is done.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::clock::TimerKey;
use crate::task::{Member, Waiter};

pub(crate) struct AsCompleted {
    /// How many awaitables are still to complete (`todo`).
    todo: Cell<usize>,
    /// What the turns still to come take, in order: a done awaitable, or
    /// `None` (the timeout passed).
    done: RefCell<VecDeque<Option<Member>>>,
    /// The task waiting for the next, set when it is woken.
    waiter: RefCell<Option<Rc<Waiter>>>,
    /// The timeout's timer, while it is set.
    timer: Cell<Option<TimerKey>>,
    /// The distinct awaitables, in the order named.
    members: Rc<[Member]>,
}

impl AsCompleted {
    /// An iteration over distinct awaitables.
    pub(crate) fn new(members: Rc<[Member]>) -> AsCompleted {
        AsCompleted {
            todo: Cell::new(members.len()),
            done: RefCell::new(VecDeque::new()),
            waiter: RefCell::new(None),
            timer: Cell::new(None),
            members,
        }
    }

    /// How many turns the loop has: one per distinct awaitable.
    pub(crate) fn turns(&self) -> usize {
        self.members.len()
    }

    pub(crate) fn members(&self) -> &Rc<[Member]> {
        &self.members
    }

    pub(crate) fn set_timer(&self, key: TimerKey) {
        self.timer.set(Some(key));
    }

    /// `_on_completion(m)`: `m` is queued, unless the timeout came first.
    /// The waiter to release, and the timer to cancel when `m` was the last.
    pub(crate) fn completed(&self, m: Member) -> (Option<Rc<Waiter>>, Option<TimerKey>) {
        let todo = self.todo.get();
        if todo == 0 {
            return (None, None);
        }
        self.todo.set(todo - 1);
        self.done.borrow_mut().push_back(Some(m));
        let timer = if todo == 1 { self.timer.take() } else { None };
        (self.waiter.borrow_mut().take(), timer)
    }

    /// `_on_timeout`: a `None` for each awaitable not done; the waiter to
    /// release.
    pub(crate) fn timed_out(&self) -> Option<Rc<Waiter>> {
        self.timer.set(None);
        let todo = self.todo.replace(0);
        self.done.borrow_mut().extend((0..todo).map(|_| None));
        if todo == 0 {
            return None;
        }
        self.waiter.borrow_mut().take()
    }

    /// `done.get()` without waiting: what the next turn takes, if queued.
    pub(crate) fn next(&self) -> Option<Option<Member>> {
        self.done.borrow_mut().pop_front()
    }

    /// The iterating task waits for the next.
    pub(crate) fn wait(&self, waiter: Rc<Waiter>) {
        *self.waiter.borrow_mut() = Some(waiter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_come_out_in_the_order_they_were_queued_then_the_timeouts() {
        let it = AsCompleted::new((0..3).map(Member::Task).collect());
        let w = Waiter::new(7);
        it.wait(w.clone());
        let (woken, timer) = it.completed(Member::Task(2));
        assert!(woken.is_some_and(|x| Rc::ptr_eq(&x, &w)) && timer.is_none());
        assert!(it.completed(Member::Task(1)).0.is_none());
        assert!(it.timed_out().is_none());
        // After the timeout, an end is not queued.
        let (woken, timer) = it.completed(Member::Task(0));
        assert!(woken.is_none() && timer.is_none());
        let order: Vec<_> = std::iter::from_fn(|| it.next()).collect();
        assert_eq!(order, [Some(Member::Task(2)), Some(Member::Task(1)), None]);
    }

    #[test]
    fn a_timeout_after_the_last_end_queues_nothing() {
        let it = AsCompleted::new(Rc::from([Member::Task(0)]));
        assert_eq!(it.turns(), 1);
        let (woken, timer) = it.completed(Member::Task(0));
        assert!(woken.is_none() && timer.is_none());
        assert!(it.timed_out().is_none());
        assert_eq!(it.next(), Some(Some(Member::Task(0))));
        assert_eq!(it.next(), None);
    }
}
