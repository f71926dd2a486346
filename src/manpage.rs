//! `scenario-run man`: a man page that carries what `--help` cannot: every
//! command with its arguments, the language reference (`docs/language.md`)
//! and the exit codes (the README's table), rendered from Markdown to roff.

use std::io::{self, Write};

/// The language reference, as the docs give it.
const LANGUAGE: &str = include_str!("../docs/language.md");
/// The README, for its table of exit codes.
const README: &str = include_str!("../README.md");

/// Writes the whole page.
pub(crate) fn render(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    writeln!(out, ".SH SYNOPSIS")?;
    writeln!(
        out,
        "\\fBscenario\\-run\\fR [\\fIOPTIONS\\fR] \\fIFILE\\fR..."
    )?;
    writeln!(out, ".br")?;
    writeln!(
        out,
        "\\fBscenario\\-run\\fR \\fICOMMAND\\fR [\\fIARGS\\fR...]"
    )?;
    writeln!(out, ".SH DESCRIPTION")?;
    writeln!(
        out,
        "{}",
        inline(
            "Runs each scenario (a TOML file, or every `*.toml` under a directory) in \
             virtual time and prints what an asyncio event loop does with it: a \
             deterministic trace, then a summary. The options below apply to running; \
             the commands follow."
        )
    )?;
    man.render_options_section(out)?;
    commands(&cmd, out)?;
    writeln!(out, ".SH LANGUAGE")?;
    out.write_all(roff(LANGUAGE).as_bytes())?;
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    out.write_all(roff(section(README, "## Exit codes")).as_bytes())?;
    writeln!(out, ".SH \"SEE ALSO\"")?;
    writeln!(
        out,
        "{}",
        inline(
            "The project's `docs/` directory: `language.md`, `formats.md`, `limits.md`, \
             `snapshots.md`, `montecarlo.md`, `performance.md`, `internals.md`."
        )
    )?;
    man.render_version_section(out)
}

/// Every command with its arguments and their descriptions.
fn commands(cmd: &clap::Command, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut usage = format!("scenario-run {}", sub.get_name());
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            let shown = arg_usage(arg);
            if arg.is_required_set() || arg.is_positional() {
                usage.push_str(&format!(" {shown}"));
            } else {
                usage.push_str(&format!(" [{shown}]"));
            }
        }
        writeln!(out, ".TP")?;
        writeln!(out, "\\fB{}\\fR", escape(&usage))?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", inline(&about.to_string()))?;
        }
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            let Some(help) = arg.get_help() else { continue };
            writeln!(out, ".RS")?;
            writeln!(out, ".TP")?;
            writeln!(out, "\\fI{}\\fR", escape(&arg_usage(arg)))?;
            writeln!(out, "{}", inline(&help.to_string()))?;
            writeln!(out, ".RE")?;
        }
    }
    Ok(())
}

/// `--n N`, `FILE...`, `--accept`.
fn arg_usage(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
    let many = matches!(arg.get_num_args(), Some(r) if r.max_values() > 1);
    let takes = arg.get_action().takes_values();
    match arg.get_long() {
        Some(long) if takes => format!("--{long} {value}"),
        Some(long) => format!("--{long}"),
        None if many => format!("{value}..."),
        None => value,
    }
}

/// The text of one `## ` section of a Markdown document, without its heading.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let Some(start) = doc.find(&format!("\n{heading}\n")) else {
        return "";
    };
    let rest = &doc[start + heading.len() + 2..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

/// Escapes text for roff: backslashes and hyphens.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// A line of text that roff must not read as a request.
fn guard(line: String) -> String {
    if line.starts_with('.') || line.starts_with('\'') {
        format!("\\&{line}")
    } else {
        line
    }
}

/// Inline Markdown to roff: `code` and **bold** in bold, links as text (url).
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut bold = false;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**") {
            out.push_str(if bold { "\\fR" } else { "\\fB" });
            bold = !bold;
            rest = after;
        } else if c == '`' {
            if let Some(end) = rest[1..].find('`') {
                out.push_str(&format!("\\fB{}\\fR", escape(&rest[1..1 + end])));
                rest = &rest[end + 2..];
            } else {
                out.push('`');
                rest = &rest[1..];
            }
        } else if c == '['
            && let Some(close) = rest.find("](")
            && let Some(end) = rest[close..].find(')')
        {
            let label = &rest[1..close];
            let url = &rest[close + 2..close + end];
            out.push_str(&format!("{} ({})", inline(label), escape(url)));
            rest = &rest[close + end + 1..];
        } else {
            out.push_str(&escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    if bold {
        out.push_str("\\fR");
    }
    out
}

/// A Markdown document to roff: headings become `.SS`, code blocks `.nf`,
/// table rows `.TP` entries, list items `.IP` bullets.
fn roff(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let lines: Vec<&str> = markdown.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        if line.starts_with("```") {
            if in_code {
                out.push_str(".fi\n.RE\n");
            } else {
                if !out.ends_with(".PP\n") {
                    out.push_str(".PP\n");
                }
                out.push_str(".RS 4\n.nf\n");
            }
            in_code = !in_code;
        } else if in_code {
            out.push_str(&guard(escape(line)));
            out.push('\n');
        } else if line.starts_with("# ") || line.starts_with("<!--") {
        } else if let Some(title) = line.strip_prefix("## ") {
            out.push_str(&format!(".SS \"{}\"\n", inline(title).replace('"', "")));
        } else if line.starts_with('|') {
            let cells: Vec<String> = line
                .trim_matches('|')
                .replace("\\|", "\u{1}")
                .split('|')
                .map(|c| c.trim().replace('\u{1}', "|"))
                .collect();
            if cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                continue;
            }
            let header = lines.get(n + 1).is_some_and(|l| l.starts_with("| ---"));
            let (first, rest) = cells.split_first().expect("a row has cells");
            let rest = rest
                .iter()
                .map(|c| inline(c))
                .collect::<Vec<_>>()
                .join("; ");
            if header {
                out.push_str(&format!(
                    ".TP\n\\fI{}\\fR\n\\fI{}\\fR\n",
                    escape(first),
                    rest
                ));
            } else {
                out.push_str(&format!(".TP\n{}\n{}\n", inline(first), rest));
            }
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push_str(&format!(".IP \\(bu 2\n{}\n", inline(item)));
        } else if line.trim().is_empty() {
            if !out.ends_with(".PP\n") {
                out.push_str(".PP\n");
            }
        } else {
            out.push_str(&guard(inline(line.trim_start())));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_roff() {
        let r = roff(
            "## Steps\n\nA `sleep` step.\n\n| a | b |\n| --- | --- |\n| `x` | y \\| z |\n\n```toml\n.dot = 1\n```\n- item\n",
        );
        assert!(r.contains(".SS \"Steps\""), "{r}");
        assert!(r.contains("A \\fBsleep\\fR step."), "{r}");
        assert!(r.contains(".TP\n\\fBx\\fR\ny | z\n"), "{r}");
        assert!(r.contains(".nf\n\\&.dot = 1\n.fi"), "{r}");
        assert!(r.contains(".IP \\(bu 2\nitem"), "{r}");
    }

    #[test]
    fn the_exit_codes_are_found_in_the_readme() {
        let codes = section(README, "## Exit codes");
        assert!(codes.contains("| 3 |"), "{codes}");
        assert!(!codes.contains("## "), "{codes}");
    }
}
