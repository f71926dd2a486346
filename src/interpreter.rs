//! Runs task bodies: what each step does, with asyncio's cancellation and
//! error semantics (`Ctx`, a running body's variables and handles), and the
//! step machine that runs every task's compiled program turn by turn
//! (`interpreter/machine.rs`), suspending only where asyncio would.

use std::fmt::Write as _;
use std::rc::Rc;

use crate::duration;
use crate::exception::{
    ClassId, Classes, EXCEPTION, INVALID_STATE_ERROR, RUNTIME_ERROR, VALUE_ERROR,
};
use crate::model::{
    Bind, Catch, DefId, Delay, FutId, Passed, QueueId, RaiseFrom, Retry, Scheduled, SemId, SemKind,
    Start, StateName, Step, Sym, Target, When, param_of, sym,
};
use crate::priority::Priority;
use crate::queue::{Entry, Rank};
use crate::rng::Rng;
use crate::runtime::{
    Callback, Deadline, Gather, Hooks, Member, Outcome, Raise, Sim, State, TaskId, TimerAction,
    WaitState, Waiter,
};
pub(crate) use crate::task::{Flow, TimeoutScope};
use crate::task_group::TaskGroup;
use crate::template::{Attr, BarrierAttr, Expr, Ref, Template, seconds_value};
use crate::trace::Gauge;
use crate::trigger;
use crate::value::Value;

mod condition;
mod group;
mod machine;

/// The interpreter's entry points, as the loop calls them (the loop does not
/// import the interpreter: [`crate::run`] hands it this table at start).
pub(crate) const HOOKS: Hooks = Hooks {
    resume: machine::resume,
    root_vars,
    run_on_done,
    run_scheduled,
};

/// What a simple step leaves its task to do.
enum Then {
    Flow(Flow),
    /// Sleep this long (`asyncio.sleep`; 0 is one turn of the loop).
    Sleep(u64),
    /// Await work sent to a thread pool.
    Thread(Rc<crate::executor::Work>),
}

/// Who runs the steps: a task, or a future's done callbacks.
#[derive(Clone)]
enum Actor {
    Task(TaskId),
    Future(FutId),
    /// A task's `on_done` steps, run when it finished.
    Callback(TaskId),
    /// The steps of a callback `call_*` scheduled, named after who
    /// scheduled it.
    Scheduled(Rc<str>),
}

/// What a start passes its handle parameters: handles, and the variables
/// that hold its queues and semaphores.
type Passing = (Vec<(Sym, Rc<Vec<Member>>)>, Vec<(Sym, Value)>);

/// The state of one running body: its variables and handles.
struct Ctx {
    sim: Rc<Sim>,
    id: TaskId,
    actor: Actor,
    vars: Vec<(Sym, Value)>,
    handles: Vec<(Sym, Rc<Vec<Member>>)>,
    /// Where the handles of the steps running now begin (in a `call`, the
    /// called steps' first handle).
    hmark: usize,
    /// The task's random stream, made at its first draw.
    rng: Option<Rng>,
    /// Draws the task took in earlier turns: its stream resumes past them.
    rng_skip: u64,
    frame_start: u64,
    /// The task definition whose steps run now, when the task `call`ed it
    /// (for messages).
    called: Option<DefId>,
    /// The instruction it runs (for messages: see [`Ctx::place`]).
    pc: u32,
}

/// An attribute of barrier `b`, as Python gives it.
fn barrier_attr(sim: &Sim, b: crate::model::BarrierId, attr: BarrierAttr) -> Value {
    sim.barrier(b, |x| match attr {
        BarrierAttr::Waiting => Value::Int(x.n_waiting() as i64),
        BarrierAttr::Broken => Value::Bool(x.broken()),
        BarrierAttr::Parties => Value::Int(x.parties() as i64),
    })
}

/// The variables a root replica starts with: `i` and its `args`.
pub(crate) fn root_vars(sim: &Sim, def: DefId, i: u32) -> Vec<(Sym, Value)> {
    let model = sim.model();
    let mut vars = vec![(sym::I, Value::Int(i as i64))];
    let lookup = |r: &Ref| match r {
        Ref::Var(s, _) if *s == sym::I => Value::Int(i as i64),
        Ref::IsSet(e) => Value::Bool(sim.event_is_set(*e)),
        Ref::Barrier(b, attr) => barrier_attr(sim, *b, *attr),
        _ => Value::None,
    };
    let at = || format!("task `{}`, its `args`", model.tasks[def as usize].name);
    for (sym, expr) in &model.tasks[def as usize].args {
        vars.push((*sym, build(sim, expr, &lookup, &at)));
    }
    vars
}

/// Evaluates `e` for the step `at` names, counting a value it builds
/// against the value limits: one that passes them stops the run (and
/// evaluates to `None`).
fn build(sim: &Sim, e: &Expr, lookup: &dyn Fn(&Ref) -> Value, at: &dyn Fn() -> String) -> Value {
    if !e.builds() {
        return e.eval(lookup);
    }
    let built = e.eval_within(lookup, sim.value_bytes());
    let weight = match &built {
        Ok(v) => crate::footprint::weigh(v, sim.value_bytes()),
        Err(too) => Err(*too),
    };
    if sim.value_weighed(at, weight) {
        built.unwrap_or_default()
    } else {
        Value::None
    }
}

/// A task's first turn: false (and the task is over) when it was
/// cancelled before it started.
fn begin(sim: &Rc<Sim>, id: TaskId) -> bool {
    let Some(raise) = sim.take_cancel(id) else {
        return true;
    };
    if sim.tracing() {
        let detail = match &raise {
            Raise::Cancelled(Some(_)) => format!("before it started ({})", raise.message()),
            _ => "before it started".into(),
        };
        sim.emit(sim.task_event(id, "cancelled", detail));
    }
    sim.finish_task(id, Err(raise));
    false
}

/// Marks a task started (once its upstream allows) and says so; returns the instant.
fn started(sim: &Sim, id: TaskId, detail: String) -> u64 {
    let now = sim.now();
    sim.set_started(id, now);
    if sim.tracing() {
        sim.emit(sim.task_event(id, "started", detail));
    }
    now
}

/// Ends a task: says how, and schedules its done callbacks.
fn end(sim: &Rc<Sim>, id: TaskId, outcome: Outcome) {
    // A task that cancelled itself and then returned is cancelled.
    let outcome = match outcome {
        Ok(v) => match sim.take_cancel_at_wait(id) {
            Some(msg) => {
                sim.keep_cancel_message(id);
                Err(Raise::Cancelled(msg))
            }
            None => Ok(v),
        },
        other => other,
    };
    if sim.tracing() {
        let (kind, detail) = match &outcome {
            Ok(Value::None) => ("done", String::new()),
            Ok(v) => ("done", format!("-> {}", v.repr_within(sim.value_bytes()))),
            Err(Raise::Cancelled(None)) => ("cancelled", String::new()),
            Err(e @ Raise::Cancelled(Some(_))) => ("cancelled", e.message().to_string()),
            Err(Raise::Timeout) => ("failed", "TimeoutError".into()),
            Err(Raise::Error(e)) => ("failed", e.text()),
            Err(Raise::Skipped(why)) => ("skipped", why.to_string()),
        };
        sim.emit(sim.task_event(id, kind, detail));
    }
    sim.finish_task(id, outcome);
}

/// The `on_done` steps of a future or a task: run at once, as one callback.
pub(crate) fn run_on_done(sim: &Rc<Sim>, m: Member) {
    let model = sim.model().clone();
    // The callback reads the outcome (`exception()`, unless cancelled).
    if sim.state(m) != State::Cancelled {
        sim.mark_retrieved(m);
    }
    let (result, error) = match sim.outcome(m) {
        Some(Ok(v)) => (v, Value::None),
        Some(Err(e)) => (Value::None, e.seen_unretrieved()),
        None => (Value::None, Value::None),
    };
    let (actor, steps) = match m {
        Member::Future(f) => (Actor::Future(f), &model.futures[f as usize].on_done),
        Member::Task(t) => (
            Actor::Callback(t),
            &model.tasks[sim.def_of(t) as usize].on_done,
        ),
    };
    let mut ctx = Ctx::callback(sim, actor, result, error);
    // Validation allows only steps that never wait here (see
    // `Problem::CallbackWaits`); what one raises ends the callback, as an
    // exception in a done callback ends it.
    for step in steps {
        if !sim.count_step(ctx.id, || ctx.at(step.verb().key())) {
            // A limit was crossed: the run ends.
            return;
        }
        match ctx.simple(step) {
            Ok(Then::Flow(Flow::Next)) => {}
            Ok(Then::Flow(_) | Then::Sleep(_) | Then::Thread(_)) | Err(_) => return,
        }
    }
}

impl Ctx {
    /// The context a callback's steps run in: no task of its own, and only
    /// `{result}` and `{error}` besides the names every callback reads.
    fn callback(sim: &Rc<Sim>, actor: Actor, result: Value, error: Value) -> Ctx {
        Ctx {
            sim: sim.clone(),
            id: TaskId::MAX,
            actor,
            vars: vec![(sym::RESULT, result), (sym::ERROR, error)],
            handles: Vec::new(),
            hmark: 0,
            rng: None,
            rng_skip: 0,
            frame_start: sim.now(),
            called: None,
            pc: crate::program::UNSTARTED,
        }
    }
}

/// The steps of a callback `call_soon`, `call_later` or `call_at` scheduled:
/// run at once, as one callback. An exception ends it; the loop reports it
/// (CPython logs "Exception in callback") and goes on.
pub(crate) fn run_scheduled(sim: &Rc<Sim>, steps: &[Step], name: &Rc<str>) {
    let mut ctx = Ctx::callback(
        sim,
        Actor::Scheduled(name.clone()),
        Value::None,
        Value::None,
    );
    for step in steps {
        if !sim.count_step(ctx.id, || ctx.at(step.verb().key())) {
            return;
        }
        match ctx.simple(step) {
            Ok(Then::Flow(Flow::Next)) => {}
            Err(Raise::Error(e)) => {
                if sim.tracing() {
                    ctx.emit("callback", format!("Exception in callback: {}", e.text()));
                }
                return;
            }
            Ok(Then::Flow(_) | Then::Sleep(_) | Then::Thread(_)) | Err(_) => return,
        }
    }
}

/// `Display` through Python's `repr()`.
struct Repr<'a>(&'a Value);

impl std::fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.repr(f)
    }
}

/// `Display` of an item's priority, as the trace shows it after the item:
/// ` (priority 2)` on a priority queue, nothing on the others.
struct Ranked<'a>(&'a Entry);

impl std::fmt::Display for Ranked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.rank {
            Some(rank) => write!(f, " (priority {})", rank.priority.to_value()),
            None => Ok(()),
        }
    }
}

/// The retry policy that tries again after failed attempt `attempt`
/// raised `e`, if one does: attempts left, and a failure it retries (never
/// a cancellation).
fn retried<'a>(
    classes: &Classes,
    retry: Option<&'a Retry>,
    attempt: u32,
    e: &Raise,
) -> Option<&'a Retry> {
    let retry = retry.filter(|r| attempt < r.attempts)?;
    let again = match e {
        Raise::Cancelled(_) | Raise::Skipped(_) => false,
        _ => classes.catches(&retry.on, e.class()),
    };
    again.then_some(retry)
}

fn catches(classes: &Classes, catch: &Catch, raise: &Raise) -> bool {
    classes.catches(catch, raise.class())
}

impl Ctx {
    /// An exception of `class` made with no argument, raised.
    fn raise_bare(&self, class: ClassId) -> Raise {
        Raise::Error(Rc::new(self.sim.model().classes.raise_bare(class)))
    }

    /// An exception of `class` with one argument, raised.
    fn raise(&self, class: ClassId, message: &str) -> Raise {
        Raise::of(&self.sim.model().classes, class, message)
    }

    // ----- names and values ----------------------------------------------

    fn name(&self) -> String {
        match &self.actor {
            Actor::Task(t) | Actor::Callback(t) => self.sim.task_name(*t),
            Actor::Future(f) => self.sim.model().futures[*f as usize].name.clone(),
            Actor::Scheduled(name) => name.to_string(),
        }
    }

    fn emit(&self, kind: &'static str, detail: String) {
        self.sim.emit(self.sim.event(self.name(), kind, detail));
    }

    fn var(&self, sym: Sym) -> Value {
        self.vars
            .iter()
            .rev()
            .find(|(s, _)| *s == sym)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn set_var(&mut self, sym: Sym, value: Value) {
        match self.vars.iter_mut().rev().find(|(s, _)| *s == sym) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((sym, value)),
        }
    }

    fn lookup(&self, r: &Ref) -> Value {
        match r {
            Ref::Var(sym, None) => self.var(*sym),
            Ref::Var(sym, Some(field)) => self.var(*sym).attribute(field),
            // An argument called `name` shadows the instance name.
            Ref::Name => match self.vars.iter().rev().find(|(s, _)| *s == sym::NAME) {
                Some((_, v)) => v.clone(),
                None => Value::str(&self.name()),
            },
            Ref::Now => seconds_value(self.sim.now()),
            Ref::Elapsed => seconds_value(self.sim.now() - self.frame_start),
            Ref::Cancelling => Value::Int(i64::from(self.sim.cancelling(self.id))),
            Ref::Attr(target, attr) => self.attr(target, *attr),
            Ref::IsSet(e) => Value::Bool(self.sim.event_is_set(self.obj(*e))),
            Ref::Barrier(b, attr) => barrier_attr(&self.sim, *b, *attr),
            Ref::CallbackCancelled(h) => match self.var(*h) {
                Value::Int(id) => Value::Bool(self.sim.callback_cancelled(id as u32)),
                _ => Value::None,
            },
        }
    }

    /// Renders a text for step `what`; one that would pass the value limit
    /// stops the run (and renders empty). `keeps`: the text lives on as a
    /// value (an error's message), so it counts towards the values built.
    fn render(&self, t: &Template, what: &str, keeps: bool) -> String {
        let max = self.sim.value_bytes();
        match t.render_within(&|r| self.lookup(r), max) {
            Ok(text) => {
                if keeps {
                    self.sim
                        .value_weighed(&|| self.at(what), Ok(text.len() as u64));
                }
                text
            }
            Err(too) => {
                self.sim.value_weighed(&|| self.at(what), Err(too));
                String::new()
            }
        }
    }

    /// Evaluates a value for step `what`; a new value that would pass the
    /// value limits stops the run (and evaluates to `None`).
    fn eval(&self, e: &Expr, what: &str) -> Value {
        build(&self.sim, e, &|r| self.lookup(r), &|| self.at(what))
    }

    /// Who runs these steps, for a message: task `w[3]`, or a future's `on_done`.
    fn who(&self) -> String {
        let who = match self.actor {
            Actor::Task(_) => format!("task `{}`", self.name()),
            Actor::Future(_) => format!("the `on_done` of future `{}`", self.name()),
            Actor::Callback(_) => format!("the `on_done` of task `{}`", self.name()),
            Actor::Scheduled(_) => format!("a callback `{}` scheduled", self.name()),
        };
        match self.called {
            Some(def) => format!(
                "{who} (running `{}`, which it calls)",
                self.sim.model().tasks[def as usize].name
            ),
            None => who,
        }
    }

    /// Which step, for a message: `task `w[3]`, step `return` at line 14,
    /// column 9` (the step the task is on, where it is written; `what`
    /// names the step when it is not one of the task's own).
    fn at(&self, what: &str) -> String {
        let who = self.who();
        match self.place() {
            Some(p) => format!(
                "{who}, step `{}` at line {}, column {}",
                p.verb.key(),
                p.line,
                p.column
            ),
            None => format!("{who}, step `{what}`"),
        }
    }

    /// Where the step the task is on is written, if it is one of its
    /// definition's (or a called definition's) steps.
    fn place(&self) -> Option<crate::model::Place> {
        let Actor::Task(id) = self.actor else {
            return None;
        };
        let def = self.called.unwrap_or_else(|| self.sim.def_of(id));
        let program = match self.called {
            Some(callee) => self.sim.body(callee),
            None => self.sim.program(def),
        };
        let step = program.step_of(self.pc)?;
        self.sim.model().tasks[def as usize]
            .places
            .get(step)
            .copied()
    }

    fn attr(&self, target: &Target, attr: Attr) -> Value {
        let members = self.members_of(target);
        let one = |m: Member| -> Value {
            let state = self.sim.state(m);
            match attr {
                Attr::Name => Value::str(&self.member_name(m)),
                Attr::State => Value::str(state.name()),
                Attr::Done => Value::Bool(state != State::Pending),
                Attr::Cancelled => Value::Bool(state == State::Cancelled),
                Attr::Result => match self.sim.outcome(m) {
                    Some(Ok(v)) => v,
                    _ => Value::None,
                },
                Attr::Error => match self.sim.outcome(m) {
                    // `t.exception()` of a failed one.
                    Some(Err(e)) if state == State::Failed => {
                        self.sim.mark_retrieved(m);
                        e.seen_unretrieved()
                    }
                    Some(Err(e)) => e.seen_unretrieved(),
                    _ => Value::None,
                },
                Attr::Count => Value::Int(1),
                Attr::Cancelling => match m {
                    Member::Task(t) => Value::Int(i64::from(self.sim.cancelling(t))),
                    Member::Future(_) => Value::Int(0),
                },
            }
        };
        match (attr, members.as_slice()) {
            (Attr::Count, ms) => Value::Int(ms.len() as i64),
            (_, [m]) => one(*m),
            (Attr::Done, ms) => {
                Value::Bool(ms.iter().all(|m| self.sim.state(*m) != State::Pending))
            }
            (_, ms) => self.shallow(
                Value::List(ms.iter().map(|m| one(*m)).collect()),
                "reading a handle",
            ),
        }
    }

    /// A list of results the run put together (a gather's, a handle's):
    /// one that nests too deep stops the run (and becomes `None`).
    fn shallow(&self, list: Value, what: &str) -> Value {
        if !crate::footprint::too_deep(&list) {
            return list;
        }
        let deep = Err(crate::footprint::TooBig::Deep);
        self.sim.value_weighed(&|| self.at(what), deep);
        Value::None
    }

    fn member_name(&self, m: Member) -> String {
        match m {
            Member::Task(t) => self.sim.task_name(t),
            Member::Future(f) => self.sim.model().futures[f as usize].name.clone(),
        }
    }

    fn rng(&mut self) -> &mut Rng {
        let (sim, id, skip) = (&self.sim, self.id, self.rng_skip);
        self.rng.get_or_insert_with(|| {
            if id == TaskId::MAX {
                Rng::new(sim.seed())
            } else {
                sim.rng_for(id).skip(skip)
            }
        })
    }

    fn delay(&mut self, d: &Delay) -> Result<u64, Raise> {
        match d {
            Delay::Fixed(ns) => Ok(*ns),
            Delay::Drawn(dist) => Ok(dist.sample(self.rng())),
            Delay::Dynamic(t) => {
                let text = self.render(t, "sleep", false);
                duration::parse_rendered(&text)
                    .map_err(|e| self.raise(EXCEPTION, &format!("invalid duration {e}")))
            }
        }
    }

    // ----- handles -------------------------------------------------------

    /// The handles the running steps see: in a `call`, only the called
    /// steps' own (a function's locals), not the caller's.
    fn visible(&self) -> &[(Sym, Rc<Vec<Member>>)] {
        &self.handles[self.hmark.min(self.handles.len())..]
    }

    fn handle(&self, sym: Sym) -> &[Member] {
        self.visible()
            .iter()
            .rev()
            .find(|(s, _)| *s == sym)
            .map_or(&[], |(_, h)| h.as_slice())
    }

    fn bind(&mut self, sym: Sym, members: Vec<Member>) {
        let members = Rc::new(members);
        let hmark = self.hmark.min(self.handles.len());
        match self.handles[hmark..]
            .iter_mut()
            .rev()
            .find(|(s, _)| *s == sym)
        {
            Some(slot) => slot.1 = members,
            None => self.handles.push((sym, members)),
        }
    }

    /// Adds members to a group (`into`): in place, unless a copy of the
    /// group is kept elsewhere (a retry's fresh start), so a loop that
    /// adds one task at a time costs one step per task.
    fn extend(&mut self, sym: Sym, more: &[Member]) {
        let hmark = self.hmark.min(self.handles.len());
        match self.handles[hmark..]
            .iter_mut()
            .rev()
            .find(|(s, _)| *s == sym)
        {
            Some(slot) => Rc::make_mut(&mut slot.1).extend_from_slice(more),
            None => self.handles.push((sym, Rc::new(more.to_vec()))),
        }
    }

    /// What a start passes its handle parameters: the tasks of each task,
    /// group or future one, and the queue or semaphore of each other one,
    /// kept as a variable (its id) that [`Ctx::obj`] reads.
    fn passed(&self, start: &Start) -> Passing {
        let (mut handles, mut objects) = (Vec::new(), Vec::new());
        for (s, passed) in &start.handles {
            match passed {
                // The caller's own list, shared (a change copies it first).
                Passed::Handle(Target::Local(h)) => {
                    let list = self.visible().iter().rev().find(|(x, _)| x == h);
                    let list = list.map_or_else(Rc::default, |(_, l)| l.clone());
                    handles.push((*s, list));
                }
                Passed::Handle(t) => handles.push((*s, Rc::new(self.members_of(t)))),
                Passed::Queue(id) | Passed::Semaphore(id) | Passed::Event(id) => {
                    objects.push((*s, Value::Int(i64::from(self.obj(*id)))));
                }
            }
        }
        (handles, objects)
    }

    /// The queue or semaphore a step's id names: the object itself, or the
    /// one the caller passed to the body's parameter (see
    /// [`crate::model::PARAM`]).
    pub(crate) fn obj(&self, id: u32) -> u32 {
        match param_of(id) {
            None => id,
            Some(p) => match self.var(p) {
                Value::Int(n) => n as u32,
                // Validation gives every parameter a value.
                _ => unreachable!("a queue or semaphore parameter holds its object"),
            },
        }
    }

    /// The tasks or futures a target names (without starting anything).
    fn members_of(&self, target: &Target) -> Vec<Member> {
        match target {
            Target::Local(sym) => self.handle(*sym).to_vec(),
            Target::Root(def) => self
                .sim
                .root_instances(*def)
                .into_iter()
                .map(Member::Task)
                .collect(),
            Target::Future(f) => vec![Member::Future(*f)],
            Target::Start(_) => Vec::new(),
        }
    }

    /// The members a target names, starting new task instances for `Start`.
    fn resolve(&mut self, target: &Target) -> Vec<Member> {
        match target {
            Target::Start(start) => self.start(start).into_iter().map(Member::Task).collect(),
            other => self.members_of(other),
        }
    }

    fn start(&mut self, start: &Start) -> Vec<TaskId> {
        self.start_into(start, None)
            .expect("a spawn into no task group raises nothing")
    }

    /// The instances `start` makes, one `create_task` after another; into
    /// `group` (`tg.create_task`), each is its child as it is made, which
    /// CPython refuses with a `RuntimeError` once the group is shutting
    /// down (an eager child that failed at once aborts it).
    pub(super) fn start_into(
        &mut self,
        start: &Start,
        group: Option<&Rc<TaskGroup>>,
    ) -> Result<Vec<TaskId>, Raise> {
        let model = self.sim.model().clone();
        let def = &model.tasks[start.def as usize];
        let count = start.count.unwrap_or(def.count);
        if !self.sim.may_spawn(count as u64) || self.sim.eager_too_deep() {
            self.sim.stopped_at(|| self.at("spawn"));
            return Ok(Vec::new());
        }
        let i_sym = sym::I;
        // The same tasks the caller's handles hold, shared by every replica.
        let (handles, objects) = self.passed(start);
        let parent = match self.actor {
            Actor::Task(t) => Some(t),
            Actor::Future(_) | Actor::Callback(_) | Actor::Scheduled(_) => None,
        };
        let mut ids = Vec::with_capacity(count as usize);
        for i in 0..count {
            if let Some(group) = group
                && group.aborting.get()
            {
                let message = format!("TaskGroup {} is shutting down", group.repr());
                return Err(self.raise(RUNTIME_ERROR, &message));
            }
            let mut vars = vec![(i_sym, Value::Int(i as i64))];
            let with_i = |r: &Ref| match r {
                Ref::Var(s, None) if *s == i_sym && start.count.is_some() => Value::Int(i as i64),
                other => self.lookup(other),
            };
            for (sym, expr) in &def.args {
                let given = start
                    .args
                    .iter()
                    .find(|(s, _)| s == sym)
                    .map(|(_, e)| build(&self.sim, e, &with_i, &|| self.at("spawn")));
                let value =
                    given.unwrap_or_else(|| build(&self.sim, expr, &with_i, &|| self.at("spawn")));
                vars.push((*sym, value));
            }
            vars.extend(objects.iter().cloned());
            let id = self
                .sim
                .spawn_task(start.def, vars, handles.clone(), parent);
            if let Some(group) = group {
                self.sim.join_group(group, id);
            }
            ids.push(id);
        }
        Ok(ids)
    }

    // ----- bodies --------------------------------------------------------

    /// The instances of the definitions a task runs `after`.
    fn upstream_members(&self, after: &[DefId]) -> Vec<Member> {
        after
            .iter()
            .flat_map(|d| self.sim.root_instances(*d))
            .map(Member::Task)
            .collect()
    }

    /// Those of `members` still running.
    fn running(&self, members: &[Member]) -> Vec<Member> {
        members
            .iter()
            .copied()
            .filter(|m| self.sim.state(*m) == State::Pending)
            .collect()
    }

    /// Whether a task's trigger rule over its upstream is decided: how it
    /// starts (what its `started` line says), or why it is skipped.
    fn upstream_decided(
        &self,
        after: &[DefId],
        trigger: crate::model::Trigger,
        members: &[Member],
    ) -> Option<Result<String, Raise>> {
        let states: Vec<State> = members.iter().map(|m| self.sim.state(*m)).collect();
        let decided = trigger::decide(trigger, &states)?;
        Some(match decided {
            Ok(()) => {
                let names: Vec<&str> = after
                    .iter()
                    .map(|d| self.sim.model().tasks[*d as usize].name.as_str())
                    .collect();
                Ok(format!("after {} ({})", names.join(", "), trigger.name()))
            }
            Err(why) => {
                let culprit = why.culprit.map(|m| self.member_name(members[m]));
                Err(Raise::Skipped(Rc::from(why.describe(culprit, trigger))))
            }
        })
    }

    /// Attempt `attempt` (from 1) begins: `{attempt}` is set, and a retry
    /// says which it is.
    fn begin_attempt(&mut self, retry: Option<&Retry>, attempt: u32) {
        self.set_var(sym::ATTEMPT, Value::Int(attempt as i64));
        if attempt > 1 && self.sim.tracing() {
            let tries = retry.map_or(1, |r| r.attempts);
            self.emit("attempt", format!("{attempt} of {tries}"));
        }
    }

    /// The wait after failed attempt `attempt` (jittered from the task's
    /// stream), said in the trace with the failure.
    fn backoff(&mut self, retry: &Retry, attempt: u32, e: &Raise) -> u64 {
        let full = retry.wait_after(attempt);
        let wait = if retry.jitter > 0.0 {
            let u = self.rng().unit();
            (full as f64 * (1.0 - retry.jitter * u)).round() as u64
        } else {
            full
        };
        if self.sim.tracing() {
            self.emit(
                "retry",
                format!(
                    "attempt {attempt} failed ({}); next in {}",
                    e.message(),
                    duration::format(wait)
                ),
            );
        }
        wait
    }

    /// Runs a step that needs no instruction of its own (see
    /// [`crate::program::Op::Step`]) up to its sleep, if it has one: the
    /// step machine sleeps.
    fn simple(&mut self, step: &Step) -> Result<Then, Raise> {
        match step {
            Step::Sleep(d) => {
                let ns = self.delay(d)?;
                if self.sim.tracing() && self.sim.verbose() {
                    self.sim.emit(
                        self.sim
                            .event(self.name(), "sleep", duration::format(ns))
                            .verbose(),
                    );
                }
                if !self.sim.sleeps_block() {
                    return Ok(Then::Sleep(ns));
                }
                self.sim.block(self.id, ns);
            }
            Step::Thread(w) => {
                let ns = self.delay(&w.delay)?;
                let outcome = match &w.error {
                    Some((message, class)) => {
                        let message = self.render(message, w.verb().key(), true);
                        Err(self.raise(*class, &message))
                    }
                    None => Ok(self.eval(&w.value, w.verb().key())),
                };
                let pool = crate::executor::Pools::index(w.executor);
                let work = crate::executor::Work::new(self.id, pool, ns, outcome);
                return Ok(Then::Thread(work));
            }
            Step::Block(d) => {
                let ns = self.delay(d)?;
                if self.sim.tracing() {
                    self.emit(
                        "block",
                        format!("holds the loop for {}", duration::format(ns)),
                    );
                }
                self.sim.block(self.id, ns);
            }
            Step::Log(t) => {
                if self.sim.tracing() {
                    let text = self.render(t, "log", false);
                    self.emit("log", text);
                }
            }
            Step::Fail {
                message,
                chance,
                class,
                from,
            } => {
                let fails = match chance {
                    None => true,
                    Some(p) => self.rng().unit() < *p,
                };
                if fails {
                    let message = self.render(message, "fail", true);
                    let mut e = self.sim.model().classes.raise(*class, &message);
                    if *from == Some(RaiseFrom::Error) {
                        // Validation allows it only inside an `except`,
                        // which always binds `error` to an exception.
                        if let Value::Error(cause) = self.var(sym::ERROR) {
                            e.cause = Some(cause);
                        }
                    }
                    return Err(Raise::Error(Rc::new(e)));
                }
            }
            Step::Return(e) => return Ok(Then::Flow(Flow::Return(self.eval(e, "return")))),
            Step::Spawn { start, bind } => self.spawn(start, bind),
            Step::Cancel { target, msg } => self.cancel(target, msg.as_ref()),
            Step::Uncancel => self.uncancel(),
            Step::Release(sem) => self.release(self.obj(*sem))?,
            Step::TaskDone(queue) => self.task_done(self.obj(*queue))?,
            Step::Shutdown { queue, immediate } => self.shut_down(self.obj(*queue), *immediate),
            Step::PutNowait {
                queue,
                item,
                priority,
            } => {
                let queue = self.obj(*queue);
                let entry = self.entry(queue, item, priority.as_ref())?;
                self.put_nowait(queue, entry)?;
            }
            Step::GetNowait(queue) => self.get_nowait(self.obj(*queue))?,
            Step::SetResult { future, value } => {
                let value = self.eval(value, "set_result");
                self.resolve_future(*future, Ok(value))?;
            }
            Step::SetException {
                future,
                message,
                class,
            } => {
                let message = self.render(message, "set_exception", true);
                self.resolve_future(*future, Err(self.raise(*class, &message)))?;
            }
            Step::Set(e) => self.set_event(self.obj(*e)),
            Step::Clear(e) => {
                let e = &self.obj(*e);
                self.sim.clear_event(*e);
                if self.sim.tracing() {
                    let name = &self.sim.model().events[*e as usize].name;
                    self.emit("clear", name.clone());
                }
            }
            Step::Abort(b) => self.change_barrier(*b, "abort", |x, woken| x.abort(woken)),
            Step::Reset(b) => self.change_barrier(*b, "reset", |x, woken| x.reset(woken)),
            Step::Notify { cond, n } => self.notify(*cond, Some(*n))?,
            Step::NotifyAll(cond) => self.notify(*cond, None)?,
            Step::Check { target, state } => self.check(target, *state),
            Step::Schedule(s) => self.schedule(s),
            Step::CancelCallback(h) => self.cancel_callback(*h),
            Step::Break => return Ok(Then::Flow(Flow::Break)),
            // Compiled to instructions of their own (see `Program::steps`).
            Step::Reraise
            | Step::Call(_)
            | Step::Await(_)
            | Step::Gather { .. }
            | Step::Wait { .. }
            | Step::WaitFor { .. }
            | Step::AsCompleted { .. }
            | Step::Timeout { .. }
            | Step::Try(_)
            | Step::TaskGroup { .. }
            | Step::With { .. }
            | Step::Acquire { .. }
            | Step::Put { .. }
            | Step::Get(_)
            | Step::Join(_)
            | Step::WaitEvent(_)
            | Step::WaitBarrier(_)
            | Step::WaitCondition { .. }
            | Step::Consume { .. }
            | Step::Repeat { .. }
            | Step::Forever(_)
            | Step::For { .. }
            | Step::Each { .. } => {
                unreachable!("a step with an instruction of its own")
            }
        }
        Ok(Then::Flow(Flow::Next))
    }

    // ----- suspension points ---------------------------------------------

    /// `asyncio.gather` up to its wait: its result when it is decided at
    /// once, or the gather to wait on.
    fn begin_gather(
        &self,
        members: Vec<Member>,
        return_exceptions: bool,
    ) -> Result<Outcome, Rc<Gather>> {
        if members.is_empty() {
            return Ok(Ok(Value::List(Rc::from([]))));
        }
        // The same awaitable twice in a row is gathered once (copy only then).
        let repeated = members.windows(2).any(|w| w[0] == w[1]);
        let unique = repeated.then(|| {
            let mut unique = members.clone();
            unique.dedup();
            unique
        });
        let g = Rc::new(Gather {
            parent: self.id,
            remaining: std::cell::Cell::new(unique.as_ref().unwrap_or(&members).len()),
            members,
            return_exceptions,
            result: Default::default(),
            cancel_requested: Default::default(),
        });
        // 3.12+: members already done are counted at once, in argument
        // order, and a result they decide comes back without a turn.
        let at_once = self.sim.model().python.gather_done_at_once();
        for m in unique.as_deref().unwrap_or(&g.members) {
            if at_once && self.sim.state(*m) != State::Pending {
                self.sim.gather_count(&g, *m);
            } else {
                self.sim.add_callback(*m, Callback::Gather(g.clone(), *m));
            }
        }
        if let Some(result) = g.result.borrow().clone() {
            return Ok(result);
        }
        Err(g)
    }

    /// `asyncio.wait(members)` up to its wait: its timer and the members'
    /// done callbacks.
    fn begin_wait(
        &self,
        members: &[Member],
        when: crate::model::ReturnWhen,
        timeout: Option<u64>,
    ) -> Result<Rc<WaitState>, Raise> {
        if members.is_empty() {
            return Err(self.raise(VALUE_ERROR, "Set of Tasks/Futures is empty."));
        }
        let w = Rc::new(WaitState {
            waiter: Waiter::new(self.id),
            counter: std::cell::Cell::new(members.len()),
            when,
            timer: Default::default(),
        });
        if let Some(t) = timeout {
            let key = self
                .sim
                .set_timer(t, TimerAction::Release(w.waiter.clone()));
            w.timer.set(Some(key));
        }
        // CPython adds the callbacks in the order of a set; the exported
        // program, run by the differential test, gives them in creation
        // order (the futures, declared first, then the tasks): members done
        // already run theirs in that order, which decides the one whose
        // exception FIRST_EXCEPTION leaves unread (the last).
        let mut ordered = members.to_vec();
        ordered.sort_by_key(|m| match m {
            Member::Future(f) => (0, *f),
            Member::Task(t) => (1, *t),
        });
        for m in ordered {
            self.sim.add_callback(m, Callback::Wait(w.clone(), m));
        }
        Ok(w)
    }

    /// `asyncio.wait` is over, by its end or a cancellation: its timer and
    /// callbacks go.
    fn end_wait(&self, w: &Rc<WaitState>, members: &[Member]) {
        // Cancelled, the waiter future is done too: a member's callback
        // already queued finds it so and wakes nobody.
        w.waiter.done.set(true);
        if let Some(key) = w.timer.take() {
            self.sim.cancel_timer(key);
        }
        for m in members {
            self.sim.remove_callback(*m, &Callback::Wait(w.clone(), *m));
        }
    }

    /// What `asyncio.wait` returns: `done` and `pending`, counted and bound;
    /// the pending cancelled if asked.
    fn waited(&mut self, members: &[Member], cancel_pending: bool) {
        let (done, pending): (Vec<Member>, Vec<Member>) = members
            .iter()
            .partition(|m| self.sim.state(**m) != State::Pending);
        if self.sim.tracing() {
            self.emit(
                "wait",
                format!("{} done, {} pending", done.len(), pending.len()),
            );
        }
        if cancel_pending {
            for m in &pending {
                self.cancel_member(*m, None);
            }
        }
        self.set_var(sym::DONE, Value::Int(done.len() as i64));
        self.set_var(sym::PENDING, Value::Int(pending.len() as i64));
        self.bind(sym::DONE, done);
        self.bind(sym::PENDING, pending);
    }

    /// `asyncio.wait(members, return_when=FIRST_COMPLETED)` up to its wait.
    fn begin_wait_first(&self, members: &[Member]) -> Rc<WaitState> {
        let w = Rc::new(WaitState {
            waiter: Waiter::new(self.id),
            counter: std::cell::Cell::new(members.len()),
            when: crate::model::ReturnWhen::FirstCompleted,
            timer: Default::default(),
        });
        for m in members {
            self.sim.add_callback(*m, Callback::Wait(w.clone(), *m));
        }
        w
    }

    /// `wait_for`'s timeout closes over what it awaited: a cancellation it
    /// caused becomes `TimeoutError`, said in the trace.
    fn close_wait_for(
        &self,
        scope: TimeoutScope,
        timeout: u64,
        member: Member,
        outcome: Outcome,
    ) -> Outcome {
        let what = self.member_name(member);
        self.close_timeout(scope, outcome, || {
            let after = duration::format(timeout);
            format!("wait_for {what} timed out after {after}")
        })
    }

    fn cancel_member(&self, m: Member, msg: Option<Rc<str>>) {
        match m {
            Member::Task(t) => {
                self.sim.cancel_task(t, msg);
            }
            Member::Future(f) => {
                self.sim.cancel_future(f, msg);
            }
        }
    }

    /// Starts a timeout of `after` over what this task does next
    /// (`asyncio.timeout`): when it expires, the task is cancelled.
    fn open_timeout(&self, after: u64) -> TimeoutScope {
        let expired = Rc::new(std::cell::Cell::new(false));
        let level = self.sim.cancelling(self.id);
        if after == 0 {
            // asyncio's `Timeout.reschedule`: a deadline already come is
            // queued with `call_soon`, ahead of whatever runs next.
            let soon = Rc::new(Deadline::default());
            self.sim.schedule(Callback::Expire(soon.clone(), self.id));
            return TimeoutScope {
                expired,
                level,
                key: None,
                soon: Some(soon),
            };
        }
        let key = self
            .sim
            .set_timer(after, TimerAction::Expire(expired.clone(), self.id));
        TimeoutScope {
            expired,
            level,
            key: Some(key),
            soon: None,
        }
    }

    /// Ends a timeout: the cancellation it caused becomes `TimeoutError`
    /// (with `says` in the trace); any other outcome passes through.
    fn close_timeout<T>(
        &self,
        scope: TimeoutScope,
        r: Result<T, Raise>,
        says: impl FnOnce() -> String,
    ) -> Result<T, Raise> {
        if let Some(key) = scope.key {
            self.sim.cancel_timer(key);
        }
        let expired = match &scope.soon {
            Some(soon) => {
                soon.closed.set(true);
                soon.expired.get()
            }
            None => scope.expired.get(),
        };
        if !expired {
            return r;
        }
        let cancels = self.sim.uncancel(self.id);
        match r {
            Err(Raise::Cancelled(_)) if cancels <= scope.level => {
                if self.sim.tracing() {
                    self.emit("timeout", says());
                }
                Err(Raise::Timeout)
            }
            other => other,
        }
    }

    fn cancel(&self, target: &Target, msg: Option<&Template>) {
        let msg: Option<Rc<str>> = msg.map(|t| Rc::from(self.render(t, "cancel", true)));
        for m in self.members_of(target) {
            if self.sim.tracing() {
                let name = self.member_name(m);
                let detail = match &msg {
                    Some(text) => format!(
                        "requests cancel of {name} ({})",
                        Value::str(text).repr_within(self.sim.value_bytes())
                    ),
                    None => format!("requests cancel of {name}"),
                };
                self.emit("cancel", detail);
            }
            self.cancel_member(m, msg.clone());
        }
    }

    /// `asyncio.current_task().uncancel()`: one cancellation request
    /// fewer.
    fn uncancel(&self) {
        let left = self.sim.uncancel(self.id);
        if self.sim.tracing() {
            let s = if left == 1 { "" } else { "s" };
            self.emit("uncancel", format!("{left} cancellation{s} requested now"));
        }
    }

    // ----- callbacks of call_soon, call_later and call_at -------------------

    /// `loop.call_soon`, `call_later` or `call_at`: the callback is
    /// scheduled, named after who scheduled it; `as` keeps its handle
    /// (among the variables, as its number: no template can name it).
    fn schedule(&mut self, s: &Scheduled) {
        let name: Rc<str> = Rc::from(self.name());
        let owner = match self.actor {
            Actor::Task(t) => Some(t),
            _ => None,
        };
        let now = self.sim.now();
        let steps = s.body.clone();
        let (id, detail) = match s.when {
            When::Soon => (self.sim.call_soon(steps, name), "call_soon".to_owned()),
            When::Later(d) => (
                self.sim.call_later(d, steps, name, owner),
                format!(
                    "call_later {}, due at {}",
                    duration::format(d),
                    duration::format(now.saturating_add(d))
                ),
            ),
            // An instant already past is due now (see docs/fidelity.md).
            When::At(at) => (
                self.sim
                    .call_later(at.saturating_sub(now), steps, name, owner),
                format!("call_at {}", duration::format(at)),
            ),
        };
        if let Some(h) = s.handle {
            self.set_var(h, Value::Int(id as i64));
        }
        if self.sim.tracing() {
            let named = match s.handle {
                Some(h) => format!(", handle {}", self.sim.model().symbols[h as usize]),
                None => String::new(),
            };
            self.emit("callback", format!("{detail}{named}"));
        }
    }

    /// `handle.cancel()` of the callback `h` names, if it names one yet.
    fn cancel_callback(&self, h: Sym) {
        let Value::Int(id) = self.var(h) else {
            return;
        };
        let stopped = self.sim.cancel_callback(id as u32);
        if self.sim.tracing() {
            let name = &self.sim.model().symbols[h as usize];
            let how = if stopped {
                ""
            } else {
                " (it had run, or was cancelled)"
            };
            self.emit("cancel", format!("cancels callback {name}{how}"));
        }
    }

    // ----- semaphores ----------------------------------------------------

    /// Says that this task waits for a permit.
    /// `priority`: the waiter's, on a priority semaphore.
    fn permit_wait_event(&self, sem: SemId, priority: Option<Priority>) {
        if self.sim.tracing() {
            let in_use = self.sim.permits_in_use(sem);
            let def = &self.sim.model().semaphores[sem as usize];
            let at = match (def.kind.ranked(), priority) {
                (true, p) => {
                    let p = p.unwrap_or(Priority::Int(0)).to_value();
                    format!(" at priority {p}")
                }
                _ => String::new(),
            };
            self.emit(
                "wait",
                format!(
                    "for a permit of {}{at} ({in_use}/{} in use)",
                    def.name, def.permits
                ),
            );
        }
    }

    /// Leaves the semaphore's queue after a wait, with the permit or
    /// without it (cancelled); the next waiter may be woken. With the
    /// permit, says so (`acquired`), naming a waiter handed a permit that
    /// was still free.
    fn permit_waited(&self, sem: SemId, granted: bool) {
        let next = if granted {
            let next = self.sim.take_permit(sem, self.id);
            let note = next.map(|t| format!("a free permit handed to {}", self.sim.task_name(t)));
            if self.sim.tracing() {
                self.permit_gauge_event("acquired", sem, note.as_deref().unwrap_or(""));
            }
            next
        } else {
            let (granted, next) = self.sim.abandon_permit(sem, self.id);
            // A permit granted to it, cancelled before it ran: it gives the
            // permit back (to the next waiter, if any), and says so, so that
            // the permits in use come back to zero.
            if granted {
                self.permit_release_event(sem, next, "granted but cancelled before it ran");
            }
            next
        };
        if let Some(t) = next {
            self.sim.wake(t);
        }
    }

    fn release(&self, sem: u32) -> Result<(), Raise> {
        let r = self.sim.release_permit(sem, self.id);
        match r {
            Ok((next, grew)) => {
                if self.sim.tracing() {
                    let above = match grew {
                        true => format!(
                            "none was out, so it has {} permits now ({} declared)",
                            self.sim.permits_now(sem),
                            self.sim.model().semaphores[sem as usize].permits
                        ),
                        false => String::new(),
                    };
                    self.permit_release_event(sem, next, &above);
                }
                if let Some(t) = next {
                    self.sim.wake(t);
                }
                Ok(())
            }
            Err(()) => Err(match self.sim.model().semaphores[sem as usize].kind {
                SemKind::Lock => self.raise(RUNTIME_ERROR, "Lock is not acquired."),
                SemKind::Bounded | SemKind::Semaphore | SemKind::Priority | SemKind::Preemptive => {
                    self.raise(VALUE_ERROR, "BoundedSemaphore released too many times")
                }
            }),
        }
    }

    fn permit_event(&self, kind: &'static str, sem: u32) {
        self.permit_gauge_event(kind, sem, "");
    }

    /// A permit given back: `workers (2/3 in use)` when it is free again,
    /// `workers: handed to job[4] (3/3 in use)` when a waiter takes it over.
    fn permit_release_event(&self, sem: u32, to: Option<TaskId>, why: &str) {
        if self.sim.tracing() {
            let handed = to.map(|t| format!("handed to {}", self.sim.task_name(t)));
            let note = [Some(why.to_owned()).filter(|w| !w.is_empty()), handed]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            self.permit_gauge_event("released", sem, &note);
        }
    }

    fn permit_gauge_event(&self, kind: &'static str, sem: u32, note: &str) {
        self.permit_gauge_event_of(self.name(), kind, sem, note);
    }

    /// A permit event of `actor` (the holder a newcomer preempted, or the
    /// running task itself).
    fn permit_gauge_event_of(&self, actor: String, kind: &'static str, sem: u32, note: &str) {
        if self.sim.tracing() {
            let in_use = self.sim.permits_in_use(sem);
            let def = &self.sim.model().semaphores[sem as usize];
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(": {note}")
            };
            let permits = self.sim.permits_now(sem);
            let detail = format!("{}{note} ({in_use}/{permits} in use)", def.name);
            let gauge = Gauge {
                kind: "permits",
                name: def.name.clone(),
                value: in_use as u64,
                bound: Some(permits as u64),
            };
            self.sim
                .emit(self.sim.event(actor, kind, detail).with_gauge(gauge));
        }
    }

    // ----- queues --------------------------------------------------------

    /// An event that changed a queue's depth.
    fn emit_depth(&self, kind: &'static str, detail: String, queue: u32) {
        let gauge = Gauge {
            kind: "depth",
            name: self.sim.model().queues[queue as usize].name.clone(),
            value: self.sim.depth(queue) as u64,
            bound: self.sim.capacity(queue).map(u64::from),
        };
        self.sim
            .emit(self.sim.event(self.name(), kind, detail).with_gauge(gauge));
    }

    fn depth(&self, queue: u32) -> String {
        let depth = self.sim.depth(queue);
        match self.sim.capacity(queue) {
            Some(c) => format!("depth {depth}/{c}"),
            None => format!("depth {depth}"),
        }
    }

    /// What a `put` puts: its item and, on a priority queue, its rank.
    fn entry(&self, queue: QueueId, item: &Expr, priority: Option<&Expr>) -> Result<Entry, Raise> {
        let item = self.eval(item, "put");
        let rank = match priority {
            None => None,
            Some(p) => Some(self.rank(queue, p)?),
        };
        Ok(Entry { item, rank })
    }

    /// A put's rank on a priority queue: the priority (a number, or the put
    /// fails as the exported program's check does) and the number the put
    /// draws as it begins. Kept out of line: plain queues never come here.
    #[inline(never)]
    fn rank(&self, queue: QueueId, priority: &Expr) -> Result<Rank, Raise> {
        let priority = self.priority(priority, "put")?;
        let seq = self.sim.ticket(queue);
        Ok(Rank { priority, seq })
    }

    /// A priority read by a `put` or an `acquire`: a number, or the step
    /// fails as the exported program's `priority_of` does.
    #[inline(never)]
    pub(crate) fn priority(&self, priority: &Expr, step: &str) -> Result<Priority, Raise> {
        let value = self.eval(priority, step);
        Priority::of(&value).ok_or_else(|| {
            let shown = value.repr_within(self.sim.value_bytes());
            let message = format!("priority must be a number, got {shown}");
            self.raise(EXCEPTION, &message)
        })
    }

    /// A `get` took `entry`: `{item}`, and `{priority}` on a priority queue.
    #[inline(always)]
    fn got(&mut self, entry: Entry) {
        let Entry { item, rank } = entry;
        self.set_var(sym::ITEM, item);
        if let Some(rank) = rank {
            self.set_var(sym::PRIORITY, rank.priority.to_value());
        }
    }

    fn task_done(&self, queue: u32) -> Result<(), Raise> {
        let r = self.sim.task_done(queue);
        match r {
            Ok(joiners) => {
                joiners.iter().for_each(|w| self.sim.release(w));
                Ok(())
            }
            Err(()) => Err(self.raise(VALUE_ERROR, "task_done() called too many times")),
        }
    }

    /// A `consume` loop's sentinel, as printed.
    fn sentinel(&self, until: Option<&Expr>) -> Option<String> {
        let max = self.sim.value_bytes();
        until.map(|u| {
            let text = self.eval(u, "consume").display_within(max);
            if text.is_none() {
                let big = Err(crate::footprint::TooBig::Bytes);
                self.sim.value_weighed(&|| self.at("consume"), big);
            }
            text.unwrap_or_default()
        })
    }

    /// Whether a `consume` loop's item is its sentinel. An item that prints
    /// longer than the limit is not (the sentinel prints within it).
    fn is_sentinel(&self, sentinel: Option<&str>, item: &Value) -> bool {
        let max = self.sim.value_bytes();
        sentinel.is_some_and(|s| item.display_within(max).as_deref() == Some(s))
    }

    // ----- futures, loops, checks ----------------------------------------

    fn resolve_future(&self, f: FutId, outcome: Outcome) -> Result<(), Raise> {
        let name = &self.sim.model().futures[f as usize].name;
        let detail = match &outcome {
            Ok(v) => format!("{name} = {}", Repr(v)),
            Err(e) => format!("{name} raises {}", e.message()),
        };
        if !self.sim.resolve_future(f, outcome) {
            // CPython's InvalidStateError says only this; the trace says more.
            if self.sim.tracing() {
                self.emit("resolve", format!("{name} is already done"));
            }
            return Err(self.raise(INVALID_STATE_ERROR, "invalid state"));
        }
        if self.sim.tracing() {
            self.emit("resolve", detail);
        }
        Ok(())
    }

    /// `await barrier.abort()` or `reset()` (`kind`), which never yield:
    /// says how many waiters it notifies.
    fn change_barrier(
        &self,
        b: crate::model::BarrierId,
        kind: &'static str,
        f: impl FnOnce(&mut crate::barrier::Barrier, &mut Vec<TaskId>),
    ) {
        let ((), woken) = self.sim.change_barrier(b, f);
        if self.sim.tracing() {
            let name = &self.sim.model().barriers[b as usize].name;
            let detail = match woken {
                0 => format!("barrier {name}"),
                1 => format!("barrier {name}, waking 1 waiter"),
                n => format!("barrier {name}, waking {n} waiters"),
            };
            self.emit(kind, detail);
        }
    }

    /// `event.set()`: says whom it wakes.
    /// `queue.shutdown(immediate=...)`: it never waits; the waiters it
    /// wakes look again when they run.
    fn shut_down(&self, queue: QueueId, immediate: bool) {
        let done = self.sim.shut_down_queue(queue, immediate);
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if self.sim.tracing() {
            let name = &self.sim.model().queues[queue as usize].name;
            let mut detail = name.clone();
            if immediate {
                let n = done.dropped;
                let _ = write!(detail, " at once ({n} item{} dropped)", plural(n));
            }
            let woken: Vec<String> = [
                (done.joiners.len(), "joiner"),
                (done.getters.len(), "getter"),
                (done.putters.len(), "putter"),
            ]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, who)| format!("{n} {who}{}", plural(n)))
            .collect();
            if !woken.is_empty() {
                let _ = write!(detail, ", waking {}", woken.join(", "));
            }
            self.emit("shutdown", detail);
        }
    }

    fn set_event(&self, e: crate::model::EventId) {
        let was_set = self.sim.event_is_set(e);
        let woken = self.sim.set_event(e);
        if self.sim.tracing() {
            let name = &self.sim.model().events[e as usize].name;
            let detail = match (was_set, woken) {
                (true, _) => format!("{name} (already set)"),
                (false, 0) => name.clone(),
                (false, 1) => format!("{name}, releasing 1 waiter"),
                (false, n) => format!("{name}, releasing {n} waiters"),
            };
            self.emit("set", detail);
        }
    }

    fn spawn(&mut self, start: &Start, bind: &Bind) {
        let ids: Vec<Member> = self.start(start).into_iter().map(Member::Task).collect();
        if let Some(group) = bind.into {
            self.extend(group, &ids);
        }
        if let Some(sym) = bind.as_ {
            self.bind(sym, ids);
        }
    }

    /// The arguments of a `call`, given or by default, pushed as the
    /// called steps' first variables, and the handles it passes as their
    /// first handles.
    fn push_call_args(&mut self, start: &Start) {
        let (handles, objects) = self.passed(start);
        self.handles.extend(handles);
        self.vars.extend(objects);
        let model = self.sim.model().clone();
        for (sym, expr) in &model.tasks[start.def as usize].args {
            let given = start.args.iter().find(|(s, _)| s == sym).map(|(_, e)| e);
            let value = self.eval(given.unwrap_or(expr), "call");
            self.vars.push((*sym, value));
        }
    }

    fn check(&self, target: &Target, want: StateName) {
        for m in self.members_of(target) {
            let state = self.sim.state(m);
            let ok = match want {
                StateName::Pending => state == State::Pending,
                StateName::Done => state == State::Done,
                StateName::Failed => state == State::Failed,
                StateName::Cancelled => state == State::Cancelled,
                StateName::Finished => state != State::Pending,
                StateName::Skipped => state == State::Skipped,
            };
            let wanted = StateName::NAMES[want as usize];
            let name = self.member_name(m);
            if !ok {
                self.sim.check_failed();
            }
            if self.sim.tracing() {
                let detail = if ok {
                    format!("ok: {name} is {wanted}")
                } else {
                    format!("FAILED: {name} is {}, expected {wanted}", state.name())
                };
                self.emit("check", detail);
            }
        }
    }
}

/// A gather's result once its wait is over: cancelled if it never came.
fn gathered(g: &Gather) -> Outcome {
    g.result
        .borrow_mut()
        .get_or_insert(Err(Raise::Cancelled(None)))
        .clone()
}
