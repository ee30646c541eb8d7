// The latency table and JSON name the stopwatch: which counter, its measured rate, and how many
// samples spanned a move to another CPU (the ones to doubt where counters are not synchronised).
import { describe, expect, test } from 'vitest';
import type { LatencyTimer } from '../../binding.js';
import { latencyJson, renderLatency } from '../../lib/cli/views/lat-view.js';
import type { LatencyResult, RailLatency } from '../../lib/latency/index.js';
import { railLatency } from '../../lib/latency/result.js';
import type { Rail } from '../../lib/rails/types.js';

const rail = (index: number, device: string) => ({ index, device, port: 1, netdev: `rail${index}` }) as unknown as Rail;

function result(timers: LatencyTimer[]): LatencyResult {
  const rails: RailLatency[] = timers.map((timer, i) =>
    railLatency(rail(i, `rxe${i}`), 2, { samplesNs: Float64Array.from([3000, 3500, 4000]), exchanges: 103, warmupExchanges: 100, inlineUsed: true, stoppedEarly: false, timer, cpu: { threadNs: 4e8, wallNs: 5e8 } }),
  );
  return {
    params: { sizes: [2], iterations: 3, warmupIterations: 100, warmupMs: 100, inlineThreshold: 220, concurrent: false, peerTimeoutMs: 5000, mode: 'loopback', peer: null, rails: rails.map((r) => r.device), mtu: [4096] } as LatencyResult['params'],
    rails,
    stoppedEarly: false,
  };
}

describe('latency view: the timer', () => {
  test('one rate for all rails, no migrations: named once, nothing to doubt', () => {
    const text = renderLatency(result([{ source: 'tsc', mhz: 2596.26, cpuMigrations: 0 }]), false, 80);
    expect(text).toContain('timed with tsc at 2596.3 MHz, rate measured against CLOCK_MONOTONIC_RAW over each run');
    expect(text).not.toMatch(/another CPU/);
    expect(text.split('\n')[0]).toContain('warm-up 100 exchanges and 100 ms');
  });

  test('rates that differ show as a range; migrations are counted over rails', () => {
    const text = renderLatency(
      result([
        { source: 'cntvct', mhz: 1000, cpuMigrations: 1 },
        { source: 'cntvct', mhz: 1000.4, cpuMigrations: 2 },
      ]),
      false,
      80,
    );
    expect(text).toContain('timed with cntvct at 1000.0-1000.4 MHz');
    expect(text).toContain('; 3 samples spanned a move to another CPU');
  });

  test('--json carries each rail timer as the engine measured it', () => {
    const json = JSON.parse(latencyJson(result([{ source: 'tsc', mhz: 2596.26, cpuMigrations: 4 }]))) as { rails: { timer: LatencyTimer; latency: { count: number } }[] };
    expect(json.rails[0]!.timer).toEqual({ source: 'tsc', mhz: 2596.26, cpuMigrations: 4 });
    expect(json.rails[0]!.latency.count).toBe(3);
    expect(json.rails[0]).toMatchObject({ exchanges: 103, warmupExchanges: 100 });
  });
});

describe('latency view: the CPU cost', () => {
  test('the table shows the share of a core and the CPU seconds; --json carries them', () => {
    const r = result([{ source: 'tsc', mhz: 2596.26, cpuMigrations: 0 }]);
    expect(renderLatency(r, false, 80)).toMatch(/CPU core \(s\)[\s\S]*0\.80 \(0\.40 s\)/);
    const json = JSON.parse(latencyJson(r)) as { rails: { cpu: { seconds: number; coreShare: number } }[] };
    expect(json.rails[0]!.cpu).toEqual({ seconds: 0.4, coreShare: 0.8 });
  });
});
