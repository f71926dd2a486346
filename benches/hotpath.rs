//! The interpreter's hot path, one operation at a time, so a regression shows
//! up per operation: spawning, sleeping (a timer and a wake), a semaphore
//! hand-off, a queue put/get, and a gather. Each case is a scenario of 1,000
//! tasks run without a trace.
//!
//!     cargo bench --bench hotpath

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenario_run::{Options, render_to_string};

const N: u64 = 1000;

fn scenario(body: &str, extra: &str) -> String {
    format!(
        "[scenario]\nmain = \"main\"\n{extra}\n[tasks.t]\nsteps = {body}\n[tasks.main]\nsteps = [{{ spawn = \"t\", count = {N}, as = \"all\" }}, {{ gather = \"all\" }}]\n"
    )
}

fn cases() -> Vec<(&'static str, String)> {
    vec![
        ("spawn and finish", scenario("[{ return = 1 }]", "")),
        (
            "sleep (timer and wake)",
            scenario("[{ sleep = { uniform = [\"0s\", \"1s\"] } }]", ""),
        ),
        ("sleep 0 (yield)", scenario("[{ sleep = \"0s\" }]", "")),
        (
            "semaphore hand-off",
            scenario(
                "[{ with = \"s\", do = [{ sleep = \"1ms\" }] }]",
                "[semaphores]\ns = 10\n",
            ),
        ),
        (
            "queue put and get",
            scenario(
                "[{ put = \"q\", item = \"{i}\" }, { get = \"q\" }]",
                "[queues]\nq = 10\n",
            ),
        ),
    ]
}

fn hot_path(c: &mut Criterion) {
    let options = Options {
        summary_only: true,
        ..Options::default()
    };
    let mut group = c.benchmark_group("per task");
    group.throughput(Throughput::Elements(N));
    for (name, text) in cases() {
        let (_, code) = render_to_string("bench.toml", &text, &options);
        assert_eq!(code as i32, 0, "{name} runs");
        group.bench_function(name, |b| {
            b.iter(|| render_to_string("bench.toml", &text, &options))
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
