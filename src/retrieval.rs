//! Which finished tasks and futures had their outcome read (CPython's
//! `__log_traceback = False`), and the report of those that failed unread:
//! "Task exception was never retrieved", as CPython logs it.

use crate::exception::Exception;
use crate::task::{Member, Raise, TaskId};

/// A flag per task and per future: its exception was retrieved
/// (`result()`, `exception()`, an `await`, `gather`, a `TaskGroup`...).
/// Beside the tasks, not in their slots, which stay small.
#[derive(Debug, Default)]
pub(crate) struct Retrieval {
    tasks: Vec<bool>,
    futures: Vec<bool>,
    /// The tasks `asyncio.run` cancelled once `main` was done, in the order
    /// it cancelled them: its `gather(..., return_exceptions=True)` reads
    /// them all, and reports each that failed instead.
    shutdown: Vec<TaskId>,
}

impl Retrieval {
    /// `m`'s outcome was read.
    pub(crate) fn mark(&mut self, m: Member) {
        let (flags, at) = match m {
            Member::Task(t) => (&mut self.tasks, t as usize),
            Member::Future(f) => (&mut self.futures, f as usize),
        };
        if flags.len() <= at {
            flags.resize(at + 1, false);
        }
        flags[at] = true;
    }

    pub(crate) fn is_marked(&self, m: Member) -> bool {
        let (flags, at) = match m {
            Member::Task(t) => (&self.tasks, t as usize),
            Member::Future(f) => (&self.futures, f as usize),
        };
        flags.get(at).copied().unwrap_or(false)
    }

    /// `asyncio.run` cancels `tasks` once `main` is done, and reads them all.
    pub(crate) fn shut_down(&mut self, tasks: &[TaskId]) {
        for t in tasks {
            self.mark(Member::Task(*t));
        }
        self.shutdown.extend_from_slice(tasks);
    }

    /// The tasks cancelled at shutdown, in that order.
    pub(crate) fn shutdown_tasks(&self) -> &[TaskId] {
        &self.shutdown
    }
}

/// Why a failure is reported at the end, as CPython's message says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    /// A task cancelled by `asyncio.run`'s shutdown failed instead.
    Shutdown,
    /// A task failed and nobody read its exception.
    Task,
    /// A future was given an exception nobody read.
    Future,
}

impl Why {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Why::Shutdown => "unhandled exception during asyncio.run() shutdown",
            Why::Task => "Task exception was never retrieved",
            Why::Future => "Future exception was never retrieved",
        }
    }
}

/// One line of the report: who, why, and the exception's `repr()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unretrieved {
    pub(crate) who: String,
    pub(crate) why: Why,
    pub(crate) error: String,
}

impl Unretrieved {
    /// The trace event's detail: `Task exception was never retrieved: ValueError('x')`.
    pub(crate) fn detail(&self) -> String {
        format!("{}: {}", self.why.message(), self.error)
    }
}

/// The exception an outcome holds, if it holds one CPython would report
/// (a cancellation is never reported).
pub(crate) fn reportable(raise: &Raise) -> Option<Exception> {
    match raise {
        Raise::Cancelled(_) => None,
        Raise::Skipped(why) => Some(Exception {
            // The exported program's `class Skipped(Exception)`, raised
            // with the rule alone: what the reason ends with, in brackets.
            name: std::rc::Rc::from("Skipped"),
            arg: Some(std::rc::Rc::from(rule_of(why))),
            ..(*raise.exception()).clone()
        }),
        other => Some((*other.exception()).clone()),
    }
}

/// The trigger rule a skip's reason names last: `all_success` of
/// `fetch failed (all_success)`.
fn rule_of(why: &str) -> &str {
    why.strip_suffix(')')
        .and_then(|w| w.rsplit_once(" ("))
        .map_or(why, |(_, rule)| rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_grow_on_demand_and_unmarked_is_false() {
        let mut r = Retrieval::default();
        assert!(!r.is_marked(Member::Task(5)));
        r.mark(Member::Task(5));
        assert!(r.is_marked(Member::Task(5)));
        assert!(!r.is_marked(Member::Task(4)));
        assert!(!r.is_marked(Member::Future(0)));
        r.shut_down(&[7, 2]);
        assert!(r.is_marked(Member::Task(2)));
        assert_eq!(r.shutdown_tasks(), &[7, 2]);
    }

    #[test]
    fn a_cancellation_is_never_reported() {
        assert!(reportable(&Raise::Cancelled(None)).is_none());
        let why = std::rc::Rc::from("fetch failed (all_success)");
        let skipped = reportable(&Raise::Skipped(why)).unwrap();
        assert_eq!(&*skipped.name, "Skipped");
        assert_eq!(skipped.arg.as_deref(), Some("all_success"));
    }
}
