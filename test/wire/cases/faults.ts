// Faults on the wire, each on one rail of one node; the other rail keeps its result.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { BandwidthResult } from '../../../lib/bandwidth/index.js';
import type { LatencyResult } from '../../../lib/latency/index.js';
import { cli, NODE0, onNode0, serverOnNode0, type Node0Process } from '../remote.js';

const BW_PORT = 18640;
const LAT_PORT = 18660;

/** A command here on node1 (root in the guest), failing the test with its output. */
const here = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 30_000 });
async function there(...args: string[]): Promise<string> {
  const r = await onNode0(args, 30_000);
  expect(r.code, `node0: ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The next client runs: the server may still be closing the failed session for a moment. */
async function nextClientRuns(): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const next = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--rails', '2', '--iters', '50', '--json']);
    if (next.code === 0) return;
    last = next.stderr;
    if (!/ERR_SERVER_BUSY|already runs/.test(next.stderr)) break;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
  expect.fail(`the server did not serve the next client: ${last}`);
}

const errorCounters = (r: BandwidthResult['rails'][number]) =>
  Object.entries(r.counters?.delta.hw ?? {}).filter(([name, delta]) => delta > 0 && /err|retr|out_of|duplicate/.test(name));

describe('bw faults: server on node0', () => {
  let server: Node0Process;
  beforeAll(async () => {
    server = await serverOnNode0('bw-faults', 'bw', BW_PORT, ['--peer-timeout', '15']);
  });
  afterEach(() => {
    // Whatever a test did to node1's rails, the next one starts clean.
    for (const rail of ['rail0', 'rail1']) execFileSync('sh', ['-c', `tc qdisc del dev ${rail} root 2>/dev/null; tc qdisc del dev ${rail} ingress 2>/dev/null; true`]);
  });
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
  });

  test('1 % loss on node1 rail1: the run completes, and the result and table show the errors rxe1 counted', async () => {
    here('tc', 'qdisc', 'add', 'dev', 'rail1', 'root', 'netem', 'loss', '1%');
    const { runBandwidth } = await import('../../../lib/bandwidth/index.js');
    const { renderBandwidth } = await import('../../../lib/cli/views/bw-view.js');
    const result = await runBandwidth({ peer: NODE0.rail0, port: BW_PORT, rails: 2, iterations: 150, peerTimeoutMs: 15_000 });
    expect(result.rails.map((r) => r.messages)).toEqual([150, 150]);
    const [rail0, rail1] = result.rails;
    const total = (r: typeof rail0) => errorCounters(r!).reduce((a, [, d]) => a + d, 0);
    expect(total(rail1), JSON.stringify(rail1!.counters?.delta.hw)).toBeGreaterThan(0);
    // rail 0 lost nothing; a retransmit timer firing on a loaded host is all it may count.
    expect(total(rail1)).toBeGreaterThan(total(rail0));
    const table = renderBandwidth(result);
    expect(table).toMatch(/^rxe1 at 64 ?KiB: the device counted .+ during the run \(retransmissions or sequence errors/m);
    console.log(`1 % loss on rail1: rxe0 counted ${total(rail0)}, rxe1 counted ${errorCounters(rail1!).map(([n, d]) => `${n} ${d}`).join(', ')}; ${(rail1!.gbps * 1000).toFixed(0)} Mb/s vs rxe0 ${(rail0!.gbps * 1000).toFixed(0)} Mb/s`);
  });

  test('every RoCE packet node1 sends on rail1 lost (netem behind a UDP 4791 filter): RC gives up, a clear error naming rail 1 within the deadline, rail 0 measured', async () => {
    // Only RoCE (UDP 4791) is lost, so ARP still works and the QPs come up; the writes then never
    // get an ACK. netem loses a packet as a wire does (the sender sees success); an nft drop on
    // this node's output would instead fail rxe's ip_local_out, and rxe retries that send without
    // end. A rail that passes nothing at all is the next test.
    here('tc', 'qdisc', 'add', 'dev', 'rail1', 'root', 'handle', '1:', 'prio');
    here('tc', 'qdisc', 'add', 'dev', 'rail1', 'parent', '1:3', 'handle', '30:', 'netem', 'loss', '100%');
    here('tc', 'filter', 'add', 'dev', 'rail1', 'parent', '1:', 'protocol', 'ip', 'u32', 'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'dport', '4791', '0xffff', 'flowid', '1:3');
    const r = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--rails', '2', '--duration', '4', '--peer-timeout', '15', '--json'], 120_000);
    expect(r.code).toBe(1);
    // The error names the rail and what its device counted: retransmissions that never got an ACK.
    expect(r.stderr).toMatch(/rail 1 \(rxe1\)[^;]*: .+; rxe1 counted [^;]*completer_retry_err \d+/);
    expect(r.stderr).not.toMatch(/rail 0 \(rxe0\)/);
    const partial = JSON.parse(r.stdout) as BandwidthResult;
    expect(partial.rails.find((x) => x.device === 'rxe0')?.gbps).toBeGreaterThan(0);
    expect(r.ms).toBeLessThan(90_000);
    console.log(`rail1 losing every RoCE packet: client exit 1 after ${(r.ms / 1000).toFixed(1)} s: ${r.stderr.split('\n')[0]}`);
    // The server drops that session and serves the next client.
    here('tc', 'qdisc', 'del', 'dev', 'rail1', 'root');
    await nextClientRuns();
  });

  test('rail1 passing nothing from the start (no ARP answer): the session names rail 1, the address and the probe to run', async () => {
    // Nothing out and nothing in: an ARP request from node0 arriving would teach node1 its MAC.
    here('tc', 'qdisc', 'add', 'dev', 'rail1', 'root', 'netem', 'loss', '100%');
    here('tc', 'qdisc', 'add', 'dev', 'rail1', 'ingress');
    here('tc', 'filter', 'add', 'dev', 'rail1', 'parent', 'ffff:', 'matchall', 'action', 'drop');
    here('ip', 'neigh', 'flush', 'dev', 'rail1');
    const r = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--rails', '2', '--iters', '50'], 120_000);
    expect(r.code).toBe(1);
    // Whichever side moves its QPs to RTR first without a neighbour entry says so (the server's
    // words reach the client prefixed 'peer: '), naming its rail, the other's and the probe to run.
    expect(r.stderr).toMatch(
      /^spark-rdma: (rail 1 \(rxe1\) cannot reach the server's rail 1 \(rxe1 10\.77\.1\.1\)|peer: rail 1 \(rxe1\) cannot reach the client's rail \(rxe1 10\.77\.1\.2\)): no ARP answer on rail1 when its QPs moved to RTR/m,
    );
    expect(r.stderr).toMatch(/^hint: .*`ping -I rail1 10\.77\.1\.[12]`/m);
    expect(r.ms).toBeLessThan(60_000);
    console.log(`rail1 dead from the start: client exit 1 after ${(r.ms / 1000).toFixed(1)} s: ${r.stderr.split('\n')[0]}`);
    here('tc', 'qdisc', 'del', 'dev', 'rail1', 'root');
    here('tc', 'qdisc', 'del', 'dev', 'rail1', 'ingress');
    await nextClientRuns();
  });

  test('rail1 partitioned mid-run (nft drops RoCE on node0 rail1): error naming the rail, then the server serves the next client', async () => {
    const running = cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--rails', '2', '--duration', '20', '--peer-timeout', '15', '--json'], 150_000);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await there('nft', 'add table inet spark_wire; add chain inet spark_wire in { type filter hook input priority 0; }; add rule inet spark_wire in iifname "rail1" udp dport 4791 drop');
    const cutAt = Date.now();
    try {
      const r = await running;
      const afterCutMs = Date.now() - cutAt;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/rail 1 \(rxe1\)/);
      expect(afterCutMs).toBeLessThan(60_000);
      console.log(`rail1 partitioned mid-run: client exit 1, ${(afterCutMs / 1000).toFixed(1)} s after the cut: ${r.stderr.split('\n')[0]}`);
    } finally {
      await there('nft', 'delete table inet spark_wire');
    }
    await nextClientRuns();
  });

  test('MTU mismatch (node0 rail0 at 1500, node1 at 9000): the run uses 1024, and asking 4096 is refused by the server', async () => {
    await there('ip', 'link', 'set', 'rail0', 'mtu', '1500');
    try {
      const r = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--devices', 'rxe0', '--iters', '100', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as BandwidthResult).params.mtu).toEqual([1024]);
      const larger = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--devices', 'rxe0', '--mtu', '4096', '--iters', '10']);
      expect(larger.code).toBe(1);
      expect(larger.stderr).toMatch(/^spark-rdma: the server refused the test: MTU 4096 exceeds this server's active MTU 1024 on rxe0 \(netdev rail0\)$/m);
      expect(larger.stderr).toMatch(/^hint: .*--mtu 1024/m);
    } finally {
      await there('ip', 'link', 'set', 'rail0', 'mtu', '9000');
    }
  });

  test('MTU mismatch the other way (node1 rail0 at 1500, node0 at 9000): the run uses 1024, and asking 4096 is refused on node1', async () => {
    here('ip', 'link', 'set', 'rail0', 'mtu', '1500');
    try {
      const r = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--devices', 'rxe0', '--iters', '100', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as BandwidthResult).params.mtu).toEqual([1024]);
      const larger = await cli(1, ['bw', NODE0.rail0, '--port', String(BW_PORT), '--devices', 'rxe0', '--mtu', '4096', '--iters', '10']);
      expect(larger.code, larger.stderr).not.toBe(0);
      // Refused before any QP exists, naming this node's rail and the MTU it can carry.
      expect(larger.stderr).toMatch(/^spark-rdma: MTU 4096 exceeds rxe0 port 1's active MTU 1024/m);
      console.log(`MTU 1500 on node1 rail0: the run used 1024; --mtu 4096: ${larger.stderr.split('\n')[0]}`);
    } finally {
      here('ip', 'link', 'set', 'rail0', 'mtu', '9000');
    }
  });

  test('wrong cabling (node1 rail0 addressed in node0 rail1 subnet): the session says rail 0 does not reach rail 0', async () => {
    here('ip', 'addr', 'del', '10.77.0.2/24', 'dev', 'rail0');
    here('ip', 'addr', 'add', '10.77.1.3/24', 'dev', 'rail0');
    try {
      const r = await cli(1, ['bw', NODE0.rail1, '--port', String(BW_PORT), '--rails', '2', '--iters', '10']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^spark-rdma: rails 0 \(rxe0 10\.77\.1\.3\/24\) and 1 \(rxe1 10\.77\.1\.2\/24\) of this node are both in 10\.77\.1\.0\/24; rail 0 \(rxe0\) does not reach the server's rail 0 \(rxe0 \(10\.77\.0\.1\)\): give it an address in 10\.77\.0\.0\/24/m,
      );
      console.log(`wrong cabling: ${r.stderr.split('\n')[0]}`);
    } finally {
      here('ip', 'addr', 'del', '10.77.1.3/24', 'dev', 'rail0');
      here('ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'rail0');
    }
  });
});

describe('lat faults: server on node0', () => {
  let server: Node0Process;
  beforeAll(async () => {
    server = await serverOnNode0('lat-faults', 'lat', LAT_PORT, ['--peer-timeout', '15']);
  });
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
  });

  test('5 ms added each way on rail0: rail 0 round trip >= 10 ms, rail 1 about 5 ms below it', async () => {
    here('tc', 'qdisc', 'add', 'dev', 'rail0', 'root', 'netem', 'delay', '5ms');
    await there('tc', 'qdisc', 'add', 'dev', 'rail0', 'root', 'netem', 'delay', '5ms');
    try {
      const r = await cli(1, ['lat', NODE0.rail0, '--port', String(LAT_PORT), '--rails', '2', '--iters', '100', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const [rail0, rail1] = (JSON.parse(r.stdout) as LatencyResult).rails;
      // One-way latency is half the round trip: 5 ms out and 5 ms back give a 10 ms round trip,
      // so rail 0's one-way p50 is at least 5 ms, and the round trip (2 x p50) at least 10 ms;
      // rail 1 keeps its own figure (compared, not bounded: a loaded TCG host adds milliseconds).
      expect(2 * rail0!.latency.p50Us).toBeGreaterThanOrEqual(10_000);
      expect(rail0!.latency.p50Us - rail1!.latency.p50Us).toBeGreaterThan(4_000);
      console.log(`5 ms each way on rail0: one-way p50 rxe0 ${(rail0!.latency.p50Us / 1000).toFixed(2)} ms, rxe1 ${rail1!.latency.p50Us.toFixed(0)} us`);
    } finally {
      here('tc', 'qdisc', 'del', 'dev', 'rail0', 'root');
      await there('tc', 'qdisc', 'del', 'dev', 'rail0', 'root');
    }
  });
});
