#!/bin/bash
# Where an 8 B RDMA WRITE's time goes, ib_write_bw against spark-rdma, in the soft-RoCE guest:
#   npm run build && npm run vm -- bash bench/probes/small-write-profile.sh
# Alternating rounds; each run under `perf record -a` (cpu-clock at 1999 Hz: TCG has no PMU),
# then the samples by thread and DSO. The posting thread is ib_write_bw's client and
# spark-rdma's engine thread. Figures: bench/results/issue-17.md.
SIZE=${SIZE:-8}
N=${N:-160000}
ROUNDS=${ROUNDS:-3}
# shellcheck source=bench/probes/common.sh
source "$(dirname "$0")/common.sh"

by_thread_and_dso() {
  perf report -i "$1" -n --no-children --sort pid,dso --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | grep -v swapper | awk 'NR <= 12' # awk reads to the end: no SIGPIPE under pipefail
}

for round in $(seq 1 "$ROUNDS"); do
  port=$((port + 2))
  ib_write_bw -d rxe0 -F -p "$port" -s "$SIZE" -n "$N" >"$out/server.txt" 2>&1 &
  sleep 1
  perf record -a -F 1999 -o "$out/perftest.data" -- ib_write_bw -d rxe0 -F -p "$port" -s "$SIZE" -n "$N" 10.77.0.1 >"$out/client.txt" 2>/dev/null
  wait
  echo "== round $round, ib_write_bw: $(grep -A1 '#bytes' "$out/client.txt" | tail -1 | awk '{print $5}') Mmsg/s; samples by thread and DSO ($N messages):"
  by_thread_and_dso "$out/perftest.data"
  perf record -a -F 1999 -o "$out/spark.data" -- node dist/lib/cli/main.js bw --loopback --devices rxe0 --json --size "$SIZE" --iters "$N" --warmup 0 >"$out/spark.json" 2>/dev/null
  echo "== round $round, spark-rdma: $(spark_msg_rate "$out/spark.json") Mmsg/s; samples by thread and DSO ($N messages):"
  by_thread_and_dso "$out/spark.data"
done
