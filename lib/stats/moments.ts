/** Mean and spread of a set of values. */
export interface Moments {
  mean: number;
  /**
   * Sample standard deviation (denominator n - 1, Bessel's correction), in floating point:
   * sub-unit jitter is kept, never truncated. 0 for a single value.
   */
  stdev: number;
}

/**
 * Mean and sample standard deviation by the corrected two-pass algorithm (Chan, Golub and
 * LeVeque): a first pass for the mean, a second for the squared deviations, minus the
 * rounding error the first pass left (sum of deviations squared / n). Numerically stable for
 * large offsets (nanosecond timestamps near 10^9 with nanosecond jitter), no allocation.
 * The caller guarantees at least one finite value.
 */
export function meanAndStdev(values: Float64Array | readonly number[]): Moments {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const roughMean = sum / n;
  let sumDev = 0;
  let sumSqDev = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - roughMean;
    sumDev += d;
    sumSqDev += d * d;
  }
  const mean = roughMean + sumDev / n;
  if (n < 2) return { mean, stdev: 0 };
  const variance = Math.max(0, (sumSqDev - (sumDev * sumDev) / n) / (n - 1));
  return { mean, stdev: Math.sqrt(variance) };
}
