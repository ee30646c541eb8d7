import { describe, expect, it } from 'vitest';
import { prng } from '../fixtures/prng.js';
import { RdmaError } from '../../lib/errors.js';
import { quantileOfSorted } from '../../lib/stats/quantile.js';
import { summarizeSamples, type SampleSummary } from '../../lib/stats/summary.js';
import { summarizeLatency } from '../../lib/stats/latency.js';
import { summarizeIntervals } from '../../lib/stats/intervals.js';


/** The obvious implementation, written independently: sort, sum, interpolate by rank. */
function naiveSummary(values: number[]): SampleSummary {
  const x = [...values].sort((a, b) => a - b);
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const variance = n < 2 ? 0 : x.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const pct = (p: number): number => {
    const rank = (p / 100) * (n - 1);
    const lo = Math.floor(rank);
    const hi = Math.min(n - 1, Math.ceil(rank));
    return x[lo]! + (x[hi]! - x[lo]!) * (rank - lo);
  };
  return {
    count: n,
    min: x[0]!,
    max: x[n - 1]!,
    mean,
    stdev: Math.sqrt(variance),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    p999: pct(99.9),
    p9999: pct(99.99),
  };
}

function expectRelativelyClose(actual: number, expected: number, tolerance: number, label: string): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(Math.abs(actual - expected) / scale, `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

function expectInvalid(fn: () => unknown, messagePart: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RdmaError);
    expect((err as RdmaError).code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect((err as RdmaError).message).toMatch(messagePart);
    return;
  }
  throw new Error('expected an RdmaError');
}

describe('quantileOfSorted (linear interpolation between closest ranks)', () => {
  it('gives exact percentiles of 1..1001: 1 + q * (N - 1)', () => {
    const x = Float64Array.from({ length: 1001 }, (_, i) => i + 1);
    expect(quantileOfSorted(x, 0)).toBe(1);
    expect(quantileOfSorted(x, 0.5)).toBe(501);
    expect(quantileOfSorted(x, 0.9)).toBe(901);
    expect(quantileOfSorted(x, 0.99)).toBe(991);
    expect(quantileOfSorted(x, 0.999)).toBeCloseTo(1000, 9);
    expect(quantileOfSorted(x, 0.9999)).toBeCloseTo(1000.9, 9);
    expect(quantileOfSorted(x, 1)).toBe(1001);
  });

  it('interpolates between the two middle values for an even count (numpy default)', () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    // numpy.percentile([1, 2, 3, 4], 90) == 3.7
    expect(quantileOfSorted([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
    expect(quantileOfSorted([10, 20], 0.25)).toBe(12.5);
  });

  it('returns the single value for one sample and rejects q outside [0, 1]', () => {
    expect(quantileOfSorted([7], 0.999)).toBe(7);
    expectInvalid(() => quantileOfSorted([1, 2], 1.5), /quantile 1\.5 .*\[0, 1\]/);
    expectInvalid(() => quantileOfSorted([1, 2], Number.NaN), /quantile NaN/);
    expectInvalid(() => quantileOfSorted([], 0.5), /0 samples/);
  });
});

describe('summarizeSamples on known distributions', () => {
  it('uniform 1..10000: exact min, max, mean, stdev and percentiles', () => {
    const n = 10000;
    const s = summarizeSamples(Array.from({ length: n }, (_, i) => i + 1));
    expect(s.count).toBe(n);
    expect(s.min).toBe(1);
    expect(s.max).toBe(n);
    expect(s.mean).toBe((n + 1) / 2);
    // Sample stdev of 1..N is sqrt(N (N + 1) / 12).
    expectRelativelyClose(s.stdev, Math.sqrt((n * (n + 1)) / 12), 1e-12, 'stdev');
    expect(s.p50).toBe(5000.5);
    expectRelativelyClose(s.p90, 1 + 0.9 * (n - 1), 1e-12, 'p90');
    expectRelativelyClose(s.p99, 1 + 0.99 * (n - 1), 1e-12, 'p99');
    expectRelativelyClose(s.p999, 1 + 0.999 * (n - 1), 1e-12, 'p99.9');
    expectRelativelyClose(s.p9999, 1 + 0.9999 * (n - 1), 1e-12, 'p99.99');
  });

  it('a constant has stdev exactly 0 and every percentile equal to it', () => {
    const s = summarizeSamples(new Float64Array(1000).fill(1234.5));
    expect(s.stdev).toBe(0);
    expect(s.mean).toBe(1234.5);
    for (const v of [s.min, s.p50, s.p90, s.p99, s.p999, s.p9999, s.max]) expect(v).toBe(1234.5);
  });

  it('a two-point distribution (half 1000, half 3000): mean 2000, stdev from n - 1', () => {
    const values = [...new Array<number>(50).fill(1000), ...new Array<number>(50).fill(3000)];
    const s = summarizeSamples(values);
    expect(s.mean).toBe(2000);
    // Sum of squared deviations = 100 x 1000^2; divided by n - 1 = 99.
    expectRelativelyClose(s.stdev, Math.sqrt((100 * 1000 ** 2) / 99), 1e-12, 'stdev');
    expect(s.p50).toBe(2000); // between x[49] = 1000 and x[50] = 3000
    expect(s.p90).toBe(3000);
    expect(s.min).toBe(1000);
    expect(s.max).toBe(3000);
  });

  it('keeps sub-microsecond jitter that perftest truncates to a stdev of 0', () => {
    const samplesNs = Array.from({ length: 1000 }, (_, i) => 1800 + (i % 5) * 100); // 1.8..2.2 us
    const { latency } = summarizeLatency(samplesNs);
    // perftest: deviations truncated to whole microseconds before squaring -> every one is 0.
    const meanUs = latency.meanUs;
    const perftestStyle = Math.sqrt(samplesNs.reduce((s, ns) => s + Math.trunc(Math.abs(ns / 1000 - meanUs)) ** 2, 0) / samplesNs.length);
    expect(perftestStyle).toBe(0);
    expect(latency.stdevUs).toBeGreaterThan(0.14);
    expect(latency.stdevUs).toBeLessThan(0.15); // sqrt(1000 x 0.02 / 999) = 0.1415 us
    expect(latency.meanUs).toBeCloseTo(2.0, 12);
  });

  it('reports the true max even with two large outliers (perftest would drop both)', () => {
    const samplesNs = [...new Array<number>(998).fill(2000), 50_000, 90_000];
    const { latency } = summarizeLatency(samplesNs);
    expect(latency.maxUs).toBe(90);
    expect(latency.minUs).toBe(2);
    expect(latency.count).toBe(1000);
    expect(latency.p50Us).toBe(2);
  });

  it('is numerically stable for a large offset (timestamps near 10^12 ns with 1 ns jitter)', () => {
    const values = Array.from({ length: 10001 }, (_, i) => 1e12 + (i % 2)); // 5001 zeros, 5000 ones
    const s = summarizeSamples(values);
    const exactMean = 1e12 + 5000 / 10001;
    const exactStdev = Math.sqrt((5001 * (5000 / 10001) ** 2 + 5000 * (5001 / 10001) ** 2) / 10000);
    expectRelativelyClose(s.stdev, exactStdev, 1e-6, 'stdev');
    expect(Math.abs(s.mean - exactMean)).toBeLessThan(1e-3);
  });

  it('does not reorder the caller\'s samples', () => {
    const values = [3, 1, 2];
    const typed = Float64Array.of(3, 1, 2);
    summarizeSamples(values);
    summarizeSamples(typed);
    expect(values).toEqual([3, 1, 2]);
    expect([...typed]).toEqual([3, 1, 2]);
  });

  it('one sample: stdev 0, every percentile that sample', () => {
    const s = summarizeSamples([42]);
    expect(s).toEqual({ count: 1, min: 42, max: 42, mean: 42, stdev: 0, p50: 42, p90: 42, p99: 42, p999: 42, p9999: 42 });
  });
});

describe('summarizeSamples against a naive sort-based reference', () => {
  it('matches on 20 seeded random arrays of random lengths 1..5000 (1e-9 relative)', () => {
    const random = prng(0x5eed);
    const shapes: Array<(r: () => number) => number> = [
      (r) => 1000 + r() * 1000, // uniform
      (r) => 1500 - 400 * Math.log(1 - r()), // exponential tail, like latency
      (r) => Math.floor(r() * 20) * 50, // coarse values with many ties
      (r) => 1e9 + r() * 10, // large offset, small jitter
    ];
    for (let trial = 0; trial < 20; trial++) {
      const length = 1 + Math.floor(random() * 5000);
      const shape = shapes[trial % shapes.length]!;
      const values = Array.from({ length }, () => shape(random));
      const actual = summarizeSamples(values);
      const expected = naiveSummary(values);
      expect(actual.count).toBe(expected.count);
      expect(actual.min).toBe(expected.min);
      expect(actual.max).toBe(expected.max);
      for (const key of ['mean', 'p50', 'p90', 'p99', 'p999', 'p9999'] as const) {
        expectRelativelyClose(actual[key], expected[key], 1e-9, `trial ${trial} (n=${length}) ${key}`);
      }
      if (expected.stdev === 0) expect(actual.stdev).toBe(0);
      else expectRelativelyClose(actual.stdev, expected.stdev, 1e-9, `trial ${trial} (n=${length}) stdev`);
    }
  });
});

describe('bad input', () => {
  it('no samples is an RdmaError that says what to do, not a row of zeros', () => {
    expectInvalid(() => summarizeSamples([]), /0 samples/);
    expectInvalid(() => summarizeLatency(new Float64Array(0)), /0 latency samples/);
    expectInvalid(() => summarizeIntervals([]), /0 interval rates/);
  });

  it('NaN, infinities and negative latencies are rejected with the value named', () => {
    expectInvalid(() => summarizeSamples([1, Number.NaN, 3]), /NaN/);
    expectInvalid(() => summarizeSamples([1, Number.POSITIVE_INFINITY]), /Infinity/);
    expectInvalid(() => summarizeSamples([Number.NEGATIVE_INFINITY, 1]), /-Infinity/);
    expectInvalid(() => summarizeLatency([2000, -5]), /-5: .*>= 0/);
    expect(summarizeSamples([-2, 2]).mean).toBe(0); // plain samples may be negative
  });
});

describe('summarizeLatency', () => {
  it('returns every field the CLI prints, in microseconds, plus a histogram in microseconds', () => {
    const samplesNs = Array.from({ length: 1000 }, (_, i) => 1000 + i); // 1.000..1.999 us
    const { latency, histogram } = summarizeLatency(samplesNs);
    expect(Object.keys(latency).sort()).toEqual(
      ['count', 'maxUs', 'meanUs', 'minUs', 'p50Us', 'p90Us', 'p999Us', 'p99Us', 'p9999Us', 'stdevUs'].sort(),
    );
    expect(latency.count).toBe(1000);
    expect(latency.minUs).toBe(1);
    expect(latency.maxUs).toBe(1.999);
    expect(latency.p50Us).toBeCloseTo(1.4995, 12);
    expect(latency.meanUs).toBeCloseTo(1.4995, 12);
    expect(latency.p90Us).toBeCloseTo(1.8991, 12);
    expect(latency.minUs).toBeLessThanOrEqual(latency.p50Us);
    expect(latency.p99Us).toBeLessThanOrEqual(latency.p999Us);
    expect(latency.p9999Us).toBeLessThanOrEqual(latency.maxUs);
    // 1..2 us at 4 buckets per octave: exactly the buckets [1, 1.19), [1.19, 1.41), [1.41, 1.68), [1.68, 2).
    expect(histogram.map((b) => b.lower)).toEqual([1, 2 ** 0.25, 2 ** 0.5, 2 ** 0.75]);
    expect(histogram.at(-1)!.upper).toBe(2);
    expect(histogram.reduce((s, b) => s + b.count, 0)).toBe(1000);
  });

  // Speed is shown by bench/micro.ts; here 10^6 samples of a known distribution must come out right.
  it('summarizes 10^6 samples of a shifted exponential: percentiles match the distribution', () => {
    const random = prng(7);
    const samplesNs = new Float64Array(1_000_000);
    for (let i = 0; i < samplesNs.length; i++) samplesNs[i] = 1800 - 300 * Math.log(1 - random());
    const { latency, histogram } = summarizeLatency(samplesNs);
    expect(latency.count).toBe(1_000_000);
    expect(histogram.reduce((s, b) => s + b.count, 0)).toBe(1_000_000);
    expect(latency.minUs).toBeGreaterThanOrEqual(1.8);
    // quantile q of 1800 + Exp(mean 300) ns is 1800 - 300 ln(1 - q)
    expect(latency.p50Us).toBeCloseTo((1800 + 300 * Math.LN2) / 1000, 2);
    expect(latency.p99Us).toBeCloseTo((1800 - 300 * Math.log(0.01)) / 1000, 1);
    expect(latency.meanUs).toBeCloseTo(2.1, 2);
    expect(latency.stdevUs).toBeCloseTo(0.3, 2);
  });
});

describe('summarizeIntervals (bandwidth series)', () => {
  it('weighs intervals by their length: the engine closes a run with a short last interval', () => {
    // Two full seconds at 100 Gb/s, then 20 ms at 10 Gb/s: 200.2 Gbit over 2.02 s.
    const s = summarizeIntervals([100, 100, 10], [1, 1, 0.02]);
    expect(s.meanGbps).toBeCloseTo(200.2 / 2.02, 9);
    expect(s.count).toBe(3);
    expect(s.minGbps).toBe(10);
    // Equal lengths give the unweighted figures.
    expect(summarizeIntervals([190, 192, 194, 196], [1, 1, 1, 1])).toEqual(summarizeIntervals([190, 192, 194, 196]));
    expectInvalid(() => summarizeIntervals([1, 2], [1]), /2 interval rates but 1 interval length/);
    expectInvalid(() => summarizeIntervals([1, 2], [1, -1]), /interval length -1/);
  });

  it('gives min, mean, max, stdev and coefficient of variation', () => {
    const s = summarizeIntervals([190, 192, 194, 196]);
    expect(s.count).toBe(4);
    expect(s.minGbps).toBe(190);
    expect(s.maxGbps).toBe(196);
    expect(s.meanGbps).toBe(193);
    const stdev = Math.sqrt((9 + 1 + 1 + 9) / 3);
    expectRelativelyClose(s.stdevGbps, stdev, 1e-12, 'stdev');
    expectRelativelyClose(s.cv, stdev / 193, 1e-12, 'cv');
  });

  it('a steady series has cv 0; an all-zero series has cv 0 rather than NaN', () => {
    expect(summarizeIntervals(Float64Array.of(100, 100, 100)).cv).toBe(0);
    expect(summarizeIntervals([0, 0])).toEqual({ count: 2, minGbps: 0, meanGbps: 0, maxGbps: 0, stdevGbps: 0, cv: 0 });
  });

  it('rejects negative rates', () => {
    expectInvalid(() => summarizeIntervals([100, -1]), /-1: .*>= 0/);
  });
});
