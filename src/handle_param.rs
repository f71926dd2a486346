//! Handle parameters: what a task definition takes by reference
//! (`handles = { target = "task" }`), so that a caller can pass it a task,
//! a group of tasks or a future it holds.

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
}

impl HandleKind {
    pub(crate) const NAMES: [&'static str; 3] = ["task", "group", "future"];
    pub(crate) const ALL: [HandleKind; 3] = [HandleKind::Task, HandleKind::Group, HandleKind::Future];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_by_name() {
        for k in HandleKind::ALL {
            assert_eq!(HandleKind::parse(k.name()), Some(k));
        }
        assert_eq!(HandleKind::parse("queue"), None);
    }
}
