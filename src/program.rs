//! A task definition compiled: its steps flattened into instructions with
//! jumps, and a table of the regions they open (a `with`'s permit, a loop,
//! a timeout, a `try` and its handlers, a retry's attempts), innermost
//! found by position, that say what an error, a `return` or a `break` does
//! on its way out; and the state a task keeps between its turns (the
//! instruction it is on, what it waits for, its frame). Built from the
//! model alone; run by [`crate::interpreter`]'s step machine.

use std::rc::Rc;

use crate::clock::TimerKey;
use crate::exception::Exception;
use crate::model::{
    BarrierId, Bind, Catch, CondId, DefId, EventId, Predicate, QueueId, Retry, ReturnWhen, SemId,
    Step, Sym, Target, TaskDef, Trigger,
};
use crate::queue::Entry;
use crate::task::{Flow, Gather, Member, Raise, TimeoutScope, WaitState, Waiter};
use crate::task_group::TaskGroup;
use crate::template::{Expr, Start};
use crate::value::Value;

/// One instruction of a task.
#[derive(Debug)]
pub(crate) enum Op {
    /// A simple step.
    Step(Step),
    /// A bare `raise`: the exception the innermost `except` handles.
    Reraise,
    /// Take a permit, waiting for one if none is free. `step`: it stands
    /// for a step (an `acquire`, or a `with` as a whole) and counts against
    /// the step limits as one; a task's `limit` does not.
    /// `priority`: on a priority semaphore, the waiter's place in line.
    Acquire {
        sem: SemId,
        step: bool,
        priority: Option<Expr>,
    },
    /// Give a permit back (the end of a `with`); never counted as a step.
    Release(SemId),
    /// Put an item into a queue (with its priority, on a priority queue),
    /// waiting for room.
    Put {
        queue: QueueId,
        item: Expr,
        priority: Option<Expr>,
    },
    /// Take an item from a queue, waiting for one.
    Get(QueueId),
    /// Wait until every item put into the queue is marked done.
    Join(QueueId),
    /// Wait until an event is set (`await event.wait()`), at once if it is.
    WaitEvent(EventId),
    /// Wait at a barrier (`await barrier.wait()`): its index into `{result}`.
    WaitBarrier(BarrierId),
    /// `await cv.wait()`, or with a predicate `await cv.wait_for(...)`:
    /// the predicate first (and again after each wait), then a wait for a
    /// notify and the lock again.
    WaitCondition {
        cond: CondId,
        until: Option<Predicate>,
    },
    /// Enter a loop whose body follows, up to its [`Op::Next`] at `end`.
    Loop { kind: LoopKind, end: u32 },
    /// The end of the body of the loop entered at `start`: another turn
    /// from `start + 1`, or on past the loop.
    Next { start: u32 },
    /// A `consume` loop's turn begins: the next item of `queue`, waiting
    /// for one; past the loop entered at `start` if it is the sentinel.
    Take { queue: QueueId, start: u32 },
    /// An `as_completed` loop's `result = await next`: the next awaitable
    /// to end (its result, or its error), or a wait for it.
    NextDone,
    /// Run another definition's steps here (`call`): its program is entered
    /// with its arguments, and left at its end or its `return`.
    Call(Start),
    /// `asyncio.wait_for` of one task or future, in the form of the Python
    /// version modelled (3.12 and later: `async with timeout(t): return
    /// await x`; 3.11: a waiter released by a timer or by `x`).
    WaitFor {
        target: Target,
        timeout: u64,
        shield: bool,
    },
    /// Await a task or future, or gather several (`await`).
    Await(Target),
    /// Gather tasks and futures (`gather`).
    Gather {
        targets: Vec<Target>,
        return_exceptions: bool,
    },
    /// `asyncio.wait` on tasks and futures (`wait`).
    Wait {
        targets: Vec<Target>,
        when: ReturnWhen,
        timeout: Option<u64>,
        cancel_pending: bool,
    },
    /// Open an `asyncio.timeout` of `after` over what follows, up to its
    /// [`Op::CloseTimeout`]. `step`: a `timeout` block (a step), not a
    /// definition's `timeout` or `deadline`.
    OpenTimeout { after: u64, step: bool, says: Says },
    /// Close the innermost open timeout (of `after`).
    CloseTimeout { after: u64, says: Says },
    /// Enter a `try` (a step): its body follows.
    Try,
    /// Enter `async with asyncio.TaskGroup() as NAME:` (a step): its body
    /// follows, up to its [`Op::ExitGroup`].
    EnterGroup(Sym),
    /// The group's `__aexit__`, entered at `at`: it waits for the children,
    /// then goes on with what ended the body, or raises what the group
    /// raises.
    ExitGroup { at: u32 },
    /// `NAME.create_task(...)` into a task group the step is inside.
    CreateTask { start: Start, bind: Bind },
    /// The end of a `try`'s body: on to its `finally`, at `finally`.
    EndBody { finally: u32 },
    /// The end of a `try`'s `except`: on to its `finally` (an `except*`
    /// raises there what it did not take).
    EndExcept { star: bool },
    /// The end of a `try`'s `finally` (entered at `at`): on with what ended
    /// its body or `except` (after the `try`, or on out).
    EndFinally { at: u32 },
    /// A task that runs `after` others waits until its trigger rule over
    /// them is decided, then starts (or is skipped).
    Upstream { after: Vec<DefId>, trigger: Trigger },
    /// An attempt of a task that retries begins (the first keeps the
    /// task's arguments for the others).
    Attempt,
    /// An attempt ended without raising: past the [`Op::Backoff`] and the
    /// [`Op::Restart`] that follow.
    EndAttempt,
    /// A failed attempt that is tried again: the wait before the next.
    Backoff,
    /// The next attempt, from the [`Op::Attempt`] at `at`, with the task's
    /// arguments as they were at the first.
    Restart { at: u32 },
}

/// Which timeout a trace line says expired.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Says {
    /// A `timeout` block.
    Block,
    /// A `timeout_at` block: its `after` is an instant, from the run's start.
    At,
    /// A definition's `timeout`, over each attempt.
    Attempt,
    /// A definition's `deadline`, over its whole run.
    Deadline,
}

impl Says {
    /// The trace's words for the timeout of `after` that expired.
    pub(crate) fn text(self, after: u64) -> String {
        let after = crate::duration::format(after);
        match self {
            Says::Block => format!("timeout block expired after {after}"),
            Says::At => format!("timeout_at {after} passed"),
            Says::Attempt => format!("timed out after {after}"),
            Says::Deadline => format!("deadline of {after} passed"),
        }
    }
}

/// What ended a block: how it ended, or what it raised.
pub(crate) type Completion = Result<Flow, Raise>;

/// What a loop turns over.
#[derive(Debug)]
pub(crate) enum LoopKind {
    /// `repeat = N`; `None`: `forever`.
    Times(Option<u32>),
    /// `for = VAR, in = ITEMS`.
    Items { var: Sym, items: Expr },
    /// `consume = QUEUE, until = SENTINEL`: each item, marked done after
    /// its turn; its body is after an [`Op::Take`].
    Consume { queue: QueueId, until: Option<Expr> },
    /// `each = HANDLE, as = VAR`: each task or future of a handle, named
    /// `VAR` in its turn.
    Each { handle: Target, var: Sym },
    /// `as_completed = TARGETS, timeout = T`: a turn per distinct awaitable,
    /// in the order they end; its body is after an [`Op::NextDone`].
    Completed {
        targets: Vec<Target>,
        timeout: Option<u64>,
    },
}

impl Op {
    /// Whether running it counts as a step against the step limits (each
    /// step written counts once; the instructions that open and close
    /// blocks around it do not).
    pub(crate) fn counts(&self) -> bool {
        match self {
            Op::Step(_)
            | Op::Put { .. }
            | Op::Get(_)
            | Op::Join(_)
            | Op::WaitEvent(_)
            | Op::WaitBarrier(_)
            | Op::WaitCondition { .. }
            | Op::Loop { .. }
            | Op::Await(_)
            | Op::Gather { .. }
            | Op::Wait { .. }
            | Op::WaitFor { .. }
            | Op::Call(_)
            | Op::CreateTask { .. }
            | Op::EnterGroup(_)
            | Op::Reraise => true,
            Op::Acquire { step, .. } | Op::OpenTimeout { step, .. } => *step,
            Op::Try => true,
            Op::Release(_)
            | Op::Next { .. }
            | Op::Take { .. }
            | Op::NextDone
            | Op::CloseTimeout { .. }
            | Op::EndBody { .. }
            | Op::EndExcept { .. }
            | Op::ExitGroup { .. }
            | Op::EndFinally { .. }
            | Op::Upstream { .. }
            | Op::Attempt
            | Op::EndAttempt
            | Op::Backoff
            | Op::Restart { .. } => false,
        }
    }
}

/// A block that something leaving it must close: from the instruction
/// that opens it, at `from`, to the one that ends it, at `to`. Regions nest;
/// the instructions strictly between `from` and `to` are inside.
#[derive(Debug)]
pub(crate) struct Region {
    pub(crate) from: u32,
    pub(crate) to: u32,
    pub(crate) kind: RegionKind,
}

/// What a region does to what leaves it.
#[derive(Debug)]
pub(crate) enum RegionKind {
    /// A `with` (or `limit`) holds a permit: it gives it back.
    Permit(SemId),
    /// A loop: a `break` ends there; anything else ends its turn.
    Loop,
    /// An open timeout: closed, it may turn a cancellation into
    /// `TimeoutError`.
    Timeout(Says),
    /// The attempts of a task that retries: a failure it retries goes to
    /// the [`Op::Backoff`] after `to`.
    Attempts,
    /// A `try`: its body up to the [`Op::EndBody`] at `body_end`, its
    /// `except` up to the [`Op::EndExcept`] at `except_end`, then its
    /// `finally` up to `to`.
    Try {
        body_end: u32,
        except_end: u32,
        catch: Catch,
        /// Its handler is `except*`.
        star: bool,
    },
    /// A task group's block: what ends its body goes to its
    /// [`Op::ExitGroup`] at `to`, which waits for the children.
    Group,
}

/// A definition's steps, flattened.
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) ops: Vec<Op>,
    /// Per instruction: the step it was compiled from, numbered in the
    /// order [`crate::model::TaskDef::places`] lists them, or [`NO_STEP`]
    /// for what the definition itself opens (its `after`, `retry`,
    /// `deadline`, `limit` and `timeout`).
    steps: Vec<u32>,
    /// While compiling: the step being compiled, and the next step's number.
    step: u32,
    next_step: u32,
    /// Its regions, in the order they close (inner before outer).
    regions: Vec<Region>,
    /// How it retries, if it does.
    pub(crate) retry: Option<Retry>,
    /// Whether it starts with an [`Op::Upstream`] (it runs `after` others).
    pub(crate) upstream: bool,
    /// Whether its steps read variables: if not, its instances keep none.
    pub(crate) reads_vars: bool,
    /// Whether its instances have `on_done` callbacks (added at creation).
    pub(crate) on_done: bool,
}

impl Program {
    /// Compiles a definition: its steps inside the blocks its `deadline`,
    /// `retry`, `limit` and `timeout` open, after its upstream wait.
    pub(crate) fn compile(def: &TaskDef) -> Program {
        let mut program = Program {
            ops: Vec::new(),
            steps: Vec::new(),
            step: NO_STEP,
            next_step: 0,
            regions: Vec::new(),
            retry: def.retry.clone(),
            upstream: !def.after.is_empty(),
            reads_vars: def.reads_vars(),
            on_done: !def.on_done.is_empty(),
        };
        if program.upstream {
            program.emit(Op::Upstream {
                after: def.after.clone(),
                trigger: def.trigger,
            });
        }
        // As asyncio's layers are nested: its deadline over everything, then per
        // attempt its permit of `limit`, then its `timeout`.
        let attempt = |p: &mut Program| match def.timeout {
            Some(after) => p.timeout(after, Says::Attempt, false, |p| p.steps(&def.body)),
            None => p.steps(&def.body),
        };
        let limited = |p: &mut Program| match def.limit {
            Some(sem) => p.with(sem, false, None, attempt),
            None => attempt(p),
        };
        let tried = |p: &mut Program| match def.retry {
            Some(_) => p.attempts(limited),
            None => limited(p),
        };
        match def.deadline {
            Some(after) => program.timeout(after, Says::Deadline, false, tried),
            None => tried(&mut program),
        }
        program
    }

    /// A definition's steps alone, as a `call` runs them (no `limit`,
    /// `timeout`, `retry` or upstream of its own).
    pub(crate) fn body(def: &TaskDef) -> Program {
        let mut program = Program {
            ops: Vec::new(),
            steps: Vec::new(),
            step: NO_STEP,
            next_step: 0,
            regions: Vec::new(),
            retry: None,
            upstream: false,
            reads_vars: def.reads_vars(),
            on_done: false,
        };
        program.steps(&def.body);
        program
    }

    /// The innermost region with instruction `pc` strictly inside.
    pub(crate) fn region_around(&self, pc: u32) -> Option<&Region> {
        // Inner regions close first, so the first found is the innermost.
        self.regions.iter().find(|r| r.from < pc && pc < r.to)
    }

    fn here(&self) -> u32 {
        self.ops.len() as u32
    }

    /// Adds an instruction, compiled from the step being compiled.
    fn emit(&mut self, op: Op) {
        self.ops.push(op);
        self.steps.push(self.step);
    }

    /// The number of the step instruction `pc` was compiled from (see
    /// [`crate::model::TaskDef::places`]), if a step it was.
    pub(crate) fn step_of(&self, pc: u32) -> Option<usize> {
        let step = *self.steps.get(pc as usize)?;
        (step != NO_STEP).then_some(step as usize)
    }

    fn steps(&mut self, steps: &[Step]) {
        for step in steps {
            // The steps of its blocks are numbered after it, in order.
            let outer = std::mem::replace(&mut self.step, self.next_step);
            self.next_step += 1;
            self.step_ops(step);
            self.step = outer;
        }
    }

    /// The instructions of one step (and of the steps of its blocks).
    fn step_ops(&mut self, step: &Step) {
        match step {
            Step::With {
                sem,
                body,
                priority,
            } => self.with(*sem, true, priority.clone(), |p| p.steps(body)),
            Step::Timeout {
                after,
                absolute,
                body,
            } => {
                let says = if *absolute { Says::At } else { Says::Block };
                self.timeout(*after, says, true, |p| p.steps(body))
            }
            Step::Try(t) => self.try_(&t.body, &t.except, &t.finally, t.catch.clone(), t.star),
            Step::TaskGroup { name, body } => {
                let at = self.here();
                self.emit(Op::EnterGroup(*name));
                self.steps(body);
                self.emit(Op::ExitGroup { at });
                self.close(at, RegionKind::Group);
            }
            Step::Spawn { start, bind } if bind.in_task_group => self.emit(Op::CreateTask {
                start: start.clone(),
                bind: bind.clone(),
            }),
            Step::Reraise => self.emit(Op::Reraise),
            Step::Acquire { sem, priority } => self.emit(Op::Acquire {
                sem: *sem,
                step: true,
                priority: priority.clone(),
            }),
            Step::Put {
                queue,
                item,
                priority,
            } => self.emit(Op::Put {
                queue: *queue,
                item: item.clone(),
                priority: priority.clone(),
            }),
            Step::Get(queue) => self.emit(Op::Get(*queue)),
            Step::Join(queue) => self.emit(Op::Join(*queue)),
            Step::WaitEvent(e) => self.emit(Op::WaitEvent(*e)),
            Step::WaitBarrier(b) => self.emit(Op::WaitBarrier(*b)),
            Step::WaitCondition { cond, until } => self.emit(Op::WaitCondition {
                cond: *cond,
                until: until.clone(),
            }),
            Step::Await(target) => self.emit(Op::Await(target.clone())),
            Step::Call(start) => self.emit(Op::Call(start.clone())),
            Step::WaitFor {
                target,
                timeout,
                shield,
            } => self.emit(Op::WaitFor {
                target: target.clone(),
                timeout: *timeout,
                shield: *shield,
            }),
            Step::Wait {
                targets,
                when,
                timeout,
                cancel_pending,
            } => self.emit(Op::Wait {
                targets: targets.clone(),
                when: *when,
                timeout: *timeout,
                cancel_pending: *cancel_pending,
            }),
            Step::Gather {
                targets,
                return_exceptions,
            } => self.emit(Op::Gather {
                targets: targets.clone(),
                return_exceptions: *return_exceptions,
            }),
            Step::Repeat { times, body } => self.looped(LoopKind::Times(Some(*times)), body),
            Step::Forever(body) => self.looped(LoopKind::Times(None), body),
            Step::Each { handle, var, body } => {
                let kind = LoopKind::Each {
                    handle: handle.clone(),
                    var: *var,
                };
                self.looped(kind, body)
            }
            Step::AsCompleted {
                targets,
                timeout,
                body,
            } => {
                let kind = LoopKind::Completed {
                    targets: targets.clone(),
                    timeout: *timeout,
                };
                self.looped(kind, body)
            }
            Step::Consume { queue, until, body } => {
                let kind = LoopKind::Consume {
                    queue: *queue,
                    until: until.clone(),
                };
                self.looped(kind, body)
            }
            Step::For { var, items, body } => {
                let kind = LoopKind::Items {
                    var: *var,
                    items: items.clone(),
                };
                self.looped(kind, body)
            }
            // Steps that run whole in one turn, up to a sleep at most.
            Step::Sleep(_)
            | Step::Block(_)
            | Step::Thread(_)
            | Step::Log(_)
            | Step::Fail { .. }
            | Step::Return(_)
            | Step::Spawn { .. }
            | Step::Cancel { .. }
            | Step::Uncancel
            | Step::Release(_)
            | Step::TaskDone(_)
            | Step::Shutdown { .. }
            | Step::PutNowait { .. }
            | Step::GetNowait(_)
            | Step::SetResult { .. }
            | Step::SetException { .. }
            | Step::Set(_)
            | Step::Clear(_)
            | Step::Abort(_)
            | Step::Reset(_)
            | Step::Notify { .. }
            | Step::NotifyAll(_)
            | Step::Check { .. }
            | Step::Schedule(_)
            | Step::CancelCallback(_)
            | Step::Break => self.emit(Op::Step(step.clone())),
        }
    }

    fn looped(&mut self, kind: LoopKind, body: &[Step]) {
        let start = self.here();
        let take = match &kind {
            LoopKind::Consume { queue, .. } => Some(Op::Take {
                queue: *queue,
                start,
            }),
            LoopKind::Completed { .. } => Some(Op::NextDone),
            LoopKind::Times(_) | LoopKind::Items { .. } | LoopKind::Each { .. } => None,
        };
        self.emit(Op::Loop { kind, end: 0 });
        self.ops.extend(take);
        self.steps(body);
        let end = self.here();
        self.emit(Op::Next { start });
        if let Op::Loop { end: e, .. } = &mut self.ops[start as usize] {
            *e = end;
        }
        self.close(start, RegionKind::Loop);
    }

    fn with(
        &mut self,
        sem: SemId,
        step: bool,
        priority: Option<Expr>,
        body: impl FnOnce(&mut Program),
    ) {
        let from = self.here();
        self.emit(Op::Acquire {
            sem,
            step,
            priority,
        });
        body(self);
        self.emit(Op::Release(sem));
        self.close(from, RegionKind::Permit(sem));
    }

    fn timeout(&mut self, after: u64, says: Says, step: bool, body: impl FnOnce(&mut Program)) {
        let from = self.here();
        self.emit(Op::OpenTimeout { after, step, says });
        body(self);
        self.emit(Op::CloseTimeout { after, says });
        self.close(from, RegionKind::Timeout(says));
    }

    fn try_(&mut self, body: &[Step], except: &[Step], finally: &[Step], catch: Catch, star: bool) {
        let at = self.here();
        self.emit(Op::Try);
        self.steps(body);
        let body_end = self.here();
        self.emit(Op::EndBody { finally: 0 });
        self.steps(except);
        let except_end = self.here();
        self.emit(Op::EndExcept { star });
        if let Op::EndBody { finally } = &mut self.ops[body_end as usize] {
            *finally = except_end + 1;
        }
        self.steps(finally);
        self.emit(Op::EndFinally { at });
        let kind = RegionKind::Try {
            body_end,
            except_end,
            catch,
            star,
        };
        self.close(at, kind);
    }

    fn attempts(&mut self, attempt: impl FnOnce(&mut Program)) {
        let at = self.here();
        self.emit(Op::Attempt);
        attempt(self);
        let to = self.here();
        self.emit(Op::EndAttempt);
        self.emit(Op::Backoff);
        self.emit(Op::Restart { at });
        let kind = RegionKind::Attempts;
        self.regions.push(Region { from: at, to, kind });
    }

    /// Notes the region opened at `from`, which the last instruction ends.
    fn close(&mut self, from: u32, kind: RegionKind) {
        let to = self.here() - 1;
        self.regions.push(Region { from, to, kind });
    }
}

/// A task's state between its turns: the instruction it is on and
/// what it waits for, and its frame.
pub(crate) struct Machine {
    /// The instruction it is on; [`UNSTARTED`] before its first turn.
    pub(crate) pc: u32,
    pub(crate) wait: Suspension,
    /// Its variables, handles and loops, when it has any.
    pub(crate) frame: Option<Box<Frame>>,
    /// How far it has drawn from its random stream, low 32 bits (the
    /// stream itself is made again when needed: SplitMix64 jumps ahead in
    /// one step). The high bits, non-zero only after billions of draws in a
    /// loop, are in the frame: this keeps a task slot small.
    draws: u32,
}

/// The step number of an instruction a definition opens itself.
const NO_STEP: u32 = u32::MAX;

/// The `pc` of a task that has not had its first turn.
pub(crate) const UNSTARTED: u32 = u32::MAX;

/// A task's variables, handles and the blocks it is in, kept between
/// its turns.
pub(crate) struct Frame {
    pub(crate) vars: Vec<(Sym, Value)>,
    pub(crate) handles: Vec<(Sym, Rc<Vec<Member>>)>,
    /// Boxed once more: most tasks are in no loop, timeout or `finally`,
    /// and a million frames stay small.
    turns: Option<Box<Turns>>,
}

/// The blocks a task is in, and the high bits of its count of draws
/// (non-zero only after billions of draws, which takes a loop).
#[derive(Default)]
struct Turns {
    blocks: Blocks,
    draws_high: u32,
}

/// What the open blocks of a task keep while it runs them, innermost
/// last: its loops, and the rest boxed once more (most tasks never open a
/// timeout, a `finally`, a retry, an upstream wait or a call, and a plain
/// turn moves this in and out of its frame).
#[derive(Default)]
pub(crate) struct Blocks {
    pub(crate) loops: Vec<Turning>,
    rest: Option<Box<Rest>>,
}

/// The blocks a task opens less often.
#[derive(Default)]
pub(crate) struct Rest {
    pub(crate) timeouts: Vec<TimeoutScope>,
    /// What ended the body or `except` of each `try` whose `finally` runs
    /// (and the failure of an attempt about to be retried).
    pub(crate) pending: Vec<Completion>,
    /// The exceptions the `except` blocks it is in handle, innermost last
    /// (what a bare `raise` raises again).
    pub(crate) handling: Vec<Raise>,
    /// A task that retries: its attempt (from 1), and its arguments as
    /// they were before the first.
    pub(crate) attempt: u32,
    pub(crate) fresh: Option<Box<Fresh>>,
    /// A task that runs `after` others, waiting: the instances its trigger
    /// rule is over, as they were when it first looked.
    pub(crate) upstream: Option<Vec<Member>>,
    /// The `call`s it is in, innermost last.
    pub(crate) calls: Vec<CallFrame>,
    /// The task groups it is in, innermost last, each with what ended its
    /// body when that was not its last step (an error, a `return`...).
    pub(crate) groups: Vec<(Rc<TaskGroup>, Option<Completion>)>,
    /// Per `except*` it is in, innermost last: the part of the exception it
    /// did not take, raised again when its handler ends.
    pub(crate) star_rest: Vec<Option<Rc<Exception>>>,
}

/// A task's variables and handles as an attempt starts from them.
pub(crate) type Fresh = (Vec<(Sym, Value)>, Vec<(Sym, Rc<Vec<Member>>)>);

impl Blocks {
    fn is_empty(&self) -> bool {
        self.loops.is_empty() && self.rest.is_none()
    }

    /// The blocks it opens less often, made room for on first use.
    pub(crate) fn rest(&mut self) -> &mut Rest {
        self.rest.get_or_insert_with(Box::default)
    }

    /// The innermost `call` it is in, if any.
    pub(crate) fn call(&self) -> Option<&CallFrame> {
        self.rest.as_ref().and_then(|r| r.calls.last())
    }

    /// Whether it is in a `call`.
    pub(crate) fn in_call(&self) -> bool {
        self.call().is_some()
    }
}

/// A `call` a task is in: what it runs, where it returns to, and what
/// it changed to give back at the end.
pub(crate) struct CallFrame {
    pub(crate) callee: DefId,
    /// The caller's `call` instruction.
    pub(crate) at: u32,
    /// Where the called steps' variables (their arguments first) begin.
    pub(crate) mark: usize,
    /// Where the called steps' handles (those passed to them first)
    /// begin: below it are the caller's, which they cannot see.
    pub(crate) hmark: usize,
    /// When the called steps began (their `{elapsed}` counts from it).
    pub(crate) began: u64,
    /// The caller's own beginning, and the definition it was running if it
    /// was itself called.
    pub(crate) outer_began: u64,
    pub(crate) outer_called: Option<DefId>,
}

/// A loop a task is in, outermost first.
pub(crate) struct Turning {
    /// Where this turn's `i` is in the variables (the body's own variables
    /// come after it).
    pub(crate) mark: usize,
    /// Where an `each` loop's handle is in the handles.
    pub(crate) hmark: usize,
    /// The turn, from 0.
    pub(crate) n: u64,
    pub(crate) over: Over,
}

/// What a loop turns over, once it has begun.
pub(crate) enum Over {
    /// `repeat` (`Some`) and `forever` (`None`): turns alone.
    Turns(Option<u32>),
    /// `for`: its values, each named `var` in its turn.
    Items { items: Rc<[Value]>, var: Sym },
    /// `each`: the tasks and futures of a handle, each named `var`.
    Members { members: Rc<[Member]>, var: Sym },
    /// `consume`: items of `queue` until its sentinel, as printed.
    Queue {
        queue: QueueId,
        sentinel: Option<String>,
    },
    /// `as_completed`: a turn per awaitable, each as it ends.
    Completed(Rc<crate::as_completed::AsCompleted>),
}

impl Over {
    /// How many variables each turn sets and takes away after it: `i`, and
    /// a `for` loop's variable (an `each` loop's is a handle). A `consume`
    /// loop sets none of its own (its `item` stays, as a `get`'s does).
    pub(crate) fn turn_vars(&self) -> usize {
        match self {
            Over::Turns(_) | Over::Members { .. } => 1,
            Over::Items { .. } => 2,
            Over::Queue { .. } | Over::Completed(_) => 0,
        }
    }

    /// Whether turn `n` (from 0) comes; a `consume` loop's turns come until
    /// its sentinel.
    pub(crate) fn has_turn(&self, n: u64) -> bool {
        match self {
            Over::Turns(times) => times.is_none_or(|t| n < u64::from(t)),
            Over::Items { items, .. } => n < items.len() as u64,
            Over::Members { members, .. } => n < members.len() as u64,
            Over::Queue { .. } => true,
            Over::Completed(it) => n < it.turns() as u64,
        }
    }
}

impl Frame {
    /// Boxes the variables, handles and blocks, unless there are none.
    pub(crate) fn keep(
        vars: Vec<(Sym, Value)>,
        handles: Vec<(Sym, Rc<Vec<Member>>)>,
        blocks: Blocks,
    ) -> Option<Box<Frame>> {
        if vars.is_empty() && handles.is_empty() && blocks.is_empty() {
            return None;
        }
        let mut frame = Box::new(Frame {
            vars,
            handles,
            turns: None,
        });
        frame.put_blocks(blocks);
        Some(frame)
    }

    /// Takes out the blocks the task is in (their box stays for
    /// [`Frame::put_blocks`]).
    pub(crate) fn take_blocks(&mut self) -> Blocks {
        self.turns
            .as_mut()
            .map(|t| std::mem::take(&mut t.blocks))
            .unwrap_or_default()
    }

    /// Puts back the blocks the task is in, in the box it had if any.
    pub(crate) fn put_blocks(&mut self, blocks: Blocks) {
        match &mut self.turns {
            Some(turns) => turns.blocks = blocks,
            None if blocks.is_empty() => {}
            None => {
                self.turns = Some(Box::new(Turns {
                    blocks,
                    draws_high: 0,
                }))
            }
        }
    }
}

/// What a task waits for at its instruction.
#[derive(Clone)]
pub(crate) enum Suspension {
    /// Its sleep's timer.
    Timer(TimerKey),
    /// One turn of the loop (`asyncio.sleep(0)`).
    Turn,
    /// A permit of a semaphore, in the semaphore's queue.
    Permit(SemId),
    /// A place in one of a queue's lines (boxed: few tasks wait on queues,
    /// and every task slot has room for the largest wait).
    Queue(Box<QueueWait>),
    /// The end of a task or a future it awaits.
    Member(Member),
    /// An event set: its waiter, done once released (or cancelled).
    Event(Rc<Waiter>),
    /// A barrier's notification (boxed, as queue waits are).
    Barrier(Box<BarrierWait>),
    /// A condition's notify: its waiter, done once notified (or
    /// cancelled); `until`: in a `wait_for`.
    Condition {
        cond: CondId,
        waiter: Rc<Waiter>,
        until: bool,
    },
    /// The condition's lock again, after its wait (`cancelled`: the wait
    /// or an earlier try for the lock was cancelled, raised once it has it).
    Reacquire {
        cond: CondId,
        /// Boxed: rare, and a task slot holds a suspension.
        cancelled: Option<Box<Raise>>,
        until: bool,
    },
    /// The result of a gather; `by_await`: an `await` of several.
    Gather { g: Rc<Gather>, by_await: bool },
    /// The end of an `asyncio.wait`.
    Wait(Box<WaitSet>),
    /// The end of what `wait_for` awaits, or of its timeout.
    WaitFor(Box<WaitingFor>),
    /// `wait_for` in 3.11's form: its waiter, released by what it awaits
    /// or by its own timer.
    WaitForTimer(Box<WaitForTimer>),
    /// `wait_for` timed out (or has a timeout of 0): what it awaited is
    /// cancelled, and it waits until that has finished.
    CancelWait(Box<CancelWait>),
    /// The end of one of its upstream tasks (a first-completed wait).
    Upstream(Box<WaitSet>),
    /// Its task group's last child (`await self._on_completed_fut`).
    Group(Rc<TaskGroup>),
    /// The next awaitable of an `as_completed` loop to end: its waiter.
    Completed(Rc<Waiter>),
    /// Work sent to a thread pool: its result, once back.
    Thread(Rc<crate::executor::Work>),
    /// Nothing ever: a limit stopped the run.
    Frozen,
}

/// A task at a barrier: its waiter in the barrier's line, and where in
/// `wait()` it is.
#[derive(Clone)]
pub(crate) struct BarrierWait {
    pub(crate) barrier: BarrierId,
    pub(crate) waiter: Rc<Waiter>,
    pub(crate) stage: crate::barrier::Stage,
}

/// A task in `asyncio.wait`: on what, and whether the pending are
/// cancelled after.
#[derive(Clone)]
pub(crate) struct WaitSet {
    pub(crate) w: Rc<WaitState>,
    pub(crate) members: Vec<Member>,
    pub(crate) cancel_pending: bool,
}

/// A task in `wait_for` (3.12 and later): its open timeout, and
/// what it awaits (through a shield's waiter, if shielded).
#[derive(Clone)]
pub(crate) struct WaitingFor {
    pub(crate) scope: TimeoutScope,
    pub(crate) timeout: u64,
    pub(crate) member: Member,
    pub(crate) shield: Option<Rc<Waiter>>,
}

/// A task in 3.11's `wait_for`: the waiter its timer and what it
/// awaits both release (through a shield's extra turn, if shielded).
#[derive(Clone)]
pub(crate) struct WaitForTimer {
    pub(crate) waiter: Rc<Waiter>,
    pub(crate) key: TimerKey,
    pub(crate) member: Member,
    pub(crate) shield: bool,
    pub(crate) timeout: u64,
}

/// A task in `wait_for`'s `_cancel_and_wait`: what it awaited (or
/// a shield's own future) was cancelled, and it waits for the end.
#[derive(Clone)]
pub(crate) struct CancelWait {
    pub(crate) waiter: Rc<Waiter>,
    pub(crate) member: Member,
    pub(crate) shield: bool,
    pub(crate) timeout: u64,
    /// Whether the task itself was cancelled meanwhile: it raises
    /// `CancelledError` once the wait is over, not `TimeoutError`.
    pub(crate) interrupted: bool,
}

/// A task waiting in one of a queue's lines.
#[derive(Clone)]
pub(crate) struct QueueWait {
    pub(crate) queue: QueueId,
    pub(crate) waiter: Rc<Waiter>,
    pub(crate) line: Line,
}

/// Which of a queue's lines a task waits in.
#[derive(Clone)]
pub(crate) enum Line {
    /// The getters: for an item.
    Item,
    /// The putters: for room, with the item to put.
    Room(Entry),
    /// The joiners: for the end of the queue's unfinished work.
    Drained,
}

impl Machine {
    /// A task about to take its first turn, with its variables if it keeps them.
    /// A task about to start, with its arguments and the handles passed to
    /// its handle parameters.
    pub(crate) fn new(vars: Vec<(Sym, Value)>, handles: Vec<(Sym, Rc<Vec<Member>>)>) -> Machine {
        Machine {
            pc: UNSTARTED,
            wait: Suspension::Frozen,
            frame: Frame::keep(vars, handles, Blocks::default()),
            draws: 0,
        }
    }

    /// How far it has drawn from its random stream.
    pub(crate) fn draws(&self) -> u64 {
        let turns = self.frame.as_ref().and_then(|f| f.turns.as_ref());
        let high = turns.map_or(0, |t| t.draws_high);
        (u64::from(high) << 32) | u64::from(self.draws)
    }

    /// Notes how far it has drawn; call after its frame is back in place.
    pub(crate) fn set_draws(&mut self, draws: u64) {
        self.draws = draws as u32;
        let high = (draws >> 32) as u32;
        let turns = self.frame.as_mut().and_then(|f| f.turns.as_mut());
        match turns {
            Some(turns) => turns.draws_high = high,
            None if high == 0 => {}
            None => {
                let frame = self.frame.get_or_insert_with(|| {
                    Box::new(Frame {
                        vars: Vec::new(),
                        handles: Vec::new(),
                        turns: None,
                    })
                });
                frame.turns = Some(Box::new(Turns {
                    blocks: Blocks::default(),
                    draws_high: high,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each instruction knows the step it was compiled from: the simple
    /// steps' own instructions name themselves, a block's closing
    /// instruction names the block, and what the definition opens names no
    /// step.
    #[test]
    fn each_instruction_knows_its_step() {
        let source = r#"
[scenario]
main = "main"
[semaphores]
s = 1
[tasks.main]
retry = { attempts = 2 }
timeout = "1s"
steps = [
  { log = "a" },
  { with = "s", do = [{ sleep = "1ms" }, { repeat = 2, do = [{ log = "b" }] }] },
  { try = [{ fail = "x" }], except = [{ log = "c" }], finally = [{ log = "d" }] },
  { return = 1 },
]
"#;
        let model = crate::validate::validate(source).expect("valid");
        let def = &model.tasks[0];
        let program = Program::compile(def);
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
            for step in steps {
                out.push(step);
                step.children().into_iter().for_each(|b| walk(b, out));
            }
        }
        let mut steps = Vec::new();
        walk(&def.body, &mut steps);
        assert_eq!(steps.len(), def.places.len());
        for (pc, op) in program.ops.iter().enumerate() {
            let of = program.step_of(pc as u32);
            match op {
                Op::Step(step) => {
                    let i = of.expect("a step's own instruction");
                    assert_eq!(format!("{step:?}"), format!("{:?}", steps[i]));
                }
                Op::Attempt | Op::EndAttempt | Op::Backoff | Op::Restart { .. } => {
                    assert_eq!(of, None)
                }
                Op::OpenTimeout { step, .. } | Op::Acquire { step, .. } => {
                    assert_eq!(of.is_some(), *step, "{op:?}")
                }
                Op::Next { .. } | Op::Loop { .. } => {
                    assert_eq!(steps[of.unwrap()].verb(), crate::verb::Verb::Repeat)
                }
                Op::Release(_) => assert_eq!(steps[of.unwrap()].verb(), crate::verb::Verb::With),
                Op::Try | Op::EndBody { .. } | Op::EndExcept { .. } | Op::EndFinally { .. } => {
                    assert_eq!(steps[of.unwrap()].verb(), crate::verb::Verb::Try)
                }
                _ => {}
            }
        }
        // `log = "b"` is the fifth step written, on line 11.
        let place = crate::model::Place {
            verb: crate::verb::Verb::Log,
            line: 11,
            column: 62,
        };
        assert_eq!(def.places[4], place);
    }

    /// A loop can draw past 2^32 times: the count is kept whole, half in the
    /// slot and half in the frame.
    #[test]
    fn a_task_counts_its_draws_past_four_billion() {
        let mut p = Machine::new(Vec::new(), Vec::new());
        p.set_draws(7);
        assert_eq!((p.draws(), p.frame.is_none()), (7, true));
        let many = (5u64 << 32) + 3;
        p.set_draws(many);
        assert_eq!(p.draws(), many);
        p.set_draws(many + 1);
        assert_eq!(p.draws(), many + 1);
    }
}
