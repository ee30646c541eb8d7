import { invalidArgument } from '../errors.js';
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
 * Summarizes a per-interval bandwidth series (Gb/s per interval). Give each interval's length
 * in `seconds` when they differ (the engine ends a run with a short last interval,
 * native/engine/write_bw.cc): the mean is then bytes over time, and the stdev weighs each
 * interval by its length (reliability weights, so equal lengths give the plain sample stdev).
 * The run's overall bandwidth is bytes / total time, computed by the caller; this says how
 * steady it was. min and max are over every interval, short ones included.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for an empty series, a NaN, infinite or
 *   negative rate, or lengths that do not match the rates or are not positive.
 */
export function summarizeIntervals(gbps: Float64Array | readonly number[], seconds?: Float64Array | readonly number[]): IntervalStats {
  const sorted = sortedCopy(gbps, 'interval rates');
  requireNonNegativeSorted(sorted, 'interval rates');
  const { mean, stdev } = seconds === undefined ? meanAndStdev(sorted) : weightedMoments(gbps, seconds);
  return {
    count: sorted.length,
    minGbps: sorted[0]!,
    meanGbps: mean,
    maxGbps: sorted[sorted.length - 1]!,
    stdevGbps: stdev,
    cv: mean === 0 ? 0 : stdev / mean,
  };
}

/** Weighted mean and stdev with reliability weights: variance = sum w (x - mean)^2 / (V1 - V2 / V1). */
function weightedMoments(values: Float64Array | readonly number[], weights: Float64Array | readonly number[]): { mean: number; stdev: number } {
  if (weights.length !== values.length) {
    throw invalidArgument(`${values.length} interval rates but ${weights.length} interval lengths`, 'pass one length (seconds) per rate');
  }
  let v1 = 0;
  let v2 = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights[i]!;
    if (!(w > 0 && Number.isFinite(w))) throw invalidArgument(`interval length ${w} s is not a positive number`, 'pass each interval length in seconds, above 0');
    v1 += w;
    v2 += w * w;
    sum += w * values[i]!;
  }
  const mean = sum / v1;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += weights[i]! * (values[i]! - mean) ** 2;
  const denominator = v1 - v2 / v1;
  return { mean, stdev: values.length < 2 || denominator <= 0 ? 0 : Math.sqrt(sq / denominator) };
}
