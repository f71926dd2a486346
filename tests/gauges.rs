//! The permits and depths every scenario's JSON Lines trace reports agree
//! with an independent count of its acquire/release and put/get events, stay
//! within their bounds, and come back to zero when every task has ended.

mod common;

use scenario_run::{Format, Options, load, render_to_string};

#[test]
fn gauges_agree_with_the_events_of_every_scenario() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"));
    let mut levels = 0;
    for path in common::scenarios(dir) {
        let Ok(text) = load(&path) else { continue };
        let options = Options {
            format: Format::Jsonl,
            ..Options::default()
        };
        let (trace, code) = render_to_string("s", &text, &options);
        if code == scenario_run::ExitCode::Invalid {
            continue;
        }
        match common::levels::check_trace(&trace) {
            Ok(n) => levels += n,
            Err(why) => panic!("{}: {why}", path.display()),
        }
    }
    assert!(levels > 100, "only {levels} level events");
}

/// The case that left the gauge at 5/5: a waiter handed a permit and
/// cancelled before it ran gives the permit back.
#[test]
fn a_cancelled_grant_brings_the_gauge_back_to_zero() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/permit_granted_then_cancelled.toml"
    );
    let text = load(std::path::Path::new(path)).unwrap();
    let options = Options {
        format: Format::Jsonl,
        ..Options::default()
    };
    let (trace, _) = render_to_string("s", &text, &options);
    assert_eq!(common::levels::check_trace(&trace), Ok(3), "{trace}");
    let last_permits = trace
        .lines()
        .rfind(|l| l.contains("\"permits\":{"))
        .unwrap();
    assert!(last_permits.contains("\"value\":0"), "{last_permits}");
}

#[test]
fn the_count_catches_a_gauge_that_does_not_come_back() {
    // The trace of the bug: handed to a waiter that is then cancelled, with
    // no event giving the permit back.
    let trace = [
        r#"{"kind":"scenario"}"#,
        r#"{"time_ns":0,"task":"a","kind":"acquired","detail":"p (1/1 in use)","permits":{"name":"p","value":1,"bound":1}}"#,
        r#"{"time_ns":1,"task":"a","kind":"released","detail":"p: handed to b (1/1 in use)","permits":{"name":"p","value":1,"bound":1}}"#,
        r#"{"time_ns":1,"task":"b","kind":"cancelled","detail":""}"#,
        r#"{"kind":"summary","tasks":{"pending":0},"stopped":null}"#,
    ]
    .join("\n");
    let why = common::levels::check_trace(&trace).unwrap_err();
    assert!(
        why.contains("still in use") || why.contains("never taken"),
        "{why}"
    );
    let over = r#"{"time_ns":0,"task":"a","kind":"acquired","detail":"p (2/1 in use)","permits":{"name":"p","value":2,"bound":1}}"#;
    let trace = format!("{{}}\n{over}\n{over}\n{{}}");
    assert!(common::levels::check_trace(&trace).is_err());
}
