//! `scenario-run gen`: the benchmark workloads as scenario files, at any
//! size, so anyone can reproduce the figures (see `benches/compare.sh`).

/// W1: N tasks, each sleeps a seeded uniform 0..10 s, all gathered.
/// W2: N tasks, each holds a semaphore of 100 permits for a 1 s sleep.
/// W3: one producer puts N items into a bounded queue of 100, 1 ms apart;
/// 10 consumers take 10 ms per item; `join` at the end.
/// W4: an M/M/c queue, open loop: N requests arrive 12.5 ms apart on
/// average (exponential gaps: 80 a second), each holds one of 10 servers
/// for an exponential 100 ms (utilisation 0.8); all gathered.
pub(crate) fn generate(workload: &str, n: u64) -> Result<String, String> {
    Ok(match workload {
        "w1" => format!(
            r#"# W1: {n} tasks, each sleeps a seeded uniform 0..10 s, all gathered.
[scenario]
name = "W1 sleep and gather, N = {n}"
main = "main"

[tasks.sleeper]
sleep = {{ uniform = ["0s", "10s"] }}

[tasks.main]
steps = [{{ spawn = "sleeper", count = {n}, as = "all" }}, {{ gather = "all" }}]
"#
        ),
        "w2" => format!(
            r#"# W2: {n} tasks, each holds a semaphore of 100 permits for a 1 s sleep.
[scenario]
name = "W2 semaphore, N = {n}"
main = "main"

[semaphores]
pool = 100

[tasks.worker]
steps = [{{ with = "pool", do = [{{ sleep = "1s" }}] }}]

[tasks.main]
steps = [{{ spawn = "worker", count = {n}, as = "all" }}, {{ gather = "all" }}]
"#
        ),
        "w3" => format!(
            r#"# W3: one producer puts {n} items into a bounded queue of 100, 1 ms apart;
# 10 consumers take 10 ms per item; `join` at the end.
[scenario]
name = "W3 bounded queue, N = {n}"
main = "main"

[queues]
items = 100

[tasks.consumer]
steps = [{{ forever = [{{ get = "items" }}, {{ sleep = "10ms" }}, {{ task_done = "items" }}] }}]

[tasks.main]
steps = [
  {{ spawn = "consumer", count = 10, as = "consumers" }},
  {{ repeat = {n}, do = [{{ sleep = "1ms" }}, {{ put = "items", item = "{{i}}" }}] }},
  {{ join = "items" }},
  {{ cancel = "consumers" }},
]
"#
        ),
        "w4" => format!(
            r#"# W4: an M/M/c queue, open loop: {n} requests arrive 12.5 ms apart on
# average (exponential gaps: 80 a second), each holds one of 10 servers for
# an exponential 100 ms (utilisation 0.8); all gathered.
[scenario]
name = "W4 M/M/10 open loop, N = {n}"
main = "main"

[semaphores]
servers = 10

[tasks.request]
steps = [{{ with = "servers", do = [{{ sleep = {{ exponential = "100ms" }} }}] }}]

[tasks.main]
steps = [
  {{ repeat = {n}, do = [{{ sleep = {{ exponential = "12.5ms" }} }}, {{ spawn = "request", into = "all" }}] }},
  {{ gather = "all" }},
]
"#
        ),
        other => return Err(format!("unknown workload `{other}`: w1, w2, w3 or w4")),
    })
}
