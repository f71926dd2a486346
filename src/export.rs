//! `scenario-run export python`: a scenario written as the asyncio program
//! it models, one `async def` per task, the same log lines as `print`, the
//! same seeded draws.
//!
//! The program is what the simulation's semantics stand for, written the
//! way a person would write it, so that CPython can run it and say whether
//! the trace told the truth (the differential test), and so that it can be
//! the starting point of the real service. Each task instance gets a small
//! `Instance` (its name, its `i`, its random stream); everything else is
//! plain asyncio; `after` becomes a wait on the upstream tasks until its
//! trigger rule is decided (a skipped task raises `Skipped`).

use std::fmt::Write;

use crate::arrivals::{Arrivals, Think};
use crate::distribution::Dist;
use crate::exception::{CANCELLED_ERROR, Catch, ClassId, TIMEOUT_ERROR, python_name};
use crate::model::{
    Delay, Model, Passed, QueueKind, RaiseFrom, ReturnWhen, Scheduled, SemId, SemKind, Start,
    StateName, Step, Sym, Target, TaskDef, When, param_of, sym,
};
use crate::template::{Attr, Expr, Piece, Ref, Template};
use crate::value::Value;

/// Writes the program; `file` names the scenario in its docstring.
pub(crate) fn python(model: &Model, file: &str) -> String {
    let mut w = Writer {
        model,
        out: String::new(),
        depth: 0,
        loops: Vec::new(),
        name_is_arg: false,
        callbacks: 0,
    };
    w.program(file);
    w.out
}

const KEYWORDS: [&str; 38] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "me", "now", "asyncio",
];

/// A scenario name as a Python identifier.
/// The Python name of the executor `[executors]` declares as `name`.
fn pool_ident(name: &str) -> String {
    format!("pool_{}", ident(name))
}

/// Whether any step sends work to the loop's default executor.
fn uses_default_executor(m: &Model) -> bool {
    fn any(steps: &[Step]) -> bool {
        steps.iter().any(|s| {
            matches!(s, Step::Thread(w) if w.executor.is_none())
                || s.children().into_iter().any(any)
        })
    }
    m.tasks.iter().any(|t| any(&t.body))
}

fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) || HELPERS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Names the prelude defines.
const HELPERS: [&str; 60] = [
    "priority_of",
    "PrioritySemaphore",
    "PreemptiveSemaphore",
    "Preempted",
    "RankedWaiters",
    "bisect",
    "ticket",
    "Instance",
    "Stream",
    "Callback",
    "Skipped",
    "start",
    "run",
    "scenario",
    "begin",
    "after_main",
    "until_idle",
    "upstream",
    "decide",
    "state_of",
    "check",
    "why",
    "text",
    "field",
    "attr",
    "awaited",
    "only",
    "in_order",
    "as_list",
    "as_float",
    "roots_of",
    "seconds",
    "ns",
    "now",
    "time",
    "math",
    "sys",
    "os",
    "itertools",
    "print",
    "main_task",
    "members",
    "to_put",
    "one_task",
    "caught",
    "began",
    "wait",
    "roots",
    "SEED",
    "ROOTS",
    "DAEMONS",
    "STARTED",
    "DONE_CALLBACKS",
    "outcome",
    "LEFT_WAITING",
    "UNITS",
    "SOURCES",
    "Arrivals",
    "Users",
    "in_group",
];

/// A Python string literal.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A name as a single-quoted literal, usable inside an f-string's braces
/// (Python 3.11 allows neither backslashes nor the outer quote there).
fn name_literal(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| *c != '\'' && *c != '\\' && !c.is_control())
        .collect();
    format!("'{clean}'")
}

/// Seconds, as Python reads them, from nanoseconds.
fn secs(ns: u64) -> String {
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}", ns / 1_000_000_000)
    } else {
        let s = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
        s.trim_end_matches('0').to_owned()
    }
}

/// A draw from `dist` on `stream`, in nanoseconds, as Python source.
fn draw(dist: &Dist, stream: &str) -> String {
    match dist {
        Dist::Uniform(lo, hi) => format!("{stream}.uniform({lo}, {hi})"),
        Dist::Exponential(mean) => format!("{stream}.exponential({mean})"),
        Dist::Normal(mean, sd) => format!("{stream}.normal({mean}, {sd})"),
        Dist::LogNormal(median, sigma) => format!("{stream}.lognormal({median}, {sigma:?})"),
        Dist::Choice(options) => {
            let o: Vec<String> = options
                .iter()
                .map(|(v, w)| format!("({v}, {w:?})"))
                .collect();
            format!("{stream}.choice([{}])", o.join(", "))
        }
    }
}

/// A literal value as Python source.
fn literal(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) if x.is_finite() => format!("{x:?}"),
        Value::Float(x) if x.is_nan() => "math.nan".into(),
        Value::Float(x) if *x > 0.0 => "math.inf".into(),
        Value::Float(_) => "-math.inf".into(),
        Value::Str(s) => quoted(s),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), literal(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Error(e) if e.class == CANCELLED_ERROR => "asyncio.CancelledError()".into(),
        Value::Error(e) => {
            let arg = e.arg.as_deref().map(quoted).unwrap_or_default();
            format!("{}({arg})", python_name(e.class, &e.name))
        }
    }
}

/// The handles a body binds (`spawn ... as`, `into`, `wait`'s `done` and
/// `pending`), in it and its blocks: each starts as an empty list, as an
/// unbound handle names no task in scenario-run.
fn collect_groups(steps: &[Step], out: &mut Vec<Sym>) {
    for step in steps {
        let bound: Vec<Sym> = match step {
            // A task group's name is the group itself, not a list.
            Step::Spawn { bind, .. } if bind.in_task_group => bind.as_.into_iter().collect(),
            Step::Spawn { bind, .. } => bind.as_.into_iter().chain(bind.into).collect(),
            Step::Wait { .. } => vec![sym::DONE, sym::PENDING],
            // An `each` loop's handle is the loop's own, not a group.
            Step::Sleep(_)
            | Step::Block(_)
            | Step::Thread(_)
            | Step::Log(_)
            | Step::Fail { .. }
            | Step::Return(_)
            | Step::Call(_)
            | Step::Await(_)
            | Step::Gather { .. }
            | Step::WaitFor { .. }
            | Step::AsCompleted { .. }
            | Step::Timeout { .. }
            | Step::Cancel { .. }
            | Step::Uncancel
            | Step::Try(_)
            | Step::TaskGroup { .. }
            | Step::With { .. }
            | Step::Acquire { .. }
            | Step::Release(_)
            | Step::Put { .. }
            | Step::Get(_)
            | Step::PutNowait { .. }
            | Step::GetNowait(_)
            | Step::TaskDone(_)
            | Step::Join(_)
            | Step::Shutdown { .. }
            | Step::Consume { .. }
            | Step::SetResult { .. }
            | Step::SetException { .. }
            | Step::Set(_)
            | Step::Clear(_)
            | Step::WaitEvent(_)
            | Step::WaitBarrier(_)
            | Step::Abort(_)
            | Step::Reset(_)
            | Step::WaitCondition { .. }
            | Step::Notify { .. }
            | Step::NotifyAll(_)
            | Step::Repeat { .. }
            | Step::Forever(_)
            | Step::For { .. }
            | Step::Each { .. }
            | Step::Check { .. }
            | Step::Schedule(_)
            | Step::CancelCallback(_)
            | Step::Reraise
            | Step::Break => Vec::new(),
        };
        for s in bound {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        for child in step.children() {
            collect_groups(child, out);
        }
    }
}

/// The handles a body names with `call_* ... as` (not inside its callbacks,
/// which have their own), each once.
fn collect_callback_handles(steps: &[Step], out: &mut Vec<Sym>) {
    for step in steps {
        if let Step::Schedule(s) = step
            && let Some(h) = s.handle
            && !out.contains(&h)
        {
            out.push(h);
        }
        for child in step.children() {
            collect_callback_handles(child, out);
        }
    }
}

struct Writer<'m> {
    model: &'m Model,
    out: String,
    depth: usize,
    /// Loop variables bound by the loops around the current line (`i`...).
    loops: Vec<Sym>,
    /// The task being written has an argument called `name`.
    name_is_arg: bool,
    /// The callbacks of `call_*` written so far (each a function, numbered).
    callbacks: u32,
}

const PRELUDE: &str = r#"import asyncio
import bisect
import concurrent.futures
import itertools
import math
import os
import sys
import time


def run(main):
    """asyncio.run; with SPEED=N in the environment, N times faster than
    real time (SPEED=60: a minute a second), the loop's clock scaled."""
    speed = float(os.environ.get("SPEED", "1"))
    if speed == 1:
        return asyncio.run(main)

    class Scaled(asyncio.SelectorEventLoop):
        def __init__(self):
            super().__init__()
            self._start = time.monotonic()
            inner = self._selector

            class Selector:
                def select(self, timeout=None):
                    return inner.select(None if timeout is None else timeout / speed)

                def __getattr__(self, name):
                    return getattr(inner, name)

            self._selector = Selector()

        def time(self):
            return (time.monotonic() - self._start) * speed

    real_sleep = time.sleep
    time.sleep = lambda seconds: real_sleep(seconds / speed)
    with asyncio.Runner(loop_factory=Scaled) as runner:
        return runner.run(main)


class Stream:
    """The scenario's seeded random stream (SplitMix64), one per instance."""

    GOLDEN = 0x9E3779B97F4A7C15
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    @staticmethod
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & Stream.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & Stream.MASK
        return z ^ (z >> 31)

    @classmethod
    def for_instance(cls, seed, task, k):
        h = 0xCBF29CE484222325
        for b in task.encode():
            h = ((h ^ b) * 0x100000001B3) & cls.MASK
        inner = cls.mix((k + cls.GOLDEN) & cls.MASK)
        return cls(cls.mix(seed ^ cls.mix((h + inner) & cls.MASK)))

    def next(self):
        self.state = (self.state + self.GOLDEN) & self.MASK
        return self.mix(self.state)

    def unit(self):
        return (self.next() >> 11) * (1.0 / (1 << 53))

    def uniform(self, lo, hi):
        """Nanoseconds in [lo, hi]."""
        return lo + ((self.next() * (hi - lo + 1)) >> 64)

    def exponential(self, mean):
        return max(0, round(-mean * math.log(1.0 - self.unit())))

    def normal01(self):
        u1 = 1.0 - self.unit()
        u2 = self.unit()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def normal(self, mean, sd):
        for _ in range(100):
            x = mean + sd * self.normal01()
            if x >= 0.0:
                return round(x)
        return 0

    def lognormal(self, median, sigma):
        return max(0, round(median * math.exp(sigma * self.normal01())))

    def choice(self, options):
        at = self.unit() * sum(w for _, w in options)
        for value, weight in options:
            if at < weight:
                return value
            at -= weight
        return options[-1][0]


class Instance:
    """One started task: its name (`fetch[3]`), its `i`, its random stream."""

    started = {}

    def __init__(self, task, i=0, replica=None):
        k = Instance.started.get(task, 0)
        Instance.started[task] = k + 1
        self.name = task if replica is None else f"{task}[{replica if replica >= 0 else k}]"
        self.i = i
        self.stream = Stream.for_instance(SEED, task, k)
        self.began = now()


DAEMONS = set()  # tasks that may be left waiting at the end (servers)
LEFT_WAITING = set()
STARTED = []  # every task, in the order it was created
FUTURES = []  # (name, future) of each declared future, in declaration order
SHUTDOWN_FAILED = []  # tasks cancelled by the shutdown that failed instead
DONE_CALLBACKS = {}  # a task's `on_done` steps, added as it is created


def start(body, task, i=0, replica=-1, in_group=None, **args):
    """asyncio.create_task for one instance of a task, or the create_task of
    the task group `in_group`."""
    me = Instance(task, i, replica)
    # Its place in STARTED is taken before create_task: an eager task's
    # first step may start others, created after it.
    place = len(STARTED)
    STARTED.append(None)
    if in_group is None:
        started = asyncio.create_task(body(me, **args), name=me.name)
    else:
        try:
            started = in_group.create_task(body(me, **args), name=me.name)
        except RuntimeError:
            Instance.started[task] -= 1  # no task was made: none is numbered
            del STARTED[place]
            raise
    if task in DONE_CALLBACKS:
        started.add_done_callback(DONE_CALLBACKS[task])
    if task in DAEMONS:
        LEFT_WAITING.add(started)
    STARTED[place] = started
    return started


async def until_idle():
    """Waits, like scenario-run's run, until nothing is ready and no timer is
    set: only tasks waiting forever (daemons) are left."""
    loop = asyncio.get_running_loop()
    while True:
        timers = [h.when() for h in loop._scheduled if not h.cancelled()]
        if not timers and not loop._ready:
            return
        await asyncio.sleep(max(0.0, min(timers) - loop.time()) if timers else 0)


async def after_main():
    """What asyncio.run does once main is done, made deterministic: when
    nothing else is ready, cancel every task left, in the order they were
    created (asyncio.run's own order is that of a set), and wait for them.
    A timer already due is ready too: a blocking call earlier in this turn
    moved the clock past it, and the next turn runs it."""
    loop = asyncio.get_running_loop()

    def ready():
        now = loop.time()
        return loop._ready or any(
            h.when() <= now for h in loop._scheduled if not h.cancelled()
        )

    await asyncio.sleep(0)
    while ready():
        await asyncio.sleep(0)
    for source in SOURCES:
        source.stop()
    left = [t for t in STARTED if t is not None and not t.done()]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)
    # asyncio.run reports each that failed instead of ending cancelled.
    SHUTDOWN_FAILED.extend(t for t in left if not t.cancelled() and t.exception() is not None)


def finish(main_task):
    """What asyncio.run(main()) ends with: main's result is read (its
    exception raised once the report is out), and what failed with nobody
    to read its exception is reported as CPython's exception handler says
    it, in a fixed order: the shutdown's failures, then the tasks in the
    order they were created, then the futures. Each one's own flag tells
    (`_log_traceback`, what `result()`, `exception()` and `await` clear);
    it is cleared here, so that the garbage collector says nothing more."""
    error = None
    if main_task is not None:
        try:
            main_task.result()
        except BaseException as raised:  # noqa: BLE001 (asyncio.run raises it)
            error = raised
    for task in SHUTDOWN_FAILED:
        print(f"unretrieved {task.get_name()}: unhandled exception during asyncio.run() shutdown: {task.exception()!r}")
    unread = [(t.get_name(), "Task", t) for t in STARTED] + [(n, "Future", f) for n, f in FUTURES]
    for name, kind, done in unread:
        if done.done() and not done.cancelled() and done._log_traceback:
            print(f"unretrieved {name}: {kind} exception was never retrieved: {done._exception!r}")
            done._log_traceback = False
    if error is not None:
        print(f"asyncio.run raises {error!r}")
        raise error


def now():
    return asyncio.get_running_loop().time()


def thread_work(seconds, value=None, error=None):
    """Work run in a worker thread: it holds the thread `seconds` (not the
    loop), then returns `value` or raises `error`."""
    time.sleep(seconds)
    if error is not None:
        raise error
    return value


def ns(nanoseconds):
    """Seconds from nanoseconds."""
    return nanoseconds / 1e9


def outcome(done):
    """A done task's or future's (result, error), as its `on_done` sees them."""
    if done.cancelled():
        return None, asyncio.CancelledError()
    error = done.exception()
    return (done.result() if error is None else None), error


class Callback:
    """Who runs a future's done callbacks: not a task, but named like one."""

    def __init__(self, name):
        self.name = name
        self.i = 0
        self.stream = Stream(SEED)
        self.began = now()


ROOTS = {}
SOURCES = []  # the arrival processes, in the order of their tasks


class Arrivals:
    """An open arrival process: starts `task` at instants of its own, whatever
    the system does with them. The rate (per second) moves linearly across
    `stages` of (from, to, nanoseconds). Arrival k comes when the expected
    count of arrivals reaches a target: k (evenly spaced, the first at the
    start), or the running sum of unit exponential draws (Poisson)."""

    def __init__(self, body, task, stages, poisson=False, count=None, args=None):
        self.body, self.task, self.args = body, task, args or (lambda i: {})
        self.stages, self.poisson, self.count = stages, poisson, count
        self.end = sum(d for _, _, d in stages)
        self.stream = Stream.for_instance(SEED, task + "/arrivals", 0)
        self.stage = self.stage_start = self.started = 0
        self.stage_base = 0.0
        self.target = self.unit_exponential() if poisson else 0.0
        self.loop = asyncio.get_running_loop()
        self.origin = self.loop.time()
        self.finished = self.loop.create_future()
        self.handle = None
        SOURCES.append(self)
        self.schedule()

    def unit_exponential(self):
        return -math.log(1.0 - self.stream.unit())

    def next_instant(self):
        """Nanoseconds from the start to the next arrival, or None."""
        if self.count is not None and self.started >= self.count:
            return None
        while self.stage < len(self.stages):
            a, b, d = self.stages[self.stage]
            seconds = d / 1e9
            total = (a + b) / 2.0 * seconds
            r = self.target - self.stage_base
            if r < total:
                c = (b - a) / (2.0 * seconds)
                x = 0.0 if r == 0.0 else 2.0 * r / (a + math.sqrt(max(a * a + 4.0 * c * r, 0.0)))
                at = self.stage_start + min(max(round(x * 1e9), 0), d)
                break
            self.stage += 1
            self.stage_start += d
            self.stage_base += total
        else:
            return None
        if at >= self.end:
            return None
        self.started += 1
        self.target += self.unit_exponential() if self.poisson else 1.0
        return at

    def schedule(self):
        at = self.next_instant()
        if at is None:
            self.stop()
        else:
            self.handle = self.loop.call_at(self.origin + ns(at), self.arrive)

    def arrive(self):
        i = Instance.started.get(self.task, 0)
        start(self.body, self.task, i=i, replica=i, **self.args(i))
        self.schedule()

    def stop(self):
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        if not self.finished.done():
            self.finished.set_result(None)


class Users:
    """A closed loop: each virtual user starts an instance of `task`, waits
    for its end, thinks (`think(stream)` nanoseconds, from the user's own
    stream), and starts the next; none starts at or after `duration` (ns)
    nor past `count` instances in all."""

    def __init__(self, body, task, users, think, duration=None, count=None, args=None):
        self.body, self.task, self.args = body, task, args or (lambda i: {})
        self.think, self.duration, self.count = think, duration, count
        self.loop = asyncio.get_running_loop()
        self.origin = self.loop.time()
        self.finished = self.loop.create_future()
        self.streams = {}
        self.handles = {}
        self.running = 0
        self.started = 0
        self.stopped = False
        SOURCES.append(self)
        for user in range(users):
            self.arrive(user)
        self.check_finished()

    def arrive(self, user):
        self.handles.pop(user, None)
        if self.count is not None and self.started >= self.count:
            return self.check_finished()
        self.started += 1
        i = Instance.started.get(self.task, 0)
        task = start(self.body, self.task, i=i, replica=i, **self.args(i))
        self.running += 1
        task.add_done_callback(lambda _, user=user: self.user_done(user))

    def user_done(self, user):
        self.running -= 1
        if self.stopped or (self.count is not None and self.started >= self.count):
            return self.check_finished()
        if user not in self.streams:
            self.streams[user] = Stream.for_instance(SEED, self.task + "/arrivals", user)
        think = self.think(self.streams[user])
        now_ns = round((self.loop.time() - self.origin) * 1e9)
        if self.duration is not None and now_ns + think >= self.duration:
            return self.check_finished()
        self.handles[user] = self.loop.call_later(ns(think), self.arrive, user)

    def check_finished(self):
        if not self.running and not self.handles and not self.finished.done():
            self.finished.set_result(None)

    def stop(self):
        self.stopped = True
        for handle in self.handles.values():
            handle.cancel()
        self.handles.clear()
        if not self.finished.done():
            self.finished.set_result(None)


def roots_of(task):
    """The instances of a task started at time 0."""
    return ROOTS.get(task, [])


async def awaited(tasks):
    if len(tasks) == 1:
        return await tasks[0]
    return await asyncio.gather(*tasks)


def only(tasks):
    """What wait_for waits for: one task or future (a handle holding none,
    or several, is an error in scenario-run too)."""
    if len(tasks) != 1:
        raise Exception("wait_for takes one task or future")
    return tasks[0]


def in_order(members, subset):
    return [t for t in members if t in subset]


def as_list(value):
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def field(value, path):
    """`{x.key}` (`{x.a.b}`: one key after the other): a field of a table,
    or an exception's `cause` (its `__cause__`)."""
    for key in path.split("."):
        if isinstance(value, BaseException):
            value = value.__cause__ if key == "cause" else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def text(value):
    """A value as the scenario prints it (Python's str, but an exception's class when it has no message)."""
    if isinstance(value, BaseException):
        return why(value)
    return str(value)


def as_float(value):
    return float(value)


def priority_of(value):
    """A put's priority: a number (an int or a float, not NaN)."""
    if type(value) not in (int, float) or value != value:
        raise Exception(f"priority must be a number, got {value!r}")
    return value


class RankedWaiters:
    """A priority semaphore's waiters: lowest priority first, equal ones in
    arrival order. The semaphore's own acquire and release use it as they
    use their deque (append, remove, iteration)."""

    def __init__(self):
        self.priority = 0
        self.arrivals = itertools.count()
        self.line = []

    def append(self, fut):
        bisect.insort(self.line, (self.priority, next(self.arrivals), fut))

    def remove(self, fut):
        for i, (_, _, waiter) in enumerate(self.line):
            if waiter is fut:
                del self.line[i]
                return
        raise ValueError("not waiting")

    def __iter__(self):
        return iter([fut for _, _, fut in self.line])

    def __len__(self):
        return len(self.line)


class PrioritySemaphore(asyncio.Semaphore):
    """asyncio.Semaphore, its waiters served by priority (SimPy's
    PriorityResource): `async with cpu.at(2):`."""

    def __init__(self, value):
        super().__init__(value)
        self._waiters = RankedWaiters()

    def at(self, priority):
        """The priority the next waiter takes."""
        self._waiters.priority = priority
        return self


class Preempted(Exception):
    """What a preemptive semaphore's `async with` raises in the holder whose
    permit a newcomer of lower priority took."""


class PreemptiveSemaphore(PrioritySemaphore):
    """A PrioritySemaphore whose newcomer, kept out, takes the permit of the
    worst other holder (the highest priority number, the latest among
    equals) when its own priority is lower; that holder is cancelled, and
    its `async with` turns the cancellation into Preempted (SimPy's
    PreemptiveResource)."""

    def __init__(self, value):
        super().__init__(value)
        self.holders = {}
        self.takes = itertools.count()
        self.preempted = {}

    async def acquire(self):
        me = asyncio.current_task()
        priority = self._waiters.priority
        if self.locked():
            others = [t for t in self.holders if t is not me]
            worst = max(others, key=self.holders.get, default=None)
            if worst is not None and self.holders[worst][0] > priority:
                del self.holders[worst]
                self.preempted[worst] = priority
                self.holders[me] = (priority, next(self.takes))
                worst.cancel("preempted")
                return True
        await super().acquire()
        self.holders[me] = (priority, next(self.takes))
        return True

    async def __aexit__(self, exc_type, exc, tb):
        me = asyncio.current_task()
        if me in self.preempted:
            by = self.preempted.pop(me)
            if exc_type is asyncio.CancelledError:
                me.uncancel()
                raise Preempted(f"preempted by priority {by}")
            return None
        self.holders.pop(me, None)
        self.release()


UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
         "h": 3_600_000_000_000, "d": 86_400_000_000_000}


def seconds(duration):
    """A duration read at run time (`"{delay}"`): `250ms`, `1.5s`, or seconds."""
    duration = str(duration).strip()
    number = duration.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = duration[len(number):].strip() or "s"
    return float(number) * UNITS[unit] / 1e9


def attr(tasks, name):
    """`{t.state}`, `{t.done}`, `{g.count}`...: of one task, or of each in a group."""
    if name == "count":
        return len(tasks)
    if name == "done" and len(tasks) != 1:
        return all(t.done() for t in tasks)

    def one(t):
        state = state_of(t)
        if name == "name":
            return t.get_name()
        if name == "state":
            return state
        if name == "done":
            return state != "pending"
        if name == "cancelled":
            return state == "cancelled"
        if name == "result":
            return t.result() if state == "done" else None
        if name == "cancelling":
            return t.cancelling() if isinstance(t, asyncio.Task) else 0
        if name == "error":
            return t.exception() if state == "failed" else (asyncio.CancelledError() if state == "cancelled" else None)
    return one(tasks[0]) if len(tasks) == 1 else [one(t) for t in tasks]


def why(error):
    """What the scenario calls an exception: the message of a plain
    Exception, else `Class: message`, or the class when there is none."""
    text = str(error)
    if not isinstance(error, BaseException):
        return text
    name = type(error).__name__
    if not text:
        return name
    if type(error) in (Exception, Skipped):
        return text
    return f"{name}: {text}"


class Skipped(Exception):
    """A task whose `after` rule can no longer be met (Airflow's "skipped")."""


def state_of(task):
    if not task.done():
        return "pending"
    if task.cancelled():
        return "cancelled"
    error = task._exception  # read without retrieving it, as scenario-run does
    if error is None:
        return "done"
    return "skipped" if isinstance(error, Skipped) else "failed"


def decide(rule, tasks):
    """A trigger rule, decided as soon as it can no longer change: True to
    start, False to skip, None while it waits."""
    states = [state_of(t) for t in tasks]
    finished = "pending" not in states
    if rule == "all_success":
        if any(s not in ("pending", "done") for s in states):
            return False
        return True if finished else None
    if rule == "all_done":
        return True if finished else None
    wanted = "done" if rule == "one_success" else "failed"
    if wanted in states:
        return True
    return False if finished else None


async def upstream(tasks, rule):
    """`after`: waits until the upstream tasks decide the rule."""
    while (verdict := decide(rule, tasks)) is None:
        running = [t for t in tasks if not t.done()]
        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    if not verdict:
        raise Skipped(rule)


def check(tasks, want):
    for task in tasks:
        state = state_of(task)
        if not (state == want or (want == "finished" and state != "pending")):
            print(f"check FAILED: {task.get_name()} is {state}, expected {want}", file=sys.stderr)
"#;

impl Writer<'_> {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// A variable or handle as a Python name, apart from the module's own
    /// names (a handle may be called like a task).
    fn sym(&self, s: Sym) -> String {
        let name = ident(&self.model.symbols[s as usize]);
        let m = self.model;
        let global = m
            .tasks
            .iter()
            .map(|t| &t.name)
            .chain(m.semaphores.iter().map(|x| &x.name))
            .chain(m.queues.iter().map(|x| &x.name))
            .chain(m.futures.iter().map(|x| &x.name))
            .chain(m.events.iter().map(|x| &x.name))
            .chain(m.barriers.iter().map(|x| &x.name))
            .chain(m.conditions.iter().map(|x| &x.name))
            .any(|g| ident(g) == name);
        if global { format!("{name}_") } else { name }
    }

    /// What a `get` from `queue` assigns: `item`, or on a priority queue
    /// `priority, ticket, item` (its entries are `(priority, seq, item)`).
    fn got(&self, queue: u32) -> String {
        let it = self.sym(sym::ITEM);
        if param_of(queue).is_none()
            && self.model.queues[queue as usize].kind == QueueKind::Priority
        {
            format!("{}, ticket, {it}", self.sym(sym::PRIORITY))
        } else {
            it
        }
    }

    fn task_fn(&self, def: u32) -> String {
        ident(&self.model.tasks[def as usize].name)
    }

    fn program(&mut self, file: &str) {
        let m = self.model;
        let title = if m.name.is_empty() { file } else { &m.name };
        self.line(&format!("\"\"\"{}", title.replace('"', "'")));
        self.line("");
        self.line(&format!(
            "Exported by scenario-run from {}, whose trace models CPython {}.",
            file.replace('"', "'"),
            m.python
        ));
        self.line(
            "Run it with: python3 THIS_FILE.py (SPEED=60 python3 THIS_FILE.py: a minute a second)",
        );
        self.line("\"\"\"");
        self.out.push_str(PRELUDE);
        self.line("");
        self.line(&format!("SEED = {}", m.seed));
        let daemons: Vec<String> = m
            .tasks
            .iter()
            .filter(|t| t.daemon)
            .map(|t| quoted(&t.name))
            .collect();
        if !daemons.is_empty() {
            self.line(&format!("DAEMONS.update([{}])", daemons.join(", ")));
        }
        self.line("");
        for (name, base) in m.classes.own() {
            let base = python_name(*base, m.classes.name(*base));
            self.line(&format!(
                "{} = type({}, ({base},), {{}})",
                python_name(m.classes.find(name).expect("declared"), name),
                quoted(name)
            ));
        }
        // A condition's own lock is the condition's (`async with cv`).
        let own = |i: usize| {
            m.conditions
                .iter()
                .any(|c| c.own_lock && c.lock as usize == i)
        };
        for (_, s) in m.semaphores.iter().enumerate().filter(|(i, _)| !own(*i)) {
            let permits = match s.kind {
                SemKind::Lock => String::new(),
                SemKind::Semaphore | SemKind::Bounded | SemKind::Priority | SemKind::Preemptive => {
                    s.permits.to_string()
                }
            };
            self.line(&format!(
                "{} = {}({permits})",
                ident(&s.name),
                s.kind.python()
            ));
        }
        for c in &m.conditions {
            let lock = match c.own_lock {
                true => String::new(),
                false => ident(&m.semaphores[c.lock as usize].name),
            };
            self.line(&format!("{} = asyncio.Condition({lock})", ident(&c.name)));
        }
        for q in &m.queues {
            let size = q.capacity.unwrap_or(0);
            let name = ident(&q.name);
            self.line(&format!("{name} = {}(maxsize={size})", q.kind.class()));
            if q.kind == QueueKind::Priority {
                // Items go in as (priority, seq, item): `seq`, drawn as a
                // put begins, orders equal priorities and keeps items from
                // ever being compared.
                self.line(&format!("{name}.puts = itertools.count()"));
            }
        }
        for f in &m.futures {
            self.line(&format!(
                "{}: asyncio.Future  # made when the loop runs",
                ident(&f.name)
            ));
        }
        for e in &m.events {
            self.line(&format!(
                "{}: asyncio.Event  # made when the loop runs",
                ident(&e.name)
            ));
        }
        for b in &m.barriers {
            self.line(&format!(
                "{}: asyncio.Barrier  # made when the loop runs",
                ident(&b.name)
            ));
        }
        for (n, f) in m.futures.iter().enumerate() {
            if f.on_done.is_empty() {
                continue;
            }
            self.line("");
            self.line("");
            self.line(&format!("def on_{}_done(future):", ident(&f.name)));
            self.depth += 1;
            let name = quoted(&f.name);
            self.line(&format!("me = Callback({name})"));
            self.line("result, error = outcome(future)");
            let body = m.futures[n].on_done.clone();
            self.block(&body);
            self.depth -= 1;
        }
        let mut callbacks = Vec::new();
        for t in &m.tasks {
            if t.on_done.is_empty() {
                continue;
            }
            let f = format!("on_{}_done", ident(&t.name));
            callbacks.push(format!("{}: {f}", quoted(&t.name)));
            self.line("");
            self.line("");
            self.line(&format!("def {f}(task):"));
            self.depth += 1;
            self.line("me = Callback(task.get_name())");
            self.line("result, error = outcome(task)");
            self.block(&t.on_done.clone());
            self.depth -= 1;
        }
        if !callbacks.is_empty() {
            self.line("");
            self.line("");
            self.line(&format!(
                "DONE_CALLBACKS.update({{{}}})",
                callbacks.join(", ")
            ));
        }
        for (d, t) in m.tasks.iter().enumerate() {
            self.line("");
            self.line("");
            self.task(d as u32, t);
        }
        self.line("");
        self.line("");
        self.entry();
    }

    fn task(&mut self, _def: u32, t: &TaskDef) {
        self.name_is_arg = t.args.iter().any(|(s, _)| *s == sym::NAME);
        let mut params = vec!["me".to_owned()];
        for (s, e) in &t.args {
            let default = match e {
                Expr::Value(v) => literal(v),
                _ => "None".into(),
            };
            params.push(format!("{}={default}", self.sym(*s)));
        }
        // Handle parameters: the caller's list of tasks (or a future's).
        for (s, _) in &t.handles {
            params.push(format!("{}=None", self.sym(*s)));
        }
        self.line(&format!(
            "async def {}({}):",
            ident(&t.name),
            params.join(", ")
        ));
        self.depth += 1;
        if t.retry.is_none() {
            self.fresh_locals(t);
        }
        if !t.after.is_empty() {
            let ups: Vec<String> = t
                .after
                .iter()
                .map(|d| {
                    format!(
                        "*roots_of({})",
                        name_literal(&self.model.tasks[*d as usize].name)
                    )
                })
                .collect();
            self.line(&format!(
                "await upstream([{}], {})",
                ups.join(", "),
                quoted(t.trigger.name())
            ));
        }
        self.line("began = now()");
        let body_depth = self.depth;
        if let Some(deadline) = t.deadline {
            self.line(&format!(
                "async with asyncio.timeout({}):  # the deadline",
                secs(deadline)
            ));
            self.depth += 1;
        }
        let mut depth0 = self.depth;
        if let Some(retry) = &t.retry {
            self.line(&format!("for attempt in range(1, {} + 1):", retry.attempts));
            self.depth += 1;
            self.line("try:");
            self.depth += 1;
            depth0 = self.depth;
            // Each attempt starts afresh from the task's arguments.
            self.fresh_locals(t);
        }
        if let Some(sem) = t.limit {
            let name = ident(&self.model.semaphores[sem as usize].name);
            self.line(&format!("async with {name}:"));
            self.depth += 1;
        }
        if let Some(after) = t.timeout {
            self.line(&format!("async with asyncio.timeout({}):", secs(after)));
            self.depth += 1;
        }
        self.block(&t.body);
        self.depth = depth0;
        if let Some(retry) = &t.retry {
            self.line("break");
            self.depth -= 1;
            let kinds = self.except_clauses(&retry.on);
            self.line(&format!("except ({}):", kinds.join(", ")));
            self.depth += 1;
            self.line(&format!("if attempt == {}:", retry.attempts));
            self.line("    raise");
            let wait = format!(
                "min({} * {:?} ** (attempt - 1), {})",
                retry.backoff,
                retry.factor,
                retry
                    .max_backoff
                    .map_or("math.inf".to_owned(), |m| m.to_string())
            );
            if retry.jitter > 0.0 {
                self.line(&format!(
                    "wait = round({wait} * (1.0 - {:?} * me.stream.unit()))",
                    retry.jitter
                ));
            } else {
                self.line(&format!("wait = int({wait})"));
            }
            self.line("await asyncio.sleep(ns(wait))");
        }
        self.depth = body_depth - 1;
    }

    /// The variables a body reads before it sets them, and its groups:
    /// `None` and empty at the start (of each attempt).
    fn fresh_locals(&mut self, t: &TaskDef) {
        let builtins: Vec<String> = [sym::RESULT, sym::ITEM, sym::ERROR, sym::PRIORITY]
            .into_iter()
            .filter(|b| !t.args.iter().any(|(a, _)| a == b))
            .map(|b| self.sym(b))
            .collect();
        if !builtins.is_empty() {
            self.line(&format!("{} = None", builtins.join(" = ")));
        }
        let mut groups = Vec::new();
        collect_groups(&t.body, &mut groups);
        // A handle parameter starts as what the caller passed.
        groups.retain(|g| !t.handles.iter().any(|(h, _)| h == g));
        for g in groups {
            let g = self.sym(g);
            self.line(&format!("{g} = []"));
        }
        self.callback_handles(&t.body);
    }

    fn entry(&mut self) {
        let m = self.model;
        self.line("async def scenario():");
        self.depth += 1;
        self.line("roots = []");
        for (d, t) in m.tasks.iter().enumerate() {
            if let Some(arrivals) = &t.arrivals {
                self.source(d as u32, arrivals);
            }
            if !t.root {
                continue;
            }
            let f = self.task_fn(d as u32);
            let name = quoted(&t.name);
            let args = self.root_args(t);
            if t.count == 1 && !self.model_counts_replicas(d) {
                self.line(&format!(
                    "roots.append(start({f}, {name}, replica=None{args}))"
                ));
            } else {
                self.line(&format!("for i in range({}):", t.count));
                self.line(&format!(
                    "    roots.append(start({f}, {name}, i=i, replica=i{args}))"
                ));
            }
            self.line(&format!("ROOTS[{name}] = roots[-{}:]", t.count));
            if Some(d as u32) == m.main {
                self.line(&format!("main_task = ROOTS[{name}][0]"));
            }
        }
        if m.main.is_some() {
            self.line("await asyncio.wait([main_task])");
            self.line("await after_main()");
            self.line("return main_task");
        } else {
            if m.tasks.iter().any(|t| t.arrivals.is_some()) {
                self.line("# Until the arrival processes are over...");
                self.line("await asyncio.gather(*(source.finished for source in SOURCES))");
            }
            self.line("# Like scenario-run: run until every task but the daemons has finished,");
            self.line("# then until the daemons have nothing left to do.");
            // A task done inside create_task (eager) is in no all_tasks(), and
            // a callback already due may start more: what is ready, or due,
            // runs before the wait ends.
            self.line("loop = asyncio.get_running_loop()");
            self.line("while True:");
            self.line(
                "    if others := asyncio.all_tasks() - {asyncio.current_task()} - LEFT_WAITING:",
            );
            self.line("        await asyncio.wait(others)");
            self.line(
                "    elif loop._ready or any(h.when() <= loop.time() for h in loop._scheduled if not h.cancelled()):",
            );
            self.line("        await asyncio.sleep(0)");
            self.line("    else:");
            self.line("        break");
            if m.tasks.iter().any(|t| t.daemon) {
                self.line("await until_idle()");
            }
        }
        self.depth -= 1;
        self.line("");
        self.line("");
        self.line("async def begin():");
        self.depth += 1;
        if m.eager_tasks {
            self.line("# `eager_tasks`: every task's first step runs inside create_task.");
            self.line("asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)");
        }
        let futures: Vec<String> = m.futures.iter().map(|f| ident(&f.name)).collect();
        if !futures.is_empty() {
            self.line(&format!("global {}", futures.join(", ")));
            for (f, def) in futures.iter().zip(&m.futures) {
                self.line(&format!("{f} = asyncio.get_running_loop().create_future()"));
                self.line(&format!("FUTURES.append(({}, {f}))", quoted(&def.name)));
                if !def.on_done.is_empty() {
                    self.line(&format!("{f}.add_done_callback(on_{f}_done)"));
                }
            }
        }
        let events: Vec<String> = m.events.iter().map(|e| ident(&e.name)).collect();
        if !events.is_empty() {
            self.line(&format!("global {}", events.join(", ")));
            for e in &events {
                self.line(&format!("{e} = asyncio.Event()"));
            }
        }
        if !m.barriers.is_empty() {
            let names: Vec<String> = m.barriers.iter().map(|b| ident(&b.name)).collect();
            self.line(&format!("global {}", names.join(", ")));
            for (b, def) in names.iter().zip(&m.barriers) {
                self.line(&format!("{b} = asyncio.Barrier({})", def.parties));
            }
        }
        if uses_default_executor(m) {
            self.line(&format!(
                "asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers={}))  # min(32, cpu + 4), cpu = {}",
                m.workers(None),
                m.cpu
            ));
        }
        for e in &m.executors {
            self.line(&format!(
                "global {0}\n    {0} = concurrent.futures.ThreadPoolExecutor(max_workers={1})",
                pool_ident(&e.name),
                e.workers
            ));
        }
        self.line("return await scenario()");
        self.depth -= 1;
        self.line("");
        self.line("");
        self.line("if __name__ == \"__main__\":");
        self.line("    finish(run(begin()))");
    }

    /// Whether a root task's instances are named `name[k]` (replicas).
    fn model_counts_replicas(&self, def: usize) -> bool {
        self.model.tasks[def].count > 1
    }

    fn root_args(&self, t: &TaskDef) -> String {
        let mut s = String::new();
        for (sym_, e) in &t.args {
            if matches!(e, Expr::Value(_)) {
                continue;
            }
            let _ = write!(s, ", {}={}", self.sym(*sym_), self.expr_with_i(e, true));
        }
        s
    }

    fn block(&mut self, steps: &[Step]) {
        if steps.is_empty() {
            self.line("pass");
        }
        for step in steps {
            self.step(step);
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Sleep(d) => {
                let d = self.delay(d);
                self.line(&format!("await asyncio.sleep({d})"));
            }
            Step::Block(d) => {
                let d = self.delay(d);
                self.line(&format!(
                    "time.sleep({d})  # a blocking call: holds the loop"
                ));
            }
            Step::Thread(w) => {
                let d = self.delay(&w.delay);
                let outcome = match &w.error {
                    Some((message, class)) => {
                        let class = self.class(*class);
                        format!("None, {class}({})", self.fstring(message))
                    }
                    None => self.expr(&w.value),
                };
                let call = match (w.to_thread, w.executor) {
                    (true, _) => "asyncio.to_thread(".to_owned(),
                    (false, None) => "asyncio.get_running_loop().run_in_executor(None, ".to_owned(),
                    (false, Some(e)) => format!(
                        "asyncio.get_running_loop().run_in_executor({}, ",
                        pool_ident(&self.model.executors[e as usize].name)
                    ),
                };
                self.line(&format!(
                    "result = await {call}thread_work, {d}, {outcome})"
                ));
            }
            Step::Log(t) => {
                let t = self.fstring(t);
                self.line(&format!("print({t})"));
            }
            Step::Fail {
                message,
                chance,
                class,
                from,
            } => {
                let class = self.class(*class);
                let cause = match from {
                    None => String::new(),
                    Some(RaiseFrom::Error) => format!(" from {}", self.sym(sym::ERROR)),
                    Some(RaiseFrom::Nothing) => " from None".to_owned(),
                };
                let raise = format!("raise {class}({}){cause}", self.fstring(message));
                match chance {
                    None => self.line(&raise),
                    Some(p) => {
                        self.line(&format!("if me.stream.unit() < {p:?}:"));
                        self.line(&format!("    {raise}"));
                    }
                }
            }
            Step::Return(e) => {
                let e = self.expr(e);
                self.line(&format!("return {e}"));
            }
            Step::Spawn { start, bind } if bind.in_task_group => {
                let group = bind.into.map(|g| self.sym(g));
                let tasks = self.start_expr_in(start, group.as_deref());
                match bind.as_ {
                    Some(h) => {
                        let h = self.sym(h);
                        self.line(&format!("{h} = {tasks}"));
                    }
                    None => self.line(&tasks),
                }
            }
            Step::Spawn { start, bind } => {
                let tasks = self.start_expr(start);
                match (bind.as_, bind.into) {
                    (Some(h), into) => {
                        let h = self.sym(h);
                        self.line(&format!("{h} = {tasks}"));
                        if let Some(g) = into {
                            let g = self.sym(g);
                            self.line(&format!("{g} = [*{g}, *{h}]"));
                        }
                    }
                    (None, Some(g)) => {
                        let g = self.sym(g);
                        self.line(&format!("{g} = [*{g}, *{tasks}]"));
                    }
                    (None, None) => self.line(&tasks),
                }
            }
            Step::Call(start) => {
                let f = self.task_fn(start.def);
                let args = self.call_args(start);
                self.line(&format!("result = await {f}(me{args})"));
            }
            Step::Await(target) => {
                let t = self.target(target);
                self.line(&format!("result = await awaited({t})"));
            }
            Step::Gather {
                targets,
                return_exceptions,
            } => {
                let all: Vec<String> = targets
                    .iter()
                    .map(|t| format!("*{}", self.target(t)))
                    .collect();
                let re = if *return_exceptions {
                    ", return_exceptions=True"
                } else {
                    ""
                };
                self.line(&format!(
                    "result = await asyncio.gather({}{re})",
                    all.join(", ")
                ));
            }
            Step::Wait {
                targets,
                when,
                timeout,
                cancel_pending,
            } => {
                let all: Vec<String> = targets
                    .iter()
                    .map(|t| format!("*{}", self.target(t)))
                    .collect();
                let when = match when {
                    ReturnWhen::AllCompleted => "",
                    ReturnWhen::FirstCompleted => ", return_when=asyncio.FIRST_COMPLETED",
                    ReturnWhen::FirstException => ", return_when=asyncio.FIRST_EXCEPTION",
                };
                let timeout = timeout.map_or(String::new(), |t| format!(", timeout={}", secs(t)));
                let (d, p) = (self.sym(sym::DONE), self.sym(sym::PENDING));
                self.line(&format!("members = [{}]", all.join(", ")));
                self.line(&format!(
                    "{d}, {p} = await asyncio.wait(members{timeout}{when})"
                ));
                self.line(&format!(
                    "{d}, {p} = in_order(members, {d}), in_order(members, {p})"
                ));
                if *cancel_pending {
                    self.line(&format!("for one_task in {p}:"));
                    self.line("    one_task.cancel()");
                }
            }
            Step::AsCompleted {
                targets,
                timeout,
                body,
            } => {
                let all: Vec<String> = targets
                    .iter()
                    .map(|t| format!("*{}", self.target(t)))
                    .collect();
                let timeout = timeout.map_or(String::new(), |t| format!(", timeout={}", secs(t)));
                self.line(&format!(
                    "for next_done in asyncio.as_completed([{}]{timeout}):",
                    all.join(", ")
                ));
                self.depth += 1;
                self.line("result = await next_done");
                self.block(body);
                self.depth -= 1;
            }
            Step::WaitFor {
                target,
                timeout,
                shield,
            } => {
                let one = format!("only({})", self.target(target));
                let inner = if *shield {
                    format!("asyncio.shield({one})")
                } else {
                    one
                };
                self.line(&format!(
                    "result = await asyncio.wait_for({inner}, timeout={})",
                    secs(*timeout)
                ));
            }
            Step::Timeout {
                after,
                absolute,
                body,
            } => {
                let how = if *absolute { "timeout_at" } else { "timeout" };
                self.line(&format!("async with asyncio.{how}({}):", secs(*after)));
                self.nested(body);
            }
            Step::Cancel { target, msg } => {
                let t = self.target(target);
                let msg = match msg {
                    Some(m) => self.fstring(m),
                    None => String::new(),
                };
                self.line(&format!("for one_task in {t}:"));
                self.line(&format!("    one_task.cancel({msg})"));
            }
            Step::Uncancel => self.line("asyncio.current_task().uncancel()"),
            Step::Try(t) => self.try_step(&t.body, &t.except, &t.finally, &t.catch, t.star),
            Step::TaskGroup { name, body } => {
                let tg = self.sym(*name);
                self.line(&format!("async with asyncio.TaskGroup() as {tg}:"));
                self.nested(body);
            }
            Step::With {
                sem,
                body,
                priority,
            } => {
                let s = self.ranked(*sem, priority.as_ref());
                self.line(&format!("async with {s}:"));
                self.nested(body);
            }
            Step::Acquire { sem, priority } => {
                let s = self.ranked(*sem, priority.as_ref());
                self.line(&format!("await {s}.acquire()"));
            }
            Step::Release(sem) => {
                let s = self.sem_name(*sem);
                self.line(&format!("{s}.release()"));
            }
            Step::Put {
                queue,
                item,
                priority,
            } => {
                let q = self.queue_name(*queue);
                self.put(&format!("await {q}.put"), &q, item, priority.as_ref());
            }
            Step::Get(queue) => {
                let got = self.got(*queue);
                let q = self.queue_name(*queue);
                self.line(&format!("{got} = await {q}.get()"));
            }
            Step::PutNowait {
                queue,
                item,
                priority,
            } => {
                let q = self.queue_name(*queue);
                self.put(&format!("{q}.put_nowait"), &q, item, priority.as_ref());
            }
            Step::GetNowait(queue) => {
                let got = self.got(*queue);
                let q = self.queue_name(*queue);
                self.line(&format!("{got} = {q}.get_nowait()"));
            }
            Step::TaskDone(queue) => {
                let q = self.queue_name(*queue);
                self.line(&format!("{q}.task_done()"));
            }
            Step::Join(queue) => {
                let q = self.queue_name(*queue);
                self.line(&format!("await {q}.join()"));
            }
            Step::Shutdown { queue, immediate } => {
                let q = self.queue_name(*queue);
                let immediate = if *immediate { "True" } else { "False" };
                self.line(&format!("{q}.shutdown(immediate={immediate})"));
            }
            Step::Consume { queue, until, body } => {
                let got = self.got(*queue);
                let q = self.queue_name(*queue);
                let it = self.sym(sym::ITEM);
                self.line("while True:");
                self.depth += 1;
                self.line(&format!("{got} = await {q}.get()"));
                if let Some(u) = until {
                    let u = self.expr(u);
                    self.line(&format!("if str({it}) == str({u}):"));
                    self.line(&format!("    {q}.task_done()"));
                    self.line("    break");
                }
                self.line("try:");
                self.depth += 1;
                self.block(body);
                self.depth -= 1;
                self.line("finally:");
                self.line(&format!("    {q}.task_done()"));
                self.depth -= 1;
            }
            Step::SetResult { future, value } => {
                let f = ident(&self.model.futures[*future as usize].name);
                let v = self.expr(value);
                self.line(&format!("{f}.set_result({v})"));
            }
            Step::SetException {
                future,
                message,
                class,
            } => {
                let f = ident(&self.model.futures[*future as usize].name);
                let m = self.fstring(message);
                let class = self.class(*class);
                self.line(&format!("{f}.set_exception({class}({m}))"));
            }
            Step::Set(e) => {
                let e = self.event_name(*e);
                self.line(&format!("{e}.set()"));
            }
            Step::Clear(e) => {
                let e = self.event_name(*e);
                self.line(&format!("{e}.clear()"));
            }
            Step::WaitEvent(e) => {
                let e = self.event_name(*e);
                self.line(&format!("result = await {e}.wait()"));
            }
            Step::WaitBarrier(b) => {
                let b = ident(&self.model.barriers[*b as usize].name);
                self.line(&format!("result = await {b}.wait()"));
            }
            Step::Abort(b) => {
                let b = ident(&self.model.barriers[*b as usize].name);
                self.line(&format!("await {b}.abort()"));
            }
            Step::Reset(b) => {
                let b = ident(&self.model.barriers[*b as usize].name);
                self.line(&format!("await {b}.reset()"));
            }
            Step::WaitCondition { cond, until } => {
                let c = ident(&self.model.conditions[*cond as usize].name);
                let result = self.sym(sym::RESULT);
                match until {
                    None => self.line(&format!("{result} = await {c}.wait()")),
                    Some(p) => {
                        let v = self.reference(&p.what, false);
                        let not = if p.not { "not " } else { "" };
                        self.line(&format!("{result} = await {c}.wait_for(lambda: {not}{v})"));
                    }
                }
            }
            Step::Notify { cond, n } => {
                let c = ident(&self.model.conditions[*cond as usize].name);
                match n {
                    1 => self.line(&format!("{c}.notify()")),
                    n => self.line(&format!("{c}.notify({n})")),
                }
            }
            Step::NotifyAll(cond) => {
                let c = ident(&self.model.conditions[*cond as usize].name);
                self.line(&format!("{c}.notify_all()"));
            }
            Step::Repeat { times, body } => {
                let i = self.sym(sym::I);
                self.line(&format!("for {i} in range({times}):"));
                self.loops.push(sym::I);
                self.nested(body);
                self.loops.pop();
            }
            Step::Forever(body) => {
                let i = self.sym(sym::I);
                self.line(&format!("for {i} in itertools.count():"));
                self.loops.push(sym::I);
                self.nested(body);
                self.loops.pop();
            }
            Step::For { var, items, body } => {
                let (i, v) = (self.sym(sym::I), self.sym(*var));
                let items = self.expr(items);
                self.line(&format!("for {i}, {v} in enumerate(as_list({items})):"));
                self.loops.push(sym::I);
                self.nested(body);
                self.loops.pop();
            }
            Step::Each { handle, var, body } => {
                let (i, v) = (self.sym(sym::I), self.sym(*var));
                let h = self.target(handle);
                self.line(&format!("for {i}, {v} in enumerate({h}):"));
                self.line(&format!("    {v} = [{v}]"));
                self.loops.push(sym::I);
                self.nested(body);
                self.loops.pop();
            }
            Step::Check { target, state } => {
                let t = self.target(target);
                let want = StateName::NAMES[*state as usize];
                self.line(&format!("check({t}, {})", quoted(want)));
            }
            Step::Break => self.line("break"),
            Step::Reraise => self.line("raise"),
            Step::Schedule(s) => self.schedule(s),
            Step::CancelCallback(h) => {
                let h = self.sym(*h);
                self.line(&format!("if {h} is not None:"));
                self.line(&format!("    {h}.cancel()"));
            }
        }
    }

    /// `call_soon`, `call_later`, `call_at`: the callback is a function of
    /// its own, named after who schedules it (bound now, as the loop keeps
    /// it), with a callback's variables.
    fn schedule(&mut self, s: &Scheduled) {
        self.callbacks += 1;
        let f = format!("callback_{}", self.callbacks);
        self.line(&format!("def {f}(name=me.name):"));
        self.depth += 1;
        let (loops, name_is_arg) = (std::mem::take(&mut self.loops), self.name_is_arg);
        self.name_is_arg = false;
        self.line("me = Callback(name)");
        self.line("began = now()");
        let (result, error) = (self.sym(sym::RESULT), self.sym(sym::ERROR));
        self.line(&format!("{result} = {error} = None"));
        self.callback_locals(&s.body);
        self.block(&s.body);
        (self.loops, self.name_is_arg) = (loops, name_is_arg);
        self.depth -= 1;
        let call = match s.when {
            When::Soon => format!("call_soon({f})"),
            When::Later(ns) => format!("call_later({}, {f})", secs(ns)),
            When::At(ns) => format!("call_at({}, {f})", secs(ns)),
        };
        let bind = match s.handle {
            Some(h) => format!("{} = ", self.sym(h)),
            None => String::new(),
        };
        self.line(&format!("{bind}asyncio.get_running_loop().{call}"));
    }

    /// A body's handles of the callbacks it names, `None` at the start (as
    /// its task handles are empty lists), and its task groups.
    fn callback_locals(&mut self, steps: &[Step]) {
        let mut groups = Vec::new();
        collect_groups(steps, &mut groups);
        for g in groups {
            let g = self.sym(g);
            self.line(&format!("{g} = []"));
        }
        self.callback_handles(steps);
    }

    fn callback_handles(&mut self, steps: &[Step]) {
        let mut handles = Vec::new();
        collect_callback_handles(steps, &mut handles);
        for h in handles {
            let h = self.sym(h);
            self.line(&format!("{h} = None"));
        }
    }

    fn nested(&mut self, body: &[Step]) {
        self.depth += 1;
        self.block(body);
        self.depth -= 1;
    }

    /// A put into queue `q` by `call` (`await q.put`, `q.put_nowait`):
    /// the item, as a `(priority, seq, item)` tuple on a priority queue;
    /// `item` is set once the put is done, not when it blocks.
    fn put(&mut self, call: &str, q: &str, item: &Expr, priority: Option<&Expr>) {
        let e = self.expr(item);
        let it = self.sym(sym::ITEM);
        self.line(&format!("to_put = {e}"));
        match priority {
            Some(p) => {
                let p = self.expr(p);
                self.line(&format!(
                    "{call}((priority_of({p}), next({q}.puts), to_put))"
                ));
            }
            None => self.line(&format!("{call}(to_put)")),
        }
        self.line(&format!("{it} = to_put"));
    }

    /// A semaphore about to be acquired: on a priority semaphore, with the
    /// priority its next waiter takes (`cpu.at(2)`, 0 when none is given).
    fn ranked(&mut self, sem: SemId, priority: Option<&Expr>) -> String {
        let s = self.sem_name(sem);
        // A parameter is never a priority semaphore (validation refuses it).
        if param_of(sem).is_some() || !self.model.semaphores[sem as usize].kind.ranked() {
            return s;
        }
        let p = priority.map_or_else(|| "0".to_owned(), |p| self.expr(p));
        format!("{s}.at(priority_of({p}))")
    }

    /// How Python names a class.
    fn class(&self, class: ClassId) -> String {
        python_name(class, self.model.classes.name(class))
    }

    /// The classes an `except` names for `catch` (or a `retry_on`), after
    /// writing an `except TimeoutError: raise` first when `error` is
    /// caught but no timeout is.
    fn except_clauses(&mut self, catch: &Catch) -> Vec<String> {
        let classes = &self.model.classes;
        let timeouts = catch.timeout
            || catch
                .classes
                .iter()
                .any(|&c| classes.is_a(TIMEOUT_ERROR, c));
        let mut caught = Vec::new();
        if catch.timeout {
            caught.push("TimeoutError".to_owned());
        } else if catch.error && !timeouts {
            self.line("except TimeoutError:");
            self.line("    raise");
        }
        if catch.error {
            caught.push("Exception".to_owned());
        }
        if catch.cancelled {
            caught.push("asyncio.CancelledError".to_owned());
        }
        for &c in &catch.classes {
            caught.push(self.class(c));
        }
        caught
    }

    fn try_step(
        &mut self,
        body: &[Step],
        except: &[Step],
        finally: &[Step],
        catch: &Catch,
        star: bool,
    ) {
        self.line("try:");
        self.nested(body);
        let err = self.sym(sym::ERROR);
        let caught = match star {
            // Classes only (and `timeout`), as validation allows.
            true => {
                let timeout = catch.timeout.then(|| "TimeoutError".to_owned());
                let classes = catch.classes.iter().map(|&c| self.class(c));
                timeout.into_iter().chain(classes).collect()
            }
            false => self.except_clauses(catch),
        };
        let except_ = if star { "except*" } else { "except" };
        if !caught.is_empty() {
            self.line(&format!("{except_} ({}) as caught:", caught.join(", ")));
            self.depth += 1;
            self.line(&format!("{err} = caught"));
            self.block(except);
            self.depth -= 1;
        }
        if !finally.is_empty() {
            self.line("finally:");
            self.nested(finally);
        }
    }

    /// An arrival process started by `scenario()`: `Arrivals(...)` or
    /// `Users(...)`, with the task's arguments per arrival.
    fn source(&mut self, def: crate::model::DefId, arrivals: &Arrivals) {
        let t = &self.model.tasks[def as usize];
        let f = self.task_fn(def);
        let name = quoted(&t.name);
        let args = self.root_args(t);
        let args = if args.is_empty() {
            String::new()
        } else {
            format!(", args=lambda i: dict({})", &args[2..])
        };
        let count = |n: Option<u64>| n.map(|n| format!(", count={n}")).unwrap_or_default();
        match arrivals {
            Arrivals::Open(p) => {
                let stages: Vec<String> = p
                    .stages
                    .iter()
                    .map(|s| format!("({:?}, {:?}, {})", s.from, s.to, s.duration))
                    .collect();
                let poisson = if p.poisson { ", poisson=True" } else { "" };
                self.line(&format!(
                    "Arrivals({f}, {name}, stages=[{}]{poisson}{}{args})",
                    stages.join(", "),
                    count(p.count)
                ));
            }
            Arrivals::Closed(u) => {
                let think = match &u.think {
                    Think::Fixed(ns) => format!("lambda stream: {ns}"),
                    Think::Drawn(dist) => format!("lambda stream: {}", draw(dist, "stream")),
                };
                let duration = u
                    .duration
                    .map(|d| format!(", duration={d}"))
                    .unwrap_or_default();
                self.line(&format!(
                    "Users({f}, {name}, users={}, think={think}{duration}{}{args})",
                    u.users,
                    count(u.count)
                ));
            }
        }
    }

    /// A delay in seconds, as Python source.
    fn delay(&self, d: &Delay) -> String {
        match d {
            Delay::Fixed(ns) => secs(*ns),
            Delay::Drawn(dist) => format!("ns({})", draw(dist, "me.stream")),
            Delay::Dynamic(t) => match t.pieces().collect::<Vec<_>>().as_slice() {
                [Piece::Ref(r, None)] => format!("seconds({})", self.reference(r, false)),
                _ => format!("seconds({})", self.fstring(t)),
            },
        }
    }

    /// The tasks a `spawn` starts, as a list expression.
    fn start_expr(&self, start: &Start) -> String {
        self.start_expr_in(start, None)
    }

    /// The tasks a `spawn` starts, in the task group `group` if given
    /// (`group.create_task`), as a list expression.
    fn start_expr_in(&self, start: &Start, group: Option<&str>) -> String {
        let def = &self.model.tasks[start.def as usize];
        let f = self.task_fn(start.def);
        let name = name_literal(&def.name);
        let count = start.count.unwrap_or(def.count);
        let mut args = self.start_args(start, start.count.is_some());
        if let Some(g) = group {
            args = format!(", in_group={g}{args}");
        }
        if count == 1 && start.count.is_none() {
            format!("[start({f}, {name}{args})]")
        } else {
            let i = self.sym(sym::I);
            format!("[start({f}, {name}, i={i}{args}) for {i} in range({count})]")
        }
    }

    fn start_args(&self, start: &Start, own_i: bool) -> String {
        let def = &self.model.tasks[start.def as usize];
        let mut s = String::new();
        for (sym_, default) in &def.args {
            let given = start.args.iter().find(|(s, _)| s == sym_).map(|(_, e)| e);
            let e = match given {
                Some(e) => self.expr_with_i(e, own_i),
                None if matches!(default, Expr::Value(_)) => continue,
                None => self.expr_with_i(default, own_i),
            };
            let _ = write!(s, ", {}={e}", self.sym(*sym_));
        }
        s.push_str(&self.handle_args(start));
        s
    }

    /// The handles a start passes: each a list of its own, as the handle
    /// is when the task starts (the tasks themselves are shared).
    fn handle_args(&self, start: &Start) -> String {
        let mut s = String::new();
        for (sym_, passed) in &start.handles {
            let value = match passed {
                Passed::Handle(target) => format!("list({})", self.target(target)),
                Passed::Queue(id) => self.queue_name(*id),
                Passed::Semaphore(id) => self.sem_name(*id),
                Passed::Event(id) => self.event_name(*id),
            };
            let _ = write!(s, ", {}={value}", self.sym(*sym_));
        }
        s
    }

    /// A queue a step names, as Python names it: the object, or the
    /// body's parameter that holds it.
    fn queue_name(&self, q: u32) -> String {
        match param_of(q) {
            Some(p) => self.sym(p),
            None => ident(&self.model.queues[q as usize].name),
        }
    }

    /// A semaphore a step names, as [`Writer::queue_name`] a queue.
    fn sem_name(&self, sem: u32) -> String {
        match param_of(sem) {
            Some(p) => self.sym(p),
            None => ident(&self.model.semaphores[sem as usize].name),
        }
    }

    /// An event a step names, as [`Writer::queue_name`] a queue.
    fn event_name(&self, e: u32) -> String {
        match param_of(e) {
            Some(p) => self.sym(p),
            None => ident(&self.model.events[e as usize].name),
        }
    }

    fn call_args(&self, start: &Start) -> String {
        let def = &self.model.tasks[start.def as usize];
        let mut s = String::new();
        for (sym_, default) in &def.args {
            let given = start.args.iter().find(|(s, _)| s == sym_).map(|(_, e)| e);
            let e = match given {
                Some(e) => self.expr(e),
                None if matches!(default, Expr::Value(_)) => continue,
                None => self.expr(default),
            };
            let _ = write!(s, ", {}={e}", self.sym(*sym_));
        }
        s.push_str(&self.handle_args(start));
        s
    }

    /// The tasks or futures a target names, as a list expression.
    fn target(&self, t: &Target) -> String {
        match t {
            Target::Local(s) => self.sym(*s),
            Target::Root(def) => {
                let name = name_literal(&self.model.tasks[*def as usize].name);
                format!("roots_of({name})")
            }
            Target::Future(f) => format!("[{}]", ident(&self.model.futures[*f as usize].name)),
            Target::Start(start) => self.start_expr(start),
        }
    }

    fn expr(&self, e: &Expr) -> String {
        self.expr_with_i(e, false)
    }

    /// `own_i`: `{i}` is the loop variable of a `spawn ... count` comprehension.
    fn expr_with_i(&self, e: &Expr, own_i: bool) -> String {
        match e {
            Expr::Value(v) => literal(v),
            Expr::Text(t) => match t.pieces().collect::<Vec<_>>().as_slice() {
                [Piece::Ref(r, None)] => self.reference(r, own_i),
                _ => self.fstring_with_i(t, own_i),
            },
            Expr::List(items) => {
                let items: Vec<String> = items.iter().map(|e| self.expr_with_i(e, own_i)).collect();
                format!("[{}]", items.join(", "))
            }
            Expr::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, e)| format!("{}: {}", quoted(k), self.expr_with_i(e, own_i)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }

    fn fstring(&self, t: &Template) -> String {
        self.fstring_with_i(t, false)
    }

    fn fstring_with_i(&self, t: &Template, own_i: bool) -> String {
        let mut out = String::from("f");
        let mut body = String::new();
        let mut any = false;
        for piece in t.pieces() {
            match piece {
                Piece::Text(text) => {
                    body.push_str(&text.replace('{', "{{").replace('}', "}}"));
                }
                Piece::Ref(r, precision) => {
                    any = true;
                    let value = self.reference(r, own_i);
                    match precision {
                        Some(p) => {
                            let _ = write!(body, "{{as_float({value}):.{p}f}}");
                        }
                        None => {
                            let _ = write!(body, "{{text({value})}}");
                        }
                    }
                }
            }
        }
        if !any {
            return quoted(&body.replace("{{", "{").replace("}}", "}"));
        }
        let q = quoted(&body);
        out.push_str(&q);
        out
    }

    /// What a placeholder reads, as a Python expression.
    fn reference(&self, r: &Ref, own_i: bool) -> String {
        match r {
            Ref::Var(s, field) => {
                let base = if *s == sym::I && !own_i && !self.loops.contains(&sym::I) {
                    "me.i".to_owned()
                } else if *s == sym::ERROR && field.is_none() {
                    format!("why({})", self.sym(*s))
                } else if (*s == sym::DONE || *s == sym::PENDING) && field.is_none() {
                    format!("len({})", self.sym(*s))
                } else {
                    self.sym(*s)
                };
                match field {
                    Some(f) => format!("field({base}, {})", name_literal(f)),
                    None => base,
                }
            }
            // An argument called `name` shadows the instance name.
            Ref::Name if self.name_is_arg => "name".into(),
            Ref::Name => "me.name".into(),
            Ref::Now => "now()".into(),
            Ref::Elapsed => "(now() - began)".into(),
            Ref::Cancelling => "asyncio.current_task().cancelling()".into(),
            Ref::Attr(target, attr) => {
                let t = self.target(target);
                let a = Attr::NAMES[*attr as usize];
                format!("attr({t}, '{a}')")
            }
            Ref::IsSet(e) => format!("{}.is_set()", self.event_name(*e)),
            Ref::Barrier(b, attr) => format!(
                "{}.{}",
                ident(&self.model.barriers[*b as usize].name),
                attr.name()
            ),
            Ref::CallbackCancelled(h) => {
                let h = self.sym(*h);
                format!("({h}.cancelled() if {h} is not None else None)")
            }
        }
    }
}
