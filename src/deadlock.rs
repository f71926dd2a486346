//! Why a run that ended with tasks still waiting is stuck: who waits on whom
//! (the wait-for graph), and the cycle in it when there is one.
//!
//! A run is deadlocked when a task that should finish cannot: `main`, when
//! the scenario has one; otherwise every task not marked `daemon = true`.
//! Daemons, and tasks that `main`'s end cancelled, are not a deadlock; a
//! task still waiting after that cancellation is (it swallowed it, and
//! `asyncio.run` would wait for it forever).

use crate::model::{DefId, Model, Step};
use crate::runtime::{Member, Sim, State, TaskId, Waiting};

/// The verdict on a run that ended with tasks waiting.
pub(crate) struct Deadlock {
    /// The tasks that should have finished and could not, in start order.
    pub(crate) stuck: Vec<TaskId>,
    /// A wait-for cycle (first task repeated at the end), when there is one.
    pub(crate) cycle: Option<Vec<TaskId>>,
}

/// A node of the wait-for graph: a task, or what a task waits on when many
/// tasks could end that wait (a queue's putters, getters or markers, a
/// future's or an event's setters, a barrier's comers, a condition's notifiers). Sharing those lists keeps the graph linear in size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Task(TaskId),
    Doers(usize),
}

/// The wait-for graph of a finished run, built once.
pub(crate) struct Graph<'a> {
    sim: &'a Sim,
    /// Per queue: unfinished tasks that put to it, get from it, mark items done.
    putters: Vec<Vec<TaskId>>,
    getters: Vec<Vec<TaskId>>,
    markers: Vec<Vec<TaskId>>,
    /// Per future: unfinished tasks that set it.
    setters: Vec<Vec<TaskId>>,
    /// Per event: unfinished tasks that set it (themselves, or by resolving
    /// a future whose `on_done` sets it).
    event_setters: Vec<Vec<TaskId>>,
    /// Per barrier: unfinished tasks not waiting at it that come to it
    /// (wait at it, abort or reset it).
    comers: Vec<Vec<TaskId>>,
    /// Per condition: unfinished tasks that notify it.
    notifiers: Vec<Vec<TaskId>>,
}

impl<'a> Graph<'a> {
    pub(crate) fn new(sim: &'a Sim) -> Graph<'a> {
        let model = sim.model();
        let queues = model.queues.len() as u32;
        let futures = model.futures.len() as u32;
        let events = model.events.len() as u32;
        let barriers = model.barriers.len() as u32;
        let conditions = model.conditions.len() as u32;
        let per_def = |pred: &dyn Fn(&Step, u32) -> bool, n: u32| -> Vec<Vec<bool>> {
            (0..model.tasks.len() as DefId)
                .map(|d| {
                    (0..n)
                        .map(|k| body_has(model, d, &|s| pred(s, k)))
                        .collect()
                })
                .collect()
        };
        let defs = [
            per_def(&puts, queues),
            per_def(&gets, queues),
            per_def(&marks_done, queues),
            per_def(&sets, futures),
            per_def(&|s, e| sets_event(model, s, e), events),
            per_def(&comes_to, barriers),
            per_def(&notifies, conditions),
        ];
        let mut lists: [Vec<Vec<TaskId>>; 7] = [
            vec![Vec::new(); queues as usize],
            vec![Vec::new(); queues as usize],
            vec![Vec::new(); queues as usize],
            vec![Vec::new(); futures as usize],
            vec![Vec::new(); events as usize],
            vec![Vec::new(); barriers as usize],
            vec![Vec::new(); conditions as usize],
        ];
        sim.each_task(|t, slot| {
            if slot.state() != State::Pending {
                return;
            }
            // A task waiting at a barrier cannot come to it.
            let at = match slot.waiting() {
                Waiting::Barrier(b, _) => Some(*b as usize),
                _ => None,
            };
            for (kind, list) in lists.iter_mut().enumerate() {
                for (k, does) in defs[kind][slot.def() as usize].iter().enumerate() {
                    if *does && !(kind == 5 && at == Some(k)) {
                        list[k].push(t);
                    }
                }
            }
        });
        let [
            putters,
            getters,
            markers,
            setters,
            event_setters,
            comers,
            notifiers,
        ] = lists;
        Graph {
            sim,
            putters,
            getters,
            markers,
            setters,
            event_setters,
            comers,
            notifiers,
        }
    }

    /// The run it is the graph of.
    pub(crate) fn sim(&self) -> &'a Sim {
        self.sim
    }

    /// The kinds of shared lists, in the order [`Graph::doers_id`] numbers
    /// them.
    fn kinds(&self) -> [&Vec<Vec<TaskId>>; 7] {
        [
            &self.putters,
            &self.getters,
            &self.markers,
            &self.setters,
            &self.event_setters,
            &self.comers,
            &self.notifiers,
        ]
    }

    /// The shared lists, numbered for [`Node::Doers`].
    fn doers(&self, k: usize) -> &[TaskId] {
        self.kinds()
            .into_iter()
            .flatten()
            .nth(k)
            .map_or(&[], Vec::as_slice)
    }

    fn doers_id(&self, kind: usize, k: u32) -> usize {
        let before: usize = self.kinds().iter().take(kind).map(|l| l.len()).sum();
        before + k as usize
    }

    /// What `task` waits on, one step away in the graph.
    fn edges(&self, task: TaskId) -> Vec<Node> {
        let sim = self.sim;
        let waiting = sim.waiting_of(task);
        let members = |ms: &[Member]| -> Vec<Node> {
            ms.iter()
                .map(|m| match *m {
                    Member::Task(t) => Node::Task(t),
                    Member::Future(f) => Node::Doers(self.doers_id(3, f)),
                })
                .collect()
        };
        let mut out = match &waiting {
            Waiting::Member(m) => members(std::slice::from_ref(m)),
            Waiting::Gather(g) => members(&g.members),
            Waiting::Wait(on) => members(&on.members),
            Waiting::Semaphore(s) => sim.holders(*s, |holders| {
                holders.iter().map(|t| Node::Task(*t)).collect()
            }),
            Waiting::Get(q) => vec![Node::Doers(self.doers_id(0, *q))],
            Waiting::Put(q) => vec![Node::Doers(self.doers_id(1, *q))],
            Waiting::Join(q) => vec![Node::Doers(self.doers_id(2, *q))],
            Waiting::Event(e, _) => vec![Node::Doers(self.doers_id(4, *e))],
            Waiting::Barrier(b, _) => vec![Node::Doers(self.doers_id(5, *b))],
            Waiting::Condition(c, _) => vec![Node::Doers(self.doers_id(6, *c))],
            Waiting::Nothing
            | Waiting::Sleep(_)
            | Waiting::Backoff(_)
            | Waiting::Turn
            | Waiting::Thread(_) => Vec::new(),
        };
        out.retain(|n| match n {
            Node::Task(t) => *t != task && sim.state(Member::Task(*t)) == State::Pending,
            Node::Doers(_) => true,
        });
        out.dedup();
        out
    }

    /// The unfinished tasks (other than itself) that could end what `task` waits on.
    pub(crate) fn waits_on(&self, task: TaskId) -> Vec<TaskId> {
        let mut out = Vec::new();
        for node in self.edges(task) {
            match node {
                Node::Task(t) => out.push(t),
                Node::Doers(k) => out.extend(self.doers(k).iter().filter(|t| **t != task)),
            }
        }
        out.dedup();
        out
    }

    /// Finds the deadlock, if there is one.
    pub(crate) fn find(&self) -> Option<Deadlock> {
        let sim = self.sim;
        let pending = |t: TaskId| sim.state(Member::Task(t)) == State::Pending;
        let count = sim.task_count() as TaskId;
        let stuck: Vec<TaskId> = match sim.model().main {
            // After `main`, asyncio.run cancels what is left and waits for it
            // all: a task that outlived its cancellation would hang it.
            Some(_) if sim.is_shut_down() => (0..count).collect(),
            Some(main) => sim.root_instances(main),
            None => (0..count)
                .filter(|t| !sim.model().tasks[sim.def_of(*t) as usize].daemon)
                .collect(),
        };
        let stuck: Vec<TaskId> = stuck.into_iter().filter(|t| pending(*t)).collect();
        if stuck.is_empty() {
            return None;
        }
        let cycle = self.cycle(&stuck);
        Some(Deadlock { stuck, cycle })
    }

    /// The first wait-for cycle reachable from `starts`, by one depth-first
    /// search over the whole graph (each node is explored once). A task
    /// waiting on a list it is itself in is not a cycle.
    fn cycle(&self, starts: &[TaskId]) -> Option<Vec<TaskId>> {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let tasks = self.sim.task_count();
        let index = |n: Node| match n {
            Node::Task(t) => t as usize,
            Node::Doers(k) => tasks + k,
        };
        let lists: usize = self.kinds().iter().map(|l| l.len()).sum();
        let mut color = vec![NEW; tasks + lists];
        for start in starts {
            let root = Node::Task(*start);
            if color[index(root)] != NEW {
                continue;
            }
            color[index(root)] = OPEN;
            // (node, its edges, the next edge to follow)
            let mut path: Vec<(Node, Vec<Node>, usize)> = vec![(root, self.edges(*start), 0)];
            while let Some((node, edges, next)) = path.last_mut() {
                let Some(to) = edges.get(*next).copied() else {
                    color[index(*node)] = DONE;
                    path.pop();
                    continue;
                };
                *next += 1;
                // From a shared list, skip the task that led to it.
                let came_from = match *node {
                    Node::Doers(_) => path.len().checked_sub(2).map(|i| path[i].0),
                    Node::Task(_) => None,
                };
                if Some(to) == came_from {
                    continue;
                }
                match color[index(to)] {
                    OPEN => {
                        let at = path
                            .iter()
                            .position(|p| p.0 == to)
                            .expect("open nodes are on the path");
                        let mut cycle: Vec<TaskId> = path[at..]
                            .iter()
                            .filter_map(|p| match p.0 {
                                Node::Task(t) => Some(t),
                                Node::Doers(_) => None,
                            })
                            .collect();
                        cycle.push(cycle[0]);
                        return Some(cycle);
                    }
                    NEW => {
                        color[index(to)] = OPEN;
                        let edges = match to {
                            Node::Task(t) => self.edges(t),
                            Node::Doers(k) => {
                                self.doers(k).iter().map(|t| Node::Task(*t)).collect()
                            }
                        };
                        path.push((to, edges, 0));
                    }
                    _ => {}
                }
            }
        }
        None
    }
}

/// Who scheduled the first callback (`call_*`) whose handle was cancelled
/// before it ran and that would have ended `waiting` (set its event or
/// future, put to or got from its queue, marked its items done).
pub(crate) fn cancelled_callback_for(sim: &Sim, waiting: &Waiting) -> Option<String> {
    let model = sim.model();
    let pred: Box<dyn Fn(&Step) -> bool + '_> = match waiting {
        Waiting::Event(e, _) => {
            let e = *e;
            Box::new(move |s| sets_event(model, s, e))
        }
        Waiting::Member(Member::Future(f)) => {
            let f = *f;
            Box::new(move |s| sets(s, f))
        }
        Waiting::Get(q) => {
            let q = *q;
            Box::new(move |s| puts(s, q))
        }
        Waiting::Put(q) => {
            let q = *q;
            Box::new(move |s| gets(s, q))
        }
        Waiting::Join(q) => {
            let q = *q;
            Box::new(move |s| marks_done(s, q))
        }
        _ => return None,
    };
    let mut found = None;
    sim.cancelled_callbacks(|name, steps| {
        let mut seen = vec![false; model.tasks.len()];
        if found.is_none() && steps_have(model, steps, &pred, &mut seen) {
            found = Some(name.to_owned());
        }
    });
    found
}

fn body_has(model: &Model, def: DefId, pred: &dyn Fn(&Step) -> bool) -> bool {
    let mut seen = vec![false; model.tasks.len()];
    def_has(model, def, pred, &mut seen)
}

/// Whether a task's body (with what it calls) has a step matching `pred`.
fn def_has(model: &Model, def: DefId, pred: &dyn Fn(&Step) -> bool, seen: &mut [bool]) -> bool {
    if std::mem::replace(&mut seen[def as usize], true) {
        return false;
    }
    let task = &model.tasks[def as usize];
    steps_have(model, &task.body, pred, seen) || steps_have(model, &task.on_done, pred, seen)
}

fn steps_have(
    model: &Model,
    steps: &[Step],
    pred: &dyn Fn(&Step) -> bool,
    seen: &mut [bool],
) -> bool {
    steps.iter().any(|step| {
        if pred(step) {
            return true;
        }
        match step {
            Step::Call(start) => def_has(model, start.def, pred, seen),
            _ => step
                .children()
                .into_iter()
                .chain(step.callback_body())
                .any(|body| steps_have(model, body, pred, seen)),
        }
    })
}

/// Whether a step's queue (or event) may be `q`: it is, or it is a
/// parameter (whichever the caller passed: counted, so as never to say no
/// task could end a wait when one might).
fn may_be(queue: u32, q: u32) -> bool {
    queue == q || crate::model::param_of(queue).is_some()
}

/// Whether a step could end a getter's wait: a put, or a shutdown (the
/// getter then raises `QueueShutDown`).
fn puts(step: &Step, q: u32) -> bool {
    matches!(step, Step::Put { queue, .. } | Step::PutNowait { queue, .. } | Step::Shutdown { queue, .. } if may_be(*queue, q))
}

/// Whether a step could end a putter's wait: a get, or a shutdown.
fn gets(step: &Step, q: u32) -> bool {
    matches!(step, Step::Get(queue) | Step::GetNowait(queue) | Step::Consume { queue, .. } | Step::Shutdown { queue, .. } if may_be(*queue, q))
}

/// Whether a step could end a join: marking an item done, or an immediate
/// shutdown (which counts every item it drops as done).
fn marks_done(step: &Step, q: u32) -> bool {
    matches!(step, Step::TaskDone(queue) | Step::Consume { queue, .. } | Step::Shutdown { queue, immediate: true } if may_be(*queue, q))
}

fn notifies(step: &Step, c: u32) -> bool {
    matches!(step, Step::Notify { cond, .. } | Step::NotifyAll(cond) if *cond == c)
}

fn sets(step: &Step, f: u32) -> bool {
    matches!(step, Step::SetResult { future, .. } | Step::SetException { future, .. } if *future == f)
}

/// Whether a step comes to barrier `b`: waits at it, aborts or resets it.
fn comes_to(step: &Step, b: u32) -> bool {
    matches!(step, Step::WaitBarrier(x) | Step::Abort(x) | Step::Reset(x) if *x == b)
}

/// Whether a step sets event `e`: itself, or by resolving (or cancelling) a
/// future whose `on_done` sets it.
fn sets_event(model: &Model, step: &Step, e: u32) -> bool {
    let sets_it = |steps: &[Step]| {
        steps
            .iter()
            .any(|s| matches!(s, Step::Set(x) if may_be(*x, e)))
    };
    match step {
        Step::Set(x) => may_be(*x, e),
        Step::SetResult { future, .. } | Step::SetException { future, .. } => {
            sets_it(&model.futures[*future as usize].on_done)
        }
        Step::Cancel {
            target: crate::model::Target::Future(f),
            ..
        } => sets_it(&model.futures[*f as usize].on_done),
        _ => false,
    }
}
