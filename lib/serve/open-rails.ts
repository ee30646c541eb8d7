import type { Rail } from '../rails/types.js';
import type { Channel } from '../session/channel.js';
import type { ProposeMessage } from '../session/protocol.js';
import { CmRailEndpoint } from '../verbs/cm-endpoint.js';
import { connectRail } from '../verbs/connect-rail.js';
import { RailEndpoint, type RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import { cmPortFor, fromProtocolRail, placeholderRail, toProtocolRail } from '../verbs/wire.js';

export interface EndpointShape {
  qps: number;
  regionBytes: number;
  txDepth: number;
  inlineBytes: number;
}

/**
 * The server's side of accept -> connect -> (QPs up): pushes every endpoint it opens onto
 * `endpoints` as soon as it exists, so the caller closes them on every path, and returns the
 * client's side of each rail.
 */
export async function openServerRails(
  channel: Channel<'server'>,
  proposal: ProposeMessage,
  rails: Rail[],
  mtu: number,
  shape: EndpointShape,
  o: { peerTimeoutMs: number; sessionPort: number },
  endpoints: RailSide[],
): Promise<{ peers: RailWire[]; clientDevices: string[] }> {
  if (proposal.cm) {
    // Listen on every rail first (accept() listens before its first await), then tell the
    // client where. allSettled observes every accept at once: none can reject unhandled, even
    // when the send below throws (the client broke the protocol) and we wait them out.
    const settling = Promise.allSettled(
      rails.map((rail, i) => CmRailEndpoint.accept({ device: rail.device, ...shape, timeoutMs: o.peerTimeoutMs }, rail.ipv4!, cmPortFor(o.sessionPort, i))),
    );
    const keep = (settled: PromiseSettledResult<CmRailEndpoint>[]) => {
      for (const x of settled) if (x.status === 'fulfilled') endpoints.push(x.value);
      const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      channel.send({ type: 'accept', rails: rails.map((rail, i) => placeholderRail(proposal.rails[i]!, rail, mtu, shape.qps)) });
    } catch (err) {
      // rdma_cm waits cannot be cancelled: they end at their deadline; then close what came up.
      const settled = await settling;
      for (const x of settled) if (x.status === 'fulfilled') endpoints.push(x.value);
      throw err;
    }
    keep(await settling);
    const connect = await channel.receive(['connect'], o.peerTimeoutMs);
    return { peers: (endpoints as CmRailEndpoint[]).map((e) => e.peerWire()), clientDevices: connect.rails.map((r) => r.device) };
  }
  for (const rail of rails) {
    endpoints.push(RailEndpoint.open({ device: rail.device, port: rail.port, gidIndex: rail.gidIndex!, mtu, ...shape }));
  }
  channel.send({ type: 'accept', rails: endpoints.map((e, i) => toProtocolRail(proposal.rails[i]!, e.wire())) });
  const connect = await channel.receive(['connect'], o.peerTimeoutMs);
  const peers = connect.rails.map(fromProtocolRail);
  endpoints.forEach((e, i) =>
    connectRail(e as RailEndpoint, peers[i]!, { position: proposal.rails[i]!, device: rails[i]!.device, netdev: rails[i]!.netdev, peerRole: 'client' }),
  );
  return { peers, clientDevices: connect.rails.map((r) => r.device) };
}
