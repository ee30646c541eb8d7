import type { WriteLatencyResult } from '../../binding.js';
import { loadBinding } from '../native/load.js';
import type { RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import type { LatencyParams } from './options.js';

/** A responder's "duration": it runs until stop() (the initiator is done) or a peer-silence error. */
const FOLLOW_MS = 86_400_000;

/**
 * Runs one side of a ping-pong on QP 0 of an endpoint: write into the peer's target region,
 * spin on our own. The initiator's samples are the measurement; the responder just answers.
 */
export function pingPong(
  endpoint: RailSide,
  peer: RailWire,
  size: number,
  params: LatencyParams,
  role: 'initiator' | 'responder',
  signal: AbortSignal | undefined,
): PingPong {
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
    {
      size,
      inlineThreshold: params.inlineThreshold,
      // A responder follows until stopped: only the initiator knows when its warm-up ends.
      ...(role === 'responder'
        ? { durationMs: FOLLOW_MS, warmupIterations: 0 }
        : {
            ...(params.iterations !== undefined ? { iterations: params.iterations } : { durationMs: params.durationMs! }),
            warmupIterations: params.warmupIterations,
            warmupMs: params.warmupMs,
          }),
      role,
      peerTimeoutMs: params.peerTimeoutMs,
      timer: params.timer,
    },
  );
  const stop = () => engine.stop();
  if (signal?.aborted) stop();
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
