//! The callbacks `call_soon`, `call_later` and `call_at` schedule: each one's
//! steps, who scheduled it, whether its handle was cancelled, and its timer.
//!
//! A callback lives here from its scheduling to the end of the run (its
//! handle may be cancelled at any time, even after it ran, as
//! `handle.cancel()` may), so a handle is a plain index.

use std::rc::Rc;

use crate::clock::TimerKey;
use crate::critical_path::Cause;
use crate::model::Step;

/// The index of a scheduled callback: what a callback's handle holds.
pub(crate) type CallbackId = u32;

/// One scheduled callback.
struct Handle {
    /// Its steps (the model's, shared).
    steps: Rc<[Step]>,
    /// Who scheduled it, as its steps' lines name it.
    name: Rc<str>,
    /// `handle.cancel()` was called.
    cancelled: bool,
    /// Whether it ran (a callback runs at most once).
    ran: bool,
    /// `call_later` and `call_at`: its timer.
    timer: Option<TimerKey>,
    /// What made it due, for the critical path.
    cause: Cause,
}

/// Every callback scheduled so far, by [`CallbackId`].
#[derive(Default)]
pub(crate) struct Handles {
    all: Vec<Handle>,
}

impl Handles {
    /// Notes a new callback; its timer, if it has one, is given next.
    pub(crate) fn add(&mut self, steps: Rc<[Step]>, name: Rc<str>, cause: Cause) -> CallbackId {
        let id = self.all.len() as CallbackId;
        self.all.push(Handle {
            steps,
            name,
            cancelled: false,
            ran: false,
            timer: None,
            cause,
        });
        id
    }

    pub(crate) fn set_timer(&mut self, id: CallbackId, key: TimerKey) {
        self.all[id as usize].timer = Some(key);
    }

    /// `handle.cancel()`: the timer to remove, if the callback had one and
    /// it was still due to run. Cancelling twice, or after it ran, does nothing.
    pub(crate) fn cancel(&mut self, id: CallbackId) -> (bool, Option<TimerKey>) {
        let s = &mut self.all[id as usize];
        let first = !s.cancelled;
        s.cancelled = true;
        let timer = if first && !s.ran { s.timer } else { None };
        (first && !s.ran, timer)
    }

    /// Whether its handle was cancelled (`handle.cancelled()`).
    pub(crate) fn cancelled(&self, id: CallbackId) -> bool {
        self.all[id as usize].cancelled
    }

    /// What made it due (for its timer's turn).
    pub(crate) fn cause(&self, id: CallbackId) -> Cause {
        self.all[id as usize].cause
    }

    /// Takes its turn: its steps and name, unless it was cancelled.
    pub(crate) fn take_turn(&mut self, id: CallbackId) -> Option<(Rc<[Step]>, Rc<str>)> {
        let s = &mut self.all[id as usize];
        if s.cancelled || s.ran {
            return None;
        }
        s.ran = true;
        Some((s.steps.clone(), s.name.clone()))
    }

    /// Callbacks cancelled before they ran, in the order they were
    /// scheduled, with their steps (for the deadlock report).
    pub(crate) fn cancelled_before_running(&self) -> impl Iterator<Item = (&Rc<str>, &[Step])> {
        self.all
            .iter()
            .filter(|s| s.cancelled && !s.ran)
            .map(|s| (&s.name, &*s.steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_callback_never_takes_its_turn() {
        let mut all = Handles::default();
        let a = all.add(Rc::from([]), Rc::from("main"), Cause::Root);
        let b = all.add(Rc::from([]), Rc::from("main"), Cause::Root);
        assert_eq!(all.cancel(a), (true, None));
        assert!(all.take_turn(a).is_none());
        assert!(all.cancelled(a));
        assert!(!all.cancelled(b));
        assert!(all.take_turn(b).is_some());
        // Once only; cancelling after it ran changes nothing but the flag.
        assert!(all.take_turn(b).is_none());
        assert_eq!(all.cancel(b), (false, None));
        assert!(all.cancelled(b));
        assert_eq!(all.cancelled_before_running().count(), 1);
    }
}
