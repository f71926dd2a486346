//! The task graph of a scenario, as Graphviz DOT or a Mermaid flowchart:
//! tasks and their `after` dependencies, which tasks start or call which,
//! and the semaphores, queues, futures, events, barriers and conditions each
//! task uses (a condition points at its lock), and the futures, tasks,
//! queues and semaphores passed to handle parameters.

use crate::model::{Model, Passed, QueueKind, Start, Step, Target, Trigger, param_of};

/// Which notation to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Task(u32),
    Semaphore(u32),
    Queue(u32),
    Future(u32),
    Event(u32),
    Barrier(u32),
    Condition(u32),
    /// A thread pool: 0 is the loop's default executor, then `[executors]`.
    Executor(u32),
}

/// An edge, with its label and whether it is drawn dashed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Edge {
    from: Node,
    to: Node,
    label: String,
    dashed: bool,
}

/// Writes the graph of `model`.
pub(crate) fn render(model: &Model, style: Style) -> String {
    let edges = edges(model);
    let mut nodes: Vec<Node> = (0..model.tasks.len() as u32).map(Node::Task).collect();
    nodes.extend((0..model.semaphores.len() as u32).map(Node::Semaphore));
    nodes.extend((0..model.queues.len() as u32).map(Node::Queue));
    nodes.extend((0..model.futures.len() as u32).map(Node::Future));
    nodes.extend((0..model.events.len() as u32).map(Node::Event));
    nodes.extend((0..model.barriers.len() as u32).map(Node::Barrier));
    nodes.extend((0..model.conditions.len() as u32).map(Node::Condition));
    // The default executor, when some step sends work to it.
    if edges.iter().any(|e| e.to == Node::Executor(0)) {
        nodes.push(Node::Executor(0));
    }
    nodes.extend((1..=model.executors.len() as u32).map(Node::Executor));
    match style {
        Style::Dot => dot(model, &nodes, &edges),
        Style::Mermaid => mermaid(model, &nodes, &edges),
    }
}

fn edges(model: &Model) -> Vec<Edge> {
    let mut out = Vec::new();
    for (i, task) in model.tasks.iter().enumerate() {
        let me = Node::Task(i as u32);
        for up in &task.after {
            let label = match task.trigger {
                Trigger::AllSuccess => "after".to_owned(),
                t => format!("after ({})", t.name()),
            };
            push(&mut out, Node::Task(*up), me, label, false);
        }
        if let Some(sem) = task.limit {
            push(&mut out, me, Node::Semaphore(sem), "limit".into(), false);
        }
        walk(&task.body, me, &mut out);
        walk(&task.on_done, me, &mut out);
    }
    for (i, future) in model.futures.iter().enumerate() {
        walk(&future.on_done, Node::Future(i as u32), &mut out);
    }
    for (i, c) in model.conditions.iter().enumerate() {
        let lock = Node::Semaphore(c.lock);
        push(
            &mut out,
            Node::Condition(i as u32),
            lock,
            "lock".into(),
            true,
        );
    }
    out
}

fn push(out: &mut Vec<Edge>, from: Node, to: Node, label: String, dashed: bool) {
    // A queue or semaphore parameter is no node: the object is the caller's.
    let param = |n: Node| matches!(n, Node::Semaphore(i) | Node::Queue(i) | Node::Event(i) if param_of(i).is_some());
    if param(from) || param(to) {
        return;
    }
    let edge = Edge {
        from,
        to,
        label,
        dashed,
    };
    if !out.contains(&edge) {
        out.push(edge);
    }
}

fn walk(steps: &[Step], me: Node, out: &mut Vec<Edge>) {
    let start = |out: &mut Vec<Edge>, s: &Start, label: &str| {
        push(out, me, Node::Task(s.def), label.into(), true);
        // A future, a task started by itself, a queue or a semaphore, passed
        // to a handle parameter.
        for (_, passed) in &s.handles {
            let from = match passed {
                Passed::Handle(Target::Future(f)) => Node::Future(*f),
                Passed::Handle(Target::Root(d)) => Node::Task(*d),
                // A queue or semaphore (the callee's steps that use it name
                // the parameter, which is no node: see `push`).
                Passed::Queue(q) => Node::Queue(*q),
                Passed::Semaphore(sem) => Node::Semaphore(*sem),
                Passed::Event(e) => Node::Event(*e),
                Passed::Handle(Target::Local(_) | Target::Start(_)) => continue,
            };
            push(out, from, Node::Task(s.def), "passed to".into(), true);
        }
    };
    let target = |out: &mut Vec<Edge>, t: &Target, verb: &str| match t {
        Target::Start(s) => start(out, s, verb),
        Target::Future(f) => push(out, Node::Future(*f), me, verb.into(), false),
        Target::Root(_) | Target::Local(_) => {}
    };
    for step in steps {
        match step {
            Step::Spawn { start: s, bind } if bind.in_task_group => {
                start(out, s, "spawns in a task group")
            }
            Step::Spawn { start: s, .. } => start(out, s, "spawns"),
            Step::Call(s) => start(out, s, "calls"),
            Step::Await(t) => target(out, t, "awaits"),
            Step::WaitFor { target: t, .. } => target(out, t, "wait_for"),
            Step::Gather { targets, .. } => targets.iter().for_each(|t| target(out, t, "gathers")),
            Step::Wait { targets, .. } => targets.iter().for_each(|t| target(out, t, "waits")),
            Step::AsCompleted { targets, .. } => {
                targets.iter().for_each(|t| target(out, t, "as_completed"))
            }
            Step::With { sem, .. } => push(out, me, Node::Semaphore(*sem), "with".into(), false),
            Step::Acquire { sem, .. } => {
                push(out, me, Node::Semaphore(*sem), "acquire".into(), false)
            }
            Step::Put { queue, .. } | Step::PutNowait { queue, .. } => {
                push(out, me, Node::Queue(*queue), "put".into(), false)
            }
            Step::Get(q) | Step::GetNowait(q) | Step::Consume { queue: q, .. } => {
                push(out, Node::Queue(*q), me, "get".into(), false)
            }
            Step::SetResult { future, .. } | Step::SetException { future, .. } => {
                push(out, me, Node::Future(*future), "sets".into(), false)
            }
            Step::Shutdown { queue, .. } => {
                push(out, me, Node::Queue(*queue), "shutdown".into(), false)
            }
            Step::Set(e) => push(out, me, Node::Event(*e), "sets".into(), false),
            Step::Clear(e) => push(out, me, Node::Event(*e), "clears".into(), false),
            Step::WaitEvent(e) => push(out, Node::Event(*e), me, "awaits".into(), false),
            Step::WaitBarrier(b) => push(out, me, Node::Barrier(*b), "waits at".into(), false),
            Step::Abort(b) => push(out, me, Node::Barrier(*b), "aborts".into(), false),
            Step::Reset(b) => push(out, me, Node::Barrier(*b), "resets".into(), false),
            Step::WaitCondition { cond, until } => {
                let label = if until.is_some() { "wait_for" } else { "wait" };
                push(out, Node::Condition(*cond), me, label.into(), false)
            }
            Step::Notify { cond, .. } => {
                push(out, me, Node::Condition(*cond), "notify".into(), false)
            }
            Step::NotifyAll(cond) => {
                push(out, me, Node::Condition(*cond), "notify_all".into(), false)
            }
            Step::Thread(w) => {
                let pool = crate::executor::Pools::index(w.executor);
                push(out, me, Node::Executor(pool), w.verb().key().into(), false)
            }
            // What its callback does, the scheduler does (as a task's `on_done`).
            Step::Schedule(s) => walk(&s.body, me, out),
            // No edge of their own (their blocks' steps are walked below).
            Step::Sleep(_)
            | Step::Block(_)
            | Step::Log(_)
            | Step::Fail { .. }
            | Step::Return(_)
            | Step::Timeout { .. }
            | Step::Cancel { .. }
            | Step::Uncancel
            | Step::Try(_)
            | Step::TaskGroup { .. }
            | Step::Release(_)
            | Step::TaskDone(_)
            | Step::Join(_)
            | Step::Repeat { .. }
            | Step::Forever(_)
            | Step::For { .. }
            | Step::Each { .. }
            | Step::Check { .. }
            | Step::CancelCallback(_)
            | Step::Reraise
            | Step::Break => {}
        }
        for body in step.children() {
            walk(body, me, out);
        }
    }
}

fn label(model: &Model, node: Node) -> String {
    match node {
        Node::Task(i) => {
            let t = &model.tasks[i as usize];
            if t.count > 1 {
                format!("{} x{}", t.name, t.count)
            } else {
                t.name.clone()
            }
        }
        Node::Semaphore(i) => {
            let s = &model.semaphores[i as usize];
            format!("{} ({} permits)", s.name, s.permits)
        }
        Node::Queue(i) => {
            let q = &model.queues[i as usize];
            // A LIFO or priority queue says so; a plain one stays as it was.
            let kind = match q.kind {
                QueueKind::Fifo => String::new(),
                kind => format!("{}, ", kind.name()),
            };
            match q.capacity {
                Some(c) => format!("{} ({kind}capacity {c})", q.name),
                None => format!("{} ({kind}unbounded)", q.name),
            }
        }
        Node::Future(i) => model.futures[i as usize].name.clone(),
        Node::Event(i) => format!("{} (event)", model.events[i as usize].name),
        Node::Barrier(i) => {
            let b = &model.barriers[i as usize];
            format!("{} (barrier of {})", b.name, b.parties)
        }
        Node::Condition(i) => format!("{} (condition)", model.conditions[i as usize].name),
        Node::Executor(0) => format!("default executor ({} workers)", model.workers(None)),
        Node::Executor(i) => {
            let e = &model.executors[i as usize - 1];
            format!("{} (executor of {} workers)", e.name, e.workers)
        }
    }
}

fn id(node: Node) -> String {
    match node {
        Node::Task(i) => format!("t{i}"),
        Node::Semaphore(i) => format!("s{i}"),
        Node::Queue(i) => format!("q{i}"),
        Node::Future(i) => format!("f{i}"),
        Node::Event(i) => format!("e{i}"),
        Node::Barrier(i) => format!("b{i}"),
        Node::Condition(i) => format!("c{i}"),
        Node::Executor(i) => format!("x{i}"),
    }
}

/// Text inside double quotes, for DOT and Mermaid alike.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "#quot;")
}

fn dot(model: &Model, nodes: &[Node], edges: &[Edge]) -> String {
    let name = if model.name.is_empty() {
        "scenario"
    } else {
        &model.name
    };
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        quoted(name).replace("#quot;", "\\\"")
    );
    for node in nodes {
        let shape = match node {
            Node::Task(_) => "box, style=rounded",
            Node::Semaphore(_) => "hexagon",
            Node::Queue(_) => "cylinder",
            Node::Future(_) => "ellipse, style=dashed",
            Node::Event(_) => "octagon",
            Node::Barrier(_) => "doubleoctagon",
            Node::Condition(_) => "doubleoctagon",
            Node::Executor(_) => "box3d",
        };
        let label = quoted(&label(model, *node)).replace("#quot;", "\\\"");
        out.push_str(&format!(
            "  {} [shape={shape}, label=\"{label}\"];\n",
            id(*node)
        ));
    }
    for e in edges {
        let style = if e.dashed { ", style=dashed" } else { "" };
        out.push_str(&format!(
            "  {} -> {} [label=\"{}\"{style}];\n",
            id(e.from),
            id(e.to),
            e.label
        ));
    }
    out.push_str("}\n");
    out
}

fn mermaid(model: &Model, nodes: &[Node], edges: &[Edge]) -> String {
    let mut out = String::from("flowchart LR\n");
    for node in nodes {
        let l = quoted(&label(model, *node));
        let shape = match node {
            Node::Task(_) => format!("[\"{l}\"]"),
            Node::Semaphore(_) => format!("{{{{\"{l}\"}}}}"),
            Node::Queue(_) => format!("[(\"{l}\")]"),
            Node::Future(_) => format!("((\"{l}\"))"),
            Node::Event(_) => format!(">\"{l}\"]"),
            Node::Barrier(_) => format!("[/\"{l}\"\\]"),
            Node::Condition(_) => format!("[/\"{l}\"/]"),
            Node::Executor(_) => format!("[[\"{l}\"]]"),
        };
        out.push_str(&format!("  {}{shape}\n", id(*node)));
    }
    for e in edges {
        let arrow = if e.dashed { "-.->" } else { "-->" };
        let arrow = format!("{arrow}|\"{}\"|", quoted(&e.label));
        out.push_str(&format!("  {} {arrow} {}\n", id(e.from), id(e.to)));
    }
    out
}
