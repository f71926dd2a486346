//! Handle parameters: what a task definition takes by reference
//! (`handles = { target = "task" }`), so that a caller can pass it a task,
//! a group of tasks or a future it holds, or a queue or a semaphore.

use crate::ids::Sym;

/// The kind of object a handle parameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandleKind {
    /// A task a `spawn ... as` named, or a root task (all its replicas).
    Task,
    /// A list of tasks: a `spawn ... into` group, or `wait`'s `done` and
    /// `pending`.
    Group,
    /// A `[futures]` entry.
    Future,
    /// A `[queues]` entry (FIFO or LIFO: a priority queue's puts need a
    /// priority the callee could not know it needs).
    Queue,
    /// A `[semaphores]` entry, of any kind (a lock too).
    Semaphore,
    /// An `[events]` entry.
    Event,
}

impl HandleKind {
    pub(crate) const NAMES: [&'static str; 6] =
        ["task", "group", "future", "queue", "semaphore", "event"];
    pub(crate) const ALL: [HandleKind; 6] = [
        HandleKind::Task,
        HandleKind::Group,
        HandleKind::Future,
        HandleKind::Queue,
        HandleKind::Semaphore,
        HandleKind::Event,
    ];

    /// Whether it holds a global object (a queue, a semaphore, an event)
    /// rather than tasks: the callee's steps name it where they would name
    /// the object.
    pub(crate) fn is_object(self) -> bool {
        matches!(
            self,
            HandleKind::Queue | HandleKind::Semaphore | HandleKind::Event
        )
    }

    pub(crate) fn parse(s: &str) -> Option<HandleKind> {
        HandleKind::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| HandleKind::ALL[i])
    }

    pub(crate) fn name(self) -> &'static str {
        HandleKind::NAMES[self as usize]
    }
}

/// The bit of a queue, semaphore or event id a step holds that says it is the
/// running body's parameter, whose [`Sym`] is in the other bits: the
/// object is the one the caller passed, looked up when the step runs.
pub(crate) const PARAM: u32 = 1 << 31;

/// The parameter a queue, semaphore or event id names, if it names one.
pub(crate) fn param_of(id: u32) -> Option<Sym> {
    (id & PARAM != 0).then_some(id & !PARAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_by_name() {
        for k in HandleKind::ALL {
            assert_eq!(HandleKind::parse(k.name()), Some(k));
        }
        assert_eq!(HandleKind::parse("lock"), None);
        assert_eq!(param_of(3), None);
        assert_eq!(param_of(PARAM | 3), Some(3));
    }
}
