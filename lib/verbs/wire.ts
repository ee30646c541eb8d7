import type { Mtu, RailEndpoint as WireRail } from '../session/protocol.js';
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
