// The bench's CPU figures (issue 17): perftest's client CPU from bash `times`, CPU per GB per
// pair, and the goals it is checked against.
import { describe, expect, it } from 'vitest';
import { childCpuSeconds } from '../../bench/guest/perftest.js';
import { benchCases, type RunRecord } from '../../bench/lib/cases.js';
import { summarize } from '../../bench/lib/summary.js';

const rec = (c: string, pair: number, side: 'A' | 'B', gbps: number, coreShare: number): RunRecord => ({
  case: c,
  pair,
  side,
  tool: side === 'A' ? 'perftest' : 'spark-rdma',
  ok: true,
  wallSeconds: 4,
  gbps,
  coreShare,
  cpuSecondsPerGB: coreShare / (gbps / 8),
});

describe('bench CPU cost', () => {
  it('reads the children line of bash `times`', () => {
    expect(childCpuSeconds('some warning\n0m0.004s 0m0.001s\n0m2.500s 1m0.250s\n')).toBeCloseTo(62.75, 9);
    expect(childCpuSeconds('no times here')).toBeNull();
  });

  it('compares CPU per GB pair by pair and checks (ev) against 3x lower', () => {
    const records = [rec('ev', 1, 'A', 1, 1), rec('ev', 1, 'B', 0.98, 0.2), rec('ev', 2, 'A', 1, 1), rec('ev', 2, 'B', 1, 0.25)];
    const s = summarize(benchCases(), records);
    const ev = s.cases.find((c) => c.id === 'ev')!;
    const perGB = ev.metrics.find((m) => m.metric === 'CPU s/GB')!;
    // Pair ratios 0.2/0.98 / 1 = 0.2041 and 0.25: median 0.227.
    expect(perGB.medianRatio).toBeCloseTo((0.2 / 0.98 + 0.25) / 2, 6);
    const goal = s.goals.find((g) => g.goal.startsWith('(ev) --events CPU per GB'))!;
    expect(goal.met).toBe(true);
    expect(s.goals.find((g) => g.goal.startsWith('(ev) --events bandwidth'))!.met).toBe(true);
  });
});
