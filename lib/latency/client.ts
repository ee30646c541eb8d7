import { RdmaError } from '../errors.js';
import { serverEndedSession } from '../run/server-ended.js';
import type { Rail } from '../rails/types.js';
import { clientSessionOptions, connectClient } from '../run/client-session.js';
import type { RailPairing } from '../run/rail-pairing.js';
import type { LatencyOptions, LatencyParams } from './options.js';
import { initiate, resetRegions } from './ping-pong.js';
import { railLatency, type RailLatency } from './result.js';

/** What a client run measured; `sessionError` when the session broke after something was measured. */
export interface ClientLatency {
  rails: RailLatency[];
  sessionError?: RdmaError;
  /** Which server rail each rail met. */
  pairing: RailPairing[];
}

/**
 * The client side of a two-node latency run. Per size, rail by rail: a start barrier naming the
 * rail (the server resets its region and answers on that rail alone), our initiator, a finish
 * (the server stops answering). With `concurrent`, one start and finish for all rails at once.
 */
export async function runLatencyClient(
  options: LatencyOptions,
  rails: Rail[],
  _mtus: number[],
  params: LatencyParams,
  signal: AbortSignal,
  onRail: (r: RailLatency) => void = () => undefined,
): Promise<ClientLatency> {
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
  const out: RailLatency[] = [];
  try {
    for (const size of params.sizes) {
      if (stop.aborted) break;
      // The server gone (before or after 'started'), our writes end in a completion error too:
      // name the cause and the size, not the symptom.
      const peerClosed = (detail?: string) => serverEndedSession(options.peer!, size, channel.signal, detail);
      // A start barrier for the given rails (all when absent): the server resets their regions
      // and answers on them alone until our finish.
      const startBarrier = async (timed?: number[]) => {
        for (const i of timed ?? endpoints.keys()) resetRegions(endpoints[i]!);
        channel.send({ type: 'start', size, ...(timed ? { rails: timed } : {}) });
        await channel.receive(['started'], peerTimeoutMs).catch((err: unknown) => {
          throw channel.closed ? peerClosed() : err;
        });
      };
      const finishBarrier = async () => {
        if (channel.signal.aborted) throw peerClosed();
        channel.send({ type: 'finish', size, counters: null });
        await channel.receive(['finished'], peerTimeoutMs);
      };
      // A rail stopped before its first timed sample has nothing to report.
      const measureRail = (i: number) =>
        initiate(endpoints[i]!, peers[i]!, size, params, stop).done.then(
          (raw) => {
            if (raw.samplesNs.length === 0 && !raw.histogram) return [];
            const measured = railLatency(rails[i]!, size, raw);
            onRail(measured);
            return [measured];
          },
          (err: unknown) => {
            throw channel.signal.aborted ? peerClosed(err instanceof Error ? err.message : String(err)) : err;
          },
        );
      if (params.concurrent) {
        await startBarrier();
        // Keep every rail that finished even when another failed.
        const settled = await Promise.allSettled(rails.map((_, i) => measureRail(i)));
        for (const s of settled) if (s.status === 'fulfilled') out.push(...s.value);
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
        await finishBarrier();
      } else {
        for (let i = 0; i < rails.length && !stop.aborted; i++) {
          await startBarrier([i]);
          out.push(...(await measureRail(i)));
          await finishBarrier();
        }
      }
    }
    if (!channel.closed) channel.send({ type: 'bye' });
    return { rails: out, pairing: session.pairing };
  } catch (err) {
    if (err instanceof RdmaError && !channel.closed && err.code !== 'ERR_PEER_CLOSED') {
      channel.fail({ code: err.code, message: err.message, hint: err.hint });
    }
    // Once something was measured, a session that breaks keeps it: the caller reports both.
    if (out.length === 0 || !(err instanceof RdmaError)) throw err;
    return { rails: out, sessionError: err, pairing: session.pairing };
  } finally {
    session.close();
  }
}
