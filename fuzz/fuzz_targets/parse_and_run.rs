//! Any bytes: parse, validate and (when valid) run under tight limits, in
//! every format. Nothing may panic, hang or grow without bound, and a run
//! must tell the same twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_run::{Format, Limits, Options, render_to_string};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        time: Some(3_600_000_000_000),
        steps: 2_000,
        steps_per_instant: 500,
        tasks: 200,
        tasks_created: 5_000,
        ..Limits::default()
    };
    // The format follows the input, so every renderer is fuzzed.
    let format = [
        Format::Text,
        Format::Jsonl,
        Format::Chrome,
        Format::Mermaid,
        Format::Svg,
        Format::Html,
    ][data.len() % 6];
    let options = Options {
        format,
        limits,
        ..Options::default()
    };
    let once = render_to_string("fuzz.toml", text, &options);
    assert_eq!(once, render_to_string("fuzz.toml", text, &options));
});
