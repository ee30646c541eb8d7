import type { Rail } from '../rails/types.js';
import { openLoopbackPair } from '../verbs/loopback-pair.js';
import type { LatencyParams } from './options.js';
import { initiate, resetRegions, respond } from './ping-pong.js';
import { railLatency, type RailLatency } from './result.js';

async function measureRail(rail: Rail, mtu: number, params: LatencyParams, signal: AbortSignal, onRail: (r: RailLatency) => void): Promise<RailLatency[]> {
  const pair = await openLoopbackPair(rail, mtu, {
    qps: 1,
    regionBytes: Math.max(...params.sizes),
    txDepth: 64,
    inlineBytes: params.inlineThreshold,
    cm: params.cm,
    timeoutMs: 10_000,
  });
  const { a, b } = pair;
  try {
    const out: RailLatency[] = [];
    for (const size of params.sizes) {
      if (signal.aborted) break;
      resetRegions(a);
      resetRegions(b);
      const responder = respond(b, pair.bPeer, size, params, undefined);
      const initiator = initiate(a, pair.aPeer, size, params, signal);
      const settled = await Promise.allSettled([initiator.done.finally(() => responder.stop()), responder.done]);
      if (settled[0].status === 'rejected') throw settled[0].reason;
      const initiated = settled[0].value;
      const measured = railLatency(rail, size, initiated);
      out.push(measured);
      onRail(measured);
    }
    return out;
  } finally {
    pair.close();
  }
}

/** Loopback latency: rails one after another, or all at once with `concurrent`. */
export async function runLoopbackLatency(
  rails: Rail[],
  mtus: number[],
  params: LatencyParams,
  signal: AbortSignal,
  onRail: (r: RailLatency) => void = () => undefined,
): Promise<RailLatency[]> {
  if (params.concurrent) {
    const all = await Promise.all(rails.map((rail, i) => measureRail(rail, mtus[i]!, params, signal, onRail)));
    return all.flat();
  }
  const out: RailLatency[] = [];
  for (let i = 0; i < rails.length; i++) out.push(...(await measureRail(rails[i]!, mtus[i]!, params, signal, onRail)));
  return out;
}
