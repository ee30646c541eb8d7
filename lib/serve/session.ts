import { DEFAULT_ENGINE_NICE, type BandwidthParams } from '../bandwidth/options.js';
import type { Rail } from '../rails/types.js';
import type { Channel } from '../session/channel.js';
import type { ProposeMessage } from '../session/protocol.js';
import type { RailSide } from '../verbs/rail-side.js';
import { railTrafficMoves } from '../counters/traffic-moves.js';
import { closeEach, SessionEngines } from './engines.js';
import { openServerRails } from './open-rails.js';
import { serveBandwidthSize, serveLatencySize } from './run-size.js';
import { proposalProblem } from './validate-proposal.js';

export interface ServerSessionOptions {
  rails: Rail[];
  sysfsRoot?: string;
  log: (line: string) => void;
  /** Deadline for each client step that is not a timed run (default 10 s). */
  peerTimeoutMs: number;
  /** The session's TCP port: rdma_cm listens on the ports after it, one per rail. */
  sessionPort: number;
}

function bandwidthParams(p: ProposeMessage): BandwidthParams {
  return {
    sizes: p.sizes,
    qps: p.qps,
    // The server only writes in bidirectional runs, from one thread per rail.
    threads: 1,
    txDepth: p.txDepth,
    postList: p.postList,
    signalEvery: p.signalEvery,
    inlineThreshold: p.inlineThreshold,
    ...(p.iterations !== undefined ? { iterations: p.iterations } : { durationMs: p.durationMs! }),
    warmupMs: p.warmupMs,
    intervalMs: 1000,
    bidir: p.bidir,
    cm: p.cm,
    // The server's own engine (bidirectional runs) polls; --events is the client's choice for its side.
    events: false,
    engineNice: DEFAULT_ENGINE_NICE,
    completionTimeoutMs: 5000,
  };
}

/**
 * One client's session on the server: validate the proposal against our devices, open our
 * side (registering only the benchmark regions, remote write only on the targets), connect,
 * then follow the client's start/finish barriers until bye. On every way out the engines stop
 * and are awaited before any endpoint closes; close errors never replace the session's error.
 */
export async function serveSession(channel: Channel<'server'>, o: ServerSessionOptions): Promise<void> {
  const first = await channel.receive(['propose', 'bye'], o.peerTimeoutMs);
  // hello then bye is how a client checks that a server answers (the protocol allows it).
  if (first.type === 'bye') return;
  const proposal = first;
  const problem = proposalProblem(proposal, o.rails);
  if (problem) {
    channel.send({ type: 'reject', ...problem });
    o.log(`rejected ${channel.peer}: ${problem.message}`);
    await channel.receive(['bye'], o.peerTimeoutMs).catch(() => undefined);
    return;
  }
  const rails = proposal.rails.map((i) => o.rails[i]!);
  const endpoints: RailSide[] = [];
  const engines = new SessionEngines();
  let failure: { error: unknown } | null = null;
  try {
    await runSession(channel, o, proposal, rails, endpoints, engines);
  } catch (error) {
    failure = { error };
  }
  await engines.stopAll();
  const closeErrors = closeEach(endpoints);
  if (failure) {
    for (const err of closeErrors) o.log(`${channel.peer}: closing the rails after the session failed: ${err instanceof Error ? err.message : String(err)}`);
    throw failure.error;
  }
  if (closeErrors.length > 0) throw closeErrors[0];
}

async function runSession(
  channel: Channel<'server'>,
  o: ServerSessionOptions,
  proposal: ProposeMessage,
  rails: Rail[],
  endpoints: RailSide[],
  engines: SessionEngines,
): Promise<void> {
  const mtu = proposal.mtu ?? Math.min(...rails.map((r) => r.activeMtu));
  const shape = {
    qps: proposal.test === 'lat' ? 1 : proposal.qps,
    regionBytes: Math.max(...proposal.sizes),
    txDepth: proposal.test === 'lat' ? 64 : proposal.txDepth,
    inlineBytes: proposal.inlineThreshold,
  };
  const { peers, clientDevices } = await openServerRails(channel, proposal, rails, mtu, shape, o, endpoints);
  channel.send({ type: 'ready' });
  // Which of our rails each client rail met (the client pairs them by subnet).
  const pairs = rails.map((r, i) => `client ${clientDevices[i] ?? '?'} -> ${r.device} (${r.netdev} ${r.ipv4 ?? 'no IPv4'})`);
  o.log(`${channel.peer}: ${proposal.test} on ${rails.map((r) => r.device).join(', ')}, ${proposal.qps} QP(s), MTU ${mtu}${proposal.cm ? ', rdma_cm' : ''}; pairing: ${pairs.join(', ')}`);

  const params = bandwidthParams(proposal);
  const runMs = (proposal.durationMs ?? 0) + proposal.warmupMs;
  // A timed run ends on its own; an iteration run has no known length. Either way the client
  // is given up on once it is silent AND its rails carry no traffic for the peer deadline.
  const stillProgressing = railTrafficMoves(rails, o.sysfsRoot);
  const receiveFinish = () => channel.receive(['finish'], o.peerTimeoutMs + runMs, { stillProgressing });
  const size = { channel, proposal, rails, endpoints, peers, mtu, engines, receiveFinish, sysfsRoot: o.sysfsRoot };
  for (;;) {
    const next = await channel.receive(['start', 'bye'], o.peerTimeoutMs);
    if (next.type === 'bye') return;
    if (proposal.test === 'bw') await serveBandwidthSize(size, params, next.size);
    else await serveLatencySize(size, next.size, next.rails);
  }
}
