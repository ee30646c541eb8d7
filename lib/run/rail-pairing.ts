// Which server rail each client rail meets. On two nodes cabled rail i to rail i, the two ends of
// a cable share an IPv4 subnet and nothing else does; pairing by position instead sends a rail's
// traffic towards a cable that does not reach it (a stall, or a cross-device path that fails).
// Rules, in order: the server rail in the client rail's subnet; among several, the one whose
// address the client dialled; then the same position; then the first one left.
import { networkInterfaces } from 'node:os';
import { RdmaError } from '../errors.js';
import type { Rail } from '../rails/types.js';
import type { HelloRail } from '../session/protocol.js';

/** Why a client rail met its server rail. */
export type PairingRule = 'subnet' | 'dialled-address' | 'same-position' | 'first-free';

/** One client rail and the server rail it runs against, as results and logs show it. */
export interface RailPairing {
  /** Position of the rail in this run (the client's rail list). */
  rail: number;
  device: string;
  ipv4: string | null;
  /** The client rail's subnet, e.g. 10.77.1.0/24; null when its prefix length is unknown. */
  subnet: string | null;
  /** The server rail's index in its hello. */
  peerRail: number;
  peerDevice: string;
  peerIpv4: string | null;
  rule: PairingRule;
}

/** A client rail as pairing needs it: its address and, when known, the prefix length. */
export interface PairingRail {
  index: number;
  device: string;
  ipv4: string | null;
  prefixLength: number | null;
}

function ipv4Number(address: string): number | null {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** `a.b.c.d/len` of the network an address is in. */
export function subnetOf(ipv4: string, prefixLength: number): string {
  const network = (ipv4Number(ipv4)! & maskOf(prefixLength)) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (network >>> shift) & 255).join('.')}/${prefixLength}`;
}

export function sameSubnet(a: string, b: string, prefixLength: number): boolean {
  const x = ipv4Number(a);
  const y = ipv4Number(b);
  if (x === null || y === null) return false;
  const mask = maskOf(prefixLength);
  return ((x & mask) >>> 0) === ((y & mask) >>> 0);
}

/**
 * The prefix length of `ipv4` on `netdev`, from this machine's interfaces; null when it is not
 * there (a fixture sysfs tree, an address removed since discovery).
 */
export function ipv4PrefixLength(netdev: string, ipv4: string | null, interfaces = networkInterfaces()): number | null {
  if (ipv4 === null) return null;
  const found = interfaces[netdev]?.find((a) => a.family === 'IPv4' && a.address === ipv4);
  if (!found?.cidr) return null;
  const length = Number(found.cidr.slice(found.cidr.indexOf('/') + 1));
  return Number.isInteger(length) && length >= 0 && length <= 32 ? length : null;
}

/** Our rails with their prefix lengths (unknown when reading a fixture sysfs tree). */
export function pairingRails(rails: Rail[], sysfsRoot?: string): PairingRail[] {
  return rails.map((r) => ({
    index: r.index,
    device: r.device,
    ipv4: r.ipv4,
    prefixLength: sysfsRoot === undefined ? ipv4PrefixLength(r.netdev, r.ipv4) : null,
  }));
}

const describeServerRail = (s: HelloRail) => `${s.device} (${s.ipv4 ?? 'no IPv4'})`;

/**
 * Pairs every client rail with a distinct server rail, or throws ERR_RDMA_RAIL_MISMATCH naming
 * the rail that reaches nothing, its subnet and the server's rails.
 */
export function pairRails(client: PairingRail[], server: HelloRail[], dialled: string): RailPairing[] {
  refuseSharedSubnet(client, server);
  const used = new Set<number>();
  return client.map((rail, position) => {
    const free = server.filter((s) => !used.has(s.index));
    let candidates = free;
    let subnet: string | null = null;
    if (rail.ipv4 !== null && rail.prefixLength !== null) {
      const prefixLength = rail.prefixLength;
      subnet = subnetOf(rail.ipv4, prefixLength);
      candidates = free.filter((s) => s.ipv4 !== null && sameSubnet(rail.ipv4!, s.ipv4, prefixLength));
      if (candidates.length === 0) {
        const taken = server.filter((s) => used.has(s.index) && s.ipv4 !== null && sameSubnet(rail.ipv4!, s.ipv4, prefixLength));
        const why =
          taken.length > 0
            ? `its only server rail${taken.length > 1 ? 's' : ''} in ${subnet}, ${taken.map(describeServerRail).join(', ')}, already pair${taken.length > 1 ? '' : 's'} with another rail of this run`
            : `none of the server's rails, ${server.map(describeServerRail).join(', ')}, is in ${subnet}`;
        throw new RdmaError(`rail ${position} (${rail.device} ${rail.ipv4}/${prefixLength}) cannot reach the server at ${dialled}: ${why}`, {
          code: 'ERR_RDMA_RAIL_MISMATCH',
          hint:
            'each cable must join rail i on one node to rail i on the other, with both ends in one IPv4 subnet (check the cabling and `ip addr`); ' +
            'or choose rails that reach each other with --devices on both ends',
        });
      }
    }
    const byAddress = candidates.find((s) => s.ipv4 === dialled);
    const byPosition = candidates.find((s) => s.index === position);
    const chosen = byAddress ?? byPosition ?? candidates[0]!;
    const rule: PairingRule =
      subnet !== null && candidates.length === 1 ? 'subnet' : chosen === byAddress ? 'dialled-address' : chosen === byPosition ? 'same-position' : 'first-free';
    used.add(chosen.index);
    return { rail: position, device: rail.device, ipv4: rail.ipv4, subnet, peerRail: chosen.index, peerDevice: chosen.device, peerIpv4: chosen.ipv4, rule };
  });
}

/**
 * Two of our rails in one subnet: the kernel routes both rails' RoCE traffic by one of them, so
 * one rail's cable carries the other's (a wrongly addressed or wrongly cabled port). Refused
 * with what to fix when the server rail at one of their positions is in another subnet; a flat
 * network (every rail of both nodes in one subnet) is left to the other rules.
 */
function refuseSharedSubnet(client: PairingRail[], server: HelloRail[]): void {
  for (const [j, b] of client.entries()) {
    for (const [i, a] of client.slice(0, j).entries()) {
      if (a.ipv4 === null || b.ipv4 === null || a.prefixLength === null || b.prefixLength === null) continue;
      if (!sameSubnet(a.ipv4, b.ipv4, Math.min(a.prefixLength, b.prefixLength))) continue;
      const subnet = subnetOf(a.ipv4, a.prefixLength);
      // The rail whose same-position server rail is elsewhere is the misaddressed one.
      const wrong = [
        [i, a],
        [j, b],
      ].find(([position, rail]) => {
        const peer = server.find((s) => s.index === position);
        return peer?.ipv4 && !sameSubnet((rail as PairingRail).ipv4!, peer.ipv4, (rail as PairingRail).prefixLength!);
      }) as [number, PairingRail] | undefined;
      const peer = wrong ? server.find((s) => s.index === wrong[0]) : undefined;
      if (!wrong || !peer) continue;
      const fix = `rail ${wrong[0]} (${wrong[1].device}) does not reach the server's rail ${wrong[0]} (${describeServerRail(peer)}): give it an address in ${subnetOf(peer.ipv4!, wrong[1].prefixLength!)}, or cable it to the port in ${subnet}`;
      throw new RdmaError(`rails ${i} (${a.device} ${a.ipv4}/${a.prefixLength}) and ${j} (${b.device} ${b.ipv4}/${b.prefixLength}) of this node are both in ${subnet}; ${fix}`, {
        code: 'ERR_RDMA_RAIL_MISMATCH',
        hint: 'rail i must be cabled to rail i on the peer, each cable its own IPv4 subnet (`ip addr` on both nodes; `spark-rdma devices` lists the rails)',
      });
    }
  }
}

/** `rxe1 10.77.1.2 -> rxe1 10.77.1.1 (same subnet 10.77.1.0/24)`, for logs and tables. */
export function describePairing(p: RailPairing): string {
  const why =
    p.rule === 'subnet'
      ? `same subnet ${p.subnet}`
      : p.rule === 'dialled-address'
        ? 'the address dialled'
        : p.rule === 'same-position'
          ? 'same rail position'
          : 'first free rail';
  return `${p.device} ${p.ipv4 ?? 'no IPv4'} -> ${p.peerDevice} ${p.peerIpv4 ?? 'no IPv4'} (${why})`;
}
