import { measureSize, type MeasuredSize, type RailWriter } from '../bandwidth/measure.js';
import type { BandwidthParams } from '../bandwidth/options.js';
import { resetRegions, respond, type PingPong } from '../latency/ping-pong.js';
import type { Rail } from '../rails/types.js';
import type { Channel } from '../session/channel.js';
import type { ProposeMessage } from '../session/protocol.js';
import { CmRailEndpoint } from '../verbs/cm-endpoint.js';
import { RailEndpoint, type RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import { cmPortFor, fromProtocolRail, placeholderRail, toProtocolRail } from '../verbs/wire.js';
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
    txDepth: p.txDepth,
    postList: p.postList,
    signalEvery: p.signalEvery,
    inlineThreshold: p.inlineThreshold,
    ...(p.iterations !== undefined ? { iterations: p.iterations } : { durationMs: p.durationMs! }),
    warmupMs: p.warmupMs,
    intervalMs: 1000,
    bidir: p.bidir,
    cm: p.cm,
    completionTimeoutMs: 5000,
  };
}

/**
 * One client's session on the server: validate the proposal against our devices, open our
 * side (registering only the benchmark regions, remote write only on the targets), connect,
 * then follow the client's start/finish barriers until bye.
 */
export async function serveSession(channel: Channel<'server'>, o: ServerSessionOptions): Promise<void> {
  const proposal = await channel.receive(['propose'], o.peerTimeoutMs);
  const problem = proposalProblem(proposal, o.rails);
  if (problem) {
    channel.send({ type: 'reject', ...problem });
    o.log(`rejected ${channel.peer}: ${problem.message}`);
    await channel.receive(['bye'], o.peerTimeoutMs).catch(() => undefined);
    return;
  }
  const rails = proposal.rails.map((i) => o.rails[i]!);
  const mtu = proposal.mtu ?? Math.min(...rails.map((r) => r.activeMtu));
  const endpoints: RailSide[] = [];
  let peers: RailWire[];
  let clientDevices: string[] = [];
  const shape = {
    qps: proposal.test === 'lat' ? 1 : proposal.qps,
    regionBytes: Math.max(...proposal.sizes),
    txDepth: proposal.test === 'lat' ? 64 : proposal.txDepth,
    inlineBytes: proposal.inlineThreshold,
  };
  try {
    if (proposal.cm) {
      // Listen on every rail first, then tell the client where; it connects, we accept.
      const accepting = rails.map((rail, i) =>
        CmRailEndpoint.accept({ device: rail.device, ...shape, timeoutMs: o.peerTimeoutMs }, rail.ipv4!, cmPortFor(o.sessionPort, i)),
      );
      channel.send({ type: 'accept', rails: rails.map((rail, i) => placeholderRail(proposal.rails[i]!, rail, mtu, shape.qps)) });
      const settled = await Promise.allSettled(accepting);
      for (const x of settled) if (x.status === 'fulfilled') endpoints.push(x.value);
      const failed = settled.find((x) => x.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      clientDevices = (await channel.receive(['connect'], o.peerTimeoutMs)).rails.map((r) => r.device);
      peers = (endpoints as CmRailEndpoint[]).map((e) => e.peerWire());
    } else {
      for (const rail of rails) {
        endpoints.push(RailEndpoint.open({ device: rail.device, port: rail.port, gidIndex: rail.gidIndex!, mtu, ...shape }));
      }
      channel.send({ type: 'accept', rails: endpoints.map((e, i) => toProtocolRail(proposal.rails[i]!, e.wire())) });
      const connect = await channel.receive(['connect'], o.peerTimeoutMs);
      peers = connect.rails.map(fromProtocolRail);
      clientDevices = connect.rails.map((r) => r.device);
      endpoints.forEach((e, i) => (e as RailEndpoint).connect(peers[i]!));
    }
    channel.send({ type: 'ready' });
    // Which of our rails each client rail met (the client pairs them by subnet).
    const pairs = rails.map((r, i) => `client ${clientDevices[i] ?? '?'} -> ${r.device} (${r.netdev} ${r.ipv4 ?? 'no IPv4'})`);
    o.log(`${channel.peer}: ${proposal.test} on ${rails.map((r) => r.device).join(', ')}, ${proposal.qps} QP(s), MTU ${mtu}${proposal.cm ? ', rdma_cm' : ''}; pairing: ${pairs.join(', ')}`);

    const params = bandwidthParams(proposal);
    const runMs = (proposal.durationMs ?? 0) + proposal.warmupMs;
    for (;;) {
      const next = await channel.receive(['start', 'bye'], o.peerTimeoutMs);
      if (next.type === 'bye') return;
      const size = next.size;
      if (proposal.test === 'bw') {
        let own: Promise<MeasuredSize> | null = null;
        if (proposal.bidir) {
          const writers: RailWriter[] = endpoints.map((endpoint, i) => ({ rail: rails[i]!, mtu, endpoint, peer: peers[i]! }));
          own = measureSize(writers, params, size, () => undefined, channel.signal, o.sysfsRoot);
        }
        channel.send({ type: 'started' });
        // Iteration runs have no known length: allow a generous idle deadline for the finish.
        const finish = await channel.receive(['finish'], o.peerTimeoutMs + (runMs > 0 ? runMs : 3_600_000));
        const measured = own ? await own : null;
        channel.send({
          type: 'finished',
          size: finish.size,
          counters: measured ? { rails: measured.rails.map((r, i) => ({ rail: i, gbps: r.gbps, bytes: r.bytes, seconds: r.seconds })) } : null,
        });
      } else {
        endpoints.forEach(resetRegions);
        // The responder follows the client until stopped: the client may run rails one by one.
        const follow = { inlineThreshold: proposal.inlineThreshold, peerTimeoutMs: 3_600_000 };
        const responders: PingPong[] = endpoints.map((e, i) => respond(e, peers[i]!, size, follow, channel.signal));
        channel.send({ type: 'started' });
        const finish = await channel.receive(['finish'], o.peerTimeoutMs + (runMs > 0 ? runMs : 3_600_000)).finally(() => {
          responders.forEach((r) => r.stop());
        });
        const outcomes = await Promise.allSettled(responders.map((r) => r.done));
        const failed = outcomes.find((x) => x.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
        channel.send({ type: 'finished', size: finish.size, counters: null });
      }
    }
  } finally {
    for (const e of endpoints) e.close();
  }
}
