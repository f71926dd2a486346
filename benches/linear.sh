#!/usr/bin/env bash
# Checks that cost grows linearly with events for every verb: each case runs
# one verb (or one pattern) N times, at N = 10,000 and N = 100,000, and
# prints the ratio of the two times. Ten times the work may take at most 12
# times as long: above that the case prints "NOT linear" and the script
# exits 1.
#
#   benches/linear.sh             # every case
#   benches/linear.sh gather wait # only the cases named
#
# Times are the best of five runs of the release build (user + system CPU
# time, as bash's `time` reports it, to the millisecond), less the time the
# tool takes to start, so a busy moment of the machine does not count
# against a case.
set -euo pipefail
cd "$(dirname "$0")/.."

SMALL=${SMALL:-10000}
LARGE=${LARGE:-100000}
MAX_RATIO=12

cargo build --release --quiet
bin=target/release/scenario-run
work=$(mktemp -d "${TMPDIR:-/tmp}/scenario-run-linear.XXXXXX")
trap 'rm -rf "$work"' EXIT

# scenario NAME N: the case NAME with its loop run N times, on stdout.
scenario() {
  local n=$2
  cat <<EOF
[scenario]
main = "main"
$([[ $1 == eager* ]] && echo 'eager_tasks = true')

[semaphores]
pool = 2
lk = { kind = "lock" }
ps = { permits = 2, kind = "priority" }
pp = { permits = 1, kind = "preemptive" }

[events]
e = {}

[barriers]
b = { parties = 2 }
[conditions]
cv = {}

[queues]
q = 10
pq = { kind = "priority" }
lq = { kind = "lifo" }

[futures]
f = { on_done = [{ log = "f is done" }] }

[tasks.w]
steps = [{ sleep = "1ms" }, { return = "r{i}" }]

[tasks.noted]
on_done = [{ log = "{name} ended" }]
steps = [{ sleep = "1ms" }]

[tasks.long]
steps = [{ sleep = "1h" }]

[tasks.flaky]
retry = { attempts = 3, backoff = "1ms" }
steps = [{ fail = "boom", chance = 0.5 }]

EOF
  case $1 in
    sleep) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ sleep = \"1ms\" }] }]" ;;
    block) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ block = \"1ms\" }] }]" ;;
    log) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ log = \"line {i}\" }] }]" ;;
    fail) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ try = [{ fail = \"boom {i}\" }], except = [{ pass = true }] }] }]" ;;
    return | call) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ call = \"w\" }] }]" ;;
    spawn) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\" }] }, { sleep = \"1s\" }]" ;;
    eager) echo "[tasks.quick]
steps = [{ return = \"q{i}\" }]

[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"quick\" }, { spawn = \"w\" }] }, { sleep = \"1s\" }]" ;;
    eager_group) echo "[tasks.quick]
steps = [{ return = \"q{i}\" }]

[tasks.main]
steps = [{ task_group = \"tg\", do = [{ repeat = $n, do = [{ spawn = \"quick\", into = \"tg\" }, { spawn = \"w\", into = \"tg\" }] }] }]" ;;
    spawn_into) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", into = \"all\" }] }, { gather = \"all\" }]" ;;
    count) echo "[tasks.main]
steps = [{ spawn = \"w\", count = $n, as = \"all\" }, { gather = \"all\" }]" ;;
    await) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", as = \"h\" }, { await = \"h\" }] }]" ;;
    await_future) echo "[tasks.waiter]
count = $n
steps = [{ await = \"f\" }]

[tasks.main]
steps = [{ sleep = \"1s\" }, { set_result = \"f\", value = \"v\" }, { sleep = \"1s\" }]" ;;
    set_exception) echo "[tasks.waiter]
count = $n
steps = [{ try = [{ await = \"f\" }], except = [{ pass = true }] }]

[tasks.main]
steps = [{ sleep = \"1s\" }, { set_exception = \"f\", error = \"no\" }, { sleep = \"1s\" }]" ;;
    gather) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", as = \"h\" }, { gather = \"h\" }] }]" ;;
    gather_many) echo "[tasks.main]
steps = [{ spawn = \"w\", count = $n, as = \"all\" }, { gather = \"all\", return_exceptions = true }, { log = \"{all.count}\" }]" ;;
    wait) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", as = \"h\" }, { wait = \"h\" }] }]" ;;
    wait_first) echo "[tasks.main]
steps = [{ spawn = \"w\", count = $n, as = \"all\" }, { wait = \"all\", return_when = \"FIRST_COMPLETED\" }, { wait = \"all\" }]" ;;
    wait_for) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", as = \"h\" }, { wait_for = \"h\", timeout = \"1s\" }] }]" ;;
    timeout) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ timeout = \"1s\", do = [{ sleep = \"1ms\" }] }] }]" ;;
    timeout_expires) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ try = [{ timeout = \"1ms\", do = [{ sleep = \"1s\" }] }], except = [{ pass = true }] }] }]" ;;
    cancel) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"long\", as = \"h\" }, { sleep = \"0s\" }, { cancel = \"h\" }] }]" ;;
    cancel_at_end) echo "[tasks.main]
steps = [{ spawn = \"long\", count = $n }, { sleep = \"1ms\" }]" ;;
    try) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ try = [{ log = \"a\" }], finally = [{ log = \"b\" }] }] }]" ;;
    with) echo "[tasks.user]
count = $n
steps = [{ with = \"pool\", do = [{ sleep = \"1ms\" }] }]

[tasks.main]
steps = [{ sleep = \"1ms\" }]" ;;
    acquire) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ acquire = \"pool\" }, { release = \"pool\" }] }]" ;;
    semaphore_waiters) echo "[tasks.user]
count = $n
steps = [{ with = \"pool\", do = [{ sleep = \"0s\" }] }]

[tasks.main]
steps = [{ sleep = \"1ms\" }]" ;;
    priority_waiters) echo "[tasks.user]
count = $n
steps = [{ with = \"ps\", priority = \"{i}\", do = [{ sleep = \"0s\" }] }]

[tasks.main]
steps = [{ sleep = \"1ms\" }]" ;;
    preempt) echo "[tasks.user]
count = $n
steps = [{ sleep = \"{i}ms\" }, { try = [{ with = \"pp\", priority = 1, do = [{ sleep = \"1h\" }] }], except = [{ pass = true }], catch = [\"Preempted\"] }]

[tasks.boss]
count = $n
steps = [{ sleep = \"{i}ms\" }, { sleep = \"500us\" }, { with = \"pp\", do = [{ sleep = \"0s\" }] }]

[tasks.main]
steps = [{ sleep = \"$((n + 1))ms\" }]" ;;
    put_get) echo "[tasks.producer]
steps = [{ repeat = $n, do = [{ put = \"q\", item = \"{i}\" }] }]

[tasks.main]
steps = [{ spawn = \"producer\" }, { repeat = $n, do = [{ get = \"q\" }] }]" ;;
    queue_waiters) echo "[tasks.getter]
count = $n
steps = [{ get = \"q\" }]

[tasks.main]
steps = [{ repeat = $n, do = [{ sleep = \"0s\" }, { put = \"q\", item = \"{i}\" }] }]" ;;
    task_done) echo "[tasks.producer]
steps = [{ repeat = $n, do = [{ put = \"q\", item = \"{i}\" }] }]

[tasks.consumer]
steps = [{ forever = [{ get = \"q\" }, { task_done = \"q\" }] }]

[tasks.main]
steps = [{ spawn = \"consumer\" }, { spawn = \"producer\" }, { sleep = \"1ms\" }, { join = \"q\" }]" ;;
    consume) echo "[tasks.producer]
steps = [{ repeat = $n, do = [{ put = \"q\", item = \"{i}\" }] }, { put = \"q\", item = \"STOP\" }]

[tasks.main]
steps = [{ spawn = \"producer\" }, { consume = \"q\", until = \"STOP\", do = [{ pass = true }] }]" ;;
    repeat) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ repeat = 1, do = [{ pass = true }] }] }]" ;;
    forever) echo "[tasks.main]
steps = [{ try = [{ timeout = \"${n}ms\", do = [{ forever = [{ sleep = \"1ms\" }] }] }], except = [{ pass = true }] }]" ;;
    for) printf '[tasks.main]\nsteps = [{ for = "x", in = [%s], do = [{ log = "{x}" }] }]\n' \
      "$(seq -s, 1 "$n")" ;;
    each) echo "[tasks.main]
steps = [{ spawn = \"w\", count = $n, as = \"all\" }, { each = \"all\", as = \"t\", do = [{ await = \"t\" }] }]" ;;
    check) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", as = \"h\" }, { check = \"h\", state = \"pending\" }, { await = \"h\" }] }]" ;;
    break) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ forever = [{ break = true }] }] }]" ;;
    retry) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ try = [{ call = \"flaky\" }], except = [{ pass = true }] }] }]" ;;
    after) echo "[tasks.first]
steps = [{ sleep = \"1ms\" }]

[tasks.next]
count = $n
after = [\"first\"]
steps = [{ sleep = \"1ms\" }]

[tasks.main]
steps = [{ sleep = \"1s\" }]" ;;
    arrivals) # a stream of near arrivals beside many far timers
      echo "[tasks.arriving]
arrivals = { rate = \"$n/s\", count = $n }
steps = [{ sleep = \"1h\" }]

[tasks.main]
steps = [{ sleep = \"2h\" }]" ;;
    users) echo "[tasks.arriving]
arrivals = { users = 10, think = { exponential = \"1ms\" }, count = $n }
steps = [{ sleep = \"1ms\" }]

[tasks.main]
steps = [{ sleep = \"2h\" }]" ;;
    tasks) # many task definitions: validation and start
      echo "[tasks.main]
steps = [{ sleep = \"1ms\" }]"
      for ((k = 0; k < n; k++)); do printf '[tasks.t%d]\nsteps = [{ log = "t%d" }]\n' "$k" "$k"; done ;;
    raise) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ try = [{ try = [{ fail = \"boom\", type = \"KeyError\" }], except = [{ raise = true }] }], except = [{ pass = true }], catch = [\"LookupError\"] }] }]" ;;
    uncancel) echo "[tasks.stubborn]
steps = [{ try = [{ sleep = \"1h\" }], except = [{ uncancel = true }], catch = [\"cancelled\"] }]

[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"stubborn\", as = \"h\" }, { sleep = \"0s\" }, { cancel = \"h\", msg = \"stop {i}\" }, { await = \"h\" }] }]" ;;
    timeout_at) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ timeout_at = \"1h\", do = [{ sleep = \"1ms\" }] }] }]" ;;
    lock) echo "[tasks.user]
count = $n
steps = [{ with = \"lk\", do = [{ sleep = \"0s\" }] }]

[tasks.main]
steps = [{ sleep = \"1ms\" }]" ;;
    nowait) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ put_nowait = \"q\", item = \"{i}\" }, { get_nowait = \"q\" }] }]" ;;
    event) echo "[tasks.waiter]
count = $n
steps = [{ await = \"e\" }]

[tasks.main]
steps = [{ sleep = \"1ms\" }, { set = \"e\" }, { sleep = \"1ms\" }]" ;;
    set_clear) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ set = \"e\" }, { clear = \"e\" }] }]" ;;
    barrier) echo "[tasks.party]
steps = [{ repeat = $n, do = [{ await = \"b\" }] }]

[tasks.main]
steps = [{ spawn = \"party\", as = \"p\" }, { repeat = $n, do = [{ await = \"b\" }] }, { await = \"p\" }]" ;;
    abort_reset) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ abort = \"b\" }, { reset = \"b\" }] }]" ;;
    condition) echo "[tasks.waiter]
count = $n
steps = [{ with = \"cv\", do = [{ await = \"cv\", until = \"{e.is_set}\" }] }]

[tasks.main]
steps = [{ sleep = \"1ms\" }, { with = \"cv\", do = [{ notify = \"cv\", n = 1 }] }, { set = \"e\" }, { with = \"cv\", do = [{ notify_all = \"cv\" }] }, { sleep = \"1ms\" }]" ;;
    on_done) echo "[tasks.main]
steps = [{ spawn = \"noted\", count = $n }, { sleep = \"1s\" }]" ;;
    task_group) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ task_group = \"tg\", do = [{ spawn = \"w\", into = \"tg\" }] }] }]" ;;
    task_group_many) echo "[tasks.main]
steps = [{ task_group = \"tg\", do = [{ spawn = \"w\", count = $n, into = \"tg\" }] }]" ;;
    priority) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ put = \"pq\", item = \"{i}\", priority = \"{i}\" }] }, { repeat = $n, do = [{ get = \"pq\" }] }]" ;;
    lifo) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ put = \"lq\", item = \"{i}\" }] }, { repeat = $n, do = [{ get = \"lq\" }] }]" ;;
    as_completed) echo "[tasks.main]
steps = [{ spawn = \"w\", count = $n, as = \"all\" }, { as_completed = \"all\", do = [{ log = \"{result}\" }] }]" ;;
    shutdown) echo "[tasks.getter]
count = $n
steps = [{ try = [{ get = \"q\" }], except = [{ pass = true }], catch = [\"QueueShutDown\"] }]

[tasks.main]
steps = [{ sleep = \"1ms\" }, { shutdown = \"q\" }, { sleep = \"1ms\" }]" ;;
    call_soon) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ call_soon = [{ set = \"e\" }] }, { sleep = \"0s\" }] }]" ;;
    call_later) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ call_later = \"1ms\", do = [{ clear = \"e\" }], as = \"h\" }, { cancel = \"h\" }, { call_later = \"1s\", do = [{ set = \"e\" }] }] }, { sleep = \"2s\" }]" ;;
    call_at) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ call_at = \"1s\", do = [{ set = \"e\" }] }] }, { sleep = \"2s\" }]" ;;
    to_thread) echo "[tasks.main]
steps = [{ repeat = $n, do = [{ to_thread = \"1ms\", value = 1 }] }]

[tasks.other]
count = 8
steps = [{ repeat = $((n / 8)), do = [{ to_thread = \"2ms\" }] }]" ;;
    run_in_executor) echo "[executors]
db = { workers = 2 }

[tasks.main]
count = 16
steps = [{ repeat = $((n / 16)), do = [{ run_in_executor = \"1ms\", executor = \"db\" }] }]" ;;
    unretrieved) echo "[tasks.broken]
steps = [{ fail = \"boom {i}\" }]

[tasks.main]
steps = [{ spawn = \"broken\", count = $n }, { sleep = \"1ms\" }, { fail = \"main too\" }]" ;;
    handle_args) echo "[tasks.waiter]
handles = { t = \"task\" }
steps = [{ await = \"t\" }]

[tasks.killer]
handles = { target = \"task\" }
steps = [{ cancel = \"target\" }]

[tasks.main]
steps = [{ repeat = $n, do = [{ spawn = \"w\", as = \"h\" }, { call = \"waiter\", args = { t = \"h\" } }, { spawn = \"long\", as = \"l\" }, { spawn = \"killer\", args = { target = \"l\" } }] }, { sleep = \"1s\" }]" ;;
    handle_objects) echo "[tasks.filler]
handles = { out = \"queue\", s = \"semaphore\" }
steps = [{ with = \"s\", do = [{ put = \"out\", item = \"x\" }] }]

[tasks.main]
steps = [{ repeat = $n, do = [{ call = \"filler\", args = { out = \"q\", s = \"pool\" } }, { get = \"q\" }] }]" ;;
    *) echo "unknown case $1" >&2; return 1 ;;
  esac
}

ALL="sleep block log fail return spawn eager eager_group spawn_into count await await_future set_exception
gather gather_many wait wait_first wait_for timeout timeout_expires cancel cancel_at_end try
with acquire semaphore_waiters priority_waiters preempt put_get queue_waiters task_done consume repeat forever for
each check break retry after arrivals users tasks raise uncancel timeout_at lock nowait event set_clear
barrier abort_reset condition on_done task_group task_group_many priority lifo shutdown as_completed
call_soon call_later call_at to_thread run_in_executor unretrieved handle_args handle_objects"
cases=${*:-$ALL}

# cpu FILE: the best user + system CPU seconds of five runs, less the cost
# of starting the tool (a run of an empty scenario); a run that does not
# end well (exit code 0) stops the script, since a run stopped by a limit
# would hide the cost it was meant to show.
TIMEFORMAT='%3U %3S'
cpu_raw() {
  for _ in 1 2 3 4 5; do
    code=0
    { time "$bin" --summary "$1" > "$work/out" 2>&1 || code=$?; } 2> "$work/time"
    if [ "$code" != 0 ]; then
      echo "$1 ended with exit code $code:" >&2
      tail -5 "$work/out" >&2
      exit 2
    fi
    awk '{ printf "%.3f\n", $1 + $2 }' "$work/time"
  done | sort -n | head -1
}
printf '[tasks.main]\nsteps = [{ pass = true }]\n' > "$work/empty.toml"
start=$(cpu_raw "$work/empty.toml")
cpu() {
  local raw
  raw=$(cpu_raw "$1") || exit 2
  echo "$raw - $start" | bc -l
}

printf "%-18s %10s %10s %7s\n" case "$SMALL" "$LARGE" ratio
failed=0
for name in $cases; do
  scenario "$name" "$SMALL" > "$work/small.toml"
  scenario "$name" "$LARGE" > "$work/large.toml"
  if ! "$bin" check "$work/small.toml" > /dev/null 2> "$work/err"; then
    echo "$name: the case does not validate:" >&2
    cat "$work/err" >&2
    exit 2
  fi
  small=$(cpu "$work/small.toml") || exit 2
  large=$(cpu "$work/large.toml") || exit 2
  # Below 5 ms the small run is mostly noise: count it as 5 ms.
  ratio=$(echo "$large / ($small + (0.005 - $small) * ($small < 0.005))" | bc -l)
  verdict=linear
  if [ "$(echo "$ratio > $MAX_RATIO" | bc -l)" = 1 ]; then
    verdict="NOT linear"
    failed=1
  fi
  printf "%-18s %9.3fs %9.3fs %6.1fx  %s\n" "$name" "$small" "$large" "$ratio" "$verdict"
done
exit $failed
