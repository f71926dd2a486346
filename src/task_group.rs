//! The state of one `asyncio.TaskGroup` a task is in: its children, the
//! errors they ended with, and the flags CPython's `TaskGroup` keeps
//! (aborting, exiting, whether it cancelled its parent, whether a
//! cancellation of the parent propagates), read and changed by the loop's
//! done callbacks and by the parent's exit from the block.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::exception::Exception;
use crate::ids::Sym;
use crate::task::{Raise, TaskId, Waiter};

/// One `async with asyncio.TaskGroup() as NAME:` a task has entered.
pub(crate) struct TaskGroup {
    /// The task that entered it (`_parent_task`).
    pub(crate) parent: TaskId,
    /// Its name in the scenario (`tg`).
    pub(crate) name: Sym,
    /// Every task created in it, in the order created: those not yet done
    /// are `_tasks` (cancelled in this order; CPython's is a set's).
    pub(crate) children: RefCell<Vec<TaskId>>,
    /// How many of them are not done yet.
    pub(crate) pending: Cell<usize>,
    /// What the children that failed raised, in the order their done
    /// callbacks ran (`_errors`).
    pub(crate) errors: RefCell<Vec<Rc<Exception>>>,
    /// `_aborting`: its children were cancelled.
    pub(crate) aborting: Cell<bool>,
    /// `_exiting`: its block's body has ended.
    pub(crate) exiting: Cell<bool>,
    /// `_parent_cancel_requested`: a failing child cancelled the parent.
    pub(crate) parent_cancel_requested: Cell<bool>,
    /// `propagate_cancellation_error`: the parent was cancelled from
    /// outside, and the block raises `CancelledError` unless a child failed.
    /// It holds that `CancelledError`.
    pub(crate) propagate_cancel: RefCell<Option<Raise>>,
    /// `_on_completed_fut`: what the parent waits on while children run.
    pub(crate) on_completed: RefCell<Option<Rc<Waiter>>>,
}

impl TaskGroup {
    /// A group entered by `parent`.
    pub(crate) fn new(parent: TaskId, name: Sym) -> Rc<TaskGroup> {
        Rc::new(TaskGroup {
            parent,
            name,
            children: RefCell::new(Vec::new()),
            pending: Cell::new(0),
            errors: RefCell::new(Vec::new()),
            aborting: Cell::new(false),
            exiting: Cell::new(false),
            parent_cancel_requested: Cell::new(false),
            propagate_cancel: RefCell::new(None),
            on_completed: RefCell::new(None),
        })
    }

    /// Python's `repr()` of it, as its `RuntimeError`s quote it:
    /// `<TaskGroup tasks=2 errors=1 cancelling>`.
    pub(crate) fn repr(&self) -> String {
        let mut s = String::from("<TaskGroup");
        if self.pending.get() > 0 {
            s.push_str(&format!(" tasks={}", self.pending.get()));
        }
        let errors = self.errors.borrow().len();
        if errors > 0 {
            s.push_str(&format!(" errors={errors}"));
        }
        s.push_str(match self.aborting.get() {
            true => " cancelling>",
            false => " entered>",
        });
        s
    }
}
