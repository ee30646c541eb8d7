// Single or dual rail from saved bandwidth runs. Dual rail must be CLEARLY faster: GB10 has no
// GPUDirect RDMA, so NCCL stages every transfer through host memory and a second rail adds
// staging work. One measured pair of DGX Sparks served vLLM (TP=2) at 299 tok/s on one rail and 239 on two:
// dual rail cost 20 % end to end. To pay that back the raw gain must exceed 1 / 0.8 = 1.25x;
// 1.3x leaves a margin over run-to-run noise (a few %). On a healthy DGX Spark pair dual rail
// measures about 1.9x (92.6 + 97.3 Gb/s vs one half), a half trained at PCIe x2 about 1.1-1.2x.
import { invalidArgument } from '../errors.js';
import { formatByteSize } from '../report/units.js';
import type { MeasuredRun, MeasuredSize } from './measurements.js';
import type { RailComparison, RailMode } from './types.js';

/** Dual rail is chosen only when it measured at least this many times the single-rail rate. */
export const DUAL_RAIL_MIN_SPEEDUP = 1.3;

/** What the measurements say, with the sentence that explains it. */
export interface MeasurementVerdict {
  verdict: RailMode;
  comparison: RailComparison | null;
  reason: string;
}

export const DUAL_RAIL_TOKENS_NOTE =
  'with GDR off every NCCL transfer is staged through host memory and a second rail adds staging cost ' +
  '(one measured pair of DGX Sparks served vLLM at 299 tok/s on one rail vs 239 tok/s on two)';

const gb = (x: number) => `${x.toFixed(1)} Gb/s`;
const times = (x: number) => `${x.toFixed(2)}x`;

/** Checks a speedup threshold given by a caller or on the command line. */
export function checkThreshold(threshold: number): number {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 1 || threshold > 10) {
    throw invalidArgument(
      `dual-rail threshold ${threshold} is out of range: it must be a speedup from 1 to 10`,
      `pass e.g. --dual-threshold ${DUAL_RAIL_MIN_SPEEDUP} (dual rail must measure that many times the single-rail rate)`,
    );
  }
  return threshold;
}

function at(run: MeasuredRun, size: number): MeasuredSize | undefined {
  return run.sizes.find((s) => s.size === size);
}

function largest(run: MeasuredRun): MeasuredSize {
  return run.sizes.reduce((a, b) => (b.size > a.size ? b : a));
}

function best<T>(items: T[], score: (t: T) => number): T {
  return items.reduce((a, b) => (score(b) > score(a) ? b : a));
}

function nonZero(gbps: number, run: MeasuredRun, size: number): number {
  if (gbps <= 0) {
    throw invalidArgument(
      `${run.source}: measured 0 Gb/s at ${formatByteSize(size)} messages, nothing to compare`,
      'measure again with spark-rdma bw --json; a run that moved no data cannot decide the rail count',
    );
  }
  return gbps;
}

/**
 * Compares single- and multi-rail runs: at the largest message size both measured (large
 * messages are what NCCL moves), the best multi-rail aggregate against the best single-rail
 * one. Without a single-rail run the verdict stays single: the fastest rail inside the
 * multi-rail run gives only an optimistic estimate (rails running together can share a
 * bottleneck that a rail alone does not see), so it is reported but never decides.
 */
export function compareRailCounts(runs: readonly MeasuredRun[], threshold: number = DUAL_RAIL_MIN_SPEEDUP): MeasurementVerdict {
  checkThreshold(threshold);
  if (runs.length === 0) throw invalidArgument('no measurements to compare', 'pass at least one saved spark-rdma bw --json result');
  const singles = runs.filter((r) => r.rails.length === 1);
  const multis = runs.filter((r) => r.rails.length >= 2);

  if (multis.length === 0) {
    const top = best(singles, (r) => largest(r).totalGbps);
    const s = largest(top);
    return {
      verdict: 'single',
      comparison: null,
      reason:
        `single rail: only single-rail runs were measured (best ${gb(s.totalGbps)} at ${formatByteSize(s.size)} in ${top.source}), ` +
        'nothing shows a second rail helps; save a dual-rail run too (spark-rdma bw --rails 2 --json) to compare',
    };
  }

  const singleSizes = new Set(singles.flatMap((r) => r.sizes.map((s) => s.size)));
  const common = multis.flatMap((r) => r.sizes.map((s) => s.size)).filter((size) => singleSizes.has(size));
  let comparison: RailComparison;
  if (singles.length > 0 && common.length > 0) {
    const size = Math.max(...common);
    const single = best(singles.filter((r) => at(r, size)), (r) => at(r, size)!.totalGbps);
    const dual = best(multis.filter((r) => at(r, size)), (r) => at(r, size)!.totalGbps);
    const singleGbps = nonZero(at(single, size)!.totalGbps, single, size);
    const dualGbps = at(dual, size)!.totalGbps;
    comparison = make(size, singleGbps, single.source, false, dualGbps, dual, threshold);
  } else {
    // No single-rail run at a size the multi-rail run has: estimate from inside the best multi-rail run.
    const dual = best(multis, (r) => largest(r).totalGbps);
    const s = largest(dual);
    const fastestRail = Math.max(...s.rails.map((r) => r.gbps));
    const singleGbps = nonZero(fastestRail, dual, s.size);
    comparison = { ...make(s.size, singleGbps, `the fastest rail of ${dual.source}`, true, s.totalGbps, dual, threshold), verdict: 'single' };
  }
  return { verdict: comparison.verdict, comparison, reason: explain(comparison) };
}

function make(
  size: number,
  singleGbps: number,
  singleSource: string,
  singleEstimated: boolean,
  dualGbps: number,
  dual: MeasuredRun,
  threshold: number,
): RailComparison {
  const speedup = dualGbps / singleGbps;
  return {
    size,
    singleGbps,
    singleSource,
    singleEstimated,
    dualGbps,
    dualSource: dual.source,
    dualRails: [...dual.rails],
    speedup,
    threshold,
    verdict: speedup >= threshold ? 'dual' : 'single',
  };
}

function explain(c: RailComparison): string {
  const measured =
    `${c.dualRails.length} rails measured ${gb(c.dualGbps)} (${c.dualSource}) against ${gb(c.singleGbps)} on one ` +
    `(${c.singleSource}) at ${formatByteSize(c.size)} messages: ${times(c.speedup)}, dual rail needs >= ${times(c.threshold)}`;
  if (c.singleEstimated) {
    return (
      `single rail: ${measured}; but with no single-rail run that does not show dual rail is faster (rails running together can ` +
      'share a bottleneck a rail alone does not see). Save spark-rdma bw --rails 1 --json and pass it with --from too'
    );
  }
  if (c.verdict === 'dual') return `dual rail: ${measured}`;
  return `single rail: ${measured}, so it is not clearly faster; ${DUAL_RAIL_TOKENS_NOTE}`;
}
