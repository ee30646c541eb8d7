import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTER_MODULUS, WORD_BYTES_MODULUS, counterStep } from './step.js';

/**
 * One reading of a port's traffic counters. `counters/port_xmit_data` and `port_rcv_data`
 * count 4-byte words (mlx5 and most IB drivers); rxe has no `counters/` directory, only
 * `hw_counters/` with packet counts (sent_pkts, rcvd_pkts, retries, errors).
 */
export interface PortCounterReading {
  /** Bytes sent (port_xmit_data x 4), or null where the driver has no such counter. */
  txBytes: bigint | null;
  rxBytes: bigint | null;
  /** Packets sent and received: port_xmit_packets, else hw_counters/sent_pkts. */
  txPackets: bigint | null;
  rxPackets: bigint | null;
  /** Where the packet counts came from. */
  packetSource: 'counters' | 'hw_counters' | null;
  /** Every `counters/` entry, raw (the *_data ones in 4-byte words). Empty for rxe. */
  counters: Record<string, bigint>;
  /** Every hw_counters entry, raw. */
  hw: Record<string, bigint>;
  /** When it was read (CLOCK_MONOTONIC via hrtime), ns. */
  atNs: bigint;
}

function readCounter(path: string): bigint | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? BigInt(text) : null;
  } catch {
    return null;
  }
}

/** Every numeric file of a counter directory, by name (absent directory: empty). */
function readCounterDir(dir: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (name === 'lifespan') continue; // a setting (ms between hw_counters refreshes), not a counter
    const value = readCounter(join(dir, name));
    if (value !== null) out[name] = value;
  }
  return out;
}

/** Reads a port's counters under a sysfs root (real /sys or a fixture tree). */
export function readPortCounters(sysfsRoot: string, device: string, port: number): PortCounterReading {
  const base = join(sysfsRoot, 'class', 'infiniband', device, 'ports', String(port));
  const counters = readCounterDir(join(base, 'counters'));
  const hw = readCounterDir(join(base, 'hw_counters'));
  const words = (name: string) => {
    const v = counters[name];
    return v === undefined ? null : v * 4n;
  };
  const fromCounters = counters['port_xmit_packets'] !== undefined || counters['port_rcv_packets'] !== undefined;
  const fromHw = hw['sent_pkts'] !== undefined || hw['rcvd_pkts'] !== undefined;
  return {
    txBytes: words('port_xmit_data'),
    rxBytes: words('port_rcv_data'),
    txPackets: fromCounters ? (counters['port_xmit_packets'] ?? null) : (hw['sent_pkts'] ?? null),
    rxPackets: fromCounters ? (counters['port_rcv_packets'] ?? null) : (hw['rcvd_pkts'] ?? null),
    packetSource: fromCounters ? 'counters' : fromHw ? 'hw_counters' : null,
    counters,
    hw,
    atNs: process.hrtime.bigint(),
  };
}

/** Counter movement between two readings, as plain numbers (deltas fit a double). */
export interface PortCounterDelta {
  txBytes: number | null;
  rxBytes: number | null;
  txPackets: number | null;
  rxPackets: number | null;
  /** hw_counters that moved (zero deltas and reset counters left out). */
  hw: Record<string, number>;
  /** Counters that wrapped past 2^64 in between (their deltas are exact), as 'counters/<name>' or 'hw_counters/<name>'. */
  wrapped: string[];
  /** Counters that went backwards other than by wrapping (reset): their deltas are null or left out. */
  reset: string[];
  seconds: number;
}

function toNumber(delta: bigint | null): number | null {
  return delta === null ? null : Number(delta);
}

/**
 * What moved between two readings of the same port. A counter that wrapped at 2^64 gives its
 * exact delta; one that went backwards otherwise (reset, device re-created) gives null rather
 * than a huge or negative number, and is named in `reset`.
 */
export function counterDelta(before: PortCounterReading, after: PortCounterReading): PortCounterDelta {
  const wrapped: string[] = [];
  const reset: string[] = [];
  const step = (name: string, a: bigint | null | undefined, b: bigint | null | undefined, modulus = COUNTER_MODULUS) => {
    const s = counterStep(a, b, modulus);
    if (s.kind === 'wrapped') wrapped.push(name);
    if (s.kind === 'reset') reset.push(name);
    return toNumber(s.delta);
  };
  const txBytes = step('counters/port_xmit_data', before.txBytes, after.txBytes, WORD_BYTES_MODULUS);
  const rxBytes = step('counters/port_rcv_data', before.rxBytes, after.rxBytes, WORD_BYTES_MODULUS);
  const packetGroup = after.packetSource === 'hw_counters' ? 'hw_counters' : 'counters';
  const samePacketSource = before.packetSource === after.packetSource;
  const txPackets = samePacketSource
    ? step(`${packetGroup}/${packetGroup === 'counters' ? 'port_xmit_packets' : 'sent_pkts'}`, before.txPackets, after.txPackets)
    : null;
  const rxPackets = samePacketSource
    ? step(`${packetGroup}/${packetGroup === 'counters' ? 'port_rcv_packets' : 'rcvd_pkts'}`, before.rxPackets, after.rxPackets)
    : null;
  const hw: Record<string, number> = {};
  for (const [name, value] of Object.entries(after.hw)) {
    if (packetGroup === 'hw_counters' && (name === 'sent_pkts' || name === 'rcvd_pkts')) {
      // already stepped above; do not list a wrap or reset twice
      const d = counterStep(before.hw[name], value).delta;
      if (d !== null && d !== 0n) hw[name] = Number(d);
      continue;
    }
    const d = step(`hw_counters/${name}`, before.hw[name], value);
    if (d !== null && d !== 0) hw[name] = d;
  }
  return { txBytes, rxBytes, txPackets, rxPackets, hw, wrapped, reset, seconds: Number(after.atNs - before.atNs) / 1e9 };
}
