//! Steps: one verb per inline table, its modifiers, and the names it uses.

use toml::de::DeValue;

use super::Validator;
use super::reader::{Entries, Node, entries};
use super::scope::Scope;
use crate::distribution::Dist;
use crate::model::{
    Bind, Catch, Delay, Predicate, QueueId, QueueKind, RaiseFrom, ReturnWhen, Scheduled, SemId,
    SemKind, Start, StateName, Step, Target, When,
};
use crate::problem::Problem;
use crate::suggest::suggest;
use crate::template::{Attr, BarrierAttr, Expr, Piece, Ref, Template, TemplateError};
use crate::value::Value;
use crate::verb::Verb;

fn verb_names() -> impl Iterator<Item = &'static str> {
    Verb::ALL.into_iter().map(Verb::key)
}

fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = verb_names().collect();
    for verb in Verb::ALL {
        for m in verb.about().modifiers {
            if !keys.contains(m) {
                keys.push(m);
            }
        }
    }
    keys
}

impl Validator<'_> {
    pub(crate) fn steps(&mut self, node: &Node<'_>, scope: &Scope) -> Vec<Step> {
        let DeValue::Array(items) = node.get_ref() else {
            let found = super::reader::type_name(node.get_ref());
            self.r.error(node.span(), Problem::StepsNotArray { found });
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.step(item, scope))
            .collect()
    }

    fn step(&mut self, node: &Node<'_>, scope: &Scope) -> Option<Step> {
        let DeValue::Table(table) = node.get_ref() else {
            let found = super::reader::type_name(node.get_ref());
            self.r.error(node.span(), Problem::StepNotTable { found });
            return None;
        };
        let t = entries(table);
        let (verb, value) = self.verb_of(&t, node)?;
        let verb = Verb::from_key(verb).expect("`verb_of` finds only verbs");
        // Before the steps of its blocks, which are read with it.
        self.step_at(verb, node.span().start);
        let allowed = verb.about().modifiers;
        let mut ok = true;
        for (key, span, _) in &t.items {
            if *key == verb.key() || allowed.contains(key) {
                continue;
            }
            ok = false;
            let suggestion = suggest(key, allowed.iter().copied());
            let (key, verb) = ((*key).to_owned(), verb.key().to_owned());
            let problem = if all_keys().contains(&key.as_str()) {
                Problem::ModifierElsewhere {
                    key,
                    verb,
                    allowed,
                    suggestion,
                }
            } else {
                Problem::UnknownStepKey {
                    key,
                    verb,
                    allowed,
                    suggestion,
                }
            };
            self.r.error(span.clone(), problem);
        }
        let step = self.verb(verb, value, &t, node, scope);
        if ok { step } else { None }
    }

    /// The one verb of a step (`timeout` is a modifier when another verb is there).
    fn verb_of<'a, 'd>(
        &mut self,
        t: &Entries<'a, 'd>,
        node: &Node<'_>,
    ) -> Option<(&'a str, &'a Node<'d>)> {
        let verbs: Vec<_> = t
            .items
            .iter()
            .filter(|(k, _, _)| verb_names().any(|v| v == *k))
            .collect();
        let verbs: Vec<_> = if verbs.len() > 1 {
            verbs
                .into_iter()
                .filter(|(k, _, _)| *k != "timeout")
                .collect()
        } else {
            verbs
        };
        match verbs.as_slice() {
            [(k, _, v)] => Some((k, v)),
            [] => {
                let modifier = t.items.iter().find_map(|(k, span, _)| {
                    let verbs: Vec<&'static str> = Verb::ALL
                        .into_iter()
                        .filter(|v| v.about().modifiers.contains(k))
                        .map(Verb::key)
                        .collect();
                    (!verbs.is_empty()).then(|| {
                        let key = (*k).to_owned();
                        (span.clone(), Problem::ModifierWithoutVerb { key, verbs })
                    })
                });
                let guess = modifier.or_else(|| {
                    t.items.iter().find_map(|(k, span, _)| {
                        suggest(k, verb_names()).map(|suggestion| {
                            let key = (*k).to_owned();
                            (span.clone(), Problem::UnknownVerb { key, suggestion })
                        })
                    })
                });
                let (span, problem) = guess.unwrap_or_else(|| {
                    let verbs = verb_names().collect();
                    (node.span(), Problem::NoVerb { verbs })
                });
                self.r.error(span, problem);
                None
            }
            [_, (second, span, _), ..] => {
                let first = verbs[0].0;
                self.r.error(
                    span.clone(),
                    Problem::TwoVerbs {
                        first: first.to_owned(),
                        second: (*second).to_owned(),
                    },
                );
                None
            }
        }
    }

    /// Decodes a verb, counting the loops it is inside (for `break`).
    fn verb(
        &mut self,
        verb: Verb,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
    ) -> Option<Step> {
        let looping = verb.about().is_loop;
        self.loops += u32::from(looping);
        let step = self.verb_in_loops(verb, v, t, node, scope);
        self.loops -= u32::from(looping);
        step
    }

    fn verb_in_loops(
        &mut self,
        verb: Verb,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
    ) -> Option<Step> {
        // The `do = [...]` block of a verb that has one.
        let nested = |this: &mut Self| -> Option<Vec<Step>> {
            match t.get("do") {
                Some(n) => Some(this.steps(n, scope)),
                None => {
                    let verb = verb.key().to_owned();
                    let needs = "`do = [...]`";
                    this.r
                        .error(node.span(), Problem::StepNeeds { verb, needs });
                    None
                }
            }
        };
        Some(match verb {
            Verb::Sleep => Step::Sleep(self.delay(v, "`sleep`", scope)?),
            Verb::Block => Step::Block(self.delay(v, "`block`", scope)?),
            Verb::Log => Step::Log(self.template(v, "`log`", scope)?),
            Verb::Fail => {
                let class = self.class_of(t);
                Step::Fail {
                    message: self.template(v, "`fail`", scope)?,
                    chance: match t.get("chance") {
                        Some(c) => Some(self.r.probability(c, "`chance`")?),
                        None => None,
                    },
                    class: class?,
                    from: self.raise_from(t.get("from"))?,
                }
            }
            Verb::Raise if self.excepts > 0 && self.in_star => {
                self.r.error(node.span(), Problem::RaiseInExceptStar);
                return None;
            }
            Verb::Return if self.star_loops.is_some() => {
                let verb = "return";
                self.r
                    .error(node.span(), Problem::LeavesExceptStar { verb });
                return None;
            }
            Verb::Break if self.star_loops == Some(self.loops) => {
                let verb = "break";
                self.r
                    .error(node.span(), Problem::LeavesExceptStar { verb });
                return None;
            }
            Verb::Raise if self.excepts == 0 => {
                let in_finally = self.in_finally;
                self.r
                    .error(node.span(), Problem::RaiseOutsideExcept { in_finally });
                return None;
            }
            Verb::Raise => {
                self.r.bool(v, "`raise`")?;
                Step::Reraise
            }
            Verb::Return => Step::Return(self.expr(v, scope)?),
            Verb::Spawn => self.spawn(v, t, scope)?,
            Verb::Call => Step::Call(self.start(v, t, scope)?),
            Verb::Await => {
                let name = self.r.string(v, "the target")?;
                let param = self.object_param(v, scope, crate::model::HandleKind::Event);
                if let (Some(e), None) = (param, t.get("until")) {
                    return Some(Step::WaitEvent(e));
                }
                let global = !scope.has_handle(name);
                let until = t.get("until");
                match (self.globals.event(name), self.globals.condition(name)) {
                    (_, Some(cond)) if global => Step::WaitCondition {
                        cond,
                        until: match until {
                            Some(u) => Some(self.predicate(u, scope)?),
                            None => None,
                        },
                    },
                    _ if until.is_some() => {
                        let name = name.to_owned();
                        self.r
                            .error(v.span(), Problem::UntilWithoutCondition { name });
                        return None;
                    }
                    (Some(e), _) if global => Step::WaitEvent(e),
                    _ => match self.globals.barrier(name).filter(|_| global) {
                        Some(b) => Step::WaitBarrier(b),
                        None => Step::Await(self.resolve(name, v, scope, true, verb)?),
                    },
                }
            }
            Verb::Gather => Step::Gather {
                targets: self.targets(v, scope, verb)?,
                return_exceptions: self.flag(t, "return_exceptions"),
            },
            Verb::Wait => Step::Wait {
                targets: self.targets(v, scope, verb)?,
                when: self.return_when(t.get("return_when"))?,
                timeout: self.opt_duration(t.get("timeout"), "`timeout`")?,
                cancel_pending: self.flag(t, "cancel_pending"),
            },
            Verb::AsCompleted => {
                let body = nested(self);
                let targets = self.targets(v, scope, verb);
                let timeout = self.opt_duration(t.get("timeout"), "`timeout`");
                Step::AsCompleted {
                    targets: targets?,
                    timeout: timeout?,
                    body: body?,
                }
            }
            Verb::WaitFor => Step::WaitFor {
                target: self.target(v, scope, true, verb)?,
                timeout: match t.get("timeout") {
                    Some(d) => self.r.duration(d, "`timeout`")?,
                    None => {
                        self.needs(
                            node,
                            "wait_for",
                            "`timeout` (use `await` to wait without one)",
                        );
                        return None;
                    }
                },
                shield: self.flag(t, "shield"),
            },
            Verb::Timeout | Verb::TimeoutAt => {
                let body = nested(self);
                let absolute = verb == Verb::TimeoutAt;
                let what = if absolute {
                    "`timeout_at`"
                } else {
                    "`timeout`"
                };
                Step::Timeout {
                    after: self.r.duration(v, what)?,
                    absolute,
                    body: body?,
                }
            }
            Verb::Cancel => {
                let msg = match t.get("msg") {
                    Some(m) => Some(self.template(m, "`msg`", scope)?),
                    None => None,
                };
                match self.r.string(v, "the target")? {
                    name if scope.callbacks.iter().any(|c| c == name)
                        && !scope.has_handle(name) =>
                    {
                        Step::CancelCallback(self.symbols.intern(name))
                    }
                    name => Step::Cancel {
                        target: self.resolve(name, v, scope, false, verb)?,
                        msg,
                    },
                }
            }
            // `uncancel = false` asks for nothing, as `pass` does.
            Verb::Uncancel => match self.r.bool(v, "`uncancel`")? {
                true => Step::Uncancel,
                false => Step::Repeat {
                    times: 0,
                    body: Vec::new(),
                },
            },
            Verb::CallSoon | Verb::CallLater | Verb::CallAt => self.schedule(verb, v, t, node)?,
            Verb::ToThread | Verb::RunInExecutor => self.thread_work(verb, v, t, scope)?,
            Verb::Try => self.try_step(v, t, node, scope)?,
            Verb::TaskGroup => self.task_group(v, scope, nested)?,
            Verb::With => {
                let body = nested(self);
                let sem = self.semaphore_in(v, scope);
                let priority = self.sem_priority(t.get("priority"), sem, scope);
                Step::With {
                    sem: sem?,
                    body: body?,
                    priority: priority?,
                }
            }
            Verb::Acquire => {
                let sem = self.semaphore_in(v, scope);
                self.only_with(v, sem, "an `acquire`")?;
                let priority = self.sem_priority(t.get("priority"), sem, scope);
                Step::Acquire {
                    sem: sem?,
                    priority: priority?,
                }
            }
            Verb::Notify => Step::Notify {
                cond: self.condition_ref(v)?,
                n: match t.get("n") {
                    Some(n) => self.r.int(n, "`n`", 0, u32::MAX as i64)? as u32,
                    None => 1,
                },
            },
            Verb::NotifyAll => Step::NotifyAll(self.condition_ref(v)?),
            Verb::Release => {
                let sem = self.semaphore_in(v, scope);
                self.only_with(v, sem, "a `release`")?;
                Step::Release(sem?)
            }
            Verb::Put => {
                let (queue, item, priority) = self.put(verb, v, t, node, scope)?;
                Step::Put {
                    queue,
                    item,
                    priority,
                }
            }
            Verb::Get => Step::Get(self.queue_in(v, scope)?),
            Verb::PutNowait => {
                let (queue, item, priority) = self.put(verb, v, t, node, scope)?;
                Step::PutNowait {
                    queue,
                    item,
                    priority,
                }
            }
            Verb::GetNowait => Step::GetNowait(self.queue_in(v, scope)?),
            Verb::TaskDone => Step::TaskDone(self.queue_in(v, scope)?),
            Verb::Join => Step::Join(self.queue_in(v, scope)?),
            Verb::Shutdown => {
                let queue = self.queue_in(v, scope);
                let immediate = self.flag(t, "immediate");
                let exists = self.needs_python(
                    node.span(),
                    "`shutdown` (Queue.shutdown)",
                    crate::python::Python::V3_13,
                );
                if !exists {
                    return None;
                }
                Step::Shutdown {
                    queue: queue?,
                    immediate,
                }
            }
            Verb::Consume => {
                let body = nested(self);
                let queue = self.queue_in(v, scope);
                let until = t.get("until").map(|u| self.expr(u, scope));
                Step::Consume {
                    queue: queue?,
                    until: until.map_or(Some(None), |u| u.map(Some))?,
                    body: body?,
                }
            }
            Verb::SetResult => Step::SetResult {
                future: self.future_ref(v)?,
                value: match t.get("value") {
                    Some(x) => self.expr(x, scope)?,
                    None => crate::template::Expr::Value(crate::value::Value::None),
                },
            },
            Verb::SetException => {
                let class = self.class_of(t);
                Step::SetException {
                    future: self.future_ref(v)?,
                    message: match t.get("error") {
                        Some(e) => self.template(e, "`error`", scope)?,
                        None => Template::literal("error"),
                    },
                    class: class?,
                }
            }
            Verb::Set => Step::Set(self.event_in(v, scope)?),
            Verb::Clear => Step::Clear(self.event_in(v, scope)?),
            Verb::Abort => Step::Abort(self.barrier_ref(v)?),
            Verb::Reset => Step::Reset(self.barrier_ref(v)?),
            Verb::Repeat => {
                let body = nested(self);
                Step::Repeat {
                    times: self.r.int(v, "`repeat`", 0, u32::MAX as i64)? as u32,
                    body: body?,
                }
            }
            Verb::Forever => Step::Forever(self.steps(v, scope)),
            Verb::For => {
                let body = nested(self);
                let items = match t.get("in") {
                    Some(i) => self.expr(i, scope),
                    None => {
                        self.needs(node, "for", "`in = [...]`");
                        None
                    }
                };
                Step::For {
                    var: self.symbols.intern(self.r.string(v, "`for`")?),
                    items: items?,
                    body: body?,
                }
            }
            Verb::Each => self.each(v, t, node, scope)?,
            Verb::Check => self.check(v, t, node, scope)?,
            Verb::Break if self.loops == 0 => {
                self.r.error(node.span(), Problem::BreakOutsideLoop);
                return None;
            }
            Verb::Break => Step::Break,
            Verb::Pass => Step::Repeat {
                times: 0,
                body: Vec::new(),
            },
        })
    }

    /// What a `put` or `put_nowait` puts: its queue, its item, and its
    /// priority (on a priority queue); every problem reported.
    fn put(
        &mut self,
        verb: Verb,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
    ) -> Option<(QueueId, Expr, Option<Expr>)> {
        let queue = self.queue_in(v, scope);
        let item = match t.get("item") {
            Some(i) => self.expr(i, scope),
            None => {
                self.needs(node, verb.key(), "`item = ...`");
                None
            }
        };
        let priority = self.priority(t.get("priority"), queue, node, scope);
        Some((queue?, item?, priority?))
    }

    /// The class a `type` names (`Exception` without one).
    fn class_of(&mut self, t: &Entries<'_, '_>) -> Option<crate::exception::ClassId> {
        match t.get("type") {
            Some(node) => self.raised_class(node),
            None => Some(crate::exception::EXCEPTION),
        }
    }

    /// A problem: the `verb` step at `node` lacks what `needs` says.
    /// A `with`'s or an `acquire`'s `priority`: a number (or a placeholder
    /// that may hold one), refused unless the semaphore is of kind
    /// `priority`; none stands for 0.
    fn sem_priority(
        &mut self,
        node: Option<&Node<'_>>,
        sem: Option<SemId>,
        scope: &Scope,
    ) -> Option<Option<Expr>> {
        let Some(n) = node else {
            return Some(None);
        };
        let expr = self.number(n, scope)?;
        let sem = sem?;
        let kind = self.globals.semaphore_kinds.get(sem as usize).copied();
        if !kind.is_some_and(SemKind::ranked) {
            let semaphore = match crate::model::param_of(sem) {
                Some(p) => self.symbols.names[p as usize].to_string(),
                None => self
                    .globals
                    .semaphores
                    .get(sem as usize)
                    .cloned()
                    .unwrap_or_default(),
            };
            let kind = match kind {
                _ if crate::model::param_of(sem).is_some() => "semaphore parameter",
                Some(SemKind::Bounded) => "bounded semaphore",
                Some(SemKind::Semaphore) => "semaphore",
                _ => "lock",
            };
            let problem = Problem::PriorityOnPlainSemaphore { semaphore, kind };
            self.r.error(n.span(), problem);
            return None;
        }
        Some(Some(expr))
    }

    /// A preemptive semaphore is taken with `with` only: its `with` knows
    /// when its holder lost the permit (`how`: the step that may not).
    pub(crate) fn only_with(
        &mut self,
        node: &Node<'_>,
        sem: Option<SemId>,
        how: &'static str,
    ) -> Option<()> {
        let Some(sem) = sem else {
            return Some(());
        };
        if self.globals.semaphore_kinds.get(sem as usize) != Some(&SemKind::Preemptive) {
            return Some(());
        }
        let semaphore = self.globals.semaphores[sem as usize].clone();
        let problem = Problem::PreemptiveNeedsWith { semaphore, how };
        self.r.error(node.span(), problem);
        None
    }

    /// A priority: a number, or a template of one placeholder (its value
    /// must be a number when the step runs).
    fn number(&mut self, n: &Node<'_>, scope: &Scope) -> Option<Expr> {
        let e = self.expr(n, scope)?;
        let number = match &e {
            Expr::Value(Value::Int(_)) => true,
            Expr::Value(Value::Float(f)) => !f.is_nan(),
            Expr::Text(t) => t.passes_on(),
            _ => false,
        };
        if !number {
            let found = match n.get_ref() {
                DeValue::Float(_) => "nan".to_owned(),
                DeValue::String(s) => format!("\"{s}\""),
                other => super::reader::type_name(other).to_owned(),
            };
            self.r
                .error(n.span(), Problem::PriorityNotANumber { found });
            return None;
        }
        Some(e)
    }

    /// A `put`'s `priority`: a number, or a template of one placeholder
    /// (its value must be a number when the put runs), required on a
    /// priority queue and refused on the others. `queue`: the queue, when
    /// its name was found.
    fn priority(
        &mut self,
        node: Option<&Node<'_>>,
        queue: Option<QueueId>,
        step: &Node<'_>,
        scope: &Scope,
    ) -> Option<Option<Expr>> {
        let expr = match node {
            Some(n) => Some(self.number(n, scope)?),
            None => None,
        };
        let Some(q) = queue else {
            return Some(expr);
        };
        if let (Some(p), Some(n)) = (crate::model::param_of(q), node) {
            // A queue parameter is never a priority queue.
            let queue = self.symbols.names[p as usize].clone();
            self.r
                .error(n.span(), Problem::PriorityOnQueueParam { queue });
            return None;
        }
        let Some(kind) = self.globals.queue_kinds.get(q as usize).copied().flatten() else {
            return Some(expr);
        };
        let name = self.globals.queues[q as usize].clone();
        match (kind, node) {
            (QueueKind::Priority, None) => {
                self.r
                    .error(step.span(), Problem::PriorityNeeded { queue: name });
                None
            }
            (QueueKind::Priority, Some(_)) | (_, None) => Some(expr),
            (kind, Some(n)) => {
                let kind = kind.name();
                self.r.error(
                    n.span(),
                    Problem::PriorityOnPlainQueue { queue: name, kind },
                );
                None
            }
        }
    }

    fn needs(&mut self, node: &Node<'_>, verb: &str, needs: &'static str) {
        let verb = verb.to_owned();
        self.r
            .error(node.span(), Problem::StepNeeds { verb, needs });
    }

    fn flag(&mut self, t: &Entries<'_, '_>, key: &str) -> bool {
        t.get(key)
            .and_then(|b| self.r.bool(b, &format!("`{key}`")))
            .unwrap_or(false)
    }

    fn opt_duration(&mut self, node: Option<&Node<'_>>, what: &str) -> Option<Option<u64>> {
        match node {
            None => Some(None),
            Some(n) => self.r.duration(n, what).map(Some),
        }
    }

    /// A `fail`'s `from`: `error` (only where an `except` handles one) or
    /// `none`.
    fn raise_from(&mut self, node: Option<&Node<'_>>) -> Option<Option<RaiseFrom>> {
        let Some(node) = node else {
            return Some(None);
        };
        let s = self.r.string(node, "`from`")?;
        match s.to_ascii_lowercase().as_str() {
            "error" if self.excepts == 0 => {
                let in_finally = self.in_finally;
                self.r
                    .error(node.span(), Problem::RaiseFromOutsideExcept { in_finally });
                None
            }
            "error" => Some(Some(RaiseFrom::Error)),
            "none" => Some(Some(RaiseFrom::Nothing)),
            _ => {
                let suggestion = suggest(s, ["error", "none"]);
                self.r.error(
                    node.span(),
                    Problem::UnknownRaiseFrom {
                        name: s.to_owned(),
                        suggestion,
                    },
                );
                None
            }
        }
    }

    fn return_when(&mut self, node: Option<&Node<'_>>) -> Option<ReturnWhen> {
        let Some(node) = node else {
            return Some(ReturnWhen::AllCompleted);
        };
        let s = self.r.string(node, "`return_when`")?;
        let names = ["first_completed", "first_exception", "all_completed"];
        Some(match s.to_ascii_lowercase().as_str() {
            "first_completed" => ReturnWhen::FirstCompleted,
            "first_exception" => ReturnWhen::FirstException,
            "all_completed" => ReturnWhen::AllCompleted,
            _ => {
                let suggestion = suggest(s, names);
                self.r.error(
                    node.span(),
                    Problem::UnknownReturnWhen {
                        name: s.to_owned(),
                        suggestion,
                    },
                );
                return None;
            }
        })
    }

    fn spawn(&mut self, v: &Node<'_>, t: &Entries<'_, '_>, scope: &Scope) -> Option<Step> {
        let start = self.start(v, t, scope)?;
        let mut handle = |key: &str| -> Option<Option<u32>> {
            match t.get(key) {
                Some(n) => Some(Some(
                    self.symbols.intern(self.r.string(n, &format!("`{key}`"))?),
                )),
                None => Some(None),
            }
        };
        let mut bind = Bind {
            as_: handle("as")?,
            into: handle("into")?,
            in_task_group: false,
        };
        if let Some(into) = t.get("into") {
            let name = self.r.string(into, "`into`")?;
            if self.groups.iter().any(|g| g == name) {
                bind.in_task_group = true;
            } else if scope.task_groups.iter().any(|g| g == name) {
                let name = name.to_owned();
                self.r
                    .error(into.span(), Problem::IntoTaskGroupOutside { name });
                return None;
            }
        }
        if bind.as_.is_none() && bind.into.is_none() {
            bind.as_ = Some(
                self.symbols
                    .intern(&self.globals.tasks[start.def as usize].clone()),
            );
        }
        Some(Step::Spawn { start, bind })
    }

    /// A task definition to start, with the step's `count` and `args`.
    fn start(&mut self, v: &Node<'_>, t: &Entries<'_, '_>, scope: &Scope) -> Option<Start> {
        let name = self.r.string(v, "the task to start")?;
        let def = self.task_ref(name, v)?;
        let count = match t.get("count") {
            Some(c) => Some(self.r.int(c, "`count`", 1, super::MAX_COUNT)? as u32),
            None => None,
        };
        let mut inner = scope.clone();
        inner.vars.push("i".into());
        let params: Vec<String> = self.globals.handle_params[def as usize]
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        let args = match t.get("args") {
            Some(a) => self.args(a, &inner, &params),
            None => Vec::new(),
        };
        self.check_args(def, t.get("args"));
        let handles = self.handle_args(def, t.get("args"), scope, v)?;
        Some(Start {
            def,
            count,
            args,
            handles,
        })
    }

    /// Arguments passed must be ones the task declares.
    fn check_args(&mut self, def: u32, given: Option<&Node<'_>>) {
        let Some(DeValue::Table(given)) = given.map(|g| g.get_ref()) else {
            return;
        };
        let declared = &self.globals.args[def as usize];
        let params = &self.globals.handle_params[def as usize];
        let task = &self.globals.tasks[def as usize];
        let mut problems = Vec::new();
        for (key, span, _) in entries(given).items {
            if !declared.iter().any(|d| d == key) && !params.iter().any(|(p, _)| p == key) {
                let names = declared.iter().chain(params.iter().map(|(p, _)| p));
                let suggestion = suggest(key, names.map(String::as_str));
                let problem = Problem::UnknownArgument {
                    task: task.clone(),
                    key: key.to_owned(),
                    suggestion,
                };
                problems.push((span, problem));
            }
        }
        for (span, problem) in problems {
            self.r.error(span, problem);
        }
    }

    fn task_ref(&mut self, name: &str, node: &Node<'_>) -> Option<u32> {
        let found = self.globals.task(name);
        if found.is_none() {
            let suggestion = suggest(name, self.globals.tasks.iter().map(String::as_str));
            self.r.error(
                node.span(),
                Problem::NoTaskToStart {
                    name: name.to_owned(),
                    suggestion,
                },
            );
        }
        found
    }

    /// What a step operand names: a handle, a root task, a future, or a
    /// definition to start (`verb`: the step's, for a message).
    fn target(
        &mut self,
        node: &Node<'_>,
        scope: &Scope,
        may_start: bool,
        verb: Verb,
    ) -> Option<Target> {
        let name = self.r.string(node, "the target")?;
        self.resolve(name, node, scope, may_start, verb)
    }

    fn resolve(
        &mut self,
        name: &str,
        node: &Node<'_>,
        scope: &Scope,
        may_start: bool,
        verb: Verb,
    ) -> Option<Target> {
        // A handle parameter is the body's own, whatever else has its name.
        let local = scope.params.iter().any(|(p, _)| p == name)
            || scope.has_handle(name)
                && self
                    .globals
                    .task(name)
                    .is_none_or(|d| !self.globals.root[d as usize]);
        if local {
            return Some(Target::Local(self.symbols.intern(name)));
        }
        if let Some(f) = self.globals.future(name) {
            return Some(Target::Future(f));
        }
        if self.globals.event(name).is_some() {
            // Only `await` takes an event (read before this is reached).
            self.r.error(
                node.span(),
                Problem::EventNotAwaitable {
                    name: name.to_owned(),
                    verb: verb.key(),
                },
            );
            return None;
        }
        if self.globals.barrier(name).is_some() {
            // Only `await` takes a barrier (read before this is reached).
            self.r.error(
                node.span(),
                Problem::BarrierNotAwaitable {
                    name: name.to_owned(),
                    verb: verb.key(),
                },
            );
            return None;
        }
        if self.globals.condition(name).is_some() {
            // Only `await` takes a condition (read before this is reached).
            self.r.error(
                node.span(),
                Problem::ConditionNotAwaitable {
                    name: name.to_owned(),
                    verb: verb.key(),
                },
            );
            return None;
        }
        if let Some(def) = self.globals.task(name) {
            if self.globals.root[def as usize] {
                return Some(Target::Root(def));
            }
            if may_start {
                self.no_handles_passed(def, node);
                return Some(Target::Start(Start {
                    def,
                    count: None,
                    args: Vec::new(),
                    handles: Vec::new(),
                }));
            }
            self.r.error(
                node.span(),
                Problem::AmbiguousStartedTask {
                    name: name.to_owned(),
                },
            );
            return None;
        }
        if scope.callbacks.iter().any(|c| c == name) {
            let (name, verb) = (name.to_owned(), verb.key());
            self.r
                .error(node.span(), Problem::CallbackHandleMisused { name, verb });
            return None;
        }
        let candidates = scope
            .all_handles()
            .chain(if verb == Verb::Cancel {
                &scope.callbacks[..]
            } else {
                &[]
            })
            .chain(&self.globals.tasks)
            .chain(&self.globals.futures)
            .chain(if verb == Verb::Await {
                &self.globals.events[..]
            } else {
                &[]
            })
            .chain(if verb == Verb::Await {
                &self.globals.barriers[..]
            } else {
                &[]
            });
        let suggestion = suggest(name, candidates.map(String::as_str));
        self.r.error(
            node.span(),
            Problem::UnknownTarget {
                name: name.to_owned(),
                suggestion,
                event_too: verb == Verb::Await,
            },
        );
        None
    }

    /// `call_soon = [steps]`, `call_later = "2s", do = [steps]` or
    /// `call_at = "5s", do = [steps]`, with `as = "h"` naming the handle.
    /// The callback's steps have a callback's variables, not the body's.
    fn schedule(
        &mut self,
        verb: Verb,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
    ) -> Option<Step> {
        let key = verb.key();
        let (when, steps) = match verb {
            Verb::CallSoon => (Some(When::Soon), Some(v)),
            _ => {
                let what = format!("`{key}`");
                let at = self.r.duration(v, &what);
                let when = at.map(|ns| match verb {
                    Verb::CallAt => When::At(ns),
                    _ => When::Later(ns),
                });
                let steps = t.get("do");
                if steps.is_none() {
                    let verb = key.to_owned();
                    let needs = "`do = [...]`: the callback's steps";
                    self.r
                        .error(node.span(), Problem::StepNeeds { verb, needs });
                }
                (when, steps)
            }
        };
        let body = self.callback_steps(steps?, key);
        let handle = match t.get("as") {
            Some(h) => Some(self.symbols.intern(self.r.string(h, "`as`")?)),
            None => None,
        };
        Some(Step::Schedule(Box::new(Scheduled {
            when: when?,
            body: body.into(),
            handle,
        })))
    }

    fn targets(&mut self, node: &Node<'_>, scope: &Scope, verb: Verb) -> Option<Vec<Target>> {
        let names = self.r.names(node, "the tasks to wait for");
        let mut out = Vec::new();
        let mut ok =
            !names.is_empty() || matches!(node.get_ref(), DeValue::Array(a) if a.is_empty());
        for (name, span) in names {
            let item = Node::new(span, DeValue::String(name.into()));
            match self.resolve(name, &item, scope, true, verb) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A semaphore, or a condition's lock (`with = "cv"` is `async with
    /// cv`, which takes its lock).
    pub(crate) fn semaphore_ref(&mut self, node: &Node<'_>) -> Option<SemId> {
        let name = self.r.string(node, "a semaphore")?;
        if let Some(c) = self.globals.condition(name) {
            return Some(self.globals.condition_locks[c as usize]);
        }
        self.named(node, name, "semaphore", "[semaphores]", |g| &g.semaphores)
    }

    fn condition_ref(&mut self, node: &Node<'_>) -> Option<u32> {
        let name = self.r.string(node, "a condition")?;
        self.named(node, name, "condition", "[conditions]", |g| &g.conditions)
    }

    /// `until`: `wait_for`'s predicate, one placeholder, maybe after `not `.
    fn predicate(&mut self, node: &Node<'_>, scope: &Scope) -> Option<Predicate> {
        let template = self.template(node, "`until`", scope)?;
        let pieces: Vec<Piece<'_>> = template.pieces().collect();
        let (not, what) = match pieces.as_slice() {
            [Piece::Ref(r, None)] => (false, (*r).clone()),
            [Piece::Text("not "), Piece::Ref(r, None)] => (true, (*r).clone()),
            _ => {
                let found = self.r.string(node, "`until`")?.to_owned();
                self.r
                    .error(node.span(), Problem::UntilNotOnePlaceholder { found });
                return None;
            }
        };
        Some(Predicate { not, what })
    }

    pub(super) fn queue_ref(&mut self, node: &Node<'_>) -> Option<QueueId> {
        let name = self.r.string(node, "a queue")?;
        self.named(node, name, "queue", "[queues]", |g| &g.queues)
    }

    fn future_ref(&mut self, node: &Node<'_>) -> Option<u32> {
        let name = self.r.string(node, "a future")?;
        self.named(node, name, "future", "[futures]", |g| &g.futures)
    }

    /// `{ to_thread = "2s" }` or `{ run_in_executor = "2s", executor = "db" }`,
    /// with `value`, or `error` (and `type`) to raise in the thread.
    fn thread_work(
        &mut self,
        verb: Verb,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        scope: &Scope,
    ) -> Option<Step> {
        let to_thread = verb == Verb::ToThread;
        let delay = self.delay(
            v,
            if to_thread {
                "`to_thread`"
            } else {
                "`run_in_executor`"
            },
            scope,
        );
        let executor = match t.get("executor") {
            Some(e) => {
                let name = self.r.string(e, "an executor");
                match name {
                    Some(name) => {
                        Some(self.named(e, name, "executor", "[executors]", |g| &g.executors))
                    }
                    None => Some(None),
                }
            }
            None => None,
        };
        let value = match t.get("value") {
            Some(x) => self.expr(x, scope),
            None => Some(crate::template::Expr::Value(crate::value::Value::None)),
        };
        if let (Some(_), Some(e)) = (t.get("value"), t.get("error")) {
            let verb = verb.key();
            self.r.error(e.span(), Problem::ValueAndError { verb });
        }
        let error = match t.get("error") {
            Some(e) => {
                let class = self.class_of(t);
                Some(self.template(e, "`error`", scope).zip(class))
            }
            None => {
                if let Some(ty) = t.get("type") {
                    self.needs(ty, verb.key(), "`error = \"...\"` beside `type`");
                }
                None
            }
        };
        let executor = match executor {
            Some(e) => Some(e?),
            None => None,
        };
        let error = match error {
            Some(e) => Some(e?),
            None => None,
        };
        Some(Step::Thread(Box::new(crate::model::ThreadWork {
            to_thread,
            executor,
            delay: delay?,
            value: value?,
            error,
        })))
    }

    pub(super) fn event_ref(&mut self, node: &Node<'_>) -> Option<u32> {
        let name = self.r.string(node, "an event")?;
        self.named(node, name, "event", "[events]", |g| &g.events)
    }

    fn barrier_ref(&mut self, node: &Node<'_>) -> Option<u32> {
        let name = self.r.string(node, "a barrier")?;
        self.named(node, name, "barrier", "[barriers]", |g| &g.barriers)
    }

    fn named(
        &mut self,
        node: &Node<'_>,
        name: &str,
        kind: &'static str,
        table: &'static str,
        list: fn(&super::Globals) -> &Vec<String>,
    ) -> Option<u32> {
        let names = list(&self.globals);
        if let Some(i) = names.iter().position(|n| n == name) {
            return Some(i as u32);
        }
        let suggestion = suggest(name, names.iter().map(String::as_str));
        self.r.error(
            node.span(),
            Problem::Undeclared {
                kind,
                table,
                name: name.to_owned(),
                suggestion,
            },
        );
        None
    }

    fn try_step(
        &mut self,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
    ) -> Option<Step> {
        let body = self.steps(v, scope);
        let star = t.get("except_star").is_some();
        if star && t.get("except").is_some() {
            self.r.error(node.span(), Problem::ExceptAndExceptStar);
            return None;
        }
        self.excepts += 1;
        let outer_star = (std::mem::replace(&mut self.in_star, star), self.star_loops);
        if star {
            self.star_loops = Some(self.loops);
        }
        let handler = t.get("except").or(t.get("except_star"));
        let except = handler.map(|e| self.steps(e, scope));
        (self.in_star, self.star_loops) = outer_star;
        self.excepts -= 1;
        let outer = (std::mem::take(&mut self.excepts), self.in_finally);
        self.in_finally = true;
        let finally = t.get("finally").map(|f| self.steps(f, scope));
        (self.excepts, self.in_finally) = outer;
        if except.is_none() && finally.is_none() {
            self.needs(node, "try", "`except = [...]` or `finally = [...]`");
            return None;
        }
        let catch = match t.get("catch") {
            None if star => {
                let needs = "`catch = [...]` with `except_star`: the classes it takes";
                self.needs(node, "try", needs);
                return None;
            }
            // `try` / `finally` alone catches nothing, as in Python.
            None if except.is_none() => Catch::default(),
            None => Catch {
                error: true,
                timeout: true,
                ..Catch::default()
            },
            Some(c) => self.exception_names(c, super::exceptions::Names::Catch),
        };
        if star {
            self.star_catch(t.get("catch"))?;
        }
        Some(Step::Try(Box::new(crate::model::Try {
            body,
            except: except.unwrap_or_default(),
            finally: finally.unwrap_or_default(),
            catch,
            star,
        })))
    }

    /// `except*` takes classes and `timeout`: not `error` (any `Exception`
    /// but a `TimeoutError`, which `except*` cannot say), not `cancelled`,
    /// not a group's class (a `TypeError` in Python).
    fn star_catch(&mut self, node: Option<&Node<'_>>) -> Option<()> {
        let node = node?;
        let mut ok = true;
        for (name, span) in self.r.names(node, "`catch`") {
            let refused = match name {
                "error" | "cancelled" => true,
                _ => self
                    .classes
                    .find(name)
                    .is_some_and(crate::exception::Classes::is_group),
            };
            if refused {
                ok = false;
                let name = name.to_owned();
                self.r.error(span, Problem::StarCatch { name });
            }
        }
        ok.then_some(())
    }

    /// `async with asyncio.TaskGroup() as NAME:` around its `do` block.
    fn task_group(
        &mut self,
        v: &Node<'_>,
        scope: &Scope,
        nested: impl FnOnce(&mut Self) -> Option<Vec<Step>>,
    ) -> Option<Step> {
        let name = self.r.string(v, "`task_group`")?.to_owned();
        let mut ok = true;
        let taken = scope.has_handle(&name) || scope.has_var(&name);
        if taken || self.globals.future(&name).is_some() {
            ok = false;
            let name = name.clone();
            self.r.error(v.span(), Problem::TaskGroupNameTaken { name });
        }
        if self.groups.contains(&name) {
            ok = false;
            let name = name.clone();
            self.r.error(v.span(), Problem::TaskGroupNested { name });
        }
        self.groups.push(name.clone());
        let body = nested(self);
        self.groups.pop();
        let name = self.symbols.intern(&name);
        (ok && body.is_some()).then(|| Step::TaskGroup {
            name,
            body: body.unwrap_or_default(),
        })
    }

    fn each(
        &mut self,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
    ) -> Option<Step> {
        let handle = self.target(v, scope, false, Verb::Each)?;
        let var = match t.get("as") {
            Some(a) => self.symbols.intern(self.r.string(a, "`as`")?),
            None => {
                self.needs(node, "each", "`as = \"name\"` for the task in hand");
                return None;
            }
        };
        let body = match t.get("do") {
            Some(d) => self.steps(d, scope),
            None => {
                self.needs(node, "each", "`do = [...]`");
                return None;
            }
        };
        Some(Step::Each { handle, var, body })
    }

    fn check(
        &mut self,
        v: &Node<'_>,
        t: &Entries<'_, '_>,
        node: &Node<'_>,
        scope: &Scope,
    ) -> Option<Step> {
        let target = self.target(v, scope, false, Verb::Check)?;
        let Some(s) = t.get("state") else {
            self.needs(node, "check", "`state = \"...\"`");
            return None;
        };
        let name = self.r.string(s, "`state`")?;
        let state = match name {
            "pending" => StateName::Pending,
            "done" => StateName::Done,
            "failed" => StateName::Failed,
            "cancelled" => StateName::Cancelled,
            "skipped" => StateName::Skipped,
            "finished" => StateName::Finished,
            other => {
                let suggestion = suggest(other, StateName::NAMES);
                self.r.error(
                    s.span(),
                    Problem::UnknownCheckState {
                        name: other.to_owned(),
                        suggestion,
                    },
                );
                return None;
            }
        };
        Some(Step::Check { target, state })
    }

    /// A duration, a distribution (`{ uniform = [a, b] }`), or a template read at run time.
    pub(crate) fn delay(&mut self, node: &Node<'_>, what: &str, scope: &Scope) -> Option<Delay> {
        match node.get_ref() {
            DeValue::String(s) if s.contains('{') => {
                let t = self.template(node, what, scope)?;
                Some(Delay::Dynamic(t))
            }
            DeValue::Table(_) => self.distribution(node, what).map(Delay::Drawn),
            _ => self.r.duration(node, what).map(Delay::Fixed),
        }
    }

    /// `{ uniform = [lo, hi] }`, `{ exponential = mean }`, `{ normal = [mean, sd] }`,
    /// `{ lognormal = [median, sigma] }` or `{ choice = { "1s" = weight, ... } }`.
    pub(super) fn distribution(&mut self, node: &Node<'_>, what: &str) -> Option<Dist> {
        const KINDS: [&str; 5] = ["uniform", "exponential", "normal", "lognormal", "choice"];
        let t = self.r.table(node, what, &KINDS)?;
        let [(kind, _, value)] = t.items.as_slice() else {
            self.r.error(
                node.span(),
                Problem::OneDistribution {
                    what: what.to_owned(),
                },
            );
            return None;
        };
        if !KINDS.contains(kind) {
            return None; // reported as an unknown key above
        }
        let pair = |this: &mut Self, shape: &'static str| -> Option<(&Node<'_>, &Node<'_>)> {
            match value.get_ref() {
                DeValue::Array(items) if items.len() == 2 => Some((&items[0], &items[1])),
                _ => {
                    let kind = (*kind).to_owned();
                    this.r
                        .error(value.span(), Problem::DistributionShape { kind, shape });
                    None
                }
            }
        };
        Some(match *kind {
            "uniform" => {
                let (lo, hi) = pair(self, "two durations: [low, high]")?;
                let lo = self.r.duration(lo, "the low bound");
                let (lo, hi) = (lo?, self.r.duration(hi, "the high bound")?);
                if lo > hi {
                    self.r.error(value.span(), Problem::UniformBackwards);
                    return None;
                }
                Dist::Uniform(lo, hi)
            }
            "exponential" => {
                Dist::Exponential(self.r.duration(value, "the mean of `exponential`")?)
            }
            "normal" => {
                let (mean, sd) =
                    pair(self, "a mean and a standard deviation: [\"1s\", \"100ms\"]")?;
                let mean = self.r.duration(mean, "the mean");
                Dist::Normal(mean?, self.r.duration(sd, "the standard deviation")?)
            }
            "lognormal" => {
                let (median, sigma) = pair(self, "a median and a shape: [\"200ms\", 0.5]")?;
                let median = self.r.duration(median, "the median");
                let sigma = self.r.number(sigma, "the shape `sigma`");
                let (median, sigma) = (median?, sigma?);
                if !(0.0..=10.0).contains(&sigma) {
                    self.r
                        .error(value.span(), Problem::LognormalShape { sigma });
                    return None;
                }
                Dist::LogNormal(median, sigma)
            }
            _ => Dist::Choice(self.choice(value)?),
        })
    }

    /// `{ "100ms" = 9, "2s" = 1 }`: durations with positive weights, in file order.
    fn choice(&mut self, node: &Node<'_>) -> Option<Vec<(u64, f64)>> {
        let DeValue::Table(table) = node.get_ref() else {
            self.r.error(node.span(), Problem::ChoiceNotTable);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (key, span, weight) in entries(table).items {
            let d = crate::duration::parse(key);
            let w = self.r.number(weight, "a weight");
            match (d, w) {
                (Ok(d), Some(w)) if w > 0.0 && w.is_finite() => out.push((d, w)),
                (Err(e), _) => {
                    self.r.error(span, Problem::ChoiceDuration { invalid: e });
                    ok = false;
                }
                (_, Some(w)) => {
                    self.r
                        .error(weight.span(), Problem::WeightNotPositive { weight: w });
                    ok = false;
                }
                _ => ok = false,
            }
        }
        if out.is_empty() && ok {
            self.r.error(node.span(), Problem::EmptyChoice);
            return None;
        }
        ok.then_some(out)
    }

    /// Text with placeholders, each checked against the names in scope.
    pub(crate) fn template(
        &mut self,
        node: &Node<'_>,
        what: &str,
        scope: &Scope,
    ) -> Option<Template> {
        let text = self.r.string(node, what)?;
        let base = self.r.text_span(node, text);
        let globals = &self.globals;
        let symbols = &mut self.symbols;
        let mut resolve = |name: &str| resolve_ref(name, scope, globals, symbols);
        match Template::parse(text, &mut resolve) {
            Ok(t) => Some(t),
            Err(errors) => {
                for (range, error) in errors {
                    let span = match base {
                        Some(b) => b + range.start..b + range.end,
                        None => node.span(),
                    };
                    self.r.error(span, Problem::Template(error));
                }
                None
            }
        }
    }
}

/// Resolves a placeholder name: a variable (maybe with a field) or a handle attribute.
fn resolve_ref(
    name: &str,
    scope: &Scope,
    globals: &super::Globals,
    symbols: &mut super::Symbols,
) -> Result<Ref, TemplateError> {
    let (head, field) = match name.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (name, None),
    };
    match (head, field) {
        ("name", None) => return Ok(Ref::Name),
        ("now", None) => return Ok(Ref::Now),
        ("elapsed", None) => return Ok(Ref::Elapsed),
        ("cancelling", None) => return Ok(Ref::Cancelling),
        _ => {}
    }
    let handle = || -> Option<Target> {
        if scope.has_handle(head) {
            if let Some(d) = globals.task(head).filter(|d| globals.root[*d as usize]) {
                return Some(Target::Root(d));
            }
            return Some(Target::Local(u32::MAX));
        }
        globals.future(head).map(Target::Future)
    };
    if scope.has_var(head) {
        return Ok(Ref::Var(symbols.intern(head), field.map(Into::into)));
    }
    let param = scope
        .params
        .iter()
        .any(|(p, k)| p == head && *k == crate::model::HandleKind::Event);
    let event = match param {
        true => Some(crate::model::PARAM | symbols.intern(head)),
        false => globals.event(head).filter(|_| !scope.has_handle(head)),
    };
    if let Some(e) = event {
        return match field {
            Some("is_set") => Ok(Ref::IsSet(e)),
            _ => Err(TemplateError::EventAttribute {
                event: head.to_owned(),
                placeholder: name.to_owned(),
            }),
        };
    }
    if let Some(b) = globals.barrier(head).filter(|_| !scope.has_handle(head)) {
        return match field.and_then(BarrierAttr::parse) {
            Some(attr) => Ok(Ref::Barrier(b, attr)),
            None => Err(TemplateError::BarrierAttribute {
                barrier: head.to_owned(),
                placeholder: name.to_owned(),
                suggestion: field.and_then(|f| suggest(f, BarrierAttr::NAMES)),
            }),
        };
    }
    if scope.callbacks.iter().any(|c| c == head) && !scope.has_handle(head) {
        return match field {
            Some("cancelled") => Ok(Ref::CallbackCancelled(symbols.intern(head))),
            _ => Err(TemplateError::CallbackAttribute {
                handle: head.to_owned(),
                placeholder: name.to_owned(),
            }),
        };
    }
    if let Some(mut target) = handle() {
        if target == Target::Local(u32::MAX) {
            target = Target::Local(symbols.intern(head));
        }
        let attr = match field {
            None => Attr::Name,
            Some(f) => Attr::parse(f).ok_or_else(|| TemplateError::NoAttribute {
                handle: head.to_owned(),
                attribute: f.to_owned(),
                suggestion: suggest(f, Attr::NAMES),
            })?,
        };
        return Ok(Ref::Attr(target, attr));
    }
    let candidates = scope
        .all_vars()
        .chain(scope.all_handles().map(String::as_str))
        .chain(globals.futures.iter().map(String::as_str))
        .chain(globals.events.iter().map(String::as_str))
        .chain(globals.barriers.iter().map(String::as_str));
    Err(TemplateError::UnknownName {
        name: head.to_owned(),
        placeholder: name.to_owned(),
        suggestion: suggest(head, candidates),
    })
}
