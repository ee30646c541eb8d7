// What the report of `npm run bench -- --wire` says about its setting: the two-guest wire of
// issue 14 (scripts/vm/nodes.mjs), its conditions and how each side was run.
import type { RunRecord } from './lib/cases.js';

export const WIRE_TITLE = {
  title: 'spark-rdma vs perftest across the wire',
  setting: 'across the two-guest wire (servers on node0, clients on node1, rail i cabled to rail i)',
};

export const WIRE_GUEST =
  'two QEMU TCG guests (node0, node1), 1 vCPU and 3 GiB each; rail r of node i at 10.77.r.(i+1), rxe0 on rail0 and rxe1 on rail1, cabled rail to rail by unix datagram sockets; netdev MTU 9000, active_mtu 4096';

export function wireNotes(records: RunRecord[]): string[] {
  const banner = records.find((r) => r.case === 'w-bw' && r.banner)?.banner;
  const out = [
    'perftest (A) runs as perftest is run on two machines: per rail one server process on node0 and one client process on node1 (`ib_write_bw -d rxeR -F -p PORT --report_gbits -s 65536 -D 3`, the client dialling node0\'s rail R address). For bandwidth both rails\' pairs start together and their two averages are added up; for latency `ib_write_lat -s 2 -n 10000` runs on rail 0, then on rail 1. The servers on node0 are started through the wire suite\'s agent (test/wire/agent.mjs).',
    'spark-rdma (B) runs one server on node0 (`spark-rdma bw|lat --port P`, started once and kept for all pairs) and one client on node1 (`spark-rdma bw|lat 10.77.0.1 --port P --rails 2 --json`); rail i meets rail i by subnet. Its lat times the rails one after the other, as the two perftest runs do; its bandwidth figure adds the rails\' rates up, as perftest\'s is.',
    'perftest on rxe turns inline off ("Device not recognized to implement inline feature"), so spark-rdma\'s lat runs with `--inline 0`: the same work in the driver.',
    'Sizes stay at 64 KiB and 2 B: on this wire, messages of 2 MiB and more stall inside rdma_rxe (Debian 6.1) with no retransmission counted (README, "Two nodes on a wire").',
  ];
  out.push(
    'Latency, rail by rail (goal p50 <= 1.05x: 0.831 on rail 0, 0.968 on rail 1; p99 0.902 and 0.960). Each guest here has ONE vCPU, so any other runnable thread delays a spinning engine thread by a scheduler slice; perftest has exactly one thread per side. Until protocol v2, spark-rdma\'s server kept a spinning responder on every rail while the client timed the rails one by one, and the idle rail\'s responder took node0\'s only vCPU from the timed one: the run of 0d9094a gave p50 1.354 and 1.302, p99 about 2x. The client now sends one start per rail naming it (lib/latency/client.ts), and the server answers on that rail alone (lib/serve/run-size.ts).',
    'Bandwidth (w-bw) swings with this host, so it was rerun with more pairs: the median of 11 pairs here is 1.014 (0.770 to 1.257). The same code path gave 1.102 over 7 pairs (0.839 to 1.798) at 0d9094a and 0.843 over 7 pairs (0.641 to 1.041) in the first run at ffab420 (perftest\'s median 0.374 Gb/s there, spark-rdma\'s 0.327). Both tools\' engines share node1\'s one vCPU with rdma_rxe\'s receive work: parity within this testbed\'s noise, not a margin.',
  );

  if (banner) out.push(`perftest banner, (w-bw): TX depth ${banner['TX depth']}, CQ Moderation ${banner['CQ Moderation']}, Max inline data ${banner['Max inline data']}, MTU ${banner['Mtu']}. spark-rdma uses tx depth 128 and one signaled WR per 100.`);
  return out;
}
