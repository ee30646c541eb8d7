// Every result says what it cost: CPU seconds of the engine thread(s) and the share of a core,
// in the bw table and in --json (issue 17, point 3).
import { describe, expect, test } from 'vitest';
import type { WriteBandwidthResult } from '../../binding.js';
import { railBandwidth, totalOf, type BandwidthResult } from '../../lib/bandwidth/result.js';
import { bandwidthJson, renderBandwidth } from '../../lib/cli/views/bw-view.js';
import type { Rail } from '../../lib/rails/types.js';
import { cpuSecondsPerGB, railCpu } from '../../lib/report/cpu.js';

const rail = { index: 0, device: 'rxe0', port: 1, netdev: 'rail0', rateGbps: 0 } as unknown as Rail;

function raw(threadNs: number, wallNs: number): WriteBandwidthResult {
  return {
    qps: [{ qpn: 17, bytes: 2e9, messages: 30518, firstPostNs: 1e9, lastCompletionNs: 3e9 }],
    bytes: 2e9,
    messages: 30518,
    firstPostNs: 1e9,
    lastCompletionNs: 3e9,
    warmupMessages: 0,
    stoppedEarly: false,
    engine: { postCalls: 1, pollCalls: 1, emptyPolls: 0, inlineUsed: false },
    cpu: { threadNs, wallNs },
  };
}

describe('CPU cost', () => {
  test('one thread: its seconds, and seconds over its own wall time as the core share', () => {
    expect(railCpu([{ threadNs: 1.5e9, wallNs: 2e9 }])).toEqual({ seconds: 1.5, coreShare: 0.75 });
  });

  test('several threads on one rail add up; the share is over the longest span (two busy threads = 2 cores)', () => {
    expect(railCpu([{ threadNs: 2e9, wallNs: 2e9 }, { threadNs: 1.8e9, wallNs: 1.9e9 }])).toEqual({ seconds: 3.8, coreShare: 1.9 });
  });

  test('a span of no wall time has no share rather than a division by zero', () => {
    expect(railCpu([{ threadNs: 0, wallNs: 0 }])).toEqual({ seconds: 0, coreShare: 0 });
    expect(cpuSecondsPerGB({ seconds: 1, coreShare: 1 }, 0)).toBeNull();
  });

  test('the bw table shows core share, CPU seconds and CPU s/GB; --json carries rail.cpu', () => {
    const r = railBandwidth(rail, 65536, 4096, raw(1.6e9, 2e9), [], null);
    expect(r.cpu).toEqual({ seconds: 1.6, coreShare: 0.8 });
    const result: BandwidthResult = {
      params: { sizes: [65536], qps: 1, txDepth: 128, postList: 1, signalEvery: 100, inlineThreshold: 0, durationMs: 2000, warmupMs: 0, intervalMs: 1000, bidir: false, cm: false, completionTimeoutMs: 5000, mode: 'loopback', peer: null, rails: ['rxe0'], mtu: [4096], pairing: null } as BandwidthResult['params'],
      sizes: [{ size: 65536, rails: [r], total: totalOf([r], [raw(1.6e9, 2e9)]) }],
      rails: [r],
      total: totalOf([r], [raw(1.6e9, 2e9)]),
      stoppedEarly: false,
    };
    const text = renderBandwidth(result);
    expect(text).toMatch(/CPU core \(s\)\s+CPU s\/GB/);
    // 1.6 CPU s for 2e9 bytes: 0.8 s per GB.
    expect(text).toMatch(/0\.80 \(1\.60 s\)\s+0\.800/);
    const json = JSON.parse(bandwidthJson(result)) as { rails: { cpu: unknown }[] };
    expect(json.rails[0]!.cpu).toEqual({ seconds: 1.6, coreShare: 0.8 });
  });
});
