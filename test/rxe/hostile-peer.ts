// A session client assembled by hand from the library's pieces, so a test can break exactly one
// rule of the protocol (a wrong rkey, a finish too early, a TCP close mid-run) against the real
// server running in the same process on rxe0/rxe1.
import { discoverRails } from '../../lib/rails/discover.js';
import type { Rail } from '../../lib/rails/types.js';
import { serve, type SparkServer } from '../../lib/serve/index.js';
import type { Channel } from '../../lib/session/channel.js';
import { connectSession } from '../../lib/session/client.js';
import type { AcceptMessage, Mtu, ProposeMessage } from '../../lib/session/protocol.js';
import { RailEndpoint, type RailWire } from '../../lib/verbs/endpoint.js';
import { fromProtocolRail, toProtocolRail } from '../../lib/verbs/wire.js';

export interface InProcessServer {
  server: SparkServer;
  logs: string[];
  /** The rails' addresses, rail order. */
  addresses: string[];
  rails: Rail[];
}

export async function startInProcessServer(port: number, peerTimeoutMs: number): Promise<InProcessServer> {
  const logs: string[] = [];
  const server = await serve({ port, peerTimeoutMs, log: (line) => logs.push(line) });
  const rails = discoverRails();
  return { server, logs, rails, addresses: rails.map((r) => r.ipv4!) };
}

export function proposal(rails: Rail[], overrides: Partial<ProposeMessage>): ProposeMessage {
  return {
    type: 'propose',
    test: 'bw',
    rails: [0],
    qps: 1,
    sizes: [65536],
    txDepth: 64,
    postList: 1,
    signalEvery: 16,
    inlineThreshold: 0,
    durationMs: 2000,
    warmupMs: 0,
    bidir: false,
    cm: false,
    mtu: rails[0]!.activeMtu as Mtu,
    ...overrides,
  };
}

export interface HandClient {
  channel: Channel<'client'>;
  endpoints: RailEndpoint[];
  peers: RailWire[];
  close(): void;
}

/**
 * hello, propose, accept, open one endpoint per proposed rail (client rail i = server rail i),
 * connect (after `tamper` may change what we announce), ready.
 */
export async function handClient(
  host: string,
  port: number,
  rails: Rail[],
  propose: ProposeMessage,
  tamper: (announced: ReturnType<typeof toProtocolRail>[]) => void = () => undefined,
): Promise<HandClient> {
  const { channel } = await connectSession({ host, port, handshakeTimeoutMs: 20_000 });
  const endpoints: RailEndpoint[] = [];
  const close = () => {
    channel.close();
    for (const e of endpoints) e.close();
  };
  try {
    channel.send(propose);
    const accept = (await channel.receive(['accept'], 20_000)) as AcceptMessage;
    const peers = accept.rails.map(fromProtocolRail);
    propose.rails.forEach((index, i) => {
      const rail = rails[index]!;
      const endpoint = RailEndpoint.open({
        device: rail.device,
        port: rail.port,
        gidIndex: rail.gidIndex!,
        mtu: propose.mtu!,
        qps: propose.test === 'lat' ? 1 : propose.qps,
        regionBytes: Math.max(...propose.sizes),
        txDepth: propose.test === 'lat' ? 64 : propose.txDepth,
        inlineBytes: propose.inlineThreshold,
      });
      endpoints.push(endpoint);
      endpoint.connect(peers[i]!);
    });
    const announced = endpoints.map((e, i) => toProtocolRail(propose.rails[i]!, e.wire()));
    tamper(announced);
    channel.send({ type: 'connect', rails: announced });
    await channel.receive(['ready'], 20_000);
    return { channel, endpoints, peers, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Whether the server takes a new session now: a full hello exchange, then bye. */
export async function serverServes(host: string, port: number): Promise<boolean> {
  const { channel } = await connectSession({ host, port, handshakeTimeoutMs: 20_000 });
  channel.send({ type: 'bye' });
  channel.close();
  return true;
}
