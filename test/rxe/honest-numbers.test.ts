// Memory and honest numbers (issue 13, points 9 and 10) against real rdma_rxe: a latency run
// past its sample budget keeps a bounded histogram, and the MTU a run computes with is the one
// its QPs have, rdma_cm or not.
import { beforeAll, describe, expect, test } from 'vitest';
import { runBandwidth } from '../../lib/bandwidth/index.js';
import { runLatency } from '../../lib/latency/index.js';
import type { Rail } from '../../lib/rails/types.js';
import { openLoopbackPair } from '../../lib/verbs/loopback-pair.js';
import { CLI, requireRxe, runNode } from './helpers.js';

const RXE0: Rail = { index: 0, device: 'rxe0', port: 1, gidIndex: 1, ipv4: '10.77.0.1' } as Rail;

beforeAll(() => requireRxe());

describe('latency samples are bounded (13.9)', () => {
  test('past the sample budget the result is a histogram: exact min, max, mean, stdev; percentiles within the stated error', async () => {
    // Small enough that a slow emulated guest (a few hundred exchanges a second) still passes it.
    const budget = 200;
    const r = await runLatency({ loopback: true, devices: ['rxe0'], durationMs: 2000, warmupIterations: 100, sampleBudget: budget } as Parameters<typeof runLatency>[0]);
    const rail = r.rails[0]! as (typeof r.rails)[0] & { statistics?: string; relativeError?: number };
    const l = rail.latency;
    console.log(`budget ${budget}: statistics ${rail.statistics}, ${l.count} samples, min ${l.minUs.toFixed(2)} p50 ${l.p50Us.toFixed(2)} p99 ${l.p99Us.toFixed(2)} max ${l.maxUs.toFixed(2)} us, error ${rail.relativeError}`);
    expect(rail.statistics).toBe('histogram');
    expect(rail.relativeError).toBeCloseTo(1 / 256, 10);
    expect(l.count).toBeGreaterThan(budget);
    expect(l.count).toBe(rail.exchanges - rail.warmupExchanges);
    expect(l.minUs).toBeLessThanOrEqual(l.p50Us);
    expect(l.p50Us).toBeLessThanOrEqual(l.p99Us);
    expect(l.p99Us).toBeLessThanOrEqual(l.maxUs);
    expect(l.meanUs).toBeGreaterThanOrEqual(l.minUs);
    expect(l.meanUs).toBeLessThanOrEqual(l.maxUs);
    expect(rail.histogram.reduce((n, b) => n + b.count, 0)).toBe(l.count);

    // Within budget nothing changes: every sample is kept and the statistics are exact.
    const exact = await runLatency({ loopback: true, devices: ['rxe0'], iterations: 1000, warmupIterations: 100 });
    expect((exact.rails[0]! as { statistics?: string }).statistics).toBe('exact');
    expect(exact.rails[0]!.latency.count).toBe(1000);
  });
});

describe('the MTU a run uses is the QPs own (13.10)', () => {
  test('QueuePair.pathMtu is what the QP was brought up with: connect() or the rdma_cm route', async () => {
    const oob = await openLoopbackPair(RXE0, 1024, { qps: 1, regionBytes: 4096, txDepth: 16, inlineBytes: 0, cm: false, timeoutMs: 10_000 });
    const cm = await openLoopbackPair(RXE0, 1024, { qps: 1, regionBytes: 4096, txDepth: 16, inlineBytes: 0, cm: true, timeoutMs: 30_000 });
    try {
      const oobMtu = (oob.a.qps[0] as unknown as { pathMtu?: number }).pathMtu;
      const cmMtu = (cm.a.qps[0] as unknown as { pathMtu?: number }).pathMtu;
      console.log(`pathMtu: out-of-band at 1024 -> ${oobMtu}; rdma_cm (rail netdev MTU 9000) -> ${cmMtu}`);
      expect(oobMtu).toBe(1024);
      expect(cmMtu).toBe(4096);
    } finally {
      oob.close();
      cm.close();
    }
  });

  test('an rdma_cm bandwidth run reports the QP MTU and its counter check agrees', async () => {
    const r = await runBandwidth({ loopback: true, devices: ['rxe0'], cm: true, iterations: 2000, warmupMs: 0 });
    const rail = r.rails[0]!;
    console.log(`--cm run: mtu ${rail.activeMtu}, counters ${JSON.stringify(rail.counters?.agreement ?? null)}`);
    expect(rail.activeMtu).toBe(4096);
  });

  test('--mtu with --cm is refused: rdma_cm takes the path MTU from the route', async () => {
    const r = await runNode([CLI, 'bw', '--loopback', '--cm', '--devices', 'rxe0', '--mtu', '1024', '--iters', '200', '--json'], 120_000);
    console.log(`bw --cm --mtu 1024: exit ${r.code}; ${r.code === 0 ? `reported mtu ${JSON.stringify((JSON.parse(r.stdout) as { rails: { activeMtu: number }[] }).rails.map((x) => x.activeMtu))}` : r.stderr.trim().split('\n')[0]}`);
    expect(r.code).toBe(2); // a usage error (docs/cli.md: exit codes)
    expect(r.stderr).toMatch(/--mtu 1024 cannot be used with --cm/);
  });
});
