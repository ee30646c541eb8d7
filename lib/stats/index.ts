// Statistics on raw samples: summaries, percentiles, log histograms, interval series, bars.
export { sortedCopy, type Samples } from './sorted.js';
export { quantileOfSorted } from './quantile.js';
export { meanAndStdev, type Moments } from './moments.js';
export { summarizeSamples, summarizeSorted, type SampleSummary } from './summary.js';
export {
  logHistogram,
  logHistogramOfSorted,
  DEFAULT_BUCKETS_PER_OCTAVE,
  type HistogramBucket,
  type LogHistogramOptions,
} from './histogram.js';
export { summarizeLatency, type LatencyStatsUs, type LatencySummary, type SummarizeLatencyOptions } from './latency.js';
export { summarizeLatencyBuckets, type LatencyBuckets } from './latency-histogram.js';
export { summarizeIntervals, type IntervalStats } from './intervals.js';
export { renderHistogram, type RenderHistogramOptions } from './render.js';
