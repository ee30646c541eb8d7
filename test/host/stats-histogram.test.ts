import { describe, expect, it } from 'vitest';
import { prng } from '../fixtures/prng.js';
import { RdmaError } from '../../lib/errors.js';
import { logHistogram, type HistogramBucket } from '../../lib/stats/histogram.js';
import { renderHistogram } from '../../lib/stats/render.js';


/** Checks every structural promise of a log histogram against the samples it came from. */
function expectValidHistogram(buckets: HistogramBucket[], samples: number[], perOctave: number, divisor = 1): void {
  const scaled = samples.map((x) => x / divisor);
  expect(buckets.reduce((s, b) => s + b.count, 0)).toBe(samples.length);
  // Ends trimmed: first and last buckets hold samples.
  expect(buckets[0]!.count).toBeGreaterThan(0);
  expect(buckets.at(-1)!.count).toBeGreaterThan(0);
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    expect(b.upper).toBeGreaterThan(b.lower);
    if (i > 0) expect(b.lower).toBe(buckets[i - 1]!.upper); // contiguous
    if (b.lower > 0) {
      // Log-spaced: every bound is a power of 2^(1/perOctave) and the ratio is constant.
      const k = Math.log2(b.lower) * perOctave;
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9);
      expect(b.upper / b.lower).toBeCloseTo(2 ** (1 / perOctave), 12);
    }
    // Every sample falls in its bucket: the count is exactly the samples within [lower, upper).
    expect(scaled.filter((x) => x >= b.lower && x < b.upper).length, `bucket [${b.lower}, ${b.upper})`).toBe(b.count);
  }
}

describe('logHistogram', () => {
  it('holds every sample of seeded random data in its bucket, for several resolutions', () => {
    const random = prng(42);
    for (const perOctave of [1, 2, 4, 8, 16]) {
      const samples = Array.from({ length: 3000 }, () => 1500 - 400 * Math.log(1 - random()));
      expectValidHistogram(logHistogram(samples, { bucketsPerOctave: perOctave }), samples, perOctave);
    }
  });

  it('puts samples that sit exactly on a bound in the bucket that starts there', () => {
    const samples = [1, 2, 4, 8, 2 ** 0.25, 2 ** 0.5];
    const buckets = logHistogram(samples, { bucketsPerOctave: 4 });
    expectValidHistogram(buckets, samples, 4);
    expect(buckets[0]).toEqual({ lower: 1, upper: 2 ** 0.25, count: 1 });
    expect(buckets.find((b) => b.lower === 8)!.count).toBe(1);
    // 1 .. 8 at 4 per octave: 3 octaves of 4 buckets, and the one starting at 8.
    expect(buckets).toHaveLength(13);
  });

  it('keeps empty buckets between samples and trims them at the ends', () => {
    const buckets = logHistogram([1, 1.1, 100], { bucketsPerOctave: 1 });
    expect(buckets.map((b) => [b.lower, b.upper, b.count])).toEqual([
      [1, 2, 2],
      [2, 4, 0],
      [4, 8, 0],
      [8, 16, 0],
      [16, 32, 0],
      [32, 64, 0],
      [64, 128, 1],
    ]);
  });

  it('buckets nanoseconds as microseconds with divisor 1000', () => {
    const samplesNs = Array.from({ length: 2000 }, (_, i) => 900 + i * 7);
    const buckets = logHistogram(samplesNs, { divisor: 1000 });
    expectValidHistogram(buckets, samplesNs, 4, 1000);
    expect(buckets[0]!.lower).toBe(2 ** -0.25); // 0.9 us lies in [0.84, 1)
  });

  it('handles sub-unit and huge values', () => {
    const samples = [1e-6, 3e-4, 0.5, 7, 1e6, 1e9];
    expectValidHistogram(logHistogram(samples, { bucketsPerOctave: 2 }), samples, 2);
  });

  it('collects zeros in a leading [0, first bound) bucket', () => {
    const buckets = logHistogram([0, 0, 3, 5]);
    expect(buckets[0]).toEqual({ lower: 0, upper: buckets[1]!.lower, count: 2 });
    expectValidHistogram(buckets, [0, 0, 3, 5], 4);
    expect(logHistogram([0, 0])).toEqual([{ lower: 0, upper: 1, count: 2 }]);
  });

  it('one value, or a constant, gives a single bucket', () => {
    expect(logHistogram(new Float64Array(10).fill(3))).toEqual([{ lower: 2 ** 1.5, upper: 2 ** 1.75, count: 10 }]);
  });

  it('rejects negative samples, empty input and bad options with RdmaError', () => {
    for (const [fn, message] of [
      [() => logHistogram([1, -1]), /-1/],
      [() => logHistogram([]), /0 histogram samples/],
      [() => logHistogram([1], { bucketsPerOctave: 0 }), /bucketsPerOctave 0/],
      [() => logHistogram([1], { bucketsPerOctave: 2.5 }), /bucketsPerOctave 2\.5/],
      [() => logHistogram([1], { divisor: 0 }), /divisor 0/],
    ] as const) {
      expect(fn).toThrow(RdmaError);
      expect(fn).toThrow(message);
    }
  });
});

describe('renderHistogram', () => {
  const buckets: HistogramBucket[] = [
    { lower: 1, upper: 2 ** 0.25, count: 10 },
    { lower: 2 ** 0.25, upper: 2 ** 0.5, count: 1000 },
    { lower: 2 ** 0.5, upper: 2 ** 0.75, count: 0 },
    { lower: 2 ** 0.75, upper: 2, count: 1 },
  ];

  it('draws one line per bucket, no wider than the width, the fullest bucket filling it', () => {
    const lines = renderHistogram(buckets, { width: 60 });
    expect(lines).toHaveLength(4);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60);
    expect([...lines[1]!].length).toBe(60);
    expect(lines[1]).toMatch(/^ *1\.19 - +1\.41 us +1000 +98\.9% \|█+$/);
  });

  it('shows a sliver for a tiny non-zero bucket and nothing for an empty one', () => {
    const lines = renderHistogram(buckets, { width: 60 });
    expect(lines[2]).toMatch(/\|$/);
    expect(lines[3]).toMatch(/\|▏$/);
    const bars = lines.map((l) => l.slice(l.indexOf('|') + 1));
    expect([...bars[1]!].length).toBeGreaterThan([...bars[0]!].length);
  });

  it('aligns the bar column and labels the unit', () => {
    const lines = renderHistogram(buckets, { width: 70, unit: 'ns' });
    const columns = new Set(lines.map((l) => l.indexOf('|')));
    expect(columns.size).toBe(1);
    for (const line of lines) expect(line).toContain(' ns ');
  });

  it('draws plain # bars in ascii mode, proportional to the counts', () => {
    const lines = renderHistogram(
      [
        { lower: 1, upper: 2, count: 50 },
        { lower: 2, upper: 4, count: 100 },
      ],
      { width: 60, ascii: true },
    );
    const bars = lines.map((l) => l.slice(l.indexOf('|') + 1));
    expect(bars[1]).toMatch(/^#+$/);
    expect(bars[0]!.length).toBe(Math.round(bars[1]!.length / 2));
    expect(lines[1]!.length).toBe(60);
  });

  it('returns no lines for no buckets and rejects a width with no room for bars', () => {
    expect(renderHistogram([])).toEqual([]);
    expect(() => renderHistogram(buckets, { width: 10 })).toThrow(RdmaError);
    expect(() => renderHistogram(buckets, { width: 10 })).toThrow(/width 10 is too narrow/);
  });
});
