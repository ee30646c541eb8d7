import type { Rail } from '../rails/types.js';
import { CmRailEndpoint } from './cm-endpoint.js';
import { RailEndpoint, type RailWire } from './endpoint.js';
import type { RailSide } from './rail-side.js';

export interface LoopbackShape {
  qps: number;
  regionBytes: number;
  txDepth: number;
  inlineBytes: number;
  /** Bring the QPs up with rdma_cm (listen and connect on the rail's own address). */
  cm: boolean;
  timeoutMs: number;
  /** Completion queues per side (bw --threads; not with cm). */
  cqs?: number;
}

/** Both ends of one rail in this process: `a` writes to `b` (and `b` to `a` when bidirectional). */
export interface LoopbackPair {
  a: RailSide;
  b: RailSide;
  /** What `a` knows of `b`, and `b` of `a`. */
  aPeer: RailWire;
  bPeer: RailWire;
  close(): void;
}

// rdma_cm ports for loopback pairs: spread so that parallel runs rarely meet.
let nextCmPort = 20000 + Math.floor(Math.random() * 20000);

export async function openLoopbackPair(rail: Rail, mtu: number, shape: LoopbackShape): Promise<LoopbackPair> {
  if (shape.cm) {
    if (rail.ipv4 === null) throw new Error(`rail ${rail.device} has no IPv4 address for rdma_cm`);
    const port = nextCmPort++;
    const options = { device: rail.device, qps: shape.qps, regionBytes: shape.regionBytes, txDepth: shape.txDepth, inlineBytes: shape.inlineBytes, timeoutMs: shape.timeoutMs };
    const accepting = CmRailEndpoint.accept(options, rail.ipv4, port);
    const connecting = CmRailEndpoint.connect(options, rail.ipv4, port, rail.ipv4);
    const [b, a] = await Promise.allSettled([accepting, connecting]);
    if (a.status === 'rejected' || b.status === 'rejected') {
      if (a.status === 'fulfilled') a.value.close();
      if (b.status === 'fulfilled') b.value.close();
      throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
    }
    return { a: a.value, b: b.value, aPeer: a.value.peerWire(), bPeer: b.value.peerWire(), close: () => (a.value.close(), b.value.close()) };
  }
  const options = { device: rail.device, port: rail.port, gidIndex: rail.gidIndex!, mtu, qps: shape.qps, regionBytes: shape.regionBytes, txDepth: shape.txDepth, inlineBytes: shape.inlineBytes, cqs: shape.cqs ?? 1 };
  const a = RailEndpoint.open(options);
  let b: RailEndpoint;
  try {
    b = RailEndpoint.open(options);
  } catch (err) {
    a.close();
    throw err;
  }
  try {
    a.connect(b.wire());
    b.connect(a.wire());
  } catch (err) {
    a.close();
    b.close();
    throw err;
  }
  return { a, b, aPeer: b.wire(), bPeer: a.wire(), close: () => (a.close(), b.close()) };
}
