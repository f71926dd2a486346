//! The simulated event loop: task slots, futures, callbacks, cancellation,
//! and the driver: one FIFO ready queue, in virtual time, of task turns
//! (each task a step machine, see `program.rs`), callbacks and timers.
//!
//! Ordering guarantees (asyncio's, under the oracle's FIFO clock):
//! - tasks run in the order they became ready: a new task after the tasks
//!   already queued, a woken task at the tail, never twice in the queue
//!   (a task woken while it runs goes to the tail when its turn ends);
//! - when a task or future finishes, its done callbacks run in the order they
//!   were added, each as its own turn of the loop, as `call_soon` does;
//! - timers due at the same instant fire in the order they were set;
//! - the clock moves only when nothing is ready, straight to the next timer.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use std::collections::VecDeque;

use crate::arrivals::{Arrivals, OpenState};
use crate::as_completed::AsCompleted;
use crate::barrier::{Barrier, Passage, Stage};
use crate::blocking::{Blocks, Ready};
use crate::cancel_message::CancelMessages;
use crate::clock::{Clock, TimerKey};
use crate::condition::Condition as CondSlot;
use crate::critical_path::{Cause, Recorder, What};
use crate::event::Event as EventSlot;
use crate::limits::{Instant, Limits, Meter, Stop};
use crate::model::{
    BarrierId, CondId, DefId, EventId, FutId, Model, QueueId, ReturnWhen, SemId, Step, Sym,
};
use crate::priority::Priority;
use crate::program::{Machine, Program};
use crate::queue::{Entry, Queue, ShutDown, Side};
use crate::render::{Renderer, Tracer};
use crate::retrieval::{self, Retrieval, Unretrieved, Why};
use crate::rng::{Rng, name_hash};
use crate::scheduled::{CallbackId, Handles};
use crate::semaphore::Semaphore;
use crate::summary::Summary;
use crate::task_group::TaskGroup;
use crate::trace::Event;
use crate::value::Value;

pub(crate) use crate::executor::Work;
pub(crate) use crate::task::{
    Deadline, Gather, Member, Outcome, Raise, State, TaskId, WaitState, Waiter,
};

/// A done callback, run when a task or future finishes.
#[derive(Clone)]
pub(crate) enum Callback {
    /// A task awaiting it directly: its wakeup is the callback.
    Wake(TaskId),
    Gather(Rc<Gather>, Member),
    Wait(Rc<WaitState>, Member),
    /// asyncio's `_release_waiter`, after `hops` more turns of the loop.
    Release(Rc<Waiter>, u8),
    /// A future's declared `on_done` steps, or a task's (added when the
    /// task is created, as `add_done_callback` right after `create_task`).
    OnDone(Member),
    /// An `asyncio.timeout` whose deadline had already come when it was
    /// set: CPython queues its expiry with `call_soon`, not as a timer.
    Expire(Rc<Deadline>, TaskId),
    /// A virtual user's instance ended: the user thinks, then starts the
    /// next (arrival source, user).
    UserDone(u32, u32),
    /// `TaskGroup._on_task_done` of a child of the group.
    Group(Rc<TaskGroup>, TaskId),
    /// `as_completed`'s `_on_completion` of one of its awaitables.
    Completed(Rc<AsCompleted>, Member),
    /// A callback `call_soon` scheduled.
    Scheduled(CallbackId),
    /// A cancelled shield's `_outer_done_callback` (3.12+): its callback on
    /// the task it guards goes, unless that task is done by now, in which
    /// case that callback reads its outcome.
    ShieldUnhook(Member),
}

impl Callback {
    fn same(&self, other: &Callback) -> bool {
        match (self, other) {
            (Callback::Wake(a), Callback::Wake(b)) => a == b,
            (Callback::Gather(a, _), Callback::Gather(b, _)) => Rc::ptr_eq(a, b),
            (Callback::Wait(a, _), Callback::Wait(b, _)) => Rc::ptr_eq(a, b),
            (Callback::Release(a, _), Callback::Release(b, _)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// A task's done callbacks, in the order they were added. Most tasks have
/// one (whoever awaits or gathers them), held inline.
#[derive(Default)]
enum Callbacks {
    #[default]
    None,
    One(Callback),
    // Boxed: a bare Vec would make every slot 8 bytes bigger.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Callback>>),
}

impl Callbacks {
    fn push(&mut self, cb: Callback) {
        *self = match std::mem::take(self) {
            Callbacks::None => Callbacks::One(cb),
            Callbacks::One(first) => Callbacks::Many(Box::new(vec![first, cb])),
            Callbacks::Many(mut all) => {
                all.push(cb);
                Callbacks::Many(all)
            }
        }
    }

    fn retain(&mut self, keep: impl Fn(&Callback) -> bool) {
        match self {
            Callbacks::None => {}
            Callbacks::One(cb) => {
                if !keep(cb) {
                    *self = Callbacks::None;
                }
            }
            Callbacks::Many(all) => all.retain(keep),
        }
    }

    /// Hands each callback to `f`, in the order they were added.
    fn for_each(self, f: impl FnMut(Callback)) {
        match self {
            Callbacks::None => {}
            Callbacks::One(cb) => std::iter::once(cb).for_each(f),
            Callbacks::Many(all) => all.into_iter().for_each(f),
        }
    }
}

/// What a suspended task waits on: decides how `cancel()` reaches it, and
/// what the end-of-run report says.
#[derive(Clone, Default)]
pub(crate) enum Waiting {
    #[default]
    Nothing,
    /// A sleep's timer, due at this instant.
    Sleep(u64),
    /// A retry's backoff timer, due at this instant.
    Backoff(u64),
    Member(Member),
    Gather(Rc<Gather>),
    Semaphore(SemId),
    Get(QueueId),
    Put(QueueId),
    Join(QueueId),
    /// An event to be set, with its waiter (done once released or cancelled).
    Event(EventId, Rc<Waiter>),
    /// A barrier's notification, with its waiter (done once notified or
    /// cancelled).
    Barrier(BarrierId, Rc<Waiter>),
    /// A condition's notify, with its waiter (done once notified or
    /// cancelled).
    Condition(CondId, Rc<Waiter>),
    /// `wait`, `wait_for` and other internal waiters on these members.
    Wait(Rc<WaitOn>),
    /// One turn of the loop (`asyncio.sleep(0)`).
    Turn,
    /// Work in a thread pool (running or queued).
    Thread(Rc<Work>),
}

/// What a task in [`Waiting::Wait`] waits on, and what for.
pub(crate) struct WaitOn {
    pub(crate) what: &'static str,
    pub(crate) members: Rc<[Member]>,
}

/// What `after`'s wait on upstream tasks is called.
pub(crate) const UPSTREAM: &str = "its upstream tasks";

/// What a task waiting so waits on, for the critical path: a sleeping task
/// woken by a step is being cancelled.
fn waited_on(waiting: &Waiting) -> (What, u32) {
    match waiting {
        Waiting::Nothing | Waiting::Turn | Waiting::Sleep(_) | Waiting::Backoff(_) => {
            (What::Turn, 0)
        }
        Waiting::Thread(_) => (What::Sleep, 0),
        Waiting::Member(Member::Task(_)) => (What::Task, 0),
        Waiting::Member(Member::Future(f)) => (What::Future, *f),
        Waiting::Gather(_) => (What::Gather, 0),
        Waiting::Semaphore(s) => (What::Permit, *s),
        Waiting::Get(q) => (What::Item, *q),
        Waiting::Put(q) => (What::Room, *q),
        Waiting::Join(q) => (What::Drained, *q),
        Waiting::Event(e, _) => (What::Event, *e),
        Waiting::Barrier(b, _) => (What::Barrier, *b),
        Waiting::Condition(c, _) => (What::Notify, *c),
        // `after`: the upstream task that decided it finished.
        Waiting::Wait(w) if w.what == UPSTREAM => (What::Task, 0),
        Waiting::Wait(_) => (What::Wait, 0),
    }
}

impl Waiting {
    pub(crate) fn on(what: &'static str, members: Rc<[Member]>) -> Waiting {
        Waiting::Wait(Rc::new(WaitOn { what, members }))
    }
}

thread_local! {
    /// The ready queue (asyncio's `_ready`): task steps and done callbacks,
    /// run in the order they were queued. One per thread: a thread runs one
    /// simulation at a time, and empties the queue when the run ends.
    static READY: RefCell<VecDeque<Job>> = const { RefCell::new(VecDeque::new()) };
}

fn push(job: Job) {
    READY.with(|r| r.borrow_mut().push_back(job));
}

fn pop() -> Option<Job> {
    READY.with(|r| r.borrow_mut().pop_front())
}

/// One entry of the ready queue.
pub(crate) enum Job {
    /// A done callback, run as its own turn (asyncio's `call_soon`), as
    /// part of what scheduled it (for the critical path).
    Callback(Callback, Cause),
    /// A task's next turn (see [`crate::program::Machine`]).
    Turn(TaskId),
    /// A timer that came due without the clock moving: like asyncio's timer
    /// handle, it runs in its turn, and what it wakes runs in the next.
    /// The clock keeps what it does until then.
    Timer(TimerKey),
}

/// The steps of each definition some step `call`s, compiled as a `call`
/// runs them (`None` for those nobody calls).
fn called_bodies(model: &Model) -> Vec<Option<Program>> {
    let mut called = vec![false; model.tasks.len()];
    let mut blocks: Vec<&[Step]> = model.tasks.iter().map(|t| t.body.as_slice()).collect();
    while let Some(steps) = blocks.pop() {
        for step in steps {
            if let Step::Call(start) = step {
                called[start.def as usize] = true;
            }
            blocks.extend(step.children());
        }
    }
    model
        .tasks
        .iter()
        .zip(called)
        .map(|(t, called)| called.then(|| Program::body(t)))
        .collect()
}

/// A task's place in the ready queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    Idle,
    Queued,
    Running,
    /// Woken while running: queued again once this turn ends.
    Woken,
}

/// What a timer does when it fires.
pub(crate) enum TimerAction {
    Wake(TaskId),
    Release(Rc<Waiter>),
    /// A timeout scope expired: cancel its task.
    Expire(Rc<Cell<bool>>, TaskId),
    /// An arrival comes: (arrival source, virtual user or 0).
    Arrive(u32, u32),
    /// `as_completed`'s timeout, for the task iterating it.
    Completed(Rc<AsCompleted>, TaskId),
    /// A callback `call_later` or `call_at` scheduled: its timer is its
    /// handle, which runs it at once.
    Call(CallbackId),
    /// A worker thread finished its work.
    ThreadDone(Rc<Work>),
}

/// An arrival process under way: what it starts and where it stands.
struct Source {
    def: DefId,
    /// The hash naming its random streams ([`Arrivals::stream_name`]).
    stream: u64,
    state: SourceState,
    /// Per virtual user (one for an open process): the timer of its next
    /// arrival, if one is set.
    timers: Vec<Option<TimerKey>>,
    /// Per virtual user: what its next arrival follows (the instance whose
    /// end began its think time), for the critical path.
    after: Vec<Cause>,
}

enum SourceState {
    Open(OpenState),
    /// Virtual users: each one's stream of think times (made at its first
    /// draw), and the instances started so far.
    Closed {
        streams: Vec<Option<Rng>>,
        started: u64,
    },
}

/// A task instance: where it stands, read by others through its methods.
/// A task's pending cancellation (asyncio's `_must_cancel`), and whose
/// message it will raise with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MustCancel {
    No,
    /// The last `cancel(msg)`'s: the task's own `_cancel_message`.
    Open,
    /// The first one's: it was delivered while the future the task waits
    /// on was pending, and that future holds it.
    Fixed,
}

pub(crate) struct TaskSlot {
    def: DefId,
    k: u32,
    state: State,
    /// A cancellation delivered, to be raised at its next turn.
    must_cancel: MustCancel,
    /// A cancellation asked while it ran (of itself): delivered to what it
    /// waits on next, as `Task.__step` does with `_must_cancel` once its
    /// coroutine yields a future.
    cancel_at_wait: bool,
    /// asyncio's `cancelling()` count.
    cancels: u32,
    /// Its step machine: where it is in its program, and what it waits for.
    machine: Machine,
    /// Its place in the ready queue.
    turn: Cell<Turn>,
    /// Done callbacks; most tasks have one (whoever awaits or gathers them).
    callbacks: Callbacks,
    outcome: Option<Outcome>,
    waiting: Waiting,
    /// When it started and finished ([`NEVER`] until then).
    started: u64,
    finished: u64,
    /// Steps run at the current instant, for the runaway-loop limit.
    instant: Instant,
}

/// An instant that has not come: a task not yet started or finished.
const NEVER: u64 = u64::MAX;

impl TaskSlot {
    /// The definition it is an instance of.
    pub(crate) fn def(&self) -> DefId {
        self.def
    }

    /// Its instance number among its definition's.
    pub(crate) fn k(&self) -> u32 {
        self.k
    }

    /// Whether it is pending or how it ended.
    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// What it is suspended on.
    pub(crate) fn waiting(&self) -> &Waiting {
        &self.waiting
    }

    /// When it started, if it did.
    pub(crate) fn started_at(&self) -> Option<u64> {
        (self.started != NEVER).then_some(self.started)
    }

    /// When it finished, if it did.
    pub(crate) fn finished_at(&self) -> Option<u64> {
        (self.finished != NEVER).then_some(self.finished)
    }
}

/// A declared future: its outcome once set, and its done callbacks.
struct FutureSlot {
    outcome: Option<Outcome>,
    callbacks: Vec<Callback>,
}

/// The whole simulated world of one run.
pub(crate) struct Sim {
    model: Rc<Model>,
    clock: RefCell<Clock<TimerAction>>,
    tasks: RefCell<Vec<TaskSlot>>,
    /// The messages of `cancel(msg)`, kept beside the tasks (few carry one).
    cancel_messages: RefCell<CancelMessages>,
    /// Which finished tasks and futures had their outcome read.
    retrieval: RefCell<Retrieval>,
    /// Per definition: its program, as its instances run it.
    programs: Vec<Program>,
    /// Per definition: its steps as a `call` runs them.
    bodies: Vec<Option<Program>>,
    futures: RefCell<Vec<FutureSlot>>,
    events: RefCell<Vec<EventSlot>>,
    barriers: RefCell<Vec<Barrier>>,
    conditions: RefCell<Vec<CondSlot>>,
    /// The callbacks `call_soon`, `call_later` and `call_at` scheduled.
    handles: RefCell<Handles>,
    /// How many timers of `call_later` and `call_at` are set.
    callback_timers: Cell<usize>,
    /// Whether callbacks still due once every task has finished are
    /// dropped: `asyncio.run` returns then (unless daemons are left to
    /// run until the loop is idle, with no `main`).
    drop_late_callbacks: bool,
    semaphores: RefCell<Vec<Semaphore>>,
    queues: Vec<RefCell<Queue>>,
    tracer: RefCell<Tracer>,
    instances: RefCell<Vec<u32>>,
    def_hashes: Vec<u64>,
    seed: u64,
    checks_failed: Cell<u32>,
    roots: RefCell<Vec<Vec<TaskId>>>,
    /// The arrival processes, in the order of their task definitions.
    sources: RefCell<Vec<Source>>,
    shut_down: Cell<bool>,
    limits: Limits,
    meter: RefCell<Meter>,
    /// Set when a limit is crossed: the run ends after the current turn.
    stop: Cell<Option<Stop>>,
    /// Where the limit was crossed, when a task's step crossed it: "in
    /// task `w[3]`, step `return`".
    stop_at: RefCell<Option<String>>,
    /// Blocking calls and whom they delayed; watched only if the scenario blocks.
    blocks: RefCell<Blocks>,
    /// The thread pools: the default executor, then `[executors]`.
    pools: RefCell<crate::executor::Pools>,
    watch_blocks: bool,
    /// When each task became ready, indexed by task, if `watch_blocks`.
    readies: RefCell<Vec<Ready>>,
    /// `--compare sequential`: every sleep holds the loop, like `time.sleep`.
    sleeps_block: bool,
    /// `--clock real`: timers wait for real time, scaled by this speed.
    real: Option<RealClock>,
    hooks: Hooks,
    /// What made each task ready, if the critical path is wanted.
    path: Option<RefCell<Recorder>>,
    /// How many eager first turns are running inside one another (a task
    /// created eagerly that creates a task eagerly...).
    eager_depth: Cell<u32>,
}

/// A task's variables: each symbol with its value.
pub(crate) type Vars = Vec<(Sym, Value)>;

/// The interpreter's entry points, given at start (see
/// [`crate::interpreter::HOOKS`]): the loop runs tasks through them without
/// importing the interpreter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hooks {
    /// Runs a task's next turn.
    pub(crate) resume: fn(&Rc<Sim>, TaskId),
    /// The variables a root replica starts with.
    pub(crate) root_vars: fn(&Sim, DefId, u32) -> Vars,
    /// Runs the `on_done` steps of a future or a task.
    pub(crate) run_on_done: fn(&Rc<Sim>, Member),
    /// Runs the steps of a callback `call_*` scheduled, under the name of
    /// whoever scheduled it.
    pub(crate) run_scheduled: fn(&Rc<Sim>, &[Step], &Rc<str>),
}

/// How one run is set up, besides its model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    pub(crate) seed: u64,
    pub(crate) limits: Limits,
    pub(crate) sleeps_block: bool,
    pub(crate) real: Option<RealClock>,
    /// How tasks run: the interpreter.
    pub(crate) hooks: Hooks,
    /// Whether to note what made each task ready, for the critical path.
    pub(crate) critical_path: bool,
}

/// Real time, for `--clock real`: the clock reads measured time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RealClock {
    pub(crate) start: std::time::Instant,
    pub(crate) speed: f64,
}

impl RealClock {
    /// Measured time since the start, in scaled nanoseconds.
    pub(crate) fn now(&self) -> u64 {
        (self.start.elapsed().as_nanos() as f64 * self.speed) as u64
    }

    /// The real instant at which scaled time `t` comes.
    fn instant_of(&self, t: u64) -> std::time::Instant {
        self.start + std::time::Duration::from_nanos((t as f64 / self.speed) as u64)
    }
}

impl Sim {
    pub(crate) fn new(model: Rc<Model>, setup: Setup, tracer: Tracer) -> Rc<Sim> {
        let Setup {
            seed,
            limits,
            sleeps_block,
            real,
            hooks,
            critical_path,
        } = setup;
        let bodies = called_bodies(&model);
        let semaphores = model
            .semaphores
            .iter()
            .map(|s| Semaphore::new(s.permits, s.kind))
            .collect();
        let queues = model
            .queues
            .iter()
            .map(|q| RefCell::new(Queue::new(q.capacity, q.kind)))
            .collect();
        let futures = model
            .futures
            .iter()
            .enumerate()
            .map(|(i, f)| FutureSlot {
                outcome: None,
                callbacks: if f.on_done.is_empty() {
                    Vec::new()
                } else {
                    vec![Callback::OnDone(Member::Future(i as FutId))]
                },
            })
            .collect();
        Rc::new(Sim {
            def_hashes: model.tasks.iter().map(|t| name_hash(&t.name)).collect(),
            instances: RefCell::new(vec![0; model.tasks.len()]),
            roots: RefCell::new(vec![Vec::new(); model.tasks.len()]),
            sources: RefCell::new(Vec::new()),
            clock: RefCell::new(Clock::new()),
            tasks: RefCell::new(Vec::new()),
            cancel_messages: RefCell::new(CancelMessages::default()),
            retrieval: RefCell::new(Retrieval::default()),
            programs: model.tasks.iter().map(Program::compile).collect(),
            bodies,
            futures: RefCell::new(futures),
            events: RefCell::new(model.events.iter().map(|_| EventSlot::default()).collect()),
            barriers: RefCell::new(
                model
                    .barriers
                    .iter()
                    .map(|b| Barrier::new(b.parties))
                    .collect(),
            ),
            conditions: RefCell::new(
                model
                    .conditions
                    .iter()
                    .map(|_| CondSlot::default())
                    .collect(),
            ),
            handles: RefCell::new(Handles::default()),
            callback_timers: Cell::new(0),
            drop_late_callbacks: model.main.is_some() || !model.tasks.iter().any(|t| t.daemon),
            semaphores: RefCell::new(semaphores),
            queues,
            tracer: RefCell::new(tracer),
            seed,
            checks_failed: Cell::new(0),
            shut_down: Cell::new(false),
            limits,
            meter: RefCell::new(Meter::default()),
            stop: Cell::new(None),
            stop_at: RefCell::new(None),
            eager_depth: Cell::new(0),
            blocks: RefCell::new(Blocks::default()),
            pools: RefCell::new(crate::executor::Pools::new(&model)),
            watch_blocks: model.has_blocks(),
            readies: RefCell::new(Vec::new()),
            sleeps_block,
            real,
            model,
            hooks,
            path: (critical_path && limits.path_records > 0)
                .then(|| RefCell::new(Recorder::new(limits.path_records))),
        })
    }

    // ----- the critical path's notes ----------------------------------------

    /// Notes what runs now, if the critical path is wanted.
    #[inline]
    fn note(&self, f: impl FnOnce(&mut Recorder)) {
        if let Some(path) = &self.path {
            f(&mut path.borrow_mut());
        }
    }

    /// What runs now, for a callback it schedules.
    #[inline]
    fn cause(&self) -> Cause {
        match &self.path {
            Some(path) => path.borrow().current(),
            None => Cause::Root,
        }
    }

    /// The critical path of the run so far (see [`Recorder::path`]):
    /// `Err` when its notes passed `--max-path-records`.
    pub(crate) fn critical_path(&self) -> Option<Result<Vec<crate::critical_path::Link>, u64>> {
        let path = self.path.as_ref()?.borrow();
        if path.is_full() {
            return Some(Err(self.limits.path_records));
        }
        path.path(self.now()).map(Ok)
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.borrow().now()
    }

    /// The model this run simulates.
    #[inline]
    pub(crate) fn model(&self) -> &Rc<Model> {
        &self.model
    }

    /// The largest value a step may build, in bytes (`--max-value-bytes`).
    #[inline]
    pub(crate) fn value_bytes(&self) -> u64 {
        self.limits.value_bytes
    }

    /// The run's seed.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether every sleep holds the loop (`--compare sequential`).
    #[inline]
    pub(crate) fn sleeps_block(&self) -> bool {
        self.sleeps_block
    }

    // ----- timers --------------------------------------------------------

    /// Sets a timer that does `action` in `ns`.
    #[inline]
    pub(crate) fn set_timer(&self, ns: u64, action: TimerAction) -> TimerKey {
        self.clock.borrow_mut().set(ns, action)
    }

    /// Cancels a timer, if it has not fired.
    #[inline]
    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        self.clock.borrow_mut().cancel(key);
    }

    /// Whether a timer has yet to fire.
    #[inline]
    pub(crate) fn timer_pending(&self, key: TimerKey) -> bool {
        self.clock.borrow().is_pending(key)
    }

    // ----- semaphores ----------------------------------------------------

    /// Takes a permit of `sem` for `task` if one is free.
    #[inline]
    pub(crate) fn try_acquire(&self, sem: SemId, task: TaskId, priority: Option<Priority>) -> bool {
        self.semaphores.borrow_mut()[sem as usize]
            .at(self.now())
            .try_acquire(task, priority, |t| self.cancel_pending(t))
    }

    /// `task`, kept out of a preemptive semaphore, takes the permit of its
    /// worst holder if that one's priority is higher: the holder who lost
    /// it.
    pub(crate) fn preempt(&self, sem: SemId, task: TaskId, priority: Priority) -> Option<TaskId> {
        self.semaphores.borrow_mut()[sem as usize]
            .at(self.now())
            .preempt(task, priority)
    }

    /// Whether `task` lost its permit of `sem` (and to which priority),
    /// asked once as its `with` ends.
    pub(crate) fn take_preempted(&self, sem: SemId, task: TaskId) -> Option<Priority> {
        self.semaphores.borrow_mut()[sem as usize].take_preempted(task)
    }

    /// `task` joins the waiters for a permit of `sem` (at `priority`, on a
    /// priority semaphore).
    #[inline]
    pub(crate) fn enqueue(&self, sem: SemId, task: TaskId, priority: Option<Priority>) {
        self.semaphores.borrow_mut()[sem as usize]
            .at(self.now())
            .enqueue(task, priority);
    }

    /// Whether a permit of `sem` was granted to `task`, waiting for it.
    #[inline]
    pub(crate) fn is_granted(&self, sem: SemId, task: TaskId) -> bool {
        self.semaphores.borrow()[sem as usize].is_granted(task)
    }

    /// `task`, granted a permit of `sem`, holds it; returns the next waiter
    /// handed a permit still free, to wake.
    #[inline]
    pub(crate) fn take_permit(&self, sem: SemId, task: TaskId) -> Option<TaskId> {
        self.semaphores.borrow_mut()[sem as usize]
            .at(self.now())
            .granted(task, |t| self.cancel_pending(t))
    }

    /// `task`, cancelled, stops waiting for `sem`: `None` when no permit was
    /// granted to it; else the waiter the permit was handed to, if any.
    #[inline]
    pub(crate) fn abandon_permit(&self, sem: SemId, task: TaskId) -> (bool, Option<TaskId>) {
        self.semaphores.borrow_mut()[sem as usize]
            .at(self.now())
            .abandon(task, |t| self.cancel_pending(t))
    }

    /// `task` gives back a permit of `sem`: the waiter handed it, if any,
    /// and whether the release added a permit (none was out); an error
    /// when the semaphore's kind refuses it.
    #[inline]
    pub(crate) fn release_permit(
        &self,
        sem: SemId,
        task: TaskId,
    ) -> Result<(Option<TaskId>, bool), ()> {
        let mut sems = self.semaphores.borrow_mut();
        let s = sems[sem as usize].at(self.now());
        let before = s.capacity();
        let next = s.release(task, |t| self.cancel_pending(t))?;
        Ok((next, s.capacity() > before))
    }

    /// How many permits `sem` has now: its own, and one more for each
    /// release of a plain semaphore while none was out.
    pub(crate) fn permits_now(&self, sem: SemId) -> u32 {
        self.semaphores.borrow()[sem as usize].capacity()
    }

    /// How many permits of `sem` are held.
    pub(crate) fn permits_in_use(&self, sem: SemId) -> u32 {
        self.semaphores.borrow()[sem as usize].in_use()
    }

    /// `f` of the tasks holding a permit of `sem`.
    pub(crate) fn holders<R>(&self, sem: SemId, f: impl FnOnce(&[TaskId]) -> R) -> R {
        f(&self.semaphores.borrow()[sem as usize].holders)
    }

    /// `f` of semaphore `sem`, its use counted up to `now`.
    pub(crate) fn semaphore_use<R>(
        &self,
        sem: SemId,
        now: u64,
        f: impl FnOnce(&Semaphore) -> R,
    ) -> R {
        f(self.semaphores.borrow_mut()[sem as usize].at(now))
    }

    // ----- queues --------------------------------------------------------

    /// `put_nowait`: the getter woken, or the item back when `queue` is full.
    #[inline]
    pub(crate) fn try_put(&self, queue: QueueId, item: Entry) -> Result<Option<TaskId>, Entry> {
        self.queues[queue as usize]
            .borrow_mut()
            .at(self.now())
            .try_put(item, |t| self.cancel_pending(t))
    }

    /// `get_nowait`: the next item of `queue` (by its kind) and the putter
    /// woken, if there is an item.
    #[inline]
    pub(crate) fn try_get(&self, queue: QueueId) -> Option<(Entry, Option<TaskId>)> {
        self.queues[queue as usize]
            .borrow_mut()
            .at(self.now())
            .try_get(|t| self.cancel_pending(t))
    }

    /// `shutdown(immediate)` of `queue`: the joiners it releases are
    /// released, the getters and putters it wakes are woken (in that order).
    pub(crate) fn shut_down_queue(&self, queue: QueueId, immediate: bool) -> ShutDown {
        let done = self.queues[queue as usize]
            .borrow_mut()
            .at(self.now())
            .shut_down(immediate, |t| self.cancel_pending(t));
        done.joiners.iter().for_each(|w| self.release(w));
        done.getters
            .iter()
            .chain(&done.putters)
            .for_each(|&t| self.wake(t));
        done
    }

    /// Whether `queue` was shut down.
    #[inline]
    pub(crate) fn queue_is_shut_down(&self, queue: QueueId) -> bool {
        self.queues[queue as usize].borrow().is_shut_down()
    }

    /// The number a put to priority queue `queue` draws as it begins.
    pub(crate) fn ticket(&self, queue: QueueId) -> u64 {
        self.queues[queue as usize].borrow_mut().ticket()
    }

    /// `task` joins a line of `queue`: its waiter, set when it is woken.
    #[inline]
    pub(crate) fn wait_in_line(&self, queue: QueueId, side: Side, task: TaskId) -> Rc<Waiter> {
        self.queues[queue as usize]
            .borrow_mut()
            .at(self.now())
            .wait(side, task)
    }

    /// A cancelled waiter leaves a line of `queue`: the next waiter its
    /// wakeup passes to, if any.
    #[inline]
    pub(crate) fn leave_line(
        &self,
        queue: QueueId,
        side: Side,
        waiter: &Rc<Waiter>,
    ) -> Option<TaskId> {
        self.queues[queue as usize]
            .borrow_mut()
            .at(self.now())
            .abandon(side, waiter, |t| self.cancel_pending(t))
    }

    /// How many items of `queue` are not marked done.
    pub(crate) fn unfinished(&self, queue: QueueId) -> u64 {
        self.queues[queue as usize].borrow().unfinished()
    }

    /// How many items `queue` holds.
    pub(crate) fn depth(&self, queue: QueueId) -> usize {
        self.queues[queue as usize].borrow().depth()
    }

    /// How many items `queue` may hold, if bounded.
    pub(crate) fn capacity(&self, queue: QueueId) -> Option<u32> {
        self.queues[queue as usize].borrow().capacity()
    }

    /// A waiter of `queue.join()` joins.
    pub(crate) fn add_joiner(&self, queue: QueueId, w: Rc<Waiter>) {
        self.queues[queue as usize].borrow_mut().add_joiner(w);
    }

    /// A waiter of `queue.join()` leaves.
    pub(crate) fn remove_joiner(&self, queue: QueueId, w: &Rc<Waiter>) {
        self.queues[queue as usize].borrow_mut().remove_joiner(w);
    }

    /// `task_done()` on `queue`: the joiners to release; an error when
    /// called more times than items were put.
    pub(crate) fn task_done(&self, queue: QueueId) -> Result<Vec<Rc<Waiter>>, ()> {
        self.queues[queue as usize].borrow_mut().task_done()
    }

    /// `f` of `queue`, its use counted up to `now`.
    pub(crate) fn queue_use<R>(&self, queue: QueueId, now: u64, f: impl FnOnce(&Queue) -> R) -> R {
        f(self.queues[queue as usize].borrow_mut().at(now))
    }

    // ----- events ----------------------------------------------------------

    /// `event.is_set()`.
    pub(crate) fn event_is_set(&self, e: EventId) -> bool {
        self.events.borrow()[e as usize].is_set()
    }

    /// `event.set()`: every waiter is released and its task woken, in the
    /// order they began to wait; how many.
    pub(crate) fn set_event(&self, e: EventId) -> usize {
        let released = self.events.borrow_mut()[e as usize].set();
        for t in &released {
            self.wake(*t);
        }
        released.len()
    }

    /// `event.clear()`.
    pub(crate) fn clear_event(&self, e: EventId) {
        self.events.borrow_mut()[e as usize].clear();
    }

    /// `task` begins to wait for `e` to be set: its waiter.
    pub(crate) fn wait_event(&self, e: EventId, task: TaskId) -> Rc<Waiter> {
        self.events.borrow_mut()[e as usize].wait(task)
    }

    // ----- barriers ----------------------------------------------------------

    /// `f` of barrier `b` (its attributes).
    pub(crate) fn barrier<R>(&self, b: BarrierId, f: impl FnOnce(&Barrier) -> R) -> R {
        f(&self.barriers.borrow()[b as usize])
    }

    /// `f` changes barrier `b`; the tasks it notifies are woken, in line
    /// order: what `f` returns, and how many it woke.
    pub(crate) fn change_barrier<R>(
        &self,
        b: BarrierId,
        f: impl FnOnce(&mut Barrier, &mut Vec<TaskId>) -> R,
    ) -> (R, usize) {
        let mut woken = Vec::new();
        let r = f(&mut self.barriers.borrow_mut()[b as usize], &mut woken);
        for t in &woken {
            self.wake(*t);
        }
        (r, woken.len())
    }

    /// Task `task` at `stage` in barrier `b`: the wait begun, or what it
    /// came to at once (`again`: a notified waiter looking again).
    pub(crate) fn pass_barrier(
        &self,
        b: BarrierId,
        task: TaskId,
        stage: Option<Stage>,
    ) -> (Passage, usize) {
        self.change_barrier(b, |barrier, woken| match stage {
            None => barrier.wait(task, woken),
            Some(stage) => barrier.look_again(task, stage, woken),
        })
    }

    // ----- conditions ------------------------------------------------------

    /// A lock's `locked()` (`sem` is a lock-kind semaphore).
    pub(crate) fn lock_locked(&self, sem: SemId) -> bool {
        self.semaphores.borrow()[sem as usize].locked()
    }

    /// `task` begins to wait for a notify of `c`: its waiter.
    pub(crate) fn wait_condition(&self, c: CondId, task: TaskId) -> Rc<Waiter> {
        self.conditions.borrow_mut()[c as usize].wait(task)
    }

    /// `notify(n)` of `c` (`None`: all): the tasks notified are woken, in
    /// the order they began to wait; how many.
    pub(crate) fn notify(&self, c: CondId, n: Option<u32>) -> usize {
        let woken = self.conditions.borrow_mut()[c as usize].notify(n);
        for t in &woken {
            self.wake(*t);
        }
        woken.len()
    }

    // ----- what the run came to --------------------------------------------

    /// A `check` step failed.
    pub(crate) fn check_failed(&self) {
        self.checks_failed.set(self.checks_failed.get() + 1);
    }

    /// How many `check` steps failed.
    pub(crate) fn checks_failed(&self) -> u32 {
        self.checks_failed.get()
    }

    /// The limit that stopped the run, if one did.
    pub(crate) fn stopped(&self) -> Option<Stop> {
        self.stop.get()
    }

    /// Says where the run stopped (`at`: which step), unless that is said.
    pub(crate) fn stopped_at(&self, at: impl FnOnce() -> String) {
        let mut stop_at = self.stop_at.borrow_mut();
        if stop_at.is_none() {
            *stop_at = Some(format!("in {}", at()));
        }
    }

    /// Why the run stopped, if a limit stopped it, and where.
    pub(crate) fn stop_message(&self) -> Option<String> {
        self.stop.get().map(|stop| match &*self.stop_at.borrow() {
            Some(at) => format!("{at}: {}", stop.message()),
            None => stop.message(),
        })
    }

    /// Whether `main` finished and what was left was cancelled.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.get()
    }

    /// Who held the loop with blocking calls, and whom that delayed.
    pub(crate) fn blocking_summary(&self) -> Vec<String> {
        crate::blocking::summary(&|t| self.task_name(t), &self.blocks)
    }

    /// Writes the trace's header.
    pub(crate) fn trace_header(&self) {
        self.tracer
            .borrow_mut()
            .header(&self.model.name, self.seed, self.model.python);
    }

    /// Writes the summary at the end of the trace (with `fallback` when
    /// the trace has no renderer) and flushes.
    pub(crate) fn trace_finish(&self, summary: &Summary, fallback: &mut dyn Renderer) {
        self.tracer.borrow_mut().finish(summary, fallback);
    }

    // ----- tasks -------------------------------------------------------

    /// The trace name of a task: `main`, or `worker[3]` for replicas and started tasks.
    pub(crate) fn task_name(&self, id: TaskId) -> String {
        let tasks = self.tasks.borrow();
        let slot = &tasks[id as usize];
        let def = &self.model.tasks[slot.def as usize];
        if def.root && def.count == 1 {
            def.name.clone()
        } else {
            format!("{}[{}]", def.name, slot.k)
        }
    }

    pub(crate) fn rng_for(&self, id: TaskId) -> Rng {
        let tasks = self.tasks.borrow();
        let slot = &tasks[id as usize];
        Rng::for_instance(self.seed, self.def_hashes[slot.def as usize], slot.k as u64)
    }

    /// Creates a task instance and queues its first step (`create_task`).
    pub(crate) fn spawn_task(
        self: &Rc<Self>,
        def: DefId,
        vars: Vec<(u32, Value)>,
        handles: Vec<(u32, Rc<Vec<Member>>)>,
        parent: Option<TaskId>,
    ) -> TaskId {
        let k = {
            let mut inst = self.instances.borrow_mut();
            inst[def as usize] += 1;
            inst[def as usize] - 1
        };
        // A task whose steps read no variable keeps none.
        let program = &self.programs[def as usize];
        let vars = match program.reads_vars {
            true => vars,
            false => Vec::new(),
        };
        let on_done = program.on_done;
        let id = {
            let mut tasks = self.tasks.borrow_mut();
            let id_next = tasks.len() as TaskId;
            tasks.push(TaskSlot {
                def,
                k,
                state: State::Pending,
                must_cancel: MustCancel::No,
                cancel_at_wait: false,
                cancels: 0,
                machine: Machine::new(vars, handles),
                turn: Cell::new(Turn::Queued),
                callbacks: match on_done {
                    false => Callbacks::None,
                    true => Callbacks::One(Callback::OnDone(Member::Task(id_next))),
                },
                outcome: None,
                waiting: Waiting::Nothing,
                started: NEVER,
                finished: NEVER,
                instant: Instant::default(),
            });
            (tasks.len() - 1) as TaskId
        };
        {
            let mut meter = self.meter.borrow_mut();
            meter.live += 1;
            meter.created += 1;
        }
        self.note(|p| p.created(id, self.now()));
        if self.tracing() {
            let detail = match parent {
                Some(p) => format!("by {}", self.task_name(p)),
                None => String::new(),
            };
            self.emit(self.task_event(id, "created", detail));
        }
        if self.watch_blocks {
            self.readies.borrow_mut().push(Ready::new(self.now()));
        }
        match self.model.eager_tasks {
            true => self.start_eagerly(id),
            false => push(Job::Turn(id)),
        }
        id
    }

    /// asyncio's eager task factory: the new task's first turn runs now,
    /// inside `create_task`, as the current task; what runs the critical
    /// path's account of it then goes back to the creator.
    fn start_eagerly(self: &Rc<Self>, id: TaskId) {
        if self.stop.get().is_some() {
            // A limit stopped the run: the task is left queued, never started.
            push(Job::Turn(id));
            return;
        }
        let depth = self.eager_depth.get();
        let cause = self.path.as_ref().map(|p| p.borrow().current());
        self.eager_depth.set(depth + 1);
        self.note(|p| p.running(id, self.now()));
        (self.hooks.resume)(self, id);
        if let Some(cause) = cause {
            self.note(|p| p.set_current(cause));
        }
        self.eager_depth.set(depth);
    }

    /// Whether a task created now would start eagerly deeper than
    /// [`crate::limits::MAX_EAGER_DEPTH`] first turns inside one another:
    /// the run stops instead.
    pub(crate) fn eager_too_deep(&self) -> bool {
        let deep =
            self.model.eager_tasks && self.eager_depth.get() >= crate::limits::MAX_EAGER_DEPTH;
        if deep {
            self.stop
                .set(Some(Stop::EagerDepth(crate::limits::MAX_EAGER_DEPTH)));
        }
        deep
    }

    /// An event of task `id`, now.
    pub(crate) fn task_event(&self, id: TaskId, kind: &'static str, detail: String) -> Event {
        Event::new(self.now(), self.task_name(id), kind, detail)
    }

    /// An event of `actor` (a task's name, a future's), now.
    pub(crate) fn event(&self, actor: String, kind: &'static str, detail: String) -> Event {
        Event::new(self.now(), actor, kind, detail)
    }

    /// A task's turn begins: whether a blocking call delayed it is said.
    pub(crate) fn turn_begins(&self, id: TaskId) {
        if self.watch_blocks {
            let due = self.readies.borrow()[id as usize].take_due();
            self.polled(id, due);
        }
    }

    /// A task's turn begins, ready since `due`: when that was before now, a
    /// blocking call delayed it; the delay is traced and blamed.
    fn polled(&self, task: TaskId, due: u64) {
        let now = self.now();
        if due >= now {
            return;
        }
        let by = self.blocks.borrow_mut().delayed(task, due, now);
        if self.tracing() && !by.is_empty() {
            let names: Vec<String> = by.iter().map(|b| self.task_name(*b)).collect();
            let detail = format!(
                "by {}: the loop was blocked by {}",
                crate::duration::format(now - due),
                names.join(", ")
            );
            self.emit(self.task_event(task, "delayed", detail));
        }
    }

    /// A blocking call by `task` held the loop for `ns`: the clock jumps.
    pub(crate) fn block(&self, task: TaskId, ns: u64) {
        let from = self.now();
        if from.checked_add(ns).is_none_or(|t| t == u64::MAX) {
            // Past what the clock can hold: the run stops instead.
            self.stop.set(Some(Stop::Clock));
            return;
        }
        match self.real {
            Some(real) => {
                let until = real.instant_of(from + ns);
                std::thread::sleep(until.saturating_duration_since(std::time::Instant::now()));
                let now = real.now().max(from + ns);
                self.clock.borrow_mut().block(now - from);
            }
            None => self.clock.borrow_mut().block(ns),
        }
        self.blocks.borrow_mut().record(task, from, self.now());
        self.note(|p| p.blocked(task, self.now()));
    }

    pub(crate) fn state(&self, m: Member) -> State {
        match m {
            Member::Task(t) => self.tasks.borrow()[t as usize].state,
            Member::Future(f) => match &self.futures.borrow()[f as usize].outcome {
                None => State::Pending,
                Some(o) => State::of(o),
            },
        }
    }

    pub(crate) fn outcome(&self, m: Member) -> Option<Outcome> {
        match m {
            Member::Task(t) => self.tasks.borrow()[t as usize].outcome.clone(),
            Member::Future(f) => self.futures.borrow()[f as usize].outcome.clone(),
        }
    }

    pub(crate) fn add_callback(self: &Rc<Self>, m: Member, cb: Callback) {
        if self.state(m) != State::Pending {
            // Like asyncio: a callback added to a finished future is scheduled at once.
            self.schedule(cb);
            return;
        }
        match m {
            Member::Task(t) => self.tasks.borrow_mut()[t as usize].callbacks.push(cb),
            Member::Future(f) => self.futures.borrow_mut()[f as usize].callbacks.push(cb),
        }
    }

    pub(crate) fn remove_callback(&self, m: Member, cb: &Callback) {
        match m {
            Member::Task(t) => self.tasks.borrow_mut()[t as usize]
                .callbacks
                .retain(|c| !c.same(cb)),
            Member::Future(f) => self.futures.borrow_mut()[f as usize]
                .callbacks
                .retain(|c| !c.same(cb)),
        }
    }

    /// Records what a task is suspended on.
    pub(crate) fn set_waiting(&self, id: TaskId, waiting: Waiting) {
        self.tasks.borrow_mut()[id as usize].waiting = waiting;
    }

    /// Whether a cancellation was delivered to this task and it has not run
    /// since: asyncio would have cancelled the future it waits on, so a
    /// semaphore or queue passes it over when waking the next waiter.
    pub(crate) fn cancel_pending(&self, id: TaskId) -> bool {
        self.tasks.borrow()[id as usize].must_cancel != MustCancel::No
    }

    /// Takes a pending cancellation, if one was delivered to this task:
    /// the `CancelledError` it raises there, with its message.
    pub(crate) fn take_cancel(&self, id: TaskId) -> Option<Raise> {
        let mut tasks = self.tasks.borrow_mut();
        if std::mem::replace(&mut tasks[id as usize].must_cancel, MustCancel::No) == MustCancel::No
        {
            return None;
        }
        Some(Raise::Cancelled(self.cancel_messages.borrow_mut().take(id)))
    }

    /// A finished task's or future's outcome, as `result()` retrieves it:
    /// a task's `CancelledError` keeps its message for the first to
    /// retrieve it only (asyncio's `_make_cancelled_error` drops the
    /// exception it saved), a future's for every one.
    pub(crate) fn retrieve(&self, m: Member) -> Option<Outcome> {
        self.mark_retrieved(m);
        let Member::Task(t) = m else {
            return self.outcome(m);
        };
        let mut tasks = self.tasks.borrow_mut();
        let outcome = &mut tasks[t as usize].outcome;
        match outcome {
            Some(Err(Raise::Cancelled(msg @ Some(_))))
                if !self.cancel_messages.borrow().kept(t) =>
            {
                Some(Err(Raise::Cancelled(msg.take())))
            }
            other => other.clone(),
        }
    }

    /// `m`'s `exception()` (or `result()`) was called: a failure of it is
    /// not reported at the end. Nothing is read from a pending one.
    pub(crate) fn mark_retrieved(&self, m: Member) {
        if self.state(m) != State::Pending {
            self.retrieval.borrow_mut().mark(m);
        }
    }

    /// What CPython reports at the normal end of the run, in its order:
    /// the tasks that failed while `asyncio.run` cancelled them, then every
    /// task (in creation order) and future (in declaration order) that
    /// failed and whose exception nobody read. Each becomes an `unretrieved`
    /// event of the trace.
    pub(crate) fn report_unretrieved(&self) -> Vec<Unretrieved> {
        let max = self.value_bytes();
        let repr = |e: crate::exception::Exception| Value::Error(Rc::new(e)).repr_within(max);
        let retrieval = self.retrieval.borrow();
        let shutdown = retrieval
            .shutdown_tasks()
            .iter()
            .map(|&t| (Member::Task(t), Why::Shutdown));
        let tasks = (0..self.task_count() as TaskId).map(|t| (Member::Task(t), Why::Task));
        let futures =
            (0..self.model.futures.len() as FutId).map(|f| (Member::Future(f), Why::Future));
        let unread = tasks
            .chain(futures)
            .filter(|(m, _)| !retrieval.is_marked(*m));
        let out: Vec<Unretrieved> = shutdown
            .chain(unread)
            .filter_map(|(m, why)| {
                let Some(Err(raise)) = self.outcome(m) else {
                    return None;
                };
                let who = match m {
                    Member::Task(t) => self.task_name(t),
                    Member::Future(f) => self.model.futures[f as usize].name.clone(),
                };
                let error = repr(retrieval::reportable(&raise)?);
                Some(Unretrieved { who, why, error })
            })
            .collect();
        drop(retrieval);
        if self.tracing() {
            for u in &out {
                self.emit(self.event(u.who.clone(), "unretrieved", u.detail()));
            }
        }
        out
    }

    /// What `asyncio.run(main())` raises: `main`'s exception (its
    /// `CancelledError` when cancelled), read as `result()` reads it; none
    /// without a `main` or when it returned.
    pub(crate) fn main_raises(&self) -> Option<String> {
        let main = self.model.main?;
        let t = *self.roots.borrow()[main as usize].first()?;
        match self.retrieve(Member::Task(t))? {
            Ok(_) => None,
            // A cancellation without a message is a bare `CancelledError()`.
            Err(Raise::Cancelled(None)) => Some("CancelledError()".into()),
            Err(raise) => {
                let e = raise.exception();
                Some(Value::Error(e).repr_within(self.value_bytes()))
            }
        }
    }

    /// How many tasks were created.
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Hands each task, in the order they were created, to `f`.
    pub(crate) fn each_task(&self, mut f: impl FnMut(TaskId, &TaskSlot)) {
        for (id, slot) in self.tasks.borrow().iter().enumerate() {
            f(id as TaskId, slot);
        }
    }

    /// The definition task `id` is an instance of.
    #[inline]
    pub(crate) fn def_of(&self, id: TaskId) -> DefId {
        self.tasks.borrow()[id as usize].def
    }

    /// What task `id` is suspended on.
    pub(crate) fn waiting_of(&self, id: TaskId) -> Waiting {
        self.tasks.borrow()[id as usize].waiting.clone()
    }

    /// When task `id` started, if it did.
    pub(crate) fn started_at(&self, id: TaskId) -> Option<u64> {
        self.tasks.borrow()[id as usize].started_at()
    }

    /// Task `id` started at `at`.
    #[inline]
    pub(crate) fn set_started(&self, id: TaskId, at: u64) {
        self.tasks.borrow_mut()[id as usize].started = at;
    }

    /// asyncio's `cancelling()` of task `id`.
    pub(crate) fn cancelling(&self, id: TaskId) -> u32 {
        self.tasks.borrow()[id as usize].cancels
    }

    /// asyncio's `uncancel()` of task `id`: the cancellations left.
    pub(crate) fn uncancel(&self, id: TaskId) -> u32 {
        let mut tasks = self.tasks.borrow_mut();
        let slot = &mut tasks[id as usize];
        if slot.cancels == 0 {
            return 0;
        }
        slot.cancels -= 1;
        if slot.cancels == 0 && self.model.python.uncancel_forgets_cancel() {
            slot.cancel_at_wait = false;
        }
        slot.cancels
    }

    /// Task `id`'s turn begins: it is running, and `f` takes what its step
    /// machine kept. Its definition and when it started come with `f`'s
    /// result. `f` must not reach the loop.
    #[inline]
    pub(crate) fn enter_turn<R>(
        &self,
        id: TaskId,
        f: impl FnOnce(&mut Machine) -> R,
    ) -> (DefId, Option<u64>, R) {
        let mut tasks = self.tasks.borrow_mut();
        let slot = &mut tasks[id as usize];
        slot.turn.set(Turn::Running);
        let (def, started) = (slot.def, slot.started_at());
        (def, started, f(&mut slot.machine))
    }

    /// Task `id`'s step machine, for `f` to keep where its turn left it.
    /// `f` must not reach the loop.
    #[inline]
    pub(crate) fn with_machine<R>(&self, id: TaskId, f: impl FnOnce(&mut Machine) -> R) -> R {
        f(&mut self.tasks.borrow_mut()[id as usize].machine)
    }

    pub(crate) fn wake(&self, id: TaskId) {
        self.wake_for(id, None);
    }

    /// Wakes a task, for `why` (else for what it waits on).
    fn wake_for(&self, id: TaskId, why: Option<What>) {
        let tasks = self.tasks.borrow();
        let slot = &tasks[id as usize];
        if let Some(path) = &self.path {
            let (what, obj) = why.map_or_else(|| waited_on(&slot.waiting), |w| (w, 0));
            path.borrow_mut().woken(id, self.now(), what, obj);
        }
        if self.watch_blocks {
            // For `block`: whether a blocking call delays its next turn.
            self.readies.borrow()[id as usize].ready_since(self.now());
        }
        match slot.turn.get() {
            Turn::Idle => {
                slot.turn.set(Turn::Queued);
                push(Job::Turn(id));
            }
            Turn::Running => slot.turn.set(Turn::Woken),
            Turn::Queued | Turn::Woken => {}
        }
    }

    /// The steps of `def` as a `call` runs them.
    pub(crate) fn body(&self, def: DefId) -> &Program {
        self.bodies[def as usize]
            .as_ref()
            .expect("a called definition's steps are compiled")
    }

    /// The program of a definition.
    pub(crate) fn program(&self, def: DefId) -> &Program {
        &self.programs[def as usize]
    }

    /// Ends a task's turn: queued again if it was woken meanwhile.
    pub(crate) fn end_turn(&self, id: TaskId) {
        let was = self.tasks.borrow()[id as usize].turn.replace(Turn::Idle);
        if was == Turn::Woken && self.state(Member::Task(id)) == State::Pending {
            self.wake(id);
        }
    }

    /// `task.cancel(msg)`: false when the task already finished.
    pub(crate) fn cancel_task(self: &Rc<Self>, id: TaskId, msg: Option<Rc<str>>) -> bool {
        let suspended = {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id as usize];
            if slot.state != State::Pending {
                // `Task.cancel()` clears `_log_traceback` first, done or
                // not: a finished task's failure is no longer reported.
                drop(tasks);
                self.mark_retrieved(Member::Task(id));
                return false;
            }
            slot.cancels += 1;
            if slot.turn.get() == Turn::Running {
                // It cancels itself: its next wait is cancelled, with the
                // message of the last such cancel.
                slot.cancel_at_wait = true;
                self.cancel_messages.borrow_mut().set(id, msg);
                return true;
            }
            slot.turn.get() == Turn::Idle
        };
        self.deliver_cancel(id, msg, suspended);
        true
    }

    /// Takes a cancellation task `id` asked of itself while it ran: its
    /// turn left it waiting (it is delivered then, see
    /// [`Sim::deliver_cancel`]), or it ended (a return becomes a
    /// cancellation, whose message every retrieval sees).
    pub(crate) fn take_cancel_at_wait(&self, id: TaskId) -> Option<Option<Rc<str>>> {
        if !std::mem::take(&mut self.tasks.borrow_mut()[id as usize].cancel_at_wait) {
            return None;
        }
        Some(self.cancel_messages.borrow_mut().take(id))
    }

    /// A task that cancelled itself and then returned: its message is
    /// the future's own (`Future.cancel(msg)`), kept for every retrieval.
    pub(crate) fn keep_cancel_message(&self, id: TaskId) {
        self.cancel_messages.borrow_mut().keep(id);
    }

    /// `Task.cancel`'s delivery: the future it waits on is cancelled, which
    /// wakes it. A task or gather that is done, or whose members are all
    /// done, cannot be: the cancellation waits for the wake-up already on
    /// its way (the done callbacks), and comes no sooner. `suspended`: the
    /// future it waits on is still pending, so the first message is the
    /// one its `CancelledError` carries; otherwise the last one is.
    pub(crate) fn deliver_cancel(
        self: &Rc<Self>,
        id: TaskId,
        msg: Option<Rc<str>>,
        suspended: bool,
    ) {
        let waiting = self.tasks.borrow()[id as usize].waiting.clone();
        let (forwarded, woken_anyway, suspended) = match waiting {
            Waiting::Member(Member::Task(child)) => {
                (self.cancel_task(child, msg.clone()), true, false)
            }
            Waiting::Member(Member::Future(f)) => (self.cancel_future(f, msg.clone()), true, false),
            Waiting::Gather(g) => (self.cancel_gather(&g, msg.clone()), true, false),
            // Its future is cancelled, which wakes it; released already,
            // its wakeup is on its way, and `CancelledError` comes with it.
            Waiting::Event(_, waiter)
            | Waiting::Barrier(_, waiter)
            | Waiting::Condition(_, waiter) => {
                let released = waiter.done.replace(true);
                (false, released, suspended && !released)
            }
            // Its future is cancelled; the work goes on if a worker has it.
            Waiting::Thread(work) => {
                let released = work.done.replace(true);
                (false, released, suspended && !released)
            }
            _ => (false, false, suspended),
        };
        if !forwarded {
            let replace = {
                let mut tasks = self.tasks.borrow_mut();
                let slot = &mut tasks[id as usize];
                match slot.must_cancel {
                    MustCancel::No => {
                        slot.must_cancel = match suspended {
                            true => MustCancel::Fixed,
                            false => MustCancel::Open,
                        };
                        true
                    }
                    MustCancel::Open => true,
                    MustCancel::Fixed => false,
                }
            };
            if replace {
                self.cancel_messages.borrow_mut().set(id, msg);
            }
            if !woken_anyway {
                self.wake_for(id, Some(What::Cancel));
            }
        }
    }

    fn cancel_gather(self: &Rc<Self>, g: &Gather, msg: Option<Rc<str>>) -> bool {
        if g.result.borrow().is_some() {
            return false;
        }
        let mut any = false;
        for m in &g.members {
            any |= match *m {
                Member::Task(t) => self.cancel_task(t, msg.clone()),
                Member::Future(f) => self.cancel_future(f, msg.clone()),
            };
        }
        if any {
            g.cancel_requested.set(true);
        }
        any
    }

    /// `future.cancel(msg)`: false when it already resolved.
    pub(crate) fn cancel_future(self: &Rc<Self>, f: FutId, msg: Option<Rc<str>>) -> bool {
        // `Future.cancel()` clears `_log_traceback` first, as a task's does.
        self.mark_retrieved(Member::Future(f));
        self.resolve_future(f, Err(Raise::Cancelled(msg)))
    }

    /// Sets a future's outcome and runs its callbacks; false when already set.
    pub(crate) fn resolve_future(self: &Rc<Self>, f: FutId, outcome: Outcome) -> bool {
        let callbacks = {
            let mut futs = self.futures.borrow_mut();
            let slot = &mut futs[f as usize];
            if slot.outcome.is_some() {
                return false;
            }
            slot.outcome = Some(outcome);
            std::mem::take(&mut slot.callbacks)
        };
        callbacks.into_iter().for_each(|cb| self.schedule(cb));
        true
    }

    /// Ends a task with its outcome and schedules its done callbacks.
    pub(crate) fn finish_task(self: &Rc<Self>, id: TaskId, outcome: Outcome) {
        let callbacks = {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id as usize];
            slot.state = State::of(&outcome);
            slot.outcome = Some(outcome);
            slot.finished = self.clock.borrow().now();
            self.meter.borrow_mut().live -= 1;
            slot.waiting = Waiting::Nothing;
            std::mem::take(&mut slot.callbacks)
        };
        self.note(|p| p.finished(id, self.now()));
        callbacks.for_each(|cb| self.schedule(cb));
    }

    /// Runs a done callback: a task wakeup directly, anything else as its own turn.
    pub(crate) fn schedule(self: &Rc<Self>, cb: Callback) {
        match cb {
            Callback::Wake(t) => self.wake(t),
            other => push(Job::Callback(other, self.cause())),
        }
    }

    fn run_callback(self: &Rc<Self>, cb: Callback) {
        match cb {
            Callback::Wake(t) => self.wake(t),
            Callback::Release(w, 0) => self.release(&w),
            Callback::Release(w, hops) => {
                w.hops.set(w.hops.get().saturating_add(1));
                self.schedule(Callback::Release(w, hops - 1));
            }
            Callback::Expire(deadline, task) => {
                if !deadline.closed.get() {
                    deadline.expired.set(true);
                    self.cancel_task(task, None);
                }
            }
            Callback::Gather(g, m) => self.gather_child_done(&g, m),
            Callback::Wait(w, m) => self.wait_child_done(&w, m),
            Callback::OnDone(m) => (self.hooks.run_on_done)(self, m),
            Callback::UserDone(source, user) => self.user_done(source, user),
            Callback::Group(g, child) => self.group_child_done(&g, child),
            Callback::Completed(it, m) => {
                let (waiter, timer) = it.completed(m);
                if let Some(key) = timer {
                    self.cancel_timer(key);
                }
                if let Some(w) = waiter {
                    self.release(&w);
                }
            }
            Callback::Scheduled(id) => self.run_scheduled(id),
            Callback::ShieldUnhook(m) => self.mark_retrieved(m),
        }
    }

    /// `TaskGroup._on_task_done`: a child of `g` is done. The parent's wait
    /// for the last child ends; a child that failed adds its error and,
    /// the first time, cancels the other children and the parent (whose
    /// exit from the block takes that cancellation back).
    /// `tg.create_task` made `child`: the group waits for it; a child
    /// already done (an eager one) is counted at once, as CPython's
    /// `create_task` calls `_on_task_done` itself then.
    pub(crate) fn join_group(self: &Rc<Self>, g: &Rc<TaskGroup>, child: TaskId) {
        g.children.borrow_mut().push(child);
        g.pending.set(g.pending.get() + 1);
        let done = Callback::Group(g.clone(), child);
        match self.state(Member::Task(child)) {
            State::Pending => self.add_callback(Member::Task(child), done),
            _ => self.run_callback(done),
        }
    }

    fn group_child_done(self: &Rc<Self>, g: &TaskGroup, child: TaskId) {
        g.pending.set(g.pending.get() - 1);
        if g.pending.get() == 0
            && let Some(w) = &*g.on_completed.borrow()
        {
            self.release(w);
        }
        // `if task.cancelled(): return; exc = task.exception()`.
        if self.state(Member::Task(child)) != State::Cancelled {
            self.mark_retrieved(Member::Task(child));
        }
        let error = match self.outcome(Member::Task(child)) {
            Some(Err(Raise::Cancelled(_))) | Some(Ok(_)) | None => return,
            Some(Err(e)) => e,
        };
        g.errors.borrow_mut().push(error.exception());
        if self.state(Member::Task(g.parent)) != State::Pending {
            return;
        }
        if !g.aborting.get() && !g.parent_cancel_requested.get() {
            if self.tracing() {
                let others = g.pending.get();
                let s = if others == 1 { "" } else { "s" };
                let detail = format!(
                    "{}: {} failed ({}); cancels {others} task{s} and the body",
                    self.model.symbols[g.name as usize],
                    self.task_name(child),
                    error.message()
                );
                self.emit(self.task_event(g.parent, "group", detail));
            }
            self.abort_group(g);
            g.parent_cancel_requested.set(true);
            self.cancel_task(g.parent, None);
        }
    }

    /// `TaskGroup._abort`: every child not yet done is cancelled, in the
    /// order they were created.
    pub(crate) fn abort_group(self: &Rc<Self>, g: &TaskGroup) {
        g.aborting.set(true);
        let children = g.children.borrow().clone();
        for t in children {
            if self.state(Member::Task(t)) == State::Pending {
                self.cancel_task(t, None);
            }
        }
    }

    pub(crate) fn release(&self, w: &Waiter) {
        if !w.done.replace(true) {
            self.wake(w.task);
        }
    }

    fn gather_child_done(&self, g: &Gather, m: Member) {
        if self.gather_count(g, m) {
            self.wake(g.parent);
        }
    }

    /// Counts a finished member of a gather; true when that decided the
    /// gather's result (its parent is to be woken).
    #[inline]
    pub(crate) fn gather_count(&self, g: &Gather, m: Member) -> bool {
        // `_done_callback` reads every member that was not cancelled, even
        // once the gather is decided ("Mark exception retrieved").
        if self.state(m) != State::Cancelled {
            self.mark_retrieved(m);
        }
        if g.result.borrow().is_some() {
            return false;
        }
        g.remaining.set(g.remaining.get() - 1);
        let failed = self.state(m) != State::Done;
        if !g.return_exceptions && failed {
            // `outer.set_exception(...)`: a cancelled member's error is
            // retrieved (`_make_cancelled_error`).
            *g.result.borrow_mut() = self.retrieve(m);
        } else if g.remaining.get() == 0 {
            let result = if g.cancel_requested.get() {
                // `fut._make_cancelled_error()` of the loop's last member.
                let last = *g.members.last().expect("a gather has members");
                match self.state(last) {
                    State::Cancelled => match self.retrieve(last) {
                        Some(Err(raise)) => Err(raise),
                        _ => Err(Raise::Cancelled(None)),
                    },
                    _ => Err(Raise::Cancelled(None)),
                }
            } else {
                // A cancelled member is `CancelledError(fut._cancel_message)`:
                // a future's message; a task's is gone by then.
                let values = g.members.iter().map(|m| match self.outcome(*m) {
                    Some(Ok(v)) => v,
                    Some(Err(Raise::Cancelled(_))) if matches!(m, Member::Task(_)) => {
                        Raise::Cancelled(None).to_value()
                    }
                    Some(Err(e)) => e.to_value(),
                    None => Value::None,
                });
                Ok(Value::List(values.collect()))
            };
            *g.result.borrow_mut() = Some(result);
        } else {
            return false;
        }
        true
    }

    fn wait_child_done(&self, w: &WaitState, m: Member) {
        w.counter.set(w.counter.get().saturating_sub(1));
        // `_on_completion`: `counter <= 0 or ... or return_when ==
        // FIRST_EXCEPTION and (not f.cancelled() and f.exception() ...)`:
        // the exception is read unless this was the last member.
        if w.counter.get() > 0
            && w.when == ReturnWhen::FirstException
            && self.state(m) != State::Cancelled
        {
            self.mark_retrieved(m);
        }
        let errored = self.state(m) == State::Failed;
        let ready = w.counter.get() == 0
            || w.when == ReturnWhen::FirstCompleted
            || (w.when == ReturnWhen::FirstException && errored);
        if ready {
            if let Some(key) = w.timer.take() {
                self.cancel_timer(key);
            }
            self.release(&w.waiter);
        }
    }

    // ----- the run -------------------------------------------------------

    /// Starts the root tasks and runs until nothing can make progress.
    pub(crate) fn run(self: &Rc<Self>) {
        for (def, t) in self.model.tasks.iter().enumerate() {
            if t.arrivals.is_some() {
                self.start_source(def as DefId);
                if self.stop.get().is_some() {
                    return;
                }
            }
            if t.root {
                if !self.may_spawn(t.count as u64) {
                    return;
                }
                for i in 0..t.count {
                    let vars = (self.hooks.root_vars)(self, def as DefId, i);
                    let id = self.spawn_task(def as DefId, vars, Vec::new(), None);
                    self.roots.borrow_mut()[def].push(id);
                }
            }
        }
        self.note(|p| p.set_current(Cause::Root));
        let mut due = Vec::new();
        let mut due_now = Vec::new();
        'run: loop {
            // An eager root's first turn may have stopped the run already.
            if self.stop.get().is_some() {
                break;
            }
            // asyncio's `_run_once`, one turn at a time: the timers already
            // due join the ready queue, then what is ready now runs (what it
            // makes ready runs in the next turn).
            loop {
                if self.clock.borrow().maybe_due() {
                    self.clock.borrow_mut().due_now(&mut due_now);
                    for key in due_now.drain(..) {
                        push(Job::Timer(key));
                    }
                }
                let ready = READY.with(|r| r.borrow().len());
                if ready == 0 {
                    break;
                }
                for _ in 0..ready {
                    match pop() {
                        Some(Job::Callback(cb, cause)) => {
                            self.note(|p| p.set_current(cause));
                            self.run_callback(cb);
                        }
                        Some(Job::Turn(id)) => {
                            self.note(|p| p.running(id, self.now()));
                            (self.hooks.resume)(self, id);
                        }
                        Some(Job::Timer(key)) => {
                            // Skipped when cancelled while queued, as asyncio
                            // skips a cancelled handle.
                            let claimed = self.clock.borrow_mut().claim(key);
                            if let Some((deadline, action)) = claimed {
                                self.fire(deadline, action);
                            }
                        }
                        None => break,
                    }
                    if self.stop.get().is_some() {
                        break 'run;
                    }
                }
            }
            if self.shutdown_after_main() {
                continue;
            }
            if self.only_late_callbacks_left() {
                break;
            }
            let next = self.clock.borrow_mut().next_deadline();
            match (next, self.limits.time) {
                (None, _) => break,
                (Some(at), Some(limit)) if at > limit => {
                    let mut clock = self.clock.borrow_mut();
                    let now = clock.now();
                    clock.block(limit.saturating_sub(now));
                    self.stop.set(Some(Stop::Time(limit)));
                    drop(clock);
                    break;
                }
                // A deadline the clock cannot hold (it saturated): stop here.
                (Some(u64::MAX), _) => {
                    self.stop.set(Some(Stop::Clock));
                    break;
                }
                _ => {}
            }
            if let (Some(real), Some(at)) = (self.real, next) {
                // Wait on smol's real timer, then read the measured time.
                smol::block_on(smol::Timer::at(real.instant_of(at)));
                let mut clock = self.clock.borrow_mut();
                let now = clock.now();
                clock.block(real.now().max(at).saturating_sub(now));
            }
            self.clock.borrow_mut().advance(&mut due);
            self.prefetch_upcoming();
            for (deadline, action) in due.drain(..) {
                self.fire(deadline, action);
            }
        }
        self.tracer.borrow_mut().flush_time(self.now());
    }

    /// Counts one step of task `id` against the limits; false once the run must stop.
    /// `at` names the step, for the message if this step crossed a limit.
    pub(crate) fn count_step(&self, id: TaskId, at: impl FnOnce() -> String) -> bool {
        if self.stop.get().is_some() {
            return false;
        }
        let moves = self.clock.borrow().moves();
        let mut tasks = self.tasks.borrow_mut();
        let mut spare = Instant::default();
        let instant = match tasks.get_mut(id as usize) {
            Some(slot) => &mut slot.instant,
            None => &mut spare, // a future's on_done steps
        };
        let counted = self.meter.borrow_mut().step(instant, moves, &self.limits);
        drop(tasks);
        counted
            .map_err(|stop| {
                self.stop.set(Some(stop));
                self.stopped_at(at);
            })
            .is_ok()
    }

    /// Counts a value that the step `at` names built, of logical size
    /// `weight` (or refused while built), against the value limits; false
    /// once the run must stop.
    pub(crate) fn value_weighed(
        &self,
        at: &dyn Fn() -> String,
        weight: Result<u64, crate::footprint::TooBig>,
    ) -> bool {
        if self.stop.get().is_some() {
            return false;
        }
        let counted = self.meter.borrow_mut().value(weight, &self.limits);
        counted
            .map_err(|stop| {
                self.stop.set(Some(stop));
                *self.stop_at.borrow_mut() = Some(format!("in {}", at()));
            })
            .is_ok()
    }

    /// Checks that `n` more tasks may start; false (and the run stops) if
    /// not. When they may, room is made for them at once.
    pub(crate) fn may_spawn(&self, n: u64) -> bool {
        let allowed = self.meter.borrow().spawn(n, &self.limits);
        if allowed.is_ok() {
            self.tasks.borrow_mut().reserve(n as usize);
        }
        allowed.map_err(|stop| self.stop.set(Some(stop))).is_ok()
    }

    /// Empties the ready queue of what a stopped run left.
    pub(crate) fn teardown(&self) {
        // A run stopped by a limit leaves turns and callbacks queued: the
        // queue is this thread's, and the next run starts with it empty.
        READY.with(|r| r.borrow_mut().clear());
    }

    /// Starts loading the slots of the tasks the next timers wake, so that
    /// a million sleepers woken in random order wait less on memory.
    fn prefetch_upcoming(&self) {
        let clock = self.clock.borrow();
        let tasks = self.tasks.borrow();
        for action in clock.upcoming(8) {
            if let TimerAction::Wake(t) = action
                && let Some(slot) = tasks.get(*t as usize)
            {
                crate::prefetch::prefetch(slot);
            }
        }
    }

    fn fire(self: &Rc<Self>, deadline: u64, action: TimerAction) {
        if self.watch_blocks {
            let task = match &action {
                TimerAction::Wake(t) | TimerAction::Expire(_, t) | TimerAction::Completed(_, t) => {
                    Some(*t)
                }
                TimerAction::Release(w) => Some(w.task),
                TimerAction::ThreadDone(w) => Some(w.task),
                TimerAction::Arrive(..) | TimerAction::Call(_) => None,
            };
            if let Some(task) = task {
                self.readies.borrow()[task as usize].ready_since(deadline);
            }
        }
        if let Some(path) = &self.path {
            let cause = match &action {
                TimerAction::Wake(t) => {
                    let what = match self.tasks.borrow()[*t as usize].waiting {
                        Waiting::Backoff(_) => What::Backoff,
                        _ => What::Sleep,
                    };
                    path.borrow().timer_of(*t, what)
                }
                TimerAction::Release(w) => path.borrow().timer_of(w.task, What::Timeout),
                TimerAction::Expire(_, t) | TimerAction::Completed(_, t) => {
                    path.borrow().timer_of(*t, What::Timeout)
                }
                TimerAction::Arrive(source, user) => {
                    self.sources.borrow()[*source as usize].after[*user as usize]
                }
                TimerAction::Call(id) => self.handles.borrow().cause(*id),
                TimerAction::ThreadDone(w) => path.borrow().timer_of(w.task, What::Sleep),
            };
            path.borrow_mut().set_current(cause);
        }
        match action {
            TimerAction::Wake(t) => self.wake(t),
            TimerAction::Release(w) => self.release(&w),
            TimerAction::Expire(flag, t) => {
                flag.set(true);
                self.cancel_task(t, None);
            }
            TimerAction::Arrive(source, user) => self.arrive(source, user),
            TimerAction::Completed(it, _) => {
                if let Some(w) = it.timed_out() {
                    self.release(&w);
                }
            }
            TimerAction::Call(id) => {
                self.callback_timers.set(self.callback_timers.get() - 1);
                self.run_scheduled(id);
            }
            TimerAction::ThreadDone(work) => self.thread_done(&work),
        }
    }

    /// What the trace calls a pool.
    fn pool_name(&self, pool: u32) -> String {
        match pool {
            0 => "the default executor".to_owned(),
            p => format!("executor {}", self.model.executors[p as usize - 1].name),
        }
    }

    /// Sends work to its pool: a worker takes it now, or it waits.
    pub(crate) fn submit_work(&self, work: &Rc<Work>) {
        let starts = self.pools.borrow_mut().submit(work);
        if starts {
            self.start_work(work);
        } else if self.tracing() {
            let (busy, waiting) = self.pools.borrow().load(work.pool);
            let detail = format!(
                "{}: all {busy} workers busy, {waiting} waiting",
                self.pool_name(work.pool)
            );
            self.emit(self.task_event(work.task, "thread_queued", detail));
        }
    }

    /// The future of `work` was cancelled: queued, it never runs.
    pub(crate) fn cancel_work(&self, work: &Work) {
        self.pools.borrow_mut().cancel(work);
    }

    /// A worker takes `work`: it is done `work.ns` from now.
    fn start_work(&self, work: &Rc<Work>) {
        if self.tracing() {
            let detail = format!(
                "{} for {}",
                self.pool_name(work.pool),
                crate::duration::format(work.ns)
            );
            self.emit(self.task_event(work.task, "thread_started", detail));
        }
        self.set_timer(work.ns, TimerAction::ThreadDone(work.clone()));
    }

    /// A worker finished `work`: its result wakes the task (unless the
    /// task stopped awaiting it), and the worker takes the next work.
    fn thread_done(&self, work: &Rc<Work>) {
        let awaited = !work.done.replace(true);
        if self.tracing() {
            let outcome = work.outcome.borrow();
            let detail = match (awaited, outcome.as_ref()) {
                (false, _) => "its awaiter was cancelled: the result is dropped".to_owned(),
                (true, Some(Err(e))) => format!("raised {}", e.message()),
                (true, _) => "returned".to_owned(),
            };
            self.emit(self.task_event(work.task, "thread_done", detail));
        }
        if awaited {
            self.wake(work.task);
        }
        let next = self.pools.borrow_mut().finished(work.pool);
        if let Some(next) = next {
            self.start_work(&next);
        }
    }

    /// Whether the run is over though callbacks are still due, or work
    /// under way in an `[executors]` pool: every task has finished, the
    /// default executor has no work (`asyncio.run` waits for it, running
    /// the loop), and only those timers are left (see
    /// `drop_late_callbacks`).
    fn only_late_callbacks_left(&self) -> bool {
        let pools = self.pools.borrow();
        let late = self.callback_timers.get() + pools.named_busy();
        late > 0
            && self.drop_late_callbacks
            && self.meter.borrow().live == 0
            && pools.load(0).0 == 0
            && self.clock.borrow().live() == late
    }

    // ----- callbacks of call_soon, call_later and call_at ------------------

    /// `loop.call_soon`: `steps` run as a callback after what is ready now.
    pub(crate) fn call_soon(&self, steps: Rc<[Step]>, name: Rc<str>) -> CallbackId {
        let cause = self.cause();
        let id = self.handles.borrow_mut().add(steps, name, cause);
        push(Job::Callback(Callback::Scheduled(id), cause));
        id
    }

    /// `loop.call_later` (and `call_at`, its instant made a delay): `steps`
    /// run as a callback once `delay` has passed. `owner`, the task that
    /// scheduled it, if a task did, arms the timer for the critical path.
    pub(crate) fn call_later(
        &self,
        delay: u64,
        steps: Rc<[Step]>,
        name: Rc<str>,
        owner: Option<TaskId>,
    ) -> CallbackId {
        let cause = match (&self.path, owner) {
            (Some(path), Some(task)) => path.borrow().timer_of(task, What::Callback),
            _ => self.cause(),
        };
        let id = self.handles.borrow_mut().add(steps, name, cause);
        let key = self.set_timer(delay, TimerAction::Call(id));
        self.handles.borrow_mut().set_timer(id, key);
        self.callback_timers.set(self.callback_timers.get() + 1);
        id
    }

    /// `handle.cancel()`: true when the callback had yet to run.
    pub(crate) fn cancel_callback(&self, id: CallbackId) -> bool {
        let (stopped, timer) = self.handles.borrow_mut().cancel(id);
        if let Some(key) = timer
            && self.clock.borrow_mut().cancel(key)
        {
            self.callback_timers.set(self.callback_timers.get() - 1);
        }
        stopped
    }

    /// `handle.cancelled()`.
    pub(crate) fn callback_cancelled(&self, id: CallbackId) -> bool {
        self.handles.borrow().cancelled(id)
    }

    /// Hands `f` the name and steps of each callback cancelled before it
    /// ran, in the order they were scheduled.
    pub(crate) fn cancelled_callbacks(&self, mut f: impl FnMut(&str, &[Step])) {
        for (name, steps) in self.handles.borrow().cancelled_before_running() {
            f(name, steps);
        }
    }

    /// A callback's turn: its steps, unless its handle was cancelled.
    fn run_scheduled(self: &Rc<Self>, id: CallbackId) {
        let turn = self.handles.borrow_mut().take_turn(id);
        if let Some((steps, name)) = turn {
            (self.hooks.run_scheduled)(self, &steps, &name);
        }
    }

    // ----- arrival processes ----------------------------------------------

    /// Starts the arrival process of task `def`: an open one sets the timer
    /// of its first arrival; virtual users each start an instance now.
    fn start_source(self: &Rc<Self>, def: DefId) {
        let Some(arrivals) = &self.model.tasks[def as usize].arrivals else {
            return;
        };
        let index = self.sources.borrow().len() as u32;
        let stream = name_hash(&Arrivals::stream_name(&self.model.tasks[def as usize].name));
        let (state, users) = match arrivals {
            Arrivals::Open(p) => {
                let rng = Rng::for_instance(self.seed, stream, 0);
                (SourceState::Open(OpenState::new(p, rng)), 1)
            }
            Arrivals::Closed(u) => (
                SourceState::Closed {
                    streams: vec![None; u.users as usize],
                    started: 0,
                },
                u.users,
            ),
        };
        self.sources.borrow_mut().push(Source {
            def,
            stream,
            state,
            timers: vec![None; users as usize],
            after: vec![Cause::Arrival; users as usize],
        });
        match arrivals {
            Arrivals::Open(_) => self.next_arrival(index),
            Arrivals::Closed(_) => {
                self.note(|p| p.set_current(Cause::Arrival));
                for user in 0..users {
                    self.arrive(index, user);
                    if self.stop.get().is_some() {
                        return;
                    }
                }
            }
        }
    }

    /// Sets the timer of an open process's next arrival, if one comes.
    fn next_arrival(self: &Rc<Self>, index: u32) {
        let mut sources = self.sources.borrow_mut();
        let source = &mut sources[index as usize];
        let Some(Arrivals::Open(process)) = &self.model.tasks[source.def as usize].arrivals else {
            return;
        };
        let SourceState::Open(state) = &mut source.state else {
            return;
        };
        if let Some(at) = state.next(process) {
            let mut clock = self.clock.borrow_mut();
            let delay = at.saturating_sub(clock.now());
            source.timers[0] = Some(clock.set(delay, TimerAction::Arrive(index, 0)));
        } else {
            source.timers[0] = None;
        }
    }

    /// An arrival: starts an instance (an open process then sets its next
    /// arrival; a virtual user waits for the instance to end).
    fn arrive(self: &Rc<Self>, index: u32, user: u32) {
        let (def, closed) = {
            let mut sources = self.sources.borrow_mut();
            let source = &mut sources[index as usize];
            source.timers[user as usize] = None;
            let closed = match (
                &mut source.state,
                &self.model.tasks[source.def as usize].arrivals,
            ) {
                (SourceState::Closed { started, .. }, Some(Arrivals::Closed(u))) => {
                    if u.count.is_some_and(|n| *started >= n) {
                        return;
                    }
                    *started += 1;
                    true
                }
                _ => false,
            };
            (source.def, closed)
        };
        if !self.may_spawn(1) {
            return;
        }
        let i = self.instances.borrow()[def as usize];
        let vars = (self.hooks.root_vars)(self, def, i);
        let id = self.spawn_task(def, vars, Vec::new(), None);
        if closed {
            // An eager instance may be over already: then it is scheduled.
            self.add_callback(Member::Task(id), Callback::UserDone(index, user));
        } else {
            self.next_arrival(index);
        }
    }

    /// A virtual user's instance ended: unless the process is over, the
    /// user thinks and its next arrival is set.
    fn user_done(self: &Rc<Self>, index: u32, user: u32) {
        if self.shut_down.get() {
            return;
        }
        let mut sources = self.sources.borrow_mut();
        let source = &mut sources[index as usize];
        let Some(Arrivals::Closed(users)) = &self.model.tasks[source.def as usize].arrivals else {
            return;
        };
        let SourceState::Closed { streams, started } = &mut source.state else {
            return;
        };
        if users.count.is_some_and(|n| *started >= n) {
            return;
        }
        if let Some(path) = &self.path
            && let Cause::Step(rec) = path.borrow().current()
        {
            source.after[user as usize] = Cause::Timer(rec, What::Think);
        }
        let stream = source.stream;
        let rng = streams[user as usize]
            .get_or_insert_with(|| Rng::for_instance(self.seed, stream, u64::from(user)));
        let think = users.think.draw(rng);
        let mut clock = self.clock.borrow_mut();
        let at = clock.now().saturating_add(think);
        if users.duration.is_some_and(|end| at >= end) {
            return;
        }
        source.timers[user as usize] = Some(clock.set(think, TimerAction::Arrive(index, user)));
    }

    /// Ends every arrival process: its timers are cancelled.
    fn stop_sources(&self) {
        let mut clock = self.clock.borrow_mut();
        for source in self.sources.borrow_mut().iter_mut() {
            for key in source.timers.iter_mut().filter_map(Option::take) {
                clock.cancel(key);
            }
        }
    }

    /// Like `asyncio.run`: once `main` is done and the loop is idle, cancel the rest.
    fn shutdown_after_main(self: &Rc<Self>) -> bool {
        let Some(main) = self.model.main else {
            return false;
        };
        if self.shut_down.get() {
            return false;
        }
        let main_done = self.roots.borrow()[main as usize]
            .iter()
            .all(|t| self.tasks.borrow()[*t as usize].state != State::Pending);
        if !main_done {
            return false;
        }
        self.shut_down.set(true);
        self.stop_sources();
        if let Some(&last) = self.roots.borrow()[main as usize].last() {
            self.note(|p| p.acting(last));
        }
        let pending: Vec<TaskId> = (0..self.tasks.borrow().len() as TaskId)
            .filter(|t| self.tasks.borrow()[*t as usize].state == State::Pending)
            .collect();
        self.retrieval.borrow_mut().shut_down(&pending);
        for t in &pending {
            if self.tracing() {
                self.emit(self.task_event(
                    *t,
                    "cancel",
                    "main finished: cancelling what is left".into(),
                ));
            }
            self.cancel_task(*t, None);
        }
        !pending.is_empty()
    }

    pub(crate) fn root_instances(&self, def: DefId) -> Vec<TaskId> {
        self.roots.borrow()[def as usize].clone()
    }

    // ----- trace ---------------------------------------------------------

    pub(crate) fn tracing(&self) -> bool {
        self.tracer.borrow().enabled()
    }

    pub(crate) fn verbose(&self) -> bool {
        self.tracer.borrow().verbose()
    }

    pub(crate) fn emit(&self, event: Event) {
        self.tracer.borrow_mut().event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A million sleeping tasks are a million slots: keep them small (the
    /// README's bytes per task depend on it).
    #[test]
    fn a_task_slot_stays_small() {
        assert_eq!(std::mem::size_of::<Callbacks>(), 24);
        assert!(
            std::mem::size_of::<TaskSlot>() <= 144,
            "{}",
            std::mem::size_of::<TaskSlot>()
        );
    }

    fn logs(text: &str) -> (Vec<String>, crate::ExitCode) {
        let options = crate::Options {
            format: crate::Format::Jsonl,
            ..crate::Options::default()
        };
        let (out, code) = crate::render_to_string("t.toml", text, &options);
        let lines = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["kind"] == "log")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        (lines, code)
    }

    /// With the eager task factory a new task's first step runs inside
    /// `create_task`; without, after its creator's.
    #[test]
    fn an_eager_task_runs_its_first_step_before_its_creator_goes_on() {
        let body = "[tasks.c]\nsteps = [{ log = \"child\" }]\n\n[tasks.main]\nsteps = [{ spawn = \"c\", as = \"h\" }, { log = \"main: {h.state}\" }]\n";
        let eager = format!("[scenario]\neager_tasks = true\n\n{body}");
        assert_eq!(logs(&eager).0, ["child", "main: done"]);
        assert_eq!(logs(body).0, ["main: pending", "child"]);
    }

    /// A chain of tasks each creating the next at once: 100 first turns
    /// inside one another run; the 101st stops the run.
    #[test]
    fn eager_first_turns_nest_100_deep_and_no_deeper() {
        let chain = |n: usize| {
            let mut text = String::from("[scenario]\neager_tasks = true\n");
            for k in 0..n {
                let next = match k + 1 == n {
                    true => String::new(),
                    false => format!("{{ spawn = \"t{}\" }}, ", k + 1),
                };
                text.push_str(&format!(
                    "\n[tasks.t{k}]\nsteps = [{next}{{ log = \"t{k}\" }}]\n"
                ));
            }
            text
        };
        // On the stack the binary's main thread has (8 MiB on Linux): a
        // test thread has 2 MiB, too little for a debug build's frames.
        let nested = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                let depth = crate::limits::MAX_EAGER_DEPTH as usize;
                let (lines, code) = logs(&chain(depth));
                assert_eq!((lines.len(), lines[0].as_str()), (depth, "t99"));
                assert_eq!(code, crate::ExitCode::Ok);
                let (lines, code) = logs(&chain(depth + 1));
                assert!(lines.is_empty());
                assert_eq!(code, crate::ExitCode::Stuck);
            })
            .unwrap();
        nested.join().unwrap();
    }
}
