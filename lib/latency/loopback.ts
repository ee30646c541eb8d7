import type { Rail } from '../rails/types.js';
import { RailEndpoint } from '../verbs/endpoint.js';
import type { LatencyParams } from './options.js';
import { pingPong, resetRegions } from './ping-pong.js';
import { railLatency, type RailLatency } from './result.js';

/** Opens both ends of one rail in this process and connects them. */
function openPair(rail: Rail, mtu: number, regionBytes: number, inline: number): { a: RailEndpoint; b: RailEndpoint } {
  const options = {
    device: rail.device,
    port: rail.port,
    gidIndex: rail.gidIndex!,
    mtu,
    qps: 1,
    regionBytes,
    txDepth: 64,
    inlineBytes: inline,
  };
  const a = RailEndpoint.open(options);
  try {
    const b = RailEndpoint.open(options);
    try {
      a.connect(b.wire());
      b.connect(a.wire());
      return { a, b };
    } catch (err) {
      b.close();
      throw err;
    }
  } catch (err) {
    a.close();
    throw err;
  }
}

async function measureRail(rail: Rail, mtu: number, params: LatencyParams, signal: AbortSignal): Promise<RailLatency[]> {
  const { a, b } = openPair(rail, mtu, Math.max(...params.sizes), params.inlineThreshold);
  try {
    const out: RailLatency[] = [];
    for (const size of params.sizes) {
      if (signal.aborted) break;
      resetRegions(a);
      resetRegions(b);
      const responder = pingPong(b, a.wire(), size, params, 'responder', undefined);
      const initiator = pingPong(a, b.wire(), size, params, 'initiator', signal);
      const settled = await Promise.allSettled([initiator.done.finally(() => responder.stop()), responder.done]);
      if (settled[0].status === 'rejected') throw settled[0].reason;
      const initiated = settled[0].value;
      out.push(railLatency(rail, size, initiated));
    }
    return out;
  } finally {
    a.close();
    b.close();
  }
}

/** Loopback latency: rails one after another, or all at once with `concurrent`. */
export async function runLoopbackLatency(rails: Rail[], mtus: number[], params: LatencyParams, signal: AbortSignal): Promise<RailLatency[]> {
  if (params.concurrent) {
    const all = await Promise.all(rails.map((rail, i) => measureRail(rail, mtus[i]!, params, signal)));
    return all.flat();
  }
  const out: RailLatency[] = [];
  for (let i = 0; i < rails.length; i++) out.push(...(await measureRail(rails[i]!, mtus[i]!, params, signal)));
  return out;
}
