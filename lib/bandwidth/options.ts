import { invalidArgument } from '../errors.js';
import { checkMtuWithCm, checkPathMtu } from '../run/path-mtu.js';
import { checkCmPorts, checkDurationMs, checkInlineThreshold, checkWarmupMs, wholeMs } from '../run/wire-limits.js';
import { LIMITS } from '../session/protocol.js';

/** Everything a bandwidth run can be told. Defaults follow ib_write_bw where it has one. */
export interface BandwidthOptions {
  /** Peer address: run as the client of a `spark-rdma bw` server there. */
  peer?: string;
  /** Both ends in this process, each rail writing to its own device. */
  loopback?: boolean;
  /** Out-of-band TCP port (default 18515, as perftest). */
  port?: number;
  /** Use the first N discovered rails (default: all). */
  rails?: number;
  /** Use exactly these devices, in this order. */
  devices?: string[];
  /** QPs per rail (default 1). */
  qps?: number;
  /** Message sizes; each is measured in turn (default [65536]). */
  sizes?: number[];
  /** Timed phase length per size (default 5000 ms unless iterations is given). */
  durationMs?: number;
  /** Messages per QP per size instead of a duration. */
  iterations?: number;
  /**
   * Engine threads per rail (default 1), each polling a CQ of its own; the rail's QPs are dealt
   * round-robin among them (QP i to thread i mod threads). At most `qps`. Not with cm or perftest.
   */
  threads?: number;
  /** Outstanding WRs per QP (default 128). */
  txDepth?: number;
  /** WRs per doorbell (default 1). */
  postList?: number;
  /** One signaled WR per this many (default min(100, txDepth)). */
  signalEvery?: number;
  /** Post inline at or below this size (default 0: never, as ib_write_bw). */
  inlineThreshold?: number;
  /** Untimed warm-up before each size (default 500 ms). */
  warmupMs?: number;
  /** Sample interval (default 1000 ms). */
  intervalMs?: number;
  /** Bring QPs up with rdma_cm instead of the out-of-band exchange. */
  cm?: boolean;
  /** Both sides write at once. */
  bidir?: boolean;
  /**
   * Event-driven completions (perftest's -e): each engine thread sleeps on its CQ's completion
   * channel between completions instead of spinning on the CQ. Less CPU, same bytes.
   */
  events?: boolean;
  /**
   * Added to each engine thread's nice value (0..19; default DEFAULT_ENGINE_NICE; 0 keeps the
   * process's). When engines spin on every CPU, a higher nice lets a woken JS thread preempt an
   * engine spinning in user space sooner; on rdma_rxe, whose work runs inside ibv_post_send,
   * it measured no change (bench/results/issue-17.md).
   */
  engineNice?: number;
  /** The peer is a stock ib_write_bw server (rail i on port + i), not a spark-rdma server. */
  perftest?: boolean;
  /**
   * With perftest: the units of the report the server prints (default 'MiB/s'). A stock server
   * prints the client's numbers under a header in its own units and never says which it uses,
   * so this must match its --report_gbits ('Gb/s'), as a stock client's flag must.
   */
  perftestReportUnits?: PerftestReportUnits;
  /** Path MTU (default: the rail's active MTU). */
  mtu?: number;
  /** Force the GID index on every rail. */
  gidIndex?: number;
  /** Ends the run early; what was measured is still returned. */
  signal?: AbortSignal;
  /** sysfs root for discovery and counters (tests). */
  sysfsRoot?: string;
  /** Deadlines. */
  connectTimeoutMs?: number;
  peerTimeoutMs?: number;
  completionTimeoutMs?: number;
}

export interface BandwidthParams {
  sizes: number[];
  qps: number;
  threads: number;
  txDepth: number;
  postList: number;
  signalEvery: number;
  inlineThreshold: number;
  durationMs?: number;
  iterations?: number;
  warmupMs: number;
  intervalMs: number;
  bidir: boolean;
  cm: boolean;
  events: boolean;
  engineNice: number;
  completionTimeoutMs: number;
}

export type PerftestReportUnits = 'MiB/s' | 'Gb/s';

/** See BandwidthOptions.engineNice; chosen by the `lag` bench case (bench/results/issue-17.md). */
export const DEFAULT_ENGINE_NICE = 0;

export const DEFAULT_PORT = 18515;

function positiveInt(name: string, flag: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) {
    throw invalidArgument(`${name} ${v} is out of range: it must be a whole number from 1 to ${max}`, `pass ${flag} with a value in that range`);
  }
  return v;
}

/**
 * Fills defaults and checks each value on its own and against the others. Device limits
 * (max_qp, max_qp_wr, max_mr_size) are checked later, once the rails are known.
 */
export function resolveBandwidthParams(o: BandwidthOptions): BandwidthParams {
  if (o.durationMs !== undefined && o.iterations !== undefined) {
    throw invalidArgument('both a duration and an iteration count were given', 'pass either --duration or --iters, not both');
  }
  if (o.durationMs !== undefined && !(o.durationMs > 0)) {
    throw invalidArgument(`duration ${o.durationMs / 1000} s is not positive`, 'pass --duration with a value above 0 (seconds)');
  }
  if (o.durationMs !== undefined) checkDurationMs(o.durationMs);
  if (o.cm && o.port !== undefined) checkCmPorts(o.port, 1);
  checkPathMtu(o.mtu);
  checkMtuWithCm(o.mtu, o.cm);
  if (o.perftestReportUnits !== undefined && !o.perftest) {
    throw invalidArgument('report units were given for a run that sends no perftest report', 'pass perftestReportUnits (--report_gbits) only with perftest (--perftest)');
  }
  if (o.perftestReportUnits !== undefined && o.perftestReportUnits !== 'MiB/s' && o.perftestReportUnits !== 'Gb/s') {
    throw invalidArgument(`report units '${String(o.perftestReportUnits)}' are not MiB/s or Gb/s`, "pass perftestReportUnits: 'Gb/s' for a server started with --report_gbits, else 'MiB/s'");
  }
  const sizes = o.sizes ?? [65536];
  if (sizes.length === 0) throw invalidArgument('no message sizes given', 'pass --size or --sizes');
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1 || s > 2 ** 31) {
      throw invalidArgument(`message size ${s} is out of range: it must be from 1 byte to 2 GiB`, 'pass --size with e.g. 65536 or 64K');
    }
  }
  const txDepth = positiveInt('tx depth', '--tx-depth', o.txDepth, 128, LIMITS.txDepth.max);
  const postList = positiveInt('post list', '--post-list', o.postList, 1, 1024);
  if (postList > txDepth) {
    throw invalidArgument(`post list ${postList} exceeds the tx depth ${txDepth}`, 'a doorbell cannot carry more WRs than may be outstanding: lower --post-list or raise --tx-depth');
  }
  const signalEvery = positiveInt('signal interval', '--signal-every', o.signalEvery, Math.min(100, txDepth), LIMITS.signalEvery.max);
  if (signalEvery > txDepth) {
    throw invalidArgument(`signaling every ${signalEvery} WRs with a tx depth of ${txDepth} would never free the queue`, 'pass --signal-every at most the tx depth');
  }
  const inlineThreshold = checkInlineThreshold(o.inlineThreshold ?? 0);
  const params: BandwidthParams = {
    sizes,
    qps: positiveInt('QPs per rail', '--qps', o.qps, 1, 4096),
    threads: positiveInt('engine threads per rail', '--threads', o.threads, 1, 256),
    txDepth,
    postList,
    signalEvery,
    inlineThreshold,
    warmupMs: checkWarmupMs(o.warmupMs ?? 500),
    intervalMs: positiveInt('sample interval', '--interval', o.intervalMs, 1000, 3_600_000),
    bidir: o.bidir ?? false,
    cm: o.cm ?? false,
    events: o.events ?? false,
    engineNice: o.engineNice ?? DEFAULT_ENGINE_NICE,
    // The engine's own bound (native/engine/write_bw_wrap.cc): 1 ms to an hour.
    completionTimeoutMs: wholeMs('completion timeout', 'completionTimeoutMs', o.completionTimeoutMs ?? 5000, 1, 3_600_000),
  };
  if (params.threads > params.qps) {
    throw invalidArgument(`${params.threads} engine threads per rail for ${params.qps} QP(s): each thread needs a QP of its own`, `pass --threads at most --qps, or raise --qps to ${params.threads}`);
  }
  if (params.threads > 1 && (params.cm || o.perftest)) {
    throw invalidArgument(`--threads ${params.threads} needs the out-of-band exchange: with ${params.cm ? '--cm' : '--perftest'} each rail has one CQ`, `drop ${params.cm ? '--cm' : '--perftest'}, or --threads`);
  }
  if (!Number.isInteger(params.engineNice) || params.engineNice < 0 || params.engineNice > 19) {
    throw invalidArgument(`engine nice increment ${params.engineNice} is out of range 0..19`, 'pass engineNice as a whole number from 0 (the process\'s priority) to 19 (the lowest)');
  }
  if (o.iterations !== undefined) params.iterations = positiveInt('iterations', '--iters', o.iterations, 1, 2 ** 40);
  else params.durationMs = o.durationMs ?? 5000;
  return params;
}
