//! Invariants over generated scenarios: whatever tasks, semaphores and queues
//! (FIFO or LIFO, and priority) a file has, the permits in use and queue
//! depths, counted from the trace's own acquire/release and put/get events
//! (not read from the semaphore or the queue), agree with the gauges, never pass their bounds and come back to 0
//! when every task ended; time never goes back, every task ends in at
//! most one final state (and the summary counts agree), the same seed
//! gives the same trace, and a step limit cuts the trace without changing
//! what came before it; the critical path runs without a gap from the start
//! to the last task's end, through hand-offs the trace shows.

mod common;

use proptest::prelude::*;
use scenario_run::{ExitCode, Format, Limits, Options, render_to_string};
use serde_json::Value;

/// One generated step, written out as TOML.
#[derive(Clone, Debug)]
enum Gen {
    Sleep(u32),
    Uniform(u32, u32),
    Log,
    With(u8, Vec<Gen>),
    AcquireRelease(u8, u32),
    Put(u8),
    Get(u8),
    Fail(u8),
    SpawnAwait,
    SpawnGather(u8),
    WaitFor(u32),
    Timeout(u32, Vec<Gen>),
    Try(Vec<Gen>),
    SpawnCancel(u32),
}

fn step() -> impl Strategy<Value = Gen> {
    let leaf = prop_oneof![
        (0u32..2000).prop_map(Gen::Sleep),
        (0u32..1000, 0u32..1000).prop_map(|(a, b)| Gen::Uniform(a.min(b), a.max(b))),
        Just(Gen::Log),
        (0u8..2, 0u32..500).prop_map(|(s, d)| Gen::AcquireRelease(s, d)),
        (0u8..2).prop_map(Gen::Put),
        (0u8..2).prop_map(Gen::Get),
        (0u8..=100).prop_map(Gen::Fail),
        Just(Gen::SpawnAwait),
        (1u8..4).prop_map(Gen::SpawnGather),
        (0u32..1500).prop_map(Gen::WaitFor),
        (0u32..600).prop_map(Gen::SpawnCancel),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (0u8..2, prop::collection::vec(inner.clone(), 1..4)).prop_map(|(s, b)| Gen::With(s, b)),
            (1u32..2000, prop::collection::vec(inner.clone(), 1..4))
                .prop_map(|(t, b)| Gen::Timeout(t, b)),
            prop::collection::vec(inner, 1..4).prop_map(Gen::Try),
        ]
    })
}

fn write_steps(steps: &[Gen]) -> String {
    let items: Vec<String> = steps.iter().map(write_step).collect();
    format!("[{}]", items.join(", "))
}

fn write_step(step: &Gen) -> String {
    match step {
        Gen::Sleep(ms) => format!("{{ sleep = \"{ms}ms\" }}"),
        Gen::Uniform(a, b) => format!("{{ sleep = {{ uniform = [\"{a}ms\", \"{b}ms\"] }} }}"),
        Gen::Log => "{ log = \"{name} at {now}\" }".into(),
        Gen::With(s, body) => format!("{{ with = \"s{s}\", do = {} }}", write_steps(body)),
        Gen::AcquireRelease(s, ms) => {
            format!("{{ acquire = \"s{s}\" }}, {{ sleep = \"{ms}ms\" }}, {{ release = \"s{s}\" }}")
        }
        // q1 is a priority queue: its priorities are the replica indices.
        Gen::Put(0) => "{ put = \"q0\", item = \"{name}\" }".into(),
        Gen::Put(q) => format!("{{ put = \"q{q}\", item = \"{{name}}\", priority = \"{{i}}\" }}"),
        Gen::Get(q) => format!("{{ get = \"q{q}\" }}"),
        Gen::Fail(p) => format!("{{ fail = \"boom\", chance = {} }}", *p as f64 / 100.0),
        Gen::SpawnAwait => "{ spawn = \"helper\", as = \"h\" }, { await = \"h\" }".into(),
        Gen::SpawnGather(n) => format!(
            "{{ spawn = \"helper\", count = {n}, as = \"g\" }}, {{ gather = \"g\", return_exceptions = true }}"
        ),
        Gen::WaitFor(ms) => {
            format!("{{ wait_for = \"helper\", timeout = \"{ms}ms\" }}")
        }
        Gen::Timeout(ms, body) => {
            format!("{{ timeout = \"{ms}ms\", do = {} }}", write_steps(body))
        }
        Gen::SpawnCancel(ms) => format!(
            "{{ spawn = \"helper\", as = \"c\" }}, {{ sleep = \"{ms}ms\" }}, {{ cancel = \"c\" }}"
        ),
        Gen::Try(body) => format!(
            "{{ try = {}, except = [{{ log = \"caught {{error}}\" }}] }}",
            write_steps(body)
        ),
    }
}

/// A whole scenario: two semaphores, two queues (a FIFO or LIFO one, and a
/// priority one), a helper and some roots.
fn scenario() -> impl Strategy<Value = String> {
    (
        1u32..4,
        1u32..3,
        0u32..3,
        1u32..4,
        prop::sample::select(vec!["fifo", "lifo"]),
        prop::collection::vec((1u32..4, prop::collection::vec(step(), 1..6)), 1..4),
        any::<u64>(),
    )
        .prop_map(|(p0, p1, c0, c1, kind, roots, seed)| {
            let mut toml = format!(
                "[scenario]\nseed = {}\n\n[semaphores]\ns0 = {p0}\ns1 = {p1}\n\n[queues]\nq0 = {{ capacity = {c0}, kind = \"{kind}\" }}\nq1 = {{ capacity = {c1}, kind = \"priority\" }}\n\n[tasks.helper]\nsteps = [{{ sleep = {{ uniform = [\"0ms\", \"800ms\"] }} }}, {{ fail = \"oops\", chance = 0.2 }}, {{ return = \"{{name}}\" }}]\n",
                seed >> 1
            );
            for (i, (count, steps)) in roots.iter().enumerate() {
                toml.push_str(&format!(
                    "\n[tasks.t{i}]\ncount = {count}\ndaemon = {}\nsteps = {}\n",
                    i % 2 == 0,
                    write_steps(steps)
                ));
            }
            toml
        })
}

fn run(text: &str) -> (String, ExitCode) {
    run_limited(text, 200_000)
}

fn run_limited(text: &str, steps: u64) -> (String, ExitCode) {
    let options = Options {
        format: Format::Jsonl,
        limits: Limits {
            steps,
            ..Limits::default()
        },
        ..Options::default()
    };
    render_to_string("generated.toml", text, &options)
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let (trace, code) = run(text);
    prop_assert_ne!(
        code,
        ExitCode::Invalid,
        "generated an invalid file:\n{}\n{}",
        text,
        trace
    );
    let events: Vec<Value> = trace
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let mut last = 0;
    // Permits in use and queue depths, counted from the events themselves.
    let mut levels = common::levels::Levels::default();
    let mut finals: std::collections::BTreeMap<String, u32> = Default::default();
    for e in &events[1..events.len() - 1] {
        let time = e["time_ns"].as_u64().expect("events have times");
        prop_assert!(time >= last, "time went back: {} after {}", time, last);
        last = time;
        let (task, kind) = (e["task"].as_str().unwrap(), e["kind"].as_str().unwrap());
        match kind {
            "created" => {
                prop_assert!(
                    finals.insert(task.to_owned(), 0).is_none(),
                    "{} created twice",
                    task
                );
            }
            "done" | "failed" | "cancelled" => {
                let n = finals
                    .get_mut(task)
                    .expect("a task ends after it was created");
                *n += 1;
                prop_assert_eq!(*n, 1, "{} ended twice", task);
            }
            _ => {}
        }
        if let Err(why) = levels.feed(e) {
            return Err(TestCaseError::fail(format!("{why}\n{text}")));
        }
    }
    let summary = events.last().unwrap();
    prop_assert_eq!(summary["kind"].as_str(), Some("summary"));
    for s in summary["semaphores"].as_array().unwrap() {
        prop_assert!(s["peak"].as_u64() <= s["permits"].as_u64(), "{}", s);
    }
    for q in summary["queues"].as_array().unwrap() {
        if let Some(cap) = q["capacity"].as_u64() {
            prop_assert!(q["peak"].as_u64().unwrap() <= cap, "{}", q);
        }
    }
    // A bare `acquire` whose `release` a timeout, cancellation or failure
    // skips keeps its permit, as in asyncio: only `with` always gives back.
    let all_ended = summary["tasks"]["pending"].as_u64() == Some(0) && summary["stopped"].is_null();
    if all_ended
        && !text.contains("{ acquire =")
        && let Err(why) = levels.all_back()
    {
        return Err(TestCaseError::fail(format!("{why}\n{text}")));
    }
    let tasks = &summary["tasks"];
    let ended = finals.values().filter(|n| **n == 1).count() as u64;
    let counted = ["done", "failed", "cancelled"]
        .iter()
        .map(|k| tasks[k].as_u64().unwrap());
    prop_assert_eq!(counted.sum::<u64>(), ended);
    prop_assert_eq!(
        tasks["pending"].as_u64().unwrap(),
        finals.len() as u64 - ended,
        "every task is either finished or left waiting"
    );
    critical_path_agrees_with_the_trace(&events, summary).map_err(|why| {
        TestCaseError::fail(format!(
            "critical path: {why}\n{text}\n{}",
            summary["critical_path"]
        ))
    })?;
    let again = run(text);
    prop_assert_eq!(&again.0, &trace, "same seed, different trace");
    // A run cut short by the step limit told what the whole run tells, up
    // to where it stopped: the limit ends the trace, it changes nothing
    // before.
    let steps = 5 + text.len() as u64 % 40;
    let (short, _) = run_limited(text, steps);
    let events_of = |trace: &str| -> Vec<String> {
        let lines: Vec<&str> = trace.lines().collect();
        // Past the header, before the summary.
        lines[1..lines.len() - 1]
            .iter()
            .map(|l| l.to_string())
            .collect()
    };
    let (short, whole) = (events_of(&short), events_of(&trace));
    prop_assert!(
        short.len() <= whole.len() && short[..] == whole[..short.len()],
        "the step limit changed the trace before it stopped the run:\n{}",
        text
    );
    Ok(())
}

/// The critical path, checked against the trace's own events: its links
/// follow each other without a gap from the start to the run's last event;
/// each link's task lived through it; each hand-off it names happened then
/// (the starter created it, the awaited task ended, the permit was
/// released, the item put).
fn critical_path_agrees_with_the_trace(events: &[Value], summary: &Value) -> Result<(), String> {
    let body = &events[1..events.len() - 1];
    let at = |e: &Value| e["time_ns"].as_u64().unwrap();
    let finals = ["done", "failed", "cancelled", "skipped"];
    let last_end = body
        .iter()
        .filter(|e| finals.contains(&e["kind"].as_str().unwrap()))
        .map(at)
        .max();
    let last_event = body.iter().map(at).max();
    let path = &summary["critical_path"];
    let Some(last_event) = last_event else {
        return match path.is_null() {
            true => Ok(()),
            false => Err("a path, though nothing happened".into()),
        };
    };
    let links = path["links"]
        .as_array()
        .ok_or("no path, though tasks ran")?;
    let happened = |task: &str, kinds: &[&str], t: u64, detail: Option<&str>| {
        body.iter().any(|e| {
            e["task"] == task
                && kinds.contains(&e["kind"].as_str().unwrap())
                && at(e) == t
                && detail.is_none_or(|d| e["detail"] == d)
        })
    };
    let mut cursor = 0;
    let mut total = 0;
    for l in links {
        let (task, from, to) = (
            l["task"].as_str().unwrap(),
            l["from_ns"].as_u64().unwrap(),
            l["to_ns"].as_u64().unwrap(),
        );
        if from != cursor || to < from {
            return Err(format!(
                "a gap or overlap at {task} {from}..{to} after {cursor}"
            ));
        }
        cursor = to;
        total += to - from;
        let created = body
            .iter()
            .find(|e| e["task"] == task && e["kind"] == "created")
            .map(at);
        let ended = body
            .iter()
            .find(|e| e["task"] == task && finals.contains(&e["kind"].as_str().unwrap()))
            .map(at);
        if created.is_none_or(|c| c > from) || ended.is_some_and(|e| e < to) {
            return Err(format!("{task} did not live through {from}..{to}"));
        }
        let Some(after) = l["after"].as_str() else {
            continue;
        };
        let ok = if let Some(by) = after.strip_prefix("started by ") {
            happened(task, &["created"], from, Some(&format!("by {by}")))
        } else if let Some(by) = after.strip_suffix(" finished") {
            happened(by, &finals, from, None)
        } else if let Some((_, by)) = after
            .strip_prefix("a permit of ")
            .and_then(|rest| rest.split_once(" from "))
        {
            // Released, or acquired while a permit was free: asyncio
            // then wakes the next waiter.
            happened(by, &["released", "acquired"], from, None)
        } else if let Some((_, by)) = after
            .strip_prefix("an item of ")
            .and_then(|rest| rest.split_once(" from "))
        {
            happened(by, &["put"], from, None)
        } else {
            true
        };
        if !ok {
            return Err(format!("{task} at {from}: no trace of `{after}`"));
        }
    }
    // It ends with the run's last step: at the makespan, after every event
    // (a step may show none: a get from an empty queue); a run stopped by a
    // limit may have its last events after its last full step.
    let makespan = summary["makespan_ns"].as_u64().unwrap();
    let stopped = !summary["stopped"].is_null();
    if cursor > makespan
        || (!stopped && (cursor != makespan || cursor < last_event))
        || last_end.is_some_and(|end| cursor < end.min(makespan))
    {
        return Err(format!(
            "ends at {cursor}, the makespan {makespan}, the last task at {last_end:?}, the last event at {last_event}"
        ));
    }
    let by_definition: u64 = path["by_definition"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ns"].as_u64().unwrap())
        .sum();
    if by_definition != total {
        return Err(format!(
            "the tasks' shares add up to {by_definition}, the links to {total}"
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_for_generated_scenarios(text in scenario()) {
        check(&text)?;
    }
}
