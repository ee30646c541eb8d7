import { invalidArgument } from '../errors.js';

/**
 * The q-quantile (0 <= q <= 1) of ascending data, by **linear interpolation between the closest
 * ranks**: numpy's default (`method='linear'`), R type 7, Excel PERCENTILE.INC.
 *
 * With n sorted values x[0..n-1], let h = q * (n - 1), i = floor(h):
 * quantile = x[i] + (h - i) * (x[i + 1] - x[i])  (and x[n-1] when i = n - 1).
 * So q = 0 is the exact min, q = 1 the exact max, and the median of an even count is the mean
 * of the two middle values. For 1..N, the q-quantile is exactly 1 + q * (N - 1).
 */
export function quantileOfSorted(sorted: Float64Array | readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) {
    throw invalidArgument('cannot take a quantile of 0 samples: need at least 1', 'record at least one sample');
  }
  if (!(q >= 0 && q <= 1)) {
    throw invalidArgument(`quantile ${q} is out of range: it must be within [0, 1]`, 'pass 0.99 for p99, 0.999 for p99.9');
  }
  const h = q * (n - 1);
  const i = Math.floor(h);
  const lower = sorted[i]!;
  if (i >= n - 1) return lower;
  const upper = sorted[i + 1]!;
  return lower + (h - i) * (upper - lower);
}
