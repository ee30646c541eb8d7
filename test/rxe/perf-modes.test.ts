// Issue 17 on real rxe rails: every result carries the CPU its engine threads used; --events
// (completion channel) moves exactly the bytes polling does, with counters agreeing, and
// closes its channel; lat --events works. Speed goals are in bench/, not here.
import { getPriority } from 'node:os';
import { beforeAll, describe, expect, test } from 'vitest';
import { runBandwidth, type RailBandwidth } from '../../lib/bandwidth/index.js';
import { runLatency } from '../../lib/latency/index.js';
import { RdmaError } from '../../lib/errors.js';
import { loadBinding } from '../../lib/native/load.js';
import type { Rail } from '../../lib/rails/types.js';
import { openLoopbackPair } from '../../lib/verbs/loopback-pair.js';
import { CLI, openFds, requireRxe, runNode } from './helpers.js';

beforeAll(() => requireRxe());

const RXE0: Rail = { index: 0, device: 'rxe0', port: 1, gidIndex: 1, ipv4: '10.77.0.1' } as Rail;

function expectCpu(cpu: { seconds: number; coreShare: number }): void {
  expect(cpu.seconds).toBeGreaterThan(0);
  expect(cpu.coreShare).toBeGreaterThan(0);
  // One thread's own clock cannot run faster than the wall clock (5 % for clock granularity).
  expect(cpu.coreShare).toBeLessThanOrEqual(1.05);
}

function expectCountersAgree(rail: RailBandwidth): void {
  const c = rail.counters!;
  expect(c.delta.txPackets!).toBeGreaterThanOrEqual(c.expectedDataPackets);
  expect(c.agreement.status, c.agreement.detail).toBe('ok');
}

describe('CPU cost in every result', () => {
  test('bw: each rail carries cpu {seconds, coreShare} from its engine thread', async () => {
    const result = await runBandwidth({ loopback: true, devices: ['rxe0'], iterations: 1500, sizes: [65536], warmupMs: 100 });
    const rail = result.rails[0]!;
    expect(rail.messages).toBe(1500);
    expectCpu(rail.cpu);
    // The CPU was spent within the timed phase, so it cannot exceed that phase by much.
    expect(rail.cpu.seconds).toBeLessThanOrEqual(rail.seconds * 1.05 + 0.05);
  });

  test('lat: each rail and size carries cpu', async () => {
    const r = await runLatency({ loopback: true, devices: ['rxe0'], iterations: 500, warmupIterations: 20, warmupMs: 0 });
    expectCpu(r.rails[0]!.cpu);
  });
});

describe('--events: event-driven completions', () => {
  test('bw, iterations: exactly iterations x size bytes per QP, counters agree, no fd left behind', async () => {
    const fdsBefore = openFds();
    const result = await runBandwidth({ loopback: true, devices: ['rxe0'], qps: 2, iterations: 1200, sizes: [65536], warmupMs: 100, events: true });
    const rail = result.rails[0]!;
    expect(result.params.events).toBe(true);
    expect(rail.messages).toBe(2400);
    expect(rail.bytes).toBe(2400 * 65536);
    for (const qp of rail.qps) expect(qp.messages).toBe(1200);
    expectCountersAgree(rail);
    // rxe on loopback completes a write inside ibv_post_send itself, so the CQ is rarely found
    // empty here and the thread rarely needs to sleep (the stall test below makes it sleep).
    expect(rail.engine.eventWakeups).toBeLessThanOrEqual(rail.engine.eventSleeps);
    expectCpu(rail.cpu);
    // The endpoints closed their CQs, and with them the completion channels' fds.
    expect(openFds()).toBe(fdsBefore);
  });

  test('bw, duration, polling has no event sleeps; both modes move data (speed is for the bench)', async () => {
    const polled = await runBandwidth({ loopback: true, devices: ['rxe0'], durationMs: 800, sizes: [65536], warmupMs: 100 });
    expect(polled.params.events).toBe(false);
    expect(polled.rails[0]!.engine.eventSleeps).toBe(0);
    const evented = await runBandwidth({ loopback: true, devices: ['rxe0'], durationMs: 800, sizes: [65536], warmupMs: 100, events: true });
    const rail = evented.rails[0]!;
    expect(rail.bytes).toBe(rail.messages * 65536);
    expect(rail.messages).toBeGreaterThan(0);
    expect(rail.seconds).toBeGreaterThanOrEqual(0.8);
    expectCountersAgree(rail);
  });

  test('lat: every sample is there at an inline and a non-inline size, no fd left behind', async () => {
    const fdsBefore = openFds();
    const r = await runLatency({ loopback: true, devices: ['rxe0'], iterations: 400, warmupIterations: 20, warmupMs: 0, sizes: [2, 4096], events: true });
    expect(r.params.events).toBe(true);
    for (const rail of r.rails) {
      expect(rail.latency.count).toBe(400);
      expect(rail.latency.minUs).toBeGreaterThan(0);
      expectCpu(rail.cpu);
    }
    // 4096 B is above the inline threshold: each write's completion is awaited, by events here.
    const big = r.rails.find((x) => x.size === 4096)!;
    expect(big.inlineUsed).toBe(false);
    expect(big.events.wakeups).toBeLessThanOrEqual(big.events.sleeps);
    expect(openFds()).toBe(fdsBefore);
  });

  test('a stalled peer: the events engine sleeps through the retries instead of spinning, and still fails in time', async () => {
    const native = loadBinding();
    // Side b goes away after connecting: a's writes are retried until retry-exceeded (7 retries
    // of a 67 ms ACK timeout), the one completion the engine waits for.
    const stall = async (events: boolean) => {
      const pair = await openLoopbackPair(RXE0, 4096, { qps: 1, regionBytes: 65536, txDepth: 16, inlineBytes: 0, cm: false, timeoutMs: 10_000 });
      try {
        pair.b.close();
        const engine = new native.WriteBandwidthEngine(pair.a.cq, pair.a.writeTargets(pair.aPeer), {
          size: 65536, txDepth: 16, postList: 1, signalEvery: 1, inlineThreshold: 0, iterations: 8, warmupMs: 0, intervalMs: 1000, completionTimeoutMs: 8000, events,
        });
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const err = await engine.start().then(() => null, (e: unknown) => e);
        const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
        const used = process.cpuUsage(cpu0);
        return { err: err as RdmaError | null, wallS, cpuS: (used.user + used.system) / 1e6 };
      } finally {
        pair.close();
      }
    };
    const polled = await stall(false);
    const evented = await stall(true);
    for (const r of [polled, evented]) {
      expect(r.err).toBeInstanceOf(RdmaError);
      expect(['ERR_RDMA_WC', 'ERR_RDMA_CQ_TIMEOUT']).toContain(r.err!.code);
      expect(r.wallS).toBeLessThan(10);
    }
    // Polling spins a core through the retries; sleeping on the channel uses a fraction of that.
    expect(evented.cpuS / evented.wallS).toBeLessThan(0.5 * (polled.cpuS / polled.wallS));
  });

  test('an engine asked for events on a CQ without a channel is refused with what to do', () => {
    const native = loadBinding();
    const ctx = new native.Context('rxe0');
    const cq = new native.CompletionQueue(ctx, 16);
    const withChannel = new native.CompletionQueue(ctx, 16, { completionChannel: true });
    try {
      expect(cq.completionChannel).toBe(false);
      expect(withChannel.completionChannel).toBe(true);
      expect(() => new native.WriteBandwidthEngine(cq, [{} as never], { size: 8, txDepth: 8, postList: 1, signalEvery: 1, inlineThreshold: 0, iterations: 1, warmupMs: 0, intervalMs: 1000, completionTimeoutMs: 1000, events: true })).toThrow(
        /params\.events needs a CompletionQueue made with \{completionChannel: true\}/,
      );
      expect(() => new native.CompletionQueue(ctx, 16, { completionChannel: 'yes' as never })).toThrow(/completionChannel must be a boolean/);
    } finally {
      cq.close();
      withChannel.close();
      ctx.close();
    }
  });

  test('CLI: bw --events and lat -e print the mode and the CPU columns; --json records events in params', async () => {
    const bw = await runNode([CLI, 'bw', '--loopback', '--devices', 'rxe0', '--iters', '500', '--events', '--json'], 60_000);
    expect(bw.code, bw.stderr).toBe(0);
    const json = JSON.parse(bw.stdout) as { params: { events: boolean }; rails: { messages: number; cpu: { seconds: number; coreShare: number } }[] };
    expect(json.params.events).toBe(true);
    expect(json.rails[0]!.messages).toBe(500);
    expectCpu(json.rails[0]!.cpu);
    const lat = await runNode([CLI, 'lat', '--loopback', '--devices', 'rxe0', '--iters', '200', '-e'], 60_000);
    expect(lat.code, lat.stderr).toBe(0);
    expect(lat.stdout).toContain('send completions by events');
    expect(lat.stdout).toContain('CPU core (s)');
  });
});

describe('--threads: a rail spread over engine threads', () => {
  test('4 QPs on 2 threads, polling and events: exact bytes per QP, counters agree, CPU of both threads', async () => {
    for (const events of [false, true]) {
      const result = await runBandwidth({ loopback: true, devices: ['rxe0'], qps: 4, threads: 2, iterations: 600, sizes: [65536], warmupMs: 100, events });
      const rail = result.rails[0]!;
      expect(result.params.threads).toBe(2);
      expect(rail.qps.map((q) => q.messages)).toEqual([600, 600, 600, 600]);
      expect(new Set(rail.qps.map((q) => q.qpn)).size).toBe(4);
      expect(rail.bytes).toBe(4 * 600 * 65536);
      expectCountersAgree(rail);
      expect(rail.cpu.seconds).toBeGreaterThan(0);
      // Two threads: up to two cores' worth.
      expect(rail.cpu.coreShare).toBeLessThanOrEqual(2.1);
    }
  });

  test('CLI: --threads above --qps is refused with exit 2 and what to do', async () => {
    const r = await runNode([CLI, 'bw', '--loopback', '--devices', 'rxe0', '--qps', '1', '--threads', '2', '--iters', '10'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 engine threads per rail for 1 QP/);
  });
});

describe('engineNice: engine threads below the JS thread (issue 17 point 4)', () => {
  test("each engine thread runs at the process's nice plus engineNice, capped at 19, and says so; the process keeps its own", async () => {
    const own = getPriority();
    const niced = await runBandwidth({ loopback: true, devices: ['rxe0', 'rxe1'], qps: 2, threads: 2, iterations: 200, sizes: [4096], warmupMs: 0, engineNice: 7 });
    for (const rail of niced.rails) {
      expect(rail.engine.nice).toBe(Math.min(19, own + 7));
      expect(rail.messages).toBe(400);
    }
    // Only the engine threads changed: this (JS) thread keeps its priority.
    expect(getPriority()).toBe(own);
    const plain = await runBandwidth({ loopback: true, devices: ['rxe0'], iterations: 200, sizes: [4096], warmupMs: 0, engineNice: 0 });
    expect(plain.rails[0]!.engine.nice).toBe(own);
    await expect(runBandwidth({ loopback: true, devices: ['rxe0'], iterations: 10, engineNice: 20 })).rejects.toThrow(/engine nice increment 20 is out of range 0\.\.19/);
  });
});
