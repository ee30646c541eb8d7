import type { CounterKind } from '../counters/kinds.js';
import type { Rail } from '../rails/types.js';
import type { SysfsRootOptions } from '../sysfs/root.js';

export interface WatchRailsOptions extends SysfsRootOptions {
  /** Time between samples in ms (default 1000, at least 10, at most 3 600 000). */
  intervalMs?: number;
  /** Watch the first N rails, as runBandwidth's `rails` (default: all). To pick rails, name them in `devices`. */
  rails?: number;
  /** Watch only these devices ("rocep1s0f1" or "rocep1s0f1:1"), in this order. */
  devices?: string[];
  /** Ends the iteration (quietly: the loop just finishes) and clears its timer. */
  signal?: AbortSignal;
}

/** A counter (other than bytes and packets) that moved in an interval and is worth a look. */
export interface CounterMove {
  /** 'counters/<name>' or 'hw_counters/<name>', as under ports/<p>/ in sysfs. */
  counter: string;
  /** How much it moved in the interval. */
  delta: number;
  kind: Exclude<CounterKind, 'traffic'>;
}

/** One rail over one interval. Rates are per second over the measured interval. */
export interface RailSample {
  /** Rail index (as discovered; kept when other rails are filtered out). */
  rail: number;
  device: string;
  port: number;
  netdev: string;
  /** Port state at the end of the interval ('ACTIVE', 'DOWN', ...; 'UNKNOWN' when unreadable). */
  state: string;
  /** Measured between the two readings (monotonic clock), not the nominal interval. */
  seconds: number;
  /** Bytes moved (port_xmit_data/port_rcv_data x 4); null when the driver has no such counter (rxe) or it was reset. */
  txBytes: number | null;
  rxBytes: number | null;
  txPackets: number | null;
  rxPackets: number | null;
  txBytesPerSecond: number | null;
  rxBytesPerSecond: number | null;
  /** Gb/s = 10^9 bit/s. */
  txGbps: number | null;
  rxGbps: number | null;
  txPacketsPerSecond: number | null;
  rxPacketsPerSecond: number | null;
  /** Where packet counts come from: counters/port_*_packets (mlx5) or hw_counters/sent_pkts, rcvd_pkts (rxe). */
  packetSource: 'counters' | 'hw_counters' | null;
  /** Delta of every hw_counters entry the driver has (0 included); null for one that was reset. */
  hw: Record<string, number | null>;
  /** Delta of every other counters/ entry (symbol_error, link_downed, port_rcv_errors, ...); null when reset. */
  portCounters: Record<string, number | null>;
  /** Error and congestion counters that moved, errors first. */
  moved: CounterMove[];
  /** Counters that wrapped at 2^64 in this interval (their deltas are exact). */
  wrapped: string[];
  /** True when some counter went backwards otherwise: its delta and rate are null for this interval. */
  reset: boolean;
  /** Which counters were reset, as 'counters/<name>' or 'hw_counters/<name>'. */
  resetCounters: string[];
}

/** Every watched rail over one interval. */
export interface RailsSample {
  /** 1 for the first interval, then 2, 3, ... */
  seq: number;
  /** Wall-clock time of the end of the interval, ms since the epoch. */
  time: number;
  rails: RailSample[];
}

/** What watchRails returns: the samples, and which rails they cover. */
export interface RailWatch extends AsyncIterableIterator<RailsSample> {
  /** The watched rails, known before the first sample. */
  readonly rails: readonly Rail[];
  /** Stops watching (same as breaking out of for await). */
  return(): Promise<IteratorResult<RailsSample, undefined>>;
}
