//! The vocabulary every part of a run shares: a task's id, how a task or
//! future ends (its outcome, what it raises, its state), the one-shot
//! waiter a blocked task waits on, and what can be awaited.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::clock::TimerKey;
use crate::exception::{CANCELLED_ERROR, ClassId, Classes, Exception, SKIPPED, TIMEOUT_ERROR};
use crate::ids::FutId;
use crate::model::ReturnWhen;
use crate::value::Value;

pub(crate) type TaskId = u32;

/// What a task or future ended with, or raises.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Raise {
    /// An exception a step raised (`fail`, `set_exception`, a bare
    /// `raise`) or asyncio did (`ValueError`, `InvalidStateError`...).
    Error(Rc<Exception>),
    /// asyncio's own `TimeoutError()` (a timeout expired).
    Timeout,
    /// `CancelledError`, with the message `cancel(msg)` gave it, if any.
    Cancelled(Option<Rc<str>>),
    /// A task with `after` whose trigger could no longer be met.
    Skipped(Rc<str>),
}

impl Raise {
    /// An exception of `class` with one argument.
    pub(crate) fn of(classes: &Classes, class: ClassId, message: &str) -> Raise {
        Raise::Error(Rc::new(classes.raise(class, message)))
    }

    /// Its class, for `catch` and `retry_on`.
    pub(crate) fn class(&self) -> ClassId {
        match self {
            Raise::Error(e) => e.class,
            Raise::Timeout => TIMEOUT_ERROR,
            Raise::Cancelled(_) => CANCELLED_ERROR,
            Raise::Skipped(_) => SKIPPED,
        }
    }

    /// What the trace and `{error}` call it (see [`Exception::text`]).
    pub(crate) fn message(&self) -> Rc<str> {
        match self {
            Raise::Error(e) => Rc::from(e.text()),
            Raise::Timeout => Rc::from("TimeoutError"),
            Raise::Cancelled(None) => Rc::from("CancelledError"),
            Raise::Cancelled(Some(msg)) => Rc::from(format!("CancelledError: {msg}")),
            Raise::Skipped(why) => Rc::from(format!("skipped: {why}")),
        }
    }

    /// The exception as a value (a `gather` slot, an `except`'s `error`).
    pub(crate) fn to_value(&self) -> Value {
        Value::Error(self.exception())
    }

    /// The exception as `{t.error}` and an `on_done` read it, without
    /// retrieving it: a cancellation's message is not there (the exported
    /// program makes a fresh `asyncio.CancelledError()`).
    pub(crate) fn seen_unretrieved(&self) -> Value {
        match self {
            Raise::Cancelled(Some(_)) => Raise::Cancelled(None).to_value(),
            other => other.to_value(),
        }
    }

    /// The exception itself (a member of a group).
    pub(crate) fn exception(&self) -> Rc<Exception> {
        match self {
            Raise::Error(e) => e.clone(),
            Raise::Timeout => Rc::new(Exception::timed_out()),
            Raise::Cancelled(msg) => Rc::new(Exception::cancelled(msg.clone())),
            Raise::Skipped(_) => Rc::new(Exception {
                class: SKIPPED,
                name: Rc::from("Exception"),
                arg: Some(self.message()),
                group: None,
                cause: None,
            }),
        }
    }
}

pub(crate) type Outcome = Result<Value, Raise>;

/// The final (or not yet final) state of a task or future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Pending,
    Done,
    Failed,
    Cancelled,
    Skipped,
}

impl State {
    pub(crate) fn of(outcome: &Outcome) -> State {
        match outcome {
            Ok(_) => State::Done,
            Err(Raise::Cancelled(_)) => State::Cancelled,
            Err(Raise::Skipped(_)) => State::Skipped,
            Err(_) => State::Failed,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::Skipped => "skipped",
        }
    }
}

/// A one-shot internal future (asyncio's `waiter`): set once, wakes its task.
pub(crate) struct Waiter {
    pub(crate) task: TaskId,
    pub(crate) done: Cell<bool>,
    /// Turns a `Release` callback has passed on its way to this waiter: a
    /// shielded `wait_for`'s outer future is done after the first.
    pub(crate) hops: Cell<u8>,
}

impl Waiter {
    pub(crate) fn new(task: TaskId) -> Rc<Waiter> {
        Rc::new(Waiter {
            task,
            done: Cell::new(false),
            hops: Cell::new(0),
        })
    }
}

/// Something that can be awaited and finishes once: a task or a future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Member {
    Task(TaskId),
    Future(FutId),
}

/// The state of one `gather`.
pub(crate) struct Gather {
    pub(crate) parent: TaskId,
    pub(crate) members: Vec<Member>,
    pub(crate) remaining: Cell<usize>,
    pub(crate) return_exceptions: bool,
    pub(crate) result: RefCell<Option<Outcome>>,
    pub(crate) cancel_requested: Cell<bool>,
}

/// An `asyncio.timeout` expiring at once: whether it fired, and whether its
/// block ended first (its handle cancelled).
#[derive(Default)]
pub(crate) struct Deadline {
    pub(crate) expired: Cell<bool>,
    pub(crate) closed: Cell<bool>,
}

/// An open `asyncio.timeout`: its timer, and whether it fired.
#[derive(Clone)]
pub(crate) struct TimeoutScope {
    pub(crate) expired: Rc<Cell<bool>>,
    /// The task's cancellation count when it opened.
    pub(crate) level: u32,
    /// The timer, or, for a deadline already come, the queued expiry.
    pub(crate) key: Option<TimerKey>,
    pub(crate) soon: Option<Rc<Deadline>>,
}

/// How a block of steps ended, when it did not raise.
pub(crate) enum Flow {
    Next,
    Return(Value),
    Break,
}

/// The state of one `asyncio.wait`.
pub(crate) struct WaitState {
    pub(crate) waiter: Rc<Waiter>,
    pub(crate) counter: Cell<usize>,
    pub(crate) when: ReturnWhen,
    pub(crate) timer: Cell<Option<TimerKey>>,
}
