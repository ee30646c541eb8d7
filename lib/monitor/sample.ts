import { counterKind } from '../counters/kinds.js';
import type { PortCounterReading } from '../counters/port-counters.js';
import { COUNTER_MODULUS, WORD_BYTES_MODULUS, counterStep } from '../counters/step.js';
import type { Rail } from '../rails/types.js';
import type { CounterMove, RailSample } from './types.js';

// Byte and packet counters get their own fields; every other counter goes into hw/portCounters.
const BYTE_COUNTERS = new Set(['port_xmit_data', 'port_rcv_data']);

/** Pure: what one rail did between two readings of its counters. */
export function railSample(rail: Rail, before: PortCounterReading, after: PortCounterReading, state: string): RailSample {
  const wrapped: string[] = [];
  const resetCounters: string[] = [];
  const step = (name: string, a: bigint | null | undefined, b: bigint | null | undefined, modulus = COUNTER_MODULUS): number | null => {
    const s = counterStep(a, b, modulus);
    if (s.kind === 'wrapped') wrapped.push(name);
    if (s.kind === 'reset') resetCounters.push(name);
    return s.delta === null ? null : Number(s.delta);
  };

  const portCounters: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(after.counters)) {
    if (BYTE_COUNTERS.has(name)) continue;
    portCounters[name] = step(`counters/${name}`, before.counters[name], value);
  }
  const hw: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(after.hw)) hw[name] = step(`hw_counters/${name}`, before.hw[name], value);

  const txBytes = step('counters/port_xmit_data', before.txBytes, after.txBytes, WORD_BYTES_MODULUS);
  const rxBytes = step('counters/port_rcv_data', before.rxBytes, after.rxBytes, WORD_BYTES_MODULUS);
  // Packet counts are one of the counters above; reuse their deltas (a source that changed between readings gives none).
  const samePackets = before.packetSource === after.packetSource;
  const packets = after.packetSource === 'counters' ? portCounters : hw;
  const txName = after.packetSource === 'counters' ? 'port_xmit_packets' : 'sent_pkts';
  const rxName = after.packetSource === 'counters' ? 'port_rcv_packets' : 'rcvd_pkts';
  const txPackets = samePackets ? (packets[txName] ?? null) : null;
  const rxPackets = samePackets ? (packets[rxName] ?? null) : null;

  const seconds = Number(after.atNs - before.atNs) / 1e9;
  const perSecond = (delta: number | null) => (delta === null || !(seconds > 0) ? null : delta / seconds);
  const txBytesPerSecond = perSecond(txBytes);
  const rxBytesPerSecond = perSecond(rxBytes);

  return {
    rail: rail.index,
    device: rail.device,
    port: rail.port,
    netdev: rail.netdev,
    state,
    seconds,
    txBytes,
    rxBytes,
    txPackets,
    rxPackets,
    txBytesPerSecond,
    rxBytesPerSecond,
    txGbps: txBytesPerSecond === null ? null : (txBytesPerSecond * 8) / 1e9,
    rxGbps: rxBytesPerSecond === null ? null : (rxBytesPerSecond * 8) / 1e9,
    txPacketsPerSecond: perSecond(txPackets),
    rxPacketsPerSecond: perSecond(rxPackets),
    packetSource: after.packetSource,
    hw,
    portCounters,
    moved: movedCounters(portCounters, hw),
    wrapped,
    reset: resetCounters.length > 0,
    resetCounters,
  };
}

function movedCounters(portCounters: Record<string, number | null>, hw: Record<string, number | null>): CounterMove[] {
  const moves: CounterMove[] = [];
  const collect = (group: string, deltas: Record<string, number | null>) => {
    for (const [name, delta] of Object.entries(deltas)) {
      const kind = counterKind(name);
      if (kind !== 'traffic' && delta !== null && delta > 0) moves.push({ counter: `${group}/${name}`, delta, kind });
    }
  };
  collect('counters', portCounters);
  collect('hw_counters', hw);
  // errors before congestion; within a kind, the order sysfs lists them in (sorted by name)
  return moves.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'error' ? -1 : 1));
}
