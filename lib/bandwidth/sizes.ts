import type { RdmaError } from '../errors.js';
import type { RailPairing } from '../run/rail-pairing.js';
import type { MeasuredSize } from './measure.js';

/** What a loopback or client run produces: one measured entry per size. */
export interface LoopbackOrClient {
  sizes: MeasuredSize[];
  /** The session ended early (the server went away or failed): `sizes` holds what ran before. */
  sessionError?: RdmaError;
  /** Client runs: which server rail each rail met. */
  pairing?: RailPairing[];
}

/** In bidirectional runs, hangs the other direction's figures on each rail as `peer`. */
export function foldPeer(ours: MeasuredSize, theirs: { rails: { rail: number; gbps: number; bytes: number; seconds: number }[] } | null): MeasuredSize {
  if (!theirs) return ours;
  return {
    ...ours,
    rails: ours.rails.map((r) => {
      const other = theirs.rails.find((t) => t.rail === r.rail);
      return { ...r, peer: other ? { gbps: other.gbps, bytes: other.bytes, seconds: other.seconds } : null };
    }),
  };
}
