// Ratio arithmetic for side-by-side runs: every figure is spark-rdma over perftest, measured
// back to back in the same guest, and a comparison is summarised by the median of its ratios.

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values: a comparison needs at least one pair');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** spark / perftest; null when the reference is not a positive finite number (a failed run). */
export function ratio(spark: number, perftest: number): number | null {
  if (!Number.isFinite(spark) || !Number.isFinite(perftest) || perftest <= 0 || spark < 0) return null;
  return spark / perftest;
}

/** Median of the ratios that exist; null when no pair produced one. */
export function medianRatio(ratios: readonly (number | null)[]): number | null {
  const present = ratios.filter((r): r is number => r !== null);
  return present.length > 0 ? median(present) : null;
}

/** The smallest and largest of the ratios that exist (how far pairs spread); null when none does. */
export function ratioRange(ratios: readonly (number | null)[]): { min: number; max: number } | null {
  const present = ratios.filter((r): r is number => r !== null);
  return present.length > 0 ? { min: Math.min(...present), max: Math.max(...present) } : null;
}

export type GoalDirection = 'at-least' | 'at-most' | 'below';

export interface GoalCheck {
  goal: string;
  value: number | null;
  target: number;
  direction: GoalDirection;
  /** null when there was nothing to judge (every run of the comparison failed). */
  met: boolean | null;
}

export function checkGoal(goal: string, value: number | null, direction: GoalDirection, target: number): GoalCheck {
  const met = value === null ? null : direction === 'at-least' ? value >= target : direction === 'at-most' ? value <= target : value < target;
  return { goal, value, target, direction, met };
}
