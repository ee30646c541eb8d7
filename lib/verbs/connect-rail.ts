import { constants } from 'node:os';
import { RdmaError } from '../errors.js';
import { ipv4FromGid, parseGid } from '../sysfs/gid.js';
import type { RailEndpoint, RailWire } from './endpoint.js';

/** Which rail of ours meets which rail of the peer's, in the words an error names them. */
export interface RailMeeting {
  /** Our rail's position in the run, e.g. 1. */
  position: number;
  device: string;
  netdev: string;
  /** Whose rail ours meets: named in the error as "the server's rail …". */
  peerRole: 'server' | 'client';
  /** The peer's index of its rail, when this side knows it (a server knows only the device). */
  peerIndex?: number;
}

// The errno ibv_modify_qp returns when the kernel gets no ARP answer (Linux: 110).
const ETIMEDOUT = constants.errno.ETIMEDOUT;

/**
 * Brings one rail's QPs to RTS and, when that fails, says which rail failed and why. On RoCE the
 * kernel resolves the peer GID's MAC address when a QP moves to RTR (ib_core's
 * rdma_addr_find_l2_eth_by_grh, drivers/infiniband/core/addr.c); a rail whose link passes
 * nothing gets no ARP answer and ibv_modify_qp fails with ETIMEDOUT, which alone reads as a
 * verbs bug.
 */
export function connectRail(endpoint: RailEndpoint, peer: RailWire, meeting: RailMeeting): void {
  try {
    endpoint.connect(peer);
  } catch (err) {
    throw explainRailConnect(err, peer, meeting);
  }
}

export function explainRailConnect(err: unknown, peer: RailWire, m: RailMeeting): unknown {
  if (!(err instanceof Error)) return err;
  const ours = `rail ${m.position} (${m.device})`;
  const bytes = parseGid(peer.gid);
  const address = bytes ? ipv4FromGid(bytes) : null;
  const theirs = `${m.peerRole}'s rail${m.peerIndex !== undefined ? ` ${m.peerIndex}` : ''} (${peer.device}${address !== null ? ` ${address}` : ''})`;
  const fields = err as Error & { code?: string; errno?: number; syscall?: string; hint?: string };
  if (fields.syscall === 'ibv_modify_qp' && fields.errno === ETIMEDOUT) {
    const probe = address !== null ? `\`ping -I ${m.netdev} ${address}\` and \`ip neigh show dev ${m.netdev}\`` : `\`ip neigh show dev ${m.netdev}\``;
    return new RdmaError(
      `${ours} cannot reach the ${theirs}: no ARP answer on ${m.netdev} when its QPs moved to RTR (ibv_modify_qp: ETIMEDOUT)`,
      { code: 'ERR_RDMA_UNREACHABLE', errno: ETIMEDOUT, syscall: 'ibv_modify_qp', hint: `the link passes nothing: check the cable and both ports (ip link), then ${probe}` },
    );
  }
  // The native message ends with its own hint (native/util/error.cc); ours carries it once.
  const suffix = fields.hint !== undefined ? ` (hint: ${fields.hint})` : '';
  const message = suffix !== '' && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
  return new RdmaError(`${ours} meeting the ${theirs}: ${message}`, {
    code: fields.code ?? 'ERR_RDMA_INTERNAL',
    ...(fields.errno !== undefined ? { errno: fields.errno } : {}),
    ...(fields.syscall !== undefined ? { syscall: fields.syscall } : {}),
    ...(fields.hint !== undefined ? { hint: fields.hint } : {}),
  });
}
