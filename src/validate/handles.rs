//! Handle parameters: a task definition's `handles = { p = "task" }`, and
//! the handles a `spawn` or `call` passes them in `args`: each must be one
//! the caller holds, of the kind the parameter takes.

use toml::de::DeValue;

use super::Validator;
use super::reader::{Entries, Node, entries};
use super::scope::Scope;
use crate::model::{HandleKind, PARAM, Passed, QueueKind, Sym, Target};
use crate::problem::Problem;
use crate::suggest::suggest;

/// The handle parameters a task declares, read before any body (names
/// must be known in every scope): each with its kind, `None` when it
/// cannot be read (the problem is reported by [`Validator::handle_params`]).
pub(super) fn declared_params(node: Option<&Node<'_>>) -> Vec<(String, Option<HandleKind>)> {
    let Some(DeValue::Table(table)) = node.map(|n| n.get_ref()) else {
        return Vec::new();
    };
    entries(table)
        .items
        .iter()
        .map(|(name, _, kind)| {
            let kind = match kind.get_ref() {
                DeValue::String(s) => HandleKind::parse(s),
                _ => None,
            };
            (name.to_string(), kind)
        })
        .collect()
}

impl Validator<'_> {
    /// `[tasks.NAME] handles`: its parameters, with their kinds. A task
    /// that starts by itself, or by arrivals, has no caller to pass them.
    pub(super) fn handle_params(
        &mut self,
        task: &str,
        t: &Entries<'_, '_>,
        scope: &Scope,
        root: bool,
    ) -> Vec<(Sym, HandleKind)> {
        let Some(node) = t.get("handles") else {
            return Vec::new();
        };
        let Some(table) = self.r.free_table(node, "`handles`") else {
            return Vec::new();
        };
        let def = self.globals.task(task);
        let mut out = Vec::new();
        for (name, span, value) in &table.items {
            let Some(written) = self.r.string(value, "a handle kind") else {
                continue;
            };
            let Some(kind) = HandleKind::parse(written) else {
                let suggestion = suggest(written, HandleKind::NAMES.iter().copied());
                let name = written.to_owned();
                self.r.error(
                    value.span(),
                    Problem::UnknownHandleKind { name, suggestion },
                );
                continue;
            };
            // An argument, a loop variable or a built-in one (`item` is
            // set by a `get`): a variable would hide the parameter.
            let is_arg = def
                .is_some_and(|d| self.globals.args[d as usize].iter().any(|a| a == name))
                || scope.has_var(name);
            if is_arg {
                let (task, name) = (task.to_owned(), name.to_string());
                self.r
                    .error(span.clone(), Problem::ArgAndHandle { task, name });
                continue;
            }
            let clash = if self.globals.task(name).is_some() {
                Some("task")
            } else if self.globals.future(name).is_some() {
                Some("future")
            } else if self.globals.event(name).is_some() {
                Some("event")
            } else if self.globals.barrier(name).is_some() {
                Some("barrier")
            } else {
                None
            };
            if let Some(kind) = clash {
                let name = name.to_string();
                self.r
                    .error(span.clone(), Problem::HandleClash { name, kind });
                continue;
            }
            out.push((self.symbols.intern(name), kind));
        }
        if !table.items.is_empty() && (root || t.has("arrivals")) {
            let task = task.to_owned();
            self.r.error(node.span(), Problem::HandlesUnpassed { task });
        }
        out
    }

    /// A task started with no `args` (`gather = ["t"]`): it must take no
    /// handles.
    pub(super) fn no_handles_passed(&mut self, def: u32, at: &Node<'_>) {
        let params = &self.globals.handle_params[def as usize];
        let task = &self.globals.tasks[def as usize];
        let problems: Vec<Problem> = params
            .iter()
            .filter_map(|(param, kind)| {
                Some(Problem::HandleWithoutValue {
                    task: task.clone(),
                    param: param.clone(),
                    kind: (*kind)?.name(),
                })
            })
            .collect();
        for p in problems {
            self.r.error(at.span(), p);
        }
    }

    /// What a start passes to the definition's handle parameters, from
    /// its `args`: one handle the caller holds per parameter, of its kind.
    /// `at`: the step's task name, where a missing one is reported.
    pub(super) fn handle_args(
        &mut self,
        def: u32,
        given: Option<&Node<'_>>,
        scope: &Scope,
        at: &Node<'_>,
    ) -> Option<Vec<(Sym, Passed)>> {
        let params = self.globals.handle_params[def as usize].clone();
        if params.is_empty() {
            return Some(Vec::new());
        }
        let given = match given.map(|g| g.get_ref()) {
            Some(DeValue::Table(t)) => entries(t),
            _ => {
                self.no_handles_passed(def, at);
                return None;
            }
        };
        let task = self.globals.tasks[def as usize].clone();
        let mut out = Vec::new();
        let mut ok = true;
        for (param, kind) in params {
            let Some(want) = kind else {
                ok = false;
                continue;
            };
            let Some(node) = given.get(&param) else {
                let (task, param, kind) = (task.clone(), param.clone(), want.name());
                self.r
                    .error(at.span(), Problem::HandleWithoutValue { task, param, kind });
                ok = false;
                continue;
            };
            let Some(name) = self.r.string(node, "a handle to pass") else {
                ok = false;
                continue;
            };
            let Some((found, target)) = self.held(name, scope) else {
                let params = scope.params.iter().map(|(p, _)| p);
                let candidates = scope
                    .all_handles()
                    .chain(params)
                    .chain(&self.globals.futures)
                    .chain(&self.globals.queues)
                    .chain(&self.globals.semaphores)
                    .chain(&self.globals.events)
                    .map(String::as_str);
                let suggestion = suggest(name, candidates);
                let name = name.to_owned();
                self.r
                    .error(node.span(), Problem::UnknownHandle { name, suggestion });
                ok = false;
                continue;
            };
            if found != want.name() {
                let problem = Problem::HandleKindMismatch {
                    task: task.clone(),
                    param: param.clone(),
                    want: want.name(),
                    name: name.to_owned(),
                    found,
                };
                self.r.error(node.span(), problem);
                ok = false;
                continue;
            }
            out.push((self.symbols.intern(&param), target));
        }
        ok.then_some(out)
    }

    /// A handle the caller holds by this name, with its kind: a handle
    /// parameter of its own, a group, a task it named, a task started by
    /// itself, or a future.
    fn held(&mut self, name: &str, scope: &Scope) -> Option<(&'static str, Passed)> {
        let local = |v: &mut Self| Passed::Handle(Target::Local(v.symbols.intern(name)));
        if let Some((_, kind)) = scope.params.iter().find(|(n, _)| n == name) {
            let passed = match kind {
                HandleKind::Queue => Passed::Queue(PARAM | self.symbols.intern(name)),
                HandleKind::Semaphore => Passed::Semaphore(PARAM | self.symbols.intern(name)),
                HandleKind::Event => Passed::Event(PARAM | self.symbols.intern(name)),
                _ => local(self),
            };
            return Some((kind.name(), passed));
        }
        if scope.lists.iter().any(|l| l == name) {
            return Some((HandleKind::Group.name(), local(self)));
        }
        let root = self
            .globals
            .task(name)
            .filter(|d| self.globals.root[*d as usize]);
        if scope.has_handle(name) && root.is_none() {
            return Some((HandleKind::Task.name(), local(self)));
        }
        if let Some(def) = root {
            return Some((HandleKind::Task.name(), Passed::Handle(Target::Root(def))));
        }
        if let Some(f) = self.globals.future(name) {
            return Some((HandleKind::Future.name(), Passed::Handle(Target::Future(f))));
        }
        if let Some(q) = self.globals.queues.iter().position(|n| n == name) {
            // A priority queue's puts need a priority: not passed as a queue.
            let kind = match self.globals.queue_kinds.get(q).copied().flatten() {
                Some(QueueKind::Priority) => "priority queue",
                _ => HandleKind::Queue.name(),
            };
            return Some((kind, Passed::Queue(q as u32)));
        }
        if let Some(e) = self.globals.event(name) {
            return Some((HandleKind::Event.name(), Passed::Event(e)));
        }
        let s = self.globals.semaphores.iter().position(|n| n == name)?;
        // A priority or preemptive semaphore's steps take a `priority`, and
        // a preemptive one's `with` must know it: not passed as a semaphore.
        let kind = match self.globals.semaphore_kinds.get(s) {
            Some(crate::model::SemKind::Priority) => "priority semaphore",
            Some(crate::model::SemKind::Preemptive) => "preemptive semaphore",
            _ => HandleKind::Semaphore.name(),
        };
        Some((kind, Passed::Semaphore(s as u32)))
    }

    /// A queue a step names: the body's queue parameter of that name, else
    /// a `[queues]` entry.
    pub(super) fn queue_in(&mut self, node: &Node<'_>, scope: &Scope) -> Option<u32> {
        match self.object_param(node, scope, HandleKind::Queue) {
            Some(id) => Some(id),
            None => self.queue_ref(node),
        }
    }

    /// A semaphore a step names: the body's semaphore parameter of that
    /// name, else a `[semaphores]` entry (or a condition's lock).
    pub(super) fn semaphore_in(&mut self, node: &Node<'_>, scope: &Scope) -> Option<u32> {
        match self.object_param(node, scope, HandleKind::Semaphore) {
            Some(id) => Some(id),
            None => self.semaphore_ref(node),
        }
    }

    /// An event a step names: the body's event parameter of that name,
    /// else an `[events]` entry.
    pub(super) fn event_in(&mut self, node: &Node<'_>, scope: &Scope) -> Option<u32> {
        match self.object_param(node, scope, HandleKind::Event) {
            Some(id) => Some(id),
            None => self.event_ref(node),
        }
    }

    pub(super) fn object_param(
        &mut self,
        node: &Node<'_>,
        scope: &Scope,
        kind: HandleKind,
    ) -> Option<u32> {
        let DeValue::String(name) = node.get_ref() else {
            return None;
        };
        scope
            .params
            .iter()
            .any(|(n, k)| n == name.as_ref() && *k == kind)
            .then(|| PARAM | self.symbols.intern(name))
    }
}
