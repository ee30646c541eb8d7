// Latency statistics of a run that outgrew its sample budget (issue 13.9): exact moments from
// the engine, percentiles read from its buckets.
import { describe, expect, test } from 'vitest';
import { summarizeLatencyBuckets, type LatencyBuckets } from '../../lib/stats/latency-histogram.js';

const buckets = (counts: number[], extra: Partial<LatencyBuckets> = {}): LatencyBuckets => ({
  count: counts.reduce((a, b) => a + b, 0),
  minNs: 1001,
  maxNs: 8150,
  meanNs: 2000,
  varianceNs2: 250_000,
  relativeError: 1 / 256,
  lowerNs: [1000, 2000, 8000],
  upperNs: [1008, 2016, 8064],
  counts,
  ...extra,
});

describe('summarizeLatencyBuckets', () => {
  test('percentiles are bucket midpoints at the closest rank; min, max, mean, stdev pass through exactly', () => {
    const { latency, histogram } = summarizeLatencyBuckets(buckets([50, 49, 1]));
    expect(latency).toMatchObject({ count: 100, minUs: 1.001, maxUs: 8.15, meanUs: 2, stdevUs: 0.5 });
    // Ranks floor(q * 99): 49 is in the first bucket (ranks 0..49), 89 and 98 in the second.
    expect(latency.p50Us).toBeCloseTo(1.004, 9);
    expect(latency.p90Us).toBeCloseTo(2.008, 9);
    expect(latency.p99Us).toBeCloseTo(2.008, 9);
    expect(latency.p9999Us).toBeCloseTo(2.008, 9);
    expect(histogram.reduce((n, b) => n + b.count, 0)).toBe(100);
    expect(histogram[0]!.lower).toBeLessThanOrEqual(1.004);
  });

  test('a midpoint beyond the exact extremes is clamped to them', () => {
    const { latency } = summarizeLatencyBuckets(buckets([1, 0, 1], { minNs: 1006, maxNs: 8010 }));
    expect(latency.p50Us).toBe(1.006);
    expect(latency.p9999Us).toBe(1.006);
    expect(latency.maxUs).toBe(8.01);
  });

  test('a histogram whose buckets do not add up to its count is refused', () => {
    expect(() => summarizeLatencyBuckets({ ...buckets([1, 2, 3]), count: 7 })).toThrow(/7 samples holds 6/);
    expect(() => summarizeLatencyBuckets(buckets([0, 0, 0]))).toThrow(/0 samples/);
  });
});
