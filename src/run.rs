//! One run of a validated scenario: set up the world, drive it, summarise.

use std::io::Write;
use std::rc::Rc;

use crate::critical_path::{self, What};
use crate::duration::Precision;
use crate::limits::Limits;
use crate::model::Model;
use crate::render::Tracer;
use crate::render::{Chrome, Html, Jsonl, Mermaid, Renderer, Svg, Text};
use crate::runtime::{Member, RealClock, Setup, Sim, State, TaskId, Waiting};
use crate::summary::{QueueUse, SemaphoreUse, Summary, TaskLatency};
use crate::{deadlock, expect};

/// How a trace is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
    /// Chrome trace-event JSON (Perfetto, chrome://tracing).
    Chrome,
    /// A Mermaid Gantt chart.
    Mermaid,
    /// A Gantt timeline picture.
    Svg,
    /// A self-contained page: the picture, the summary and the trace.
    Html,
}

/// Options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: Option<u64>,
    pub format: Format,
    pub verbose: bool,
    /// Only the summary, no per-event trace.
    pub summary_only: bool,
    /// Bounds on the run; `time` overrides `[scenario] time_limit`.
    pub limits: Limits,
    /// Also run the scenario with every sleep blocking, and compare makespans.
    pub compare_sequential: bool,
    /// `Some(speed)`: run on real timers, `speed` times faster than written.
    pub real_speed: Option<f64>,
    /// How precisely the text trace shows times (`--precision`).
    pub precision: Precision,
    /// `--only`: the text trace shows only these tasks (instances or definitions).
    pub only: Vec<String>,
    /// `--events`: the text trace shows only these kinds of events.
    pub events: Vec<String>,
    /// `--fold`: the text trace folds replicas doing the same thing at the
    /// same instant into one line (`fetch[0..49]  started`).
    pub fold: bool,
    /// `--python`: the CPython version to model, over `[scenario] python`.
    pub python: Option<crate::python::Python>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: None,
            format: Format::Text,
            verbose: false,
            summary_only: false,
            limits: Limits::default(),
            compare_sequential: false,
            real_speed: None,
            precision: Precision::Ms,
            only: Vec::new(),
            events: Vec::new(),
            fold: false,
            python: None,
        }
    }
}

/// Whether every name `--only` gives is a task (or future) of the model:
/// `fetch` (every replica) or `fetch[3]`; otherwise what is wrong.
pub(crate) fn check_only(model: &Model, only: &[String]) -> Result<(), String> {
    let names = || {
        model
            .tasks
            .iter()
            .map(|t| t.name.as_str())
            .chain(model.futures.iter().map(|f| f.name.as_str()))
    };
    for wanted in only {
        let base = wanted.split('[').next().unwrap_or(wanted);
        if !names().any(|n| n == base) {
            let hint = crate::suggest::did_you_mean(base, names())
                .map_or_else(String::new, |h| format!("; {h}"));
            return Err(format!(
                "--only names `{wanted}`, which is no task of this scenario{hint}"
            ));
        }
    }
    Ok(())
}

/// What a run ended with.
pub(crate) struct Outcome {
    pub(crate) checks_failed: u32,
    pub(crate) expectations_failed: usize,
    /// A limit stopped the run, or its tasks deadlocked: what to tell the user.
    pub(crate) stuck: Option<String>,
}

/// Runs `model`, streaming its trace and summary to `out`; `label` names
/// a scenario without a name in the text header (its file's name).
pub(crate) fn run(
    model: Rc<Model>,
    options: &Options,
    out: Box<dyn Write>,
    label: &str,
) -> Outcome {
    let seed = options.seed.unwrap_or(model.seed);
    let width = name_width(&model);
    let text = |width: usize| {
        // Folded replicas (`fetch[0..49]`) need a few more characters.
        let mut text = Text::new(if options.fold { width + 4 } else { width });
        text.precision = options.precision;
        text.only = options.only.clone();
        text.events = options.events.clone();
        text.label = label.to_owned();
        text.fold = options.fold;
        text
    };
    let renderer: Box<dyn Renderer> = match options.format {
        Format::Text => Box::new(text(width)),
        Format::Jsonl => Box::new(Jsonl),
        Format::Chrome => Box::new(Chrome::default()),
        Format::Mermaid => Box::new(Mermaid::default()),
        Format::Svg => Box::new(Svg::default()),
        Format::Html => Box::new(Html::new(width, options.verbose)),
    };
    // `--summary` writes only the summary: JSON for jsonl, else text.
    let fallback: Box<dyn Renderer> = match options.format {
        Format::Jsonl => Box::new(Jsonl),
        _ => Box::new(text(0)),
    };
    let (renderer, mut fallback) = if options.summary_only {
        (None, fallback)
    } else {
        (Some(renderer), fallback)
    };
    let mut tracer = Tracer::new(renderer, out, options.verbose);
    // In real time, each event is written out as it happens.
    tracer.flush_each = options.real_speed.is_some();
    let limits = Limits {
        time: options.limits.time.or(model.time_limit),
        ..options.limits
    };
    let setup = Setup {
        seed,
        limits,
        sleeps_block: false,
        real: None,
        hooks: crate::interpreter::HOOKS,
        critical_path: true,
    };
    let sequential = options
        .compare_sequential
        .then(|| sequential_makespan(&model, setup));
    let real = options.real_speed.map(|speed| RealClock {
        start: std::time::Instant::now(),
        speed,
    });
    let sim = Sim::new(model.clone(), Setup { real, ..setup }, tracer);
    sim.trace_header();
    sim.run();
    let mut summary = summarise(&sim);
    if summary.stopped.is_none() && summary.deadlock.is_none() {
        // The normal end: asyncio.run returns (or raises main's error),
        // and CPython reports what failed unread.
        summary.main_raises = sim.main_raises();
        let mut unretrieved = sim.report_unretrieved();
        summary.unretrieved_total = unretrieved.len();
        unretrieved.truncate(Summary::UNRETRIEVED_SHOWN);
        summary.unretrieved = unretrieved;
    }
    summary.sequential = sequential;
    summary.real = real.map(|r| (r.speed, r.start.elapsed().as_nanos() as u64));
    sim.trace_finish(&summary, fallback.as_mut());
    let checks_failed = sim.checks_failed();
    let expected = model.expect.outcome == Some(expect::outcome_of(&summary));
    let stuck = summary.stopped.clone().or(summary.deadlock.clone());
    sim.teardown();
    Outcome {
        checks_failed,
        expectations_failed: summary.expectations.iter().filter(|v| !v.ok).count(),
        stuck: stuck.filter(|_| !expected),
    }
}

/// What one silent run of a sweep yields.
pub(crate) struct Measured {
    pub(crate) makespan: u64,
    pub(crate) outcome: crate::model::RunOutcome,
    /// Per task definition: instances per final state (done, failed,
    /// cancelled, skipped, left waiting), and the durations of those that finished.
    pub(crate) tasks: Vec<([u64; 5], Vec<u64>)>,
    /// How the run ended, judged as a single run would be.
    pub(crate) ending: crate::ending::Ending,
    /// Per task definition: its time on the critical path (ns).
    pub(crate) critical: Vec<u64>,
}

/// Runs `model` under `seed` without a trace, for a sweep.
pub(crate) fn measure(model: Rc<Model>, seed: u64, limits: Limits) -> Measured {
    let silent = Tracer::new(None, Box::new(std::io::sink()), false);
    let setup = Setup {
        seed,
        limits,
        sleeps_block: false,
        real: None,
        hooks: crate::interpreter::HOOKS,
        critical_path: true,
    };
    let sim = Sim::new(model.clone(), setup, silent);
    sim.run();
    let summary = summarise(&sim);
    let outcome = expect::outcome_of(&summary);
    let expected = model.expect.outcome == Some(outcome);
    let stuck = (summary.stopped.is_some() || summary.deadlock.is_some()) && !expected;
    let ending = if stuck {
        crate::ending::Ending::from(outcome)
    } else if sim.checks_failed() > 0 {
        crate::ending::Ending::CheckFailed
    } else if summary.expectations.iter().any(|v| !v.ok) {
        crate::ending::Ending::ExpectFailed
    } else {
        crate::ending::Ending::Ok
    };
    let mut tasks = vec![([0u64; 5], Vec::new()); model.tasks.len()];
    sim.each_task(|_, slot| {
        let (states, durations) = &mut tasks[slot.def() as usize];
        let k = match slot.state() {
            State::Done => 0,
            State::Failed => 1,
            State::Cancelled => 2,
            State::Skipped => 3,
            State::Pending => 4,
        };
        states[k] += 1;
        if let (Some(a), Some(b)) = (slot.started_at(), slot.finished_at()) {
            durations.push(b - a);
        }
    });
    let critical = match sim.critical_path() {
        Some(Ok(links)) => {
            let def_of = |t: TaskId| sim.def_of(t) as usize;
            critical_path::time_per_definition(&links, &def_of, model.tasks.len())
        }
        Some(Err(_)) | None => vec![0; model.tasks.len()],
    };
    sim.teardown();
    Measured {
        makespan: summary.makespan,
        outcome,
        tasks,
        ending,
        critical,
    }
}

/// The makespan of the run with every sleep blocking, as if written with
/// `time.sleep`: nothing overlaps. Which limit stopped it, if one did.
fn sequential_makespan(model: &Rc<Model>, setup: Setup) -> Result<u64, String> {
    let silent = Tracer::new(None, Box::new(std::io::sink()), false);
    let setup = Setup {
        sleeps_block: true,
        critical_path: false,
        ..setup
    };
    let sim = Sim::new(model.clone(), setup, silent);
    sim.run();
    let makespan = sim.now();
    let stopped = sim.stopped();
    sim.teardown();
    match stopped {
        None => Ok(makespan),
        Some(stop) => Err(stop.message()),
    }
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
    let model = sim.model();
    let mut s = Summary {
        makespan: sim.now(),
        ..Summary::default()
    };
    // The wait-for graph, built once and only when a task was left waiting.
    let graph = std::cell::OnceCell::new();
    let graph = || graph.get_or_init(|| deadlock::Graph::new(sim));
    let count = sim.task_count();
    for id in 0..count as u32 {
        let (state, waiting) = (sim.state(Member::Task(id)), sim.waiting_of(id));
        match state {
            State::Done => s.done += 1,
            State::Failed => s.failed += 1,
            State::Cancelled => s.cancelled += 1,
            State::Skipped => s.skipped += 1,
            State::Pending => {
                s.pending += 1;
                if s.waiting.len() < Summary::WAITING_SHOWN {
                    s.waiting
                        .push((sim.task_name(id), describe(sim, graph(), id, &waiting)));
                }
            }
        }
    }
    let makespan = s.makespan;
    s.semaphores = model
        .semaphores
        .iter()
        .zip(0..)
        .map(|(d, sem)| {
            sim.semaphore_use(sem, makespan, |sem| {
                let usage = &sem.usage;
                let mean = |area: u128| match makespan {
                    0 => 0.0,
                    t => area as f64 / t as f64,
                };
                SemaphoreUse {
                    name: d.name.clone(),
                    peak: sem.peak,
                    permits: d.permits,
                    mean_in_use: mean(usage.in_use_area),
                    mean_waiting: mean(usage.waiting_area),
                    acquisitions: usage.waits.count,
                    wait_mean: usage.waits.mean(),
                    wait_p95: usage.waits.percentile(95.0),
                }
            })
        })
        .collect();
    s.queues = model
        .queues
        .iter()
        .zip(0..)
        .map(|(d, q)| {
            sim.queue_use(q, makespan, |q| {
                let u = &q.usage;
                let per = |area: u128, n: u64| match n {
                    0 => 0,
                    n => (area / u128::from(n)) as u64,
                };
                QueueUse {
                    name: d.name.clone(),
                    peak: q.peak(),
                    capacity: d.capacity,
                    mean_depth: match makespan {
                        0 => 0.0,
                        t => u.depth_area as f64 / t as f64,
                    },
                    puts: u.puts,
                    gets: u.gets,
                    get_wait_mean: per(u.getters_area, u.gets),
                    put_wait_mean: per(u.putters_area, u.puts),
                }
            })
        })
        .collect();
    s.checks_failed = sim.checks_failed();
    s.stopped = sim.stop_message();
    if s.stopped.is_none() {
        s.deadlock = (s.pending > 0)
            .then(|| graph().find())
            .flatten()
            .map(|d| explain(sim, &d));
    }
    s.blocking = sim.blocking_summary();
    let durations = expect::durations(sim);
    s.tasks_by_definition = model
        .tasks
        .iter()
        .zip(&durations)
        .filter_map(|(def, sorted)| TaskLatency::of(&def.name, sorted))
        .collect();
    s.critical = sim.critical_path().map(|path| {
        let links = path.map_err(|n| {
            format!(
                "not followed: tasks were made ready more than {n} times (raise the limit with --max-path-records)"
            )
        })?;
        let definition = |t: TaskId| {
            let def = sim.def_of(t);
            model.tasks[def as usize].name.clone()
        };
        let object = |what: What, obj: u32| {
            let name = match what {
                What::Permit => model.semaphores.get(obj as usize).map(|s| &s.name),
                What::Item | What::Room | What::Drained => {
                    model.queues.get(obj as usize).map(|q| &q.name)
                }
                What::Future => model.futures.get(obj as usize).map(|f| &f.name),
                What::Event => model.events.get(obj as usize).map(|e| &e.name),
                What::Barrier => model.barriers.get(obj as usize).map(|b| &b.name),
                What::Notify => model.conditions.get(obj as usize).map(|c| &c.name),
                _ => None,
            };
            name.cloned().unwrap_or_default()
        };
        let names = critical_path::Names {
            task: &|t| sim.task_name(t),
            definition: &definition,
            object: &object,
        };
        Ok(critical_path::present(&links, &names))
    });
    s.expectations = expect::evaluate(sim, &model.expect, &s, &durations);
    s.sweep_only = model.expect.sweep.as_ref().map_or(0, |e| e.len());
    s
}

/// A deadlock in one sentence: the cycle, or who cannot finish.
fn explain(sim: &Sim, d: &deadlock::Deadlock) -> String {
    if let Some(cycle) = &d.cycle {
        let names: Vec<String> = cycle.iter().map(|t| sim.task_name(*t)).collect();
        return format!("{} wait on each other", names.join(" -> "));
    }
    const SHOWN: usize = 5;
    let mut names: Vec<String> = d
        .stuck
        .iter()
        .take(SHOWN)
        .map(|t| sim.task_name(*t))
        .collect();
    if d.stuck.len() > SHOWN {
        names.push(format!("{} more", d.stuck.len() - SHOWN));
    }
    format!(
        "{} cannot finish: no unfinished task can end {} wait",
        names.join(", "),
        if d.stuck.len() == 1 { "its" } else { "their" }
    )
}

/// What a task left unfinished waits on, in words.
fn describe(sim: &Sim, graph: &deadlock::Graph<'_>, id: TaskId, waiting: &Waiting) -> String {
    let model = sim.model();
    match waiting {
        Waiting::Nothing if sim.started_at(id).is_some() => {
            "nothing (it was running when the run stopped)".into()
        }
        Waiting::Nothing => "its first turn (it never started)".into(),
        Waiting::Sleep(u64::MAX) | Waiting::Backoff(u64::MAX) => {
            "a timer due past what the clock can hold".into()
        }
        Waiting::Backoff(due) => format!(
            "its retry's backoff, due at {}",
            crate::duration::format(*due)
        ),
        Waiting::Sleep(due) => format!("a timer due at {}", crate::duration::format(*due)),
        Waiting::Thread(w) => match w.started.get() {
            true => "its work in a worker thread".into(),
            false => "a free worker thread (its work is queued)".into(),
        },
        Waiting::Member(Member::Task(t)) => format!("task {}", sim.task_name(*t)),
        Waiting::Member(Member::Future(f)) => {
            let by = no_one_left(graph, id, "sets it");
            format!("future {} (never set{by})", model.futures[*f as usize].name)
        }
        Waiting::Event(e, _) => {
            let by = no_one_left(graph, id, "sets it");
            format!("event {} (not set{by})", model.events[*e as usize].name)
        }
        Waiting::Barrier(b, _) => {
            let name = &model.barriers[*b as usize].name;
            let (n, parties, state) = sim.barrier(*b, |x| (x.n_waiting(), x.parties(), x.state()));
            match state {
                "filling" => format!(
                    "barrier {name} (a Barrier short of parties: {n} of {parties} arrived{})",
                    no_one_left(graph, id, "comes to it")
                ),
                _ => format!("barrier {name} (it is {state})"),
            }
        }
        Waiting::Condition(c, _) => {
            let by = no_one_left(graph, id, "notifies it");
            let name = &model.conditions[*c as usize].name;
            format!("condition {name} (not notified{by})")
        }
        Waiting::Wait(on) => {
            let (what, members) = (on.what, &on.members);
            let pending = members
                .iter()
                .filter(|m| sim.state(**m) == State::Pending)
                .count();
            format!("{what} ({pending} of {} not finished)", members.len())
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
            let holders: Vec<String> = sim.holders(*s, |holders| {
                holders
                    .iter()
                    .map(|t| match sim.state(Member::Task(*t)) {
                        State::Pending => sim.task_name(*t),
                        _ => format!("{} (finished without releasing it)", sim.task_name(*t)),
                    })
                    .collect()
            });
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
        Waiting::Get(q) => format!(
            "get from queue {} (empty{})",
            model.queues[*q as usize].name,
            no_one_left(graph, id, "puts to it")
        ),
        Waiting::Put(q) => format!(
            "put to queue {} (full{})",
            model.queues[*q as usize].name,
            no_one_left(graph, id, "gets from it")
        ),
        Waiting::Join(q) => {
            let unfinished = sim.unfinished(*q);
            let items = if unfinished == 1 { "item" } else { "items" };
            let shut = if sim.queue_is_shut_down(*q) {
                "shut down, "
            } else {
                ""
            };
            format!(
                "join of queue {} ({shut}{unfinished} {items} not done{})",
                model.queues[*q as usize].name,
                no_one_left(graph, id, "marks items done")
            )
        }
        Waiting::Turn => "its next turn".into(),
    }
}

/// ", and no unfinished task {does}" when nothing left could end the wait
/// of `id`, naming a cancelled callback that would have.
fn no_one_left(graph: &deadlock::Graph<'_>, id: TaskId, does: &str) -> String {
    if !graph.waits_on(id).is_empty() {
        return String::new();
    }
    let sim = graph.sim();
    match deadlock::cancelled_callback_for(sim, &sim.waiting_of(id)) {
        Some(by) => format!(
            ", and no unfinished task {does}: a callback {by} scheduled would have, but its handle was cancelled"
        ),
        None => format!(", and no unfinished task {does}"),
    }
}
