//! A task definition compiled for the plain path: its steps flattened into
//! instructions (a `with` becomes an acquire, its steps and a release, with
//! a scope saying which permits are held where), and the state a plain task
//! keeps between its turns in place of a future. Built from the model
//! alone; run by [`crate::interpreter`]'s plain path.

use std::rc::Rc;

use crate::clock::TimerKey;
use crate::model::{SemId, Step, Sym, TaskDef};
use crate::task::Member;
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
}

impl Op {
    /// Whether running it counts as a step, as the futures count them.
    pub(crate) fn counts(&self) -> bool {
        match self {
            Op::Step(_) => true,
            Op::Acquire { step, .. } => *step,
            Op::Release(_) => false,
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
                simple => self.ops.push(Op::Step(simple.clone())),
            }
        }
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

/// Whether steps can run plain: simple ones, `acquire`, and `with` blocks of them.
fn plain_steps(steps: &[Step]) -> bool {
    steps.iter().all(|step| match step {
        Step::With { body, .. } => plain_steps(body),
        Step::Acquire(_) => true,
        other => other.is_simple(),
    })
}

/// A plain task's state between its turns: the instruction it is on and
/// what it waits for, in place of a future.
pub(crate) struct Plain {
    /// The instruction it is on; [`UNSTARTED`] before its first turn.
    pub(crate) pc: u32,
    pub(crate) wait: PlainWait,
    /// Its variables and handles, when it has any.
    pub(crate) frame: Option<Box<Frame>>,
    /// How far it has drawn from its random stream (the stream itself is
    /// made again when needed: SplitMix64 jumps ahead in one step). A plain
    /// program has no loops, so its draws are few.
    pub(crate) draws: u32,
}

/// The `pc` of a plain task that has not had its first turn.
pub(crate) const UNSTARTED: u32 = u32::MAX;

/// A plain task's variables and handles, kept between its turns.
pub(crate) struct Frame {
    pub(crate) vars: Vec<(Sym, Value)>,
    pub(crate) handles: Vec<(Sym, Rc<Vec<Member>>)>,
}

impl Frame {
    /// Boxes the variables and handles, unless there are none.
    pub(crate) fn keep(
        vars: Vec<(Sym, Value)>,
        handles: Vec<(Sym, Rc<Vec<Member>>)>,
    ) -> Option<Box<Frame>> {
        match vars.is_empty() && handles.is_empty() {
            true => None,
            false => Some(Box::new(Frame { vars, handles })),
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
    /// Nothing ever: a limit stopped the run.
    Frozen,
}

impl Plain {
    /// A task about to take its first turn, with its variables if it keeps them.
    pub(crate) fn new(vars: Vec<(Sym, Value)>) -> Plain {
        Plain {
            pc: UNSTARTED,
            wait: PlainWait::Frozen,
            frame: Frame::keep(vars, Vec::new()),
            draws: 0,
        }
    }
}
