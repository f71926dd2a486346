//! A task definition compiled for the plain path: its steps flattened into
//! instructions (a `with` becomes an acquire, its steps and a release, with
//! a scope saying which permits are held where; a loop becomes an entry,
//! its steps and a jump back), and the state a plain task keeps between its
//! turns in place of a future. Built from the model alone; run by
//! [`crate::interpreter`]'s plain path.

use std::rc::Rc;

use crate::clock::TimerKey;
use crate::model::{QueueId, SemId, Step, Sym, Target, TaskDef};
use crate::task::{Gather, Member, Waiter};
use crate::template::Expr;
use crate::value::Value;

/// One instruction of a plain task.
#[derive(Debug)]
pub(crate) enum Op {
    /// A simple step.
    Step(Step),
    /// Take a permit, waiting for one if none is free. `step`: it stands
    /// for a step (an `acquire`, or a `with` as a whole) and counts against
    /// the step limits as one; a task's `limit` does not.
    Acquire { sem: SemId, step: bool },
    /// Give a permit back (the end of a `with`); never counted as a step.
    Release(SemId),
    /// Put an item into a queue, waiting for room.
    Put { queue: QueueId, item: Expr },
    /// Take an item from a queue, waiting for one.
    Get(QueueId),
    /// Wait until every item put into the queue is marked done.
    Join(QueueId),
    /// Enter a loop whose body follows, up to its [`Op::Next`] at `end`.
    Loop { kind: LoopKind, end: u32 },
    /// The end of the body of the loop entered at `start`: another turn
    /// from `start + 1`, or on past the loop.
    Next { start: u32 },
    /// A `consume` loop's turn begins: the next item of `queue`, waiting
    /// for one; past the loop entered at `start` if it is the sentinel.
    Take { queue: QueueId, start: u32 },
    /// Await a task or future, or gather several (`await`).
    Await(Target),
    /// Gather tasks and futures (`gather`).
    Gather {
        targets: Vec<Target>,
        return_exceptions: bool,
    },
}

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
}

impl Op {
    /// Whether running it counts as a step, as the futures count them.
    pub(crate) fn counts(&self) -> bool {
        match self {
            Op::Step(_)
            | Op::Put { .. }
            | Op::Get(_)
            | Op::Join(_)
            | Op::Loop { .. }
            | Op::Await(_)
            | Op::Gather { .. } => true,
            Op::Acquire { step, .. } => *step,
            Op::Release(_) | Op::Next { .. } | Op::Take { .. } => false,
        }
    }
}

/// Where a `with` holds its permit: after the acquire at `from`, up to the
/// release at `to`.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) from: u32,
    pub(crate) to: u32,
    pub(crate) sem: SemId,
}

/// A plain definition's steps, flattened.
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) ops: Vec<Op>,
    /// Innermost first: a scope is added when its block closes.
    pub(crate) scopes: Vec<Scope>,
    /// Each loop's entry and its [`Op::Next`], innermost first.
    pub(crate) loops: Vec<(u32, u32)>,
    /// Whether its steps read variables: if not, its instances keep none.
    pub reads_vars: bool,
}

impl Program {
    /// Compiles a definition, or `None` when it cannot run plain.
    pub(crate) fn compile(def: &TaskDef) -> Option<Program> {
        let plain = def.after.is_empty()
            && def.retry.is_none()
            && def.timeout.is_none()
            && def.deadline.is_none()
            && plain_steps(&def.body);
        if !plain {
            return None;
        }
        let mut program = Program {
            ops: Vec::new(),
            scopes: Vec::new(),
            loops: Vec::new(),
            reads_vars: def.reads_vars(),
        };
        match def.limit {
            Some(sem) => program.with(sem, &def.body, false),
            None => program.steps(&def.body),
        }
        Some(program)
    }

    fn steps(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::With { sem, body } => self.with(*sem, body, true),
                Step::Acquire(sem) => self.ops.push(Op::Acquire {
                    sem: *sem,
                    step: true,
                }),
                Step::Put { queue, item } => self.ops.push(Op::Put {
                    queue: *queue,
                    item: item.clone(),
                }),
                Step::Get(queue) => self.ops.push(Op::Get(*queue)),
                Step::Join(queue) => self.ops.push(Op::Join(*queue)),
                Step::Await(target) => self.ops.push(Op::Await(target.clone())),
                Step::Gather {
                    targets,
                    return_exceptions,
                } => self.ops.push(Op::Gather {
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
                simple => self.ops.push(Op::Step(simple.clone())),
            }
        }
    }

    fn looped(&mut self, kind: LoopKind, body: &[Step]) {
        let start = self.ops.len() as u32;
        let take = match &kind {
            LoopKind::Consume { queue, .. } => Some(Op::Take {
                queue: *queue,
                start,
            }),
            LoopKind::Times(_) | LoopKind::Items { .. } | LoopKind::Each { .. } => None,
        };
        self.ops.push(Op::Loop { kind, end: 0 });
        self.ops.extend(take);
        self.steps(body);
        let end = self.ops.len() as u32;
        self.ops.push(Op::Next { start });
        if let Op::Loop { end: e, .. } = &mut self.ops[start as usize] {
            *e = end;
        }
        self.loops.push((start, end));
    }

    /// The innermost loop around instruction `pc`: its entry and its end.
    pub(crate) fn loop_around(&self, pc: u32) -> Option<(u32, u32)> {
        self.loops
            .iter()
            .find(|&&(start, end)| start < pc && pc < end)
            .copied()
    }

    fn with(&mut self, sem: SemId, body: &[Step], step: bool) {
        let from = self.ops.len() as u32;
        self.ops.push(Op::Acquire { sem, step });
        self.steps(body);
        let to = self.ops.len() as u32;
        self.ops.push(Op::Release(sem));
        self.scopes.push(Scope { from, to, sem });
    }
}

/// Whether steps can run plain: simple ones, `acquire`, `put`, `get`,
/// `join`, `await`, `gather`, and `with`, `repeat`, `forever`, `for`,
/// `each` and `consume` blocks of them.
fn plain_steps(steps: &[Step]) -> bool {
    steps.iter().all(|step| match step {
        Step::With { body, .. }
        | Step::Repeat { body, .. }
        | Step::Forever(body)
        | Step::For { body, .. }
        | Step::Each { body, .. }
        | Step::Consume { body, .. } => plain_steps(body),
        Step::Acquire(_)
        | Step::Put { .. }
        | Step::Get(_)
        | Step::Join(_)
        | Step::Await(_)
        | Step::Gather { .. } => true,
        other => other.is_simple(),
    })
}

/// A plain task's state between its turns: the instruction it is on and
/// what it waits for, in place of a future.
pub(crate) struct Plain {
    /// The instruction it is on; [`UNSTARTED`] before its first turn.
    pub(crate) pc: u32,
    pub(crate) wait: PlainWait,
    /// Its variables, handles and loops, when it has any.
    pub(crate) frame: Option<Box<Frame>>,
    /// How far it has drawn from its random stream, low 32 bits (the
    /// stream itself is made again when needed: SplitMix64 jumps ahead in
    /// one step). The high bits, non-zero only after billions of draws in a
    /// loop, are in the frame: this keeps a task slot small.
    draws: u32,
}

/// The `pc` of a plain task that has not had its first turn.
pub(crate) const UNSTARTED: u32 = u32::MAX;

/// A plain task's variables, handles and the loops it is in, kept between
/// its turns.
pub(crate) struct Frame {
    pub(crate) vars: Vec<(Sym, Value)>,
    pub(crate) handles: Vec<(Sym, Rc<Vec<Member>>)>,
    /// Boxed once more: most tasks are in no loop, and a million frames
    /// stay small.
    turns: Option<Box<Turns>>,
}

/// The loops a plain task is in, and the high bits of its count of draws
/// (non-zero only after billions of draws, which takes a loop).
#[derive(Default)]
struct Turns {
    loops: Vec<Turning>,
    draws_high: u32,
}

/// A loop a plain task is in, outermost first.
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
}

impl Over {
    /// How many variables each turn sets and takes away after it: `i`, and
    /// a `for` loop's variable (an `each` loop's is a handle). A `consume`
    /// loop sets none of its own (its `item` stays, as a `get`'s does).
    pub(crate) fn turn_vars(&self) -> usize {
        match self {
            Over::Turns(_) | Over::Members { .. } => 1,
            Over::Items { .. } => 2,
            Over::Queue { .. } => 0,
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
        }
    }
}

impl Frame {
    /// Boxes the variables, handles and loops, unless there are none.
    pub(crate) fn keep(
        vars: Vec<(Sym, Value)>,
        handles: Vec<(Sym, Rc<Vec<Member>>)>,
        loops: Vec<Turning>,
    ) -> Option<Box<Frame>> {
        if vars.is_empty() && handles.is_empty() && loops.is_empty() {
            return None;
        }
        let mut frame = Box::new(Frame {
            vars,
            handles,
            turns: None,
        });
        frame.put_loops(loops);
        Some(frame)
    }

    /// Takes out the loops the task is in (its box stays for
    /// [`Frame::put_loops`]).
    pub(crate) fn take_loops(&mut self) -> Vec<Turning> {
        self.turns
            .as_mut()
            .map(|t| std::mem::take(&mut t.loops))
            .unwrap_or_default()
    }

    /// Puts back the loops the task is in, in the box it had if any.
    pub(crate) fn put_loops(&mut self, loops: Vec<Turning>) {
        match &mut self.turns {
            Some(turns) => turns.loops = loops,
            None if loops.is_empty() => {}
            None => {
                self.turns = Some(Box::new(Turns {
                    loops,
                    draws_high: 0,
                }))
            }
        }
    }
}

/// What a plain task waits for at its instruction.
#[derive(Clone)]
pub(crate) enum PlainWait {
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
    /// The result of a gather; `by_await`: an `await` of several.
    Gather { g: Rc<Gather>, by_await: bool },
    /// Nothing ever: a limit stopped the run.
    Frozen,
}

/// A plain task waiting in one of a queue's lines.
#[derive(Clone)]
pub(crate) struct QueueWait {
    pub(crate) queue: QueueId,
    pub(crate) waiter: Rc<Waiter>,
    pub(crate) line: Line,
}

/// Which of a queue's lines a plain task waits in.
#[derive(Clone)]
pub(crate) enum Line {
    /// The getters: for an item.
    Item,
    /// The putters: for room, with the item to put.
    Room(Value),
    /// The joiners: for the end of the queue's unfinished work.
    Drained,
}

impl Plain {
    /// A task about to take its first turn, with its variables if it keeps them.
    pub(crate) fn new(vars: Vec<(Sym, Value)>) -> Plain {
        Plain {
            pc: UNSTARTED,
            wait: PlainWait::Frozen,
            frame: Frame::keep(vars, Vec::new(), Vec::new()),
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
                    loops: Vec::new(),
                    draws_high: high,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loop can draw past 2^32 times: the count is kept whole, half in the
    /// slot and half in the frame.
    #[test]
    fn a_plain_task_counts_its_draws_past_four_billion() {
        let mut p = Plain::new(Vec::new());
        p.set_draws(7);
        assert_eq!((p.draws(), p.frame.is_none()), (7, true));
        let many = (5u64 << 32) + 3;
        p.set_draws(many);
        assert_eq!(p.draws(), many);
        p.set_draws(many + 1);
        assert_eq!(p.draws(), many + 1);
    }
}
