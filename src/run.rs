//! One run of a validated scenario: set up the world, drive it, summarise.

use std::io::Write;
use std::rc::Rc;

use crate::model::Model;
use crate::render::{Jsonl, Renderer, Text};
use crate::runtime::{Member, Sim, State, Waiting};
use crate::trace::{Summary, Tracer};

/// How a trace is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
}

/// Options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: Option<u64>,
    pub format: Format,
    pub verbose: bool,
    /// Only the summary, no per-event trace.
    pub summary_only: bool,
}

/// What a run ended with.
pub(crate) struct Outcome {
    pub checks_failed: u32,
}

/// Runs `model`, streaming its trace and summary to `out`.
pub(crate) fn run(model: Rc<Model>, options: &Options, out: Box<dyn Write>) -> Outcome {
    let seed = options.seed.unwrap_or(model.seed);
    let mut renderer: Box<dyn Renderer> = match options.format {
        Format::Text => Box::new(Text {
            width: name_width(&model),
        }),
        Format::Jsonl => Box::new(Jsonl),
    };
    let mut fallback: Box<dyn Renderer> = match options.format {
        Format::Text => Box::new(Text { width: 0 }),
        Format::Jsonl => Box::new(Jsonl),
    };
    if options.summary_only {
        std::mem::swap(&mut renderer, &mut fallback);
    }
    let tracer = Tracer::new(
        (!options.summary_only).then_some(renderer),
        out,
        options.verbose,
    );
    let sim = Sim::new(model.clone(), seed, tracer);
    sim.tracer.borrow_mut().header(&model.name, seed);
    sim.run();
    let summary = summarise(&sim);
    sim.tracer.borrow_mut().finish(&summary, fallback.as_mut());
    let checks_failed = sim.checks_failed.get();
    sim.teardown();
    Outcome { checks_failed }
}

/// Width of the task column: the longest name a task instance can have.
fn name_width(model: &Model) -> usize {
    let tasks = model
        .tasks
        .iter()
        .map(|t| t.name.len() + if t.root && t.count == 1 { 0 } else { 4 });
    let futures = model.futures.iter().map(|f| f.name.len());
    tasks.chain(futures).max().unwrap_or(4).clamp(4, 32)
}

fn summarise(sim: &Sim) -> Summary {
    let model = &sim.model;
    let mut s = Summary {
        makespan: sim.now(),
        ..Summary::default()
    };
    let count = sim.tasks.borrow().len();
    for id in 0..count as u32 {
        let (state, waiting) = {
            let tasks = sim.tasks.borrow();
            (tasks[id as usize].state, tasks[id as usize].waiting.clone())
        };
        match state {
            State::Done => s.done += 1,
            State::Failed => s.failed += 1,
            State::Cancelled => s.cancelled += 1,
            State::Pending => {
                s.pending += 1;
                s.waiting.push((sim.task_name(id), describe(sim, &waiting)));
            }
        }
    }
    let sems = sim.semaphores.borrow();
    s.semaphores = model
        .semaphores
        .iter()
        .zip(sems.iter())
        .map(|(d, s)| (d.name.clone(), s.peak, d.permits))
        .collect();
    s.queues = model
        .queues
        .iter()
        .zip(&sim.queues)
        .map(|(d, q)| (d.name.clone(), q.peak.get(), d.capacity))
        .collect();
    s.checks_failed = sim.checks_failed.get();
    s
}

/// What a task left unfinished waits on, in words.
fn describe(sim: &Sim, waiting: &Waiting) -> String {
    let model = &sim.model;
    match waiting {
        Waiting::Nothing => "never ran".into(),
        Waiting::Sleep => "a timer".into(),
        Waiting::Member(Member::Task(t)) => format!("task {}", sim.task_name(*t)),
        Waiting::Member(Member::Future(f)) => {
            format!("future {} (never set)", model.futures[*f as usize].name)
        }
        Waiting::Gather(g) => {
            let pending = g
                .members
                .iter()
                .filter(|m| sim.state(**m) == State::Pending)
                .count();
            format!("gather ({pending} of {} not finished)", g.members.len())
        }
        Waiting::Semaphore(s) => {
            let sem = &sim.semaphores.borrow()[*s as usize];
            let holders: Vec<String> = sem.holders.iter().map(|t| sim.task_name(*t)).collect();
            let by = if holders.is_empty() {
                String::new()
            } else {
                format!(", held by {}", holders.join(", "))
            };
            format!(
                "a permit of semaphore {}{by}",
                model.semaphores[*s as usize].name
            )
        }
        Waiting::Get(q) => format!("get from queue {} (empty)", model.queues[*q as usize].name),
        Waiting::Put(q) => format!("put to queue {} (full)", model.queues[*q as usize].name),
        Waiting::Join(q) => {
            let unfinished = sim.queues[*q as usize].unfinished();
            format!(
                "join of queue {} ({unfinished} items not done)",
                model.queues[*q as usize].name
            )
        }
        Waiting::Other(what) => (*what).into(),
    }
}
