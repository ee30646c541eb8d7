import { logHistogramOfSorted, type HistogramBucket } from './histogram.js';
import { requireNonNegativeSorted, sortedCopy, type Samples } from './sorted.js';
import { summarizeSorted } from './summary.js';

const NS_PER_US = 1000;

/** The latency figures the CLI prints and `--json` emits, all in microseconds. */
export interface LatencyStatsUs {
  count: number;
  minUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  p9999Us: number;
  /** The true maximum: no samples are dropped. */
  maxUs: number;
  meanUs: number;
  /** Floating-point sample stdev: sub-microsecond jitter shows (perftest's would read 0). */
  stdevUs: number;
}

/** Latency statistics plus a log histogram whose bounds are in microseconds. */
export interface LatencySummary {
  latency: LatencyStatsUs;
  histogram: HistogramBucket[];
}

export interface SummarizeLatencyOptions {
  /** Histogram resolution, buckets per power of two (default 4). */
  bucketsPerOctave?: number;
}

/**
 * Summarizes raw latency samples in nanoseconds (iterations mode and duration mode alike) into
 * microseconds: exact min/max, mean, stdev, p50..p99.99 (linear interpolation between closest
 * ranks) and a log histogram. Shaped like one `--json` rail entry: `{ latency, histogram }`.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for no samples (a run without samples has no
 *   latency; it is never reported as zeros) and for NaN, infinite or negative samples.
 */
export function summarizeLatency(samplesNs: Samples, options: SummarizeLatencyOptions = {}): LatencySummary {
  const sorted = sortedCopy(samplesNs, 'latency samples');
  requireNonNegativeSorted(sorted, 'latency samples');
  const s = summarizeSorted(sorted);
  const latency: LatencyStatsUs = {
    count: s.count,
    minUs: s.min / NS_PER_US,
    p50Us: s.p50 / NS_PER_US,
    p90Us: s.p90 / NS_PER_US,
    p99Us: s.p99 / NS_PER_US,
    p999Us: s.p999 / NS_PER_US,
    p9999Us: s.p9999 / NS_PER_US,
    maxUs: s.max / NS_PER_US,
    meanUs: s.mean / NS_PER_US,
    stdevUs: s.stdev / NS_PER_US,
  };
  const histogram = logHistogramOfSorted(sorted, {
    divisor: NS_PER_US,
    ...(options.bucketsPerOctave === undefined ? {} : { bucketsPerOctave: options.bucketsPerOctave }),
  });
  return { latency, histogram };
}
