import type { Rail } from '../rails/types.js';
import { openLoopbackPair, type LoopbackPair } from '../verbs/loopback-pair.js';
import { measureSize, type RailWriter } from './measure.js';
import type { BandwidthParams } from './options.js';
import type { RunContext } from './run.js';
import { peerCountersOf } from './peer-counters.js';
import { foldPeer, type LoopbackOrClient } from './sizes.js';

/**
 * Both ends in this process: on each rail, side A writes into side B on the same device
 * (rxe and mlx5 both loop such traffic back inside the device or its port).
 */
export async function runLoopbackSizes(
  rails: Rail[],
  mtus: number[],
  params: BandwidthParams,
  ctx: RunContext,
  sysfsRoot: string | undefined,
  timeoutMs: number,
): Promise<LoopbackOrClient> {
  const shape = {
    qps: params.qps,
    regionBytes: Math.max(...params.sizes),
    txDepth: params.txDepth,
    inlineBytes: params.inlineThreshold,
    cm: params.cm,
    timeoutMs,
    cqs: params.threads,
  };
  const pairs: LoopbackPair[] = [];
  try {
    for (const [i, rail] of rails.entries()) pairs.push(await openLoopbackPair(rail, mtus[i]!, shape));
    ctx.emitProgress(`loopback: ${rails.length} rail(s) connected${params.cm ? ' by rdma_cm' : ''}, ${params.qps} QP(s) each${params.threads > 1 ? `, ${params.threads} engine threads each` : ''}`);

    const sizes: LoopbackOrClient['sizes'] = [];
    for (const size of params.sizes) {
      if (ctx.signal.aborted) break;
      const forward: RailWriter[] = pairs.map((p, i) => ({ rail: rails[i]!, mtu: mtus[i]!, endpoint: p.a, peer: p.aPeer }));
      const backward: RailWriter[] = params.bidir ? pairs.map((p, i) => ({ rail: rails[i]!, mtu: mtus[i]!, endpoint: p.b, peer: p.bPeer })) : [];
      const [ours, theirs] = await Promise.all([
        measureSize(forward, params, size, ctx.emitSample, ctx.signal, sysfsRoot),
        backward.length > 0 ? measureSize(backward, params, size, () => undefined, ctx.signal, sysfsRoot) : Promise.resolve(null),
      ]);
      sizes.push(foldPeer(ours, theirs ? peerCountersOf(theirs, rails) : null, rails));
    }
    return { sizes };
  } finally {
    for (const p of pairs) p.close();
  }
}
