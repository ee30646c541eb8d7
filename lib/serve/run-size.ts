// One size of a server session, from 'start' to 'finished'. Every engine started here is
// tracked by the session's SessionEngines, which stops and awaits it on any way out.
import { peerCountersOf } from '../bandwidth/peer-counters.js';
import { measureSize, type RailWriter } from '../bandwidth/measure.js';
import type { BandwidthParams } from '../bandwidth/options.js';
import { resetRegions, respond } from '../latency/ping-pong.js';
import type { Rail } from '../rails/types.js';
import type { Channel } from '../session/channel.js';
import type { FinishMessage, ProposeMessage } from '../session/protocol.js';
import type { RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import { isPlainObject } from '../session/schema.js';
import type { SessionEngines } from './engines.js';

export interface SizeContext {
  channel: Channel<'server'>;
  proposal: ProposeMessage;
  rails: Rail[];
  endpoints: RailSide[];
  peers: RailWire[];
  mtu: number;
  engines: SessionEngines;
  /** Waits for the client's finish: the deadline bounds silence without progress. */
  receiveFinish: () => Promise<FinishMessage>;
  sysfsRoot: string | undefined;
}

/** A bandwidth size: in bidirectional runs our engines write too, until the client's finish. */
export async function serveBandwidthSize(c: SizeContext, params: BandwidthParams, size: number): Promise<void> {
  let own: Promise<Awaited<ReturnType<typeof measureSize>>> | null = null;
  // A client stopped early (Ctrl-C) says so in its finish: our engines stop then too. Otherwise
  // they end on their own (the same duration, or the same iteration count).
  const clientStopped = new AbortController();
  if (c.proposal.bidir) {
    const writers: RailWriter[] = c.endpoints.map((endpoint, i) => ({ rail: c.rails[i]!, mtu: c.mtu, endpoint, peer: c.peers[i]! }));
    const stop = AbortSignal.any([c.channel.signal, clientStopped.signal]);
    own = c.engines.track(() => clientStopped.abort(), measureSize(writers, params, size, () => undefined, stop, c.sysfsRoot));
  }
  c.channel.send({ type: 'started' });
  const finish = await c.receiveFinish();
  if (isPlainObject(finish.counters) && finish.counters['stopped'] === true) clientStopped.abort();
  const measured = own ? await own : null;
  c.channel.send({ type: 'finished', size: finish.size, counters: measured ? { ...peerCountersOf(measured, c.rails) } : null });
}

/**
 * A latency size: a responder on each timed rail answers the client's pings until the client's
 * finish. `timed` names the rails (all when absent): a client timing rails one by one starts
 * each alone, so no idle responder spins beside the timed one (on a one-core node it would take
 * the CPU the timed rail's responder needs).
 */
export async function serveLatencySize(c: SizeContext, size: number, timed?: number[]): Promise<void> {
  const railIndices = timed ?? c.endpoints.map((_, i) => i);
  for (const i of railIndices) resetRegions(c.endpoints[i]!);
  // The responder follows the client until stopped (the client's finish), however long it times.
  const follow = { inlineThreshold: c.proposal.inlineThreshold, silenceTimeoutMs: 3_600_000 };
  const responders = railIndices.map((i) => respond(c.endpoints[i]!, c.peers[i]!, size, follow, c.channel.signal));
  for (const r of responders) c.engines.track(r.stop, r.done);
  // A responder that fails (a completion error) ends the size at once, with its own error.
  const failed = new Promise<never>((_, reject) => {
    for (const r of responders) r.done.catch(reject);
  });
  const finishing = c.receiveFinish();
  // Whichever loses the race still settles later (the channel closes, a responder is stopped).
  finishing.catch(() => undefined);
  failed.catch(() => undefined);
  c.channel.send({ type: 'started' });
  let finish: FinishMessage;
  try {
    finish = await Promise.race([finishing, failed]);
  } finally {
    for (const r of responders) r.stop();
  }
  const outcomes = await Promise.allSettled(responders.map((r) => r.done));
  const failure = outcomes.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failure) throw failure.reason;
  c.channel.send({ type: 'finished', size: finish.size, counters: null });
}
