//! The validated scenario: every name resolved, every value in range.
//!
//! The interpreter trusts this model completely; nothing here can fail at run
//! time except what the scenario itself asks for (errors, timeouts, cancels).

use crate::distribution::Dist;
pub(crate) use crate::exception::Catch;
use crate::exception::{ClassId, Classes};
pub(crate) use crate::handle_param::{HandleKind, PARAM, param_of};
pub(crate) use crate::ids::{BarrierId, CondId, DefId, EventId, FutId, QueueId, SemId, Sym, sym};
use crate::template::{Expr, Ref, Template};
pub(crate) use crate::template::{Passed, Start, Target};
use crate::verb::Verb;

/// `[scenario] cpu` when it is not given.
pub(crate) const DEFAULT_CPU: u32 = 4;

/// `[executors] name = { workers = N }`: a `ThreadPoolExecutor(max_workers=N)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExecutorDef {
    pub(crate) name: String,
    pub(crate) workers: u32,
}

impl Model {
    /// How many workers a pool has: `None` is the loop's default executor.
    pub(crate) fn workers(&self, pool: Option<u32>) -> u32 {
        match pool {
            Some(p) => self.executors[p as usize].workers,
            None => (self.cpu.saturating_add(4)).min(32),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) seed: u64,
    /// When this task finishes, the others are cancelled (like `asyncio.run`).
    pub(crate) main: Option<DefId>,
    /// `[scenario] time_limit`: the run stops when virtual time would pass it.
    pub(crate) time_limit: Option<u64>,
    pub(crate) semaphores: Vec<SemaphoreDef>,
    pub(crate) queues: Vec<QueueDef>,
    pub(crate) futures: Vec<FutureDef>,
    pub(crate) events: Vec<EventDef>,
    pub(crate) barriers: Vec<BarrierDef>,
    pub(crate) conditions: Vec<ConditionDef>,
    /// `[executors]`: thread pools besides the loop's default one.
    pub(crate) executors: Vec<ExecutorDef>,
    /// `[scenario] cpu`: the CPU count the default executor is sized by
    /// (`min(32, cpu + 4)` workers).
    pub(crate) cpu: u32,
    pub(crate) tasks: Vec<TaskDef>,
    /// `[expect]`: what the run must show, checked after it.
    pub(crate) expect: Expect,
    /// The names of variables and handles, by [`Sym`].
    pub(crate) symbols: Vec<String>,
    /// The CPython version whose semantics the run follows (`[scenario]
    /// python`, `--python`).
    pub(crate) python: crate::python::Python,
    /// `[scenario] eager_tasks`: tasks are created with asyncio's eager task
    /// factory (3.12+), so a new task's first turn runs inside `create_task`.
    pub(crate) eager_tasks: bool,
    /// Exception classes: the builtin ones, then `[exceptions]`.
    pub(crate) classes: Classes,
}

impl Model {
    /// Whether any step anywhere is a `block`.
    pub(crate) fn has_blocks(&self) -> bool {
        fn any(steps: &[Step]) -> bool {
            steps
                .iter()
                .any(|s| matches!(s, Step::Block(_)) || s.children().into_iter().any(any))
        }
        self.tasks.iter().any(|t| any(&t.body)) || self.futures.iter().any(|f| any(&f.on_done))
    }
}

/// An inclusive range; an exact value is `lo == hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) lo: u64,
    pub(crate) hi: u64,
}

/// How a run ended, as `[expect] outcome` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunOutcome {
    /// No task failed; nothing was stuck.
    Ok,
    /// Some task failed.
    Failed,
    Deadlock,
    /// A limit stopped the run.
    Stopped,
}

impl RunOutcome {
    pub(crate) const NAMES: [&'static str; 4] = ["ok", "failed", "deadlock", "stopped"];
    pub(crate) const ALL: [RunOutcome; 4] = [
        RunOutcome::Ok,
        RunOutcome::Failed,
        RunOutcome::Deadlock,
        RunOutcome::Stopped,
    ];

    pub(crate) fn name(self) -> &'static str {
        RunOutcome::NAMES[self as usize]
    }
}

/// A statistic of a task's durations (start to end, per instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stat {
    /// Nearest-rank percentile.
    Percentile(u8),
    Max,
    Mean,
}

impl Stat {
    /// The statistic of sorted values; percentiles by nearest rank.
    pub(crate) fn of(self, sorted: &[u64]) -> Option<u64> {
        let last = *sorted.last()?;
        Some(match self {
            Stat::Max => last,
            Stat::Mean => {
                let sum: u128 = sorted.iter().map(|v| *v as u128).sum();
                (sum / sorted.len() as u128) as u64
            }
            Stat::Percentile(p) => {
                let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
                sorted[rank - 1]
            }
        })
    }
}

/// Which task instances an expectation is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    /// Every instance of a definition.
    Def(DefId),
    /// One instance, `name[k]`.
    Instance(DefId, u32),
}

/// `[expect]`, every part optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Expect {
    pub(crate) makespan: Option<Bounds>,
    pub(crate) outcome: Option<RunOutcome>,
    /// (label as written, which tasks, their final state)
    pub(crate) tasks: Vec<(String, Selector, StateName)>,
    pub(crate) max_concurrency: Vec<(SemId, Bounds)>,
    pub(crate) max_depth: Vec<(QueueId, Bounds)>,
    /// Count of instances per final state (`pending`: left waiting).
    pub(crate) states: Vec<(StateName, Bounds)>,
    /// (task, statistic, bounds in nanoseconds)
    pub(crate) durations: Vec<(DefId, Stat, Bounds)>,
    /// `[expect.sweep]`: judged over a whole `--runs` sweep only.
    pub(crate) sweep: Option<SweepExpect>,
}

/// `[expect.sweep]`: thresholds on a `--runs` sweep as a whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SweepExpect {
    /// The least share of runs (0.0..=1.0) that must end well, judged as a
    /// single run is; when stated, it decides the sweep's exit code.
    pub(crate) ok: Option<f64>,
    /// Statistics of the runs' makespans.
    pub(crate) makespan: Vec<(Stat, Bounds)>,
    /// (task, statistic, bounds) over every instance of every run.
    pub(crate) durations: Vec<(DefId, Stat, Bounds)>,
}

impl SweepExpect {
    /// How many thresholds it states.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.ok.is_some()) + self.makespan.len() + self.durations.len()
    }
}

#[derive(Debug)]
pub(crate) struct SemaphoreDef {
    pub(crate) name: String,
    pub(crate) permits: u32,
    pub(crate) kind: SemKind,
}

/// Which of asyncio's classes a `[semaphores]` entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SemKind {
    /// `asyncio.Semaphore`: a release while none is out adds a permit.
    Semaphore,
    /// `asyncio.BoundedSemaphore`: such a release raises `ValueError`.
    Bounded,
    /// `asyncio.Lock`: one permit; a release of a lock not held raises
    /// `RuntimeError`, and a release wakes only the first waiter.
    Lock,
    /// An `asyncio.Semaphore` whose waiters are served lowest `priority`
    /// first, equal ones in arrival order (SimPy's `PriorityResource`).
    Priority,
    /// A priority semaphore whose newcomer takes the permit of the worst
    /// holder (highest priority number, the latest among equals) when its
    /// own priority is lower: that holder is cancelled, and its `with`
    /// raises `Preempted` (SimPy's `PreemptiveResource`).
    Preemptive,
}

impl SemKind {
    pub(crate) const NAMES: [&'static str; 5] =
        ["semaphore", "bounded", "lock", "priority", "preemptive"];
    pub(crate) const ALL: [SemKind; 5] = [
        SemKind::Semaphore,
        SemKind::Bounded,
        SemKind::Lock,
        SemKind::Priority,
        SemKind::Preemptive,
    ];

    /// Its waiters wait in priority order.
    pub(crate) fn ranked(self) -> bool {
        matches!(self, SemKind::Priority | SemKind::Preemptive)
    }

    /// Its class in Python.
    pub(crate) fn python(self) -> &'static str {
        match self {
            SemKind::Semaphore => "asyncio.Semaphore",
            SemKind::Bounded => "asyncio.BoundedSemaphore",
            SemKind::Lock => "asyncio.Lock",
            SemKind::Priority => "PrioritySemaphore",
            SemKind::Preemptive => "PreemptiveSemaphore",
        }
    }
}

#[derive(Debug)]
pub(crate) struct QueueDef {
    pub(crate) name: String,
    /// `None`: unbounded (asyncio's `maxsize=0`).
    pub(crate) capacity: Option<u32>,
    pub(crate) kind: QueueKind,
}

/// Which asyncio queue class a queue is: the order `get` takes items in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum QueueKind {
    /// `asyncio.Queue`: the oldest item first.
    #[default]
    Fifo,
    /// `asyncio.LifoQueue`: the newest item first.
    Lifo,
    /// `asyncio.PriorityQueue`: the lowest priority first, equal ones in
    /// the order they were put.
    Priority,
}

impl QueueKind {
    pub(crate) const NAMES: [&'static str; 3] = ["fifo", "lifo", "priority"];

    pub(crate) fn parse(s: &str) -> Option<QueueKind> {
        Some(match s {
            "fifo" => QueueKind::Fifo,
            "lifo" => QueueKind::Lifo,
            "priority" => QueueKind::Priority,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            QueueKind::Fifo => "fifo",
            QueueKind::Lifo => "lifo",
            QueueKind::Priority => "priority",
        }
    }

    /// The asyncio class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            QueueKind::Fifo => "asyncio.Queue",
            QueueKind::Lifo => "asyncio.LifoQueue",
            QueueKind::Priority => "asyncio.PriorityQueue",
        }
    }
}

#[derive(Debug)]
pub(crate) struct FutureDef {
    pub(crate) name: String,
    /// Done callbacks, run in registration order when the future resolves.
    pub(crate) on_done: Vec<Step>,
}

/// An `asyncio.Condition` and the lock it owns or shares.
#[derive(Debug)]
pub(crate) struct ConditionDef {
    pub(crate) name: String,
    /// Its lock: a lock-kind semaphore, declared in `[semaphores]` when
    /// shared (`asyncio.Condition(db)`), else its own, added after those
    /// and named like the condition.
    pub(crate) lock: SemId,
    /// Whether the lock is its own (`asyncio.Condition()`).
    pub(crate) own_lock: bool,
}

/// `wait_for`'s predicate: a placeholder's value, maybe negated
/// (`until = "not {ready.is_set}"`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Predicate {
    pub(crate) not: bool,
    pub(crate) what: Ref,
}

/// An `asyncio.Event`, unset when the run begins.
#[derive(Debug)]
pub(crate) struct EventDef {
    pub(crate) name: String,
}

/// An `asyncio.Barrier` of `parties` (at least 1), filling when the run
/// begins.
#[derive(Debug)]
pub(crate) struct BarrierDef {
    pub(crate) name: String,
    pub(crate) parties: u32,
}

#[derive(Debug)]
pub(crate) struct TaskDef {
    pub(crate) name: String,
    /// Replicas started together (`name[0]`..`name[count-1]`).
    pub(crate) count: u32,
    /// Started at time 0 (nothing else starts it).
    pub(crate) root: bool,
    pub(crate) args: Vec<(Sym, Expr)>,
    /// `handles`: parameters a caller passes a task, a group or a future
    /// to, by reference (in the order declared).
    pub(crate) handles: Vec<(Sym, HandleKind)>,
    pub(crate) limit: Option<SemId>,
    /// Bound on one attempt of the body, like `asyncio.timeout` around it.
    pub(crate) timeout: Option<u64>,
    /// Bound on the whole task: every attempt and the waits between them.
    pub(crate) deadline: Option<u64>,
    pub(crate) retry: Option<Retry>,
    /// Tasks that must finish before this one starts (all their replicas).
    pub(crate) after: Vec<DefId>,
    pub(crate) trigger: Trigger,
    /// Expected to be left waiting at the end (a server loop), not a deadlock.
    pub(crate) daemon: bool,
    /// Started by an arrival process instead of once (then not `root`).
    pub(crate) arrivals: Option<crate::arrivals::Arrivals>,
    pub(crate) body: Vec<Step>,
    /// Done callbacks of each instance (`add_done_callback` at creation).
    pub(crate) on_done: Vec<Step>,
    /// Where each of its steps is written, in the order [`Step::children`]
    /// walks them (a step before the steps of its blocks).
    pub(crate) places: Vec<Place>,
}

/// Where a step is written: its verb, and its line and column, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) verb: Verb,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl TaskDef {
    /// Whether a simple body reads any variable (or `name`, which an
    /// argument may shadow): if not, its instances need not keep them.
    pub(crate) fn reads_vars(&self) -> bool {
        // A queue or semaphore parameter is kept among the variables.
        if self.handles.iter().any(|(_, k)| k.is_object()) {
            return true;
        }
        let var = |r: &Ref| matches!(r, Ref::Var(..) | Ref::Name);
        let delay = |d: &Delay| matches!(d, Delay::Dynamic(t) if t.reads(&var));
        self.body.iter().any(|step| match step {
            Step::Sleep(d) | Step::Block(d) => delay(d),
            Step::Fail { message, from, .. } => from.is_some() || message.reads(&var),
            Step::Log(t) | Step::SetException { message: t, .. } => t.reads(&var),
            Step::Return(e) | Step::SetResult { value: e, .. } => e.reads(&var),
            Step::Spawn { start, .. } => start.args.iter().any(|(_, e)| e.reads(&var)),
            Step::Cancel { msg: Some(t), .. } => t.reads(&var),
            Step::Cancel { msg: None, .. }
            | Step::Uncancel
            | Step::Release(_)
            | Step::TaskDone(_)
            | Step::Check { .. }
            | Step::Reraise
            | Step::Set(_)
            | Step::Clear(_)
            | Step::WaitEvent(_)
            | Step::WaitBarrier(_)
            | Step::Abort(_)
            | Step::Reset(_)
            | Step::Notify { .. }
            | Step::NotifyAll(_)
            | Step::Break => false,
            // Not simple: assume it reads them.
            _ => true,
        })
    }
}

/// What a `fail` names as its exception's cause (`raise ... from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RaiseFrom {
    /// `from = "error"`: the exception the enclosing `except` caught, which
    /// becomes the new one's `__cause__`.
    Error,
    /// `from = "none"`: `raise ... from None`, no cause (and the context
    /// hidden from a traceback).
    Nothing,
}

/// How a failed attempt is tried again.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Retry {
    /// Tries in all, the first included (Temporal's meaning).
    pub(crate) attempts: u32,
    /// The wait before the second attempt.
    pub(crate) backoff: u64,
    /// Each wait is this many times the one before.
    pub(crate) factor: f64,
    pub(crate) max_backoff: Option<u64>,
    /// 0: exact waits; 1: each wait drawn uniformly from (0, wait] ("full jitter").
    pub(crate) jitter: f64,
    /// Which failures are retried (never a cancellation).
    pub(crate) on: Catch,
}

impl Retry {
    /// The wait after failed attempt `n` (from 1), before jitter.
    pub(crate) fn wait_after(&self, n: u32) -> u64 {
        let grown = self.backoff as f64 * self.factor.powi(n.saturating_sub(1) as i32);
        let capped = match self.max_backoff {
            Some(max) => grown.min(max as f64),
            None => grown,
        };
        capped.clamp(0.0, (u64::MAX / 4) as f64) as u64
    }
}

/// When a task with `after` may start, given how its upstream tasks ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Trigger {
    #[default]
    AllSuccess,
    AllDone,
    OneSuccess,
    OneFailed,
}

impl Trigger {
    pub(crate) const NAMES: [&'static str; 4] =
        ["all_success", "all_done", "one_success", "one_failed"];

    pub(crate) fn name(self) -> &'static str {
        Trigger::NAMES[self as usize]
    }
}

/// How long something takes: fixed or drawn from the seeded stream.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Delay {
    Fixed(u64),
    /// Drawn from a distribution, from the task's seeded stream.
    Drawn(Dist),
    /// A template (`"{d}"`) read as a duration when the step runs.
    Dynamic(Template),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReturnWhen {
    FirstCompleted,
    FirstException,
    AllCompleted,
}

/// A state a `check` step can assert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateName {
    Pending,
    Done,
    Failed,
    Cancelled,
    /// Any final state (Python's `done()`).
    Finished,
    Skipped,
}

impl StateName {
    pub(crate) const NAMES: [&'static str; 6] = [
        "pending",
        "done",
        "failed",
        "cancelled",
        "finished",
        "skipped",
    ];
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    Sleep(Delay),
    Block(Delay),
    Log(Template),
    Fail {
        message: Template,
        chance: Option<f64>,
        /// `type`: the exception's class (`Exception` unless named).
        class: ClassId,
        /// `from`: `raise ... from error` or `raise ... from None`.
        from: Option<RaiseFrom>,
    },
    /// A bare `raise` in an `except`: the exception it handles, again.
    Reraise,
    Return(Expr),
    Spawn {
        start: Start,
        bind: Bind,
    },
    /// Run another definition's body inline (`await coro()`).
    Call(Start),
    Await(Target),
    Gather {
        targets: Vec<Target>,
        return_exceptions: bool,
    },
    Wait {
        targets: Vec<Target>,
        when: ReturnWhen,
        timeout: Option<u64>,
        cancel_pending: bool,
    },
    WaitFor {
        target: Target,
        timeout: u64,
        shield: bool,
    },
    /// `for next in asyncio.as_completed(targets, timeout=...): result =
    /// await next; body`.
    AsCompleted {
        targets: Vec<Target>,
        timeout: Option<u64>,
        body: Vec<Step>,
    },
    /// `timeout` (`after` from when the block opens), or `timeout_at`
    /// (`absolute`: `after` is an instant, from the run's start).
    Timeout {
        after: u64,
        absolute: bool,
        body: Vec<Step>,
    },
    /// `h.cancel(msg)`: `msg` is the `CancelledError`'s message.
    Cancel {
        target: Target,
        msg: Option<Template>,
    },
    /// `asyncio.current_task().uncancel()`.
    Uncancel,
    /// Boxed: the largest step, kept out of line so that every step (and
    /// every instruction) stays small.
    Try(Box<Try>),
    /// `async with asyncio.TaskGroup() as NAME:` around `body`.
    TaskGroup {
        name: Sym,
        body: Vec<Step>,
    },
    With {
        sem: SemId,
        body: Vec<Step>,
        /// On a priority semaphore (and only there): the waiter's priority.
        priority: Option<Expr>,
    },
    Acquire {
        sem: SemId,
        priority: Option<Expr>,
    },
    Release(SemId),
    Put {
        queue: QueueId,
        item: Expr,
        /// On a priority queue (and only there): the item's priority.
        priority: Option<Expr>,
    },
    Get(QueueId),
    /// `queue.put_nowait(item)`: `QueueFull` instead of a wait.
    PutNowait {
        queue: QueueId,
        item: Expr,
        priority: Option<Expr>,
    },
    /// `queue.get_nowait()`: `QueueEmpty` instead of a wait.
    GetNowait(QueueId),
    TaskDone(QueueId),
    Join(QueueId),
    /// `queue.shutdown(immediate=...)` (3.13).
    Shutdown {
        queue: QueueId,
        immediate: bool,
    },
    Consume {
        queue: QueueId,
        until: Option<Expr>,
        body: Vec<Step>,
    },
    SetResult {
        future: FutId,
        value: Expr,
    },
    SetException {
        future: FutId,
        message: Template,
        class: ClassId,
    },
    /// `event.set()`.
    Set(EventId),
    /// `event.clear()`.
    Clear(EventId),
    /// `await event.wait()` (written `await = "event"`).
    WaitEvent(EventId),
    /// `await barrier.wait()` (written `await = "barrier"`): its index into
    /// `{result}`.
    WaitBarrier(BarrierId),
    /// `await barrier.abort()`.
    Abort(BarrierId),
    /// `await barrier.reset()`.
    Reset(BarrierId),
    /// `await cv.wait()` (written `await = "cv"`), or with `until`,
    /// `await cv.wait_for(predicate)`.
    WaitCondition {
        cond: CondId,
        until: Option<Predicate>,
    },
    /// `cv.notify(n)`.
    Notify {
        cond: CondId,
        n: u32,
    },
    /// `cv.notify_all()`.
    NotifyAll(CondId),
    /// `loop.call_soon`, `call_later` or `call_at`: steps the loop runs
    /// later as one callback. Boxed, as `Try` is, to keep steps small.
    Schedule(Box<Scheduled>),
    /// `await asyncio.to_thread(work)` or `await loop.run_in_executor(pool,
    /// work)`: work that takes virtual time in a worker thread. Boxed, as
    /// `Try` is.
    Thread(Box<ThreadWork>),
    /// `handle.cancel()` of a callback `call_*` scheduled (written
    /// `cancel = "h"`, where `as = "h"` named it).
    CancelCallback(Sym),
    Repeat {
        times: u32,
        body: Vec<Step>,
    },
    Forever(Vec<Step>),
    For {
        var: Sym,
        items: Expr,
        body: Vec<Step>,
    },
    Each {
        handle: Target,
        var: Sym,
        body: Vec<Step>,
    },
    Check {
        target: Target,
        state: StateName,
    },
    Break,
}

impl Step {
    /// The verb this step was written with.
    pub(crate) fn verb(&self) -> Verb {
        match self {
            Step::Sleep(_) => Verb::Sleep,
            Step::Block(_) => Verb::Block,
            Step::Log(_) => Verb::Log,
            Step::Fail { .. } => Verb::Fail,
            Step::Return(_) => Verb::Return,
            Step::Spawn { .. } => Verb::Spawn,
            Step::Call(_) => Verb::Call,
            Step::Await(_) => Verb::Await,
            Step::Gather { .. } => Verb::Gather,
            Step::Wait { .. } => Verb::Wait,
            Step::WaitFor { .. } => Verb::WaitFor,
            Step::AsCompleted { .. } => Verb::AsCompleted,
            Step::Timeout {
                absolute: false, ..
            } => Verb::Timeout,
            Step::Timeout { absolute: true, .. } => Verb::TimeoutAt,
            Step::Cancel { .. } => Verb::Cancel,
            Step::Uncancel => Verb::Uncancel,
            Step::Try(_) => Verb::Try,
            Step::TaskGroup { .. } => Verb::TaskGroup,
            Step::With { .. } => Verb::With,
            Step::Acquire { .. } => Verb::Acquire,
            Step::Release(_) => Verb::Release,
            Step::Put { .. } => Verb::Put,
            Step::Get(_) => Verb::Get,
            Step::PutNowait { .. } => Verb::PutNowait,
            Step::GetNowait(_) => Verb::GetNowait,
            Step::TaskDone(_) => Verb::TaskDone,
            Step::Join(_) => Verb::Join,
            Step::Shutdown { .. } => Verb::Shutdown,
            Step::Consume { .. } => Verb::Consume,
            Step::SetResult { .. } => Verb::SetResult,
            Step::SetException { .. } => Verb::SetException,
            Step::Set(_) => Verb::Set,
            Step::Clear(_) => Verb::Clear,
            Step::WaitEvent(_) | Step::WaitBarrier(_) | Step::WaitCondition { .. } => Verb::Await,
            Step::Abort(_) => Verb::Abort,
            Step::Reset(_) => Verb::Reset,
            Step::Notify { .. } => Verb::Notify,
            Step::NotifyAll(_) => Verb::NotifyAll,
            Step::Schedule(s) => match s.when {
                When::Soon => Verb::CallSoon,
                When::Later(_) => Verb::CallLater,
                When::At(_) => Verb::CallAt,
            },
            Step::CancelCallback(_) => Verb::Cancel,
            Step::Thread(w) if w.to_thread => Verb::ToThread,
            Step::Thread(_) => Verb::RunInExecutor,
            Step::Repeat { .. } => Verb::Repeat,
            Step::Forever(_) => Verb::Forever,
            Step::For { .. } => Verb::For,
            Step::Each { .. } => Verb::Each,
            Step::Check { .. } => Verb::Check,
            Step::Break => Verb::Break,
            Step::Reraise => Verb::Raise,
        }
    }

    /// The blocks of steps nested in this one, in the order they are written.
    pub(crate) fn children(&self) -> Vec<&[Step]> {
        match self {
            Step::Timeout { body, .. }
            | Step::TaskGroup { body, .. }
            | Step::With { body, .. }
            | Step::Consume { body, .. }
            | Step::Repeat { body, .. }
            | Step::For { body, .. }
            | Step::Each { body, .. }
            | Step::AsCompleted { body, .. }
            | Step::Forever(body) => vec![body],
            Step::Try(t) => vec![&t.body, &t.except, &t.finally],
            _ => Vec::new(),
        }
    }
}

/// A callback `call_soon`, `call_later` or `call_at` schedules.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scheduled {
    pub(crate) when: When,
    /// Its steps: only steps that never wait, with a callback's variables.
    /// Shared with the loop, which holds them until the callback runs.
    pub(crate) body: std::rc::Rc<[Step]>,
    /// `as = "h"`: the handle's name, for `cancel = "h"`.
    pub(crate) handle: Option<Sym>,
}

/// When a scheduled callback runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// `call_soon`: after what is ready now.
    Soon,
    /// `call_later`: this many nanoseconds from now.
    Later(u64),
    /// `call_at`: at this instant, in nanoseconds from the run's start.
    At(u64),
}

impl Step {
    /// The steps of a callback this step schedules, if it schedules one
    /// (not among [`Step::children`]: they are no part of the body's flow).
    pub(crate) fn callback_body(&self) -> Option<&[Step]> {
        match self {
            Step::Schedule(s) => Some(&s.body),
            _ => None,
        }
    }
}

/// Work sent to a thread pool: it holds a worker for its duration, then
/// returns `value` or raises.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ThreadWork {
    /// Written `to_thread` (always the default executor), not
    /// `run_in_executor`.
    pub(crate) to_thread: bool,
    /// `executor = "db"`: an `[executors]` pool; `None`: the default one.
    pub(crate) executor: Option<u32>,
    /// How long it holds its worker (`time.sleep` in the thread).
    pub(crate) delay: Delay,
    /// What it returns (`value`), into `{result}`.
    pub(crate) value: Expr,
    /// `error` (and `type`): it raises this in the thread instead.
    pub(crate) error: Option<(Template, ClassId)>,
}

impl ThreadWork {
    /// The verb it was written with.
    pub(crate) fn verb(&self) -> Verb {
        match self.to_thread {
            true => Verb::ToThread,
            false => Verb::RunInExecutor,
        }
    }
}

/// `try`: its blocks, and what its `except` catches.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Try {
    pub(crate) body: Vec<Step>,
    pub(crate) except: Vec<Step>,
    pub(crate) finally: Vec<Step>,
    pub(crate) catch: Catch,
    /// `except_star`: the handler is `except*`, taking from a group of
    /// exceptions the part `catch` matches.
    pub(crate) star: bool,
}

/// Where a `spawn` keeps its handle.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bind {
    /// `as = "h"`: `h` names the new task (or group) from now on.
    pub(crate) as_: Option<Sym>,
    /// `into = "g"`: the new tasks join group `g`.
    pub(crate) into: Option<Sym>,
    /// `into` names a task group the step is inside: the tasks are made by
    /// its `create_task` (and no handle holds them unless `as` does).
    pub(crate) in_task_group: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(Stat::Percentile(50).of(&v), Some(50));
        assert_eq!(Stat::Percentile(99).of(&v), Some(99));
        assert_eq!(Stat::Percentile(100).of(&v), Some(100));
        assert_eq!(Stat::Percentile(1).of(&[7]), Some(7));
        assert_eq!(Stat::Mean.of(&[1, 2, 3, 10]), Some(4));
        assert_eq!(Stat::Max.of(&[]), None);
    }
}
