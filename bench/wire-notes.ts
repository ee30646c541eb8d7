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
    'Where spark-rdma\'s latency goes on this wire (goal p50 <= 1.05x missed: 1.354 on rail 0, 1.302 on rail 1, p99 about 2x, min 1.18x and 1.10x). Each guest here has ONE vCPU (two guests x 2 vCPUs broke bandwidth runs on this 2-CPU host), so any other runnable thread delays a spinning engine thread by a scheduler slice. perftest has exactly one thread per side. spark-rdma\'s server runs a responder on every rail for the whole size, following the client while it times the rails one by one (lib/serve/run-size.ts), and each responder spins on its arrival byte without yielding (native/engine/write_lat.cc, AwaitArrival): while rail 0 is timed, rail 1\'s responder on node0 competes for node0\'s only vCPU. A probe (not part of the bench: 9 pairs of perftest rail 0, then `spark-rdma lat --rails 2`, then `spark-rdma lat --devices rxe0` against the same server, 5000 and 3000 iterations, partly on a loaded host) gave p50 ratios to perftest with a median of 1.368 for --rails 2 (0.960 to 3.117) against 1.075 for one rail alone (0.457 to 1.956); within each pair the one-rail run\'s p50 was a median 0.786x the --rails 2 run\'s (0.196 to 1.441, 8 of 9 lower). The server process\'s JS main thread on node0 also used 0.14 to 0.55 s of CPU per --rails 2 run (0.10 to 0.13 s per one-rail run), time the one vCPU does not spin for the responder. On hardware (20 cores per Spark) neither competes; a responder that runs only while its rail is timed (or yields while its rail is idle) is the change this points to, not made here.',
  );
  if (banner) out.push(`perftest banner, (w-bw): TX depth ${banner['TX depth']}, CQ Moderation ${banner['CQ Moderation']}, Max inline data ${banner['Max inline data']}, MTU ${banner['Mtu']}. spark-rdma uses tx depth 128 and one signaled WR per 100.`);
  return out;
}
