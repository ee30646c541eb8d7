import { invalidArgument } from '../errors.js';

/** Raw samples as the engines hand them over (nanoseconds, Gb/s, or any one unit). */
export type Samples = Float64Array | readonly number[];

/**
 * Returns an ascending Float64Array copy of `samples` (the input is never reordered).
 * Typed-array sort is numeric and allocation-free per element, so 10^6 samples sort in tens
 * of milliseconds.
 *
 * @param what names the samples in error messages, e.g. `'latency samples'`.
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` when there are no samples or one is NaN or
 *   infinite. An empty run has no statistics; it is an error, never a row of zeros.
 */
export function sortedCopy(samples: Samples, what = 'samples'): Float64Array {
  if (samples.length === 0) {
    throw invalidArgument(
      `cannot summarize 0 ${what}: statistics need at least 1 sample`,
      'run more iterations or a longer duration so that at least one sample is recorded',
    );
  }
  const sorted = Float64Array.from(samples).sort();
  // A typed-array sort puts NaN last and -Infinity first, so the two ends tell all.
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (!Number.isFinite(first) || !Number.isFinite(last)) {
    const bad = Number.isFinite(first) ? last : first;
    throw invalidArgument(
      `${what} contain ${bad}: every sample must be a finite number`,
      'drop failed or unfinished samples before computing statistics',
    );
  }
  return sorted;
}

/** Throws unless the (sorted) samples are all >= 0, as durations and rates are. */
export function requireNonNegativeSorted(sorted: Float64Array, what: string): void {
  const first = sorted[0];
  if (first !== undefined && first < 0) {
    throw invalidArgument(
      `${what} contain ${first}: they must all be >= 0`,
      'a negative duration or rate means the clock or the counters were read in the wrong order',
    );
  }
}
