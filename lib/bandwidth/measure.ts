import { join } from 'node:path';
import type { WriteBandwidthEngine, WriteBandwidthResult } from '@spark/rdma/binding';
import { counterKind } from '../counters/kinds.js';
import { counterDelta, readPortCounters, type PortCounterDelta, type PortCounterReading } from '../counters/port-counters.js';
import { RdmaError } from '../errors.js';
import { counterAgreement } from './counter-check.js';
import { joinResults, SampleJoiner, shareOut, type ThreadShare } from './threads.js';
import { loadBinding } from '../native/load.js';
import type { Rail } from '../rails/types.js';
import { parsePortState } from '../sysfs/parse.js';
import { readText } from '../sysfs/read.js';
import { resolveSysfsRoot } from '../sysfs/root.js';
import type { RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import type { BandwidthParams } from './options.js';
import { railBandwidth, totalOf, type BandwidthSample, type RailBandwidth, type SizeResult } from './result.js';

/** One rail's writing side: its endpoint, connected to the peer described by `peer`. */
export interface RailWriter {
  rail: Rail;
  mtu: number;
  endpoint: RailSide;
  peer: RailWire;
}

export interface RailFailure {
  rail: number;
  device: string;
  error: RdmaError;
  /** What the rail measured, interval by interval, before it failed. */
  samples: BandwidthSample[];
  /** The device's counters over the failed run (what a lost link looks like from this side). */
  counters?: PortCounterDelta;
}

/** "completer_retry_err 8, retry_exceeded_err 1": the error-kind counters that moved, or null. */
export function movedErrorCounters(delta: PortCounterDelta | undefined): string | null {
  const moved = Object.entries(delta?.hw ?? {}).filter(([name, d]) => d > 0 && counterKind(name) === 'error');
  return moved.length > 0 ? moved.map(([name, d]) => `${name} ${d}`).join(', ') : null;
}

export interface MeasuredSize extends SizeResult {
  failures: RailFailure[];
  raws: WriteBandwidthResult[];
}

/**
 * Endpoints whose engine failed, with the size it failed at. The engine moved their QPs to the
 * error state (native/engine/wr_id.h: AbandonQps), so a later size must not run on them: it
 * would only report flushed writes, or worse, meet completions of the failed run.
 */
const failedAt = new WeakMap<RailSide, number>();

function skipped(w: RailWriter, size: number, failedSize: number): RailFailure {
  return {
    rail: w.rail.index,
    device: w.rail.device,
    samples: [],
    error: new RdmaError(`rail ${w.rail.index} (${w.rail.device}) is not used for size ${size}: it failed at size ${failedSize}`, {
      code: 'ERR_RDMA_RAIL_FAILED',
      hint: 'its queue pairs were stopped after that failure; see the first error for the cause, then run again',
    }),
  };
}

function asRdmaError(err: unknown): RdmaError {
  if (err instanceof RdmaError) return err;
  return new RdmaError(err instanceof Error ? err.message : String(err), { code: 'ERR_RDMA_INTERNAL' });
}

/**
 * A completion error alone rarely says why (rxe reports a downed netdev as a local QP operation
 * error, mlx5 as retry exceeded): when the rail's port is no longer ACTIVE, say so.
 */
function withPortState(err: RdmaError, root: string, rail: Rail): RdmaError {
  const state = parsePortState(readText(join(root, 'class', 'infiniband', rail.device, 'ports', String(rail.port), 'state')));
  if (state === 'ACTIVE' || state === 'UNKNOWN') return err;
  const fields = { code: err.code, ...(err.errno !== undefined ? { errno: err.errno } : {}), ...(err.syscall !== undefined ? { syscall: err.syscall } : {}) };
  // Native messages end with their generic hint; this one replaces it.
  const message = err.hint !== undefined ? err.message.replace(` (hint: ${err.hint})`, '') : err.message;
  return new RdmaError(`${message}; ${rail.device} port ${rail.port} is ${state} now: the link of ${rail.netdev} went down during the run`, {
    ...fields,
    ...(err.wcStatus !== undefined ? { wcStatus: err.wcStatus } : {}),
    ...(err.wcStatusCode !== undefined ? { wcStatusCode: err.wcStatusCode } : {}),
    ...(err.qpn !== undefined ? { qpn: err.qpn } : {}),
    hint: `bring ${rail.netdev} up (ip link set ${rail.netdev} up), wait for the port to be ACTIVE (spark-rdma devices), and run again`,
  });
}

/**
 * Runs one message size on every rail at once (one engine thread per rail) and returns each
 * rail's counters next to the device's own. A rail that fails does not take the others down.
 */
export async function measureSize(
  allWriters: RailWriter[],
  params: BandwidthParams,
  size: number,
  onSample: (s: BandwidthSample) => void,
  signal: AbortSignal | undefined,
  sysfsRoot: string | undefined,
): Promise<MeasuredSize> {
  // Stopped before it began: start nothing (a native stop() before start() used to be lost,
  // and the engine then ran its whole length).
  if (signal?.aborted) return { size, rails: [], total: totalOf([], []), failures: [], raws: [] };
  const native = loadBinding();
  const writers = allWriters.filter((w) => !failedAt.has(w.endpoint));
  const skips = allWriters.filter((w) => failedAt.has(w.endpoint)).map((w) => skipped(w, size, failedAt.get(w.endpoint)!));
  const root = resolveSysfsRoot(sysfsRoot !== undefined ? { sysfsRoot } : {}).root;
  const before: PortCounterReading[] = writers.map((w) => readPortCounters(root, w.rail.device, w.rail.port));
  const samples: BandwidthSample[][] = writers.map(() => []);
  const shares: ThreadShare[][] = writers.map((w) => shareOut(w.endpoint, w.endpoint.writeTargets(w.peer), params.threads));
  const railEngines: WriteBandwidthEngine[][] = shares.map((railShares) =>
    railShares.map(
      (share) =>
        new native.WriteBandwidthEngine(share.cq, share.targets, {
        size,
        txDepth: params.txDepth,
        postList: params.postList,
        signalEvery: params.signalEvery,
        inlineThreshold: params.inlineThreshold,
        ...(params.iterations !== undefined ? { iterations: params.iterations } : { durationMs: params.durationMs! }),
        warmupMs: params.warmupMs,
        intervalMs: params.intervalMs,
        completionTimeoutMs: params.completionTimeoutMs,
        events: params.events,
        engineNice: params.engineNice,
      }),
    ),
  );
  const stopAll = () => railEngines.flat().forEach((e) => e.stop());
  signal?.addEventListener('abort', stopAll, { once: true });
  const settled = await Promise.allSettled(
    railEngines.map(async (engines, i) => {
      const w = writers[i]!;
      const joiner = new SampleJoiner(engines.length, (s) => {
        const sample: BandwidthSample = {
          rail: w.rail.index,
          device: w.rail.device,
          size,
          t: s.tNs / 1e9,
          seconds: s.intervalNs / 1e9,
          bytes: s.bytes,
          gbps: s.intervalNs > 0 ? (s.bytes * 8) / s.intervalNs : 0,
        };
        samples[i]!.push(sample);
        onSample(sample);
      });
      // A thread that fails stops its rail's other threads: the rail is reported as failed.
      const outcomes = await Promise.allSettled(
        engines.map((engine, t) => engine.start((s) => joiner.add(t, s)).catch((err: unknown) => (engines.forEach((e) => e.stop()), Promise.reject(err)))),
      );
      joiner.flush();
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      return joinResults(shares[i]!, outcomes.map((o) => (o as PromiseFulfilledResult<WriteBandwidthResult>).value));
    }),
  );
  signal?.removeEventListener('abort', stopAll);

  const rails: RailBandwidth[] = [];
  const raws: WriteBandwidthResult[] = [];
  const failures: RailFailure[] = [...skips];
  settled.forEach((outcome, i) => {
    const w = writers[i]!;
    if (outcome.status === 'rejected') {
      failedAt.set(w.endpoint, size);
      const counters = counterDelta(before[i]!, readPortCounters(root, w.rail.device, w.rail.port));
      failures.push({ rail: w.rail.index, device: w.rail.device, error: withPortState(asRdmaError(outcome.reason), root, w.rail), samples: samples[i]!, counters });
      return;
    }
    const raw = outcome.value;
    // The MTU the QPs actually have: with rdma_cm the route decided it, not the plan.
    const mtu = w.endpoint.qps[0]?.pathMtu ?? w.mtu;
    const delta = counterDelta(before[i]!, readPortCounters(root, w.rail.device, w.rail.port));
    const messagesOnWire = raw.messages + raw.warmupMessages;
    const counters = {
      delta,
      // The counters also saw the warm-up, which ran between the two readings.
      expectedDataPackets: messagesOnWire * Math.ceil(size / mtu),
      counterBytes: delta.txBytes,
      agreement: counterAgreement({ delta, messagesOnWire, size, mtu, mixed: params.bidir }),
    };
    rails.push(railBandwidth(w.rail, size, mtu, raw, samples[i]!, counters));
    raws.push(raw);
  });
  return { size, rails, total: totalOf(rails, raws), failures, raws };
}
