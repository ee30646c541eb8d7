import { RdmaError } from '../errors.js';
import { printable } from '../report/printable.js';
import { checkCmPorts } from './wire-limits.js';
import type { Rail } from '../rails/types.js';
import { connectSession } from '../session/client.js';
import type { Channel } from '../session/channel.js';
import { DEFAULT_SESSION_PORT, type Mtu, type ProposeMessage } from '../session/protocol.js';
import { CmRailEndpoint } from '../verbs/cm-endpoint.js';
import { connectRail } from '../verbs/connect-rail.js';
import { RailEndpoint, type RailWire } from '../verbs/endpoint.js';
import type { RailSide } from '../verbs/rail-side.js';
import { cmPortFor, fromProtocolRail, placeholderRail, toProtocolRail } from '../verbs/wire.js';
import { pairingRails, pairRails, type RailPairing } from './rail-pairing.js';

/** What the client makes of a reject whose code is not one of REJECT_CODES. */
export const ERR_PEER_REJECTED = 'ERR_PEER_REJECTED';

/** The codes a spark-rdma server rejects a proposal with (lib/serve/validate-proposal.ts). */
const REJECT_CODES = new Set(['ERR_RDMA_INVALID_ARGUMENT', 'ERR_RDMA_MTU_MISMATCH', 'ERR_RDMA_NO_GID', 'ERR_RDMA_RAIL_MISMATCH']);

export interface ClientSessionOptions {
  peer: string;
  port?: number;
  connectTimeoutMs?: number;
  /** Deadline of each step that waits for the server (default 10 s). */
  peerTimeoutMs?: number;
  mtu?: number;
  /** Set when the rails come from a fixture sysfs tree (their subnets are then unknown). */
  sysfsRoot?: string;
}

/** The session options a run's options carry (the peer, its port, deadlines, the MTU). */
export function clientSessionOptions(
  o: { peer?: string; port?: number; connectTimeoutMs?: number; mtu?: number; sysfsRoot?: string },
  peerTimeoutMs: number,
): ClientSessionOptions {
  return {
    peer: o.peer!,
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    peerTimeoutMs,
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}),
  };
}

/** What the test needs once both sides' QPs are in RTS. */
export interface ConnectedClient {
  channel: Channel<'client'>;
  endpoints: RailSide[];
  /** The server's side of each rail, in rail order. */
  peers: RailWire[];
  mtu: number;
  /** Which server rail each of our rails met, in our rail order. */
  pairing: RailPairing[];
  close(): void;
}

/**
 * hello -> propose -> accept -> (open and connect our QPs) -> connect -> ready.
 * Each of our rails meets the server rail that can reach it (rail-pairing.ts). Every wait has
 * the peer deadline.
 */
export async function connectClient(
  options: ClientSessionOptions,
  rails: Rail[],
  proposal: Omit<ProposeMessage, 'type' | 'rails' | 'mtu'>,
  endpointShape: { regionBytes: number; txDepth: number; inlineBytes: number; cqs?: number },
): Promise<ConnectedClient> {
  const peerTimeoutMs = options.peerTimeoutMs ?? 10_000;
  if (proposal.cm) checkCmPorts(options.port ?? DEFAULT_SESSION_PORT, rails.length);
  const { channel, serverHello } = await connectSession({
    host: options.peer,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    handshakeTimeoutMs: peerTimeoutMs,
  });
  const endpoints: RailSide[] = [];
  const close = () => {
    for (const e of endpoints) {
      try {
        e.close();
      } catch {
        // closing is best effort here; the session is ending anyway
      }
    }
    channel.close();
  };
  try {
    if (serverHello.rails.length < rails.length) {
      throw new RdmaError(
        `this side uses ${rails.length} rail(s) but the server at ${options.peer} has ${serverHello.rails.length} (${serverHello.rails.map((r) => r.device).join(', ') || 'none'})`,
        { code: 'ERR_RDMA_RAIL_MISMATCH', hint: `pass --rails ${serverHello.rails.length} or bring up the server's other rails` },
      );
    }
    const pairing = pairRails(pairingRails(rails, options.sysfsRoot), serverHello.rails, options.peer);
    const serverRails = pairing.map((p) => serverHello.rails.find((r) => r.index === p.peerRail)!);
    const mtu = options.mtu ?? Math.min(...rails.map((r) => r.activeMtu), ...serverRails.map((r) => r.activeMtu));
    channel.send({ type: 'propose', ...proposal, rails: serverRails.map((r) => r.index), mtu: mtu as Mtu });
    const answer = await channel.receive(['accept', 'reject'], peerTimeoutMs);
    if (answer.type === 'reject') {
      // The peer's code becomes ours only when it is one a server sends for a reason we know.
      const known = REJECT_CODES.has(answer.code);
      throw new RdmaError(`the server refused the test${known ? '' : ` (${answer.code})`}: ${printable(answer.message)}`, {
        code: known ? answer.code : ERR_PEER_REJECTED,
        ...(answer.hint !== undefined ? { hint: printable(answer.hint) } : {}),
      });
    }
    let peers: RailWire[];
    if (proposal.cm) {
      // The server listens on each of its rails; connect rail i to server rail i with rdma_cm.
      const port = options.port ?? DEFAULT_SESSION_PORT;
      for (const [i, rail] of rails.entries()) {
        const server = serverRails[i]!;
        if (server.ipv4 === null || rail.ipv4 === null) {
          throw new RdmaError(`rail ${i} (${rail.device}) or the server's ${server.device} has no IPv4 address for rdma_cm`, { code: 'ERR_RDMA_NO_GID' });
        }
        endpoints.push(
          await CmRailEndpoint.connect(
            { device: rail.device, qps: proposal.qps, ...endpointShape, timeoutMs: peerTimeoutMs },
            server.ipv4,
            cmPortFor(port, i),
            rail.ipv4,
          ),
        );
      }
      peers = (endpoints as CmRailEndpoint[]).map((e) => e.peerWire());
      channel.send({ type: 'connect', rails: rails.map((rail, i) => placeholderRail(serverRails[i]!.index, rail, mtu, proposal.qps)) });
    } else {
      peers = answer.rails.map(fromProtocolRail);
      for (const [i, rail] of rails.entries()) {
        const endpoint = RailEndpoint.open({
          device: rail.device,
          port: rail.port,
          gidIndex: rail.gidIndex!,
          mtu,
          qps: proposal.qps,
          ...endpointShape,
        });
        endpoints.push(endpoint);
        connectRail(endpoint, peers[i]!, { position: i, device: rail.device, netdev: rail.netdev, peerRole: 'server', peerIndex: serverRails[i]!.index });
      }
      channel.send({ type: 'connect', rails: endpoints.map((e, i) => toProtocolRail(serverRails[i]!.index, e.wire())) });
    }
    await channel.receive(['ready'], peerTimeoutMs);
    return { channel, endpoints, peers, mtu, pairing, close };
  } catch (err) {
    if (err instanceof RdmaError && !channel.closed && err.code !== 'ERR_PEER_CLOSED') {
      channel.fail({ code: err.code, message: err.message, hint: err.hint });
    }
    close();
    throw err;
  }
}
