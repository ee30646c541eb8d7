// RDMA WRITE bandwidth on real rxe rails: loopback and two processes, 1 and 4 QPs, both rails
// at once, iterations and duration modes, a size sweep, bidirectional, rdma_cm, early stop,
// totals equal the sum of rails, and the engine's bytes agree with the device's packet counters.
import { beforeAll, describe, expect, test } from 'vitest';
import { runBandwidth, type BandwidthResult, type BandwidthSample, type RailBandwidth } from '../../lib/bandwidth/index.js';
import { CLI, requireRxe, runNode, startServer, testPort } from './helpers.js';

beforeAll(() => requireRxe());

/**
 * rxe counts packets only. On loopback one port sends the data packets and the ACKs (one per
 * message); under emulation some packets are also retransmitted. So the port's count must be at
 * least the data packets, and within 10 % of data + ACKs.
 */
function expectCountersAgree(rail: RailBandwidth): void {
  const c = rail.counters!;
  expect(c).not.toBeNull();
  const sent = c.delta.txPackets!;
  const messagesOnWire = rail.messages + rail.engine.warmupMessages;
  expect(sent).toBeGreaterThanOrEqual(c.expectedDataPackets);
  expect(sent).toBeLessThanOrEqual((c.expectedDataPackets + messagesOnWire) * 1.1);
  expect(c.agreement.status, c.agreement.detail).toBe('ok');
}

function sumOf(rails: RailBandwidth[], key: 'bytes' | 'messages'): number {
  return rails.reduce((a, r) => a + r[key], 0);
}

describe('loopback', () => {
  test('iterations mode on one rail, 1 QP: exactly iterations x size bytes, counters agree', async () => {
    const result = await runBandwidth({ loopback: true, devices: ['rxe0'], iterations: 2000, sizes: [65536], warmupMs: 200 });
    const rail = result.rails[0]!;
    expect(rail.device).toBe('rxe0');
    expect(rail.messages).toBe(2000);
    expect(rail.bytes).toBe(2000 * 65536);
    expect(rail.qps).toHaveLength(1);
    expect(rail.gbps).toBeGreaterThan(0);
    expect(rail.seconds).toBeGreaterThan(0);
    expect(rail.gbps).toBeCloseTo((rail.bytes * 8) / rail.seconds / 1e9, 6);
    expect(rail.engine.inlineUsed).toBe(false);
    expectCountersAgree(rail);
  });

  test('both rails at once, 4 QPs each, duration mode: every QP carries traffic, totals are the sum of rails', async () => {
    const samples: BandwidthSample[] = [];
    const run = runBandwidth({ loopback: true, rails: 2, qps: 4, durationMs: 2500, intervalMs: 500, warmupMs: 200 });
    run.on('sample', (s: BandwidthSample) => samples.push(s));
    const result: BandwidthResult = await run;
    expect(result.rails.map((r) => r.device)).toEqual(['rxe0', 'rxe1']);
    for (const rail of result.rails) {
      expect(rail.qps).toHaveLength(4);
      for (const qp of rail.qps) expect(qp.bytes).toBeGreaterThan(0);
      expect(sumOf([rail], 'bytes')).toBe(rail.qps.reduce((a, q) => a + q.bytes, 0));
      expect(rail.seconds).toBeGreaterThanOrEqual(2.5);
      expect(rail.samples.length).toBeGreaterThanOrEqual(3);
      expectCountersAgree(rail);
    }
    expect(result.total.bytes).toBe(sumOf(result.rails, 'bytes'));
    expect(result.total.messages).toBe(sumOf(result.rails, 'messages'));
    expect(result.total.sumOfRailsGbps).toBeCloseTo(result.rails[0]!.gbps + result.rails[1]!.gbps, 9);
    expect(result.total.gbps).toBeLessThanOrEqual(result.total.sumOfRailsGbps * 1.0001);
    // streamed samples are the ones kept in the result, and carry both rails
    expect(new Set(samples.map((s) => s.device))).toEqual(new Set(['rxe0', 'rxe1']));
    expect(samples.length).toBe(result.rails[0]!.samples.length + result.rails[1]!.samples.length);
  });

  test('a size sweep keeps every size; bidirectional reports the other direction too', async () => {
    const sweep = await runBandwidth({ loopback: true, devices: ['rxe1'], sizes: [2, 4096, 1048576], iterations: 300, warmupMs: 0 });
    expect(sweep.sizes.map((s) => s.size)).toEqual([2, 4096, 1048576]);
    for (const s of sweep.sizes) expect(s.rails[0]!.bytes).toBe(300 * s.size);
    const bidir = await runBandwidth({ loopback: true, devices: ['rxe0'], bidir: true, durationMs: 1500, warmupMs: 0 });
    const rail = bidir.rails[0]!;
    expect(rail.peer).toBeTruthy();
    expect(rail.peer!.bytes).toBeGreaterThan(0);
    expect(rail.bytes).toBeGreaterThan(0);
  });

  test('rdma_cm brings the same QPs up', async () => {
    const result = await runBandwidth({ loopback: true, devices: ['rxe0'], cm: true, qps: 2, iterations: 500 });
    expect(result.params.cm).toBe(true);
    expect(result.rails[0]!.qps.map((q) => q.messages)).toEqual([500, 500]);
  });

  test('a run stopped early returns what it measured, promptly', async () => {
    const run = runBandwidth({ loopback: true, devices: ['rxe0'], durationMs: 60_000, warmupMs: 0, intervalMs: 250 });
    const seen: BandwidthSample[] = [];
    const started = Date.now();
    for await (const s of run.samples()) {
      seen.push(s);
      if (seen.length === 3) run.stop();
    }
    const result = await run;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.stoppedEarly).toBe(true);
    expect(result.rails[0]!.bytes).toBeGreaterThan(0);
    expect(result.rails[0]!.seconds).toBeLessThan(30);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });
});

describe('two processes (server and client CLI)', () => {
  test('spark-rdma bw server and client on both rails, OOB and --cm, --json', async () => {
    const port = testPort(0);
    const server = await startServer('bw', port);
    try {
      const oob = await runNode([CLI, 'bw', '10.77.0.1', '--port', String(port), '--rails', '2', '--qps', '2', '--duration', '1.5', '--json'], 180_000);
      expect(oob.stderr).toBe('');
      expect(oob.code).toBe(0);
      const r = JSON.parse(oob.stdout) as BandwidthResult;
      expect(r.params.mode).toBe('client');
      expect(r.rails.map((x) => x.device)).toEqual(['rxe0', 'rxe1']);
      for (const rail of r.rails) expect(rail.gbps).toBeGreaterThan(0);
      expect(r.total.bytes).toBe(r.rails[0]!.bytes + r.rails[1]!.bytes);

      const cm = await runNode([CLI, 'bw', '10.77.0.1', '--port', String(port), '--rails', '2', '--cm', '--bidir', '--iters', '400', '--json'], 180_000);
      expect(cm.code).toBe(0);
      const c = JSON.parse(cm.stdout) as BandwidthResult;
      expect(c.params.cm).toBe(true);
      for (const rail of c.rails) {
        expect(rail.messages).toBe(400);
        expect(rail.peer!.bytes).toBe(400 * 65536);
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.log()).toMatch(/session with .* ended/);
  });

  test('nothing listening on the peer port: a clear error, exit 1, no hang', async () => {
    const r = await runNode([CLI, 'bw', '10.77.0.1', '--port', String(testPort(1)), '--rails', '1', '--duration', '1'], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^spark-rdma: .*10\.77\.0\.1:\d+/m);
    expect(r.stderr).toMatch(/hint: /);
  });
});
