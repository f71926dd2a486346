//! Checks that need every task at once: tasks that start themselves without
//! end (a cycle of `spawn`/`call`/started targets), cycles of `after`,
//! `release` steps with no `acquire` before them, and ambiguous handles.

use crate::verb::{Names, Verb};
use std::ops::Range;

use toml::de::DeValue;

use super::reader::{Entries, Node, entries};
use super::scope::{Scope, walk};
use crate::diagnostic::Diagnostic;
use crate::problem::Problem;

/// The raw pieces of one task the checks look at.
pub(crate) struct TaskNode<'a, 'd> {
    pub(crate) name: &'a str,
    pub(crate) steps: Option<&'a Node<'d>>,
    pub(crate) after: Option<&'a Node<'d>>,
    pub(crate) scope: &'a Scope,
}

/// A name in a step, and where it is written.
type Named = (String, Range<usize>);

fn strings(node: Option<&Node<'_>>) -> Vec<Named> {
    match node.map(|n| (n.get_ref(), n.span())) {
        Some((DeValue::String(s), span)) => vec![(s.to_string(), span)],
        Some((DeValue::Array(items), _)) => items
            .iter()
            .filter_map(|i| match i.get_ref() {
                DeValue::String(s) => Some((s.to_string(), i.span())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The task definitions a body starts, in file order, with where it says so.
fn starts(task: &TaskNode<'_, '_>) -> Vec<Named> {
    let mut out = Vec::new();
    let Some(steps) = task.steps else { return out };
    walk(steps, &mut |step: &Entries<'_, '_>| {
        for verb in Verb::ALL {
            let always = match verb.about().names {
                Names::Nothing => continue,
                Names::Starts => true,
                Names::Targets => false,
            };
            for (name, span) in strings(step.get(verb.key())) {
                if always || !task.scope.has_handle(&name) {
                    out.push((name, span));
                }
            }
        }
    });
    out
}

/// One problem per cycle of tasks starting each other, named in order.
pub(crate) fn start_cycles(tasks: &[TaskNode<'_, '_>]) -> Vec<Diagnostic> {
    let edges = edges(tasks, starts);
    cycles(&edges)
        .into_iter()
        .map(|(cycle, span)| {
            let names = cycle.iter().map(|i| tasks[*i].name.to_owned()).collect();
            Diagnostic::new(span, Problem::StartCycle { names })
        })
        .collect()
}

/// One problem per cycle of `after` dependencies, named in order.
pub(crate) fn after_cycles(tasks: &[TaskNode<'_, '_>]) -> Vec<Diagnostic> {
    let edges = edges(tasks, |t| strings(t.after));
    cycles(&edges)
        .into_iter()
        .map(|(cycle, span)| {
            let names = cycle.iter().map(|i| tasks[*i].name.to_owned()).collect();
            Diagnostic::new(span, Problem::AfterCycle { names })
        })
        .collect()
}

/// Per task, the tasks `named` names (by index), with where.
fn edges(
    tasks: &[TaskNode<'_, '_>],
    named: impl Fn(&TaskNode<'_, '_>) -> Vec<Named>,
) -> Vec<Vec<(usize, Range<usize>)>> {
    let by_name = name_index(tasks);
    let index = |name: &str| by_name.get(name).copied();
    tasks
        .iter()
        .map(|t| {
            named(t)
                .into_iter()
                .filter_map(|(n, span)| Some((index(&n)?, span)))
                .collect()
        })
        .collect()
}

/// Task name to index (the first of equal names), looked up only.
fn name_index<'a>(tasks: &[TaskNode<'a, '_>]) -> std::collections::HashMap<&'a str, usize> {
    let mut index = std::collections::HashMap::with_capacity(tasks.len());
    for (i, t) in tasks.iter().enumerate() {
        index.entry(t.name).or_insert(i);
    }
    index
}

/// Each cycle once (from the first task in it), with the span that closes it.
///
/// Only a task in a strongly connected component with a cycle can be on
/// one, and its cycles stay inside that component: the searches are
/// confined to it, so a file of many tasks without cycles costs linear time.
fn cycles(edges: &[Vec<(usize, Range<usize>)>]) -> Vec<(Vec<usize>, Range<usize>)> {
    let component = super::components::strongly_connected(edges);
    let mut size = vec![0usize; edges.len()];
    component.iter().for_each(|c| size[*c] += 1);
    let cyclic = |i: usize| size[component[i]] > 1 || edges[i].iter().any(|(to, _)| *to == i);
    let mut reported = vec![false; edges.len()];
    let mut search = Search::new(edges.len());
    let mut out = Vec::new();
    for start in 0..edges.len() {
        if reported[start] || !cyclic(start) {
            continue;
        }
        if let Some((cycle, span)) = search.cycle_through(start, edges, &component) {
            cycle.iter().for_each(|i| reported[*i] = true);
            out.push((cycle, span));
        }
    }
    out
}

/// Breadth-first search state reused across searches: a node is seen in
/// the current search when its stamp is the search's.
struct Search {
    stamp: Vec<u32>,
    parent: Vec<usize>,
    now: u32,
}

impl Search {
    fn new(n: usize) -> Search {
        Search {
            stamp: vec![0; n],
            parent: vec![usize::MAX; n],
            now: 0,
        }
    }

    /// The shortest way back to `start` (by breadth-first search, within
    /// its component), and the span of the step that closes it.
    fn cycle_through(
        &mut self,
        start: usize,
        edges: &[Vec<(usize, Range<usize>)>],
        component: &[usize],
    ) -> Option<(Vec<usize>, Range<usize>)> {
        self.now += 1;
        let mut queue = std::collections::VecDeque::from([start]);
        self.parent[start] = usize::MAX;
        while let Some(at) = queue.pop_front() {
            for (to, span) in &edges[at] {
                if *to == start {
                    let mut path = vec![at];
                    let mut p = self.parent[at];
                    while p != usize::MAX {
                        path.push(p);
                        p = self.parent[p];
                    }
                    path.reverse();
                    path.push(start);
                    return Some((path, span.clone()));
                }
                if component[*to] == component[start] && self.stamp[*to] != self.now {
                    self.stamp[*to] = self.now;
                    self.parent[*to] = at;
                    queue.push_back(*to);
                }
            }
        }
        None
    }
}

/// The raw task nodes, paired with their scopes.
pub(crate) fn task_nodes<'a, 'd>(
    tasks: &'a Entries<'a, 'd>,
    scopes: &'a [Scope],
) -> Vec<TaskNode<'a, 'd>> {
    tasks
        .items
        .iter()
        .zip(scopes)
        .map(|((name, _, node), scope)| {
            let table = match node.get_ref() {
                DeValue::Table(t) => Some(entries(t)),
                _ => None,
            };
            TaskNode {
                name,
                steps: table.as_ref().and_then(|t| t.get("steps")),
                after: table.as_ref().and_then(|t| t.get("after")),
                scope,
            }
        })
        .collect()
}

/// Handles (`as`, `into`) named like a task, a future, an event or a
/// barrier: a step
/// naming one could mean either.
pub(crate) fn handle_clashes(
    tasks: &[TaskNode<'_, '_>],
    globals: &super::scope::Globals,
) -> Vec<Diagnostic> {
    let by_name = name_index(tasks);
    let mut out = Vec::new();
    for task in tasks {
        let Some(steps) = task.steps else { continue };
        walk(steps, &mut |step| {
            for key in ["as", "into"] {
                for (name, span) in strings(step.get(key)) {
                    let kind = if by_name.contains_key(name.as_str()) {
                        "task"
                    } else if globals.future(&name).is_some() {
                        "future"
                    } else if globals.event(&name).is_some() {
                        "event"
                    } else if globals.barrier(&name).is_some() {
                        "barrier"
                    } else {
                        continue;
                    };
                    out.push(Diagnostic::new(
                        span,
                        Problem::HandleClash {
                            name: name.to_string(),
                            kind,
                        },
                    ));
                }
            }
        });
    }
    out
}
