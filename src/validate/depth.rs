//! How deep a task's steps run on the native stack: a `call` runs the
//! called task's steps inside the caller's, and each nested block (`do`,
//! `try`, `forever`...) is one level more. A chain of calls thousands long
//! would overflow the stack, so the depth is bounded and checked here, in
//! time linear in the file (no recursion over the chain).

use std::collections::HashMap;
use std::ops::Range;

use toml::de::DeValue;

use super::graph::TaskNode;
use super::reader::entries;
use super::scope::NESTED;
use crate::diagnostic::Diagnostic;
use crate::problem::Problem;

/// The most levels of nested blocks and `call`s a task may run through.
pub(crate) const MAX_DEPTH: u32 = 100;

/// What one task's body says about depth: its deepest block, and each
/// `call` with the level it is written at.
struct Body {
    deepest: u32,
    calls: Vec<(u32, usize, Range<usize>)>,
}

/// One problem for the first task (in file order) whose steps would run
/// more than [`MAX_DEPTH`] levels deep, located at the step that goes deepest.
pub(crate) fn too_deep(tasks: &[TaskNode<'_, '_>]) -> Option<Diagnostic> {
    let mut index = HashMap::with_capacity(tasks.len());
    for (i, t) in tasks.iter().enumerate() {
        index.entry(t.name).or_insert(i);
    }
    let bodies: Vec<Body> = tasks.iter().map(|t| body(t, &index)).collect();
    let depth = depths(&bodies);
    let (i, d) = depth.iter().enumerate().find(|(_, d)| **d > MAX_DEPTH)?;
    // The step that goes deepest: the call whose chain is longest, or the
    // task's deepest block.
    let via = bodies[i]
        .calls
        .iter()
        .max_by_key(|(level, callee, _)| level + depth[*callee])
        .filter(|(level, callee, _)| level + depth[*callee] >= bodies[i].deepest);
    let span = match via {
        Some((_, _, span)) => span.clone(),
        None => tasks[i].steps.map_or(0..0, |s| s.span()),
    };
    let callee = via.map(|(_, callee, _)| tasks[*callee].name.to_owned());
    Some(Diagnostic::new(
        span,
        Problem::TooDeep {
            task: tasks[i].name.to_owned(),
            depth: *d,
            max: MAX_DEPTH,
            callee,
        },
    ))
}

/// A task's deepest block and its calls (to known tasks), by level from 1.
fn body(task: &TaskNode<'_, '_>, index: &HashMap<&str, usize>) -> Body {
    let mut b = Body {
        deepest: 0,
        calls: Vec::new(),
    };
    if let Some(steps) = task.steps {
        walk(steps, 1, index, &mut b);
    }
    b
}

fn walk(steps: &super::reader::Node<'_>, level: u32, index: &HashMap<&str, usize>, b: &mut Body) {
    let DeValue::Array(items) = steps.get_ref() else {
        return;
    };
    for item in items.iter() {
        let DeValue::Table(table) = item.get_ref() else {
            continue;
        };
        b.deepest = b.deepest.max(level);
        let step = entries(table);
        if let Some(call) = step.get("call")
            && let DeValue::String(name) = call.get_ref()
            && let Some(callee) = index.get(&**name)
        {
            b.calls.push((level, *callee, item.span()));
        }
        for key in NESTED.iter().chain(&["call_soon"]) {
            if let Some(inner) = step.get(key) {
                walk(inner, level + 1, index, b);
            }
        }
    }
}

/// Per task, the depth its steps run at: its deepest block, or a call's
/// level plus the called task's depth. Computed callees first, with an
/// explicit stack; a cycle of calls (reported elsewhere) counts once.
fn depths(bodies: &[Body]) -> Vec<u32> {
    const UNSEEN: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![UNSEEN; bodies.len()];
    let mut depth = vec![0u32; bodies.len()];
    for root in 0..bodies.len() {
        if state[root] != UNSEEN {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = OPEN;
        while let Some((at, next)) = stack.last_mut() {
            let at = *at;
            if let Some((_, callee, _)) = bodies[at].calls.get(*next) {
                *next += 1;
                if state[*callee] == UNSEEN {
                    state[*callee] = OPEN;
                    stack.push((*callee, 0));
                }
                continue;
            }
            let b = &bodies[at];
            let via_calls = b
                .calls
                .iter()
                .map(|(level, callee, _)| level.saturating_add(depth[*callee]))
                .max()
                .unwrap_or(0);
            depth[at] = b.deepest.max(via_calls);
            state[at] = DONE;
            stack.pop();
        }
    }
    depth
}
