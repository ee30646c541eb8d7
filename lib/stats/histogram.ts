import { invalidArgument } from '../errors.js';
import { requireNonNegativeSorted, sortedCopy, type Samples } from './sorted.js';

/** One histogram bucket: the samples x with lower <= x < upper. */
export interface HistogramBucket {
  lower: number;
  upper: number;
  count: number;
}

export interface LogHistogramOptions {
  /**
   * Buckets per power of two (integer 1..64, default 4): bounds are 2^(k / bucketsPerOctave),
   * so each bucket is 2^(1/4) ≈ 1.19x wider than the one before.
   */
  bucketsPerOctave?: number;
  /** Every sample is divided by this before bucketing (1000 turns ns into us). Default 1. */
  divisor?: number;
}

export const DEFAULT_BUCKETS_PER_OCTAVE = 4;

/**
 * A histogram with logarithmic buckets: bucket k holds [2^(k/b), 2^((k+1)/b)) for
 * b = bucketsPerOctave. Buckets run contiguously from the one holding the smallest sample to
 * the one holding the largest (empty buckets in between are kept, empty ones at the ends are
 * not). Zeros, which no log bucket holds, go in a leading bucket [0, lower bound of the first
 * log bucket), or [0, 1) when every sample is zero.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for no samples, NaN/infinite or negative
 *   samples, or bad options.
 */
export function logHistogram(samples: Samples, options: LogHistogramOptions = {}): HistogramBucket[] {
  return logHistogramOfSorted(sortedCopy(samples, 'histogram samples'), options);
}

/** {@link logHistogram} for samples already sorted ascending and finite (one walk, no log per sample). */
export function logHistogramOfSorted(sorted: Float64Array, options: LogHistogramOptions = {}): HistogramBucket[] {
  const perOctave = options.bucketsPerOctave ?? DEFAULT_BUCKETS_PER_OCTAVE;
  const divisor = options.divisor ?? 1;
  if (!Number.isInteger(perOctave) || perOctave < 1 || perOctave > 64) {
    throw invalidArgument(
      `bucketsPerOctave ${perOctave} is invalid: it must be an integer from 1 to 64`,
      'use 4 (the default) for ~19 % wide buckets, 8 or 16 for finer ones',
    );
  }
  if (!(divisor > 0 && Number.isFinite(divisor))) {
    throw invalidArgument(`histogram divisor ${divisor} is invalid: it must be a finite number > 0`, 'pass 1000 to bucket nanoseconds as microseconds');
  }
  if (sorted.length === 0) return [];
  requireNonNegativeSorted(sorted, 'histogram samples');

  // Bounds always come from this one expression, so a bucket's upper bound is bit-for-bit the
  // next bucket's lower bound and membership tests agree with what is reported.
  const bound = (k: number): number => 2 ** (k / perOctave);
  const buckets: HistogramBucket[] = [];
  let i = 0;
  while (i < sorted.length && sorted[i]! / divisor === 0) i++;
  const zeros = i;
  if (i === sorted.length) return [{ lower: 0, upper: 1, count: zeros }];

  let k = firstBucketIndex(sorted[i]! / divisor, perOctave, bound);
  if (zeros > 0) buckets.push({ lower: 0, upper: bound(k), count: zeros });
  let lower = bound(k);
  let upper = bound(k + 1);
  let count = 0;
  for (; i < sorted.length; i++) {
    const x = sorted[i]! / divisor;
    while (x >= upper) {
      buckets.push({ lower, upper, count });
      k++;
      lower = upper;
      upper = bound(k + 1);
      count = 0;
    }
    count++;
  }
  buckets.push({ lower, upper, count });
  return buckets;
}

/** The k with bound(k) <= x < bound(k + 1), for x > 0 (log2 estimate, then exact correction). */
function firstBucketIndex(x: number, perOctave: number, bound: (k: number) => number): number {
  let k = Math.floor(Math.log2(x) * perOctave);
  while (bound(k) > x) k--;
  while (bound(k + 1) <= x) k++;
  return k;
}
