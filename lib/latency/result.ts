import type { EngineCpu, LatencyHistogram, LatencyTimer } from '@spark/rdma/binding';
import { railCpu, type RailCpu } from '../report/cpu.js';
import { summarizeLatencyBuckets } from '../stats/latency-histogram.js';
import type { HistogramBucket } from '../stats/histogram.js';
import type { LatencyStatsUs } from '../stats/latency.js';
import { summarizeLatency } from '../stats/latency.js';
import type { Rail } from '../rails/types.js';
import type { RailPairing } from '../run/rail-pairing.js';
import type { LatencyParams } from './options.js';

export interface RailLatency {
  rail: number;
  device: string;
  port: number;
  netdev: string;
  size: number;
  /** One-way latency (half a ping-pong), microseconds, over every timed sample. */
  latency: LatencyStatsUs;
  /**
   * 'exact': every sample was kept. 'histogram': more samples than the budget (1e7 by
   * default); min, max, mean and stdev are still exact, the percentiles within
   * `relativeError` (0.39 %).
   */
  statistics: 'exact' | 'histogram';
  relativeError: number;
  histogram: HistogramBucket[];
  exchanges: number;
  /** Of the exchanges, untimed warm-up (at least warmupIterations, and at least warmupMs long). */
  warmupExchanges: number;
  inlineUsed: boolean;
  stoppedEarly: boolean;
  /** The counter the samples were read from and its measured rate (see binding.d.ts). */
  timer: LatencyTimer;
  /** CPU of the measuring engine thread over its whole loop, warm-up included. */
  cpu: RailCpu;
  /** --events: sleeps on the completion channel, and how many a completion ended (0 when polling). */
  events: { wakeups: number; sleeps: number };
}

export interface LatencyResult {
  params: LatencyParams & { mode: 'loopback' | 'client'; peer: string | null; rails: string[]; mtu: number[]; pairing: RailPairing[] | null };
  /** One entry per rail and size, in rail order then size order. */
  rails: RailLatency[];
  stoppedEarly: boolean;
}

export function railLatency(
  rail: Rail,
  size: number,
  raw: {
    samplesNs: Float64Array;
    statistics: 'exact' | 'histogram';
    histogram: LatencyHistogram | null;
    exchanges: number;
    warmupExchanges: number;
    inlineUsed: boolean;
    stoppedEarly: boolean;
    timer: LatencyTimer;
    cpu: EngineCpu;
    events?: { wakeups: number; sleeps: number };
  },
): RailLatency {
  const { latency, histogram } = raw.histogram ? summarizeLatencyBuckets(raw.histogram) : summarizeLatency(raw.samplesNs);
  return {
    rail: rail.index,
    device: rail.device,
    port: rail.port,
    netdev: rail.netdev,
    size,
    latency,
    statistics: raw.histogram ? 'histogram' : 'exact',
    relativeError: raw.histogram ? raw.histogram.relativeError : 0,
    histogram,
    exchanges: raw.exchanges,
    warmupExchanges: raw.warmupExchanges,
    inlineUsed: raw.inlineUsed,
    stoppedEarly: raw.stoppedEarly,
    timer: { ...raw.timer },
    cpu: railCpu([raw.cpu]),
    events: { ...(raw.events ?? { wakeups: 0, sleeps: 0 }) },
  };
}
