//! Any bytes: parse, validate and (when valid) run under tight limits, in
//! both trace formats. Nothing may panic, hang or grow without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenario_run::{Format, Limits, Options, render_to_string};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        time: Some(3_600_000_000_000),
        steps: 20_000,
        steps_per_instant: 5_000,
        tasks: 2_000,
    };
    for format in [Format::Text, Format::Jsonl] {
        let options = Options {
            format,
            limits,
            ..Options::default()
        };
        let _ = render_to_string("fuzz.toml", text, &options);
    }
});
