//! From the text of a file to a [`Model`] the interpreter can trust.
//!
//! The raw layer is toml's own spanned document tree (`DeTable`), parsed with
//! recovery so that every syntax error is reported; this module walks it,
//! checks every key, type, range and name, and reports all problems at once.

mod arrivals;
mod components;
mod depth;
mod exceptions;
mod expect;
mod graph;
mod handles;
mod reader;
mod scope;
mod steps;

use std::ops::Range;
use std::rc::Rc;

use toml::de::{DeTable, DeValue};

use crate::diagnostic::Diagnostic;
use crate::exception::{Catch, Classes};
use crate::model::{
    BarrierDef, ConditionDef, EventDef, FutureDef, Model, QueueDef, QueueKind, Retry, SemaphoreDef,
    Step, TaskDef, Trigger,
};
use crate::model::{Place, SemKind};
use crate::problem::Problem;
use crate::suggest::suggest;
use crate::template::Expr;
use reader::{Entries, Node, Reader, entries};
use scope::{BUILTIN_VARS, Globals, Scope, Symbols};

pub(crate) const TOP_KEYS: [&str; 11] = [
    "scenario",
    "semaphores",
    "conditions",
    "queues",
    "futures",
    "events",
    "barriers",
    "executors",
    "exceptions",
    "tasks",
    "expect",
];
pub(crate) const SCENARIO_KEYS: [&str; 8] = [
    "name",
    "description",
    "seed",
    "main",
    "time_limit",
    "python",
    "eager_tasks",
    "cpu",
];
pub(crate) const TASK_KEYS: [&str; 18] = [
    "steps", "sleep", "fail", "error", "result", "count", "args", "handles", "limit", "timeout",
    "daemon", "deadline", "retry", "retry_on", "after", "trigger", "arrivals", "on_done",
];
/// More replicas than this is a mistake, not a scenario.
pub(crate) const MAX_COUNT: i64 = 10_000_000;
pub(crate) use reader::MAX_DURATION;

/// Validates the text of a scenario file.
pub(crate) fn validate(source: &str) -> Result<Model, Vec<Diagnostic>> {
    validate_for(source, None)
}

/// Validates the text of a scenario file for the version `--python` names
/// (over `[scenario] python`), which decides what exists: a step or class a
/// version lacks is refused where it is written.
pub(crate) fn validate_for(
    source: &str,
    flag: Option<crate::python::Python>,
) -> Result<Model, Vec<Diagnostic>> {
    crate::suggest::reset_budget();
    let (doc, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| {
                let message = e.message().trim().to_owned();
                Diagnostic::new(e.span().unwrap_or(0..0), Problem::Syntax { message })
            })
            .collect());
    }
    let doc = Node::new(doc.span(), DeValue::Table(doc.into_inner()));
    let mut v = Validator {
        r: Reader {
            source,
            diags: Vec::new(),
        },
        globals: Globals::default(),
        symbols: Symbols::default(),
        roots: Rc::default(),
        loops: 0,
        excepts: 0,
        in_finally: false,
        in_star: false,
        star_loops: None,
        groups: Vec::new(),
        classes: Classes::default(),
        lines: Lines::of(source),
        places: Vec::new(),
        python: flag.unwrap_or_default(),
        python_flag: flag,
    };
    for name in BUILTIN_VARS {
        v.symbols.intern(name);
    }
    let model = v.document(&doc);
    if v.r.diags.is_empty() {
        Ok(model)
    } else {
        Err(v.r.diags)
    }
}

/// What `[scenario]` says.
#[derive(Default)]
struct Header {
    python: crate::python::Python,
    name: String,
    seed: u64,
    main: Option<u32>,
    time_limit: Option<u64>,
    eager_tasks: bool,
    cpu: Option<u32>,
}

pub(crate) struct Validator<'s> {
    pub(crate) r: Reader<'s>,
    pub(crate) globals: Globals,
    pub(crate) symbols: Symbols,
    /// The root tasks, shared by every scope.
    roots: Rc<scope::Roots>,
    /// How many loops the step being read is inside (for `break`).
    loops: u32,
    /// How many `except` blocks it is inside, up to a `finally` (for a
    /// bare `raise`), and whether a `finally` stopped the count.
    pub(crate) excepts: u32,
    pub(crate) in_finally: bool,
    /// Whether the innermost `except` it is inside is an `except*` (a
    /// bare `raise` is refused there).
    pub(crate) in_star: bool,
    /// Inside an `except*` handler: how many loops were around it (a
    /// `break` of those, and any `return`, would leave it).
    pub(crate) star_loops: Option<u32>,
    /// The task groups whose blocks the step being read is inside.
    pub(crate) groups: Vec<String>,
    /// The exception classes, `[exceptions]` included.
    pub(crate) classes: Classes,
    /// Where each line of the source starts.
    lines: Lines,
    /// Where each step read so far is written, in the order they were read
    /// (a block's steps after it): a task definition takes its own.
    places: Vec<Place>,
    /// The version the run follows (`--python`, else `[scenario] python`,
    /// else the default), and `--python` if given.
    pub(crate) python: crate::python::Python,
    python_flag: Option<crate::python::Python>,
}

/// The byte offsets at which the source's lines start.
struct Lines(Vec<usize>);

impl Lines {
    fn of(source: &str) -> Lines {
        let starts = std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts.collect())
    }

    /// The line and column (from 1, the column in bytes) of offset `at`.
    fn place(&self, verb: crate::verb::Verb, at: usize) -> Place {
        let line = self.0.partition_point(|s| *s <= at).max(1);
        Place {
            verb,
            line: line as u32,
            column: (at - self.0[line - 1] + 1) as u32,
        }
    }
}

impl Validator<'_> {
    /// Refuses, at `span`, what `what` names when the version the run
    /// follows is older than `needs`.
    pub(crate) fn needs_python(
        &mut self,
        span: std::ops::Range<usize>,
        what: &'static str,
        needs: crate::python::Python,
    ) -> bool {
        if self.python >= needs {
            return true;
        }
        let problem = Problem::NeedsPython {
            what,
            needs,
            have: self.python,
            by_flag: self.python_flag.is_some(),
        };
        self.r.error(span, problem);
        false
    }

    /// `[scenario] python`, read ahead of the rest (its problems are
    /// reported with the table's): what exists depends on it.
    fn peek_python(&mut self, scenario: Option<&Node<'_>>) {
        if self.python_flag.is_some() {
            return;
        }
        let Some(DeValue::Table(t)) = scenario.map(|s| s.get_ref()) else {
            return;
        };
        let text = entries(t).get("python").and_then(|p| match p.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        });
        if let Some(p) = text.and_then(|t| crate::python::Python::parse(&t)) {
            self.python = p;
        }
    }

    /// Notes where a `verb` step is written (at `at`, a byte offset).
    pub(crate) fn step_at(&mut self, verb: crate::verb::Verb, at: usize) {
        let place = self.lines.place(verb, at);
        self.places.push(place);
    }
}

impl Validator<'_> {
    fn document(&mut self, doc: &Node<'_>) -> Model {
        let top = self
            .r
            .table(doc, "the file", &TOP_KEYS)
            .expect("a document is a table");
        self.peek_python(top.get("scenario"));
        self.classes = self.exceptions(top.get("exceptions"));
        let mut semaphores = self.semaphores(top.get("semaphores"));
        let queues = self.queues(top.get("queues"));
        let futures = self.names_of(top.get("futures"), "[futures]");
        self.globals.set_futures(futures);
        let events = self.events(top.get("events"));
        self.globals
            .set_events(events.iter().map(|e| e.name.clone()).collect());
        let barriers = self.barriers(top.get("barriers"));
        self.globals
            .set_barriers(barriers.iter().map(|b| b.name.clone()).collect());
        let executors = self.executors(top.get("executors"));
        self.globals.executors = executors.iter().map(|e| e.name.clone()).collect();
        let conditions = self.conditions(top.get("conditions"), &mut semaphores);
        self.globals.set_conditions(
            conditions
                .iter()
                .map(|c| (c.name.clone(), c.lock))
                .collect(),
        );
        let tasks = match top.get("tasks") {
            Some(node) => self.r.free_table(node, "[tasks]").map(|_| node),
            None => None,
        };
        let task_entries = tasks.and_then(|t| match t.get_ref() {
            DeValue::Table(table) => Some(entries(table)),
            _ => None,
        });
        let Some(task_entries) = task_entries.filter(|t| !t.items.is_empty()) else {
            let start = doc.span().start;
            self.r.error(start..start, Problem::NoTasks);
            return self.empty_model();
        };
        self.globals.set_tasks(
            task_entries
                .items
                .iter()
                .map(|(k, _, _)| k.to_string())
                .collect(),
        );
        self.check_name_clashes(&task_entries);

        let scopes = self.scopes(&task_entries, top.get("futures"));
        let nodes = graph::task_nodes(&task_entries, &scopes);
        self.r.diags.extend(graph::start_cycles(&nodes));
        self.r.diags.extend(graph::after_cycles(&nodes));
        self.r.diags.extend(depth::too_deep(&nodes));
        let clashes = graph::handle_clashes(&nodes, &self.globals);
        self.r.diags.extend(clashes);
        let header = self.scenario(top.get("scenario"));
        let futures = self.futures(top.get("futures"));
        let tasks = task_entries
            .items
            .iter()
            .enumerate()
            .map(|(i, (name, _, node))| self.task(name, node, &scopes[i], self.globals.root[i]))
            .collect();
        let expect = self.expect(top.get("expect"));
        Model {
            expect,
            name: header.name,
            seed: header.seed,
            main: header.main,
            time_limit: header.time_limit,
            semaphores,
            queues,
            futures,
            events,
            barriers,
            conditions,
            executors,
            cpu: header.cpu.unwrap_or(crate::model::DEFAULT_CPU),
            tasks,
            symbols: std::mem::take(&mut self.symbols.names),
            python: header.python,
            eager_tasks: header.eager_tasks,
            classes: std::mem::take(&mut self.classes),
        }
    }

    fn empty_model(&mut self) -> Model {
        Model {
            name: String::new(),
            seed: 0,
            main: None,
            time_limit: None,
            expect: Default::default(),
            semaphores: Vec::new(),
            queues: Vec::new(),
            futures: Vec::new(),
            events: Vec::new(),
            barriers: Vec::new(),
            conditions: Vec::new(),
            executors: Vec::new(),
            cpu: crate::model::DEFAULT_CPU,
            tasks: Vec::new(),
            symbols: Vec::new(),
            python: Default::default(),
            eager_tasks: false,
            classes: Classes::default(),
        }
    }

    /// Per task: its variables and handles; and which tasks start at time 0.
    fn scopes(&mut self, tasks: &Entries<'_, '_>, futures: Option<&Node<'_>>) -> Vec<Scope> {
        let mut scopes = Vec::new();
        let mut started = Vec::new();
        // A task a future's `on_done` starts is no root.
        if let Some(DeValue::Table(futures)) = futures.map(|f| f.get_ref()) {
            for (_, _, future) in entries(futures).items {
                if let DeValue::Table(f) = future.get_ref() {
                    scope::started(entries(f).get("on_done"), &Scope::default(), &mut started);
                }
            }
        }
        let mut arriving = Vec::new();
        for (_, _, node) in &tasks.items {
            let mut scope = Scope {
                builtins: &BUILTIN_VARS,
                ..Scope::default()
            };
            if let DeValue::Table(table) = node.get_ref() {
                let task = entries(table);
                arriving.push(task.has("arrivals"));
                let mut declared = Vec::new();
                if let Some(DeValue::Table(args)) = task.get("args").map(|a| a.get_ref()) {
                    declared.extend(args.iter().map(|(k, _)| k.get_ref().to_string()));
                }
                scope.vars.extend(declared.iter().cloned());
                self.globals.args.push(declared);
                let params = handles::declared_params(task.get("handles"));
                for (name, kind) in &params {
                    // A queue or semaphore parameter is no task handle.
                    if !kind.is_some_and(crate::model::HandleKind::is_object) {
                        scope.handles.push(name.clone());
                    }
                    if let Some(kind) = kind {
                        scope.params.push((name.clone(), *kind));
                    }
                }
                self.globals.handle_params.push(params);
                scope::declared(task.get("steps"), &mut scope);
                scope::started(task.get("steps"), &scope, &mut started);
                // A task its `on_done` starts is no root either.
                scope::started(task.get("on_done"), &Scope::default(), &mut started);
            } else {
                arriving.push(false);
                self.globals.args.push(Vec::new());
                self.globals.handle_params.push(Vec::new());
            }
            scopes.push(scope);
        }
        let started: std::collections::HashSet<String> = started.into_iter().collect();
        for ((name, span, _), arrives) in tasks.items.iter().zip(&arriving) {
            if *arrives && started.contains(*name) {
                self.r.error(
                    span.clone(),
                    Problem::StartedAndArriving {
                        task: name.to_string(),
                    },
                );
            }
        }
        // A task started by arrivals is no root: nothing starts it at time 0
        // and no step can name its instances as a whole.
        self.globals.root = self
            .globals
            .tasks
            .iter()
            .zip(&arriving)
            .map(|(t, arrives)| !started.contains(t) && !arrives)
            .collect();
        let roots = Rc::new(scope::Roots::new(self.root_handles()));
        self.roots = roots.clone();
        for scope in &mut scopes {
            scope.roots = roots.clone();
        }
        scopes
    }

    fn check_name_clashes(&mut self, tasks: &Entries<'_, '_>) {
        for (name, span, _) in &tasks.items {
            self.check_name(name, span.clone(), "task");
            if name.contains(['[', ']']) {
                self.r.error(
                    span.clone(),
                    Problem::BracketInTaskName {
                        name: name.to_string(),
                    },
                );
            }
            if self.globals.future(name).is_some() {
                self.r.error(
                    span.clone(),
                    Problem::TaskAndFuture {
                        name: name.to_string(),
                    },
                );
            }
            if self.globals.event(name).is_some() {
                self.r.error(
                    span.clone(),
                    Problem::EventNamedLike {
                        name: name.to_string(),
                        other: "task",
                    },
                );
            }
            if self.globals.barrier(name).is_some() {
                self.r.error(
                    span.clone(),
                    Problem::BarrierNamedLike {
                        name: name.to_string(),
                        other: "a task",
                    },
                );
            }
            if self.globals.condition(name).is_some() {
                self.r.error(
                    span.clone(),
                    Problem::ConditionNamedLike {
                        name: name.to_string(),
                        other: "task",
                    },
                );
            }
        }
    }

    fn scenario(&mut self, node: Option<&Node<'_>>) -> Header {
        let mut header = Header::default();
        let Some(t) = node.and_then(|node| self.r.table(node, "[scenario]", &SCENARIO_KEYS)) else {
            return header;
        };
        if let Some(node) = t.get("name")
            && let Some(n) = self.r.string(node, "`name`")
        {
            if n.chars().any(char::is_control) {
                self.r.error(node.span(), Problem::ControlInScenarioName);
            }
            header.name = n.to_owned();
        }
        if let Some(d) = t.get("description") {
            self.r.string(d, "`description`");
        }
        if let Some(seed) = t
            .get("seed")
            .and_then(|s| self.r.int(s, "`seed`", 0, i64::MAX))
        {
            header.seed = seed as u64;
        }
        header.main = t.get("main").and_then(|m| self.task_name_ref(m, "`main`"));
        if let Some(node) = t.get("python")
            && let Some(text) = self.r.string(node, "`python`")
        {
            use crate::python::Python;
            match Python::parse(text) {
                Some(p) => header.python = p,
                None => self.r.error(
                    node.span(),
                    Problem::UnknownPython {
                        version: text.to_owned(),
                    },
                ),
            }
        }
        if let Some(node) = t.get("cpu") {
            header.cpu = self.r.int(node, "`cpu`", 1, 1024).map(|c| c as u32);
        }
        if let Some(node) = t.get("time_limit") {
            header.time_limit = self.r.duration(node, "`time_limit`");
            if header.time_limit == Some(0) {
                self.r.error(node.span(), Problem::ZeroTimeLimit);
            }
        }
        if let Some(node) = t.get("eager_tasks")
            && let Some(eager) = self.r.bool(node, "`eager_tasks`")
        {
            let exists = !eager
                || self.needs_python(
                    node.span(),
                    "`eager_tasks` (asyncio.eager_task_factory)",
                    crate::python::Python::V3_12,
                );
            header.eager_tasks = eager && exists;
        }
        header
    }

    /// A string naming a task definition, with "did you mean" when it names none.
    fn task_name_ref(&mut self, node: &Node<'_>, what: &str) -> Option<u32> {
        let name = self.r.string(node, what)?;
        self.task_named(name, node.span(), what)
    }

    /// The task definition `name`, or a problem at `span` saying `what` names none.
    fn task_named(&mut self, name: &str, span: Range<usize>, what: &str) -> Option<u32> {
        let found = self.globals.task(name);
        if found.is_none() {
            let suggestion = suggest(name, self.globals.tasks.iter().map(String::as_str));
            self.r.error(
                span,
                Problem::UndefinedTask {
                    what: what.to_owned(),
                    name: name.to_owned(),
                    suggestion,
                },
            );
        }
        found
    }

    fn names_of(&mut self, node: Option<&Node<'_>>, what: &str) -> Vec<String> {
        let Some(node) = node else { return Vec::new() };
        match self.r.free_table(node, what) {
            Some(t) => {
                let kind = match what {
                    "[semaphores]" => "semaphore",
                    "[queues]" => "queue",
                    "[events]" => "event",
                    "[barriers]" => "barrier",
                    "[conditions]" => "condition",
                    "[executors]" => "executor",
                    _ => "future",
                };
                for (name, span, _) in &t.items {
                    self.check_name(name, span.clone(), kind);
                }
                t.items.iter().map(|(k, _, _)| k.to_string()).collect()
            }
            None => Vec::new(),
        }
    }

    /// A name must show: not empty or blank, no control characters.
    fn check_name(&mut self, name: &str, span: Range<usize>, kind: &'static str) {
        let problem = if name.trim().is_empty() {
            Problem::BlankName { kind }
        } else if name.chars().any(char::is_control) {
            Problem::ControlInName {
                kind,
                name: name.to_owned(),
            }
        } else {
            return;
        };
        self.r.error(span, problem);
    }

    fn semaphores(&mut self, node: Option<&Node<'_>>) -> Vec<SemaphoreDef> {
        let names = self.names_of(node, "[semaphores]");
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        self.globals.semaphores = names;
        let mut out = Vec::new();
        for (name, _, value) in entries(table).items {
            let what = format!("semaphore `{name}`");
            let mut kind = SemKind::Semaphore;
            let permits = match value.get_ref() {
                DeValue::Table(_) => {
                    self.r
                        .table(value, &what, &["permits", "kind"])
                        .and_then(|t| {
                            let mut known = true;
                            if let Some(k) = t.get("kind") {
                                let read = self.sem_kind(k);
                                known = read.is_some();
                                kind = read.unwrap_or(SemKind::Semaphore);
                            }
                            match (t.get("permits"), kind) {
                                // An unknown kind is the one problem said.
                                (None, _) if !known => None,
                                (Some(p), SemKind::Lock) => {
                                    let lock = name.to_owned();
                                    self.r.error(p.span(), Problem::LockWithPermits { lock });
                                    None
                                }
                                (None, SemKind::Lock) => Some(1),
                                (Some(p), _) => self.r.int(p, "`permits`", 1, u32::MAX as i64),
                                (None, _) => {
                                    let semaphore = name.to_owned();
                                    let problem = Problem::SemaphoreWithoutPermits { semaphore };
                                    self.r.error(value.span(), problem);
                                    None
                                }
                            }
                        })
                }
                _ => self
                    .r
                    .int(value, &format!("the permits of {what}"), 1, u32::MAX as i64),
            };
            out.push(SemaphoreDef {
                name: name.to_owned(),
                permits: permits.unwrap_or(1) as u32,
                kind,
            });
        }
        self.globals.semaphore_kinds = out.iter().map(|s| s.kind).collect();
        out
    }

    /// A semaphore's `kind`: `semaphore`, `bounded` or `lock`.
    fn sem_kind(&mut self, node: &Node<'_>) -> Option<SemKind> {
        let name = self.r.string(node, "`kind`")?;
        match SemKind::NAMES.iter().position(|k| *k == name) {
            Some(i) => Some(SemKind::ALL[i]),
            None => {
                let suggestion = suggest(name, SemKind::NAMES);
                let name = name.to_owned();
                self.r.error(
                    node.span(),
                    Problem::UnknownSemaphoreKind { name, suggestion },
                );
                None
            }
        }
    }

    fn queues(&mut self, node: Option<&Node<'_>>) -> Vec<QueueDef> {
        let names = self.names_of(node, "[queues]");
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        self.globals.queues = names;
        let mut out = Vec::new();
        let mut kinds = Vec::new();
        for (name, _, value) in entries(table).items {
            let what = format!("queue `{name}`");
            let (capacity, kind) = match value.get_ref() {
                DeValue::Table(_) => match self.r.table(value, &what, &["capacity", "kind"]) {
                    Some(t) => (
                        t.get("capacity")
                            .and_then(|c| self.r.int(c, "`capacity`", 0, u32::MAX as i64)),
                        t.get("kind").map(|k| self.queue_kind(k)),
                    ),
                    None => (None, None),
                },
                _ => (
                    self.r.int(
                        value,
                        &format!("the capacity of {what}"),
                        0,
                        u32::MAX as i64,
                    ),
                    None,
                ),
            };
            // A kind that could not be read is no kind: no `put` is judged
            // against it.
            let kind = kind.unwrap_or(Some(QueueKind::Fifo));
            kinds.push(kind);
            let capacity = capacity.filter(|c| *c > 0).map(|c| c as u32);
            out.push(QueueDef {
                name: name.to_owned(),
                capacity,
                kind: kind.unwrap_or_default(),
            });
        }
        self.globals.queue_kinds = kinds;
        out
    }

    /// A queue's `kind`: `fifo`, `lifo` or `priority`.
    fn queue_kind(&mut self, node: &Node<'_>) -> Option<QueueKind> {
        let s = self.r.string(node, "`kind`")?;
        let kind = QueueKind::parse(s);
        if kind.is_none() {
            let suggestion = suggest(s, QueueKind::NAMES);
            let problem = Problem::UnknownQueueKind {
                name: s.to_owned(),
                suggestion,
            };
            self.r.error(node.span(), problem);
        }
        kind
    }

    fn futures(&mut self, node: Option<&Node<'_>>) -> Vec<FutureDef> {
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, _, value) in entries(table).items {
            let what = format!("future `{name}`");
            let on_done = match self.r.table(value, &what, &["on_done"]) {
                Some(t) => match t.get("on_done") {
                    Some(steps) => self.callback_steps(steps, "on_done"),
                    None => Vec::new(),
                },
                None => Vec::new(),
            };
            out.push(FutureDef {
                name: name.to_owned(),
                on_done,
            });
        }
        out
    }

    /// `[events]`: each `name = {}`, an `asyncio.Event` not yet set. A
    /// step names an event where it names a task or a future (`await`,
    /// a template), so an event may not share a future's name (a task's
    /// is checked with the tasks).
    fn events(&mut self, node: Option<&Node<'_>>) -> Vec<EventDef> {
        let names = self.names_of(node, "[events]");
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        for (name, span, value) in entries(table).items {
            self.r.table(value, &format!("event `{name}`"), &[]);
            if self.globals.future(name).is_some() {
                self.r.error(
                    span,
                    Problem::EventNamedLike {
                        name: name.to_owned(),
                        other: "future",
                    },
                );
            }
        }
        names.into_iter().map(|name| EventDef { name }).collect()
    }

    /// A table of one key (`&["workers"]`, `&["parties"]`), a count from 1
    /// to `max`; `missing` is the problem when the key is absent.
    fn count_of(
        &mut self,
        value: &Node<'_>,
        what: &str,
        key: &'static [&'static str; 1],
        max: i64,
        missing: Problem,
    ) -> Option<i64> {
        let t = self.r.table(value, what, key)?;
        let key = key[0];
        match t.get(key) {
            Some(n) => self.r.int(n, &format!("`{key}`"), 1, max),
            None => {
                self.r.error(value.span(), missing);
                None
            }
        }
    }

    /// `[executors]`: each `name = { workers = N }`, a
    /// `concurrent.futures.ThreadPoolExecutor(max_workers=N)` (N at least 1)
    /// that `run_in_executor` steps name with `executor = "name"`.
    fn executors(&mut self, node: Option<&Node<'_>>) -> Vec<crate::model::ExecutorDef> {
        self.names_of(node, "[executors]");
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, _, value) in entries(table).items {
            let what = format!("executor `{name}`");
            let missing = Problem::NoWorkers {
                name: name.to_owned(),
            };
            let workers = self.count_of(value, &what, &["workers"], 1_000_000, missing);
            out.push(crate::model::ExecutorDef {
                name: name.to_owned(),
                workers: workers.map_or(1, |w| w as u32),
            });
        }
        out
    }

    /// `[barriers]`: each `name = { parties = N }`, an `asyncio.Barrier(N)`
    /// (N at least 1). A step names a barrier where it names a task, a
    /// future or an event (`await`, a template), so a barrier may share
    /// none of their names (a task's is checked with the tasks).
    fn barriers(&mut self, node: Option<&Node<'_>>) -> Vec<BarrierDef> {
        self.names_of(node, "[barriers]");
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, span, value) in entries(table).items {
            let what = format!("barrier `{name}`");
            let missing = Problem::NoParties {
                name: name.to_owned(),
            };
            let parties = self.count_of(value, &what, &["parties"], u32::MAX as i64, missing);
            let other = if self.globals.future(name).is_some() {
                Some("a future")
            } else if self.globals.event(name).is_some() {
                Some("an event")
            } else {
                None
            };
            if let Some(other) = other {
                let problem = Problem::BarrierNamedLike {
                    name: name.to_owned(),
                    other,
                };
                self.r.error(span, problem);
            }
            out.push(BarrierDef {
                name: name.to_owned(),
                parties: parties.map_or(1, |p| p as u32),
            });
        }
        out
    }

    /// `[conditions]`: each `name = {}` (an `asyncio.Condition()`, whose own
    /// lock is added to `semaphores` under its name) or `name = { lock =
    /// "db" }` (`asyncio.Condition(db)`, `db` a lock). A step names a
    /// condition where it names a semaphore (`with`, `acquire`, `release`)
    /// or an event (`await`), so it may share no name with those, a future
    /// or a task (checked with the tasks).
    fn conditions(
        &mut self,
        node: Option<&Node<'_>>,
        semaphores: &mut Vec<SemaphoreDef>,
    ) -> Vec<ConditionDef> {
        let names = self.names_of(node, "[conditions]");
        let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
            return Vec::new();
        };
        let declared = semaphores.len();
        let mut out = Vec::with_capacity(names.len());
        for (name, span, value) in entries(table).items {
            let clash = if self.globals.semaphores.iter().any(|s| s == name) {
                Some("semaphore")
            } else if self.globals.event(name).is_some() {
                Some("event")
            } else if self.globals.future(name).is_some() {
                Some("future")
            } else {
                None
            };
            if let Some(other) = clash {
                let name = name.to_owned();
                self.r
                    .error(span, Problem::ConditionNamedLike { name, other });
            }
            let what = format!("condition `{name}`");
            let shared = self
                .r
                .table(value, &what, &["lock"])
                .and_then(|t| t.get("lock"))
                .and_then(|node| self.condition_lock(name, node, &semaphores[..declared]));
            let (lock, own_lock) = match shared {
                Some(lock) => (lock, false),
                None => {
                    semaphores.push(SemaphoreDef {
                        name: name.to_owned(),
                        permits: 1,
                        kind: SemKind::Lock,
                    });
                    (semaphores.len() as u32 - 1, true)
                }
            };
            out.push(ConditionDef {
                name: name.to_owned(),
                lock,
                own_lock,
            });
        }
        out
    }

    /// A condition's `lock`: a declared semaphore of kind `lock`.
    fn condition_lock(
        &mut self,
        condition: &str,
        node: &Node<'_>,
        declared: &[SemaphoreDef],
    ) -> Option<u32> {
        let lock = self.r.string(node, "`lock`")?;
        let Some(i) = declared.iter().position(|s| s.name == lock) else {
            let suggestion = suggest(lock, declared.iter().map(|s| s.name.as_str()));
            let problem = Problem::Undeclared {
                kind: "lock",
                table: "[semaphores]",
                name: lock.to_owned(),
                suggestion,
            };
            self.r.error(node.span(), problem);
            return None;
        };
        if declared[i].kind != SemKind::Lock {
            let kind = match declared[i].kind {
                SemKind::Bounded => "bounded semaphore",
                _ => "semaphore",
            };
            let problem = Problem::ConditionLockNotALock {
                condition: condition.to_owned(),
                lock: lock.to_owned(),
                kind,
            };
            self.r.error(node.span(), problem);
            return None;
        }
        Some(i as u32)
    }

    fn root_handles(&self) -> Vec<String> {
        let roots = self
            .globals
            .tasks
            .iter()
            .zip(&self.globals.root)
            .filter(|(_, r)| **r);
        roots.map(|(t, _)| t.clone()).collect()
    }

    /// Done callbacks run to completion at once: they cannot wait.
    /// The `on_done` steps of a future or a task: steps that never wait,
    /// with the callback's variables.
    pub(crate) fn callback_steps(&mut self, steps: &Node<'_>, verb: &'static str) -> Vec<Step> {
        let mut scope = Scope {
            builtins: &scope::CALLBACK_VARS,
            vars: Vec::new(),
            handles: Vec::new(),
            roots: self.roots.clone(),
            task_groups: Vec::new(),
            callbacks: Vec::new(),
            lists: Vec::new(),
            params: Vec::new(),
        };
        scope::declared(Some(steps), &mut scope);
        let mark = self.places.len();
        let body = self.steps(steps, &scope);
        self.places.truncate(mark);
        self.callback_steps_only(steps, &body, verb);
        body
    }

    fn callback_steps_only(&mut self, node: &Node<'_>, body: &[Step], verb: &'static str) {
        let waits = body.iter().any(|s| !s.verb().about().in_callback);
        if waits {
            self.r.error(node.span(), Problem::CallbackWaits { verb });
        }
    }

    fn task(&mut self, name: &str, node: &Node<'_>, scope: &Scope, root: bool) -> TaskDef {
        let what = format!("task `{name}`");
        let mut def = TaskDef {
            name: name.to_owned(),
            count: 1,
            root,
            args: Vec::new(),
            handles: Vec::new(),
            limit: None,
            timeout: None,
            deadline: None,
            retry: None,
            after: Vec::new(),
            trigger: Trigger::default(),
            daemon: false,
            arrivals: None,
            body: Vec::new(),
            on_done: Vec::new(),
            places: Vec::new(),
        };
        let Some(t) = self.r.table(node, &what, &TASK_KEYS) else {
            return def;
        };
        if let Some(c) = t.get("count") {
            def.count = self.r.int(c, "`count`", 1, MAX_COUNT).unwrap_or(1) as u32;
        }
        if let Some(args) = t.get("args") {
            // Defaults are evaluated where the task is started: the
            // callee's queue, semaphore and event parameters are not there.
            let outside = Scope {
                params: Vec::new(),
                ..scope.clone()
            };
            def.args = self.args(args, &outside, &[]);
        }
        def.handles = self.handle_params(name, &t, scope, root);
        if let Some(l) = t.get("limit") {
            let sem = self.semaphore_ref(l);
            def.limit = self.only_with(l, sem, "a task's `limit`").and(sem);
        }
        if let Some(d) = t.get("timeout") {
            def.timeout = self.r.duration(d, "`timeout`");
        }
        if let Some(d) = t.get("daemon") {
            def.daemon = self.r.bool(d, "`daemon`").unwrap_or(false);
        }
        if let Some(d) = t.get("deadline") {
            def.deadline = self.r.duration(d, "`deadline`");
        }
        def.retry = self.retry(&t);
        if let Some(a) = t.get("arrivals") {
            def.arrivals = self.arrivals(a);
            for key in ["count", "after"] {
                if let Some(n) = t.get(key) {
                    self.r.error(
                        n.span(),
                        Problem::ArrivalsWith {
                            task: name.to_owned(),
                            key,
                        },
                    );
                }
            }
            self.dependencies(&t, &mut def, true);
        } else {
            self.dependencies(&t, &mut def, root);
        }
        let mark = self.places.len();
        def.body = self.body(&t, node, scope, name);
        def.places = self.places.split_off(mark);
        if let Some(steps) = t.get("on_done") {
            def.on_done = self.callback_steps(steps, "on_done");
        }
        def
    }

    /// The body: `steps`, or the shorthand `sleep`/`fail`/`error`/`result`.
    fn body(
        &mut self,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
        task: &str,
    ) -> Vec<Step> {
        let shorthand = ["sleep", "fail", "error", "result"]
            .into_iter()
            .find(|k| t.has(k));
        if let Some(steps) = t.get("steps") {
            if let Some(key) = shorthand {
                self.r.error(
                    steps.span(),
                    Problem::StepsAndShorthand {
                        task: task.to_owned(),
                        key,
                    },
                );
            }
            return self.steps(steps, scope);
        }
        let mut body = Vec::new();
        if let Some(s) = t.get("sleep") {
            self.step_at(crate::verb::Verb::Sleep, s.span().start);
            body.extend(self.delay(s, "`sleep`", scope).map(Step::Sleep));
        }
        if let Some(f) = t.get("fail") {
            let message = match t.get("error") {
                Some(e) => self.template(e, "`error`", scope),
                None => Some(crate::template::Template::literal("failed")),
            };
            let chance = self.r.probability(f, "`fail`");
            if let (Some(message), Some(chance)) = (message, chance) {
                self.step_at(crate::verb::Verb::Fail, f.span().start);
                body.push(Step::Fail {
                    message,
                    chance: Some(chance),
                    class: crate::exception::EXCEPTION,
                    from: None,
                });
            }
        } else if let Some(e) = t.get("error") {
            self.r.error(e.span(), Problem::ErrorWithoutFail);
        }
        if let Some(r) = t.get("result") {
            self.step_at(crate::verb::Verb::Return, r.span().start);
            body.extend(self.expr(r, scope).map(Step::Return));
        }
        if body.is_empty() && shorthand.is_none() {
            let span = node.span().start..node.span().start;
            let task = task.to_owned();
            self.r.error(span, Problem::NoBody { task });
        }
        body
    }

    /// The values of `args` (those not named in `skip`, which are handles).
    fn args(&mut self, node: &Node<'_>, scope: &Scope, skip: &[String]) -> Vec<(u32, Expr)> {
        let Some(t) = self.r.free_table(node, "`args`") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, _, value) in &t.items {
            if skip.iter().any(|s| s == key) {
                continue;
            }
            if let Some(e) = self.expr(value, scope) {
                out.push((self.symbols.intern(key), e));
            }
        }
        out
    }

    /// A literal value or template, as written for `result`, `item`, `args`...
    pub(crate) fn expr(&mut self, node: &Node<'_>, scope: &Scope) -> Option<Expr> {
        Some(match node.get_ref() {
            DeValue::String(s) => {
                let t = self.template(node, "text", scope)?;
                match t.as_literal() {
                    Some(_) => Expr::Value(crate::value::Value::str(s)),
                    None => Expr::Text(t),
                }
            }
            DeValue::Integer(_) => Expr::Value(crate::value::Value::Int(self.r.int(
                node,
                "a value",
                i64::MIN,
                i64::MAX,
            )?)),
            DeValue::Float(_) => {
                Expr::Value(crate::value::Value::Float(self.r.number(node, "a value")?))
            }
            DeValue::Boolean(b) => Expr::Value(crate::value::Value::Bool(*b)),
            DeValue::Array(items) => {
                Expr::List(items.iter().filter_map(|i| self.expr(i, scope)).collect())
            }
            DeValue::Table(table) => Expr::Map(
                entries(table)
                    .items
                    .iter()
                    .filter_map(|(k, _, v)| Some((Rc::from(*k), self.expr(v, scope)?)))
                    .collect(),
            ),
            DeValue::Datetime(_) => {
                self.r.error(node.span(), Problem::DatetimeValue);
                return None;
            }
        })
    }

    /// `retry = { attempts, backoff, factor, max_backoff, jitter }` (or
    /// `retry = 3`), and `retry_on`.
    fn retry(&mut self, t: &Entries<'_, '_>) -> Option<Retry> {
        const KEYS: [&str; 5] = ["attempts", "backoff", "factor", "max_backoff", "jitter"];
        let on = t.get("retry_on").and_then(|n| self.retry_on(n));
        let Some(node) = t.get("retry") else {
            if let Some(n) = t.get("retry_on") {
                self.r.error(n.span(), Problem::RetryOnWithoutRetry);
            }
            return None;
        };
        let mut retry = Retry {
            attempts: 1,
            backoff: 0,
            factor: 2.0,
            max_backoff: None,
            jitter: 0.0,
            on: on.unwrap_or(Catch {
                error: true,
                timeout: true,
                ..Catch::default()
            }),
        };
        if let DeValue::Integer(_) = node.get_ref() {
            retry.attempts = self.r.int(node, "`retry`", 1, 1000)? as u32;
            return Some(retry);
        }
        let r = self.r.table(node, "`retry`", &KEYS)?;
        let Some(attempts) = r.get("attempts") else {
            self.r.error(node.span(), Problem::RetryWithoutAttempts);
            return None;
        };
        // Every key is checked, even after a bad one; the file is then invalid anyway.
        let attempts = self.r.int(attempts, "`attempts`", 1, 1000);
        retry.attempts = attempts.unwrap_or(1) as u32;
        if let Some(b) = r
            .get("backoff")
            .and_then(|b| self.r.duration(b, "`backoff`"))
        {
            retry.backoff = b;
        }
        if let Some(f) = r.get("factor") {
            let factor = self.r.number(f, "`factor`").unwrap_or(2.0);
            if !(1.0..=100.0).contains(&factor) {
                self.r.error(f.span(), Problem::FactorOutOfRange { factor });
            }
            retry.factor = factor;
        }
        if let Some(m) = r.get("max_backoff") {
            retry.max_backoff = self.r.duration(m, "`max_backoff`");
            if let Some(max) = retry.max_backoff.filter(|max| *max < retry.backoff) {
                self.r.error(
                    m.span(),
                    Problem::MaxBackoffBelowBackoff {
                        max,
                        backoff: retry.backoff,
                    },
                );
            }
        }
        if let Some(j) = r.get("jitter") {
            retry.jitter = match j.get_ref() {
                DeValue::Boolean(b) => f64::from(u8::from(*b)),
                _ => self.r.probability(j, "`jitter`").unwrap_or(0.0),
            };
        }
        Some(retry)
    }

    /// `retry_on = ["error", "timeout"]`: (errors, timeouts).
    fn retry_on(&mut self, node: &Node<'_>) -> Option<Catch> {
        Some(self.exception_names(node, exceptions::Names::RetryOn))
    }

    /// `after = [...]` and `trigger`.
    fn dependencies(&mut self, t: &Entries<'_, '_>, def: &mut TaskDef, root: bool) {
        if let Some(node) = t.get("after") {
            for (name, span) in self.r.names(node, "`after`") {
                let Some(id) = self.task_named(name, span.clone(), "`after`") else {
                    continue;
                };
                if !self.globals.root[id as usize] {
                    self.r.error(
                        span,
                        Problem::AfterStartedTask {
                            name: name.to_owned(),
                        },
                    );
                }
                def.after.push(id);
            }
            if !root {
                self.r.error(
                    node.span(),
                    Problem::AfterAndStarted {
                        task: def.name.clone(),
                    },
                );
            }
        }
        if let Some(node) = t.get("trigger") {
            let Some(name) = self.r.string(node, "`trigger`") else {
                return;
            };
            match Trigger::NAMES.iter().position(|n| *n == name) {
                Some(i) => {
                    def.trigger = [
                        Trigger::AllSuccess,
                        Trigger::AllDone,
                        Trigger::OneSuccess,
                        Trigger::OneFailed,
                    ][i]
                }
                None => self.r.error(
                    node.span(),
                    Problem::UnknownTrigger {
                        name: name.to_owned(),
                        suggestion: suggest(name, Trigger::NAMES),
                    },
                ),
            }
            if def.after.is_empty() && t.get("after").is_none() {
                self.r.error(node.span(), Problem::TriggerWithoutAfter);
            }
        }
    }
}

/// The JSON Schema for editors names exactly the keys and verbs this
/// validator knows, each verb with its own modifiers.
#[cfg(test)]
mod schema_tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_schema_knows_the_validators_keys_and_verbs() {
        let schema: Value = serde_json::from_str(crate::schema::SCHEMA).expect("JSON");
        assert_eq!(keys(&schema["properties"]), set(&super::TOP_KEYS));
        let scenario = &schema["properties"]["scenario"]["properties"];
        assert_eq!(keys(scenario), set(&super::SCENARIO_KEYS));
        assert_eq!(
            keys(&schema["$defs"]["task"]["properties"]),
            set(&super::TASK_KEYS)
        );
        let expect = &schema["properties"]["expect"]["properties"];
        assert_eq!(keys(expect), set(&super::expect::KEYS));
        let steps = schema["$defs"]["step"]["oneOf"]
            .as_array()
            .expect("step variants");
        assert_eq!(steps.len(), crate::verb::Verb::ALL.len());
        for verb in crate::verb::Verb::ALL {
            let (verb, modifiers) = (verb.key(), verb.about().modifiers);
            let step = steps
                .iter()
                .find(|s| s["required"][0] == verb)
                .unwrap_or_else(|| panic!("the schema has no `{verb}` step"));
            let mut want = set(modifiers);
            want.insert(verb.to_owned());
            assert_eq!(keys(&step["properties"]), want, "`{verb}`");
        }
    }

    /// Every step of every scenario knows where it is written: its place
    /// is the `{` of its inline table, which names its verb (or the value
    /// of a task's shorthand `sleep`, `fail` or `result`), and a task has
    /// one place per step, in the order its steps are walked.
    #[test]
    fn every_step_knows_where_it_is_written() {
        fn walk<'a>(steps: &'a [super::Step], out: &mut Vec<&'a super::Step>) {
            for step in steps {
                out.push(step);
                for block in step.children() {
                    walk(block, out);
                }
            }
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut files = vec![std::path::PathBuf::from(dir)];
        let mut checked = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(model) = super::validate(&source) else {
                continue;
            };
            let starts: Vec<usize> = std::iter::once(0)
                .chain(source.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            for task in &model.tasks {
                let mut steps = Vec::new();
                walk(&task.body, &mut steps);
                assert_eq!(steps.len(), task.places.len(), "{}", path.display());
                for (step, place) in steps.iter().zip(&task.places) {
                    let at = starts[place.line as usize - 1] + place.column as usize - 1;
                    let rest = &source[at..];
                    let before = &source[starts[place.line as usize - 1]..at];
                    let shorthand = ["sleep", "fail", "result"]
                        .iter()
                        .any(|k| before.trim_end().strip_suffix('=').map(str::trim) == Some(*k));
                    if !shorthand {
                        assert!(rest.starts_with('{'), "{}:{place:?}", path.display());
                        let key = step.verb().key();
                        let table = &rest[..rest.find('}').unwrap_or(rest.len())];
                        assert!(
                            table.contains(key) || key == "repeat",
                            "{}:{}:{} is not a `{key}` step",
                            path.display(),
                            place.line,
                            place.column
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 500, "{checked}");
    }
}
