//! The command line: parse arguments, dispatch to a command, choose the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::grid::Axis;
use crate::limits::Limits;
use crate::montecarlo::{self, Plan, Shard};
use crate::output::Output;
use crate::overrides::Set;
use crate::run::{Format, Options};
use crate::{ExitCode, run_source};

/// Run async task-graph scenarios in virtual time and print what the event loop does.
#[derive(Parser, Debug)]
#[command(
    name = "scenario-run",
    version,
    about,
    subcommand_negates_reqs = true,
    override_usage = "scenario-run [OPTIONS] <FILE>...\n       scenario-run <COMMAND> [ARGS]..."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no command: run these files (`scenario-run FILE...` is `scenario-run run FILE...`).
    #[command(flatten)]
    run: RunArgs,
    /// Colour in messages and diffs: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, global = true, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Refuse an input file larger than this many bytes (read no further).
    #[arg(long, value_name = "BYTES", global = true, default_value_t = crate::MAX_INPUT_BYTES)]
    max_input_bytes: u64,
    /// What-if without editing: change a value of the scenario before it is
    /// read (`semaphores.pool=8`, `tasks.fetch.fail=0.2`,
    /// `tasks.fetch.sleep.exponential=300ms`); repeatable. The file is not
    /// written. For run, check, graph and export.
    #[arg(long = "set", value_name = "PATH=VALUE", global = true, value_parser = Set::parse)]
    sets: Vec<Set>,
}

/// How scenario files are read: at most so many bytes, then changed by `--set`.
struct Input {
    max_bytes: u64,
    sets: Vec<Set>,
}

impl Input {
    fn load(&self, path: &Path) -> Result<String, String> {
        let text = crate::load_capped(path, self.max_bytes)?;
        crate::overrides::apply(&text, &self.sets)
            .map_err(|why| format!("`{}`: {why}", path.display()))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios and print their traces (the default command).
    Run(Box<RunArgs>),
    /// Validate scenarios without running them: fast, for editors and pre-commit hooks.
    Check {
        /// Scenario files, or directories searched for `*.toml`.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print a scenario's task graph (dependencies, spawns, semaphores, queues).
    Graph {
        /// The scenario file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Graphviz DOT or a Mermaid flowchart.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Write a scenario as a runnable program (today: Python asyncio).
    Export {
        /// The language to write: `python` (an asyncio program).
        #[arg(value_parser = ["python"])]
        language: String,
        /// The scenario to export.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the JSON Schema of the scenario format (for Taplo / Even Better TOML).
    Schema,
    /// Run every scenario in DIR and compare each trace with its stored snapshot.
    Test {
        /// The directory of scenarios (every `*.toml` under it); snapshots are kept in DIR/snapshots/.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Write the new traces as the snapshots instead of failing.
        #[arg(long)]
        accept: bool,
    },
    /// Combine sweep results (`--runs N --shard i/n`) and print the distribution.
    Merge {
        /// Result files written by `--runs N --shard i/n`.
        #[arg(required = true, value_name = "RESULTS")]
        files: Vec<PathBuf>,
        /// Print the merged results as JSON instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Write a benchmark workload (w1, w2, w3, w4) of N tasks or items as a scenario.
    Gen {
        /// w1: N tasks each sleeping 0..10s, gathered; w2: N tasks sharing 100 permits;
        /// w3: N items through a queue of 100 to ten consumers; w4: N requests
        /// arriving at random (80/s) at 10 servers (100 ms each): M/M/10.
        #[arg(value_parser = ["w1", "w2", "w3", "w4"])]
        workload: String,
        /// How many tasks (w1, w2, w4) or items (w3).
        #[arg(long, default_value_t = 100_000,
              value_parser = clap::value_parser!(u64).range(1..=crate::validate::MAX_COUNT as u64))]
        n: u64,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): the commands, the language reference and the exit codes.
    Man,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

/// What `run` takes.
#[derive(Args, Debug)]
struct RunArgs {
    /// Scenario files (TOML) to run, in order; a directory runs every `*.toml` under it.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write the output to this file (atomically: complete, or not at all) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Seed for the random stream (overrides `[scenario] seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Trace format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Also show sleeps.
    #[arg(short, long)]
    verbose: bool,
    /// Print only the summary, no per-event trace.
    #[arg(long)]
    summary: bool,
    /// Which clock: virtual (instant, deterministic) or real (smol's timers; for demos).
    #[arg(long, value_enum, default_value_t = ClockArg::Virtual)]
    clock: ClockArg,
    /// With `--clock real`: how many times faster than written (0.5 is half speed).
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_speed)]
    speed: f64,
    /// Also run the scenario as if every sleep were blocking, and print both makespans.
    #[arg(long, value_enum, value_name = "MODE")]
    compare: Option<CompareArg>,
    /// Monte Carlo: run the scenario under N seeds (from `--seed` or its own) and
    /// print the distribution of makespan, outcomes and task durations.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=montecarlo::MAX_RUNS))]
    runs: Option<u64>,
    /// With `--runs`: run the sweep for each value of PATH and print one line
    /// per value (`--grid semaphores.pool=4,8,16`); twice for a grid of pairs.
    #[arg(long = "grid", value_name = "PATH=V1,V2,...", value_parser = Axis::parse)]
    grids: Vec<Axis>,
    /// With `--runs`: threads to use, 1 to 1024 (default: every core). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: Option<u64>,
    /// With `--runs`: run only slice i of n of the seeds and print mergeable JSON results.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse, requires = "runs")]
    shard: Option<Shard>,
    /// Stop when virtual time would pass this (overrides `[scenario] time_limit`).
    #[arg(long, value_name = "DURATION", value_parser = parse_time_limit)]
    time_limit: Option<u64>,
    /// Time precision of the text trace: ms (3 decimals, humanised summary
    /// durations like `3m 16.3s`), us (6 decimals) or ns (9: exact, and exact durations).
    #[arg(long, value_enum, default_value_t = PrecisionArg::Ms)]
    precision: PrecisionArg,
    /// Text trace: show only these tasks (an instance `fetch[3]`, or `fetch` for every replica).
    #[arg(long, value_name = "TASK,...", value_delimiter = ',')]
    only: Vec<String>,
    /// Text trace: show only these kinds of events (`log`, `acquired`, `released`, `done`...).
    #[arg(long, value_name = "KIND,...", value_delimiter = ',', value_parser = parse_kind)]
    events: Vec<String>,
    /// Text trace: fold replicas doing the same thing at the same instant into one
    /// line (`fetch[0..49]  started`).
    #[arg(long)]
    fold: bool,
    /// The CPython version whose asyncio the run follows: 3.11, 3.12 or 3.13
    /// (over `[scenario] python`; the default is 3.13).
    #[arg(long, value_name = "VERSION", value_parser = parse_python)]
    python: Option<crate::python::Python>,
    /// Stop after this many steps in all.
    #[arg(long, value_name = "N", default_value_t = Limits::default().steps)]
    max_steps: u64,
    /// Stop when one task runs this many steps at one instant (a loop that never sleeps).
    #[arg(
        long,
        value_name = "N",
        default_value_t = Limits::default().steps_per_instant,
        value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64)
    )]
    max_steps_per_instant: u64,
    /// Stop when more than this many tasks would be alive at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().tasks)]
    max_tasks: u64,
    /// Stop when the run would create more than this many tasks in all (each keeps its slot, about 250 bytes).
    #[arg(long, value_name = "N", default_value_t = Limits::default().tasks_created)]
    max_tasks_created: u64,
    /// Follow the critical path while tasks are made ready at most this many times (24 bytes each); past it the summary says the path was not followed. 0: never.
    #[arg(long, value_name = "N", default_value_t = Limits::default().path_records)]
    max_path_records: u64,
    /// Stop when a value (a result, item, argument, message) would weigh more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().value_bytes)]
    max_value_bytes: u64,
    /// Stop when the values a run builds would weigh more than this many bytes in all.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().values_built)]
    max_values_built: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PrecisionArg {
    /// Milliseconds: `1.235`; the summary humanised (`3m 16.3s`).
    Ms,
    /// Microseconds: `1.234568`; exact summary durations.
    Us,
    /// Nanoseconds, exact: `1.234567891`; exact summary durations.
    Ns,
}

/// An event kind for `--events`, with "did you mean" for a misspelt one.
fn parse_kind(text: &str) -> Result<String, String> {
    use crate::trace::KINDS;
    if KINDS.contains(&text) {
        return Ok(text.to_owned());
    }
    let near = KINDS
        .iter()
        .map(|k| (strsim::levenshtein(k, text), k))
        .min()
        .filter(|(d, _)| *d <= 2);
    Err(match near {
        Some((_, k)) => format!("unknown event kind `{text}`: did you mean `{k}`?"),
        None => format!("unknown event kind `{text}`; kinds: {}", KINDS.join(", ")),
    })
}

/// A modelled CPython version (`3.12`).
fn parse_python(text: &str) -> Result<crate::python::Python, String> {
    use crate::python::Python;
    Python::parse(text).ok_or_else(|| {
        let known: Vec<&str> = Python::ALL.iter().map(|p| p.name()).collect();
        format!(
            "CPython {text} is not modelled; the versions are {}",
            known.join(", ")
        )
    })
}

/// A time limit: a duration above 0 and at most 100 years, as
/// `[scenario] time_limit` must be.
fn parse_time_limit(text: &str) -> Result<u64, String> {
    match crate::duration::parse(text).map_err(|e| e.to_string())? {
        0 => Err(format!(
            "`{text}` is no time: the time limit must be more than 0s"
        )),
        t if t > crate::validate::MAX_DURATION => Err(format!(
            "`{text}` is longer than a run can last (at most {}, 100 years)",
            crate::duration::format(crate::validate::MAX_DURATION)
        )),
        t => Ok(t),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ClockArg {
    /// Virtual time: the clock jumps to the next timer.
    Virtual,
    /// Real time, scaled by `--speed`; the trace streams as it happens.
    Real,
}

fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 1e9 => Ok(x),
        _ => Err(format!(
            "`{text}` is not a speed: give a number above 0 and at most 1000000000 (1e9), like 10 or 0.5"
        )),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CompareArg {
    /// Every `sleep` holds the loop, like `time.sleep`: nothing overlaps.
    Sequential,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// One aligned line per event, then the summary.
    Text,
    /// One JSON object per line (a versioned schema).
    Jsonl,
    /// Chrome trace-event JSON: open it in Perfetto or chrome://tracing.
    Chrome,
    /// A Mermaid Gantt chart (renders on GitHub).
    Mermaid,
    /// A Gantt timeline picture with permits and queue depths.
    Svg,
    /// A self-contained page: the picture, the summary and the trace.
    Html,
}

/// Runs the command line with a known stack (see [`crate::stack`]);
/// returns the process exit code.
pub fn main() -> i32 {
    match crate::stack::run_with_room(command) {
        Ok(code) => code,
        Err(e) => {
            crate::output::warn(&format!("error: cannot start: {e}\n"));
            ExitCode::Invalid as i32
        }
    }
}

fn command() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::Invalid as i32
            } else {
                0
            };
        }
    };
    let stderr_color = colored(
        cli.color,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let stdout_color = colored(
        cli.color,
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
    );
    let input = Input {
        max_bytes: cli.max_input_bytes,
        sets: cli.sets,
    };
    let reads_a_scenario = matches!(
        cli.command,
        None | Some(
            Command::Run(_)
                | Command::Check { .. }
                | Command::Graph { .. }
                | Command::Export { .. }
        )
    );
    if !reads_a_scenario && !input.sets.is_empty() {
        return fail(
            "--set changes a scenario as it is read: give it to run, check, graph or export",
        ) as i32;
    }
    let code = match cli.command {
        None => run(cli.run, stderr_color, &input),
        Some(Command::Run(args)) => run(*args, stderr_color, &input),
        Some(Command::Check { files }) => check(&files, stderr_color, &input),
        Some(Command::Graph { file, format }) => graph(&file, format, stderr_color, &input),
        Some(Command::Export { language: _, file }) => export(&file, stderr_color, &input),
        Some(Command::Schema) => {
            crate::output::print(crate::schema::SCHEMA);
            ExitCode::Ok
        }
        Some(Command::Test { dir, accept }) => {
            crate::snapshot::test_dir(&dir, accept, stdout_color)
        }
        Some(Command::Merge { files, json }) => merge(&files, json),
        Some(Command::Gen { workload, n }) => match crate::workload::generate(&workload, n) {
            Ok(text) => {
                crate::output::print(&text);
                ExitCode::Ok
            }
            Err(e) => fail(&e),
        },
        Some(Command::Completions { shell }) => {
            // Written whole into memory first: the generator panics on a closed pipe.
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "scenario-run", &mut script);
            crate::output::print(&String::from_utf8_lossy(&script));
            ExitCode::Ok
        }
        Some(Command::Man) => {
            let mut roff = Vec::new();
            match crate::manpage::render(Cli::command(), &mut roff) {
                Ok(()) => {
                    crate::output::print(&String::from_utf8_lossy(&roff));
                    ExitCode::Ok
                }
                Err(e) => fail(&format!("cannot write the man page: {e}")),
            }
        }
    };
    if code == ExitCode::Invalid && !input.sets.is_empty() {
        let sets: Vec<String> = input.sets.iter().map(Set::to_string).collect();
        crate::output::warn(&format!(
            "note: with {}: the lines shown are the file as changed (the file itself is not written)\n",
            sets.join(", ")
        ));
    }
    code as i32
}

/// `--color`, resolved for one stream.
fn colored(choice: ColorArg, terminal: bool) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn fail(message: &str) -> ExitCode {
    crate::output::warn(&format!("error: {message}\n"));
    ExitCode::Invalid
}

fn options(args: &RunArgs) -> Options {
    Options {
        seed: args.seed,
        format: match args.format {
            FormatArg::Text => Format::Text,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Chrome => Format::Chrome,
            FormatArg::Mermaid => Format::Mermaid,
            FormatArg::Svg => Format::Svg,
            FormatArg::Html => Format::Html,
        },
        verbose: args.verbose,
        summary_only: args.summary,
        limits: Limits {
            time: args.time_limit,
            steps: args.max_steps,
            steps_per_instant: args.max_steps_per_instant,
            tasks: args.max_tasks,
            tasks_created: args.max_tasks_created,
            value_bytes: args.max_value_bytes,
            values_built: args.max_values_built,
            path_records: args.max_path_records,
        },
        compare_sequential: matches!(args.compare, Some(CompareArg::Sequential)),
        real_speed: (args.clock == ClockArg::Real).then_some(args.speed),
        precision: match args.precision {
            PrecisionArg::Ms => crate::Precision::Ms,
            PrecisionArg::Us => crate::Precision::Us,
            PrecisionArg::Ns => crate::Precision::Ns,
        },
        only: args.only.clone(),
        events: args.events.clone(),
        fold: args.fold,
        python: args.python,
    }
}

/// The files given, each directory replaced by the scenarios under it; says
/// which links were not followed and which directories hold no scenario.
fn scenario_files(given: &[PathBuf]) -> (Vec<PathBuf>, ExitCode) {
    let found = crate::scenario_files::expand(given);
    for link in &found.skipped_links {
        eprintln!(
            "note: `{}` links to a directory; links to directories are not followed",
            link.display()
        );
    }
    let mut code = ExitCode::Ok;
    for dir in &found.empty {
        code = fail(&format!("no `*.toml` scenarios under `{}`", dir.display()));
    }
    (found.files, code)
}

/// Runs each file in order into one output; the worst exit code wins.
/// `-o` is written only when every input was a valid scenario.
fn run(mut args: RunArgs, color: bool, input: &Input) -> ExitCode {
    let (files, mut worst) = scenario_files(&args.files);
    args.files = files;
    if !args.grids.is_empty() {
        return match args.runs {
            Some(runs) => grid(&args, runs, input),
            None => fail("--grid runs a sweep for each value: give --runs N, the runs per value"),
        };
    }
    if let Some(runs) = args.runs {
        return sweep(&args, runs, color, input);
    }
    let options = options(&args);
    let single = matches!(
        options.format,
        Format::Svg | Format::Chrome | Format::Html | Format::Mermaid
    );
    if single && args.files.len() > 1 {
        return fail(&format!(
            "--format {} writes one document: give one scenario file (run each file on its own, with its own -o)",
            format_name(args.format)
        ));
    }
    let output = match &args.output {
        Some(path) => match Output::file(path, &args.files) {
            Ok(o) => o,
            Err(e) => return fail(&e),
        },
        None => Output::stdout(),
    };
    for (n, path) in args.files.iter().enumerate() {
        let text = match input.load(path) {
            Ok(text) => text,
            Err(message) => {
                worst = worst.max(fail(&message));
                continue;
            }
        };
        let mut out = output.clone();
        if n > 0 && options.format == Format::Text {
            let _ = writeln!(out);
        }
        let code = run_source(
            &path.display().to_string(),
            &text,
            &options,
            Box::new(out),
            &mut |diag| crate::output::warn(diag),
            color,
        );
        worst = worst.max(code);
    }
    if let Err(e) = output.finish(worst != ExitCode::Invalid) {
        worst = worst.max(fail(&e));
    }
    worst
}

fn format_name(format: FormatArg) -> String {
    format
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned())
}

/// `--runs N`: a Monte Carlo sweep of one scenario.
fn sweep(args: &RunArgs, runs: u64, color: bool, input: &Input) -> ExitCode {
    let [path] = args.files.as_slice() else {
        return fail("--runs takes one scenario file");
    };
    if !matches!(
        args.format,
        FormatArg::Text | FormatArg::Jsonl | FormatArg::Html
    ) {
        return fail(&format!(
            "--runs writes its report as text, jsonl or html, not {} (the other pictures are drawn from one run: run it with --seed)",
            format_name(args.format)
        ));
    }
    let text = match input.load(path) {
        Ok(text) => text,
        Err(message) => return fail(&message),
    };
    let threads = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        |n| n as usize,
    );
    let shown = path.display().to_string();
    let plan = Plan {
        path: &shown,
        text: &text,
        first_seed: args.seed,
        runs,
        shard: args.shard,
        threads,
        limits: options(args).limits,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        python: args.python,
    };
    let result = match montecarlo::sweep(&plan) {
        Ok(r) => r,
        Err(report) => {
            let _ = color;
            crate::output::warn(&report);
            return ExitCode::Invalid;
        }
    };
    let mut code = montecarlo::exit_code(&result);
    let text = match args.shard {
        Some(_) => serde_json::to_string(&result).expect("results serialise") + "\n",
        None => {
            // `[expect.sweep]`: the sweep judged as a whole (a shard's JSON
            // is not judged: only the whole sweep can be).
            let model = crate::validate::validate(&text).ok();
            let expect = model
                .as_ref()
                .and_then(|m| Some((m, m.expect.sweep.as_ref()?)));
            let mut verdicts = Vec::new();
            if let Some((model, expect)) = expect {
                verdicts = crate::thresholds::judge(expect, &result, model);
                code = crate::thresholds::exit_code(expect, &verdicts, &result);
            }
            if matches!(args.format, FormatArg::Jsonl) {
                montecarlo::jsonl(&result, &verdicts, code)
            } else {
                let mut report = montecarlo::report(&result, Some(threads));
                if expect.is_some() {
                    report.push_str(&crate::thresholds::report(&verdicts));
                }
                if matches!(args.format, FormatArg::Html) {
                    crate::sweep_html::sweep_page(&result, &report)
                } else {
                    report
                }
            }
        }
    };
    let written = write_out(args.output.as_deref(), &text, &args.files);
    written.max(code)
}

/// `--grid`: the sweep once per point of the grid, one table line each.
fn grid(args: &RunArgs, runs: u64, input: &Input) -> ExitCode {
    let [path] = args.files.as_slice() else {
        return fail("--grid takes one scenario file");
    };
    if args.grids.len() > 2 {
        return fail("--grid takes one or two paths (a line per value, or per pair of values)");
    }
    if args.shard.is_some() {
        return fail("--grid runs whole sweeps: it does not take --shard");
    }
    if !matches!(args.format, FormatArg::Text | FormatArg::Html) {
        return fail(&format!(
            "--grid writes its table as text, or as html with a chart of each metric against the values, not {}",
            format_name(args.format)
        ));
    }
    let text = match crate::load_capped(path, input.max_bytes) {
        Ok(text) => text,
        Err(message) => return fail(&message),
    };
    let points = match crate::grid::points(&args.grids) {
        Ok(points) => points,
        Err(e) => return fail(&e),
    };
    let threads = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        |n| n as usize,
    );
    let shown = path.display().to_string();
    let mut done = Vec::new();
    let mut worst = ExitCode::Ok;
    for (values, sets) in points {
        let all: Vec<Set> = input.sets.iter().cloned().chain(sets).collect();
        let changed = match crate::overrides::apply(&text, &all) {
            Ok(changed) => changed,
            Err(why) => return fail(&format!("`{shown}`: {why}")),
        };
        let plan = Plan {
            path: &shown,
            text: &changed,
            first_seed: args.seed,
            runs,
            shard: None,
            threads,
            limits: options(args).limits,
            progress: false,
            python: args.python,
        };
        match montecarlo::sweep(&plan) {
            Ok(sweep) => {
                worst = worst.max(montecarlo::exit_code(&sweep));
                done.push(crate::grid::Point { values, sweep });
            }
            Err(report) => {
                crate::output::warn(&report);
                let given: Vec<String> = all.iter().map(Set::to_string).collect();
                crate::output::warn(&format!(
                    "note: with {}: the lines shown are the file as changed\n",
                    given.join(", ")
                ));
                return ExitCode::Invalid;
            }
        }
    }
    let mut table = crate::grid::report(&shown, &args.grids, &done);
    if matches!(args.format, FormatArg::Html) {
        table = crate::sweep_html::grid_page(&shown, &args.grids, &done, &table);
    }
    write_out(args.output.as_deref(), &table, &args.files).max(worst)
}

/// `merge`: shards into one distribution.
fn merge(files: &[PathBuf], json: bool) -> ExitCode {
    let parts: Result<Vec<_>, String> = files.iter().map(|f| montecarlo::read(f)).collect();
    match parts.and_then(montecarlo::merge) {
        Ok(all) if json => {
            crate::output::print(&(serde_json::to_string(&all).expect("results serialise") + "\n"));
            montecarlo::exit_code(&all)
        }
        Ok(all) => {
            crate::output::print(&montecarlo::report(&all, None));
            montecarlo::exit_code(&all)
        }
        Err(e) => fail(&e),
    }
}

/// Writes `text` to `-o FILE` (atomically) or stdout.
fn write_out(dest: Option<&Path>, text: &str, inputs: &[PathBuf]) -> ExitCode {
    let output = match dest {
        Some(path) => match Output::file(path, inputs) {
            Ok(o) => o,
            Err(e) => return fail(&e),
        },
        None => Output::stdout(),
    };
    let mut w = output.clone();
    if let Err(e) = w.write_all(text.as_bytes()) {
        return fail(&e.to_string());
    }
    drop(w);
    match output.finish(true) {
        Ok(()) => ExitCode::Ok,
        Err(e) => fail(&e),
    }
}

/// Validates each file; prints `ok` lines, or every problem.
fn check(given: &[PathBuf], color: bool, input: &Input) -> ExitCode {
    let (files, mut worst) = scenario_files(given);
    for path in &files {
        let shown = path.display().to_string();
        let checked = input
            .load(path)
            .map(|text| crate::check_source(&shown, &text, color));
        match checked {
            Ok(Ok(summary)) => crate::output::print(&format!("ok  {shown}: {summary}\n")),
            Ok(Err(report)) => {
                crate::output::warn(&report);
                worst = ExitCode::Invalid;
            }
            Err(message) => worst = worst.max(fail(&message)),
        }
    }
    worst
}

/// Prints a file's task graph.
fn export(path: &Path, color: bool, input: &Input) -> ExitCode {
    let shown = path.display().to_string();
    let text = match input.load(path) {
        Ok(text) => text,
        Err(message) => return fail(&message),
    };
    match crate::export_python(&shown, &text, color) {
        Ok(program) => {
            crate::output::print(&program);
            ExitCode::Ok
        }
        Err(report) => {
            crate::output::warn(&report);
            ExitCode::Invalid
        }
    }
}

fn graph(path: &Path, format: GraphFormat, color: bool, input: &Input) -> ExitCode {
    let shown = path.display().to_string();
    let text = match input.load(path) {
        Ok(text) => text,
        Err(message) => return fail(&message),
    };
    let format = match format {
        GraphFormat::Dot => crate::graph::Style::Dot,
        GraphFormat::Mermaid => crate::graph::Style::Mermaid,
    };
    match crate::graph_source(&shown, &text, format, color) {
        Ok(graph) => {
            crate::output::print(&graph);
            ExitCode::Ok
        }
        Err(report) => {
            crate::output::warn(&report);
            ExitCode::Invalid
        }
    }
}
