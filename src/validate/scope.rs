//! Which names exist where: task, semaphore, queue, future, event and
//! barrier and condition names for the whole file, and the variables and
//! handles of each task body.

use crate::verb::{Names, Verb};
use std::collections::HashMap;
use std::rc::Rc;

use toml::de::DeValue;

use super::reader::{Entries, Node, entries};
use crate::model::{DefId, HandleKind, QueueKind, Sym};

/// Variables every task has.
pub(crate) const BUILTIN_VARS: [&str; 12] = [
    "name",
    "i",
    "attempt",
    "item",
    "result",
    "error",
    "done",
    "pending",
    "now",
    "elapsed",
    "priority",
    "cancelling",
];

/// Keys whose value is a list of nested steps.
pub(crate) const NESTED: [&str; 6] = ["do", "try", "except", "except_star", "finally", "forever"];

/// The names declared at the top level of the file.
#[derive(Default)]
pub(crate) struct Globals {
    pub(crate) tasks: Vec<String>,
    pub(crate) semaphores: Vec<String>,
    /// Per declared semaphore (file order): its kind.
    pub(crate) semaphore_kinds: Vec<crate::model::SemKind>,
    pub(crate) queues: Vec<String>,
    /// Per queue (file order): its kind, `None` when it could not be read.
    pub(crate) queue_kinds: Vec<Option<QueueKind>>,
    pub(crate) futures: Vec<String>,
    pub(crate) events: Vec<String>,
    pub(crate) barriers: Vec<String>,
    pub(crate) conditions: Vec<String>,
    /// `[executors]`, in file order.
    pub(crate) executors: Vec<String>,
    /// Per condition: its lock.
    pub(crate) condition_locks: Vec<u32>,
    /// Per task definition: started at time 0 (nothing starts it).
    pub(crate) root: Vec<bool>,
    /// Per task definition: the argument names it declares.
    pub(crate) args: Vec<Vec<String>>,
    /// Per task definition: its handle parameters, with their kinds
    /// (`None` when the kind could not be read).
    pub(crate) handle_params: Vec<Vec<(String, Option<HandleKind>)>>,
    /// Task and future names to their index: lookups stay constant-time in
    /// files of many tasks. Only looked up, never iterated.
    task_index: HashMap<String, DefId>,
    future_index: HashMap<String, u32>,
    event_index: HashMap<String, u32>,
    barrier_index: HashMap<String, u32>,
    condition_index: HashMap<String, u32>,
}

impl Globals {
    /// Sets the task names (file order) and indexes them; the first of two
    /// equal names wins, as a search in file order would find.
    pub(crate) fn set_tasks(&mut self, names: Vec<String>) {
        self.task_index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            self.task_index.entry(n.clone()).or_insert(i as DefId);
        }
        self.tasks = names;
    }

    /// Sets the future names (file order) and indexes them.
    pub(crate) fn set_futures(&mut self, names: Vec<String>) {
        self.future_index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            self.future_index.entry(n.clone()).or_insert(i as u32);
        }
        self.futures = names;
    }

    /// Sets the event names (file order) and indexes them.
    pub(crate) fn set_events(&mut self, names: Vec<String>) {
        self.event_index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            self.event_index.entry(n.clone()).or_insert(i as u32);
        }
        self.events = names;
    }

    /// Sets the barrier names (file order) and indexes them.
    pub(crate) fn set_barriers(&mut self, names: Vec<String>) {
        self.barrier_index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            self.barrier_index.entry(n.clone()).or_insert(i as u32);
        }
        self.barriers = names;
    }

    /// Sets the condition names (file order) with their locks, and
    /// indexes them.
    pub(crate) fn set_conditions(&mut self, conditions: Vec<(String, u32)>) {
        self.condition_index = HashMap::with_capacity(conditions.len());
        for (i, (n, _)) in conditions.iter().enumerate() {
            self.condition_index.entry(n.clone()).or_insert(i as u32);
        }
        (self.conditions, self.condition_locks) = conditions.into_iter().unzip();
    }

    pub(crate) fn condition(&self, name: &str) -> Option<u32> {
        self.condition_index.get(name).copied()
    }

    pub(crate) fn task(&self, name: &str) -> Option<DefId> {
        self.task_index.get(name).copied()
    }

    pub(crate) fn future(&self, name: &str) -> Option<u32> {
        self.future_index.get(name).copied()
    }

    pub(crate) fn event(&self, name: &str) -> Option<u32> {
        self.event_index.get(name).copied()
    }

    pub(crate) fn barrier(&self, name: &str) -> Option<u32> {
        self.barrier_index.get(name).copied()
    }
}

/// Interned names of variables and handles.
#[derive(Default)]
pub(crate) struct Symbols {
    pub(crate) names: Vec<String>,
    /// Name to symbol: only looked up, never iterated.
    index: HashMap<String, Sym>,
}

impl Symbols {
    pub(crate) fn intern(&mut self, name: &str) -> Sym {
        if let Some(sym) = self.index.get(name) {
            return *sym;
        }
        let sym = self.names.len() as Sym;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), sym);
        sym
    }
}

/// The tasks that start by themselves: a handle in every body. Shared by
/// all scopes (one copy per file, not per task).
#[derive(Default)]
pub(crate) struct Roots {
    /// In file order, for "did you mean".
    pub(crate) names: Vec<String>,
    /// Only looked up, never iterated.
    set: std::collections::HashSet<String>,
}

impl Roots {
    pub(crate) fn new(names: Vec<String>) -> Roots {
        let set = names.iter().cloned().collect();
        Roots { names, set }
    }
}

/// Variables a future's `on_done` steps have.
pub(crate) const CALLBACK_VARS: [&str; 5] = ["name", "result", "error", "now", "elapsed"];

/// The names visible inside one task body (or a future's callbacks).
#[derive(Default, Clone)]
pub(crate) struct Scope {
    /// The variables every such body has ([`BUILTIN_VARS`] or [`CALLBACK_VARS`]),
    /// shared rather than copied per body.
    pub(crate) builtins: &'static [&'static str],
    /// The variables this body declares itself.
    pub(crate) vars: Vec<String>,
    /// Handles the body declares itself.
    pub(crate) handles: Vec<String>,
    /// Handles every body has: the root tasks.
    pub(crate) roots: Rc<Roots>,
    /// The task groups the body opens (`task_group = "tg"`): names for
    /// `into`, not handles.
    pub(crate) task_groups: Vec<String>,
    /// The callbacks the body schedules and names (`call_later = "1s",
    /// as = "h"`): names for `cancel`, not handles of tasks.
    pub(crate) callbacks: Vec<String>,
    /// Handles that are groups of tasks (`into`, `wait`'s `done` and
    /// `pending`), for the kind a handle argument passes.
    pub(crate) lists: Vec<String>,
    /// The body's handle parameters (also among its handles).
    pub(crate) params: Vec<(String, HandleKind)>,
}

impl Scope {
    pub(crate) fn has_var(&self, name: &str) -> bool {
        self.builtins.contains(&name) || self.vars.iter().any(|v| v == name)
    }

    pub(crate) fn has_handle(&self, name: &str) -> bool {
        self.handles.iter().any(|v| v == name) || self.roots.set.contains(name)
    }

    /// Every variable, the built-in ones first, for "did you mean".
    pub(crate) fn all_vars(&self) -> impl Iterator<Item = &str> {
        self.builtins
            .iter()
            .copied()
            .chain(self.vars.iter().map(String::as_str))
    }

    /// Every handle, the body's own first, for "did you mean".
    pub(crate) fn all_handles(&self) -> impl Iterator<Item = &String> {
        self.handles.iter().chain(&self.roots.names)
    }
}

/// Verbs whose steps are a callback's (`call_soon`'s value, the `do` of
/// `call_later` and `call_at`): a body of its own, with its own names.
pub(crate) const SCHEDULES: [&str; 3] = ["call_soon", "call_later", "call_at"];

/// Calls `f` on every step table under `steps`, nested ones included, and
/// those of the callbacks they schedule.
pub(crate) fn walk<'a, 'd>(steps: &'a Node<'d>, f: &mut dyn FnMut(&Entries<'a, 'd>)) {
    walk_in(steps, true, f);
}

/// Calls `f` on every step table of one body: nested ones, but not those of
/// the callbacks it schedules.
fn walk_body<'a, 'd>(steps: &'a Node<'d>, f: &mut dyn FnMut(&Entries<'a, 'd>)) {
    walk_in(steps, false, f);
}

fn walk_in<'a, 'd>(steps: &'a Node<'d>, callbacks: bool, f: &mut dyn FnMut(&Entries<'a, 'd>)) {
    let DeValue::Array(items) = steps.get_ref() else {
        return;
    };
    for item in items.iter() {
        let DeValue::Table(table) = item.get_ref() else {
            continue;
        };
        let step = entries(table);
        f(&step);
        let schedules = SCHEDULES.iter().any(|k| step.has(k));
        for key in NESTED {
            if let Some(inner) = step.get(key)
                && (callbacks || !schedules)
            {
                walk_in(inner, callbacks, f);
            }
        }
        if callbacks && let Some(inner) = step.get("call_soon") {
            walk_in(inner, callbacks, f);
        }
    }
}

fn str_of<'a>(node: Option<&'a Node<'_>>) -> Option<&'a str> {
    match node?.get_ref() {
        DeValue::String(s) => Some(s),
        _ => None,
    }
}

/// Handles a body declares (`spawn ... as`/`into`, `each ... as`, `wait`'s
/// `done`/`pending`), variables it binds (`for`), the task groups it
/// opens (whose names `into` may name, and which are not handles) and the
/// callbacks it names (`call_soon ... as`).
pub(crate) fn declared(steps: Option<&Node<'_>>, scope: &mut Scope) {
    let Some(steps) = steps else { return };
    let mut into = Vec::new();
    walk_body(steps, &mut |step| {
        if SCHEDULES.iter().any(|k| step.has(k)) {
            scope
                .callbacks
                .extend(str_of(step.get("as")).map(str::to_owned));
        }
        if let Some(group) = str_of(step.get("task_group")) {
            scope.task_groups.push(group.to_owned());
        }
        into.extend(str_of(step.get("into")).map(str::to_owned));
        if step.has("spawn") || step.has("each") {
            scope
                .handles
                .extend(str_of(step.get("as")).map(str::to_owned));
        }
        if step.has("wait") {
            scope
                .handles
                .extend(["done".to_owned(), "pending".to_owned()]);
            scope
                .lists
                .extend(["done".to_owned(), "pending".to_owned()]);
        }
        if let Some(var) = str_of(step.get("for")) {
            scope.vars.push(var.to_owned());
        }
    });
    let groups = &scope.task_groups;
    let lists: Vec<String> = into.into_iter().filter(|g| !groups.contains(g)).collect();
    scope.handles.extend(lists.iter().cloned());
    scope.lists.extend(lists);
}

/// Names a body uses where a task definition would be started.
pub(crate) fn started(steps: Option<&Node<'_>>, scope: &Scope, out: &mut Vec<String>) {
    let Some(steps) = steps else { return };
    walk(steps, &mut |step| {
        for verb in Verb::ALL {
            let always = match verb.about().names {
                Names::Nothing => continue,
                Names::Starts => true,
                Names::Targets => false,
            };
            let names: Vec<&str> = match step.get(verb.key()).map(|n| n.get_ref()) {
                Some(DeValue::String(s)) => vec![s],
                Some(DeValue::Array(items)) => {
                    items.iter().filter_map(|i| str_of(Some(i))).collect()
                }
                _ => continue,
            };
            for name in names {
                if always || !scope.has_handle(name) {
                    out.push(name.to_owned());
                }
            }
        }
    });
}
