// One rail of a client run against a stock perftest server: connect, prelude, open our side of
// the rail with the endpoint the session layer uses, trade keys, bring the QPs up. What comes
// out is the same RailSide + RailWire pair the engines take from our own protocol.
import { RdmaError } from '../errors.js';
import type { Rail } from '../rails/types.js';
import { RailEndpoint, type RailWire } from '../verbs/endpoint.js';
import { confirmConnected, exchangeKeys, keyOf, peerWire, prelude, type Prelude } from './handshake.js';
import { connectPerftest, ExactStream } from './stream.js';
import type { KeyMessage } from './wire.js';

export type PerftestTest = 'bw' | 'lat';

export const PERFTEST_TOOL: Record<PerftestTest, string> = { bw: 'ib_write_bw', lat: 'ib_write_lat' };

export interface PerftestRailShape {
  qps: number;
  /** The largest message; the region is at least this and the negotiated cycle buffer. */
  size: number;
  txDepth: number;
  inlineBytes: number;
  /** Path MTU to offer (the rail's active MTU or --mtu); the smaller of both ends wins. */
  mtu: number;
}

export interface PerftestRail {
  stream: ExactStream;
  endpoint: RailEndpoint;
  peer: RailWire;
  /** Our key messages (QP 0's is what the later syncs carry). */
  keys: KeyMessage[];
  prelude: Prelude;
  close(): void;
}

export interface PerftestDeadlines {
  connectTimeoutMs: number;
  peerTimeoutMs: number;
}

/** Rail i of a client run talks to the perftest server on `port` + i (one server per device). */
export async function openPerftestRail(
  test: PerftestTest,
  rail: Rail,
  host: string,
  port: number,
  shape: PerftestRailShape,
  deadlines: PerftestDeadlines,
): Promise<PerftestRail> {
  const tool = PERFTEST_TOOL[test];
  const socket = await connectPerftest(host, port, deadlines.connectTimeoutMs);
  const stream = new ExactStream(socket, `the ${tool} server`);
  let endpoint: RailEndpoint | null = null;
  const close = () => {
    try {
      endpoint?.close();
    } finally {
      stream.destroy();
    }
  };
  try {
    const agreed = await prelude(stream, 'client', shape.mtu, deadlines.peerTimeoutMs, `${host}:${port}`);
    endpoint = RailEndpoint.open({
      device: rail.device,
      port: rail.port,
      gidIndex: rail.gidIndex!,
      mtu: agreed.mtu,
      qps: shape.qps,
      regionBytes: Math.max(shape.size, agreed.cycleBuffer),
      txDepth: shape.txDepth,
      inlineBytes: shape.inlineBytes,
    });
    const wire = endpoint.wire();
    const keys = wire.qps.map((_, i) => keyOf(wire, i));
    const theirs = await exchangeKeys(stream, 'client', keys, test === 'lat', deadlines.peerTimeoutMs);
    const peer = peerWire(theirs, `${tool} at ${host}:${port}`, agreed.mtu);
    checkGidFamily(wire.gid, peer.gid, host, port);
    endpoint.connect(peer);
    await confirmConnected(stream, 'client', keys, theirs, deadlines.peerTimeoutMs);
    const opened = endpoint;
    return { stream, endpoint: opened, peer, keys, prelude: agreed, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** ctx_check_gid_compatibility: both GIDs IPv4-mapped, or neither (perftest refuses a mix too). */
function checkGidFamily(ours: string, theirs: string, host: string, port: number): void {
  const mapped = (gid: string) => gid.startsWith('0000:0000:0000:0000:0000:ffff:');
  if (mapped(ours) !== mapped(theirs)) {
    throw new RdmaError(`the perftest peer at ${host}:${port} uses GID ${theirs} and this rail ${ours}: one is IPv4, the other not`, {
      code: 'ERR_RDMA_GID_MISMATCH',
      hint: 'give the peer the IPv4 RoCE v2 GID index too (ib_write_bw -x <index>; show_gids lists them)',
    });
  }
}
