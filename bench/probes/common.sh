# Sourced by the probes in this directory: strict mode, the repo root as working directory, a
# scratch directory removed on exit, a port base for perftest pairs.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2034 # read by the probes that source this file
port=20000

# The message rate (Mmsg/s) in a `spark-rdma bw --json` result file.
spark_msg_rate() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(j.total.msgRate.toFixed(6))' "$1"
}
