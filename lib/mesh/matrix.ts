// The N x N result of a mesh, per rail: what rank 0 prints, renders and returns. Rows are the
// writing rank (src), columns the written-to rank (dst); the diagonal is null.
import { quantileOfSorted, sortedCopy } from '../stats/index.js';

export interface MeshRailInfo {
  device: string;
  netdev: string;
  ipv4: string;
  activeMtu: number;
  rateGbps: number;
}

export interface MeshRank {
  rank: number;
  host: string;
  rails: MeshRailInfo[];
}

/** What one directed pair measured on one rail (or why it could not). */
export interface CellOutcome {
  src: number;
  dst: number;
  rail: number;
  gbps?: number;
  shareOfLimit?: number | null;
  latP50Us?: number;
  failed?: string;
}

export interface RailMatrix {
  rail: number;
  /** Gb/s (10^9 bit/s); null on the diagonal and where the cell failed. */
  gbps: (number | null)[][];
  /** gbps over the RoCEv2 goodput limit of the rail's rate, MTU and size (null if unknown). */
  share: (number | null)[][];
  /** One-way latency p50 in microseconds, with --lat. */
  latP50Us?: (number | null)[][];
  failed: [number, number, string][];
  /** Cells below slowFraction x the median and below slowShare of the limit. */
  slow: [number, number][];
  medianGbps: number | null;
}

export interface SlowRule {
  /** A cell is slow below this fraction of its rail's median... */
  fraction: number;
  /** ...and below this share of the goodput limit (when the limit is known). */
  share: number;
}

export const DEFAULT_SLOW_RULE: SlowRule = { fraction: 0.8, share: 0.9 };

export interface MeshResult {
  ranks: MeshRank[];
  rails: RailMatrix[];
  /** Rounds of the schedule that ran. */
  rounds: number;
  params: Record<string, unknown>;
}

function grid<T>(n: number, fill: T): T[][] {
  return Array.from({ length: n }, () => Array.from({ length: n }, () => fill));
}

/** Folds cell outcomes into per-rail matrices and flags the slow cells. */
export function buildMatrices(n: number, railCount: number, outcomes: CellOutcome[], rule: SlowRule, withLatency: boolean): RailMatrix[] {
  return Array.from({ length: railCount }, (_, rail) => {
    const gbps = grid<number | null>(n, null);
    const share = grid<number | null>(n, null);
    const lat = withLatency ? grid<number | null>(n, null) : undefined;
    const failed: [number, number, string][] = [];
    for (const o of outcomes) {
      if (o.rail !== rail) continue;
      if (o.failed !== undefined) {
        failed.push([o.src, o.dst, o.failed]);
        continue;
      }
      if (o.gbps !== undefined) gbps[o.src]![o.dst] = o.gbps;
      if (o.shareOfLimit !== undefined) share[o.src]![o.dst] = o.shareOfLimit;
      if (lat && o.latP50Us !== undefined) lat[o.src]![o.dst] = o.latP50Us;
    }
    failed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const values = gbps.flat().filter((v): v is number => v !== null);
    const med = values.length > 0 ? quantileOfSorted(sortedCopy(values, 'cell rates'), 0.5) : null;
    const slow: [number, number][] = [];
    if (med !== null) {
      for (let s = 0; s < n; s++) {
        for (let d = 0; d < n; d++) {
          const v = gbps[s]![d];
          if (v === null || v === undefined) continue;
          const sh = share[s]![d];
          if (v < rule.fraction * med && (sh === null || sh === undefined || sh < rule.share)) slow.push([s, d]);
        }
      }
    }
    return { rail, gbps, share, ...(lat ? { latP50Us: lat } : {}), failed, slow, medianGbps: med };
  });
}

/** Cells that should have been measured but were not (neither a figure nor a failure). */
export function missingCells(m: RailMatrix): [number, number][] {
  const failed = new Set(m.failed.map(([s, d]) => `${s},${d}`));
  const out: [number, number][] = [];
  m.gbps.forEach((row, s) => row.forEach((v, d) => {
    if (s !== d && v === null && !failed.has(`${s},${d}`)) out.push([s, d]);
  }));
  return out;
}

export const MESH_SCHEMA = 'spark-rdma.mesh/1';

/** The JSON of issue 19: {schema, ranks, rails: [{rail, gbps, failed, ...}], rounds, params}. */
export function meshJson(result: MeshResult): string {
  return JSON.stringify({ schema: MESH_SCHEMA, ...result }, null, 2);
}
