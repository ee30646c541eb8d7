// Live rail counters: watchRails (samples over time) and the Prometheus exporter (totals on scrape).
export { watchRails, DEFAULT_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, MAX_WATCH_INTERVAL_MS } from './watch.js';
export type { WatchRailsOptions, RailWatch, RailsSample, RailSample, CounterMove } from './types.js';
export { startExporter, METRICS_PATH, type ExporterOptions, type RailExporter } from './exporter.js';
export { collectRailMetrics } from './metrics.js';
export { renderExposition, escapeLabelValue, EXPOSITION_CONTENT_TYPE, type MetricFamily, type MetricSample } from './exposition.js';
export { parseListenAddress, DEFAULT_EXPORTER_LISTEN, type ListenAddress } from './listen.js';
