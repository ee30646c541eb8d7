// The steps of perftest's exchange that both tests share, for either end: the prelude
// (versions, sys data, MTU) and the key messages that bring the QPs up. The order is
// ib_write_bw's and ib_write_lat's main() (perftest src/write_bw.c, src/write_lat.c, 5.92 to
// 6.29; negotiate_params, new in 6.28, is skipped by both ends because we advertise 6.27).
import { RdmaError } from '../errors.js';
import type { RailWire } from '../verbs/endpoint.js';
import type { ExactStream, PerftestRole } from './stream.js';
import {
  checkPeerVersion,
  decodeKey,
  decodeMtu,
  encodeInt32,
  encodeKey,
  encodeMtu,
  encodeVersion,
  ERR_PEER_MISMATCH,
  enumToMtu,
  gidFromBytes,
  gidToBytes,
  KEY_BYTES,
  mtuToEnum,
  MTU_BYTES,
  OUR_CACHE_LINE,
  OUR_CYCLE_BUFFER,
  VERSION_BYTES,
  type KeyMessage,
} from './wire.js';

export interface Prelude {
  peerVersion: string;
  /** The larger of both cycle buffers: perftest's writes cycle over this many bytes of our region. */
  cycleBuffer: number;
  cacheLine: number;
  /** The path MTU both ends use: the smaller of the two (bytes). */
  mtu: number;
}

/** Versions, cycle buffer and cache line, MTU: exchange_versions, check_sys_data, check_mtu. */
export async function prelude(stream: ExactStream, role: PerftestRole, ourMtu: number, timeoutMs: number, peerTool: string): Promise<Prelude> {
  const version = checkPeerVersion(await stream.exchange(role, encodeVersion(), VERSION_BYTES, timeoutMs, 'the perftest version string'), peerTool);
  const cycle = (await stream.exchange(role, encodeInt32(OUR_CYCLE_BUFFER), 4, timeoutMs, 'the cycle buffer size')).readInt32BE();
  const cache = (await stream.exchange(role, encodeInt32(OUR_CACHE_LINE), 4, timeoutMs, 'the cache line size')).readInt32BE();
  const theirMtu = decodeMtu(await stream.exchange(role, encodeMtu(ourMtu), MTU_BYTES, timeoutMs, 'the MTU'));
  const mtuEnum = theirMtu === null ? mtuToEnum(ourMtu) : Math.min(theirMtu, mtuToEnum(ourMtu));
  return {
    peerVersion: version.text,
    // A peer's absurd page size must not make us register gigabytes: cap what we honour.
    cycleBuffer: Math.min(Math.max(OUR_CYCLE_BUFFER, cycle), 64 * 2 ** 20),
    cacheLine: Math.min(Math.max(OUR_CACHE_LINE, cache), 4096),
    mtu: enumToMtu(mtuEnum),
  };
}

/** Our QP i as a key message (RoCE: LID 0, the rail's GID; out_reads 1 becomes the peer's max_rd_atomic). */
export function keyOf(wire: RailWire, i: number): KeyMessage {
  const qp = wire.qps[i]!;
  return { lid: 0, outReads: 1, qpn: qp.qpn, psn: qp.psn, rkey: qp.rkey, vaddr: BigInt(qp.addr), gid: gidToBytes(wire.gid), srqn: 0 };
}

/** The peer's keys as the RailWire our endpoints connect to. */
export function peerWire(keys: KeyMessage[], device: string, mtu: number): RailWire {
  return {
    device,
    port: 1,
    gid: gidFromBytes(keys[0]!.gid),
    mtu,
    qps: keys.map((k) => ({ qpn: k.qpn, psn: k.psn, rkey: k.rkey, addr: k.vaddr.toString() })),
  };
}

/** One ctx_hand_shake: our key message for `mine` out, theirs in, parsed strictly. */
export async function shakeHands(stream: ExactStream, role: PerftestRole, mine: KeyMessage, timeoutMs: number, step: string): Promise<KeyMessage> {
  return decodeKey(await stream.exchange(role, encodeKey(mine), KEY_BYTES, timeoutMs, step), step);
}

/** The first round of keys, one message per QP (ib_write_lat sends QP 0's once more before them). */
export async function exchangeKeys(stream: ExactStream, role: PerftestRole, mine: KeyMessage[], extraFirst: boolean, timeoutMs: number): Promise<KeyMessage[]> {
  if (extraFirst) await shakeHands(stream, role, mine[0]!, timeoutMs, 'the first key message');
  const theirs: KeyMessage[] = [];
  for (const [i, key] of mine.entries()) theirs.push(await shakeHands(stream, role, key, timeoutMs, `the key message of QP ${i}`));
  return theirs;
}

/**
 * After RTR/RTS: the keys once more (perftest prints the remote side with them), then one sync.
 * Each must repeat the peer's first round; a peer with another QP count (-q) shows here.
 */
export async function confirmConnected(stream: ExactStream, role: PerftestRole, mine: KeyMessage[], theirs: KeyMessage[], timeoutMs: number): Promise<void> {
  for (const [i, key] of mine.entries()) {
    const again = await shakeHands(stream, role, key, timeoutMs, `the second key message of QP ${i}`);
    if (again.qpn !== theirs[i]!.qpn) {
      throw new RdmaError(`the perftest peer runs another number of QPs than this side's ${mine.length}`, {
        code: ERR_PEER_MISMATCH,
        hint: `start the perftest peer with -q ${mine.length}, or pass --qps to match its -q`,
      });
    }
  }
  await shakeHands(stream, role, mine[0]!, timeoutMs, 'the sync after RTR');
}
