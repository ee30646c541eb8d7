#!/bin/bash
# Do both tools' 8 B message rates fall into the same fast and slow modes, and does pinning the
# whole process to one vCPU change that? In the soft-RoCE guest:
#   npm run build && npm run vm -- bash bench/probes/small-write-modes.sh
# Alternating rounds, each run under `perf stat` for its CPU migrations and context switches.
# Figures: bench/results/issue-17.md.
SIZE=${SIZE:-8}
N=${N:-80000}
ROUNDS=${ROUNDS:-6}
# shellcheck source=bench/probes/common.sh
source "$(dirname "$0")/common.sh"

counts() { grep -E 'cpu-migrations|context-switches' "$1" | awk '{printf "%s=%s ", $2, $1}'; }

perftest_run() {
  port=$((port + 2))
  ib_write_bw -d rxe0 -F -p "$port" -s "$SIZE" -n "$N" >"$out/server.txt" 2>&1 &
  sleep 0.5
  perf stat -e cpu-migrations,context-switches -o "$out/perftest.stat" -- ib_write_bw -d rxe0 -F -p "$port" -s "$SIZE" -n "$N" 10.77.0.1 >"$out/client.txt" 2>&1
  wait
  echo "$(grep -A1 '#bytes' "$out/client.txt" | tail -1 | awk '{print $5}') ($(counts "$out/perftest.stat"))"
}

# $@: an optional prefix such as `taskset -c 1`.
spark_run() {
  perf stat -e cpu-migrations,context-switches -o "$out/spark.stat" -- "$@" node dist/lib/cli/main.js bw --loopback --devices rxe0 --json --size "$SIZE" --iters "$N" --warmup 0 >"$out/spark.json" 2>/dev/null
  echo "$(spark_msg_rate "$out/spark.json") ($(counts "$out/spark.stat"))"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: ib_write_bw $(perftest_run) | spark-rdma $(spark_run) | spark-rdma on vCPU 1 $(spark_run taskset -c 1)"
done
