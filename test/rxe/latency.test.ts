// RDMA WRITE latency on real rxe rails: honest statistics over every sample, duration mode,
// two rails at once, two processes, and a silent peer ending in an error within the deadline.
import { beforeAll, describe, expect, test } from 'vitest';
import { runLatency } from '../../lib/latency/index.js';
import { loadBinding } from '../../lib/native/load.js';
import { RdmaError } from '../../lib/errors.js';
import { CLI, requireRxe, runNode, startServer, testPort } from './helpers.js';

beforeAll(() => requireRxe());

function ordered(l: { minUs: number; p50Us: number; p90Us: number; p99Us: number; p999Us: number; p9999Us: number; maxUs: number }): void {
  expect(l.minUs).toBeGreaterThan(0);
  expect(l.minUs).toBeLessThanOrEqual(l.p50Us);
  expect(l.p50Us).toBeLessThanOrEqual(l.p90Us);
  expect(l.p90Us).toBeLessThanOrEqual(l.p99Us);
  expect(l.p99Us).toBeLessThanOrEqual(l.p999Us);
  expect(l.p999Us).toBeLessThanOrEqual(l.p9999Us);
  expect(l.p9999Us).toBeLessThanOrEqual(l.maxUs);
}

describe('loopback latency', () => {
  test('sample count equals iterations; percentiles are ordered; histogram counts every sample', async () => {
    const r = await runLatency({ loopback: true, devices: ['rxe0'], iterations: 1500, warmupIterations: 50 });
    const rail = r.rails[0]!;
    expect(rail.latency.count).toBe(1500);
    expect(rail.exchanges).toBe(1550);
    ordered(rail.latency);
    expect(rail.histogram.reduce((a, b) => a + b.count, 0)).toBe(1500);
    expect(rail.inlineUsed).toBe(true);
  });

  test('duration mode has percentiles too; two rails concurrently; several sizes', async () => {
    const r = await runLatency({ loopback: true, rails: 2, durationMs: 1000, concurrent: true, sizes: [2, 4096] });
    expect(r.rails.map((x) => `${x.device}/${x.size}`).sort()).toEqual(['rxe0/2', 'rxe0/4096', 'rxe1/2', 'rxe1/4096']);
    for (const rail of r.rails) {
      expect(rail.latency.count).toBeGreaterThan(10);
      ordered(rail.latency);
    }
    expect(r.rails.find((x) => x.size === 4096)!.inlineUsed).toBe(false);
  });

  test('a silent peer ends the run with ERR_RDMA_PEER_SILENT within its deadline (ib_write_lat hangs)', async () => {
    const native = loadBinding();
    const gid = native.queryDevice('rxe1').ports[0]!.gids[1]!.gid;
    const side = () => {
      const ctx = new native.Context('rxe1');
      const pd = new native.ProtectionDomain(ctx);
      const cq = new native.CompletionQueue(ctx, 64);
      const src = new native.MemoryRegion(pd, 64);
      const dst = new native.MemoryRegion(pd, 64, { remoteWrite: true });
      const qp = new native.QueuePair(pd, cq, { maxSendWr: 64, maxInlineData: 64 });
      return { ctx, pd, cq, src, dst, qp };
    };
    const a = side();
    const b = side();
    a.qp.connect({ qpn: b.qp.qpn, psn: b.qp.psn, gid, mtu: 4096 }, { port: 1, gidIndex: 1 });
    b.qp.connect({ qpn: a.qp.qpn, psn: a.qp.psn, gid, mtu: 4096 }, { port: 1, gidIndex: 1 });
    // b never answers: a's writes land, but nothing comes back.
    const engine = new native.WriteLatencyEngine(a.cq, { qp: a.qp, local: a.dst, source: a.src, remoteAddr: b.dst.addr, rkey: b.dst.rkey }, {
      size: 2,
      inlineThreshold: 64,
      iterations: 100,
      warmupIterations: 0,
      role: 'initiator',
      peerTimeoutMs: 1500,
    });
    const started = Date.now();
    const err = await engine.start().then(() => null, (e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(RdmaError);
    expect((err as RdmaError).code).toBe('ERR_RDMA_PEER_SILENT');
    expect((err as RdmaError).message).toMatch(/no write from the peer for 1500 ms/);
    expect(elapsed).toBeLessThan(15_000);
    for (const s of [a, b]) {
      s.qp.close();
      s.src.close();
      s.dst.close();
      s.cq.close();
      s.pd.close();
      s.ctx.close();
    }
  });
});

describe('two processes', () => {
  test('spark-rdma lat client against a server, both rails, --json has the documented fields', async () => {
    const port = testPort(2);
    const server = await startServer('lat', port);
    try {
      const r = await runNode([CLI, 'lat', '10.77.0.1', '--port', String(port), '--rails', '2', '--iters', '300', '--json'], 180_000);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { params: unknown; rails: { device: string; size: number; latency: Record<string, number>; histogram: unknown[] }[] };
      expect(out.rails.map((x) => x.device)).toEqual(['rxe0', 'rxe1']);
      for (const rail of out.rails) {
        expect(Object.keys(rail.latency).sort()).toEqual(['count', 'maxUs', 'meanUs', 'minUs', 'p50Us', 'p90Us', 'p9999Us', 'p999Us', 'p99Us', 'stdevUs'].sort());
        expect(rail.latency['count']).toBe(300);
        expect(rail.histogram.length).toBeGreaterThan(0);
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
