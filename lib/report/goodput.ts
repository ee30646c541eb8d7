import { invalidArgument } from '../errors.js';

/**
 * Bytes every RoCEv2 packet spends on the wire besides its payload (IPv4, no VLAN):
 * 20 + 14 + 4 + 20 + 8 + 12 + 4 = 82.
 */
export const ROCEV2_PACKET_OVERHEAD = {
  /** Preamble (7), start-of-frame delimiter (1) and the minimum inter-frame gap (12). */
  preambleAndGap: 20,
  ethernetHeader: 14,
  frameCheckSequence: 4,
  ipv4Header: 20,
  udpHeader: 8,
  /** InfiniBand Base Transport Header. */
  bth: 12,
  /** Invariant CRC. */
  icrc: 4,
} as const;

/** An 802.1Q VLAN tag. */
export const VLAN_TAG_BYTES = 4;
/** An IPv6 header is 40 bytes, 20 more than IPv4's. */
export const IPV6_EXTRA_BYTES = 20;
/** RDMA Extended Transport Header: on the first packet of every RDMA WRITE message. */
export const RETH_BYTES = 16;
/** Path MTUs verbs can negotiate (`enum ibv_mtu`); a netdev MTU of 9000 permits 4096. */
export const PATH_MTUS = [256, 512, 1024, 2048, 4096] as const;

export interface GoodputOptions {
  /**
   * Size of each RDMA WRITE message in bytes. Omitted: the large-message limit, where the
   * per-message RETH is negligible (the table in the facts file).
   */
  messageSize?: number;
  /** The frames carry an 802.1Q VLAN tag (+4 bytes per packet). */
  vlan?: boolean;
  /** RoCEv2 over IPv6 (+20 bytes per packet). */
  ipv6?: boolean;
}

/** Wire bytes per packet besides the payload: 82, +4 with a VLAN tag, +20 over IPv6. */
export function packetOverheadBytes(options: Pick<GoodputOptions, 'vlan' | 'ipv6'> = {}): number {
  const base = Object.values(ROCEV2_PACKET_OVERHEAD).reduce((sum, n) => sum + n, 0);
  return base + (options.vlan ? VLAN_TAG_BYTES : 0) + (options.ipv6 ? IPV6_EXTRA_BYTES : 0);
}

/**
 * Wire bytes for one RDMA WRITE message of `messageSize` bytes at path MTU `mtu`:
 * packets = max(1, ceil(S / mtu)); bytes = S + pad + packets x overhead + RETH 16, where pad
 * (0..3) rounds the last packet's payload up to a multiple of 4 as the BTH PadCnt does
 * (0 for every size that is a multiple of 4).
 */
export function writeMessageWireBytes(messageSize: number, mtu: number, options: Pick<GoodputOptions, 'vlan' | 'ipv6'> = {}): number {
  requirePathMtu(mtu);
  requireMessageSize(messageSize);
  const packets = Math.max(1, Math.ceil(messageSize / mtu));
  const pad = (4 - (messageSize % 4)) % 4;
  return messageSize + pad + packets * packetOverheadBytes(options) + RETH_BYTES;
}

/**
 * The most of a link's bit rate RDMA WRITE payload can use (0..1): mtu / (mtu + overhead) for
 * large messages (1024: 92.59 %, 2048: 96.15 %, 4096: 98.04 %), or S / wire bytes for
 * messages of size S, which is lower for messages smaller than (or not a multiple of) the MTU.
 */
export function goodputFraction(mtu: number, options: GoodputOptions = {}): number {
  requirePathMtu(mtu);
  if (options.messageSize === undefined) return mtu / (mtu + packetOverheadBytes(options));
  return options.messageSize / writeMessageWireBytes(options.messageSize, mtu, options);
}

/** The goodput limit in Gb/s of a link of `rateGbps` (e.g. 200 -> 196.1 at MTU 4096). */
export function goodputLimitGbps(rateGbps: number, mtu: number, options: GoodputOptions = {}): number {
  requireRate(rateGbps, 'link rate');
  return rateGbps * goodputFraction(mtu, options);
}

/**
 * A measured bandwidth as a share (fraction, 1 = the limit) of the goodput limit of its link,
 * e.g. 190 Gb/s on a 200G link at MTU 4096 -> 0.969. Above 1 means the measurement is wrong.
 */
export function shareOfLimit(measuredGbps: number, rateGbps: number, mtu: number, options: GoodputOptions = {}): number {
  if (!(measuredGbps >= 0 && Number.isFinite(measuredGbps))) {
    throw invalidArgument(`measured bandwidth ${measuredGbps} Gb/s is invalid: it must be a finite number >= 0`, 'pass the measured Gb/s');
  }
  return measuredGbps / goodputLimitGbps(rateGbps, mtu, options);
}

function requirePathMtu(mtu: number): void {
  if (!(PATH_MTUS as readonly number[]).includes(mtu)) {
    throw invalidArgument(
      `path MTU ${mtu} is invalid: it must be one of ${PATH_MTUS.join(', ')} bytes`,
      'use the port\'s active_mtu (a netdev MTU of 9000 gives a path MTU of 4096, 1500 gives 1024)',
    );
  }
}

function requireMessageSize(size: number): void {
  if (!(Number.isSafeInteger(size) && size >= 0)) {
    throw invalidArgument(`message size ${size} is invalid: it must be a whole number of bytes >= 0`, 'pass the RDMA WRITE size in bytes, e.g. 65536');
  }
}

function requireRate(rate: number, what: string): void {
  if (!(rate > 0 && Number.isFinite(rate))) {
    throw invalidArgument(`${what} ${rate} Gb/s is invalid: it must be a finite number > 0`, 'use the port\'s rate from sysfs, e.g. 200');
  }
}
