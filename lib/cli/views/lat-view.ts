import type { LatencyResult } from '../../latency/index.js';
import { formatByteSize } from '../../report/units.js';
import { renderHistogram } from '../../stats/render.js';
import { formatTable } from '../table.js';

const us = (n: number) => (n < 10 ? n.toFixed(3) : n < 1000 ? n.toFixed(2) : n.toFixed(0));

/** Per rail and size: count, min, p50, p90, p99, p99.9, max, mean, stdev in microseconds. */
export function renderLatency(result: LatencyResult, withHistogram: boolean, width: number): string {
  const p = result.params;
  const length = p.iterations !== undefined ? `${p.iterations} iterations` : `${(p.durationMs ?? 0) / 1000} s`;
  const head =
    `RDMA WRITE latency ${p.mode === 'loopback' ? 'loopback' : `to ${p.peer}`}: ${p.rails.join(', ')}, ${length}, ` +
    `warm-up ${p.warmupIterations}, inline <= ${p.inlineThreshold} B${p.concurrent ? ', rails concurrently' : ''}; one-way = half a ping-pong`;
  const headers = ['rail', 'device', 'size', 'count', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'stdev'];
  const rows = result.rails.map((r) => [
    String(r.rail),
    r.device,
    formatByteSize(r.size),
    String(r.latency.count),
    us(r.latency.minUs),
    us(r.latency.p50Us),
    us(r.latency.p90Us),
    us(r.latency.p99Us),
    us(r.latency.p999Us),
    us(r.latency.maxUs),
    us(r.latency.meanUs),
    us(r.latency.stdevUs),
  ]);
  const parts = [head, `${formatTable(headers, rows)}\n(all in microseconds; max is the true maximum, stdev is not truncated)`];
  if (withHistogram) {
    for (const r of result.rails) {
      parts.push(`${r.device} ${formatByteSize(r.size)}:\n${renderHistogram(r.histogram, { width, unit: 'us' }).join('\n')}`);
    }
  }
  if (result.stoppedEarly) parts.push('stopped early: the figures cover what ran');
  return parts.join('\n\n');
}

/** JSON as documented: params and per rail-and-size {device, size, latency, histogram}. */
export function latencyJson(result: LatencyResult): string {
  return JSON.stringify(
    {
      params: result.params,
      rails: result.rails.map((r) => ({ rail: r.rail, device: r.device, port: r.port, netdev: r.netdev, size: r.size, latency: r.latency, histogram: r.histogram, exchanges: r.exchanges, inlineUsed: r.inlineUsed })),
      stoppedEarly: result.stoppedEarly,
    },
    null,
    2,
  );
}
