#!/usr/bin/env bash
# Runs the benchmark workloads (W1 to W4; see `scenario-run gen --help`) in
# scenario-run, CPython asyncio (virtual clock) and SimPy, at the same N, and
# prints wall time, events per second, peak memory and the ratios.
#
#   benches/compare.sh            # W1 at 100k and 1M, W2, W3 and W4 at 100k
#   benches/compare.sh --quick    # everything at 10k
#   W1_SIZES="100000" W2_SIZES="" benches/compare.sh
#
# Needs python3 with venv and pip (SimPy is installed into a throwaway
# virtualenv) and GNU time (/usr/bin/time). Events are counted as the
# scenario-run trace events of the same workload (every created, started,
# acquired, put, get, done... line), scaled from a run at N = 1000.
# scenario-run's times are the median of three runs; each peer runs once.
set -euo pipefail
cd "$(dirname "$0")/.."

W1_SIZES=${W1_SIZES-"100000 1000000"}
W2_SIZES=${W2_SIZES-"100000"}
W3_SIZES=${W3_SIZES-"100000"}
W4_SIZES=${W4_SIZES-"100000"}
if [ "${1:-}" = "--quick" ]; then
  W1_SIZES=10000 W2_SIZES=10000 W3_SIZES=10000 W4_SIZES=10000
fi

cargo build --release --quiet
bin=target/release/scenario-run
work=$(mktemp -d "${TMPDIR:-/tmp}/scenario-run-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

venv="${TMPDIR:-/tmp}/scenario-run-bench-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet simpy==4.1.1
fi
py="$venv/bin/python"

# measure CMD...: prints "seconds peak_kb" of the whole process: wall time
# to the millisecond (GNU time's %e only counts hundredths), peak RSS.
measure() {
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/time" "$@" > /dev/null
  end=$(date +%s.%N)
  printf "%.3f %s\n" "$(echo "$end - $start" | bc -l)" "$(cat "$work/time")"
}

# measure_median CMD...: the run with the median time of three (for the
# fast runs, where one busy moment of the machine would skew the figure).
measure_median() {
  for _ in 1 2 3; do measure "$@"; done | sort -n | sed -n 2p
}

# events W: trace events of workload W per unit of N.
events_per_n() {
  "$bin" gen "$1" --n 1000 > "$work/small.toml"
  local lines
  lines=$("$bin" --format jsonl "$work/small.toml" | wc -l)
  echo "($lines - 2) / 1000" | bc -l
}

printf "%s, %s cores\n\n" "$(uname -m)" "$(nproc)"
printf "| workload | N | tool | wall (s) | events/s | peak MB | time vs scenario-run |\n"
printf "|---|---|---|---|---|---|---|\n"
for w in w1 w2 w3 w4; do
  case $w in w1) sizes=$W1_SIZES;; w2) sizes=$W2_SIZES;; w3) sizes=$W3_SIZES;; w4) sizes=$W4_SIZES;; esac
  [ -n "$sizes" ] || continue
  per_n=$(events_per_n $w)
  for n in $sizes; do
    "$bin" gen $w --n "$n" > "$work/$w.toml"
    events=$(echo "$per_n * $n" | bc -l)
    read -r ours_s ours_kb < <(measure_median "$bin" --summary --max-tasks 20000000 "$work/$w.toml")
    rows=("scenario-run|$ours_s|$ours_kb")
    if [ $w = w1 ]; then
      read -r s kb < <(measure_median "$bin" --max-tasks 20000000 -o "$work/trace.txt" "$work/$w.toml")
      rows+=("scenario-run, full text trace to a file|$s|$kb")
    fi
    read -r s kb < <(measure "$py" benches/peers/simpy_workloads.py $w "$n")
    rows+=("SimPy 4.1|$s|$kb")
    read -r s kb < <(measure python3 benches/peers/asyncio_workloads.py $w "$n")
    rows+=("CPython $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') asyncio, virtual clock|$s|$kb")
    for row in "${rows[@]}"; do
      IFS='|' read -r tool s kb <<< "$row"
      rate=$(echo "$events / ($s + 0.0001)" | bc -l)
      ratio=$(echo "$s / ($ours_s + 0.0001)" | bc -l)
      printf "| %s | %s | %s | %.3f | %.3g | %.0f | %.1fx |\n" \
        "${w^^}" "$n" "$tool" "$s" "$rate" "$(echo "$kb / 1024" | bc -l)" "$ratio"
    done
  done
done
