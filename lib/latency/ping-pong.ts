import type { WriteLatencyParams, WriteLatencyResult } from '@spark/rdma/binding';
import { loadBinding } from '../native/load.js';
import type { RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import type { LatencyParams } from './options.js';

/** A responder's "duration": it runs until stop() (the initiator is done) or a peer-silence error. */
const FOLLOW_MS = 86_400_000;

/** What a responder needs: it stamps nothing and has no warm-up or length of its own. */
export type ResponderParams = Pick<LatencyParams, 'inlineThreshold' | 'silenceTimeoutMs'> & { events?: boolean };

/**
 * The initiator of a ping-pong on QP 0 of an endpoint: writes into the peer's target region,
 * spins on its own, and times each round trip. Its samples are the measurement.
 */
export function initiate(endpoint: RailSide, peer: RailWire, size: number, params: LatencyParams, signal: AbortSignal | undefined): PingPong {
  return start(endpoint, peer, signal, {
    size,
    inlineThreshold: params.inlineThreshold,
    ...(params.iterations !== undefined ? { iterations: params.iterations } : { durationMs: params.durationMs! }),
    warmupIterations: params.warmupIterations,
    warmupMs: params.warmupMs,
    role: 'initiator',
    peerTimeoutMs: params.silenceTimeoutMs,
    timer: params.timer,
    sampleBudget: params.sampleBudget,
    events: params.events,
  });
}

/**
 * The responder: answers each write it sees until stop(), because only the initiator knows
 * where its warm-up ends. It stamps nothing, so it skips the timer choice ('clock').
 * `counted`: a peer that is not ours (ib_write_lat's server) makes exactly `iterations`
 * exchanges with no warm-up; the responder then ends there, and stamps its posts when asked.
 */
export function respond(
  endpoint: RailSide,
  peer: RailWire,
  size: number,
  params: ResponderParams,
  signal: AbortSignal | undefined,
  counted?: { iterations: number; stamp: boolean; timer?: LatencyParams['timer'] },
): PingPong {
  return start(endpoint, peer, signal, {
    size,
    inlineThreshold: params.inlineThreshold,
    ...(counted ? { iterations: counted.iterations, stampResponder: counted.stamp } : { durationMs: FOLLOW_MS }),
    warmupIterations: 0,
    role: 'responder',
    peerTimeoutMs: params.silenceTimeoutMs,
    timer: counted?.stamp ? (counted.timer ?? 'auto') : 'clock',
    events: params.events ?? false,
  });
}

/** What a ping-pong that never started reports: nothing measured, stopped early. */
function notStarted(): WriteLatencyResult {
  return { samplesNs: new Float64Array(0), exchanges: 0, warmupExchanges: 0, stoppedEarly: true, inlineUsed: false, timer: { source: 'none', mhz: 0, cpuMigrations: 0 }, statistics: 'exact', histogram: null, cpu: { threadNs: 0, wallNs: 0 }, events: { wakeups: 0, sleeps: 0 } };
}

function start(endpoint: RailSide, peer: RailWire, signal: AbortSignal | undefined, params: WriteLatencyParams): PingPong {
  // Stopped before it began (Ctrl-C, the session ended): start no engine at all.
  if (signal?.aborted) return { done: Promise.resolve(notStarted()), stop: () => undefined };
  const native = loadBinding();
  const engine = new native.WriteLatencyEngine(
    endpoint.cq,
    {
      qp: endpoint.qps[0]!,
      local: endpoint.targets[0]!,
      source: endpoint.sources[0]!,
      remoteAddr: BigInt(peer.qps[0]!.addr),
      rkey: peer.qps[0]!.rkey,
    },
    params,
  );
  const stop = () => engine.stop();
  signal?.addEventListener('abort', stop, { once: true });
  const done = engine.start().finally(() => signal?.removeEventListener('abort', stop));
  return { done, stop };
}

export interface PingPong {
  done: Promise<WriteLatencyResult>;
  /** Ends the loop after the current exchange (the responder's only way out in duration mode). */
  stop(): void;
}

/** Zeroes both regions' last bytes between sizes so old sequence bytes never read as arrivals. */
export function resetRegions(endpoint: RailSide): void {
  endpoint.targets[0]!.view().fill(0);
  endpoint.sources[0]!.view().fill(0);
}
