import { invalidArgument } from '../errors.js';
import { DEFAULT_BUCKETS_PER_OCTAVE, type HistogramBucket } from './histogram.js';
import type { LatencyStatsUs, LatencySummary } from './latency.js';

const NS_PER_US = 1000;

/**
 * What a latency engine keeps when a run has more samples than its budget (binding.d.ts
 * LatencyHistogram): exact count, min, max, mean and stdev, and fine log-linear buckets.
 */
export interface LatencyBuckets {
  count: number;
  minNs: number;
  maxNs: number;
  meanNs: number;
  /** Sample (n - 1) variance, ns^2. */
  varianceNs2: number;
  relativeError: number;
  lowerNs: ArrayLike<number>;
  upperNs: ArrayLike<number>;
  counts: ArrayLike<number>;
}

/**
 * The q-quantile by the same closest-rank position as quantileOfSorted (h = q * (n - 1)),
 * read as the midpoint of the bucket holding rank floor(h): within the buckets' relative
 * error of the exact figure, and never outside the exact min and max.
 */
function bucketQuantile(b: LatencyBuckets, q: number): number {
  const rank = Math.floor(q * (b.count - 1));
  let seen = 0;
  for (let i = 0; i < b.counts.length; i++) {
    seen += b.counts[i]!;
    if (seen > rank) {
      const mid = (b.lowerNs[i]! + b.upperNs[i]!) / 2;
      return Math.min(b.maxNs, Math.max(b.minNs, mid));
    }
  }
  return b.maxNs;
}

/** The fine buckets regrouped into the report's log buckets (2^(k/4) us), by their midpoints. */
function coarseHistogram(b: LatencyBuckets, perOctave: number): HistogramBucket[] {
  const bound = (k: number): number => 2 ** (k / perOctave);
  const byIndex = new Map<number, number>();
  for (let i = 0; i < b.counts.length; i++) {
    const us = (b.lowerNs[i]! + b.upperNs[i]!) / 2 / NS_PER_US;
    let k = Math.floor(Math.log2(Math.max(us, Number.MIN_VALUE)) * perOctave);
    while (bound(k) > us) k--;
    while (bound(k + 1) <= us) k++;
    byIndex.set(k, (byIndex.get(k) ?? 0) + b.counts[i]!);
  }
  const keys = [...byIndex.keys()];
  if (keys.length === 0) return [];
  const out: HistogramBucket[] = [];
  for (let k = Math.min(...keys); k <= Math.max(...keys); k++) out.push({ lower: bound(k), upper: bound(k + 1), count: byIndex.get(k) ?? 0 });
  return out;
}

/**
 * {@link summarizeLatency} for a run summarized natively in buckets: min, max, mean and stdev
 * exact, percentiles within `relativeError`.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for an empty or inconsistent histogram.
 */
export function summarizeLatencyBuckets(b: LatencyBuckets, bucketsPerOctave = DEFAULT_BUCKETS_PER_OCTAVE): LatencySummary {
  let total = 0;
  for (let i = 0; i < b.counts.length; i++) total += b.counts[i]!;
  if (b.count === 0 || total !== b.count) {
    throw invalidArgument(`a latency histogram of ${b.count} samples holds ${total} in its buckets`, 'the histogram must come from one engine run');
  }
  const latency: LatencyStatsUs = {
    count: b.count,
    minUs: b.minNs / NS_PER_US,
    p50Us: bucketQuantile(b, 0.5) / NS_PER_US,
    p90Us: bucketQuantile(b, 0.9) / NS_PER_US,
    p99Us: bucketQuantile(b, 0.99) / NS_PER_US,
    p999Us: bucketQuantile(b, 0.999) / NS_PER_US,
    p9999Us: bucketQuantile(b, 0.9999) / NS_PER_US,
    maxUs: b.maxNs / NS_PER_US,
    meanUs: b.meanNs / NS_PER_US,
    stdevUs: Math.sqrt(Math.max(0, b.varianceNs2)) / NS_PER_US,
  };
  return { latency, histogram: coarseHistogram(b, bucketsPerOctave) };
}
