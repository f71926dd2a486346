//! The command line: parse arguments, run each file, choose the exit code.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

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
    };
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let mut worst = ExitCode::Ok;
    for (n, path) in cli.files.iter().enumerate() {
        let display = path.display().to_string();
        let text = match read(path) {
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

/// Reads a scenario file, explaining what went wrong in words.
fn read(path: &PathBuf) -> Result<String, String> {
    let shown = path.display();
    if path.is_dir() {
        return Err(format!("`{shown}` is a directory, not a scenario file"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{shown}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
