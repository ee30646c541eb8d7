import { meanAndStdev } from './moments.js';
import { requireNonNegativeSorted, sortedCopy } from './sorted.js';

/** Stability of a bandwidth run across its reporting intervals. */
export interface IntervalStats {
  count: number;
  minGbps: number;
  meanGbps: number;
  maxGbps: number;
  /** Sample stdev (n - 1) of the interval rates; 0 for one interval. */
  stdevGbps: number;
  /** Coefficient of variation, stdev / mean (0.02 = 2 %); 0 when every interval is 0. */
  cv: number;
}

/**
 * Summarizes a per-interval bandwidth series (Gb/s per interval, intervals of equal length:
 * every interval weighs the same). The run's overall bandwidth is bytes / total time, computed
 * by the caller; this says how steady it was.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for an empty series or a NaN, infinite or
 *   negative rate.
 */
export function summarizeIntervals(gbps: Float64Array | readonly number[]): IntervalStats {
  const sorted = sortedCopy(gbps, 'interval rates');
  requireNonNegativeSorted(sorted, 'interval rates');
  const { mean, stdev } = meanAndStdev(sorted);
  return {
    count: sorted.length,
    minGbps: sorted[0]!,
    meanGbps: mean,
    maxGbps: sorted[sorted.length - 1]!,
    stdevGbps: stdev,
    cv: mean === 0 ? 0 : stdev / mean,
  };
}
