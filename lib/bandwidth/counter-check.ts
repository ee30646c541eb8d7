import type { PortCounterDelta } from '../counters/port-counters.js';

export type Agreement = { status: 'ok' | 'mismatch' | 'unknown'; detail: string };

export interface CounterCheckInput {
  delta: PortCounterDelta;
  /** Messages this side's engine completed, timed and warm-up (both ran between the readings). */
  messagesOnWire: number;
  size: number;
  mtu: number;
  /** Both directions on one port (bidirectional runs): the counters mix them. */
  mixed: boolean;
}

// RoCEv2 header bytes a data packet carries on the wire besides its payload (Ethernet, IPv4,
// UDP, BTH, ICRC, FCS; preamble and gap are not counted by the port), plus RETH once per message.
const PACKET_HEADERS = 62;
const RETH = 16;

/**
 * Does the device's own count agree with what the engine says it sent? Byte counters
 * (port_xmit_data x 4) must cover the payload and at most its headers (+5 % for other traffic
 * on the port); packet counters (rxe) must cover the data packets and at most one ACK per
 * message (+10 % for retransmits).
 */
export function counterAgreement(c: CounterCheckInput): Agreement {
  if (c.mixed) return { status: 'unknown', detail: 'both directions share the port counters in a bidirectional run' };
  if (c.messagesOnWire === 0) return { status: 'unknown', detail: 'nothing was sent' };
  const packetsPerMessage = Math.ceil(c.size / c.mtu);
  const dataPackets = c.messagesOnWire * packetsPerMessage;
  const payload = c.messagesOnWire * c.size;
  if (c.delta.txBytes !== null) {
    const most = (payload + dataPackets * PACKET_HEADERS + c.messagesOnWire * RETH) * 1.05;
    const ratio = c.delta.txBytes / payload;
    const detail = `port_xmit_data x 4 = ${c.delta.txBytes} B for ${payload} B of payload (x${ratio.toFixed(4)})`;
    return { status: c.delta.txBytes >= payload * 0.999 && c.delta.txBytes <= most ? 'ok' : 'mismatch', detail };
  }
  if (c.delta.txPackets !== null) {
    const most = (dataPackets + c.messagesOnWire) * 1.1;
    const detail = `${c.delta.txPackets} packets sent for ${dataPackets} data packets (${packetsPerMessage} per message) and up to ${c.messagesOnWire} ACKs`;
    return { status: c.delta.txPackets >= dataPackets && c.delta.txPackets <= most ? 'ok' : 'mismatch', detail };
  }
  return { status: 'unknown', detail: 'this driver exposes no traffic counters' };
}
