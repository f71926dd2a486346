//! The step machine: every task runs its compiled [`Program`] in turns of
//! the ready queue, from the instruction it is on until it waits again or
//! ends, and keeps between turns only where it is, what it waits for
//! ([`Suspension`]) and its frame, so a million tasks stay small.
//!
//! A definition's steps are compiled once into instructions and jumps,
//! with a table of the regions its blocks open: its `limit`, `timeout`,
//! `deadline` and `retry` are blocks around its body (a failure that leaves
//! the attempts' block to be retried goes to a backoff and back to its
//! start), and its `after` is a first instruction that waits for its
//! trigger rule. Whatever leaves a block (an error, a cancellation, a
//! `return`, a `break`) goes out through the regions around it, innermost
//! first ([`Ctx::complete`]): a permit is given back, a timeout closed, a
//! loop's turn ended, a `try` catches or runs its `finally` with the ending
//! kept for after it. A `call` enters the callee's own program and comes
//! back at its end, its `return` or its error, with a frame saying where
//! to. What open blocks hold (a loop's turn, an open timeout, a pending
//! ending, a call) is kept in the task's frame between turns.
//!
//! Each wait is begun by one function here and ended by [`Ctx::woken`],
//! which also delivers a cancellation: a timer, a turn of the loop, a
//! permit, a place in a queue's line, an event set, the end of an awaited task, a
//! gather, `asyncio.wait`, `wait_for` in each version's form (3.11's
//! waiter and timer, or 3.12's timeout; its cancel-and-wait after), an
//! upstream trigger and a retry's backoff.

use std::rc::Rc;

use super::group::GroupExit;
use super::{
    Actor, Ctx, Flow, Ranked, Repr, Then, begin, catches, end, gathered, retried, started,
};
use crate::as_completed::AsCompleted;
use crate::barrier::{Passage, Stage};
use crate::exception::{
    BROKEN_BARRIER_ERROR, EXCEPTION, PREEMPTED, QUEUE_EMPTY, QUEUE_FULL, QUEUE_SHUT_DOWN,
};
use crate::model::{BarrierId, QueueId, SemId, sym};
use crate::priority::Priority;
use crate::program::{
    BarrierWait, Blocks, CallFrame, CancelWait, Completion, Frame, Line, LoopKind, Op, Over,
    Program, QueueWait, RegionKind, Says, Suspension, Turning, UNSTARTED, WaitForTimer, WaitSet,
    WaitingFor,
};
use crate::queue::{Entry, Side};
use crate::runtime::{
    Callback, Member, Outcome, Raise, Sim, State, TaskId, TimerAction, Waiter, Waiting,
};
use crate::task_group::TaskGroup;
use crate::template::Expr;

use crate::value::Value;

/// How a task goes on once what it waited for came.
enum Resume {
    /// With the next instruction.
    Next,
    /// With the same one again (a queue's item or room may have been taken
    /// by a newcomer meanwhile), carrying the item it is putting.
    Again(Option<Entry>),
    /// With the next instruction, `result` set to what it awaited.
    Result(Value),
    /// With the next instruction, once `asyncio.wait` has said what is done
    /// and pending (and cancelled the pending, if asked).
    Waited(Vec<Member>, bool),
    /// Not yet: the same instruction waits on for something else.
    Then(Suspension),
}

/// Where a task's turn left it.
enum Left {
    Waiting(u32, Suspension),
    Ended(Outcome),
    /// Cancelled before it started: already over.
    Over,
}

/// One turn of a task: from where it waited, until it waits again or ends.
pub(crate) fn resume(sim: &Rc<Sim>, id: TaskId) {
    sim.turn_begins(id);
    let (def, frame_start, (pc, wait, mut frame, draws)) = sim.enter_turn(id, |p| {
        let wait = std::mem::replace(&mut p.wait, Suspension::Frozen);
        let pc = (p.pc != UNSTARTED).then_some(p.pc);
        let draws = p.draws();
        (pc, wait, p.frame.take(), draws)
    });
    let (vars, handles, mut blocks) = match &mut frame {
        Some(f) => (
            std::mem::take(&mut f.vars),
            std::mem::take(&mut f.handles),
            f.take_blocks(),
        ),
        None => (Vec::new(), Vec::new(), Blocks::default()),
    };
    let mut ctx = Ctx {
        sim: sim.clone(),
        id,
        actor: Actor::Task(id),
        vars,
        handles,
        hmark: blocks.call().map_or(0, |c| c.hmark),
        rng: None,
        rng_skip: draws,
        frame_start: frame_start.unwrap_or_else(|| sim.now()),
        called: None,
        pc: crate::program::UNSTARTED,
    };
    // In a `call`, it runs the called steps, from when they began.
    let program = match blocks.call() {
        Some(call) => {
            (ctx.frame_start, ctx.called) = (call.began, Some(call.callee));
            sim.body(call.callee)
        }
        None => sim.program(def),
    };
    let left = ctx.run_turn(sim, program, pc, wait, &mut blocks);
    let waits = matches!(left, Left::Waiting(..));
    match left {
        Left::Waiting(pc, wait) => sim.with_machine(id, |p| {
            (p.pc, p.wait) = (pc, wait);
            p.frame = match frame {
                // The box it had, refilled: no allocation per turn.
                Some(mut f) => {
                    (f.vars, f.handles) = (ctx.vars, ctx.handles);
                    f.put_blocks(blocks);
                    Some(f)
                }
                None => Frame::keep(ctx.vars, ctx.handles, blocks),
            };
            if let Some(rng) = &ctx.rng {
                p.set_draws(rng.drawn());
            }
        }),
        Left::Ended(outcome) => end(sim, id, outcome),
        Left::Over => {}
    }
    if waits && let Some(msg) = sim.take_cancel_at_wait(id) {
        sim.deliver_cancel(id, msg, true);
    }
    sim.end_turn(id);
}

impl Ctx {
    /// Runs a task from instruction `pc`, once what it waited for came,
    /// until it waits again or ends: each instruction, the waits they begin,
    /// the turns of loops, and the ways into and out of blocks and calls
    /// (`blocks`: what those it is in keep).
    fn run_turn<'a>(
        &mut self,
        sim: &'a Sim,
        mut program: &'a Program,
        pc: Option<u32>,
        wait: Suspension,
        blocks: &mut Blocks,
    ) -> Left {
        // Set when the instruction at `pc` runs again after a wait: it is
        // not counted again, and a put keeps its item.
        let mut again: Option<Option<Entry>> = None;
        // Where it is, for messages about what its wait came to.
        self.pc = pc.unwrap_or(UNSTARTED);
        let mut pc = match pc {
            Some(pc) => match self.settled(wait) {
                Err(wait) => return Left::Waiting(pc, wait),
                Ok(Ok(Resume::Next)) => pc + 1,
                Ok(Ok(Resume::Result(value))) => {
                    self.set_var(sym::RESULT, value);
                    pc + 1
                }
                Ok(Ok(Resume::Waited(members, cancel_pending))) => {
                    self.waited(&members, cancel_pending);
                    pc + 1
                }
                Ok(Ok(Resume::Again(item))) => {
                    again = Some(item);
                    pc
                }
                Ok(Ok(Resume::Then(_))) => unreachable!("a settled wait is over"),
                Ok(Err(raise)) => match self.complete(sim, &mut program, pc, Err(raise), blocks) {
                    Ok(next) => next,
                    Err(outcome) => return Left::Ended(outcome),
                },
            },
            None => {
                if !begin(&self.sim, self.id) {
                    return Left::Over;
                }
                // A task that runs after others starts at its upstream op.
                if !program.upstream {
                    self.start_now(program, String::new());
                }
                0
            }
        };
        // What ended a block at `$at` goes out through the blocks around it:
        // on from where it lands, or the task ends.
        macro_rules! leave {
            ($at:expr, $c:expr) => {{
                again = None;
                match self.complete(sim, &mut program, $at, $c, blocks) {
                    Ok(next) => {
                        pc = next;
                        continue;
                    }
                    Err(outcome) => return Left::Ended(outcome),
                }
            }};
        }
        loop {
            let Some(op) = program.ops.get(pc as usize) else {
                if !blocks.in_call() {
                    return Left::Ended(Ok(Value::None));
                }
                // The called steps ran to their end: on after the `call`,
                // whose result is None (`result = await fetch()`).
                pc = self.return_from_call(sim, &mut program, blocks) + 1;
                self.set_var(sym::RESULT, Value::None);
                again = None;
                continue;
            };
            self.pc = pc;
            let first = again.is_none();
            if first && op.counts() && !self.sim.count_step(self.id, || self.at("it runs")) {
                return Left::Waiting(pc, Suspension::Frozen);
            }
            let wait = match op {
                Op::Step(step) => match self.simple(step) {
                    Ok(Then::Flow(Flow::Next)) => None,
                    Ok(Then::Flow(flow)) => leave!(pc, Ok(flow)),
                    Ok(Then::Sleep(ns)) => Some(self.sleep(ns)),
                    Ok(Then::Thread(work)) => Some(self.thread(work)),
                    Err(raise) => leave!(pc, Err(raise)),
                },
                Op::Acquire { sem, priority, .. } => {
                    match self.acquire(self.obj(*sem), priority.as_ref()) {
                        Ok(wait) => wait,
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                // A holder that lost its permit has none to give back.
                Op::Release(sem) if self.sim.take_preempted(self.obj(*sem), self.id).is_some() => {
                    None
                }
                Op::Release(sem) => match self.release(self.obj(*sem)) {
                    Ok(()) => None,
                    Err(raise) => leave!(pc, Err(raise)),
                },
                Op::Put {
                    queue,
                    item,
                    priority,
                } => {
                    let queue = &self.obj(*queue);
                    let entry = match again.take() {
                        Some(Some(entry)) => entry,
                        _ => match self.entry(*queue, item, priority.as_ref()) {
                            Ok(entry) => entry,
                            Err(raise) => leave!(pc, Err(raise)),
                        },
                    };
                    match self.put(*queue, entry, first) {
                        Ok(wait) => wait,
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                Op::Get(queue) => match self.get(self.obj(*queue)) {
                    Ok(wait) => wait,
                    Err(raise) => leave!(pc, Err(raise)),
                },
                Op::Join(queue) => self.join(self.obj(*queue)),
                Op::WaitEvent(e) => self.wait_event(self.obj(*e)),
                Op::WaitBarrier(b) => match self.pass_barrier(*b, None) {
                    Ok(Resume::Result(index)) => {
                        self.set_var(sym::RESULT, index);
                        None
                    }
                    Ok(Resume::Then(wait)) => Some(wait),
                    Ok(_) => unreachable!("a barrier gives an index or a wait"),
                    Err(raise) => leave!(pc, Err(raise)),
                },
                Op::WaitCondition { cond, until } => {
                    match self.wait_condition(*cond, until.as_ref()) {
                        Ok(wait) => wait,
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                Op::Loop { kind, end } => {
                    let over = match kind {
                        LoopKind::Times(times) => Over::Turns(*times),
                        LoopKind::Consume { queue, until } => Over::Queue {
                            queue: self.obj(*queue),
                            sentinel: self.sentinel(until.as_ref()),
                        },
                        LoopKind::Items { items, var } => {
                            let items: Rc<[Value]> = match self.eval(items, "for") {
                                Value::List(items) => items,
                                Value::None => Rc::from([]),
                                other => Rc::from([other]),
                            };
                            Over::Items { items, var: *var }
                        }
                        LoopKind::Each { handle, var } => Over::Members {
                            members: self.members_of(handle).into(),
                            var: *var,
                        },
                        LoopKind::Completed { targets, timeout } => {
                            Over::Completed(self.as_completed(targets, *timeout))
                        }
                    };
                    let over = over.has_turn(0).then_some(over);
                    let turning = over.map(|over| Turning {
                        mark: 0,
                        hmark: 0,
                        n: 0,
                        over,
                    });
                    let Some(turning) = turning else {
                        pc = end + 1;
                        continue;
                    };
                    let mut turning = turning;
                    self.begin_turn(&mut turning);
                    blocks.loops.push(turning);
                    if !self.turn_counted(kind, pc, *end) {
                        return Left::Waiting(pc + 1, Suspension::Frozen);
                    }
                    None
                }
                Op::Next { start } => {
                    let Op::Loop { kind, end } = &program.ops[*start as usize] else {
                        unreachable!("a loop's end names its entry")
                    };
                    if let LoopKind::Consume { queue, .. } = kind {
                        // The turn's item is done; the next turn takes one.
                        if let Err(raise) = self.task_done(self.obj(*queue)) {
                            // The error ends the loop.
                            blocks.loops.pop();
                            leave!(*start, Err(raise));
                        }
                        pc = start + 1;
                        continue;
                    }
                    let t = blocks.loops.last_mut().expect("in a loop");
                    self.end_turn(t);
                    t.n += 1;
                    if !t.over.has_turn(t.n) {
                        blocks.loops.pop();
                        pc += 1;
                        continue;
                    }
                    self.begin_turn(t);
                    if !self.turn_counted(kind, *start, *end) {
                        return Left::Waiting(pc, Suspension::Frozen);
                    }
                    pc = start + 1;
                    continue;
                }
                Op::WaitFor {
                    target,
                    timeout,
                    shield,
                } => {
                    let (timeout, shield) = (*timeout, *shield);
                    // 3.11 sets its timer before it wraps what it awaits.
                    let timer = (timeout > 0 && !sim.model().python.wait_for_is_a_timeout())
                        .then(|| Waiter::new(self.id))
                        .map(|waiter| {
                            let release = TimerAction::Release(waiter.clone());
                            (sim.set_timer(timeout, release), waiter)
                        });
                    let members = self.resolve(target);
                    let [member] = members.as_slice() else {
                        if let Some((key, _)) = timer {
                            sim.cancel_timer(key);
                        }
                        let one = "wait_for takes one task or future";
                        leave!(pc, Err(self.raise(EXCEPTION, one)));
                    };
                    let member = *member;
                    match timer {
                        Some((key, waiter)) => {
                            Some(self.wait_for_timer(waiter, key, member, timeout, shield))
                        }
                        None if timeout == 0 => {
                            if sim.state(member) == State::Pending {
                                Some(self.cancel_wait(member, shield, 0, false))
                            } else {
                                // `if fut.done(): return fut.result()` (a
                                // shield of a done task is the task itself).
                                match sim.retrieve(member).expect("finished") {
                                    Ok(value) => {
                                        self.set_var(sym::RESULT, value);
                                        None
                                    }
                                    Err(raise) => leave!(pc, Err(raise)),
                                }
                            }
                        }
                        None => {
                            let scope = self.open_timeout(timeout);
                            if sim.state(member) != State::Pending {
                                // Done already: no wait, and the timeout
                                // closes at once.
                                let outcome = sim.retrieve(member).expect("finished");
                                match self.close_wait_for(scope, timeout, member, outcome) {
                                    Ok(value) => {
                                        self.set_var(sym::RESULT, value);
                                        None
                                    }
                                    Err(raise) => leave!(pc, Err(raise)),
                                }
                            } else {
                                Some(self.wait_for(scope, member, timeout, shield))
                            }
                        }
                    }
                }
                Op::Call(start) => {
                    let mark = self.vars.len();
                    let hmark = self.handles.len();
                    self.push_call_args(start);
                    let began = sim.now();
                    blocks.rest().calls.push(CallFrame {
                        callee: start.def,
                        at: pc,
                        mark,
                        hmark,
                        began,
                        outer_began: self.frame_start,
                        outer_called: self.called,
                    });
                    (self.frame_start, self.called) = (began, Some(start.def));
                    self.hmark = hmark;
                    program = sim.body(start.def);
                    pc = 0;
                    continue;
                }
                Op::Await(target) => {
                    let members = self.resolve(target);
                    let begun = match members.as_slice() {
                        [m] => self.await_member(*m),
                        ms => self.gather(ms.to_vec(), false, true),
                    };
                    match begun {
                        Ok(wait) => wait,
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                Op::Gather {
                    targets,
                    return_exceptions,
                } => {
                    let members = targets.iter().flat_map(|t| self.resolve(t)).collect();
                    match self.gather(members, *return_exceptions, false) {
                        Ok(wait) => wait,
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                Op::Wait {
                    targets,
                    when,
                    timeout,
                    cancel_pending,
                } => {
                    let members: Vec<Member> =
                        targets.iter().flat_map(|t| self.resolve(t)).collect();
                    match self.begin_wait(&members, *when, *timeout) {
                        Ok(w) => {
                            let on = Waiting::on("asyncio.wait", members.clone().into());
                            self.sim.set_waiting(self.id, on);
                            Some(Suspension::Wait(Box::new(WaitSet {
                                w,
                                members,
                                cancel_pending: *cancel_pending,
                            })))
                        }
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                Op::Take { queue, start } => {
                    let queue = &self.obj(*queue);
                    let entry = match self.take(*queue) {
                        Ok(Ok(entry)) => entry,
                        // Shut down and empty: out as a cancellation here would go.
                        Err(raise) => leave!(pc, Err(raise)),
                        Ok(Err(wait)) => match self.woken(&wait) {
                            None => return Left::Waiting(pc, wait),
                            // Taken by a newcomer meanwhile: try again.
                            Some(Ok(_)) => {
                                again = Some(None);
                                continue;
                            }
                            Some(Err(raise)) => leave!(pc, Err(raise)),
                        },
                    };
                    again = None;
                    let Some(Turning {
                        over: Over::Queue { sentinel, .. },
                        ..
                    }) = blocks.loops.last()
                    else {
                        unreachable!("a take is in its consume loop")
                    };
                    let stop = self.is_sentinel(sentinel.as_deref(), &entry.item);
                    self.got(entry);
                    if !stop {
                        pc += 1;
                        continue;
                    }
                    blocks.loops.pop();
                    if let Err(raise) = self.task_done(*queue) {
                        // Out of the loop, which has ended.
                        leave!(*start, Err(raise));
                    }
                    let Op::Loop { end, .. } = &program.ops[*start as usize] else {
                        unreachable!("a take follows its loop's entry")
                    };
                    pc = end + 1;
                    continue;
                }
                Op::NextDone => {
                    let Some(Turning {
                        over: Over::Completed(it),
                        ..
                    }) = blocks.loops.last()
                    else {
                        unreachable!("a next is in its as_completed loop")
                    };
                    let it = it.clone();
                    match it.next() {
                        Some(Some(m)) => match sim.retrieve(m).expect("an awaitable that ended") {
                            Ok(value) => {
                                self.set_var(sym::RESULT, value);
                                None
                            }
                            Err(raise) => leave!(pc, Err(raise)),
                        },
                        // The timeout passed: a bare `TimeoutError()`, with
                        // no cause (not one of asyncio's timeouts).
                        Some(None) => {
                            let e = Rc::new(crate::exception::Exception::timeout());
                            leave!(pc, Err(Raise::Error(e)))
                        }
                        None => {
                            let waiter = Waiter::new(self.id);
                            it.wait(waiter.clone());
                            let on = Waiting::on("asyncio.as_completed", it.members().clone());
                            sim.set_waiting(self.id, on);
                            Some(Suspension::Completed(waiter))
                        }
                    }
                }
                Op::OpenTimeout { after, says, .. } => {
                    let after = match says {
                        // An instant: what is left of it, none when it passed.
                        Says::At => after.saturating_sub(self.sim.now()),
                        Says::Block | Says::Attempt | Says::Deadline => *after,
                    };
                    let scope = self.open_timeout(after);
                    blocks.rest().timeouts.push(scope);
                    None
                }
                Op::CloseTimeout { after, says } => {
                    let scope = blocks.rest().timeouts.pop().expect("an open timeout");
                    match self.close_timeout(scope, Ok(Flow::Next), || says.text(*after)) {
                        Ok(_) => None,
                        Err(raise) => leave!(pc, Err(raise)),
                    }
                }
                Op::Try => None,
                Op::EndBody { finally } => {
                    blocks.rest().pending.push(Ok(Flow::Next));
                    pc = *finally;
                    continue;
                }
                Op::EndExcept { star } => {
                    blocks.rest().handling.pop();
                    // What an `except*` did not take is raised again.
                    let rest = match star {
                        true => blocks.rest().star_rest.pop().flatten(),
                        false => None,
                    };
                    let ending = rest.map_or(Ok(Flow::Next), |r| Err(Raise::Error(r)));
                    blocks.rest().pending.push(ending);
                    None
                }
                Op::EnterGroup(name) => {
                    let group = TaskGroup::new(self.id, *name);
                    blocks.rest().groups.push((group, None));
                    None
                }
                Op::CreateTask { start, bind } => match self.create_task(start, bind, blocks) {
                    Ok(()) => None,
                    Err(raise) => leave!(pc, Err(raise)),
                },
                Op::ExitGroup { at } => {
                    let (group, ending) = blocks.rest().groups.last().expect("in a group");
                    let (group, ending) = (group.clone(), ending.as_ref());
                    match self.exit_group(&group, ending) {
                        GroupExit::Waits(wait) => Some(wait),
                        GroupExit::Ends(ending) => {
                            blocks.rest().groups.pop();
                            match ending {
                                Ok(Flow::Next) => None,
                                ending => leave!(*at, ending),
                            }
                        }
                    }
                }
                Op::Reraise => {
                    let raise = blocks.rest().handling.last().cloned();
                    leave!(
                        pc,
                        Err(raise.expect("validation puts `raise` in an `except`"))
                    )
                }
                Op::EndFinally { at } => match blocks.rest().pending.pop().expect("a try's ending")
                {
                    Ok(Flow::Next) => None,
                    ending => leave!(*at, ending),
                },
                Op::Upstream { after, trigger } => {
                    let members = match blocks.rest().upstream.take() {
                        Some(members) => members,
                        None => self.upstream_members(after),
                    };
                    match self.upstream_decided(after, *trigger, &members) {
                        Some(Ok(detail)) => {
                            self.start_now(program, detail);
                            None
                        }
                        Some(Err(skipped)) => leave!(pc, Err(skipped)),
                        None => {
                            let running = self.running(&members);
                            blocks.rest().upstream = Some(members);
                            let w = self.begin_wait_first(&running);
                            let on = Waiting::on(crate::runtime::UPSTREAM, running.clone().into());
                            self.sim.set_waiting(self.id, on);
                            Some(Suspension::Upstream(Box::new(WaitSet {
                                w,
                                members: running,
                                cancel_pending: false,
                            })))
                        }
                    }
                }
                Op::Attempt => {
                    if blocks.rest().attempt == 0 {
                        // Each attempt starts from the task's arguments.
                        blocks.rest().attempt = 1;
                        let fresh = (self.vars.clone(), self.handles.clone());
                        blocks.rest().fresh = Some(Box::new(fresh));
                    }
                    self.begin_attempt(program.retry.as_ref(), blocks.rest().attempt);
                    None
                }
                Op::EndAttempt => {
                    // Past the backoff and the next attempt.
                    pc += 3;
                    continue;
                }
                Op::Backoff => {
                    let Some(Err(failure)) = blocks.rest().pending.pop() else {
                        unreachable!("a backoff follows a failed attempt")
                    };
                    let retry = program.retry.as_ref().expect("a task that retries");
                    let wait = self.backoff(retry, blocks.rest().attempt, &failure);
                    Some(self.sleep_as(wait, Waiting::Backoff))
                }
                Op::Restart { at } => {
                    if let Some(fresh) = &blocks.rest().fresh {
                        (self.vars, self.handles) = (fresh.0.clone(), fresh.1.clone());
                    }
                    blocks.rest().attempt += 1;
                    pc = *at;
                    continue;
                }
            };
            again = None;
            let Some(wait) = wait else {
                pc += 1;
                continue;
            };
            if let Suspension::Turn = wait {
                // It woke itself: it runs again after what is queued.
                return Left::Waiting(pc, wait);
            }
            // As `suspend` does: what it waits for may have come already, or a
            // cancellation delivered while it ran ends the wait at once.
            match self.settled(wait) {
                Err(wait) => return Left::Waiting(pc, wait),
                Ok(Ok(Resume::Next)) => pc += 1,
                Ok(Ok(Resume::Result(value))) => {
                    self.set_var(sym::RESULT, value);
                    pc += 1;
                }
                Ok(Ok(Resume::Waited(members, cancel_pending))) => {
                    self.waited(&members, cancel_pending);
                    pc += 1;
                }
                Ok(Ok(Resume::Again(item))) => again = Some(item),
                Ok(Ok(Resume::Then(_))) => unreachable!("a settled wait is over"),
                Ok(Err(raise)) => leave!(pc, Err(raise)),
            }
        }
    }

    /// The task starts (once its upstream allows): said in the trace, with
    /// `detail`; `{attempt}` is 1 unless its attempts set it.
    fn start_now(&mut self, program: &Program, detail: String) {
        self.frame_start = started(&self.sim, self.id, detail);
        if program.reads_vars && program.retry.is_none() {
            self.set_var(sym::ATTEMPT, Value::Int(1));
        }
    }

    /// A loop's turn begins: its `i`, and a `for` loop's variable or an
    /// `each` loop's handle, marked where they are so that they go after
    /// it (the body's own stay, as in Python).
    fn begin_turn(&mut self, t: &mut Turning) {
        t.mark = self.vars.len();
        t.hmark = self.handles.len();
        let i = (sym::I, Value::Int(t.n as i64));
        match &t.over {
            Over::Queue { .. } | Over::Completed(_) => {}
            Over::Turns(_) => self.vars.push(i),
            Over::Items { items, var } => {
                self.vars.push(i);
                self.vars.push((*var, items[t.n as usize].clone()));
            }
            Over::Members { members, var } => {
                self.vars.push(i);
                let member = members[t.n as usize];
                self.handles.push((*var, Rc::new(vec![member])));
            }
        }
    }

    /// A loop's turn ends: the variables and handle [`Ctx::begin_turn`] set go.
    fn end_turn(&mut self, t: &Turning) {
        self.vars.drain(t.mark..t.mark + t.over.turn_vars());
        if let Over::Members { .. } = t.over {
            self.handles.remove(t.hmark);
        }
    }

    /// A turn of a `repeat` or `forever` with no steps counts as a step of
    /// its own, so that the step limits stop `forever = []`: false when a
    /// limit was crossed.
    fn turn_counted(&self, kind: &LoopKind, start: u32, end: u32) -> bool {
        let empty = end == start + 1;
        !empty
            || !matches!(kind, LoopKind::Times(_))
            || self.sim.count_step(self.id, || self.at("its loop"))
    }

    /// Starts a sleep: a timer, or one turn of the loop for 0.
    fn sleep(&mut self, ns: u64) -> Suspension {
        self.sleep_as(ns, Waiting::Sleep)
    }

    /// Starts a sleep that says what it is (`waiting`, given when it ends).
    fn sleep_as(&mut self, ns: u64, waiting: fn(u64) -> Waiting) -> Suspension {
        let (sim, id) = (&self.sim, self.id);
        if ns == 0 {
            sim.set_waiting(id, Waiting::Turn);
            sim.wake(id);
            return Suspension::Turn;
        }
        let key = sim.set_timer(ns, TimerAction::Wake(id));
        sim.set_waiting(id, waiting(sim.now().saturating_add(ns)));
        Suspension::Timer(key)
    }

    /// Sends work to its thread pool and awaits it.
    fn thread(&mut self, work: std::rc::Rc<crate::executor::Work>) -> Suspension {
        self.sim.submit_work(&work);
        self.sim.set_waiting(self.id, Waiting::Thread(work.clone()));
        Suspension::Thread(work)
    }

    /// Takes a permit at once if one is free; otherwise joins the queue.
    fn acquire(
        &mut self,
        sem: SemId,
        priority: Option<&Expr>,
    ) -> Result<Option<Suspension>, Raise> {
        // A priority is read before the semaphore is, as `cpu.at(p)` is.
        let priority = match priority {
            Some(p) => Some(self.priority(p, "acquire")?),
            None => None,
        };
        let sim = &self.sim;
        if sim.try_acquire(sem, self.id, priority) {
            self.permit_event("acquired", sem);
            return Ok(None);
        }
        if let Some(victim) = sim.preempt(sem, self.id, priority.unwrap_or(Priority::Int(0))) {
            if sim.tracing() {
                // The permit goes from the holder to the newcomer.
                let (victim_name, me) = (sim.task_name(victim), sim.task_name(self.id));
                let note = format!("preempted, handed to {me}");
                self.permit_gauge_event_of(victim_name.clone(), "released", sem, &note);
                let note = format!("preempting {victim_name}");
                self.permit_gauge_event("acquired", sem, &note);
            }
            sim.cancel_task(victim, Some(Rc::from("preempted")));
            return Ok(None);
        }
        sim.enqueue(sem, self.id, priority);
        self.permit_wait_event(sem, priority);
        sim.set_waiting(self.id, Waiting::Semaphore(sem));
        Ok(Some(Suspension::Permit(sem)))
    }

    /// `await queue.put(item)`: in at once when there is room; otherwise in
    /// the line of putters, the item kept (`first`: the first try, which
    /// says the queue is full). `QueueShutDown` once the queue is shut down.
    fn put(
        &mut self,
        queue: QueueId,
        entry: Entry,
        first: bool,
    ) -> Result<Option<Suspension>, Raise> {
        let sim = self.sim.clone();
        if sim.queue_is_shut_down(queue) {
            return Err(self.raise_bare(QUEUE_SHUT_DOWN));
        }
        let r = sim.try_put(queue, entry.clone());
        Ok(match r {
            Ok(woken) => {
                self.put_in(queue, entry, woken);
                None
            }
            Err(entry) => {
                if first && sim.tracing() {
                    let name = &sim.model().queues[queue as usize].name;
                    self.emit("wait", format!("{name} is full"));
                }
                let waiter = sim.wait_in_line(queue, Side::Put, self.id);
                sim.set_waiting(self.id, Waiting::Put(queue));
                Some(queue_wait(queue, waiter, Line::Room(entry)))
            }
        })
    }

    /// An item went into `queue`: the getter it wakes, the trace, `{item}`.
    fn put_in(&mut self, queue: QueueId, entry: Entry, woken: Option<TaskId>) {
        let sim = self.sim.clone();
        if let Some(t) = woken {
            sim.wake(t);
        }
        if sim.tracing() {
            let item = entry.item.repr_within(sim.value_bytes());
            let rank = Ranked(&entry);
            let name = &sim.model().queues[queue as usize].name;
            let detail = format!("{item}{rank} -> {name} ({})", self.depth(queue));
            self.emit_depth("put", detail, queue);
        }
        self.set_var(sym::ITEM, entry.item);
    }

    /// `queue.put_nowait(item)`: the item goes in, or `QueueFull` (or
    /// `QueueShutDown`).
    pub(super) fn put_nowait(&mut self, queue: QueueId, entry: Entry) -> Result<(), Raise> {
        if self.sim.queue_is_shut_down(queue) {
            return Err(self.raise_bare(QUEUE_SHUT_DOWN));
        }
        match self.sim.try_put(queue, entry.clone()) {
            Ok(woken) => {
                self.put_in(queue, entry, woken);
                Ok(())
            }
            Err(_) => Err(self.raise_bare(QUEUE_FULL)),
        }
    }

    /// `queue.get_nowait()`: the next item, or `QueueEmpty` (`QueueShutDown`
    /// when the queue was shut down).
    pub(super) fn get_nowait(&mut self, queue: QueueId) -> Result<(), Raise> {
        match self.sim.try_get(queue) {
            Some((entry, woken)) => {
                self.took(queue, &entry, woken);
                self.got(entry);
                Ok(())
            }
            None if self.sim.queue_is_shut_down(queue) => Err(self.raise_bare(QUEUE_SHUT_DOWN)),
            None => Err(self.raise_bare(QUEUE_EMPTY)),
        }
    }

    /// `await queue.get()`: the next item (by the queue's kind) at once
    /// when there is one; otherwise in the line of getters.
    fn get(&mut self, queue: QueueId) -> Result<Option<Suspension>, Raise> {
        Ok(match self.take(queue)? {
            Ok(entry) => {
                self.got(entry);
                None
            }
            Err(wait) => Some(wait),
        })
    }

    /// The next item of `queue`, or a place in its line of getters;
    /// `QueueShutDown` when it is empty and shut down.
    fn take(&mut self, queue: QueueId) -> Result<Result<Entry, Suspension>, Raise> {
        let sim = self.sim.clone();
        let got = sim.try_get(queue);
        let Some((entry, woken)) = got else {
            if sim.queue_is_shut_down(queue) {
                return Err(self.raise_bare(QUEUE_SHUT_DOWN));
            }
            let waiter = sim.wait_in_line(queue, Side::Get, self.id);
            sim.set_waiting(self.id, Waiting::Get(queue));
            return Ok(Err(queue_wait(queue, waiter, Line::Item)));
        };
        self.took(queue, &entry, woken);
        Ok(Ok(entry))
    }

    /// An item came out of `queue`: the putter it wakes, and the trace.
    fn took(&self, queue: QueueId, entry: &Entry, woken: Option<TaskId>) {
        let sim = &self.sim;
        if let Some(t) = woken {
            sim.wake(t);
        }
        if sim.tracing() {
            let name = &sim.model().queues[queue as usize].name;
            let (item, rank) = (Repr(&entry.item), Ranked(entry));
            let detail = format!("{item}{rank} <- {name} ({})", self.depth(queue));
            self.emit_depth("get", detail, queue);
        }
    }

    /// `await task`: its result at once if it is done; otherwise a wait for
    /// its end.
    fn await_member(&mut self, m: Member) -> Result<Option<Suspension>, Raise> {
        let sim = &self.sim;
        if sim.state(m) == State::Pending {
            sim.add_callback(m, Callback::Wake(self.id));
            sim.set_waiting(self.id, Waiting::Member(m));
            return Ok(Some(Suspension::Member(m)));
        }
        let value = sim.retrieve(m).expect("finished")?;
        self.set_var(sym::RESULT, value);
        Ok(None)
    }

    /// `asyncio.gather(...)`: its result at once if it is decided;
    /// otherwise a wait for it. `by_await`: an `await` of several.
    fn gather(
        &mut self,
        members: Vec<Member>,
        return_exceptions: bool,
        by_await: bool,
    ) -> Result<Option<Suspension>, Raise> {
        match self.begin_gather(members, return_exceptions) {
            Ok(decided) => {
                let value = self.shallow(decided?, gather_name(by_await));
                self.set_var(sym::RESULT, value);
                Ok(None)
            }
            Err(g) => {
                self.sim.set_waiting(self.id, Waiting::Gather(g.clone()));
                Ok(Some(Suspension::Gather { g, by_await }))
            }
        }
    }

    /// `await queue.join()`: at once when no item is unfinished.
    fn join(&mut self, queue: QueueId) -> Option<Suspension> {
        let sim = &self.sim;
        if sim.unfinished(queue) == 0 {
            return None;
        }
        let waiter = Waiter::new(self.id);
        sim.add_joiner(queue, waiter.clone());
        sim.set_waiting(self.id, Waiting::Join(queue));
        Some(queue_wait(queue, waiter, Line::Drained))
    }

    /// A condition's wait over (notified, or `cancelled`): the lock again,
    /// now or after a wait in its line.
    fn after_condition_wait(
        &self,
        cond: crate::model::CondId,
        cancelled: Option<Raise>,
        until: bool,
    ) -> Result<Resume, Raise> {
        match self.lock_again(cond, cancelled.clone(), until) {
            Some(wait) => Ok(Resume::Then(wait)),
            None => self.condition_waited(cond, cancelled, until),
        }
    }

    /// The lock held again: `wait()` returns `True`, `wait_for` checks its
    /// predicate again (its instruction runs again), or the cancellation
    /// raises.
    fn condition_waited(
        &self,
        cond: crate::model::CondId,
        cancelled: Option<Raise>,
        until: bool,
    ) -> Result<Resume, Raise> {
        self.lock_regained(cond, cancelled)?;
        Ok(match until {
            true => Resume::Again(None),
            false => Resume::Result(Value::Bool(true)),
        })
    }

    /// `asyncio.as_completed(targets, timeout=...)`: a done callback on
    /// each distinct awaitable (scheduled at once for one already done, in
    /// the order named), and the timeout's timer.
    fn as_completed(
        &mut self,
        targets: &[crate::model::Target],
        timeout: Option<u64>,
    ) -> Rc<AsCompleted> {
        let mut seen = std::collections::BTreeSet::new();
        let members: Rc<[Member]> = targets
            .iter()
            .flat_map(|t| self.resolve(t))
            .filter(|m| {
                seen.insert(match *m {
                    Member::Task(t) => (0, t),
                    Member::Future(f) => (1, f),
                })
            })
            .collect();
        let it = Rc::new(AsCompleted::new(members.clone()));
        let sim = &self.sim;
        for &m in members.iter() {
            sim.add_callback(m, Callback::Completed(it.clone(), m));
        }
        if let Some(after) = timeout
            && !members.is_empty()
        {
            let key = sim.set_timer(after, TimerAction::Completed(it.clone(), self.id));
            it.set_timer(key);
        }
        it
    }

    /// `await event.wait()`: `True` at once, without yielding, when the
    /// event is set; otherwise a wait for its `set`.
    fn wait_event(&mut self, e: crate::model::EventId) -> Option<Suspension> {
        let sim = self.sim.clone();
        if sim.event_is_set(e) {
            self.set_var(sym::RESULT, Value::Bool(true));
            return None;
        }
        if sim.tracing() {
            let name = &sim.model().events[e as usize].name;
            self.emit("wait", format!("for event {name}"));
        }
        let waiter = sim.wait_event(e, self.id);
        sim.set_waiting(self.id, Waiting::Event(e, waiter.clone()));
        Some(Suspension::Event(waiter))
    }

    /// `await barrier.wait()` (`stage`: a notified waiter at that stage,
    /// looking again): its index when it passes, `BrokenBarrierError` when
    /// the barrier is broken (or resets) under it, or a wait to be notified.
    fn pass_barrier(&self, b: BarrierId, stage: Option<Stage>) -> Result<Resume, Raise> {
        let sim = &self.sim;
        let (passage, woken) = sim.pass_barrier(b, self.id, stage);
        let name = || &sim.model().barriers[b as usize].name;
        match passage {
            Passage::Through(index) => {
                if sim.tracing() {
                    // Through at once (not after a wait inside): it filled
                    // the barrier, and released those in it.
                    let filled = !matches!(stage, Some(Stage::Inside(_)));
                    let releasing = match woken {
                        _ if !filled => String::new(),
                        0 => String::new(),
                        1 => ", releasing 1 waiter".into(),
                        n => format!(", releasing {n} waiters"),
                    };
                    self.emit(
                        "passed",
                        format!("barrier {}, index {index}{releasing}", name()),
                    );
                }
                Ok(Resume::Result(Value::Int(index as i64)))
            }
            Passage::Broken(message) => Err(self.raise(BROKEN_BARRIER_ERROR, message)),
            Passage::Waits(waiter, now) => {
                if sim.tracing() && stage != Some(now) {
                    let (n, parties, state) =
                        sim.barrier(b, |x| (x.n_waiting(), x.parties(), x.state()));
                    let detail = match now {
                        Stage::Inside(_) => format!("at barrier {} ({n} of {parties})", name()),
                        Stage::Outside => format!("at barrier {} (it is {state})", name()),
                    };
                    self.emit("wait", detail);
                }
                sim.set_waiting(self.id, Waiting::Barrier(b, waiter.clone()));
                let wait = BarrierWait {
                    barrier: b,
                    waiter,
                    stage: now,
                };
                Ok(Resume::Then(Suspension::Barrier(Box::new(wait))))
            }
        }
    }

    /// `wait_for` in 3.12 and later, on what is not done yet: an open
    /// timeout around an await (through a shield, whose outer future is
    /// set a turn after the task).
    fn wait_for(
        &self,
        scope: crate::task::TimeoutScope,
        member: Member,
        timeout: u64,
        shield: bool,
    ) -> Suspension {
        let sim = &self.sim;
        let shield = shield.then(|| {
            let waiter = Waiter::new(self.id);
            sim.add_callback(member, Callback::Release(waiter.clone(), 0));
            let on = Waiting::on("a shielded task", Rc::new([member]));
            sim.set_waiting(self.id, on);
            waiter
        });
        if shield.is_none() {
            sim.add_callback(member, Callback::Wake(self.id));
            sim.set_waiting(self.id, Waiting::Member(member));
        }
        Suspension::WaitFor(Box::new(WaitingFor {
            scope,
            timeout,
            member,
            shield,
        }))
    }

    /// `wait_for` in 3.11: its waiter is released by its timer (`key`,
    /// set already) or by what it awaits, a turn later through a shield
    /// (of a task not yet done: of a done one, `shield` is the task).
    fn wait_for_timer(
        &self,
        waiter: Rc<Waiter>,
        key: crate::clock::TimerKey,
        member: Member,
        timeout: u64,
        shield: bool,
    ) -> Suspension {
        let sim = &self.sim;
        let shield = shield && sim.state(member) == State::Pending;
        sim.add_callback(member, Callback::Release(waiter.clone(), shield as u8));
        sim.set_waiting(self.id, Waiting::on("wait_for", Rc::new([member])));
        Suspension::WaitForTimer(Box::new(WaitForTimer {
            waiter,
            key,
            member,
            shield,
            timeout,
        }))
    }

    /// `wait_for`'s `_cancel_and_wait`: `member` is cancelled and waited
    /// for, or, if shielded, only the shield's own future is (the task runs
    /// on): its done callbacks are queued, and `_release_waiter` among them
    /// wakes this task a turn later. `interrupted`: this task was cancelled
    /// meanwhile.
    fn cancel_wait(
        &self,
        member: Member,
        shield: bool,
        timeout: u64,
        interrupted: bool,
    ) -> Suspension {
        let sim = &self.sim;
        let waiter = Waiter::new(self.id);
        let on = if shield {
            // The shield's own callback runs first, and leaves its reader
            // on the task only if the task is done by then.
            sim.schedule(Callback::ShieldUnhook(member));
            sim.schedule(Callback::Release(waiter.clone(), 0));
            Waiting::on("a cancelled shield", Rc::new([member]))
        } else {
            sim.add_callback(member, Callback::Release(waiter.clone(), 0));
            self.cancel_member(member, None);
            Waiting::on("a cancelled task to finish", Rc::new([member]))
        };
        sim.set_waiting(self.id, on);
        Suspension::CancelWait(Box::new(CancelWait {
            waiter,
            member,
            shield,
            timeout,
            interrupted,
        }))
    }

    /// What a wait came to, following the waits it leads to; the wait
    /// itself while it goes on.
    fn settled(&mut self, mut wait: Suspension) -> Result<Result<Resume, Raise>, Suspension> {
        loop {
            match self.woken(&wait) {
                None => return Err(wait),
                Some(Ok(Resume::Then(next))) => wait = next,
                Some(r) => return Ok(r),
            }
        }
    }

    /// A queue waiter cancelled leaves the line and passes a wakeup it had on.
    fn leave_line(&self, queue: QueueId, side: Side, waiter: &std::rc::Rc<Waiter>) {
        let sim = &self.sim;
        let next = sim.leave_line(queue, side, waiter);
        if let Some(t) = next {
            sim.wake(t);
        }
    }

    /// The one wake-up check every waiting state makes: a cancel asked
    /// of the task wins (and is taken), else `ready` says whether what it
    /// waits for has come; `None` while it still waits.
    fn cancelled_or(&self, ready: impl FnOnce() -> bool) -> Option<Result<(), Raise>> {
        if let Some(raise) = self.sim.take_cancel(self.id) {
            Some(Err(raise))
        } else if ready() {
            Some(Ok(()))
        } else {
            None
        }
    }

    /// Whether what a task waits for came: `None` while it waits.
    fn woken(&self, wait: &Suspension) -> Option<Result<Resume, Raise>> {
        let (sim, id) = (&self.sim, self.id);
        let r = match wait {
            Suspension::Frozen => return None,
            Suspension::Turn => self.cancelled_or(|| true)?,
            Suspension::Timer(key) => {
                let r = self.cancelled_or(|| !sim.timer_pending(*key))?;
                if r.is_err() {
                    sim.cancel_timer(*key);
                }
                r
            }
            Suspension::Permit(sem) => {
                let r = self.cancelled_or(|| sim.is_granted(*sem, id))?;
                sim.set_waiting(id, Waiting::Nothing);
                self.permit_waited(*sem, r.is_ok());
                return Some(r.map(|()| Resume::Next));
            }
            Suspension::Member(m) => {
                let r = self.cancelled_or(|| sim.state(*m) != State::Pending)?;
                sim.set_waiting(id, Waiting::Nothing);
                if let Err(raise) = r {
                    // Done already, its `__wakeup` is on its way and reads
                    // it (`future.result()`) before the cancellation lands.
                    sim.mark_retrieved(*m);
                    sim.remove_callback(*m, &Callback::Wake(id));
                    return Some(Err(raise));
                }
                let outcome = sim.retrieve(*m).expect("finished");
                return Some(outcome.map(Resume::Result));
            }
            Suspension::Completed(waiter) => {
                let r = if let Some(raise) = sim.take_cancel(id) {
                    // `done.get()` is cancelled (a later end passes it
                    // over); the ends queued stay.
                    waiter.done.set(true);
                    Err(raise)
                } else if waiter.done.get() {
                    Ok(Resume::Again(None))
                } else {
                    return None;
                };
                sim.set_waiting(id, Waiting::Nothing);
                return Some(r);
            }
            Suspension::Thread(work) => {
                let r = if let Some(raise) = sim.take_cancel(id) {
                    // Its future is cancelled (asyncio's `_call_check_cancel`
                    // runs just before this wakeup): work no worker has
                    // taken is cancelled too; work under way goes on.
                    work.done.set(true);
                    sim.cancel_work(work);
                    Err(raise)
                } else if work.done.get() {
                    match work.outcome.borrow_mut().take() {
                        Some(Ok(v)) => Ok(Resume::Result(v)),
                        Some(Err(e)) => Err(e),
                        None => Ok(Resume::Result(Value::None)),
                    }
                } else {
                    return None;
                };
                sim.set_waiting(id, Waiting::Nothing);
                return Some(r);
            }
            Suspension::Event(waiter) => {
                let r = if let Some(raise) = sim.take_cancel(id) {
                    // Its future is cancelled: a later `set` passes it over.
                    waiter.done.set(true);
                    Err(raise)
                } else if waiter.done.get() {
                    Ok(Resume::Result(Value::Bool(true)))
                } else {
                    return None;
                };
                sim.set_waiting(id, Waiting::Nothing);
                return Some(r);
            }
            Suspension::Barrier(w) => {
                if let Some(raise) = sim.take_cancel(id) {
                    // It leaves the line (and the barrier, if it was in);
                    // 3.13's `Condition.wait` notifies the next waiter.
                    let next = sim.model().python.condition_passes_notify_on();
                    sim.change_barrier(w.barrier, |b, woken| {
                        b.cancelled(&w.waiter, w.stage, next, woken)
                    });
                    sim.set_waiting(id, Waiting::Nothing);
                    return Some(Err(raise));
                }
                if !w.waiter.done.get() {
                    return None;
                }
                sim.set_waiting(id, Waiting::Nothing);
                return Some(self.pass_barrier(w.barrier, Some(w.stage)));
            }
            Suspension::Condition {
                cond,
                waiter,
                until,
            } => {
                let cancelled = sim.take_cancel(id);
                if cancelled.is_some() {
                    // Its future is cancelled: a later notify passes it over.
                    waiter.done.set(true);
                } else if !waiter.done.get() {
                    return None;
                }
                sim.set_waiting(id, Waiting::Nothing);
                return Some(self.after_condition_wait(*cond, cancelled, *until));
            }
            Suspension::Reacquire {
                cond,
                cancelled,
                until,
            } => {
                let lock = sim.model().conditions[*cond as usize].lock;
                let r = self.cancelled_or(|| sim.is_granted(lock, id))?;
                sim.set_waiting(id, Waiting::Nothing);
                self.permit_waited(lock, r.is_ok());
                return Some(match r {
                    // CPython's loop tries again, at the end of the line;
                    // 3.13 raises that latest `CancelledError` in the end,
                    // 3.11 and 3.12 a new one.
                    Err(raise) => {
                        let raise = match sim.model().python.condition_passes_notify_on() {
                            true => raise,
                            false => Raise::Cancelled(None),
                        };
                        self.after_condition_wait(*cond, Some(raise), *until)
                    }
                    Ok(()) => self.condition_waited(*cond, cancelled.as_deref().cloned(), *until),
                });
            }
            Suspension::Gather { g, by_await } => {
                let r = self.cancelled_or(|| g.result.borrow().is_some())?;
                sim.set_waiting(id, Waiting::Nothing);
                let result = gathered(g);
                if let Err(raise) = r {
                    return Some(Err(raise));
                }
                let name = gather_name(*by_await);
                return Some(result.map(|v| Resume::Result(self.shallow(v, name))));
            }
            Suspension::WaitFor(wf) => {
                let ready = match &wf.shield {
                    Some(waiter) => waiter.done.get(),
                    None => sim.state(wf.member) != State::Pending,
                };
                let r = self.cancelled_or(|| ready)?;
                sim.set_waiting(id, Waiting::Nothing);
                let cb = match &wf.shield {
                    Some(waiter) => {
                        waiter.done.set(true);
                        Callback::Release(waiter.clone(), 0)
                    }
                    None => Callback::Wake(id),
                };
                let outcome = match r {
                    Ok(()) => sim.retrieve(wf.member).expect("finished"),
                    Err(raise) => {
                        if sim.model().python.wait_for_is_a_timeout() {
                            // 3.12+: an `await` inside a timeout, whose
                            // `__wakeup` reads what it awaited.
                            sim.mark_retrieved(wf.member);
                        }

                        sim.remove_callback(wf.member, &cb);
                        Err(raise)
                    }
                };
                let closed = self.close_wait_for(wf.scope.clone(), wf.timeout, wf.member, outcome);
                return Some(closed.map(Resume::Result));
            }
            Suspension::WaitForTimer(w) => {
                let r = self.cancelled_or(|| w.waiter.done.get())?;
                sim.set_waiting(id, Waiting::Nothing);
                // Cancelled, the waiter future is done too: the awaited
                // task's callback, if already queued, wakes nobody.
                w.waiter.done.set(true);
                sim.cancel_timer(w.key);
                // What it awaits is done: the task, or a shield's outer
                // future, set one turn after the task finished.
                let done = match w.shield {
                    true => w.waiter.hops.get() > 0,
                    false => sim.state(w.member) != State::Pending,
                };
                if done {
                    let outcome = sim.retrieve(w.member).expect("finished");
                    return Some(outcome.map(Resume::Result));
                }
                let cb = Callback::Release(w.waiter.clone(), w.shield as u8);
                sim.remove_callback(w.member, &cb);
                let next = self.cancel_wait(w.member, w.shield, w.timeout, r.is_err());
                return Some(Ok(Resume::Then(next)));
            }
            Suspension::CancelWait(c) => {
                let r = self.cancelled_or(|| c.waiter.done.get())?;
                sim.set_waiting(id, Waiting::Nothing);
                // Cancelled, the waiter is done too: its queued
                // `_release_waiter` finds it so and wakes nobody.
                c.waiter.done.set(true);
                if !c.shield {
                    sim.remove_callback(c.member, &Callback::Release(c.waiter.clone(), 0));
                }
                if let Err(raise) = r {
                    return Some(Err(raise));
                }
                if c.interrupted {
                    return Some(Err(Raise::Cancelled(None)));
                }
                if sim.tracing() {
                    let what = self.member_name(c.member);
                    let after = crate::duration::format(c.timeout);
                    self.emit(
                        "timeout",
                        format!("wait_for {what} timed out after {after}"),
                    );
                }
                // `return fut.result()` once cancelled reads the task; through
                // a shield, 3.12+ read it only by the shield's own callback
                // (`Callback::ShieldUnhook`), 3.11 if it ended by now.
                if !c.shield {
                    sim.mark_retrieved(c.member);
                }
                let outcome = match sim.outcome(c.member) {
                    // The shield's own future was cancelled, whatever its task did.
                    _ if c.shield => Err(Raise::Timeout),
                    Some(Err(Raise::Cancelled(_))) | None => Err(Raise::Timeout),
                    Some(other) => other,
                };
                return Some(outcome.map(Resume::Result));
            }
            Suspension::Wait(set) => {
                let r = self.cancelled_or(|| set.w.waiter.done.get())?;
                sim.set_waiting(id, Waiting::Nothing);
                self.end_wait(&set.w, &set.members);
                let waited = Resume::Waited(set.members.clone(), set.cancel_pending);
                return Some(r.map(|()| waited));
            }
            Suspension::Group(group) => {
                let waiter = group.on_completed.borrow().clone();
                let waiter = waiter.expect("a group's exit waits on its future");
                let r = self.cancelled_or(|| waiter.done.get())?;
                sim.set_waiting(id, Waiting::Nothing);
                waiter.done.set(true);
                *group.on_completed.borrow_mut() = None;
                if let Err(raise) = r {
                    self.group_exit_cancelled(group, raise);
                }
                // The exit looks again at what is left.
                return Some(Ok(Resume::Again(None)));
            }
            Suspension::Upstream(set) => {
                // Decided now, or another wait: the upstream op again.
                let r = self
                    .cancelled_or(|| set.w.waiter.done.get())?
                    .map(|()| Resume::Again(None));
                sim.set_waiting(id, Waiting::Nothing);
                self.end_wait(&set.w, &set.members);
                return Some(r);
            }
            Suspension::Queue(wait) => {
                let QueueWait {
                    queue,
                    waiter,
                    line,
                } = &**wait;
                let r = self
                    .cancelled_or(|| waiter.done.get())?
                    .map(|()| match line {
                        Line::Item => Resume::Again(None),
                        Line::Room(entry) => Resume::Again(Some(entry.clone())),
                        Line::Drained => Resume::Next,
                    });
                sim.set_waiting(id, Waiting::Nothing);
                match line {
                    Line::Item if r.is_err() => self.leave_line(*queue, Side::Get, waiter),
                    Line::Room(_) if r.is_err() => self.leave_line(*queue, Side::Put, waiter),
                    Line::Item | Line::Room(_) => {}
                    Line::Drained => {
                        sim.remove_joiner(*queue, waiter);
                        if r.is_ok() && sim.tracing() {
                            let name = &sim.model().queues[*queue as usize].name;
                            self.emit("join", format!("every item of {name} is done"));
                        }
                    }
                }
                return Some(r);
            }
        };
        sim.set_waiting(id, Waiting::Nothing);
        Some(r.map(|()| Resume::Next))
    }

    /// Carries what ended a block at instruction `pc` out through the
    /// regions around it, innermost first, as Python's nested blocks
    /// would: a permit is given back (its error replacing the ending), a
    /// timeout closed (a cancellation it caused becoming `TimeoutError`), a
    /// loop's turn ended (a `break` stops there), a `try` catches into its
    /// `except` or runs its `finally` first. Where the task goes on, or how
    /// it ends.
    fn complete<'a>(
        &mut self,
        sim: &'a Sim,
        program: &mut &'a Program,
        mut pc: u32,
        mut ending: Completion,
        blocks: &mut Blocks,
    ) -> Result<u32, Outcome> {
        loop {
            ending = match self.out_of_regions(program, pc, ending, blocks) {
                Ok(next) => return Ok(next),
                Err(ending) => ending,
            };
            if !blocks.in_call() {
                return Err(match ending {
                    Ok(Flow::Return(v)) => Ok(v),
                    Ok(Flow::Next | Flow::Break) => Ok(Value::None),
                    Err(raise) => Err(raise),
                });
            }
            // Out of called steps: their `return` is the call's result, and
            // what they raised goes on from the `call`.
            let at = self.return_from_call(sim, program, blocks);
            match ending {
                Ok(Flow::Return(v)) => {
                    self.set_var(sym::RESULT, v);
                    return Ok(at + 1);
                }
                Ok(Flow::Next | Flow::Break) => {
                    self.set_var(sym::RESULT, Value::None);
                    return Ok(at + 1);
                }
                Err(_) => pc = at,
            }
        }
    }

    /// The called steps end: their variables go, the caller's beginning
    /// comes back, and so does the program it runs. Where it called from.
    fn return_from_call<'a>(
        &mut self,
        sim: &'a Sim,
        program: &mut &'a Program,
        blocks: &mut Blocks,
    ) -> u32 {
        let call = blocks.rest().calls.pop().expect("in a call");
        self.vars.truncate(call.mark);
        self.handles.truncate(call.hmark);
        self.hmark = blocks.call().map_or(0, |c| c.hmark);
        (self.frame_start, self.called) = (call.outer_began, call.outer_called);
        *program = match blocks.call() {
            Some(outer) => sim.body(outer.callee),
            None => {
                let def = sim.def_of(self.id);
                sim.program(def)
            }
        };
        call.at
    }

    /// Carries an ending at `pc` out through the regions of `program` around
    /// it (see [`Ctx::complete`]): where the task goes on when a region
    /// stops it, or the ending once it is out of them all.
    fn out_of_regions(
        &mut self,
        program: &Program,
        mut pc: u32,
        mut ending: Completion,
        blocks: &mut Blocks,
    ) -> Result<u32, Completion> {
        while let Some(region) = program.region_around(pc) {
            match &region.kind {
                RegionKind::Permit(sem) => match self.sim.take_preempted(self.obj(*sem), self.id) {
                    // It lost its permit: nothing to give back, and the
                    // cancellation that told it so becomes `Preempted`.
                    Some(by) => {
                        if let Err(Raise::Cancelled(_)) = ending {
                            self.sim.uncancel(self.id);
                            let message = format!("preempted by priority {}", by.to_value());
                            ending = Err(self.raise(PREEMPTED, &message));
                        }
                    }
                    None => {
                        if let Err(raise) = self.release(self.obj(*sem)) {
                            ending = Err(raise);
                        }
                    }
                },
                RegionKind::Timeout(says) => {
                    let scope = blocks.rest().timeouts.pop().expect("an open timeout");
                    let Op::CloseTimeout { after, .. } = program.ops[region.to as usize] else {
                        unreachable!("a timeout's region ends where it closes")
                    };
                    ending = self.close_timeout(scope, ending, || says.text(after));
                }
                RegionKind::Loop => {
                    let t = blocks.loops.pop().expect("in a loop");
                    self.end_turn(&t);
                    if let Ok(Flow::Break) = ending {
                        if let Over::Queue { queue, .. } = t.over {
                            // The item of the turn it broke out of is done too.
                            if let Err(raise) = self.task_done(queue) {
                                ending = Err(raise);
                                pc = region.from;
                                continue;
                            }
                        }
                        return Ok(region.to + 1);
                    }
                }
                RegionKind::Attempts => {
                    if let Err(failure) = &ending
                        && retried(
                            &self.sim.model().classes,
                            program.retry.as_ref(),
                            blocks.rest().attempt,
                            failure,
                        )
                        .is_some()
                    {
                        blocks.rest().pending.push(ending);
                        return Ok(region.to + 1);
                    }
                }
                RegionKind::Group => {
                    // To its exit, which waits for the children first.
                    let (_, ended) = blocks.rest().groups.last_mut().expect("in a group");
                    *ended = Some(ending);
                    return Ok(region.to);
                }
                RegionKind::Try {
                    body_end,
                    except_end,
                    catch,
                    star,
                } => {
                    if pc > *except_end {
                        // Out of its `finally`: this ending replaces the one
                        // the `finally` was run for.
                        blocks.rest().pending.pop();
                    } else {
                        if pc > *body_end {
                            // Out of its `except`: it handles nothing now.
                            blocks.rest().handling.pop();
                            if *star {
                                let rest = blocks.rest().star_rest.pop().flatten();
                                ending = self.star_raised(ending, rest);
                            }
                        } else if pc < *body_end
                            && let Err(raise) = &ending
                        {
                            let caught = match star {
                                true => self.star_split(catch, raise),
                                false => catches(&self.sim.model().classes, catch, raise)
                                    .then(|| (raise.clone(), None)),
                            };
                            if let Some((caught, rest)) = caught {
                                if *star {
                                    blocks.rest().star_rest.push(rest);
                                }
                                self.set_var(sym::ERROR, caught.to_value());
                                if self.sim.tracing() {
                                    self.emit("caught", caught.message().to_string());
                                }
                                blocks.rest().handling.push(caught);
                                return Ok(body_end + 1);
                            }
                        }
                        blocks.rest().pending.push(ending);
                        return Ok(except_end + 1);
                    }
                }
            }
            pc = region.from;
        }
        Err(ending)
    }
}

/// A wait in one of `queue`'s lines.
fn queue_wait(queue: QueueId, waiter: Rc<Waiter>, line: Line) -> Suspension {
    Suspension::Queue(Box::new(QueueWait {
        queue,
        waiter,
        line,
    }))
}

/// What a gather's result is called in a message about its size.
fn gather_name(by_await: bool) -> &'static str {
    match by_await {
        true => "await",
        false => "gather",
    }
}
