import { JSON_SCHEMAS } from '../json-schema.js';
import type { LatencyResult } from '../../latency/index.js';
import { formatByteSize } from '../../report/units.js';
import { renderHistogram } from '../../stats/render.js';
import { formatTable } from '../../report/table.js';
import { formatCpu } from '../../report/cpu.js';
import { pairingLine } from './pairing-line.js';

const us = (n: number) => (n < 10 ? n.toFixed(3) : n < 1000 ? n.toFixed(2) : n.toFixed(0));

/** Per rail and size: count, min, p50, p90, p99, p99.9, max, mean, stdev in microseconds. */
export function renderLatency(result: LatencyResult, withHistogram: boolean, width: number): string {
  const p = result.params;
  const length = p.iterations !== undefined ? `${p.iterations} iterations` : `${(p.durationMs ?? 0) / 1000} s`;
  const head =
    `RDMA WRITE latency ${p.mode === 'loopback' ? 'loopback' : `to ${p.peer}`}: ${p.rails.join(', ')}, ${length}, ` +
    `warm-up ${p.warmupIterations} exchanges and ${p.warmupMs} ms, inline <= ${p.inlineThreshold} B${p.concurrent ? ', rails concurrently' : ''}${p.events ? ', send completions by events' : ''}; one-way = half a ping-pong`;
  const headers = ['rail', 'device', 'size', 'count', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'stdev', 'CPU core (s)'];
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
    formatCpu(r.cpu),
  ]);
  const parts = [pairingLine(p.pairing) ? `${head}\n${pairingLine(p.pairing)}` : head, `${formatTable(headers, rows)}\n(all in microseconds; max is the true maximum, stdev is not truncated; CPU core = share of a core the engine thread used, warm-up included)\n${timerLine(result)}`];
  if (withHistogram) {
    for (const r of result.rails) {
      parts.push(`${r.device} ${formatByteSize(r.size)}:\n${renderHistogram(r.histogram, { width, unit: 'us' }).join('\n')}`);
    }
  }
  if (result.stoppedEarly) parts.push('stopped early: the figures cover what ran');
  return parts.join('\n\n');
}

/** Which counter timed the runs, at what measured rate, and whether a thread changed CPU mid-sample. */
function timerLine(result: LatencyResult): string {
  const timers = result.rails.map((r) => r.timer);
  if (timers.length === 0) return '';
  const mhz = timers.map((t) => t.mhz);
  const rate = Math.min(...mhz) === Math.max(...mhz) ? `${mhz[0]!.toFixed(1)} MHz` : `${Math.min(...mhz).toFixed(1)}-${Math.max(...mhz).toFixed(1)} MHz`;
  const migrations = timers.reduce((n, t) => n + t.cpuMigrations, 0);
  const moved = migrations > 0 ? `; ${migrations} sample${migrations === 1 ? '' : 's'} spanned a move to another CPU` : '';
  return `timed with ${timers[0]!.source} at ${rate}, rate measured against CLOCK_MONOTONIC_RAW over each run${moved}`;
}

/** JSON as documented: params and per rail-and-size {device, size, latency, histogram}. */
export function latencyJson(result: LatencyResult): string {
  return JSON.stringify(
    {
      schema: JSON_SCHEMAS.lat,
      params: result.params,
      rails: result.rails.map((r) => ({ rail: r.rail, device: r.device, port: r.port, netdev: r.netdev, size: r.size, latency: r.latency, histogram: r.histogram, exchanges: r.exchanges, warmupExchanges: r.warmupExchanges, inlineUsed: r.inlineUsed, timer: r.timer, cpu: r.cpu, events: r.events })),
      stoppedEarly: result.stoppedEarly,
    },
    null,
    2,
  );
}
