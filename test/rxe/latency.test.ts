// RDMA WRITE latency on real rxe rails: honest statistics over every sample, duration mode,
// two rails at once, two processes, and a silent peer ending in an error within the deadline.
import { readFileSync } from 'node:fs';
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
    // Warm-up: at least 50 exchanges and at least 100 ms (the default), then exactly 1500 timed.
    expect(rail.warmupExchanges).toBeGreaterThanOrEqual(50);
    expect(rail.exchanges).toBe(rail.warmupExchanges + 1500);
    ordered(rail.latency);
    expect(rail.histogram.reduce((a, b) => a + b.count, 0)).toBe(1500);
    expect(rail.inlineUsed).toBe(true);
    expect(rail.timer.cpuMigrations).toBeGreaterThanOrEqual(0);
    expect(rail.timer.mhz).toBeGreaterThan(100);
  });

  test('duration mode has percentiles too; two rails concurrently; several sizes; a sample event per rail and size', async () => {
    const run = runLatency({ loopback: true, rails: 2, durationMs: 1000, concurrent: true, sizes: [2, 4096] });
    const seen: string[] = [];
    run.on('sample', (s: { device: string; size: number }) => seen.push(`${s.device}/${s.size}`));
    const r = await run;
    expect(r.rails.map((x) => `${x.device}/${x.size}`).sort()).toEqual(['rxe0/2', 'rxe0/4096', 'rxe1/2', 'rxe1/4096']);
    expect(seen.sort()).toEqual(['rxe0/2', 'rxe0/4096', 'rxe1/2', 'rxe1/4096']);
    for (const rail of r.rails) {
      expect(rail.latency.count).toBeGreaterThan(10);
      ordered(rail.latency);
    }
    expect(r.rails.find((x) => x.size === 4096)!.inlineUsed).toBe(false);
  });

  test('a silent peer ends the run with ERR_RDMA_PEER_SILENT within its deadline (ib_write_lat hangs)', async () => {
    const native = loadBinding();
    const [a, b] = connectedPair('rxe1');
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
    closeSides([a, b]);
  });

  test('the stopwatch: counter ticks at the rate the kernel calibrated, samples tile the run, the responder keeps none', async () => {
    const native = loadBinding();
    const [a, b] = connectedPair('rxe0');
    const params = (role: 'initiator' | 'responder') =>
      ({ size: 2, inlineThreshold: 0, iterations: 3000, warmupIterations: 20, role, peerTimeoutMs: 5000 }) as const;
    const responder = new native.WriteLatencyEngine(b.cq, { qp: b.qp, local: b.dst, source: b.src, remoteAddr: a.dst.addr, rkey: a.dst.rkey }, params('responder'));
    const initiator = new native.WriteLatencyEngine(a.cq, { qp: a.qp, local: a.dst, source: a.src, remoteAddr: b.dst.addr, rkey: b.dst.rkey }, params('initiator'));
    const answered = responder.start();
    const started = process.hrtime.bigint();
    const measured = await initiator.start();
    const elapsedNs = Number(process.hrtime.bigint() - started);
    const answer = await answered;
    closeSides([a, b]);

    expect(measured.samplesNs.length).toBe(3000);
    expect(answer.samplesNs.length).toBe(0);
    expect(answer.exchanges).toBe(3020);
    expect(measured.timer.source).toBe(process.arch === 'arm64' ? 'cntvct' : 'tsc');
    // The guest kernel calibrated its TSC against HPET at boot; our rate, measured against
    // CLOCK_MONOTONIC_RAW over this run, must agree with it.
    const kernelMhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1]);
    expect(Math.abs(measured.timer.mhz / kernelMhz - 1)).toBeLessThan(0.01);
    // Every sample is half of one round trip and they follow each other without gaps, so twice
    // their sum is the timed part of the run: shorter than the whole call, and most of it.
    const timedNs = 2 * measured.samplesNs.reduce((sum, ns) => sum + ns, 0);
    expect(timedNs).toBeLessThan(elapsedNs);
    expect(timedNs).toBeGreaterThan(0.3 * elapsedNs);
    expect(Math.min(...measured.samplesNs)).toBeGreaterThan(500); // a soft-RoCE hop is microseconds, not ticks
  });

  test('a warm-up in time: timing starts only after warmupMs; the responder follows until stopped', async () => {
    const native = loadBinding();
    const [a, b] = connectedPair('rxe0');
    const responder = new native.WriteLatencyEngine(b.cq, { qp: b.qp, local: b.dst, source: b.src, remoteAddr: a.dst.addr, rkey: a.dst.rkey }, {
      size: 2, inlineThreshold: 0, durationMs: 60_000, warmupIterations: 0, role: 'responder', peerTimeoutMs: 5000,
    });
    const initiator = new native.WriteLatencyEngine(a.cq, { qp: a.qp, local: a.dst, source: a.src, remoteAddr: b.dst.addr, rkey: b.dst.rkey }, {
      size: 2, inlineThreshold: 0, iterations: 500, warmupIterations: 10, warmupMs: 300, role: 'initiator', peerTimeoutMs: 5000,
    });
    const answered = responder.start();
    const started = Date.now();
    const measured = await initiator.start();
    const elapsedMs = Date.now() - started;
    responder.stop();
    const answer = await answered;
    closeSides([a, b]);
    expect(elapsedMs).toBeGreaterThanOrEqual(300);
    expect(measured.samplesNs.length).toBe(500);
    // A soft-RoCE exchange takes about 15 us: 300 ms of warm-up is thousands on a quiet host,
    // and still far above the 10 asked when a loaded host makes each exchange 100x slower.
    expect(measured.warmupExchanges).toBeGreaterThan(50);
    expect(measured.exchanges).toBe(measured.warmupExchanges + 500);
    expect(measured.stoppedEarly).toBe(false);
    expect(answer.exchanges).toBe(measured.exchanges);
    expect(answer.stoppedEarly).toBe(false);
  });

  test("timer 'auto' picks the counter where a clock read is slow (hpet here); 'clock' and 'counter' agree", async () => {
    const clocksource = readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
    expect(clocksource).toBe('hpet'); // what this guest runs on; the 'auto' expectation below depends on it
    const native = loadBinding();
    const [a, b] = connectedPair('rxe0');
    const run = async (timer: 'auto' | 'clock' | 'counter') => {
      for (const region of [a.dst, a.src, b.dst, b.src]) region.view().fill(0);
      const params = (role: 'initiator' | 'responder') =>
        ({ size: 2, inlineThreshold: 0, iterations: 2000, warmupIterations: 20, role, peerTimeoutMs: 5000, timer }) as const;
      const responder = new native.WriteLatencyEngine(b.cq, { qp: b.qp, local: b.dst, source: b.src, remoteAddr: a.dst.addr, rkey: a.dst.rkey }, params('responder'));
      const initiator = new native.WriteLatencyEngine(a.cq, { qp: a.qp, local: a.dst, source: a.src, remoteAddr: b.dst.addr, rkey: b.dst.rkey }, params('initiator'));
      const answered = responder.start();
      const r = await initiator.start();
      await answered;
      return r;
    };
    const auto = await run('auto');
    // Alternating pairs, so that a change in the host's load falls on both timers alike.
    const pairs: [Awaited<ReturnType<typeof run>>, Awaited<ReturnType<typeof run>>][] = [];
    for (let i = 0; i < 3; i++) pairs.push([await run('clock'), await run('counter')]);
    const [clock, counter] = pairs[0]!;
    const badTimer = { size: 2, inlineThreshold: 0, iterations: 1, warmupIterations: 0, role: 'initiator', peerTimeoutMs: 5000, timer: 'rdtsc' as never } as const;
    expect(() => new native.WriteLatencyEngine(a.cq, { qp: a.qp, local: a.dst, source: a.src, remoteAddr: 0n, rkey: 0 }, badTimer)).toThrow(
      "timer must be 'auto', 'clock' or 'counter'",
    );
    closeSides([a, b]);
    expect(auto.timer.source).toBe(process.arch === 'arm64' ? 'cntvct' : 'tsc');
    expect(clock.timer).toMatchObject({ source: 'monotonic_raw', mhz: 1000, cpuMigrations: expect.any(Number) });
    expect(counter.timer.source).toBe(auto.timer.source);
    const median = (xs: ArrayLike<number>) => [...Array.from(xs)].sort((x, y) => x - y)[xs.length >> 1]!;
    // The same link timed two ways: the clock's own cost (about 1 us a read here, read once per
    // exchange) makes its samples a little longer, never a different order of magnitude.
    const ratio = median(pairs.map(([c, n]) => median(c.samplesNs) / median(n.samplesNs)));
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.5);
  });
});

/** Two RC QPs on one rxe device, connected to each other through its RoCE v2 GID. */
function connectedPair(device: string) {
  const native = loadBinding();
  const gid = native.queryDevice(device).ports[0]!.gids[1]!.gid;
  const side = () => {
    const ctx = new native.Context(device);
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
  return [a, b] as const;
}

function closeSides(sides: readonly ReturnType<typeof connectedPair>[number][]): void {
  for (const s of sides) {
    s.qp.close();
    s.src.close();
    s.dst.close();
    s.cq.close();
    s.pd.close();
    s.ctx.close();
  }
}

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
