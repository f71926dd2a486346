//! Why a run that ended with tasks still waiting is stuck: who waits on whom
//! (the wait-for graph), and the cycle in it when there is one.
//!
//! A run is deadlocked when a task that should finish cannot: `main`, when
//! the scenario has one; otherwise every task not marked `daemon = true`.
//! Tasks left waiting after `main` finished, or daemons, are not a deadlock.

use crate::model::{DefId, Model, Step};
use crate::runtime::{Member, Sim, State, TaskId, Waiting};

/// The verdict on a run that ended with tasks waiting.
pub(crate) struct Deadlock {
    /// The tasks that should have finished and could not, in start order.
    pub stuck: Vec<TaskId>,
    /// A wait-for cycle (first task repeated at the end), when there is one.
    pub cycle: Option<Vec<TaskId>>,
}

/// Finds the deadlock of a finished run, if there is one.
pub(crate) fn find(sim: &Sim) -> Option<Deadlock> {
    let pending = |t: TaskId| sim.tasks.borrow()[t as usize].state == State::Pending;
    let count = sim.tasks.borrow().len() as TaskId;
    let stuck: Vec<TaskId> = match sim.model.main {
        Some(main) => sim.root_instances(main),
        None => (0..count)
            .filter(|t| !sim.model.tasks[sim.tasks.borrow()[*t as usize].def as usize].daemon)
            .collect(),
    };
    let stuck: Vec<TaskId> = stuck.into_iter().filter(|t| pending(*t)).collect();
    if stuck.is_empty() {
        return None;
    }
    let cycle = stuck.iter().find_map(|t| cycle_from(sim, *t));
    Some(Deadlock { stuck, cycle })
}

/// The unfinished tasks that could end what `task` waits on.
pub(crate) fn waits_on(sim: &Sim, task: TaskId) -> Vec<TaskId> {
    let waiting = sim.tasks.borrow()[task as usize].waiting.clone();
    let mut out = match &waiting {
        Waiting::Member(m) => members(sim, std::slice::from_ref(m)),
        Waiting::Gather(g) => members(sim, &g.members),
        Waiting::Wait(_, ms) => members(sim, ms),
        Waiting::Semaphore(s) => sim.semaphores.borrow()[*s as usize].holders.clone(),
        Waiting::Get(q) => doers(sim, |s| puts(s, *q)),
        Waiting::Put(q) => doers(sim, |s| gets(s, *q)),
        Waiting::Join(q) => doers(sim, |s| marks_done(s, *q)),
        Waiting::Nothing | Waiting::Sleep | Waiting::Other(_) => Vec::new(),
    };
    out.retain(|t| *t != task && sim.state(Member::Task(*t)) == State::Pending);
    out.dedup();
    out
}

fn members(sim: &Sim, ms: &[Member]) -> Vec<TaskId> {
    let mut out = Vec::new();
    for m in ms {
        match *m {
            Member::Task(t) => out.push(t),
            Member::Future(f) => out.extend(doers(sim, |s| sets(s, f))),
        }
    }
    out
}

/// The unfinished tasks whose body (with what it calls) has a step matching `pred`.
fn doers(sim: &Sim, pred: impl Fn(&Step) -> bool + Copy) -> Vec<TaskId> {
    let model = &sim.model;
    let defs: Vec<bool> = (0..model.tasks.len() as DefId)
        .map(|d| body_has(model, d, pred, &mut vec![false; model.tasks.len()]))
        .collect();
    let tasks = sim.tasks.borrow();
    (0..tasks.len() as TaskId)
        .filter(|t| {
            let slot = &tasks[*t as usize];
            slot.state == State::Pending && defs[slot.def as usize]
        })
        .collect()
}

fn body_has(
    model: &Model,
    def: DefId,
    pred: impl Fn(&Step) -> bool + Copy,
    seen: &mut [bool],
) -> bool {
    if std::mem::replace(&mut seen[def as usize], true) {
        return false;
    }
    steps_have(model, &model.tasks[def as usize].body, pred, seen)
}

fn steps_have(
    model: &Model,
    steps: &[Step],
    pred: impl Fn(&Step) -> bool + Copy,
    seen: &mut [bool],
) -> bool {
    steps.iter().any(|step| {
        if pred(step) {
            return true;
        }
        match step {
            Step::Call(start) => body_has(model, start.def, pred, seen),
            _ => step
                .children()
                .iter()
                .any(|body| steps_have(model, body, pred, seen)),
        }
    })
}

fn puts(step: &Step, q: u32) -> bool {
    matches!(step, Step::Put { queue, .. } if *queue == q)
}

fn gets(step: &Step, q: u32) -> bool {
    matches!(step, Step::Get(queue) | Step::Consume { queue, .. } if *queue == q)
}

fn marks_done(step: &Step, q: u32) -> bool {
    matches!(step, Step::TaskDone(queue) | Step::Consume { queue, .. } if *queue == q)
}

fn sets(step: &Step, f: u32) -> bool {
    matches!(step, Step::SetResult { future, .. } | Step::SetException { future, .. } if *future == f)
}

/// A cycle of the wait-for graph reachable from `start`, by depth-first search.
fn cycle_from(sim: &Sim, start: TaskId) -> Option<Vec<TaskId>> {
    let mut path = vec![start];
    let mut next = vec![waits_on(sim, start)];
    let mut done = std::collections::BTreeSet::new();
    while let Some(edges) = next.last_mut() {
        let Some(t) = (!edges.is_empty()).then(|| edges.remove(0)) else {
            done.insert(path.pop().expect("path and next grow together"));
            next.pop();
            continue;
        };
        if let Some(at) = path.iter().position(|p| *p == t) {
            let mut cycle = path[at..].to_vec();
            cycle.push(t);
            return Some(cycle);
        }
        if !done.contains(&t) {
            path.push(t);
            next.push(waits_on(sim, t));
        }
    }
    None
}
