import type { RdmaError } from '../errors.js';
import type { RailPairing } from '../run/rail-pairing.js';
import type { Rail } from '../rails/types.js';
import type { MeasuredSize } from './measure.js';
import type { PeerCounters } from './peer-counters.js';

/** What a loopback or client run produces: one measured entry per size. */
export interface LoopbackOrClient {
  sizes: MeasuredSize[];
  /** The session ended early (the server went away or failed): `sizes` holds what ran before. */
  sessionError?: RdmaError;
  /** Client runs: which server rail each rail met. */
  pairing?: RailPairing[];
  /** The path MTU each rail's QPs got (agreed with the peer, or rdma_cm's), when not the plan's. */
  mtus?: number[];
}

/**
 * In bidirectional runs, hangs the other direction's figures on each rail as `peer` (or the
 * server's error for that rail as `peerError`). The server names rails by their position in
 * the proposal, which is their position in `rails`.
 */
export function foldPeer(ours: MeasuredSize, theirs: PeerCounters | null, rails: Rail[]): MeasuredSize {
  if (!theirs) return ours;
  return {
    ...ours,
    rails: ours.rails.map((r) => {
      const position = rails.findIndex((x) => x.index === r.rail);
      const other = theirs.rails.find((t) => t.rail === position);
      const failed = theirs.failures.find((f) => f.rail === position);
      return {
        ...r,
        peer: other ? { gbps: other.gbps, bytes: other.bytes, seconds: other.seconds } : null,
        ...(failed ? { peerError: `${failed.code}: ${failed.message}` } : {}),
      };
    }),
  };
}
