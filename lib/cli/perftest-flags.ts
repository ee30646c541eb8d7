import type { Command } from 'commander';
import { invalidArgument } from '../errors.js';

// perftest's flags (ib_write_bw/ib_write_lat --help of perftest 6.06, linux-rdma/perftest
// src/perftest_parameters.c). Those with the same meaning here are accepted as short aliases
// (run-flags.ts: -d -s -n -D -p -a -F --report_gbits, bw's -q); the rest are refused with
// what spark-rdma does instead. docs/cli.md and the README carry the same table.

/** perftest flag -> what to type in spark-rdma instead (or why there is nothing to type). */
export const PERFTEST_REFUSED: Readonly<Record<string, string>> = {
  '-b': 'use --bidir (bw)',
  '--bidirectional': 'use --bidir (bw)',
  '-c': 'spark-rdma runs RC QPs only: drop -c',
  '--connection': 'spark-rdma runs RC QPs only: drop --connection',
  '-C': 'latencies are in microseconds from a timer checked against CLOCK_MONOTONIC_RAW (--timer): drop -C',
  '--report-cycles': 'latencies are in microseconds from a timer checked against CLOCK_MONOTONIC_RAW (--timer)',
  '-f': 'every interval is reported (--interval) and percentiles are exact: drop -f',
  '--margin': 'every interval is reported (--interval) and percentiles are exact',
  '-H': 'use --histogram (lat)',
  '--report-histogram': 'use --histogram (lat)',
  '-U': 'use --json: it carries every statistic and the histogram',
  '--report-unsorted': 'use --json: it carries every statistic and the histogram',
  '-i': 'name the port with the device: --devices mlx5_0:1',
  '--ib-port': 'name the port with the device: --devices mlx5_0:1',
  '--ib-dev': 'use -d or --devices (a comma-separated list: every rail at once)',
  '-I': 'use --inline <bytes>',
  '--inline_size': 'use --inline <bytes>',
  '-l': 'use --post-list <n> (bw)',
  '--post_list': 'use --post-list <n> (bw)',
  '-L': 'a raw Ethernet setting: spark-rdma runs RoCE RC only',
  '-m': 'use --mtu <bytes>',
  '-N': 'spark-rdma reports no peak: drop -N',
  '--noPeak': 'spark-rdma reports no peak: drop --noPeak',
  '-O': 'every rail runs at once: --rails 2, or --devices a,b',
  '--dualport': 'every rail runs at once: --rails 2, or --devices a,b',
  '-Q': 'use --signal-every <n> (bw)',
  '--cq-mod': 'use --signal-every <n> (bw)',
  '-R': 'use --cm (rdma_cm) on the client; the server follows',
  '--rdma_cm': 'use --cm (rdma_cm) on the client; the server follows',
  '-z': 'use --cm (rdma_cm)',
  '--com_rdma_cm': 'use --cm (rdma_cm)',
  '-S': 'the service level is not settable in spark-rdma',
  '-T': 'the type of service is not settable in spark-rdma',
  '-u': 'the QP timeout is not settable in spark-rdma (every wait has its own deadline: --peer-timeout)',
  '-t': 'use --tx-depth <n> (bw)',
  '-w': 'spark-rdma has no pass/fail limit: read total.gbps from --json',
  '-y': 'spark-rdma has no pass/fail limit: read total.msgRate from --json',
  '-W': 'bw checks the port counters itself; spark-rdma monitor shows them live',
  '--report-counters': 'bw checks the port counters itself; spark-rdma monitor shows them live',
  '-x': 'use --gid-index <n> (by default the IPv4 RoCE v2 entry is found per rail)',
  '--out_json': 'use --json and redirect it: --json > result.json',
  '--out_json_file': 'use --json and redirect it: --json > result.json',
  '--output': 'use --json and pick the field (total.gbps, total.msgRate, latency)',
  '--run_infinitely': 'use spark-rdma monitor for live rates, or a long --duration',
  '--use_cuda': 'spark-rdma registers host memory only (GPUDirect is off on DGX Spark)',
  '--qp': 'use -q or --qps (bw)',
  '--all': 'use -a or --sizes all',
};

/** The key a typed flag has in the table: `-x3` -> `-x`, `--output=bandwidth` -> `--output`. */
function tableKey(flag: string): string {
  if (flag.startsWith('--')) return flag.split('=')[0]!;
  return flag.slice(0, 2);
}

/**
 * Makes `cmd` answer a perftest flag it does not take with the spark-rdma equivalent (exit 2)
 * instead of commander's bare "unknown option". Commander has no public hook for this, so the
 * command's own unknownOption (commander 14, lib/command.js) is wrapped.
 */
export function refusePerftestFlags(cmd: Command): Command {
  const target = cmd as unknown as { unknownOption(flag: string): void };
  const original = target.unknownOption.bind(cmd);
  target.unknownOption = (flag: string) => {
    const key = tableKey(flag);
    const instead = Object.hasOwn(PERFTEST_REFUSED, key) ? PERFTEST_REFUSED[key] : undefined;
    if (instead !== undefined && !cmd.options.some((o) => o.short === key || o.long === key)) {
      throw invalidArgument(`${flag} is a perftest flag that spark-rdma ${cmd.name()} does not take`, instead);
    }
    original(flag);
  };
  return cmd;
}
