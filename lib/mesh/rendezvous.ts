// Rendezvous: every rank dials rank 0 (retrying until the deadline) and says who it is and
// which rails it has; rank 0 checks the set and keeps each connection for the control of the
// run. Rank 0 alone listens, on the rendezvous address only.
import { lookup } from 'node:dns/promises';
import { connect, createServer, type Socket } from 'node:net';
import { RdmaError } from '../errors.js';
import type { MeshIdentity } from './launcher.js';
import { MeshLink } from './link.js';
import type { MeshRailInfo } from './matrix.js';
import { MESH_PROTOCOL, parseFromRank0, parseToRank0, type FromRank0, type ToRank0 } from './protocol.js';

export const ERR_RENDEZVOUS = 'ERR_MESH_RENDEZVOUS';

/** Rank 0's end of a rank's control connection. */
export type RankLink = MeshLink<ToRank0, FromRank0>;
/** A rank's end of its connection to rank 0. */
export type Rank0Link = MeshLink<FromRank0, ToRank0>;

export interface Joined {
  rank: number;
  host: string;
  rails: MeshRailInfo[];
}

export interface RendezvousOptions {
  identity: MeshIdentity;
  host: string;
  rails: MeshRailInfo[];
  /** Deadline for every rank to arrive (rank 0) or for rank 0 to answer (the others). */
  timeoutMs: number;
  /** A connection must say who it is within this (default 10 s). */
  handshakeTimeoutMs?: number;
  log?: (line: string) => void;
}

function rdzvError(message: string, hint: string): RdmaError {
  return new RdmaError(message, { code: ERR_RENDEZVOUS, hint });
}

function ranges(ranks: number[]): string {
  return ranks.length === 0 ? 'none' : ranks.join(', ');
}

/** What is wrong with the set of ranks, or null: same rail count, every address once per host. */
export function checkRankSet(ranks: Joined[]): string | null {
  const first = ranks[0]!;
  const counts = ranks.filter((r) => r.rails.length !== first.rails.length);
  if (counts.length > 0) {
    return `ranks differ in rail count: ${ranks.map((r) => `rank ${r.rank} (${r.host}) ${r.rails.length}`).join(', ')}`;
  }
  if (first.rails.length === 0) return 'no rank has a rail with an IPv4 address';
  const owner = new Map<string, Joined>();
  for (const r of ranks) {
    for (const rail of r.rails) {
      const other = owner.get(rail.ipv4);
      if (other && other.host !== r.host) {
        return `rail address ${rail.ipv4} is on rank ${other.rank} (${other.host}) and on rank ${r.rank} (${r.host}): every node needs its own addresses`;
      }
      owner.set(rail.ipv4, r);
    }
  }
  return null;
}

/** The address rank 0 listens on: the rendezvous host as it resolves here. */
async function listenAddress(host: string): Promise<string> {
  try {
    const { address } = await lookup(host, { family: 4 });
    return address;
  } catch (err) {
    throw rdzvError(`rendezvous host "${host}" does not resolve (${(err as Error).message})`, 'pass --rdzv with a name or IPv4 address of the node rank 0 runs on');
  }
}

/**
 * Rank 0: listens on the rendezvous address and waits for ranks 1..N-1. Resolves with their
 * links once all arrived and the set is sound; otherwise tells every arrived rank why and throws.
 */
export async function gatherRanks(o: RendezvousOptions): Promise<{ joined: Joined[]; links: Map<number, RankLink> }> {
  const { rdzv, worldSize } = o.identity;
  const log = o.log ?? (() => undefined);
  const handshakeMs = o.handshakeTimeoutMs ?? 10_000;
  const address = await listenAddress(rdzv.host);
  const links = new Map<number, RankLink>();
  const joined = new Map<number, Joined>([[0, { rank: 0, host: o.host, rails: o.rails }]]);
  const server = createServer();
  let settle!: (err: RdmaError | null) => void;
  const settled = new Promise<RdmaError | null>((resolve) => (settle = resolve));
  const fail = (err: RdmaError) => settle(err);

  server.on('connection', (socket: Socket) => {
    const who = `${socket.remoteAddress}:${socket.remotePort}`;
    const link: RankLink = new MeshLink(socket, parseToRank0, `the rank at ${who}`);
    link.receive(['join'], handshakeMs, 'joining').then(
      (join) => {
        if (join.worldSize !== worldSize) {
          link.abort(`world size ${join.worldSize} here, ${worldSize} at rank 0`);
          return fail(rdzvError(`rank ${join.rank} on ${join.host} counts ${join.worldSize} ranks, rank 0 counts ${worldSize}`, 'start every rank from the same launch command'));
        }
        if (join.rank === 0 || join.rank >= worldSize) {
          link.abort(`rank ${join.rank} is outside 1..${worldSize - 1}`);
          return fail(rdzvError(`a process on ${join.host} joined as rank ${join.rank}; ranks are 1..${worldSize - 1} (rank 0 is ${o.host})`, 'two processes think they are rank 0? see how the launcher sets the rank (the sbatch-plus-mpirun trap: use mpirun\'s or srun\'s ranks)'));
        }
        const before = joined.get(join.rank);
        if (before) {
          link.abort(`rank ${join.rank} already joined from ${before.host}`);
          return fail(rdzvError(`rank ${join.rank} joined twice: from ${before.host} and from ${join.host}`, 'each process needs its own rank: check the launcher\'s rank variables'));
        }
        link.peer = `rank ${join.rank} (${join.host})`;
        joined.set(join.rank, { rank: join.rank, host: join.host, rails: join.rails });
        links.set(join.rank, link);
        log(`rank ${join.rank} joined from ${join.host} (${joined.size}/${worldSize})`);
        void link.ended.then((why) => {
          if (joined.size < worldSize && links.get(join.rank) === link) {
            joined.delete(join.rank);
            links.delete(join.rank);
            log(`rank ${join.rank} left before the rendezvous completed: ${why.message}`);
          }
        });
        if (joined.size === worldSize) settle(null);
      },
      (err: RdmaError) => {
        // A stray or broken connection is dropped; the mesh keeps waiting for the real ranks.
        log(`dropped a connection from ${who}: ${err.message}`);
        link.close();
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRNOTAVAIL'
        ? rdzvError(`rank 0 runs on ${o.host}, but the rendezvous host ${rdzv.host} (${address}) is not an address of this node`, 'rank 0 must run on the rendezvous host: point SPARK_RDMA_RDZV / --rdzv at it')
        : err.code === 'EADDRINUSE'
          ? rdzvError(`rendezvous port ${address}:${rdzv.port} is in use`, 'another mesh (or program) holds it: wait for it, or pick another port in --rdzv')
          : rdzvError(`cannot listen on ${address}:${rdzv.port}: ${err.message}`, 'check the rendezvous address');
      reject(why);
    });
    server.listen(rdzv.port, address, () => resolve());
  });
  log(`rendezvous on ${address}:${rdzv.port}: waiting for ${worldSize - 1} rank(s)`);
  const deadline = setTimeout(() => {
    const arrived = [...joined.keys()].sort((a, b) => a - b);
    const missing = Array.from({ length: worldSize }, (_, i) => i).filter((r) => !joined.has(r));
    fail(rdzvError(
      `rendezvous: ${arrived.length} of ${worldSize} ranks arrived within ${(o.timeoutMs / 1000).toFixed(0)} s (ranks ${ranges(arrived)}); missing ranks ${ranges(missing)}`,
      'check that every rank started and can reach the rendezvous address; raise --rdzv-timeout on slow launches',
    ));
  }, o.timeoutMs);
  const failure = await settled;
  clearTimeout(deadline);
  server.close();
  const all = [...joined.values()].sort((a, b) => a.rank - b.rank);
  const problem = failure?.message ?? checkRankSet(all);
  if (problem !== null) {
    for (const l of links.values()) l.abort(problem);
    throw failure ?? rdzvError(`rendezvous: ${problem}`, 'every node needs the same number of rails, each with its own IPv4 address (spark-rdma devices)');
  }
  return { joined: all, links };
}

const RETRY_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'ENOTFOUND']);

/** A rank other than 0: dial rank 0 until the deadline, say who we are. */
export async function joinRank0(o: RendezvousOptions): Promise<Rank0Link> {
  const { rdzv, rank, worldSize } = o.identity;
  const started = Date.now();
  let last = '';
  for (;;) {
    const left = o.timeoutMs - (Date.now() - started);
    if (left <= 0) {
      throw rdzvError(
        `rank ${rank}: rank 0 at ${rdzv.host}:${rdzv.port} did not answer within ${(o.timeoutMs / 1000).toFixed(0)} s (last: ${last || 'no answer'})`,
        'is rank 0 running, on that host, and is the port reachable from here? raise --rdzv-timeout on slow launches',
      );
    }
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: rdzv.host, port: rdzv.port, timeout: Math.min(left, 5_000) });
        s.once('connect', () => {
          s.setTimeout(0);
          resolve(s);
        });
        s.once('timeout', () => {
          s.destroy();
          reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
        });
        s.once('error', reject);
      });
      const link: Rank0Link = new MeshLink(socket, parseFromRank0, `rank 0 (${rdzv.host}:${rdzv.port})`);
      link.send({ type: 'join', protocol: MESH_PROTOCOL, rank, worldSize, host: o.host, rails: o.rails });
      return link;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RETRY_CODES.has(code)) throw rdzvError(`rank ${rank}: cannot reach rank 0 at ${rdzv.host}:${rdzv.port}: ${(err as Error).message}`, 'check --rdzv / SPARK_RDMA_RDZV');
      last = code;
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(1, left))));
    }
  }
}
