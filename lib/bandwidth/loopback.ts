import type { Rail } from '../rails/types.js';
import { RailEndpoint } from '../verbs/endpoint.js';
import { measureSize, type RailWriter } from './measure.js';
import type { BandwidthParams } from './options.js';
import type { RunContext } from './run.js';
import { foldPeer, type LoopbackOrClient } from './sizes.js';

/**
 * Both ends in this process: on each rail, endpoint A writes into endpoint B on the same
 * device (rxe and mlx5 both loop such traffic back inside the device or its port).
 */
export async function runLoopbackSizes(
  rails: Rail[],
  mtus: number[],
  params: BandwidthParams,
  ctx: RunContext,
  sysfsRoot: string | undefined,
): Promise<LoopbackOrClient> {
  const regionBytes = Math.max(...params.sizes);
  const pairs: { a: RailEndpoint; b: RailEndpoint }[] = [];
  try {
    rails.forEach((rail, i) => {
      const options = {
        device: rail.device,
        port: rail.port,
        gidIndex: rail.gidIndex!,
        mtu: mtus[i]!,
        qps: params.qps,
        regionBytes,
        txDepth: params.txDepth,
        inlineBytes: params.inlineThreshold,
      };
      const a = RailEndpoint.open(options);
      let b: RailEndpoint;
      try {
        b = RailEndpoint.open(options);
      } catch (err) {
        a.close();
        throw err;
      }
      pairs.push({ a, b });
      a.connect(b.wire());
      b.connect(a.wire());
    });
    ctx.emitProgress(`loopback: ${rails.length} rail(s) connected, ${params.qps} QP(s) each`);

    const sizes: LoopbackOrClient['sizes'] = [];
    for (const size of params.sizes) {
      if (ctx.signal.aborted) break;
      const forward: RailWriter[] = pairs.map((p, i) => ({ rail: rails[i]!, mtu: mtus[i]!, endpoint: p.a, peer: p.b.wire() }));
      const backward: RailWriter[] = params.bidir
        ? pairs.map((p, i) => ({ rail: rails[i]!, mtu: mtus[i]!, endpoint: p.b, peer: p.a.wire() }))
        : [];
      const [ours, theirs] = await Promise.all([
        measureSize(forward, params, size, ctx.emitSample, ctx.signal, sysfsRoot),
        backward.length > 0 ? measureSize(backward, params, size, () => undefined, ctx.signal, sysfsRoot) : Promise.resolve(null),
      ]);
      sizes.push(foldPeer(ours, theirs));
    }
    return { sizes };
  } finally {
    for (const { a, b } of pairs) {
      a.close();
      b.close();
    }
  }
}
