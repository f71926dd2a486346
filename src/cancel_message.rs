//! The messages of `Task.cancel(msg)`, kept beside the tasks (few carry
//! one): the message a pending cancellation will raise with, and which
//! finished tasks keep theirs for every retrieval.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::task::TaskId;

/// Pending messages by task, and the tasks whose final `CancelledError`
/// keeps its message for every `result()`.
#[derive(Default)]
pub(crate) struct CancelMessages {
    pending: BTreeMap<TaskId, Rc<str>>,
    kept: BTreeSet<TaskId>,
}

impl CancelMessages {
    /// The message a pending cancellation of task `id` now carries
    /// (`None`: a plain `cancel()`), replacing any earlier one.
    pub(crate) fn set(&mut self, id: TaskId, msg: Option<Rc<str>>) {
        match msg {
            Some(m) => {
                self.pending.insert(id, m);
            }
            None if self.pending.is_empty() => {}
            None => {
                self.pending.remove(&id);
            }
        }
    }

    /// The message of task `id`'s cancellation, now delivered.
    pub(crate) fn take(&mut self, id: TaskId) -> Option<Rc<str>> {
        if self.pending.is_empty() {
            return None;
        }
        self.pending.remove(&id)
    }

    /// Task `id` ended cancelled as a future does (`Future.cancel(msg)`):
    /// every retrieval sees its message.
    pub(crate) fn keep(&mut self, id: TaskId) {
        self.kept.insert(id);
    }

    /// Whether task `id`'s message is seen by every retrieval, not only
    /// the first.
    pub(crate) fn kept(&self, id: TaskId) -> bool {
        !self.kept.is_empty() && self.kept.contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_message_set_is_the_one_taken_once() {
        let mut m = CancelMessages::default();
        m.set(3, Some(Rc::from("first")));
        m.set(3, Some(Rc::from("second")));
        assert_eq!(m.take(3).as_deref(), Some("second"));
        assert_eq!(m.take(3), None);
    }

    #[test]
    fn a_plain_cancel_clears_an_earlier_message() {
        let mut m = CancelMessages::default();
        m.set(1, Some(Rc::from("stop")));
        m.set(1, None);
        assert_eq!(m.take(1), None);
    }

    #[test]
    fn only_kept_tasks_are_kept() {
        let mut m = CancelMessages::default();
        m.keep(2);
        assert!(m.kept(2));
        assert!(!m.kept(1));
    }
}
