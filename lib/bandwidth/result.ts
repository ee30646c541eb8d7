import type { WriteBandwidthResult } from '@spark/rdma/binding';
import type { PortCounterDelta } from '../counters/port-counters.js';
import type { Agreement } from './counter-check.js';
import type { Rail } from '../rails/types.js';
import type { RailPairing } from '../run/rail-pairing.js';
import { railCpu, type RailCpu } from '../report/cpu.js';
import { goodputLimitGbps } from '../report/goodput.js';
import { BYTES_PER_GIB, BYTES_PER_MIB } from '../report/units.js';
import type { BandwidthParams } from './options.js';

/** One interval of one rail, as streamed and as kept in the result. */
export interface BandwidthSample {
  rail: number;
  device: string;
  size: number;
  /** Seconds since this rail's timed phase began (end of the interval). */
  t: number;
  /** Interval length in seconds. */
  seconds: number;
  bytes: number;
  gbps: number;
}

export interface QpBandwidth {
  qpn: number;
  bytes: number;
  messages: number;
  gbps: number;
}

/** The device's own view of the run, to cross-check the engine's byte count. */
export interface CounterCheck {
  delta: PortCounterDelta;
  /** Data packets the engine must have sent between the readings: (timed + warm-up messages) x ceil(size / mtu). */
  expectedDataPackets: number;
  /** Bytes the port counters saw (port_xmit_data x 4), where the driver has them. */
  counterBytes: number | null;
  /** Whether the device's count agrees with the engine's (a mismatch beyond headers is a bug). */
  agreement: Agreement;
}

export interface RailBandwidth {
  rail: number;
  device: string;
  port: number;
  netdev: string;
  size: number;
  qpCount: number;
  /** 10^9 bit/s over this rail's first post to last completion. */
  gbps: number;
  /** 2^30 B/s. */
  gibps: number;
  /** 2^20 B/s: what ib_write_bw prints by default. */
  mibps: number;
  /** Million messages per second. */
  msgRate: number;
  bytes: number;
  messages: number;
  seconds: number;
  activeMtu: number;
  rateGbps: number;
  /** The RoCEv2 goodput limit for this rail's rate, MTU and message size (0 when the rate is unknown). */
  limitGbps: number;
  /** gbps / limitGbps (null when the limit is unknown). */
  shareOfLimit: number | null;
  qps: QpBandwidth[];
  samples: BandwidthSample[];
  counters: CounterCheck | null;
  engine: WriteBandwidthResult['engine'] & { warmupMessages: number; stoppedEarly: boolean };
  /** CPU of this rail's engine thread over the timed phase. */
  cpu: RailCpu;
  /** What the peer's engine measured on this rail, in bidirectional runs. */
  peer?: { gbps: number; bytes: number; seconds: number } | null;
  /** The peer's error on this rail when its engine failed there (bidirectional runs; text from the peer). */
  peerError?: string;
}

export interface BandwidthTotal {
  /** Sum of bytes over rails, over the union of their windows: the aggregate rate. */
  gbps: number;
  gibps: number;
  bytes: number;
  messages: number;
  seconds: number;
  msgRate: number;
  /** Sum of each rail's own rate (equals gbps when the rails ran in lockstep). */
  sumOfRailsGbps: number;
}

export interface SizeResult {
  size: number;
  rails: RailBandwidth[];
  total: BandwidthTotal;
}

const rate = (bytes: number, seconds: number, unit: number) => (seconds > 0 ? bytes / seconds / unit : 0);

export function railBandwidth(
  rail: Rail,
  size: number,
  mtu: number,
  raw: WriteBandwidthResult,
  samples: BandwidthSample[],
  counters: CounterCheck | null,
): RailBandwidth {
  const seconds = raw.lastCompletionNs > raw.firstPostNs ? (raw.lastCompletionNs - raw.firstPostNs) / 1e9 : 0;
  const gbps = rate(raw.bytes * 8, seconds, 1e9);
  const limit = rail.rateGbps > 0 ? goodputLimitGbps(rail.rateGbps, mtu, { messageSize: size }) : 0;
  return {
    rail: rail.index,
    device: rail.device,
    port: rail.port,
    netdev: rail.netdev,
    size,
    qpCount: raw.qps.length,
    gbps,
    gibps: rate(raw.bytes, seconds, BYTES_PER_GIB),
    mibps: rate(raw.bytes, seconds, BYTES_PER_MIB),
    msgRate: rate(raw.messages, seconds, 1e6),
    bytes: raw.bytes,
    messages: raw.messages,
    seconds,
    activeMtu: mtu,
    rateGbps: rail.rateGbps,
    limitGbps: limit,
    shareOfLimit: limit > 0 ? gbps / limit : null,
    qps: raw.qps.map((q) => {
      const s = q.lastCompletionNs > q.firstPostNs ? (q.lastCompletionNs - q.firstPostNs) / 1e9 : 0;
      return { qpn: q.qpn, bytes: q.bytes, messages: q.messages, gbps: rate(q.bytes * 8, s, 1e9) };
    }),
    samples,
    counters,
    engine: { ...raw.engine, warmupMessages: raw.warmupMessages, stoppedEarly: raw.stoppedEarly },
    cpu: railCpu([raw.cpu]),
  };
}

/** Aggregate over rails that ran at the same time in one process (one clock). */
export function totalOf(rails: RailBandwidth[], raws: WriteBandwidthResult[]): BandwidthTotal {
  const bytes = rails.reduce((a, r) => a + r.bytes, 0);
  const messages = rails.reduce((a, r) => a + r.messages, 0);
  const started = raws.filter((r) => r.firstPostNs > 0);
  const first = Math.min(...started.map((r) => r.firstPostNs));
  const last = Math.max(...started.map((r) => r.lastCompletionNs));
  const seconds = started.length > 0 && last > first ? (last - first) / 1e9 : 0;
  return {
    gbps: rate(bytes * 8, seconds, 1e9),
    gibps: rate(bytes, seconds, BYTES_PER_GIB),
    bytes,
    messages,
    seconds,
    msgRate: rate(messages, seconds, 1e6),
    sumOfRailsGbps: rails.reduce((a, r) => a + r.gbps, 0),
  };
}

/** The whole run: one entry per size; `rails`/`total` repeat the first size for the common case. */
export interface BandwidthResult {
  params: BandwidthParams & { mode: 'loopback' | 'client'; peer: string | null; rails: string[]; mtu: number[]; pairing: RailPairing[] | null };
  sizes: SizeResult[];
  rails: RailBandwidth[];
  total: BandwidthTotal;
  /** True when the run was stopped (AbortSignal, SIGINT) before it was done. */
  stoppedEarly: boolean;
}
