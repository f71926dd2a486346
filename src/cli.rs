//! The command line: parse arguments, run each file, choose the exit code.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::limits::Limits;
use crate::run::{Format, Options};
use crate::{ExitCode, run_source};

/// Run async task-graph scenarios in virtual time and print what the event loop does.
#[derive(Parser, Debug)]
#[command(name = "scenario-run", version, about)]
struct Cli {
    /// Scenario files (TOML) to run, in order.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
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
    /// Stop when virtual time would pass this (overrides `[scenario] time_limit`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    time_limit: Option<u64>,
    /// Stop after this many steps in all.
    #[arg(long, value_name = "N", default_value_t = Limits::default().steps)]
    max_steps: u64,
    /// Stop when one task runs this many steps at one instant (a loop that never sleeps).
    #[arg(long, value_name = "N", default_value_t = Limits::default().steps_per_instant)]
    max_steps_per_instant: u64,
    /// Stop when more than this many tasks would be alive at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().tasks)]
    max_tasks: u64,
}

fn parse_duration(text: &str) -> Result<u64, String> {
    crate::duration::parse(text)
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
            "`{text}` is not a speed: give a number above 0, like 10 or 0.5"
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
    Text,
    Jsonl,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
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
    let options = Options {
        seed: cli.seed,
        format: match cli.format {
            FormatArg::Text => Format::Text,
            FormatArg::Jsonl => Format::Jsonl,
        },
        verbose: cli.verbose,
        summary_only: cli.summary,
        limits: Limits {
            time: cli.time_limit,
            steps: cli.max_steps,
            steps_per_instant: cli.max_steps_per_instant,
            tasks: cli.max_tasks,
        },
        compare_sequential: matches!(cli.compare, Some(CompareArg::Sequential)),
        real_speed: (cli.clock == ClockArg::Real).then_some(cli.speed),
    };
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let mut worst = ExitCode::Ok;
    for (n, path) in cli.files.iter().enumerate() {
        let display = path.display().to_string();
        let text = match crate::load(path) {
            Ok(text) => text,
            Err(message) => {
                eprintln!("error: {message}");
                worst = worst.max(ExitCode::Invalid);
                continue;
            }
        };
        if n > 0 && options.format == Format::Text {
            println!();
        }
        let out: Box<dyn Write> = Box::new(BufWriter::new(std::io::stdout()));
        let code = run_source(
            &display,
            &text,
            &options,
            out,
            &mut |diag| eprint!("{diag}"),
            color,
        );
        worst = worst.max(code);
    }
    worst as i32
}
