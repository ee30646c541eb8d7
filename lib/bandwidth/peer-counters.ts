// What the server measured in the reverse direction of a bidirectional size, as it travels in
// `finished.counters`: one entry per rail that ran and one per rail that failed, each named by
// its position in the proposal (client rail i pairs with the i-th proposed server rail).
import { LIMITS } from '../session/protocol.js';
import { array, finite, int, object, text } from '../session/schema.js';
import type { MeasuredSize } from './measure.js';

export interface PeerRailFigures {
  /** Position of the rail pair in the proposal. */
  rail: number;
  gbps: number;
  bytes: number;
  seconds: number;
}

export interface PeerRailFailure {
  rail: number;
  code: string;
  message: string;
}

export interface PeerCounters {
  rails: PeerRailFigures[];
  failures: PeerRailFailure[];
}

const position = int(0, LIMITS.maxRails - 1);
const figures = object({
  rail: position,
  gbps: finite(0, 1e6),
  bytes: int(0, Number.MAX_SAFE_INTEGER),
  seconds: finite(0, 1e7),
});
const failure = object({ rail: position, code: text(1, 64, /^[A-Z][A-Z0-9_]*$/, 'an error code'), message: text(0, LIMITS.messageChars) });
const check = object({ rails: array(figures, 0, LIMITS.maxRails) }, { failures: array(failure, 0, LIMITS.maxRails) });

/**
 * Checks the server's counters like any other peer input. Null (the server measured nothing)
 * stays null. @throws RdmaError ERR_PROTOCOL naming the field.
 */
export function parsePeerCounters(value: unknown): PeerCounters | null {
  if (value === null) return null;
  const parsed = check(value, 'finished.counters');
  return { rails: parsed.rails, failures: parsed.failures ?? [] };
}

/** The server's side of a size: each rail's figures or failure under its position in `pairs`. */
export function peerCountersOf(measured: MeasuredSize, pairs: { index: number }[]): PeerCounters {
  const positionOf = (railIndex: number) => pairs.findIndex((r) => r.index === railIndex);
  return {
    rails: measured.rails.map((r) => ({ rail: positionOf(r.rail), gbps: r.gbps, bytes: r.bytes, seconds: r.seconds })),
    failures: measured.failures.map((f) => ({ rail: positionOf(f.rail), code: f.error.code, message: f.error.message.slice(0, LIMITS.messageChars) })),
  };
}
