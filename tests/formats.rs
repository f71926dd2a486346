//! Every output format opens in its real consumer: Chrome trace events obey
//! the trace-event format's rules (what Perfetto reads), the Mermaid Gantt
//! follows Mermaid's grammar, and the SVG (alone and inside the HTML report)
//! parses and rasterises with resvg, for 5 tasks and for 500, with its lanes
//! drawn. The outside tools (Mermaid, Chromium, Graphviz) are in `tools.rs`.
//!
//! Set `SCENARIO_RUN_PICTURES=DIR` to also write the rasterised PNGs there.

mod common;

use std::collections::BTreeMap;

use common::picture::rasterise;
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

#[test]
fn svg_renders_for_5_and_for_500_tasks() {
    let small = render("scenarios/seed/01_event_loop_gather.toml", Format::Svg);
    let p = rasterise(&small, "gather");
    assert_eq!(p.width, 1100);
    assert!(
        p.height > 100 && p.coloured > 500,
        "{} {}",
        p.height,
        p.coloured
    );
    let big = render_text("500.toml", &five_hundred(), Format::Svg);
    let p = rasterise(&big, "five_hundred");
    assert!(
        p.height > 1000 && p.coloured > 10_000,
        "{} {}",
        p.height,
        p.coloured
    );
    // 500 lanes, however thin, each get some colour: most rows are coloured.
    assert!(p.coloured_rows > 500, "{} coloured rows", p.coloured_rows);
    assert!(
        big.contains("worker (500)"),
        "lanes of 500 are labelled by group"
    );
    for (path, name, lanes) in [
        ("scenarios/realistic/etl_dag.toml", "etl", 8),
        ("scenarios/realistic/backpressure.toml", "backpressure", 5),
        ("scenarios/realistic/blocking_call.toml", "blocking", 10),
    ] {
        let p = rasterise(&render(path, Format::Svg), name);
        assert_eq!(p.width, 1100, "{path}");
        // Each lane is a coloured bar several pixels high.
        assert!(
            p.coloured_rows >= lanes * 8 && p.coloured > lanes * 1_000,
            "{path}: {} coloured pixels in {} rows for {lanes} lanes",
            p.coloured,
            p.coloured_rows
        );
    }
}

#[test]
fn html_report_embeds_the_picture_summary_and_trace() {
    let html = render("scenarios/realistic/backpressure.toml", Format::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    let svg_start = html.find("<svg").expect("an inline picture");
    let svg_end = html.find("</svg>").unwrap() + "</svg>".len();
    let p = rasterise(&html[svg_start..svg_end], "report");
    assert!(
        p.width == 1100 && p.coloured_rows > 40,
        "the report's picture has lanes: {}x{}, {} coloured rows",
        p.width,
        p.height,
        p.coloured_rows
    );
    assert!(html.contains("<h2>Summary</h2>"));
    assert!(html.contains("makespan      3.7s"));
    assert!(html.contains("producer[0]"), "the text trace is included");
}
