//! The formats in the outside tools that read them: Mermaid's own parser,
//! headless Chromium, Graphviz. A tool that is not installed is skipped, and
//! the skip shows in this test run's own lines and summary, not only under
//! `--nocapture` (this target has its own small harness: `harness = false`
//! in Cargo.toml). With `SCENARIO_RUN_REQUIRE_TOOLS` set, as `.ci/run` sets
//! it once it installed them, a missing tool fails instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tools;
use scenario_run::{Format, Options, render_to_string};

const SAMPLES: [&str; 6] = [
    "scenarios/seed/07_patterns_producer_consumer_semaphore.toml",
    "scenarios/realistic/etl_dag.toml",
    "scenarios/realistic/blocking_call.toml",
    "scenarios/stuck/lock_order_cycle.toml",
    "scenarios/cancel.toml",
    "scenarios/after_triggers.toml",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn render(path: &str, format: Format) -> String {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let options = Options {
        format,
        ..Options::default()
    };
    render_to_string(path, &text, &options).0
}

fn graph(path: &str, style: &str) -> Vec<u8> {
    Command::new(env!("CARGO_BIN_EXE_scenario-run"))
        .args(["graph", "--format", style, path])
        .current_dir(root())
        .output()
        .unwrap()
        .stdout
}

fn mermaid_output_parses_with_mermaids_own_parser(node: &Path, dir: &Path) {
    let mut files = Vec::new();
    for (k, path) in SAMPLES.iter().enumerate() {
        let gantt = dir.join(format!("gantt{k}.mmd"));
        std::fs::write(&gantt, render(path, Format::Mermaid)).unwrap();
        let flow = dir.join(format!("flow{k}.mmd"));
        std::fs::write(&flow, graph(path, "mermaid")).unwrap();
        files.extend([gantt, flow]);
    }
    let status = Command::new(node)
        .arg(root().join("tests/mermaid/check.mjs"))
        .args(&files)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "Mermaid rejected a file in {}",
        dir.display()
    );
}

fn html_report_renders_in_headless_chromium(chromium: &Path, dir: &Path) {
    let page = dir.join("report.html");
    std::fs::write(
        &page,
        render("scenarios/realistic/blocking_call.toml", Format::Html),
    )
    .unwrap();
    let shot = dir.join("report.png");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .status()
        .expect("chromium runs");
    assert!(status.success());
    let png = common::picture::load_png(&shot);
    assert_eq!((png.width, png.height), (1200, 900), "the window's size");
    assert!(
        png.coloured > 5_000 && png.coloured_rows > 50,
        "the picture is drawn: {} coloured pixels in {} rows",
        png.coloured,
        png.coloured_rows
    );
    if let Some(keep) = std::env::var_os("SCENARIO_RUN_PICTURES") {
        std::fs::copy(&shot, Path::new(&keep).join("chromium_report.png")).unwrap();
    }
}

fn graph_dot_is_read_by_graphviz(dot: &Path, _dir: &Path) {
    for path in SAMPLES {
        let mut child = Command::new(dot)
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&graph(path, "dot"))
            .unwrap();
        let drawn = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&drawn.stderr);
        assert!(
            drawn.status.success() && stderr.is_empty(),
            "{path}: {stderr}"
        );
        let picture =
            common::picture::rasterise(&String::from_utf8(drawn.stdout).unwrap(), "graph");
        assert!(
            picture.width > 50 && picture.height > 50 && picture.inked > 1_000,
            "{path}: a graph is drawn ({}x{}, {} inked pixels)",
            picture.width,
            picture.height,
            picture.inked
        );
    }
}

type Check = fn(&Path, &Path);

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cases: [(&str, &str, Option<PathBuf>, Check); 3] = [
        (
            "mermaid_output_parses_with_mermaids_own_parser",
            "Mermaid (node, and `npm ci` in tests/mermaid)",
            tools::mermaid(),
            mermaid_output_parses_with_mermaids_own_parser,
        ),
        (
            "html_report_renders_in_headless_chromium",
            "Chromium (chromium or chromium-browser on PATH)",
            tools::chromium(),
            html_report_renders_in_headless_chromium,
        ),
        (
            "graph_dot_is_read_by_graphviz",
            "Graphviz (dot on PATH)",
            tools::dot(),
            graph_dot_is_read_by_graphviz,
        ),
    ];
    let (mut passed, mut failed, mut skipped) = (0, 0, Vec::new());
    let selected: Vec<_> = cases
        .into_iter()
        .filter(|(name, ..)| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", selected.len());
    for (name, what, tool, check) in selected {
        let Some(tool) = tool else {
            if tools::required() {
                println!("test {name} ... FAILED: {what} is required here but not found");
                failed += 1;
            } else {
                println!("test {name} ... SKIPPED: {what} not found");
                skipped.push(name);
            }
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let result = std::panic::catch_unwind(|| check(&tool, dir.path()));
        if result.is_ok() {
            println!("test {name} ... ok");
            passed += 1;
        } else {
            println!("test {name} ... FAILED");
            failed += 1;
        }
    }
    let verdict = if failed > 0 { "FAILED" } else { "ok" };
    let why = if skipped.is_empty() {
        String::new()
    } else {
        format!(" (tool not found: {})", skipped.join(", "))
    };
    println!(
        "\ntest result: {verdict}. {passed} passed; {failed} failed; {} skipped{why}\n",
        skipped.len()
    );
    if failed > 0 {
        std::process::exit(101);
    }
}
