//! What a task does in `async with asyncio.TaskGroup() as tg:` and in an
//! `except*`: `tg.create_task(...)`, the group's `__aexit__` (it waits for
//! every child, takes back the cancellation a failing child asked of the
//! parent, and raises the children's errors as one `ExceptionGroup`), in
//! the form of the CPython version modelled; and `except*`'s split of an
//! exception into the part a handler takes and the rest.

use std::rc::Rc;

use super::Ctx;
use crate::exception::{Catch, Exception};
use crate::model::{Bind, Start};
use crate::program::{Blocks, Completion, Suspension};
use crate::runtime::{Member, Raise, State, Waiter, Waiting};
use crate::task::Flow;
use crate::task_group::TaskGroup;

/// Where a group's exit leaves its task.
pub(super) enum GroupExit {
    /// Waiting for the children still running.
    Waits(Suspension),
    /// Out of the block, with this ending.
    Ends(Completion),
}

/// The message of the group a task group raises.
const UNHANDLED: &str = "unhandled errors in a TaskGroup";

impl Ctx {
    /// `tg.create_task(...)` for each instance `start` makes, into the
    /// group `bind.into` names; refused with CPython's `RuntimeError` once
    /// the group is shutting down.
    pub(super) fn create_task(
        &mut self,
        start: &Start,
        bind: &Bind,
        blocks: &mut Blocks,
    ) -> Result<(), Raise> {
        let name = bind.into.expect("a spawn into a task group names it");
        let group = blocks
            .rest()
            .groups
            .iter()
            .rev()
            .find(|(g, _)| g.name == name);
        let group = group
            .expect("validation puts it inside its group")
            .0
            .clone();
        let ids = self.start_into(start, Some(&group))?;
        if let Some(h) = bind.as_ {
            self.bind(h, ids.into_iter().map(Member::Task).collect());
        }
        Ok(())
    }

    /// `TaskGroup.__aexit__`, from where it is: at its first call, what
    /// ended the body (`ended`, `None` at the block's end) is noted and an
    /// error cancels the children; while children run, it waits for the
    /// last; then it takes back its own cancellation of the parent and says
    /// what the block raises.
    pub(super) fn exit_group(
        &self,
        group: &Rc<TaskGroup>,
        ended: Option<&Completion>,
    ) -> GroupExit {
        let (sim, id) = (&self.sim, self.id);
        let python = sim.model().python;
        if !group.exiting.replace(true) {
            *group.propagate_cancel.borrow_mut() = match ended {
                Some(Err(raise @ Raise::Cancelled(_))) => Some(raise.clone()),
                _ => None,
            };
            if !python.group_uncancels_late() {
                self.uncancel_parent(group);
            }
            if matches!(ended, Some(Err(_))) && !group.aborting.get() {
                sim.abort_group(group);
            }
        }
        if group.pending.get() > 0 {
            let waiter = Waiter::new(id);
            *group.on_completed.borrow_mut() = Some(waiter);
            let running: Vec<Member> = group
                .children
                .borrow()
                .iter()
                .filter(|&&t| sim.state(Member::Task(t)) == State::Pending)
                .map(|&t| Member::Task(t))
                .collect();
            if sim.tracing() {
                // Those done whose done callback has not run yet count too.
                let n = group.pending.get();
                let s = if n == 1 { "" } else { "s" };
                let detail = format!("{}: waits for {n} task{s}", self.group_name(group));
                self.emit("group", detail);
            }
            sim.set_waiting(id, Waiting::on(GROUP_TASKS, running.into()));
            return GroupExit::Waits(Suspension::Group(group.clone()));
        }
        if python.group_uncancels_late() {
            self.uncancel_parent(group);
        }
        if group.errors.borrow().is_empty()
            && let Some(raise) = group.propagate_cancel.borrow().clone()
        {
            return GroupExit::Ends(Err(raise));
        }
        if let Some(Err(e)) = ended
            && !matches!(e, Raise::Cancelled(_))
        {
            group.errors.borrow_mut().push(e.exception());
        }
        let errors = std::mem::take(&mut *group.errors.borrow_mut());
        if errors.is_empty() {
            return GroupExit::Ends(match ended {
                Some(Ok(Flow::Return(v))) => Ok(Flow::Return(v.clone())),
                Some(Ok(Flow::Break)) => Ok(Flow::Break),
                Some(Err(e)) => Err(e.clone()),
                Some(Ok(Flow::Next)) | None => Ok(Flow::Next),
            });
        }
        if python.group_recancels() && sim.cancelling(id) > 0 {
            // Cancelled from outside meanwhile: cancelled again, so that the
            // count stays as it was.
            sim.uncancel(id);
            sim.cancel_task(id, None);
        }
        let group = sim.model().classes.group(UNHANDLED, errors, false);
        GroupExit::Ends(Err(Raise::Error(Rc::new(group))))
    }

    /// `uncancel()` of the parent when the group cancelled it: with no
    /// cancellation left, a `CancelledError` does not propagate.
    fn uncancel_parent(&self, group: &TaskGroup) {
        if group.parent_cancel_requested.get() && self.sim.uncancel(self.id) == 0 {
            *group.propagate_cancel.borrow_mut() = None;
        }
    }

    /// The exit's wait was cancelled: a cancellation of the parent from
    /// outside (unless the group is already aborting) cancels the children
    /// and propagates once they are done.
    pub(super) fn group_exit_cancelled(&self, group: &Rc<TaskGroup>, raise: Raise) {
        if !group.aborting.get() {
            *group.propagate_cancel.borrow_mut() = Some(raise);
            self.sim.abort_group(group);
        }
    }

    fn group_name(&self, group: &TaskGroup) -> &str {
        &self.sim.model().symbols[group.name as usize]
    }

    /// What an `except*` with `catch` takes from `raise` (as the group its
    /// handler sees: a lone exception is wrapped in one) and the rest, or
    /// `None` when it takes nothing.
    pub(super) fn star_split(
        &self,
        catch: &Catch,
        raise: &Raise,
    ) -> Option<(Raise, Option<Rc<Exception>>)> {
        let classes = &self.sim.model().classes;
        let e = raise.exception();
        if e.group.is_none() {
            return classes.catches(catch, e.class).then(|| {
                let wrapped = classes.group("", vec![e], true);
                (Raise::Error(Rc::new(wrapped)), None)
            });
        }
        let (taken, rest) = classes.split(catch, &e);
        taken.map(|t| (Raise::Error(t), rest))
    }

    /// What leaves an `except*`'s handler: an exception it raised, grouped
    /// with the rest it did not take, if any (as CPython groups them).
    pub(super) fn star_raised(
        &self,
        ending: Completion,
        rest: Option<Rc<Exception>>,
    ) -> Completion {
        let Some(rest) = rest else { return ending };
        match ending {
            Err(raised) => {
                let members = vec![raised.exception(), rest];
                let group = self.sim.model().classes.group("", members, false);
                Err(Raise::Error(Rc::new(group)))
            }
            Ok(_) => Err(Raise::Error(rest)),
        }
    }
}

/// What a task in a task group's exit waits on, as the end of a run says.
pub(crate) const GROUP_TASKS: &str = "its task group's tasks";
