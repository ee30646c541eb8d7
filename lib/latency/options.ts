import { invalidArgument } from '../errors.js';
import { checkMtuWithCm, checkPathMtu } from '../run/path-mtu.js';
import { checkCmPorts, checkDurationMs, checkInlineThreshold, wholeMs } from '../run/wire-limits.js';

/** Options of a write-latency run. Defaults follow ib_write_lat. */
export interface LatencyOptions {
  /** Peer address: run as the client of a `spark-rdma lat` server there. */
  peer?: string;
  /** Both ends in this process, on each rail's own device. */
  loopback?: boolean;
  port?: number;
  rails?: number;
  devices?: string[];
  /** Message sizes (default [2], as ib_write_lat). */
  sizes?: number[];
  /** Timed exchanges per size (default 1000 unless durationMs is given). */
  iterations?: number;
  durationMs?: number;
  /** Untimed exchanges first (default 100). */
  warmupIterations?: number;
  /**
   * The warm-up also lasts at least this long (default 100 ms), so that the process's own
   * start-up work (JIT and GC threads) is over before timing starts: on a machine with few
   * CPUs, all spinning, it would otherwise preempt the loop and show in the tail.
   */
  warmupMs?: number;
  /** Inline at or below this size (default 220, as ib_write_lat). */
  inlineThreshold?: number;
  /** Measure all rails at the same time instead of one after another. */
  concurrent?: boolean;
  cm?: boolean;
  /**
   * Wait for send completions on the CQ's completion channel instead of spinning (perftest's
   * -e). The arrival of the peer's write is still watched by spinning on memory: an RDMA WRITE
   * raises no completion at its target, so there is no event to sleep on.
   */
  events?: boolean;
  /** The peer is a stock ib_write_lat server (rail i on port + i), not a spark-rdma server. */
  perftest?: boolean;
  mtu?: number;
  gidIndex?: number;
  signal?: AbortSignal;
  sysfsRoot?: string;
  /** Client: the deadline of each session step that waits for the server (default 10 s), as in runBandwidth and serve. */
  peerTimeoutMs?: number;
  /** No write from the peer for this long, inside a timed exchange, ends the run with ERR_RDMA_PEER_SILENT (default 5 s). */
  silenceTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * What stamps the posts (default 'auto'): 'clock' is clock_gettime(CLOCK_MONOTONIC_RAW);
   * 'counter' the CPU counter scaled to that clock over the run; 'auto' the clock unless a read
   * of it costs over 200 ns (hpet in an emulated guest), then the counter.
   */
  timer?: LatencyTimerChoice;
  /**
   * Samples kept one by one per rail and size (default 1e7). Beyond, statistics come from a
   * histogram (min, max, mean, stdev exact; percentiles within 0.39 %): memory stays bounded
   * however long a duration run lasts. The result's `statistics` says which applied.
   */
  sampleBudget?: number;
}

export type LatencyTimerChoice = 'auto' | 'clock' | 'counter';
export const LATENCY_TIMERS: readonly LatencyTimerChoice[] = ['auto', 'clock', 'counter'];

export interface LatencyParams {
  sizes: number[];
  iterations?: number;
  durationMs?: number;
  warmupIterations: number;
  warmupMs: number;
  inlineThreshold: number;
  concurrent: boolean;
  cm: boolean;
  /** The engine's silence limit (LatencyOptions.silenceTimeoutMs). */
  silenceTimeoutMs: number;
  events: boolean;
  timer: LatencyTimerChoice;
  sampleBudget: number;
}

export function resolveLatencyParams(o: LatencyOptions): LatencyParams {
  if (o.durationMs !== undefined && o.iterations !== undefined) {
    throw invalidArgument('both a duration and an iteration count were given', 'pass either --duration or --iters, not both');
  }
  if (o.durationMs !== undefined && !(o.durationMs > 0)) {
    throw invalidArgument(`duration ${o.durationMs / 1000} s is not positive`, 'pass --duration with a value above 0 (seconds)');
  }
  if (o.durationMs !== undefined) checkDurationMs(o.durationMs);
  if (o.cm && o.port !== undefined) checkCmPorts(o.port, 1);
  if (o.iterations !== undefined && (!Number.isInteger(o.iterations) || o.iterations < 1 || o.iterations > 1e9)) {
    throw invalidArgument(`iterations ${o.iterations} is out of range 1..1e9`, 'pass --iters with a whole number such as 1000');
  }
  checkPathMtu(o.mtu);
  checkMtuWithCm(o.mtu, o.cm);
  const sizes = o.sizes ?? [2];
  if (sizes.length === 0) throw invalidArgument('no message sizes given', 'pass --size or --sizes');
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1 || s > 2 ** 31) {
      throw invalidArgument(`message size ${s} is out of range: it must be from 1 byte to 2 GiB`, 'pass --size with e.g. 2 or 64K');
    }
  }
  const warmupIterations = o.warmupIterations ?? 100;
  if (!Number.isInteger(warmupIterations) || warmupIterations < 0) {
    throw invalidArgument(`warm-up ${warmupIterations} is not a whole number of 0 or more`, 'pass --warmup 0 or more');
  }
  const warmupMs = o.warmupMs ?? 100;
  if (!(warmupMs >= 0 && warmupMs <= 3_600_000)) {
    throw invalidArgument(`warm-up time ${warmupMs} ms is out of range 0..3600000`, 'pass --warmup-ms 0 or more (milliseconds)');
  }
  if (o.loopback && o.peerTimeoutMs !== undefined) {
    // The old meaning of peerTimeoutMs here: the engine's silence limit. It is the session deadline now.
    throw invalidArgument(
      'peerTimeoutMs is the deadline of a session step, and a loopback run has no session',
      `for the limit on silence inside an exchange pass silenceTimeoutMs: ${o.peerTimeoutMs}`,
    );
  }
  if (o.peerTimeoutMs !== undefined) wholeMs('peer timeout', '--peer-timeout', o.peerTimeoutMs, 1, 2 ** 31 - 1);
  if (o.silenceTimeoutMs !== undefined && !(Number.isInteger(o.silenceTimeoutMs) && o.silenceTimeoutMs >= 1)) {
    throw invalidArgument(`silence timeout ${o.silenceTimeoutMs} ms is not a whole number of 1 or more`, 'pass silenceTimeoutMs in milliseconds, e.g. 5000');
  }
  const timer = o.timer ?? 'auto';
  if (!LATENCY_TIMERS.includes(timer)) {
    throw invalidArgument(`timer '${String(timer)}' is not one of ${LATENCY_TIMERS.join(', ')}`, "pass --timer auto (the default), clock or counter");
  }
  const params: LatencyParams = {
    sizes,
    warmupIterations,
    warmupMs,
    inlineThreshold: checkInlineThreshold(o.inlineThreshold ?? 220),
    concurrent: o.concurrent ?? false,
    cm: o.cm ?? false,
    events: o.events ?? false,
    silenceTimeoutMs: wholeMs('silence timeout', 'silenceTimeoutMs', o.silenceTimeoutMs ?? 5000, 1, 2 ** 31 - 1),
    timer,
    sampleBudget: o.sampleBudget ?? 10_000_000,
  };
  if (!Number.isInteger(params.sampleBudget) || params.sampleBudget < 1 || params.sampleBudget > 1e9) {
    throw invalidArgument(`sample budget ${params.sampleBudget} is out of range 1..1e9`, 'pass a whole number of samples, such as 10000000');
  }
  if (o.durationMs !== undefined) params.durationMs = o.durationMs;
  else params.iterations = o.iterations ?? 1000;
  return params;
}
