import type { Mtu, RailEndpoint as WireRail } from '../session/protocol.js';
import type { Rail } from '../rails/types.js';
import type { RailWire } from './endpoint.js';

/** Our endpoint description as the session protocol carries it (addresses as bigint). */
export function toProtocolRail(index: number, wire: RailWire): WireRail {
  return {
    index,
    device: wire.device,
    port: wire.port,
    gid: wire.gid,
    mtu: wire.mtu as Mtu,
    qps: wire.qps.map((q) => ({ qpn: q.qpn, psn: q.psn, rkey: q.rkey, addr: BigInt(q.addr) })),
  };
}

export function fromProtocolRail(rail: WireRail): RailWire {
  return {
    device: rail.device,
    port: rail.port,
    gid: rail.gid,
    mtu: rail.mtu,
    qps: rail.qps.map((q) => ({ qpn: q.qpn, psn: q.psn, rkey: q.rkey, addr: q.addr.toString() })),
  };
}

/** rdma_cm listens on the ports right after the session's TCP port, one per rail. */
export function cmPortFor(sessionPort: number, railPosition: number): number {
  return sessionPort + 1 + railPosition;
}

/**
 * With rdma_cm the QP numbers, PSNs and target regions travel in rdma_cm's own messages, so
 * the session's accept/connect carry zeros in those fields (documented in the protocol).
 */
export function placeholderRail(index: number, rail: Rail, mtu: number, qps: number): WireRail {
  return {
    index,
    device: rail.device,
    port: rail.port,
    gid: rail.gid ?? '0000:0000:0000:0000:0000:0000:0000:0000',
    mtu: mtu as Mtu,
    qps: Array.from({ length: qps }, () => ({ qpn: 0, psn: 0, rkey: 0, addr: 0n })),
  };
}
