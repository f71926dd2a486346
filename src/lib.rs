//! scenario-run: asyncio-style task graphs, written in TOML, run in virtual time.
//!
//! Data flows one way: [`validate`] turns the text into a [`model::Model`],
//! [`runtime`] and [`interpreter`] run it on smol's executor in virtual
//! time, and [`render`] writes the trace as it happens.

mod arrivals;
mod as_completed;
mod barrier;
mod blocking;
mod cancel_message;
mod cli;
mod clock;
mod condition;
mod critical_path;
mod deadlock;
mod diagnostic;
mod distribution;
mod duration;
mod ending;
mod event;
mod exception;
mod executor;
mod expect;
mod export;
mod footprint;
mod graph;
mod grid;
mod handle_param;
mod histogram;
mod ids;
mod interpreter;
mod interrupt;
mod limits;
mod manpage;
mod model;
mod montecarlo;
mod output;
mod overrides;
mod prefetch;
mod priority;
mod problem;
mod program;
mod python;
mod queue;
mod quote;
mod ranked_line;
mod rate;
mod render;
mod retrieval;
mod rng;
mod run;
mod runtime;
mod scenario_files;
mod scheduled;
mod schema;
mod semaphore;
mod snapshot;
mod stack;
mod suggest;
mod summary;
mod sweep_html;
mod task;
mod task_group;
mod template;
mod thresholds;
mod trace;
mod trigger;
mod validate;
mod value;
mod verb;
mod workload;

use std::io::Write;
use std::rc::Rc;

pub use cli::main;
pub use duration::Precision;
pub use limits::Limits;
pub use python::Python;
pub use run::{Format, Options};

/// The process exit codes, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// The run completed and every check held.
    Ok = 0,
    /// A `check` step or an `[expect]` expectation failed.
    CheckFailed = 1,
    /// The file is not a valid scenario (or could not be read).
    Invalid = 2,
    /// A limit stopped the run, or the tasks that should finish deadlocked.
    Stuck = 3,
}

/// Validates and runs one scenario's text. The trace goes to `out`; the
/// rendered problems of an invalid file go to `report`.
pub fn run_source(
    path: &str,
    text: &str,
    options: &Options,
    out: Box<dyn Write>,
    report: &mut dyn FnMut(&str),
    color: bool,
) -> ExitCode {
    match validate::validate_for(text, options.python) {
        Ok(mut model) => {
            model.python = options.python.unwrap_or(model.python);
            if let Err(why) = run::check_only(&model, &options.only) {
                report(&format!("error: `{path}`: {why}\n"));
                return ExitCode::Invalid;
            }
            let label = std::path::Path::new(path)
                .file_name()
                .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
            let outcome = run::run(Rc::new(model), options, out, &label);
            if let Some(why) = &outcome.stuck {
                report(&format!("error: `{path}`: {why}\n"));
                ExitCode::Stuck
            } else if outcome.checks_failed > 0 || outcome.expectations_failed > 0 {
                ExitCode::CheckFailed
            } else {
                ExitCode::Ok
            }
        }
        Err(diags) => {
            report(&diagnostic::render(path, text, &diags, color));
            ExitCode::Invalid
        }
    }
}

/// The largest scenario file read by default (`--max-input-bytes`): 16 MiB.
pub(crate) const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Reads a scenario file, explaining in words what went wrong: a directory,
/// a file that cannot be read, or bytes that are not UTF-8 (with where).
pub fn load(path: &std::path::Path) -> Result<String, String> {
    load_capped(path, MAX_INPUT_BYTES)
}

/// [`load`], refusing a file of more than `max` bytes: at most `max + 1`
/// bytes are read, so an endless input (a device, a pipe) ends too.
pub(crate) fn load_capped(path: &std::path::Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    if path.is_dir() {
        return Err(format!("`{shown}` is a directory, not a scenario file"));
    }
    let cannot = |e: std::io::Error| format!("cannot read `{shown}`: {e}");
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "`{shown}` is larger than {max} bytes (raise the limit with --max-input-bytes)"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
        let start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = 1 + String::from_utf8_lossy(&valid[start..]).chars().count();
        format!("{shown}:{line}:{column}: not UTF-8 text (save the file as UTF-8)")
    })
}

/// Validates a scenario's text only: a one-line description of it, or the
/// rendered problems.
pub(crate) fn check_source(path: &str, text: &str, color: bool) -> Result<String, String> {
    let model = validate::validate(text).map_err(|d| diagnostic::render(path, text, &d, color))?;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    // A condition's own lock is no semaphore the file declares.
    let own_locks = model.conditions.iter().filter(|c| c.own_lock).count();
    Ok(format!(
        "{}, {}, {}, {}, {}, {}, {}, {}",
        plural(model.tasks.len(), "task"),
        plural(model.semaphores.len() - own_locks, "semaphore"),
        plural(model.conditions.len(), "condition"),
        plural(model.queues.len(), "queue"),
        plural(model.futures.len(), "future"),
        plural(model.events.len(), "event"),
        plural(model.barriers.len(), "barrier"),
        plural(model.executors.len(), "executor")
    ))
}

/// A scenario's task graph, or the rendered problems of an invalid file.
pub(crate) fn graph_source(
    path: &str,
    text: &str,
    style: graph::Style,
    color: bool,
) -> Result<String, String> {
    match validate::validate(text) {
        Ok(model) => Ok(graph::render(&model, style)),
        Err(d) => Err(diagnostic::render(path, text, &d, color)),
    }
}

/// A scenario's text as a runnable asyncio program (`export python`), or
/// the rendered problems of an invalid file.
pub fn export_python(path: &str, text: &str, color: bool) -> Result<String, String> {
    match validate::validate(text) {
        Ok(model) => Ok(export::python(&model, path)),
        Err(d) => Err(diagnostic::render(path, text, &d, color)),
    }
}

/// Runs a scenario's text and returns its trace (or its diagnostics) as text,
/// with the exit code: what the snapshot tests record.
pub fn render_to_string(path: &str, text: &str, options: &Options) -> (String, ExitCode) {
    let buf = SharedBuf::default();
    let mut report = String::new();
    let code = run_source(
        path,
        text,
        options,
        Box::new(buf.clone()),
        &mut |r| report.push_str(r),
        false,
    );
    let trace = String::from_utf8(buf.0.borrow().clone()).expect("traces are UTF-8");
    (
        if code == ExitCode::Invalid {
            report
        } else {
            trace
        },
        code,
    )
}

/// A writer whose bytes can be read back after the run.
#[derive(Clone, Default)]
struct SharedBuf(Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
