import { RdmaError } from '../errors.js';
import type { Rail } from '../rails/types.js';
import { clientSessionOptions, connectClient } from '../run/client-session.js';
import type { LatencyOptions, LatencyParams } from './options.js';
import { pingPong, resetRegions } from './ping-pong.js';
import { railLatency, type RailLatency } from './result.js';

/**
 * The client side of a two-node latency run. Per size: start barrier (the server resets its
 * regions and starts following), our initiators on each rail (one by one, or all at once with
 * `concurrent`), then finish (the server stops following).
 */
export async function runLatencyClient(
  options: LatencyOptions,
  rails: Rail[],
  _mtus: number[],
  params: LatencyParams,
  signal: AbortSignal,
): Promise<RailLatency[]> {
  const peerTimeoutMs = options.peerTimeoutMs ?? 10_000;
  const session = await connectClient(
    clientSessionOptions(options, peerTimeoutMs),
    rails,
    {
      test: 'lat',
      qps: 1,
      sizes: params.sizes,
      txDepth: 64,
      postList: 1,
      signalEvery: 1,
      inlineThreshold: params.inlineThreshold,
      ...(params.iterations !== undefined ? { iterations: params.iterations } : { durationMs: params.durationMs! }),
      warmupMs: 0,
      bidir: false,
      cm: params.cm,
    },
    { regionBytes: Math.max(...params.sizes), txDepth: 64, inlineBytes: params.inlineThreshold },
  );
  const { channel, endpoints, peers } = session;
  const stop = AbortSignal.any([signal, channel.signal]);
  try {
    const out: RailLatency[] = [];
    for (const size of params.sizes) {
      if (stop.aborted) break;
      endpoints.forEach(resetRegions);
      channel.send({ type: 'start', size });
      await channel.receive(['started'], peerTimeoutMs);
      const measureRail = (i: number) => pingPong(endpoints[i]!, peers[i]!, size, params, 'initiator', stop).done.then((raw) => railLatency(rails[i]!, size, raw));
      if (params.concurrent) {
        out.push(...(await Promise.all(rails.map((_, i) => measureRail(i)))));
      } else {
        for (let i = 0; i < rails.length; i++) out.push(await measureRail(i));
      }
      if (channel.signal.aborted) {
        throw new RdmaError(`the server at ${options.peer} ended the session during size ${size}`, { code: 'ERR_PEER_CLOSED' });
      }
      channel.send({ type: 'finish', size, counters: null });
      await channel.receive(['finished'], peerTimeoutMs);
    }
    if (!channel.closed) channel.send({ type: 'bye' });
    return out;
  } catch (err) {
    if (err instanceof RdmaError && !channel.closed && err.code !== 'ERR_PEER_CLOSED') {
      channel.fail({ code: err.code, message: err.message, hint: err.hint });
    }
    throw err;
  } finally {
    session.close();
  }
}
