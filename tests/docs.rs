//! The documentation cannot drift: every example in `README.md` and
//! `docs/*.md` that is a scenario is run, and every output shown is compared
//! with what the tool prints.
//!
//! The conventions, for whoever writes docs:
//! - A ` ```toml ` block is a complete scenario and must be valid. A partial
//!   one is marked ` ```toml fragment `.
//! - A ` ```text ` (or bare ` ``` `) block right after a scenario block is
//!   that scenario's output. One preceded by the line
//!   `<!-- output of FILE ARGS... -->` is the output of
//!   `scenario-run FILE ARGS...` (run from the repository root). Any other
//!   one must say it is not checked: ` ```text illustration `.
//! - A shown output is compared line by line, trailing spaces ignored. A line
//!   `...` stands for any number of lines; the shown lines may also start and
//!   end anywhere in the output (an excerpt), but each run of lines between
//!   `...` must appear as it is, in order.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One fenced block.
struct Block {
    /// The fence's info string (`toml`, `text fragment`, ...).
    info: String,
    body: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// `<!-- output of ... -->` on the line before the fence, if any.
    output_of: Option<Vec<String>>,
    /// Only blank lines between the previous block's end and this fence.
    follows_previous: bool,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut last_end: Option<usize> = None;
    while i < lines.len() {
        let Some(info) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i;
        let mut body = String::new();
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            body.push_str(lines[i]);
            body.push('\n');
            i += 1;
        }
        let before = start.checked_sub(1).map(|k| lines[k].trim());
        let output_of = before
            .and_then(|l| l.strip_prefix("<!-- output of "))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|l| l.split_whitespace().map(str::to_owned).collect());
        let follows_previous =
            last_end.is_some_and(|end| lines[end + 1..start].iter().all(|l| l.trim().is_empty()));
        out.push(Block {
            info: info.trim().to_owned(),
            body,
            line: start + 1,
            output_of,
            follows_previous,
        });
        last_end = Some(i);
        i += 1;
    }
    out
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn documents() -> Vec<PathBuf> {
    let mut docs = vec![root().join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// Runs the binary from the repository root; stdout, then the exit code.
fn run(args: &[String]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// Whether `shown` (with `...` elisions) is an excerpt of `actual`.
fn matches(shown: &str, actual: &str) -> Result<(), String> {
    let actual: Vec<&str> = actual.lines().map(str::trim_end).collect();
    let mut segments: Vec<Vec<&str>> = vec![Vec::new()];
    for line in shown.lines() {
        if line.trim() == "..." {
            segments.push(Vec::new());
        } else {
            segments.last_mut().unwrap().push(line.trim_end());
        }
    }
    let mut from = 0;
    for segment in segments.iter().filter(|s| !s.is_empty()) {
        let found = (from..=actual.len().saturating_sub(segment.len()))
            .find(|&at| actual.get(at..at + segment.len()) == Some(segment.as_slice()));
        match found {
            Some(at) => from = at + segment.len(),
            None => {
                return Err(format!(
                    "these lines are not in the output (in this order, after line {from}):\n{}",
                    segment.join("\n")
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_example_in_the_docs_runs_and_shows_its_real_output() {
    let temp = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        let mut last_scenario: Option<(String, i32)> = None;
        for block in blocks(&text) {
            let at = format!("{name}:{}", block.line);
            let mut words = block.info.split_whitespace();
            let lang = words.next().unwrap_or("");
            let marks: Vec<&str> = words.collect();
            let previous = last_scenario.take();
            match lang {
                "toml" if marks.contains(&"fragment") => {}
                "toml" => {
                    let file = temp.path().join(format!("example_{}.toml", block.line));
                    std::fs::write(&file, &block.body).unwrap();
                    let (out, code) = run(&[file.display().to_string()]);
                    if code == 2 {
                        problems.push(format!(
                            "{at}: this scenario is invalid (mark a partial one ```toml fragment):\n{out}"
                        ));
                    }
                    last_scenario = Some((out, code));
                    checked += 1;
                }
                "" | "text" if marks.contains(&"illustration") => {}
                "" | "text" => {
                    let actual = match (&block.output_of, previous) {
                        (Some(args), _) => run(args).0,
                        (None, Some((out, _))) if block.follows_previous => out,
                        _ => {
                            problems.push(format!(
                                "{at}: a shown output that is checked against nothing: put it \
                                 right after its scenario, precede it with \
                                 `<!-- output of FILE ARGS -->`, or mark it ```text illustration"
                            ));
                            continue;
                        }
                    };
                    let actual = actual.replace(&format!("{}/", temp.path().display()), "");
                    if let Err(why) = matches(&block.body, &actual) {
                        problems.push(format!("{at}: {why}\n--- the real output:\n{actual}"));
                    }
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(checked >= 5, "only {checked} examples checked");
}

/// No placeholder for the reader to fill, and installs that use the lockfile.
#[test]
fn the_docs_have_no_placeholders_and_install_with_locked() {
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        assert!(!text.contains("OWNER"), "{}", doc.display());
        for line in text.lines().filter(|l| l.contains("cargo install")) {
            assert!(line.contains("--locked"), "{}: {line}", doc.display());
        }
    }
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("\ncargo test --locked "),
        "the README's test command"
    );
    assert!(
        ci.contains("\ncargo test --locked\n"),
        "CI runs the README's test command"
    );
}

#[test]
fn excerpts_match_with_elisions_and_fail_on_drift() {
    let actual = "a\nb\nc\nd\ne\n";
    assert!(matches("b\nc\n", actual).is_ok());
    assert!(matches("a\n...\nd\n", actual).is_ok());
    assert!(matches("a\n  ...\ne\n", actual).is_ok());
    assert!(matches("a\nc\n", actual).is_err(), "lines not adjacent");
    assert!(matches("d\n...\nb\n", actual).is_err(), "out of order");
    assert!(matches("f\n", actual).is_err());
}

#[test]
fn fences_are_read_with_their_marks() {
    let doc = "x\n```toml\n[tasks.a]\n```\n\n```text\nout\n```\n<!-- output of a.toml -v -->\n```\nz\n```\n";
    let b = blocks(doc);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].info, "toml");
    assert!(b[1].follows_previous);
    assert_eq!(b[1].body, "out\n");
    assert_eq!(
        b[2].output_of.as_deref(),
        Some(&["a.toml".to_owned(), "-v".to_owned()][..])
    );
}
