import { railTrafficMoves } from '../counters/traffic-moves.js';
import { RdmaError } from '../errors.js';
import type { Rail } from '../rails/types.js';
import { clientSessionOptions, connectClient } from '../run/client-session.js';
import { describePairing } from '../run/rail-pairing.js';
import { serverEndedSession } from '../run/server-ended.js';
import { measureSize, type RailWriter } from './measure.js';
import type { BandwidthOptions, BandwidthParams } from './options.js';
import type { RunContext } from './run.js';
import { parsePeerCounters, type PeerCounters } from './peer-counters.js';
import { foldPeer, type LoopbackOrClient } from './sizes.js';

/** The client side of a two-node bandwidth run: one start/finish barrier pair per size. */
export async function runClientSizes(
  options: BandwidthOptions,
  rails: Rail[],
  _mtus: number[],
  params: BandwidthParams,
  ctx: RunContext,
): Promise<LoopbackOrClient> {
  const peerTimeoutMs = options.peerTimeoutMs ?? 10_000;
  const session = await connectClient(
    clientSessionOptions(options, peerTimeoutMs),
    rails,
    {
      test: 'bw',
      qps: params.qps,
      sizes: params.sizes,
      txDepth: params.txDepth,
      postList: params.postList,
      signalEvery: params.signalEvery,
      inlineThreshold: params.inlineThreshold,
      ...(params.iterations !== undefined ? { iterations: params.iterations } : { durationMs: params.durationMs! }),
      warmupMs: params.warmupMs,
      bidir: params.bidir,
      cm: params.cm,
    },
    { regionBytes: Math.max(...params.sizes), txDepth: params.txDepth, inlineBytes: params.inlineThreshold, cqs: params.threads },
  );
  ctx.emitProgress(`connected to ${options.peer}: ${rails.length} rail(s), ${params.qps} QP(s) each, MTU ${session.mtu}; ${session.pairing.map(describePairing).join(', ')}`);
  const pairing = session.pairing;
  // What the QPs really use: the smaller of both ports' MTUs (or rdma_cm's), not this side's plan.
  const mtus = session.endpoints.map((e) => e.qps[0]?.pathMtu ?? session.mtu);
  const { channel } = session;
  const sizes: LoopbackOrClient['sizes'] = [];
  try {
    const runSeconds = (params.durationMs ?? 0) / 1000 + params.warmupMs / 1000;
    for (const size of params.sizes) {
      if (ctx.signal.aborted) break;
      channel.send({ type: 'start', size });
      await channel.receive(['started'], peerTimeoutMs);
      if (ctx.signal.aborted) {
        // Stopped while the server started: end its size (and its engines) without starting ours.
        channel.send({ type: 'finish', size, counters: { stopped: true } });
        await channel.receive(['finished'], peerTimeoutMs);
        break;
      }
      const writers: RailWriter[] = session.endpoints.map((endpoint, i) => ({ rail: rails[i]!, mtu: session.mtu, endpoint, peer: session.peers[i]! }));
      // If the server dies mid-run our QPs fail with retry-exceeded; if its TCP side dies
      // first, the channel's signal tells us and we stop at once.
      const onPeerGone = () => ctx.emitProgress('the server closed the session during the run');
      channel.signal.addEventListener('abort', onPeerGone, { once: true });
      const stopBoth = AbortSignal.any([ctx.signal, channel.signal]);
      const measured = await measureSize(writers, params, size, ctx.emitSample, stopBoth, options.sysfsRoot);
      channel.signal.removeEventListener('abort', onPeerGone);
      if (channel.signal.aborted) {
        if (measured.rails.length + measured.failures.length > 0) sizes.push(measured);
        throw serverEndedSession(options.peer!, size, channel.signal);
      }
      // `stopped` tells the server to stop its own engines of a bidirectional size too.
      const counters = { rails: measured.rails.map((r) => ({ rail: r.rail, gbps: r.gbps, bytes: r.bytes, seconds: r.seconds })), stopped: ctx.signal.aborted };
      channel.send({ type: 'finish', size, counters });
      // A rail that failed mid-run may mean the server is gone (a peer that lost power sends no
      // RST): wait only the peer deadline then, and keep what was measured if it never answers.
      // In bidirectional runs the server may still be writing its iterations: while its writes
      // arrive (our rails' counters move), that is not silence.
      const railsFailed = measured.failures.length > 0;
      const progress = params.bidir && !railsFailed ? { stillProgressing: railTrafficMoves(rails, options.sysfsRoot) } : {};
      const finished = await channel.receive(['finished'], railsFailed ? peerTimeoutMs : peerTimeoutMs + Math.ceil(runSeconds * 1000), progress).catch((err: unknown) => {
        sizes.push(measured);
        throw err;
      });
      let theirs: PeerCounters | null;
      try {
        theirs = parsePeerCounters(finished.counters);
      } catch (err) {
        // Our own figures of this size are good: keep them next to the server's bad ones.
        sizes.push(measured);
        throw err;
      }
      sizes.push(params.bidir ? foldPeer(measured, theirs, rails) : measured);
    }
    if (!channel.closed) channel.send({ type: 'bye' });
    return { sizes, pairing, mtus };
  } catch (err) {
    // Once something was measured, a session that breaks keeps it: the caller reports both.
    if (sizes.length === 0 || !(err instanceof RdmaError)) throw err;
    return { sizes, sessionError: err, pairing, mtus };
  } finally {
    session.close();
  }
}
