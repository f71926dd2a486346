//! Generated differential cases: random valid scenarios that mix the verbs
//! the exporter writes (spawn, await, gather with and without
//! return_exceptions, wait in every mode with timeouts, wait_for with and
//! without shield, timeout and timeout_at blocks, cancels, try/except/finally, semaphores (a priority one and a preemptive one, with lines of waiters at tied and crossing priorities, some timing out, some preempted),
//! bounded queues of every kind (FIFO, LIFO, priority with ties and mixed
//! integer and float priorities) with several getters and putters, futures
//! and tasks with callbacks, events set, cleared and awaited (by tasks and by
//! a future's callback), barriers waited at (bounded by timeouts, caught
//! broken), aborted and reset, conditions waited on (with and without a
//! predicate) and notified, the loop's callbacks (`call_soon`, `call_later`,
//! `call_at`, named and cancelled, raising), loops, failures with a chance and a class, `catch`
//! and `retry_on` by class, bare re-raises, `raise ... from` (`{error.cause}` read), task groups (nested, inside `try`,
//! with failing and cancelled children, spawns into them from nested blocks)
//! and `except_star`), `as_completed` (with timeouts and `break`) in half of
//! the cases, work in thread pools (`to_thread`, `run_in_executor` on the
//! default executor of a drawn `cpu` or on a pool of 1 or 2 workers, queued
//! while they are busy, returning or raising) in another half, and, in a quarter of the cases (those that follow
//! CPython 3.13, compared on 3.13 only), `Queue.shutdown` (immediate or not),
//! gets and puts that catch `QueueShutDown`, and joins, with ties at equal
//! instants on purpose.
//! Each is run by scenario-run and, exported, by CPython under the virtual
//! clock; the logged lines and their nanoseconds must agree.
//!
//! CI runs `GENERATED_CASES` cases (default 300) from `GENERATED_SEED`
//! (default 1). Any number, on every CPython found:
//!
//! ```sh
//! GENERATED_CASES=100000 cargo test --release --test generated -- --nocapture
//! ```
//!
//! A divergence prints the scenario and the diff, and leaves the scenario
//! in the temporary folder it names.

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

mod common;

use common::cpython::interpreters;
use scenario_run::{Format, Options, Python, export_python, render_to_string};

/// SplitMix64: the cases depend only on the seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Few durations, so that instants tie often.
const DELAYS: [&str; 6] = ["0s", "100ms", "100ms", "200ms", "300ms", "1s"];

struct Scenario {
    tasks: usize,
    with_main: bool,
    capacity: usize,
    /// The queue's kind: `fifo`, `lifo` or `priority`.
    kind: &'static str,
    /// The case follows CPython 3.13 (and is compared there only): it may
    /// shut its queue down.
    v313: bool,
    /// The case may iterate `as_completed`.
    as_completed: bool,
    /// The case creates its tasks eagerly: a spawn is followed by a log,
    /// which shows whether the new task's first steps ran inside it.
    eager: bool,
    /// The case may send work to thread pools.
    threads: bool,
    /// The case may pass a task's handle to `k0`, which takes it as a
    /// handle parameter.
    handles: bool,
}

/// Priorities, with ties, an integer equal to a float, and a placeholder.
const PRIORITIES: [&str; 8] = ["0", "1", "1", "2", "2.0", "1.5", "-1", "\"{i}\""];

/// What one task body may name while it is written.
struct Body {
    task: usize,
    /// Handles spawned so far: (name, holds one task).
    handles: Vec<(String, bool)>,
    lines: usize,
    /// Items put so far, so that each item says which put it was.
    puts: usize,
    /// The task groups the step being written is inside.
    groups: Vec<String>,
    /// Task groups opened so far (for their names).
    opened: usize,
    /// Handles of the callbacks scheduled so far (`call_* ... as`).
    callbacks: Vec<String>,
    /// Whether it starts `k0`, passing it a handle, and `k1`, passing it a
    /// semaphore and the queue.
    passes: bool,
    passes_objects: bool,
    /// Whether it starts `k2`, passing it a list of tasks (a group).
    passes_group: bool,
}

/// Whether case `seed` follows CPython 3.13 only (decided apart from its
/// draws, so the other cases stay what they were).
fn v313(seed: u64) -> bool {
    seed.is_multiple_of(4)
}

/// Whether case `seed` creates its tasks eagerly (`eager_tasks`, 3.12+,
/// so it is not compared on 3.11): a third of the cases, decided by bits
/// of the seed no other rule reads (`v313` reads bits 0 and 1,
/// `as_completed` bit 1), apart from the draws as `v313`.
fn eager(seed: u64) -> bool {
    (seed >> 3).is_multiple_of(3)
}

fn scenario(g: &mut Gen, v313: bool, seed_bits: u64) -> String {
    let s = Scenario {
        tasks: 2 + g.below(4),
        with_main: g.chance(50),
        // 0 is unbounded; a few items at once let LIFO and priority order show.
        capacity: g.below(4),
        kind: g.pick(&["fifo", "lifo", "priority"]),
        v313,
        // Decided apart from the draws, as `v313`.
        // Not with eager tasks: those it starts are done before the loop
        // begins, and come out in a Python set's order.
        as_completed: seed_bits & 2 != 0 && !eager(seed_bits),
        eager: eager(seed_bits),
        threads: seed_bits & 4 != 0,
        handles: seed_bits & 32 != 0,
    };
    let mut out = String::new();
    let _ = writeln!(out, "[scenario]");
    if s.v313 {
        let _ = writeln!(out, "python = \"3.13\"");
    }
    if s.eager {
        let _ = writeln!(out, "eager_tasks = true");
    }
    let _ = writeln!(out, "seed = {}", g.below(1000));
    if s.with_main {
        let _ = writeln!(out, "main = \"t0\"");
    }
    let _ = writeln!(out, "\n[semaphores]\npool = {}", 1 + g.below(2));
    let _ = writeln!(out, "gate = {{ permits = 1, kind = \"bounded\" }}");
    let _ = writeln!(out, "lk = {{ kind = \"lock\" }}");
    let _ = writeln!(
        out,
        "ps = {{ permits = {}, kind = \"priority\" }}",
        1 + g.below(2)
    );
    let _ = writeln!(out, "pp = {{ permits = 1, kind = \"preemptive\" }}");
    let _ = writeln!(
        out,
        "\n[queues]\nq = {{ capacity = {}, kind = \"{}\" }}",
        s.capacity, s.kind
    );
    let sets = if g.chance(30) {
        "{ set = \"e\" }, "
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "\n[futures]\nf = {{ on_done = [{sets}{{ log = \"callback of f: {{result}}\" }}] }}"
    );
    let _ = writeln!(
        out,
        "\n[exceptions]\nRateLimited = \"ConnectionError\"\nThrottled = \"RateLimited\""
    );
    let _ = writeln!(out, "\n[events]\ne = {{}}");
    let _ = writeln!(
        out,
        "\n[barriers]\nbar = {{ parties = {} }}",
        if g.chance(75) { 2 } else { 3 }
    );
    let _ = writeln!(out, "\n[conditions]\ncv = {{}}\ncl = {{ lock = \"lk\" }}");
    if s.threads {
        // The default executor has min(32, cpu + 4) workers: 5 or 6 here,
        // so that the cases' few tasks fill it at times.
        let _ = writeln!(
            out,
            "\n[executors]\ndb = {{ workers = {} }}",
            1 + g.below(2)
        );
        out = out.replacen(
            "[scenario]\n",
            &format!("[scenario]\ncpu = {}\n", 1 + g.below(2)),
            1,
        );
    }
    let (mut passes, mut passes_objects, mut passes_group) = (false, false, false);
    for task in 0..s.tasks {
        let _ = writeln!(out, "\n[tasks.t{task}]");
        if g.chance(15) {
            let _ = writeln!(out, "timeout = \"{}\"", g.pick(&["100ms", "300ms", "1s"]));
        }
        if g.chance(10) {
            let _ = writeln!(
                out,
                "retry = {{ attempts = {}, backoff = \"{}\" }}",
                2 + g.below(2),
                g.pick(&["100ms", "200ms"])
            );
            if g.chance(50) {
                let on = g.pick(&[
                    "[\"error\"]",
                    "[\"timeout\"]",
                    "[\"ConnectionError\"]",
                    "[\"RateLimited\", \"KeyError\"]",
                    "[\"OSError\"]",
                ]);
                let _ = writeln!(out, "retry_on = {on}");
            }
        }
        if g.chance(10) {
            let _ = writeln!(out, "deadline = \"{}\"", g.pick(&["200ms", "500ms", "1s"]));
        }
        if g.chance(10) {
            let _ = writeln!(out, "limit = \"pool\"");
        }
        if g.chance(15) {
            // Done callbacks, run before the wake-ups of later awaiters.
            let _ = writeln!(
                out,
                "on_done = [{{ log = \"t{task} callback: {{name}} {{result}} {{error}}\" }}]"
            );
        }
        let mut body = Body {
            task,
            handles: Vec::new(),
            lines: 0,
            puts: 0,
            groups: Vec::new(),
            opened: 0,
            callbacks: Vec::new(),
            passes: false,
            passes_objects: false,
            passes_group: false,
        };
        let n = 1 + g.below(5);
        let steps = steps(g, &s, &mut body, n, 0);
        passes |= body.passes;
        passes_objects |= body.passes_objects;
        passes_group |= body.passes_group;
        let _ = writeln!(out, "steps = [\n{steps}]");
    }
    // Tasks with `after`: on t0 (nothing starts it, so it runs once) and on
    // the ones before them.
    for k in 0..g.below(3) {
        let mut after = vec!["\"t0\"".to_owned()];
        for j in 0..k {
            if g.chance(50) {
                after.push(format!("\"a{j}\""));
            }
        }
        let trigger = g.pick(&["all_success", "all_done", "one_success", "one_failed"]);
        let _ = writeln!(
            out,
            "\n[tasks.a{k}]\nafter = [{}]\ntrigger = \"{trigger}\"",
            after.join(", ")
        );
        let fails = if g.chance(30) {
            format!(", {{ fail = \"a{k} broke\", chance = 0.5 }}")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "steps = [{{ log = \"a{k} runs at {{now}}\" }}, {{ sleep = \"{}\" }}{fails}]",
            g.pick(&DELAYS)
        );
    }
    // Tasks in line for the priority semaphore or the preemptive one, at
    // priorities that tie and cross, some giving up while they wait (a
    // cancelled waiter leaves), some preempted (catching the cancellation
    // inside, or `Preempted` outside).
    if g.chance(30) {
        for k in 0..2 + g.below(3) {
            let sem = if g.chance(50) { "pp" } else { "ps" };
            let priority = g.pick(&[
                "",
                ", priority = -1",
                ", priority = 1",
                ", priority = 1.0",
                ", priority = 2",
            ]);
            let hold = 5 * (1 + g.below(3));
            let mut work = format!("{{ sleep = \"{hold}ms\" }}");
            if sem == "pp" && g.chance(30) {
                work = format!(
                    "{{ try = [{work}], except = [{{ log = \"r{k} told {{error}}\" }}], catch = [\"cancelled\"] }}"
                );
            }
            let mut line = format!(
                "{{ with = \"{sem}\"{priority}, do = [{{ log = \"r{k} holds {sem} at {{now}}\" }}, {work}] }}"
            );
            if sem == "pp" && g.chance(60) {
                line = format!(
                    "{{ try = [{line}], except = [{{ log = \"r{k}: {{error}}\" }}], catch = [\"Preempted\"] }}"
                );
            }
            if g.chance(30) {
                line = format!(
                    "{{ try = [{{ timeout = \"{}ms\", do = [{line}] }}], except = [{{ log = \"r{k} gave up\" }}], catch = [\"timeout\"] }}",
                    2 + g.below(15)
                );
            }
            let start = g.pick(&["0ms", "1ms", "5ms"]);
            let _ = writeln!(
                out,
                "\n[tasks.r{k}]\nsteps = [{{ sleep = \"{start}\" }}, {line}]"
            );
        }
    }
    if passes {
        // Given the caller's task: cancels it, awaits it, or gathers it.
        let _ = writeln!(out, "\n[tasks.k0]\nhandles = {{ target = \"task\" }}");
        let seen = "{ log = \"k0 sees {target.done} {target.cancelled} at {now}\" }";
        let steps = match g.below(3) {
            0 => format!(
                "{{ sleep = \"{}\" }}, {seen}, {{ cancel = \"target\", msg = \"from k0\" }}, {{ sleep = \"0s\" }}, {seen}",
                g.pick(&DELAYS)
            ),
            1 => format!(
                "{seen}, {{ try = [{{ await = \"target\" }}, {{ log = \"k0 awaited {{result}}\" }}], except = [{{ log = \"k0 caught {{error}}\" }}] }}, {seen}"
            ),
            _ => format!(
                "{{ gather = [\"target\"], return_exceptions = true }}, {{ log = \"k0 gathered {{result}} at {{now}}\" }}, {seen}"
            ),
        };
        let _ = writeln!(out, "steps = [{steps}]");
    }
    if passes_group {
        // Given a list of the caller's tasks: gathers it, or cancels its
        // first and waits for them all.
        let _ = writeln!(out, "\n[tasks.k2]\nhandles = {{ all = \"group\" }}");
        let steps = match g.below(2) {
            0 => "{ gather = [\"all\"], return_exceptions = true }, { log = \"k2 gathered {result} at {now}\" }".to_owned(),
            _ => "{ each = \"all\", as = \"one\", do = [{ cancel = \"one\" }, { break = true }] }, { wait = \"all\" }, { log = \"k2 waited, {all.count} tasks at {now}\" }".to_owned(),
        };
        let _ = writeln!(out, "steps = [{steps}]");
    }
    if passes_objects {
        // Given a semaphore and the queue (never a priority one): holds a
        // permit while it puts.
        let _ = writeln!(
            out,
            "\n[tasks.k1]\nhandles = {{ s = \"semaphore\", out = \"queue\" }}"
        );
        let _ = writeln!(
            out,
            "steps = [{{ with = \"s\", do = [{{ log = \"k1 holds it at {{now}}\" }}, {{ sleep = \"{}\" }}, {{ put = \"out\", item = \"from k1\" }}] }}, {{ log = \"k1 put at {{now}}\" }}]",
            g.pick(&DELAYS)
        );
    }
    out
}

fn steps(g: &mut Gen, s: &Scenario, b: &mut Body, n: usize, depth: usize) -> String {
    let mut out = String::new();
    for _ in 0..n {
        let step = step(g, s, b, depth);
        let _ = writeln!(out, "{}{step},", "  ".repeat(depth + 1));
    }
    out
}

fn log(b: &mut Body, what: &str) -> String {
    b.lines += 1;
    format!(
        "{{ log = \"t{} line {} {what} at {{now}}\" }}",
        b.task, b.lines
    )
}

fn step(g: &mut Gen, s: &Scenario, b: &mut Body, depth: usize) -> String {
    let later = b.task + 1..s.tasks;
    let compound = depth < 2;
    loop {
        if s.threads && g.chance(12) {
            return thread_step(g, b);
        }
        // An eager case spawns more often: eager and lazy creation differ
        // only where a task creates another (roots come out alike).
        let choice = match s.eager && !later.is_empty() && g.chance(15) {
            true => 4,
            false => g.below(38),
        };
        return match choice {
            0 if g.chance(15) => format!("{{ block = \"{}\" }}", g.pick(&DELAYS[1..])),
            0 | 1 => format!("{{ sleep = \"{}\" }}", g.pick(&DELAYS)),
            // A handle's state (which does not read a failure) and error
            // (which does: it is no longer reported at the end).
            2 | 3 if !b.handles.is_empty() && g.chance(25) => {
                let (h, _) = b.handles[g.below(b.handles.len())].clone();
                log(b, &format!("{{{h}.state}} {{{h}.error}}"))
            }
            2 | 3 => {
                let what = g.pick(&[
                    "",
                    "{result}",
                    "{item}",
                    "{name}",
                    "{e.is_set}",
                    "{item} {priority}",
                    "{bar.n_waiting} {bar.broken}",
                ]);
                log(b, what)
            }
            // as_completed over tasks it starts there (an awaitable done
            // before the loop begins comes out in a Python set's order).
            4 if s.as_completed && compound && !later.is_empty() && g.chance(40) => {
                let t = later.start + g.below(later.len());
                let h = format!("h{}", b.handles.len());
                b.handles.push((h.clone(), false));
                let timeout = if g.chance(40) {
                    format!(", timeout = \"{}\"", g.pick(&DELAYS))
                } else {
                    String::new()
                };
                let got = log(b, "completed {result}");
                let k = g.below(3);
                let inner = steps(g, s, b, k, depth + 1);
                let stop = if g.chance(20) {
                    "{ break = true }, "
                } else {
                    ""
                };
                let pad = "  ".repeat(depth + 1);
                format!(
                    "{{ spawn = \"t{t}\", as = \"{h}\", count = {} }}, {{ as_completed = \"{h}\"{timeout}, do = [\n{pad}  {got},\n{inner}{pad}  {stop}] }}",
                    2 + g.below(2)
                )
            }
            4 if !later.is_empty() => {
                let t = later.start + g.below(later.len());
                let h = format!("h{}", b.handles.len());
                let many = g.chance(25);
                let count = if many { ", count = 2" } else { "" };
                b.handles.push((h.clone(), !many));
                let into = match b.groups.is_empty() || g.chance(30) {
                    true => String::new(),
                    false => format!(", into = \"{}\"", g.pick(&groups(b))),
                };
                let spawn = format!("{{ spawn = \"t{t}\", as = \"{h}\"{count}{into} }}");
                let spawn = match s.eager {
                    true => {
                        let state = match many {
                            true => String::new(),
                            false => format!("{{{h}.state}}"),
                        };
                        format!("{spawn}, {}", log(b, &format!("spawned {state}")))
                    }
                    false => spawn,
                };
                // Its handle passed to `k0`, spawned or called.
                let pass = if s.handles && g.chance(70) {
                    b.passes = true;
                    let verb = if g.chance(70) { "spawn" } else { "call" };
                    format!(", {{ {verb} = \"k0\", args = {{ target = \"{h}\" }} }}")
                } else {
                    String::new()
                };
                // Or a list of tasks it fills, passed to `k2` as a group.
                let group = if s.handles && pass.is_empty() && g.chance(50) {
                    b.passes_group = true;
                    let list = format!("gl{}", b.task);
                    let verb = if g.chance(60) { "spawn" } else { "call" };
                    format!(
                        ", {{ spawn = \"t{t}\", into = \"{list}\" }}, {{ {verb} = \"k2\", args = {{ all = \"{list}\" }} }}"
                    )
                } else {
                    String::new()
                };
                format!("{spawn}{pass}{group}")
            }
            // A semaphore and the queue passed to `k1`, spawned or called.
            5 if s.handles && s.kind != "priority" && g.chance(60) => {
                b.passes_objects = true;
                let verb = if g.chance(60) { "spawn" } else { "call" };
                let sem = g.pick(&["pool", "gate", "lk"]);
                format!("{{ {verb} = \"k1\", args = {{ s = \"{sem}\", out = \"q\" }} }}")
            }
            5 if !b.handles.is_empty() => {
                let (h, _) = b.handles[g.below(b.handles.len())].clone();
                format!("{{ await = \"{h}\" }}")
            }
            6 if !b.handles.is_empty() => {
                let k = 1 + g.below(b.handles.len().min(3));
                let hs: Vec<String> = (0..k)
                    .map(|_| format!("\"{}\"", b.handles[g.below(b.handles.len())].0))
                    .collect();
                let re = if g.chance(50) {
                    ", return_exceptions = true"
                } else {
                    ""
                };
                format!("{{ gather = [{}]{re} }}", hs.join(", "))
            }
            7 if !b.handles.is_empty() => {
                let (h, _) = b.handles[g.below(b.handles.len())].clone();
                let when = g.pick(&["first_completed", "first_exception", "all_completed"]);
                let timeout = if g.chance(50) {
                    format!(", timeout = \"{}\"", g.pick(&DELAYS))
                } else {
                    String::new()
                };
                let cancel = if g.chance(30) {
                    ", cancel_pending = true"
                } else {
                    ""
                };
                format!("{{ wait = \"{h}\", return_when = \"{when}\"{timeout}{cancel} }}")
            }
            8 => {
                let singles: Vec<String> = b
                    .handles
                    .iter()
                    .filter(|(_, one)| *one)
                    .map(|(h, _)| h.clone())
                    .collect();
                let target = if !singles.is_empty() && g.chance(60) {
                    singles[g.below(singles.len())].clone()
                } else if !later.is_empty() {
                    format!("t{}", later.start + g.below(later.len()))
                } else {
                    continue;
                };
                let shield = if g.chance(30) { ", shield = true" } else { "" };
                let t = g.pick(&DELAYS);
                format!("{{ wait_for = \"{target}\", timeout = \"{t}\"{shield} }}")
            }
            9 if compound => {
                let k = 1 + g.below(3);
                let inner = steps(g, s, b, k, depth + 1);
                let t = g.pick(&["0s", "100ms", "200ms", "300ms"]);
                let pad = "  ".repeat(depth + 1);
                // `timeout_at`: the same instants, counted from the start.
                let how = if g.chance(30) {
                    "timeout_at"
                } else {
                    "timeout"
                };
                format!("{{ {how} = \"{t}\", do = [\n{inner}{pad}] }}")
            }
            10 if !b.handles.is_empty() => {
                let (h, _) = b.handles[g.below(b.handles.len())].clone();
                // Half with a message, which the `CancelledError` carries
                // (and the first retrieval of the task's result).
                match g.below(4) {
                    0 => format!("{{ cancel = \"{h}\", msg = \"stop {{name}}\" }}"),
                    1 => format!("{{ cancel = \"{h}\", msg = \"off\" }}"),
                    _ => format!("{{ cancel = \"{h}\" }}"),
                }
            }
            11 | 12 if compound => {
                let k = 1 + g.below(3);
                let body = steps(g, s, b, k, depth + 1);
                let what = g.pick(&[
                    "caught {error}",
                    "caught",
                    "caught {error} c{cancelling}",
                    "caught {error} <- {error.cause}",
                ]);
                let mut except = log(b, what);
                if g.chance(20) {
                    // `uncancel()`: a caught cancellation taken back.
                    except.push_str(", { uncancel = true }, ");
                    except.push_str(&log(b, "uncancelled c{cancelling}"));
                }
                match g.below(8) {
                    // Cleanup, then the same exception on its way.
                    0 | 1 => except.push_str(", { raise = true }"),
                    // A new exception, caused by the one caught (or by
                    // none), for an outer handler to read.
                    2 => {
                        let (class, from) = (
                            g.pick(&["RuntimeError", "KeyError", "Throttled"]),
                            g.pick(&["error", "none"]),
                        );
                        let _ = write!(
                            except,
                            ", {{ fail = \"wrapped in t{}\", type = \"{class}\", from = \"{from}\" }}",
                            b.task
                        );
                    }
                    _ => {}
                }
                let pad = "  ".repeat(depth + 1);
                // A `finally` alone: it catches nothing.
                if g.chance(10) {
                    let finally = log(b, "finally");
                    return format!("{{ try = [\n{body}{pad}], finally = [{finally}] }}");
                }
                let finally = if g.chance(40) {
                    format!(", finally = [{}]", log(b, "finally"))
                } else {
                    String::new()
                };
                let catch = match g.below(8) {
                    0 => ", catch = [\"error\"]",
                    1 => ", catch = [\"error\", \"timeout\", \"cancelled\"]",
                    2 => ", catch = [\"timeout\"]",
                    3 => {
                        let classes = g.pick(&[
                            "[\"KeyError\"]",
                            "[\"LookupError\", \"ValueError\"]",
                            "[\"OSError\"]",
                            "[\"RateLimited\"]",
                            "[\"Exception\"]",
                            "[\"BaseException\"]",
                            "[\"cancelled\", \"ConnectionError\"]",
                        ]);
                        return format!(
                            "{{ try = [\n{body}{pad}], except = [{except}]{finally}, catch = {classes} }}"
                        );
                    }
                    _ => "",
                };
                format!("{{ try = [\n{body}{pad}], except = [{except}]{finally}{catch} }}")
            }
            13 => {
                let p = g.pick(&["0.3", "0.5", "0.7"]);
                let class = if g.chance(50) {
                    let class = g.pick(&[
                        "ValueError",
                        "KeyError",
                        "ConnectionError",
                        "RateLimited",
                        "Throttled",
                        "TimeoutError",
                        "RuntimeError",
                    ]);
                    format!(", type = \"{class}\"")
                } else {
                    String::new()
                };
                format!("{{ fail = \"boom in t{}\", chance = {p}{class} }}", b.task)
            }
            14 if compound => {
                let k = 1 + g.below(3);
                let inner = steps(g, s, b, k, depth + 1);
                let pad = "  ".repeat(depth + 1);
                let sem = g.pick(&["pool", "pool", "lk", "ps", "ps"]);
                // A priority semaphore's waiters: by priority, ties (1 and
                // 1.0 too) in arrival order, 0 when none is given.
                // A hold of some milliseconds first, so that holders and
                // waiters overlap and the line has an order to show.
                let (priority, hold) = match sem {
                    "ps" => (
                        g.pick(&[
                            "",
                            ", priority = -1",
                            ", priority = 1",
                            ", priority = 1.0",
                            ", priority = 2",
                        ]),
                        format!("{pad}  {{ sleep = \"{}ms\" }},\n", 5 * (1 + g.below(4))),
                    ),
                    _ => ("", String::new()),
                };
                format!("{{ with = \"{sem}\"{priority}, do = [\n{hold}{inner}{pad}] }}")
            }
            // A third of the time without waiting: QueueFull when full,
            // caught or not.
            15 if g.chance(30) => {
                let put = put(g, s, b, "").replacen("{ put =", "{ put_nowait =", 1);
                match g.chance(50) {
                    true => format!(
                        "{{ try = [{put}], except = [{}], catch = [\"QueueFull\"] }}",
                        log(b, "full: {error}")
                    ),
                    false => put,
                }
            }
            15 => put(g, s, b, ""),
            // A burst of puts (one priority for all: ties, or `{i}`), then
            // gets that log what they took: the queue's order shows.
            24 => {
                let one = put(g, s, b, "-{i}");
                format!("{{ repeat = {}, do = [{one}] }}", 2 + g.below(2))
            }
            25 => {
                let got = log(b, "got {item} {priority}");
                format!("{{ repeat = 2, do = [{{ get = \"q\" }}, {got}] }}")
            }
            // 3.13: a shutdown, and what meets it.
            0..=17 if s.v313 && g.chance(15) => match g.below(5) {
                0 | 1 => {
                    let immediate = if g.chance(50) {
                        ", immediate = true"
                    } else {
                        ""
                    };
                    format!("{{ shutdown = \"q\"{immediate} }}")
                }
                2 => {
                    let got = log(b, "got {item}");
                    format!(
                        "{{ try = [{{ get = \"q\" }}, {got}], except = [{}], catch = [\"QueueShutDown\"] }}",
                        log(b, "get: {error}")
                    )
                }
                3 => {
                    let put = put(g, s, b, "");
                    format!(
                        "{{ try = [{put}], except = [{}], catch = [\"QueueShutDown\"] }}",
                        log(b, "put: {error}")
                    )
                }
                _ => {
                    let joined = log(b, "joined");
                    format!("{{ join = \"q\" }}, {joined}")
                }
            },
            16 if g.chance(30) => {
                let got = log(b, "got {item} at once");
                format!(
                    "{{ try = [{{ get_nowait = \"q\" }}, {got}], except = [{}], catch = [\"QueueEmpty\"] }}",
                    log(b, "empty: {error}")
                )
            }
            16 => "{ get = \"q\" }".into(),
            17 => {
                if g.chance(40) {
                    format!("{{ set_result = \"f\", value = \"set by t{}\" }}", b.task)
                } else if g.chance(20) {
                    let class = g.pick(&["KeyError", "Throttled", "ValueError"]);
                    let t = b.task;
                    format!(
                        "{{ set_exception = \"f\", error = \"set by t{t}\", type = \"{class}\" }}"
                    )
                } else {
                    "{ await = \"f\" }".into()
                }
            }
            18 if compound => {
                let k = 1 + g.below(2);
                let inner = steps(g, s, b, k, depth + 1);
                let pad = "  ".repeat(depth + 1);
                format!("{{ repeat = 2, do = [\n{inner}{pad}] }}")
            }
            19 => format!("{{ return = \"t{} returns\" }}", b.task),
            // Any task may release; a bounded semaphore raises ValueError
            // for a release past its permits, a plain one grows.
            20 => g
                .pick(&[
                    "{ acquire = \"gate\" }",
                    "{ release = \"gate\" }",
                    "{ release = \"pool\" }",
                    "{ acquire = \"lk\" }",
                    "{ release = \"lk\" }",
                    "{ acquire = \"ps\", priority = 3 }",
                    "{ release = \"ps\" }",
                ])
                .into(),
            21 | 22 => match g.below(3) {
                0 | 1 => "{ set = \"e\" }".into(),
                _ => "{ clear = \"e\" }".into(),
            },
            // Bounded half the time: a timeout that ties with a `set`.
            23 if g.chance(50) => {
                let t = g.pick(&["0s", "100ms", "200ms", "300ms"]);
                format!("{{ timeout = \"{t}\", do = [{{ await = \"e\" }}] }}")
            }
            23 => "{ await = \"e\" }".into(),
            29 => {
                let passed = log(b, "passed bar with {result}");
                // Mostly bounded: a barrier short of parties would leave the
                // case deadlocked, and not compared.
                let wait = match g.below(5) {
                    0..=3 => {
                        let t = g.pick(&["0s", "100ms", "300ms", "1s", "2s"]);
                        format!("{{ timeout = \"{t}\", do = [{{ await = \"bar\" }}] }}")
                    }
                    _ => "{ await = \"bar\" }".into(),
                };
                match g.below(3) {
                    0 => format!("{wait}, {passed}"),
                    _ => format!(
                        "{{ try = [{wait}, {passed}], except = [{}], catch = [\"BrokenBarrierError\", \"timeout\"] }}",
                        log(b, "bar: {error}")
                    ),
                }
            }
            31 => {
                let passed = log(b, "passed bar with {result} in turn {i}");
                let t = g.pick(&["300ms", "1s"]);
                format!(
                    "{{ repeat = 2, do = [{{ try = [{{ timeout = \"{t}\", do = [{{ await = \"bar\" }}] }}, {passed}], except = [{}], catch = [\"BrokenBarrierError\", \"timeout\"] }}] }}",
                    log(b, "bar: {error}")
                )
            }
            30 => match g.below(4) {
                0 => "{ abort = \"bar\" }".into(),
                _ => "{ reset = \"bar\" }".into(),
            },
            26 | 27 if compound && !later.is_empty() => {
                // A task group: a few tasks into it, then other steps
                // (which may spawn into it, or open another group).
                let name = format!("tg{}", b.opened);
                b.opened += 1;
                let pad = "  ".repeat(depth + 2);
                let mut inner = String::new();
                for _ in 0..1 + g.below(3) {
                    let t = later.start + g.below(later.len());
                    let h = format!("h{}", b.handles.len());
                    b.handles.push((h.clone(), true));
                    let _ = writeln!(
                        inner,
                        "{pad}{{ spawn = \"t{t}\", as = \"{h}\", into = \"{name}\" }},"
                    );
                }
                b.groups.push(name.clone());
                let more = g.below(3);
                inner.push_str(&steps(g, s, b, more, depth + 1));
                b.groups.pop();
                let pad = "  ".repeat(depth + 1);
                let block = format!("{{ task_group = \"{name}\", do = [\n{inner}{pad}] }}");
                if !g.chance(50) {
                    return block;
                }
                let star = g.chance(50);
                let catch = match star {
                    true => g.pick(&[
                        "[\"ValueError\"]",
                        "[\"KeyError\", \"RateLimited\"]",
                        "[\"Exception\"]",
                        "[\"LookupError\"]",
                        "[\"timeout\", \"RuntimeError\"]",
                    ]),
                    false => g.pick(&[
                        "[\"ExceptionGroup\"]",
                        "[\"Exception\"]",
                        "[\"error\"]",
                        "[\"BaseExceptionGroup\", \"cancelled\"]",
                    ]),
                };
                let handler = if star { "except_star" } else { "except" };
                let what = g.pick(&[
                    "caught {error}",
                    "caught",
                    "caught {error} c{cancelling}",
                    "caught {error} <- {error.cause}",
                ]);
                let mut except = log(b, what);
                if g.chance(20) {
                    // `uncancel()`: a caught cancellation taken back.
                    except.push_str(", { uncancel = true }, ");
                    except.push_str(&log(b, "uncancelled c{cancelling}"));
                }
                if star && g.chance(20) {
                    let from = g.pick(&["", ", from = \"error\"", ", from = \"none\""]);
                    let _ = write!(
                        except,
                        ", {{ fail = \"handler of t{} broke\"{from} }}",
                        b.task
                    );
                }
                format!(
                    "{{ try = [\n{pad}  {block},\n{pad}], {handler} = [{except}], catch = {catch} }}"
                )
            }
            28 if compound => {
                // except* around anything.
                let k = 1 + g.below(3);
                let body = steps(g, s, b, k, depth + 1);
                let catch = g.pick(&["[\"ValueError\"]", "[\"Exception\"]", "[\"timeout\"]"]);
                let except = log(b, "star caught {error}");
                let pad = "  ".repeat(depth + 1);
                format!("{{ try = [\n{body}{pad}], except_star = [{except}], catch = {catch} }}")
            }
            // A condition's wait (or wait_for of the event), with its lock,
            // mostly bounded by a timeout (a waiter cancelled while it
            // waits or takes the lock again), so that few cases deadlock.
            32 if compound => {
                let cv = g.pick(&["cv", "cv", "cl"]);
                let wait = match g.below(3) {
                    0 => format!("{{ await = \"{cv}\", until = \"{{e.is_set}}\" }}"),
                    _ => format!("{{ await = \"{cv}\" }}"),
                };
                let k = g.below(2);
                let inner = steps(g, s, b, k, depth + 1);
                let pad = "  ".repeat(depth + 1);
                let said = log(b, "woke with {result}");
                let with = format!(
                    "{{ with = \"{cv}\", do = [\n{pad}  {wait},\n{pad}  {said},\n{inner}{pad}] }}"
                );
                match g.chance(70) {
                    true => {
                        let t = g.pick(&["100ms", "300ms", "1s"]);
                        let caught = log(b, "condition wait timed out");
                        format!(
                            "{{ try = [{{ timeout = \"{t}\", do = [\n{pad}  {with},\n{pad}] }}], except = [{caught}], catch = [\"timeout\"] }}"
                        )
                    }
                    false => with,
                }
            }
            // A notify: mostly with the lock, sometimes without
            // (RuntimeError), or a wait without it.
            33 | 34 => {
                let cv = g.pick(&["cv", "cv", "cl"]);
                let notify = match g.below(3) {
                    0 => format!("{{ notify_all = \"{cv}\" }}"),
                    _ => format!("{{ notify = \"{cv}\", n = {} }}", g.below(3)),
                };
                match g.below(8) {
                    0 => notify,
                    1 => format!("{{ await = \"{cv}\" }}"),
                    _ => format!("{{ with = \"{cv}\", do = [{notify}] }}"),
                }
            }
            // A callback of the loop: soon, after a delay, or at an
            // instant (from the start), maybe named for a later cancel.
            35 | 36 => {
                let body = callback_steps(g, b, &later);
                let named = match g.chance(40) {
                    true => {
                        let h = format!("c{}", b.callbacks.len());
                        b.callbacks.push(h.clone());
                        format!(", as = \"{h}\"")
                    }
                    false => String::new(),
                };
                match g.below(4) {
                    0 | 1 => format!(
                        "{{ call_later = \"{}\", do = [{body}]{named} }}",
                        g.pick(&DELAYS)
                    ),
                    2 => {
                        let t = g.pick(&["0s", "100ms", "200ms", "300ms", "1s"]);
                        format!("{{ call_at = \"{t}\", do = [{body}]{named} }}")
                    }
                    _ => format!("{{ call_soon = [{body}]{named} }}"),
                }
            }
            37 if !b.callbacks.is_empty() => {
                let h = b.callbacks[g.below(b.callbacks.len())].clone();
                format!("{{ cancel = \"{h}\" }}")
            }
            _ => continue,
        };
    }
}

/// Work sent to a thread pool: the default executor or `db`, returning a
/// value or raising (never 0s: work that takes no time comes back at an
/// instant CPython's threads would race for).
fn thread_step(g: &mut Gen, b: &mut Body) -> String {
    let d = g.pick(&["100ms", "100ms", "200ms", "300ms", "1s"]);
    let outcome = match g.below(4) {
        0 => format!(
            ", error = \"t{} thread broke\", type = \"{}\"",
            b.task,
            g.pick(&["ValueError", "OSError", "RateLimited"])
        ),
        1 | 2 => format!(", value = \"w{}\"", g.below(10)),
        _ => String::new(),
    };
    match g.below(4) {
        0 => format!("{{ to_thread = \"{d}\"{outcome} }}"),
        1 => format!("{{ run_in_executor = \"{d}\"{outcome} }}"),
        _ => format!("{{ run_in_executor = \"{d}\", executor = \"db\"{outcome} }}"),
    }
}

/// The steps of a loop's callback: ones that never wait (an empty queue's
/// `get_nowait` raises in it, which the loop reports).
fn callback_steps(g: &mut Gen, b: &mut Body, later: &std::ops::Range<usize>) -> String {
    let mut out = Vec::new();
    for _ in 0..1 + g.below(3) {
        out.push(match g.below(7) {
            0 | 1 => log(b, "callback"),
            2 => "{ set = \"e\" }".into(),
            3 => "{ clear = \"e\" }".into(),
            4 => format!(
                "{{ set_result = \"f\", value = \"set by a callback of t{}\" }}",
                b.task
            ),
            5 if !later.is_empty() => {
                format!("{{ spawn = \"t{}\" }}", later.start + g.below(later.len()))
            }
            _ => "{ get_nowait = \"q\" }".into(),
        });
    }
    out.join(", ")
}

/// A put of an item that says which put it was (`suffix` after it), with a
/// priority on a priority queue.
fn put(g: &mut Gen, s: &Scenario, b: &mut Body, suffix: &str) -> String {
    b.puts += 1;
    let priority = if s.kind == "priority" {
        format!(", priority = {}", g.pick(&PRIORITIES))
    } else {
        String::new()
    };
    let (task, n) = (b.task, b.puts);
    format!("{{ put = \"q\", item = \"t{task} put {n}{suffix}\"{priority} }}")
}

/// The names of the task groups a body is inside.
fn groups(b: &Body) -> Vec<&str> {
    b.groups.iter().map(String::as_str).collect()
}

/// `[ns] line` for each line scenario-run logs, or why it is not compared.
fn ours(text: &str, python: Python) -> Result<String, &'static str> {
    let options = Options {
        format: Format::Jsonl,
        python: Some(python),
        ..Options::default()
    };
    let (out, code) = render_to_string("case.toml", text, &options);
    if code as i32 == 2 {
        return Err("invalid");
    }
    let mut lines = String::new();
    let mut shutting_down = false;
    // Tasks not yet ended and work in the default executor, counted from
    // the events: a task created once every task had ended, while such
    // work was under way, was started by a callback while asyncio.run
    // waited for that work (the same known difference).
    let mut live = 0usize;
    let mut in_default = std::collections::BTreeSet::new();
    for line in out.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let task = event["task"].as_str().unwrap_or_default().to_owned();
        match event["kind"].as_str() {
            Some("created") if live == 0 && !in_default.is_empty() => {
                return Err("known difference: a task started during the shutdown");
            }
            Some("created") => live += 1,
            Some("done" | "failed" | "cancelled" | "skipped") => live = live.saturating_sub(1),
            Some("thread_started")
                if event["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("the default executor")) =>
            {
                in_default.insert(task);
            }
            Some("thread_done") => {
                in_default.remove(&task);
            }
            _ => {}
        }
        // The known difference of docs/fidelity.md: asyncio.run cancels a
        // task started during its shutdown a second time, scenario-run
        // runs it to its end. Such a case is counted, not compared.
        if event["kind"] == "cancel" && event["detail"] == "main finished: cancelling what is left"
        {
            shutting_down = true;
        }
        if shutting_down && event["kind"] == "created" {
            return Err("known difference: a task started during the shutdown");
        }
        if event["kind"] == "summary" {
            if !event["deadlock"].is_null() {
                return Err("deadlock");
            }
            if !event["stopped"].is_null() {
                return Err("stopped by a limit");
            }
        }
        if event["kind"] == "log" {
            let ns = event["time_ns"].as_u64().unwrap();
            for part in event["message"].as_str().unwrap().split('\n') {
                let _ = writeln!(lines, "[{ns}] {part}");
            }
        }
        lines.push_str(&common::cpython::report_line(&event));
    }
    Ok(lines)
}

/// The output of a batch run, split by program.
fn split_batch(out: &str) -> Vec<(String, String)> {
    let mut programs: Vec<(String, String)> = Vec::new();
    // The traceback of main's exception, which asyncio.run raises after
    // saying so, is not compared (it names files and lines).
    let mut raised = false;
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            programs.push((name.to_owned(), String::new()));
            raised = false;
        } else if raised && line.starts_with("!!! ") {
        } else if let Some((_, text)) = programs.last_mut() {
            raised = line.contains("] asyncio.run raises ");
            text.push_str(line);
            text.push('\n');
        }
    }
    programs
}

#[test]
fn generated_scenarios_log_what_cpython_logs() {
    let cases: u64 = std::env::var("GENERATED_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let first: u64 = std::env::var("GENERATED_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let pythons = interpreters();
    if pythons.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have CPython 3.11 (python3)"
        );
        eprintln!("warning: generated differential cases skipped: no CPython 3.11-3.13 found");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("generated-cases")
        .tempdir()
        .unwrap()
        .keep();
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/vclock.py");
    let mut skipped = std::collections::BTreeMap::<&str, u64>::new();
    let mut compared = 0u64;
    let (mut reported, mut raising) = (0u64, 0u64);
    let mut divergences = Vec::new();
    let batch = 500;
    let mut case = first;
    while case < first + cases {
        let end = (case + batch).min(first + cases);
        let programs = dir.join(format!("batch-{case}"));
        // One folder per version: a 3.13 case is run there only.
        for (version, _) in &pythons {
            std::fs::create_dir_all(programs.join(version)).unwrap();
        }
        let mut expected = std::collections::BTreeMap::new();
        for seed in case..end {
            let v313 = v313(seed);
            let text = scenario(&mut Gen(seed), v313, seed);
            // Compared only where every version runs it to its end (a run
            // that deadlocks would keep CPython waiting).
            let mut logs = std::collections::BTreeMap::new();
            let mut why_not = None;
            let eager = eager(seed);
            let runs = |v: &str| (!v313 || v == "3.13") && (!eager || v != "3.11");
            for (version, _) in pythons.iter().filter(|(v, _)| runs(v)) {
                match ours(&text, Python::parse(version).expect("modelled")) {
                    Ok(l) => {
                        logs.insert(version.clone(), l);
                    }
                    Err(why) => why_not = Some(why),
                }
            }
            if let Some(why) = why_not {
                *skipped.entry(why).or_default() += 1;
                continue;
            }
            let program = export_python("case.toml", &text, false)
                .unwrap_or_else(|e| panic!("case {seed} cannot be exported: {e}\n{text}"));
            let name = format!("case{seed:09}.py");
            for version in logs.keys() {
                let folder = programs.join(version);
                std::fs::write(folder.join(&name), &program).unwrap();
                std::fs::write(folder.join(format!("case{seed:09}.toml")), &text).unwrap();
            }
            // How many cases end with a report of failures nobody read,
            // or with main's exception raised by asyncio.run.
            if logs.values().any(|l| l.contains("] unretrieved ")) {
                reported += 1;
            }
            if logs.values().any(|l| l.contains("] asyncio.run raises ")) {
                raising += 1;
            }
            expected.insert(name, (seed, text, logs));
        }
        for (version, python) in &pythons {
            let out = Command::new("timeout")
                .arg("600")
                .arg(python)
                .arg(&runner)
                .arg("--batch")
                .arg(programs.join(version))
                .output()
                .unwrap();
            let got = split_batch(&String::from_utf8_lossy(&out.stdout));
            let here = expected
                .values()
                .filter(|(_, _, logs)| logs.contains_key(version))
                .count();
            assert_eq!(
                got.len(),
                here,
                "CPython {version} ran {} of {} programs in {}: {}",
                got.len(),
                expected.len(),
                programs.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            for (name, theirs) in got {
                let (seed, text, logs) = &expected[&name];
                let logs = &logs[version];
                if *logs == theirs {
                    compared += 1;
                } else {
                    let diff = similar::TextDiff::from_lines(logs, &theirs)
                        .unified_diff()
                        .header("scenario-run", "CPython")
                        .to_string();
                    divergences.push(format!(
                        "case {seed} on CPython {version} ({}):\n{text}\n{diff}",
                        programs.join(version).join(&name).display()
                    ));
                }
            }
        }
        case = end;
    }
    eprintln!(
        "generated: {reported} cases report failures nobody read, in {raising} asyncio.run raises main's"
    );
    eprintln!(
        "generated: {compared} case runs agree with CPython ({}), seeds {first}..{}; not compared: {skipped:?}",
        pythons
            .iter()
            .map(|(v, _)| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        first + cases
    );
    if !divergences.is_empty() {
        let kept = &dir;
        let cases: Vec<&str> = divergences
            .iter()
            .filter_map(|d| d.split(" (").next())
            .collect();
        panic!(
            "{} divergences (cases kept in {}): {}\n{}",
            divergences.len(),
            kept.display(),
            cases.join("; "),
            divergences
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(compared > 0, "no generated case was compared");
}
