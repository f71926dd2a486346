//! Plain tasks: a task whose body is simple runs as a small step machine in
//! the ready queue instead of a future, so a million of them stay small.
//!
//! A definition is plain when it has no upstream, retry, timeout or deadline,
//! and its steps are simple ([`Step::is_simple`]), `acquire`, or `with`
//! blocks of such steps; `limit` counts as a `with` around the body. Its
//! steps are compiled once into a flat [`Program`]: a `with` becomes an
//! acquire, its steps and a release, with a [`Scope`] saying which permits
//! are held where, so that an error, a cancellation or a `return` releases
//! them innermost first, as the nested `async with` blocks would.
//!
//! The steps run through the same [`Ctx::simple`], `acquire` and `release`
//! code as a future's; only the waits differ in form, not in order. Tests run
//! every scenario both ways and compare the traces. A scenario with a
//! `block` step runs every task as a future: seeing whom a block delayed
//! takes the wakers that `blocking.rs` wraps.

use std::rc::Rc;

use super::{Actor, Ctx, Flow, Then, begin, end, started};
use crate::model::{SemId, sym};
use crate::program::{Frame, Op, PlainWait, Program, UNSTARTED};
use crate::runtime::{Driver, Outcome, Raise, Sim, TaskId, TimerAction, Turn, Waiting};
use crate::value::Value;

/// Where a plain task's turn left it.
enum Left {
    Waiting(u32, PlainWait),
    Ended(Outcome),
    /// Cancelled before it started: already over.
    Over,
}

/// One turn of a plain task: from where it waited, until it waits again or ends.
pub(crate) fn resume(sim: &Rc<Sim>, id: TaskId) {
    let (def, frame_start, pc, wait, mut frame, draws) = {
        let mut tasks = sim.tasks.borrow_mut();
        let slot = &mut tasks[id as usize];
        slot.turn.set(Turn::Running);
        let (def, started) = (slot.def, slot.started_at());
        let Driver::Plain(p) = &mut slot.driver else {
            unreachable!("only plain tasks resume")
        };

        let wait = std::mem::replace(&mut p.wait, PlainWait::Frozen);
        let pc = (p.pc != UNSTARTED).then_some(p.pc);
        (def, started, pc, wait, p.frame.take(), p.draws)
    };
    let (vars, handles) = match &mut frame {
        Some(f) => (std::mem::take(&mut f.vars), std::mem::take(&mut f.handles)),
        None => (Vec::new(), Vec::new()),
    };
    let mut ctx = Ctx {
        sim: sim.clone(),
        id,
        actor: Actor::Task(id),
        vars,
        handles,
        rng: None,
        rng_skip: draws as u64,
        frame_start: frame_start.unwrap_or_else(|| sim.now()),
        called: None,
    };
    let program = sim.program(def).expect("a plain task has a program");
    match ctx.plain_turn(program, pc, wait) {
        Left::Waiting(pc, wait) => {
            let mut tasks = sim.tasks.borrow_mut();
            let Driver::Plain(p) = &mut tasks[id as usize].driver else {
                unreachable!("only plain tasks resume")
            };
            (p.pc, p.wait) = (pc, wait);
            p.frame = match frame {
                // The box it had, refilled: no allocation per turn.
                Some(mut f) => {
                    (f.vars, f.handles) = (ctx.vars, ctx.handles);
                    Some(f)
                }
                None => Frame::keep(ctx.vars, ctx.handles),
            };
            if let Some(rng) = &ctx.rng {
                p.draws = rng.drawn() as u32;
            }
        }
        Left::Ended(outcome) => end(sim, id, outcome),
        Left::Over => {}
    }
    sim.end_turn(id);
}

impl Ctx {
    /// Runs a plain task from instruction `pc`, once what it waited for came,
    /// until it waits again or ends: the steps of [`Ctx::body`], the waits of
    /// [`Ctx::sleep`] and [`Ctx::acquire`].
    fn plain_turn(&mut self, program: &Program, pc: Option<u32>, wait: PlainWait) -> Left {
        let mut pc = match pc {
            Some(pc) => match self.plain_woken(&wait) {
                None => return Left::Waiting(pc, wait),
                Some(Ok(())) => pc + 1,
                Some(Err(raise)) => return self.unwind(program, pc, Err(raise)),
            },
            None => {
                if !begin(&self.sim, self.id) {
                    return Left::Over;
                }
                self.frame_start = started(&self.sim, self.id, String::new());
                if program.reads_vars {
                    self.set_var(sym::ATTEMPT, Value::Int(1));
                }
                0
            }
        };
        loop {
            let Some(op) = program.ops.get(pc as usize) else {
                return Left::Ended(Ok(Value::None));
            };
            if op.counts() && !self.sim.count_step(self.id) {
                return Left::Waiting(pc, PlainWait::Frozen);
            }
            let wait = match op {
                Op::Step(step) => match self.simple(step) {
                    Ok(Then::Flow(Flow::Next)) => None,
                    Ok(Then::Flow(Flow::Return(v))) => return self.unwind(program, pc, Ok(v)),
                    Ok(Then::Flow(Flow::Break)) => {
                        return self.unwind(program, pc, Ok(Value::None));
                    }
                    Ok(Then::Sleep(ns)) => Some(self.plain_sleep(ns)),
                    Err(raise) => return self.unwind(program, pc, Err(raise)),
                },
                Op::Acquire { sem, .. } => self.plain_acquire(*sem),
                Op::Release(sem) => match self.release(*sem) {
                    Ok(()) => None,
                    Err(raise) => return self.unwind(program, pc, Err(raise)),
                },
            };
            let Some(wait) = wait else {
                pc += 1;
                continue;
            };
            if let PlainWait::Turn = wait {
                // It woke itself: it runs again after what is queued.
                return Left::Waiting(pc, wait);
            }
            // As `suspend` does: what it waits for may have come already, or a
            // cancellation delivered while it ran ends the wait at once.
            return match self.plain_woken(&wait) {
                None => Left::Waiting(pc, wait),
                Some(Ok(())) => {
                    pc += 1;
                    continue;
                }
                Some(Err(raise)) => self.unwind(program, pc, Err(raise)),
            };
        }
    }

    /// Starts a sleep: a timer, or one turn of the loop for 0.
    fn plain_sleep(&mut self, ns: u64) -> PlainWait {
        let (sim, id) = (&self.sim, self.id);
        if ns == 0 {
            sim.set_waiting(id, Waiting::Turn);
            sim.wake(id);
            return PlainWait::Turn;
        }
        let key = sim.clock.borrow_mut().set(ns, TimerAction::Wake(id));
        sim.set_waiting(id, Waiting::Sleep(sim.now().saturating_add(ns)));
        PlainWait::Timer(key)
    }

    /// Takes a permit at once if one is free; otherwise joins the queue.
    fn plain_acquire(&mut self, sem: SemId) -> Option<PlainWait> {
        let sim = &self.sim;
        if sim.semaphores.borrow_mut()[sem as usize]
            .at(sim.now())
            .try_acquire(self.id, |t| sim.cancel_pending(t))
        {
            self.permit_event("acquired", sem);
            return None;
        }
        sim.semaphores.borrow_mut()[sem as usize]
            .at(sim.now())
            .enqueue(self.id);
        self.permit_wait_event(sem);
        sim.set_waiting(self.id, Waiting::Semaphore(sem));
        Some(PlainWait::Permit(sem))
    }

    /// Whether what a plain task waits for came: `None` while it waits.
    fn plain_woken(&self, wait: &PlainWait) -> Option<Result<(), Raise>> {
        let (sim, id) = (&self.sim, self.id);
        let r = match wait {
            PlainWait::Frozen => return None,
            PlainWait::Turn => match sim.take_cancel(id) {
                true => Err(Raise::Cancelled),
                false => Ok(()),
            },
            PlainWait::Timer(key) => {
                if sim.take_cancel(id) {
                    sim.clock.borrow_mut().cancel(*key);
                    Err(Raise::Cancelled)
                } else if sim.clock.borrow().is_pending(*key) {
                    return None;
                } else {
                    Ok(())
                }
            }
            PlainWait::Permit(sem) => {
                let r = if sim.take_cancel(id) {
                    Err(Raise::Cancelled)
                } else if sim.semaphores.borrow()[*sem as usize].is_granted(id) {
                    Ok(())
                } else {
                    return None;
                };
                sim.set_waiting(id, Waiting::Nothing);
                self.permit_waited(*sem, r.is_ok());
                return Some(r);
            }
        };
        sim.set_waiting(id, Waiting::Nothing);
        Some(r)
    }

    /// Ends the task from instruction `pc`: gives back the permits of the
    /// `with` blocks around it, innermost first, then ends with `outcome`
    /// (or with the error of a release that failed).
    fn unwind(&mut self, program: &Program, pc: u32, mut outcome: Outcome) -> Left {
        let held = program.scopes.iter().filter(|s| s.from < pc && pc < s.to);
        for scope in held {
            if let Err(raise) = self.release(scope.sem) {
                outcome = Err(raise);
            }
        }
        Left::Ended(outcome)
    }
}
