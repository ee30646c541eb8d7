// Options of a mesh run, their defaults, and the rails a rank brings.
import { hostname } from 'node:os';
import { invalidArgument, RdmaError } from '../errors.js';
import { discoverRails } from '../rails/discover.js';
import { DEFAULT_SESSION_PORT } from '../session/protocol.js';
import type { MeshIdentity } from './launcher.js';
import { DEFAULT_SLOW_RULE, type MeshRailInfo, type SlowRule } from './matrix.js';
import type { PairParams } from './protocol.js';

export interface MeshOptions {
  identity: MeshIdentity;
  /** This node's name in the table (default os.hostname()). */
  host?: string;
  /** Use the first N rails (default: all). */
  rails?: number;
  size?: number;
  qps?: number;
  durationMs?: number;
  warmupMs?: number;
  /** Also measure write latency p50 with this many exchanges per cell (default 0: no). */
  latIterations?: number;
  /** Deadline of each step that waits for a peer (default 10 s). */
  peerTimeoutMs?: number;
  /** Deadline for every rank to arrive (default 60 s). */
  rdzvTimeoutMs?: number;
  /** Session port of a node's first rank; the node's next ranks take the ports after it (default 18515). */
  basePort?: number;
  /** One directed pair at a time instead of a whole round. */
  serial?: boolean;
  slow?: SlowRule;
  sysfsRoot?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ResolvedMesh {
  host: string;
  rails: MeshRailInfo[];
  pair: PairParams;
  rdzvTimeoutMs: number;
  basePort: number;
  serial: boolean;
  slow: SlowRule;
  log: (line: string) => void;
}

function fraction(name: string, v: number): number {
  if (!(v > 0 && v <= 1)) throw invalidArgument(`${name} ${v}: expected a fraction above 0 and at most 1`, `e.g. ${name} 0.8`);
  return v;
}

export function resolveMesh(o: MeshOptions): ResolvedMesh {
  const all = discoverRails(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {});
  const count = o.rails ?? all.length;
  if (all.length === 0) throw new RdmaError('this node has no RDMA rails', { code: 'ERR_RDMA_NO_RAILS', hint: 'bring a RoCE port up with an IPv4 address (spark-rdma devices shows what is there)' });
  if (count > all.length) throw invalidArgument(`--rails ${count}: this node has ${all.length} (${all.map((r) => r.device).join(', ')})`, `pass --rails ${all.length} or fewer`);
  const rails = all.slice(0, count).map((r) => {
    if (r.ipv4 === null) throw new RdmaError(`rail ${r.index} (${r.device} on ${r.netdev}) has no IPv4 address`, { code: 'ERR_RDMA_NO_GID', hint: `give ${r.netdev} an address, or pass --rails ${r.index}` });
    return { device: r.device, netdev: r.netdev, ipv4: r.ipv4, activeMtu: r.activeMtu, rateGbps: r.rateGbps };
  });
  const slow = o.slow ?? DEFAULT_SLOW_RULE;
  return {
    host: o.host ?? hostname(),
    rails,
    pair: {
      rails: rails.length,
      size: o.size ?? 65536,
      qps: o.qps ?? 1,
      durationMs: o.durationMs ?? 2000,
      warmupMs: o.warmupMs ?? 500,
      peerTimeoutMs: o.peerTimeoutMs ?? 10_000,
      latIterations: o.latIterations ?? 0,
    },
    rdzvTimeoutMs: o.rdzvTimeoutMs ?? 60_000,
    basePort: o.basePort ?? DEFAULT_SESSION_PORT,
    serial: o.serial ?? false,
    slow: { fraction: fraction('--slow-fraction', slow.fraction), share: fraction('--slow-share', slow.share) },
    log: o.log ?? (() => undefined),
  };
}

/** Longest one step may take before rank 0 gives up on it: the run plus every peer deadline. */
export function stepDeadlineMs(p: PairParams): number {
  const bw = p.durationMs + p.warmupMs + 6 * p.peerTimeoutMs;
  const lat = p.latIterations > 0 ? 6 * p.peerTimeoutMs + p.latIterations : 0;
  return bw + lat + 5_000;
}

/** Session ports: a node's ranks, in rank order, take basePort, basePort + 1, ... */
export function assignPorts(hosts: string[], basePort: number): number[] {
  const seen = new Map<string, number>();
  return hosts.map((h) => {
    const i = seen.get(h) ?? 0;
    seen.set(h, i + 1);
    if (basePort + i > 65535) throw invalidArgument(`node ${h} runs ${i + 1} ranks: port ${basePort + i} is above 65535`, 'pass a lower --port');
    return basePort + i;
  });
}
