import { meanAndStdev } from './moments.js';
import { quantileOfSorted } from './quantile.js';
import { sortedCopy, type Samples } from './sorted.js';

/** Statistics of raw samples, all in the samples' own unit. */
export interface SampleSummary {
  count: number;
  /** The exact smallest sample. */
  min: number;
  /** The exact largest sample: no outliers are dropped (perftest drops the two largest). */
  max: number;
  mean: number;
  /** Sample standard deviation (n - 1), floating point; 0 for one sample. */
  stdev: number;
  /** Median. Percentiles interpolate linearly between closest ranks (see quantileOfSorted). */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
}

/** Summarizes samples that are already sorted ascending, finite and non-empty. */
export function summarizeSorted(sorted: Float64Array): SampleSummary {
  const { mean, stdev } = meanAndStdev(sorted);
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean,
    stdev,
    p50: quantileOfSorted(sorted, 0.5),
    p90: quantileOfSorted(sorted, 0.9),
    p99: quantileOfSorted(sorted, 0.99),
    p999: quantileOfSorted(sorted, 0.999),
    p9999: quantileOfSorted(sorted, 0.9999),
  };
}

/**
 * Count, exact min and max, mean, floating-point sample stdev and p50/p90/p99/p99.9/p99.99 of
 * raw samples (one sorted copy; the input is left as it is).
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for no samples or a NaN/infinite sample.
 */
export function summarizeSamples(samples: Samples, what = 'samples'): SampleSummary {
  return summarizeSorted(sortedCopy(samples, what));
}
