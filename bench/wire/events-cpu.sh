#!/usr/bin/env bash
# Issue 17 point 2 on the two-guest wire: bandwidth and CPU per GB of spark-rdma polling against
# --events, next to ib_write_bw (which has no event mode for RDMA WRITE: perftest 6.06 answers -e
# with "Events feature not available on WRITE verb", for ib_write_lat too). 64 KiB on rail 0,
# server on node0, client on node1, alternating runs; then 2 B latency, polling against --events.
# Usage (from the repo root):
#   npm run vm -- --nodes 2 --timeout 900 bash bench/wire/events-cpu.sh [pairs] [seconds]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
pairs=${1:-5}
seconds=${2:-5}
spark=(node dist/lib/cli/main.js)
if [ "${SPARK_RDMA_VM_NODE:-}" = 0 ]; then
  budget=$((pairs * seconds * 8 + 120))
  timeout "$budget" "${spark[@]}" bw --port 18700 --peer-timeout 30 >/dev/null 2>&1 &
  timeout "$budget" "${spark[@]}" lat --port 18710 --peer-timeout 30 >/dev/null 2>&1 &
  end=$((SECONDS + budget))
  # One perftest server per run: it serves one client, then exits.
  while [ $SECONDS -lt $end ]; do
    timeout 60 ib_write_bw -d rxe0 -x 1 -p 18800 -s 65536 -D "$seconds" --report_gbits >/dev/null 2>&1
  done
  wait
  exit 0
fi
[ "${SPARK_RDMA_VM_NODE:-}" = 1 ] || { echo "run it on the two-guest wire: npm run vm -- --nodes 2 bash $0" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Runs a command; its CPU seconds (user + system, of the whole process) are the shell's children's.
with_cpu() {
  bash -c '"$@" >"$0/run.out" 2>"$0/run.err"; read -ra f </proc/$$/stat; echo $(( f[15] + f[16] )) >"$0/run.cpu"' "$out" "$@"
}
results="$out/results.jsonl"
sleep 8
# What a spark-rdma process costs before it moves a byte: node, the addon, rail discovery.
with_cpu "${spark[@]}" devices --json
echo "{\"tool\":\"spark-rdma\",\"mode\":\"startup\",\"processCpu\":$(cat "$out/run.cpu")}" >>"$results"
for ((i = 1; i <= pairs; i++)); do
  for _ in $(seq 1 20); do
    with_cpu ib_write_bw -d rxe0 -x 1 -p 18800 -s 65536 -D "$seconds" --report_gbits 10.77.0.1
    line=$(grep -E '^ *65536 ' "$out/run.out" | tail -1)
    if [ -n "$line" ]; then
      echo "{\"tool\":\"perftest\",\"pair\":$i,\"gbps\":$(echo "$line" | awk '{print $4}'),\"seconds\":$seconds,\"processCpu\":$(cat "$out/run.cpu")}" >>"$results"
      break
    fi
    sleep 1
  done
  for mode in polling events; do
    flags=(); [ "$mode" = events ] && flags=(--events)
    with_cpu "${spark[@]}" bw 10.77.0.1 --port 18700 --devices rxe0 --size 65536 --duration "$seconds" --json "${flags[@]}"
    node -e '
      const fs = require("fs");
      const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).rails[0];
      console.log(JSON.stringify({ tool: "spark-rdma", mode: process.argv[2], pair: Number(process.argv[3]), gbps: r.gbps, bytes: r.bytes,
        seconds: r.seconds, engineCpu: r.cpu.seconds, coreShare: r.cpu.coreShare, processCpu: Number(process.argv[4]) }));
    ' "$out/run.out" "$mode" "$i" "$(cat "$out/run.cpu")" >>"$results" || cat "$out/run.err" >&2
  done
done
for ((i = 1; i <= pairs; i++)); do
  for mode in polling events; do
    flags=(); [ "$mode" = events ] && flags=(--events)
    with_cpu "${spark[@]}" lat 10.77.0.1 --port 18710 --devices rxe0 --size 2 --iters 2000 --json "${flags[@]}"
    node -e '
      const fs = require("fs");
      const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).rails[0];
      console.log(JSON.stringify({ tool: "spark-rdma-lat", mode: process.argv[2], pair: Number(process.argv[3]), p50Us: r.latency.p50Us, p99Us: r.latency.p99Us,
        engineCpu: r.cpu?.seconds ?? null, processCpu: Number(process.argv[4]) }));
    ' "$out/run.out" "$mode" "$i" "$(cat "$out/run.cpu")" >>"$results" || cat "$out/run.err" >&2
  done
done
node bench/wire/events-cpu-summary.mjs "$results"
