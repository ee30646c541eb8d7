// bw across the wire: every rail measured, pairing by subnet, the device counters on both nodes
// agreeing with the engine, and node0's monitor seeing the traffic.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BandwidthResult, BandwidthSample } from '../../../lib/bandwidth/index.js';
import { cli, NODE0, NODE1, onNode0, onNode1, ROOT, serverOnNode0, startOnNode0, type Node0Process } from '../remote.js';

const PORT = 18600;

/** rcvd_pkts of rxe0 and rxe1 on node0 (rxe has packet counters only, under hw_counters). */
async function node0ReceivedPackets(): Promise<number[]> {
  const r = await onNode0(['cat', '/sys/class/infiniband/rxe0/ports/1/hw_counters/rcvd_pkts', '/sys/class/infiniband/rxe1/ports/1/hw_counters/rcvd_pkts']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map(Number);
}

const mbps = (r: BandwidthResult) => r.rails.map((x) => `${x.device} ${(x.gbps * 1000).toFixed(0)} Mb/s`).join(', ');

describe('bw: server on node0, client on node1', () => {
  let server: Node0Process;
  beforeAll(async () => {
    server = await serverOnNode0('bw-server', 'bw', PORT, ['--peer-timeout', '20']);
  });
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
  });

  test('both rails, 4 QPs each: every rail measured, rail i met rail i, and node0 received what node1 sent', async () => {
    const before = await node0ReceivedPackets();
    const r = await cli(1, ['bw', NODE0.rail0, '--port', String(PORT), '--rails', '2', '--qps', '4', '--iters', '150', '--json']);
    const after = await node0ReceivedPackets();
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as BandwidthResult;
    expect(result.params.pairing?.map((p) => [p.device, p.ipv4, p.peerDevice, p.peerIpv4, p.rule])).toEqual([
      ['rxe0', NODE1.rail0, 'rxe0', NODE0.rail0, 'subnet'],
      ['rxe1', NODE1.rail1, 'rxe1', NODE0.rail1, 'subnet'],
    ]);
    for (const [i, rail] of result.rails.entries()) {
      expect(rail.messages).toBe(4 * 150);
      expect(rail.qps.map((q) => q.messages)).toEqual([150, 150, 150, 150]);
      expect(rail.gbps).toBeGreaterThan(0);
      // The sender's device agrees with the engine (counter-check.ts) ...
      expect(rail.counters?.agreement.status, JSON.stringify(rail.counters)).toBe('ok');
      const sent = rail.counters!.expectedDataPackets;
      // ... and the receiver's device got those packets: the data, plus at most a few percent of
      // retransmissions (the 10 % counter-check.ts allows); ACKs travel the other way.
      const received = after[i]! - before[i]!;
      expect(received).toBeGreaterThanOrEqual(sent);
      expect(received).toBeLessThanOrEqual(Math.ceil(sent * 1.1) + 16);
    }
    console.log(`wire bw 64 KiB, 4 QPs/rail: ${mbps(result)}; node0 received ${after.map((a, i) => a - before[i]!).join(' + ')} packets`);
  });

  // 2 B to 256 KiB: from 2 MiB up (at 1 MiB when bidirectional) a run on this wire stalls inside
  // rdma_rxe (Debian 6.1) with no retransmission counted; the client then fails with a deadline.
  test('--cm over sizes 2 B to 256 KiB: every size measured on both rails', async () => {
    const sizes = Array.from({ length: 18 }, (_, i) => 2 ** (i + 1));
    const r = await cli(1, ['bw', NODE0.rail1, '--port', String(PORT), '--cm', '--sizes', sizes.join(','), '--iters', '3', '--json'], 300_000);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as BandwidthResult & { sizes: BandwidthResult['sizes'] };
    expect(result.params.pairing?.map((p) => p.peerDevice)).toEqual(['rxe0', 'rxe1']);
    expect(result.sizes.map((x) => x.size)).toEqual(sizes);
    for (const size of result.sizes) expect(size.rails.map((x) => [x.device, x.messages])).toEqual([['rxe0', 3], ['rxe1', 3]]);
    expect(await server.log()).toMatch(/bw on rxe0, rxe1, 1 QP\(s\), MTU 4096, rdma_cm; pairing: client rxe0 -> rxe0 \(rail0 10\.77\.0\.1\), client rxe1 -> rxe1 \(rail1 10\.77\.1\.1\)/);
  });

  // Both directions at once up to 64 KiB: at 1 MiB a bidirectional run on this wire stalls
  // inside rdma_rxe (Debian 6.1) with no retransmission counted on either node, OOB or rdma_cm.
  test('--cm --bidir: both rails measured in both directions', async () => {
    const r = await cli(1, ['bw', NODE0.rail1, '--port', String(PORT), '--cm', '--bidir', '--sizes', '4096,65536', '--iters', '50', '--json'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as BandwidthResult & { sizes: BandwidthResult['sizes'] };
    for (const size of result.sizes) {
      expect(size.rails.map((x) => [x.device, x.messages])).toEqual([['rxe0', 50], ['rxe1', 50]]);
      for (const rail of size.rails) expect(rail.peer?.bytes, `peer figures at ${size.size} B on ${rail.device}`).toBeGreaterThan(0);
    }
    console.log(`wire bw --cm --bidir 64 KiB: ${result.sizes.at(-1)!.rails.map((x) => `${x.device} ${(x.gbps * 1000).toFixed(0)} + ${((x.peer?.gbps ?? 0) * 1000).toFixed(0)} Mb/s`).join(', ')}`);
  });

  test("a library script on node1 (import '@spark/rdma') runs runBandwidth against node0 and streams samples while it runs", async () => {
    // A consumer's directory: @spark/rdma resolves by its package name, as in a user's project.
    const dir = mkdtempSync(join(tmpdir(), 'wire-lib-'));
    try {
      mkdirSync(join(dir, 'node_modules', '@spark'), { recursive: true });
      symlinkSync(ROOT, join(dir, 'node_modules', '@spark', 'rdma'));
      writeFileSync(
        join(dir, 'watch.mjs'),
        [
          "import { runBandwidth } from '@spark/rdma';",
          `const run = runBandwidth({ peer: '${NODE0.rail0}', port: ${PORT}, rails: 2, durationMs: 3000, intervalMs: 500 });`,
          "run.on('sample', (s) => console.log(JSON.stringify({ at: Date.now(), sample: s })));",
          'const result = await run;',
          'console.log(JSON.stringify({ at: Date.now(), result }));',
        ].join('\n'),
      );
      const r = await onNode1([process.execPath, join(dir, 'watch.mjs')], 120_000);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as { at: number; sample?: BandwidthSample; result?: BandwidthResult });
      const end = lines.at(-1)!;
      const result = end.result!;
      expect(result.rails.map((x) => x.device)).toEqual(['rxe0', 'rxe1']);
      for (const rail of result.rails) {
        const samples = lines.flatMap((l) => (l.sample?.device === rail.device ? [l.sample] : []));
        // 3 s in 0.5 s intervals, each one streamed before the run ended, in time order.
        expect(samples.length, rail.device).toBeGreaterThanOrEqual(4);
        expect(samples.map((x) => x.t)).toEqual([...samples.map((x) => x.t)].sort((a, b) => a - b));
        const firstAt = lines.find((l) => l.sample?.device === rail.device)!.at;
        expect(end.at - firstAt).toBeGreaterThan(1000);
        // The intervals add up to the rail's timed bytes (the last one may end at the deadline).
        const summed = samples.reduce((a, x) => a + x.bytes, 0);
        expect(summed).toBeLessThanOrEqual(rail.bytes);
        expect(summed).toBeGreaterThanOrEqual(rail.bytes * 0.8);
      }
      console.log(`library script on node1: ${lines.length - 1} samples streamed; ${mbps(result)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('monitor --json on node0 during a run from node1 shows the receive rate on both rails', async () => {
    const monitor = await startOnNode0('monitor', [process.execPath, 'dist/lib/cli/main.js', 'monitor', '--json', '--interval', '1'], '"seq"');
    const r = await cli(1, ['bw', NODE0.rail0, '--port', String(PORT), '--duration', '4', '--json']);
    const { log } = await monitor.stop();
    expect(r.code, r.stderr).toBe(0);
    const samples = log
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { rails: { device: string; rxPacketsPerSecond: number | null }[] });
    const peak = (device: string) => Math.max(...samples.map((s) => s.rails.find((x) => x.device === device)?.rxPacketsPerSecond ?? 0));
    // 64 KiB writes at MTU 4096 are 16 packets each: a moving rail receives hundreds per second.
    expect(peak('rxe0')).toBeGreaterThan(100);
    expect(peak('rxe1')).toBeGreaterThan(100);
    console.log(`node0 monitor: peak receive ${peak('rxe0').toFixed(0)} and ${peak('rxe1').toFixed(0)} packets/s during ${mbps(JSON.parse(r.stdout) as BandwidthResult)}`);
  });
});
