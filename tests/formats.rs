//! Every output format opens in its real consumer: Chrome trace events obey
//! the trace-event format's rules (what Perfetto reads), the Mermaid Gantt
//! follows Mermaid's grammar, and the SVG (alone and inside the HTML report)
//! parses and rasterises with resvg, for 5 tasks and for 500.
//!
//! Set `SCENARIO_RUN_PICTURES=DIR` to also write the rasterised PNGs there.

use std::collections::BTreeMap;

use scenario_run::{Format, Options, render_to_string};
use serde_json::Value;

fn render(path: &str, format: Format) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    render_text(path, &text, format)
}

fn render_text(name: &str, text: &str, format: Format) -> String {
    let options = Options {
        format,
        ..Options::default()
    };
    render_to_string(name, text, &options).0
}

const SAMPLES: [&str; 6] = [
    "scenarios/seed/07_patterns_producer_consumer_semaphore.toml",
    "scenarios/realistic/etl_dag.toml",
    "scenarios/realistic/blocking_call.toml",
    "scenarios/stuck/lock_order_cycle.toml",
    "scenarios/cancel.toml",
    "scenarios/after_triggers.toml",
];

/// 500 tasks behind a semaphore, feeding a queue.
fn five_hundred() -> String {
    r#"
[scenario]
name = "500 workers"
seed = 1
[semaphores]
pool = 20
[queues]
out = 50
[tasks.worker]
count = 500
limit = "pool"
steps = [{ sleep = { exponential = "100ms" } }, { put = "out", item = "{i}" }]
[tasks.drain]
steps = [{ repeat = 500, do = [{ get = "out" }, { sleep = "2ms" }] }]
"#
    .to_owned()
}

#[test]
fn chrome_trace_events_follow_the_format() {
    for path in SAMPLES {
        let out = render(path, Format::Chrome);
        let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{path}: {e}"));
        let events = doc["traceEvents"].as_array().expect("traceEvents");
        assert!(doc["otherData"]["makespan_ns"].is_u64());
        let mut stacks: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        let mut last_ts: BTreeMap<u64, f64> = BTreeMap::new();
        let mut open_async: BTreeMap<String, i32> = BTreeMap::new();
        for e in events {
            let ph = e["ph"].as_str().expect("ph");
            assert!(e["pid"].is_u64() && e["name"].is_string(), "{path}: {e}");
            if ph == "M" {
                continue;
            }
            let ts = e["ts"].as_f64().expect("ts");
            if ph == "C" {
                assert!(e["args"]["value"].is_u64());
                continue;
            }
            let tid = e["tid"].as_u64().expect("tid");
            let prev = last_ts.insert(tid, ts).unwrap_or(0.0);
            assert!(ts >= prev, "{path}: time went back on track {tid}");
            let name = e["name"].as_str().unwrap().to_owned();
            match ph {
                "B" => stacks.entry(tid).or_default().push(name),
                "E" => {
                    let top = stacks.entry(tid).or_default().pop();
                    assert_eq!(top.as_deref(), Some(name.as_str()), "{path}: unbalanced E");
                }
                "b" | "e" => {
                    let id = e["id2"]["local"].as_str().expect("id2.local").to_owned();
                    *open_async.entry(id).or_default() += if ph == "b" { 1 } else { -1 };
                }
                "i" => assert_eq!(e["s"], "t"),
                "X" => assert!(e["dur"].as_f64().unwrap() >= 0.0),
                other => panic!("{path}: unexpected phase {other}"),
            }
        }
        assert!(
            stacks.values().all(Vec::is_empty),
            "{path}: spans left open"
        );
        assert!(
            open_async.values().all(|n| *n >= 0),
            "{path}: permit released before held"
        );
    }
}

#[test]
fn mermaid_gantt_follows_the_grammar() {
    for path in SAMPLES {
        let out = render(path, Format::Mermaid);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("gantt"));
        assert!(lines.next().unwrap().starts_with("    title "));
        assert_eq!(lines.next(), Some("    dateFormat x"));
        assert!(lines.next().unwrap().starts_with("    axisFormat %"));
        let mut tasks = 0;
        for line in lines {
            if let Some(section) = line.strip_prefix("    section ") {
                assert!(!section.contains(':'), "{line}");
                continue;
            }
            let (name, rest) = line.trim_start().split_once(" :").expect(line);
            assert!(!name.contains([':', ';', '#']), "{line}");
            let fields: Vec<&str> = rest.split(", ").collect();
            let (tags, id_start_end) = fields.split_at(fields.len() - 3);
            for tag in tags {
                assert!(
                    ["done", "crit", "active", "milestone"].contains(tag),
                    "{line}"
                );
            }
            assert!(id_start_end[0].starts_with('t'));
            let start: u64 = id_start_end[1].parse().expect(line);
            let end: u64 = id_start_end[2].parse().expect(line);
            assert!(end >= start, "{line}");
            assert!(end > start || tags.contains(&"milestone"), "{line}");
            tasks += 1;
        }
        assert!(tasks > 0, "{path}");
    }
}

/// Parses and rasterises an SVG; returns (width, height, coloured pixels).
fn rasterise(svg: &str, save_as: &str) -> (u32, u32, usize) {
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    // Debian ships DejaVu; Helvetica and Arial fall back to it.
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let tree = resvg::usvg::Tree::from_str(svg, &options).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    if let Some(dir) = std::env::var_os("SCENARIO_RUN_PICTURES") {
        pixmap
            .save_png(std::path::Path::new(&dir).join(format!("{save_as}.png")))
            .unwrap();
    }
    let coloured = pixmap
        .pixels()
        .iter()
        .filter(|p| p.red() != p.green() || p.green() != p.blue())
        .count();
    (size.width(), size.height(), coloured)
}

#[test]
fn svg_renders_for_5_and_for_500_tasks() {
    let small = render("scenarios/seed/01_event_loop_gather.toml", Format::Svg);
    let (w, h, coloured) = rasterise(&small, "gather");
    assert_eq!(w, 1100);
    assert!(h > 100 && coloured > 500, "{h} {coloured}");
    let big = render_text("500.toml", &five_hundred(), Format::Svg);
    let (_, h, coloured) = rasterise(&big, "five_hundred");
    assert!(h > 1000 && coloured > 10_000, "{h} {coloured}");
    assert!(
        big.contains("worker (500)"),
        "lanes of 500 are labelled by group"
    );
    for (path, name) in [
        ("scenarios/realistic/etl_dag.toml", "etl"),
        ("scenarios/realistic/backpressure.toml", "backpressure"),
        ("scenarios/realistic/blocking_call.toml", "blocking"),
    ] {
        rasterise(&render(path, Format::Svg), name);
    }
}

#[test]
fn html_report_embeds_the_picture_summary_and_trace() {
    let html = render("scenarios/realistic/backpressure.toml", Format::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    let svg_start = html.find("<svg").expect("an inline picture");
    let svg_end = html.find("</svg>").unwrap() + "</svg>".len();
    rasterise(&html[svg_start..svg_end], "report");
    assert!(html.contains("<h2>Summary</h2>"));
    assert!(html.contains("makespan      3.7s"));
    assert!(html.contains("producer[0]"), "the text trace is included");
}

/// Whether an outside tool is here; `.ci/run` installs them and sets
/// `SCENARIO_RUN_REQUIRE_TOOLS`, so there a missing tool fails the test.
fn tool_available(what: &str, present: bool) -> bool {
    if !present {
        assert!(
            std::env::var_os("SCENARIO_RUN_REQUIRE_TOOLS").is_none(),
            "{what} is required here but missing"
        );
        eprintln!("skipped: {what} is not installed (see .ci/run)");
    }
    present
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scenario-run-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn mermaid_output_parses_with_mermaids_own_parser() {
    let checker = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mermaid");
    let installed = std::path::Path::new(checker)
        .join("node_modules/mermaid")
        .is_dir();
    if !tool_available("Mermaid (npm ci in tests/mermaid)", installed) {
        return;
    }
    let dir = temp_dir("mermaid");
    let mut files = Vec::new();
    for (k, path) in SAMPLES.iter().enumerate() {
        let gantt = dir.join(format!("gantt{k}.mmd"));
        std::fs::write(&gantt, render(path, Format::Mermaid)).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scenario-run"))
            .args(["graph", "--format", "mermaid", path])
            .output()
            .unwrap();
        let flow = dir.join(format!("flow{k}.mmd"));
        std::fs::write(&flow, out.stdout).unwrap();
        files.extend([gantt, flow]);
    }
    let status = std::process::Command::new("node")
        .arg(format!("{checker}/check.mjs"))
        .args(&files)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "Mermaid rejected a file in {}",
        dir.display()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if !tool_available("Chromium", chromium.is_some()) {
        return;
    }
    let dir = temp_dir("chromium");
    let page = dir.join("report.html");
    let html = render("scenarios/realistic/blocking_call.toml", Format::Html);
    std::fs::write(&page, html).unwrap();
    let shot = dir.join("report.png");
    let status = std::process::Command::new(chromium.unwrap())
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
    let png = resvg::tiny_skia::Pixmap::load_png(&shot).expect("a PNG screenshot");
    let coloured = png
        .pixels()
        .iter()
        .filter(|p| p.red() != p.green() || p.green() != p.blue())
        .count();
    assert!(
        coloured > 5_000,
        "the picture is drawn: {coloured} coloured pixels"
    );
    if let Some(keep) = std::env::var_os("SCENARIO_RUN_PICTURES") {
        std::fs::copy(
            &shot,
            std::path::Path::new(&keep).join("chromium_report.png"),
        )
        .unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn graph_dot_is_read_by_graphviz() {
    if !tool_available("Graphviz", std::path::Path::new("/usr/bin/dot").exists()) {
        return;
    }
    for path in SAMPLES {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scenario-run"))
            .args(["graph", path])
            .output()
            .unwrap();
        let mut dot = std::process::Command::new("/usr/bin/dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        dot.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        let drawn = dot.wait_with_output().unwrap();
        assert!(
            drawn.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&drawn.stderr)
        );
        assert!(
            drawn.stderr.is_empty(),
            "{path}: {}",
            String::from_utf8_lossy(&drawn.stderr)
        );
        rasterise(&String::from_utf8(drawn.stdout).unwrap(), "graph");
    }
}
