#!/bin/bash
# ib_write_bw against spark-rdma at a few sizes, each tool once unpinned and once with the whole
# process on vCPU 1 (taskset), alternating. In the soft-RoCE guest:
#   npm run build && npm run vm -- bash bench/probes/pinned-pairs.sh
# Figures: bench/results/issue-17.md.
SIZES=${SIZES:-8 512 4096}
ROUNDS=${ROUNDS:-4}
# shellcheck source=bench/probes/common.sh
source "$(dirname "$0")/common.sh"

# The message count the sweep uses: at least 1 s at 80,000 msg/s or 2 Gb/s.
iterations() { local by_rate=80000 by_bw=$((2000000000 / 8 / $1)); echo $((by_rate < by_bw ? by_rate : by_bw)); }

# $1 size, then an optional prefix such as `taskset -c 1`.
perftest_rate() {
  local size=$1 n
  shift
  n=$(iterations "$size")
  port=$((port + 2))
  "$@" ib_write_bw -d rxe0 -F -p "$port" -s "$size" -n "$n" >"$out/server.txt" 2>&1 &
  sleep 0.5
  "$@" ib_write_bw -d rxe0 -F -p "$port" -s "$size" -n "$n" 10.77.0.1 >"$out/client.txt" 2>&1
  wait
  grep -A1 '#bytes' "$out/client.txt" | tail -1 | awk '{print $5}'
}

spark_rate() {
  local size=$1 n
  shift
  n=$(iterations "$size")
  "$@" node dist/lib/cli/main.js bw --loopback --devices rxe0 --json --size "$size" --iters "$n" --warmup 0 >"$out/spark.json" 2>/dev/null
  spark_msg_rate "$out/spark.json"
}

for round in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    echo "round $round, $size B (Mmsg/s): unpinned ib_write_bw $(perftest_rate "$size") spark-rdma $(spark_rate "$size") | on vCPU 1 ib_write_bw $(perftest_rate "$size" taskset -c 1) spark-rdma $(spark_rate "$size" taskset -c 1)"
  done
done
