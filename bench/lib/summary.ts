// From the guest's run records to what the report shows: per comparison, each pair's figures
// and ratio (B / A: spark-rdma over perftest) and the median ratio; the size sweep per size;
// event-loop lag; dual-rail scaling; and the goals of issue 6.
import type { BenchCase, RunRecord } from './cases.js';
import { checkGoal, median, medianRatio, ratio, ratioRange, type GoalCheck } from './stats.js';

export interface PairFigures {
  pair: number;
  a: number | null;
  b: number | null;
  ratio: number | null;
  errors: string[];
  /** Another QEMU guest ran on the host during one of the two runs. */
  contended: boolean;
}

export interface MetricComparison {
  /** e.g. 'Gb/s', 'Mmsg/s', 'p50 us', 'p99 us'. */
  metric: string;
  pairs: PairFigures[];
  medianA: number | null;
  medianB: number | null;
  medianRatio: number | null;
  /** The smallest and largest pair ratio: the spread around the median. */
  ratioRange: { min: number; max: number } | null;
}

export interface CaseSummary {
  id: string;
  title: string;
  toolA: string;
  toolB: string;
  metrics: MetricComparison[];
}

export interface SweepPoint {
  bytes: number;
  perftestGbps: number | null;
  sparkGbps: number | null;
  medianRatio: number | null;
  /** The smallest and largest pair ratio at this size. */
  ratioRange: { min: number; max: number } | null;
  /** Pairs that gave a ratio at this size. */
  pairs: number;
}

export interface LagFigures {
  p99Ms: number | null;
  maxMs: number | null;
}

export interface LagSummary {
  runs: number;
  idle: LagFigures;
  oneRailWhole: LagFigures;
  oneRailTimed: LagFigures;
  twoRailsWhole: LagFigures;
  twoRailsTimed: LagFigures;
  /** The same two-rail run with the engine threads at the lowest priority (engineNice 19). */
  twoRailsNice19Timed: LagFigures;
  /** Two-rail total bandwidth at the default priority, Gb/s: median of the runs. */
  twoRailsGbps: number | null;
  /** Two-rail total bandwidth at engineNice 19 over the default: median of per-pair ratios. */
  nice19GbpsRatio: number | null;
}

export interface Scaling {
  tool: string;
  singleGbps: number | null;
  dualGbps: number | null;
  factor: number | null;
  /** Where the factor comes from: alternating one-rail/both-rail pairs (g, g2), else (e) over (a). */
  source: 'pairs' | 'medians';
}

/** Case tsfn: what a sample delivered through the thread-safe function costs. */
export interface SampleCost {
  pairs: number;
  /** Samples per second the JS side received at a 1 ms interval (the engine emits at most one per CQ poll). */
  samplesPerSecond: number | null;
  /** Extra JS-thread CPU per extra sample: (CPU at 1 ms - CPU at 1 s) / (samples at 1 ms - samples at 1 s). */
  jsCpuPerSampleUs: number | null;
  /** Message rate at 1 ms samples over message rate at 1 s samples. */
  msgRateRatio: number | null;
}

export interface Summary {
  cases: CaseSummary[];
  sweep: SweepPoint[];
  lag: LagSummary | null;
  /** The lag case again in a guest whose emulated timers run first (lag-t). */
  lagTimersFirst: LagSummary | null;
  sampleCost: SampleCost | null;
  scaling: Scaling[];
  goals: GoalCheck[];
}

type Pick = (r: RunRecord) => number | undefined;

const medianOrNull = (values: (number | null | undefined)[]): number | null => {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return present.length > 0 ? median(present) : null;
};

function pairsOf(records: RunRecord[]): Map<number, { a?: RunRecord; b?: RunRecord }> {
  const pairs = new Map<number, { a?: RunRecord; b?: RunRecord }>();
  for (const r of records) {
    const p = pairs.get(r.pair) ?? {};
    if (r.side === 'A') p.a = r;
    else p.b = r;
    pairs.set(r.pair, p);
  }
  return new Map([...pairs.entries()].sort((x, y) => x[0] - y[0]));
}

function compare(records: RunRecord[], metric: string, pick: Pick): MetricComparison {
  const pairs: PairFigures[] = [];
  for (const [pair, { a, b }] of pairsOf(records)) {
    const av = a?.ok ? (pick(a) ?? null) : null;
    const bv = b?.ok ? (pick(b) ?? null) : null;
    const errors = [a, b].filter((r): r is RunRecord => r !== undefined && !r.ok).map((r) => `${r.tool}: ${r.error ?? 'failed'}`);
    const contended = Boolean(a?.otherGuestSeen || b?.otherGuestSeen);
    pairs.push({ pair, a: av, b: bv, ratio: av !== null && bv !== null ? ratio(bv, av) : null, errors, contended });
  }
  return {
    metric,
    pairs,
    medianA: medianOrNull(pairs.map((p) => p.a)),
    medianB: medianOrNull(pairs.map((p) => p.b)),
    medianRatio: medianRatio(pairs.map((p) => p.ratio)),
    ratioRange: ratioRange(pairs.map((p) => p.ratio)),
  };
}

/** What each side cost in CPU, where both recorded it (issue 17). */
function cpuMetrics(records: RunRecord[], perGB = true): MetricComparison[] {
  if (!records.some((r) => r.coreShare !== undefined)) return [];
  const out = [compare(records, 'core share', (r) => r.coreShare)];
  if (perGB) out.push(compare(records, 'CPU s/GB', (r) => r.cpuSecondsPerGB));
  return out;
}

function metricsFor(c: BenchCase, records: RunRecord[]): MetricComparison[] {
  switch (c.kind) {
    case 'dual':
    case 'wire-dual':
    case 'scaling':
      // perftest's figure is two processes' averages added up; spark-rdma's per-rail rates are
      // added up the same way (its total over the union of both rails' windows is in the JSON).
      return [compare(records, 'Gb/s', (r) => (r.railsGbps && r.railsGbps.length > 0 ? r.railsGbps.reduce((x, y) => x + y, 0) : r.gbps))];
    case 'bw':
    case 'bw-two-process':
    case 'spark-modes':
      return [
        ...(c.metric === 'mpps'
          ? [compare(records, 'Mmsg/s', (r) => r.mpps), compare(records, 'Gb/s', (r) => r.gbps)]
          : [compare(records, 'Gb/s', (r) => r.gbps)]),
        ...cpuMetrics(records),
      ];
    case 'lat':
    case 'lat-two-process':
    case 'wire-lat':
      return [compare(records, 'p50 us', (r) => r.p50Us), compare(records, 'p99 us', (r) => r.p99Us), compare(records, 'min us', (r) => r.minUs), ...cpuMetrics(records, false)];
    case 'tsfn':
      return [
        compare(records, 'Mmsg/s', (r) => r.mpps),
        compare(records, 'samples/s', (r) => (r.extra as { samplesPerSecond?: number } | undefined)?.samplesPerSecond),
      ];
    default:
      return [];
  }
}

function toolNames(records: RunRecord[]): { toolA: string; toolB: string } {
  return { toolA: records.find((r) => r.side === 'A')?.tool ?? 'perftest', toolB: records.find((r) => r.side === 'B')?.tool ?? 'spark-rdma' };
}

export function summarizeSweep(records: RunRecord[]): SweepPoint[] {
  const sizes = [...new Set(records.flatMap((r) => (r.sweep ?? []).map((p) => p.bytes)))].sort((x, y) => x - y);
  return sizes.map((bytes) => {
    const at = (r: RunRecord | undefined) => (r?.ok ? r.sweep?.find((p) => p.bytes === bytes)?.gbps : undefined);
    const pairs = [...pairsOf(records).values()];
    const ratios = pairs.map(({ a, b }) => {
      const av = at(a);
      const bv = at(b);
      return av !== undefined && bv !== undefined ? ratio(bv, av) : null;
    });
    return {
      bytes,
      perftestGbps: medianOrNull(pairs.map(({ a }) => at(a))),
      sparkGbps: medianOrNull(pairs.map(({ b }) => at(b))),
      medianRatio: medianRatio(ratios),
      ratioRange: ratioRange(ratios),
      pairs: ratios.filter((r) => r !== null).length,
    };
  });
}

interface LagExtra {
  idle: { p99Ms: number; maxMs: number };
  oneRail: { wholeRun: { p99Ms: number; maxMs: number }; timedPhase: { p99Ms: number; maxMs: number } };
  twoRails: { wholeRun: { p99Ms: number; maxMs: number }; timedPhase: { p99Ms: number; maxMs: number }; gbps: number };
  twoRailsNice19?: { timedPhase: { p99Ms: number; maxMs: number }; gbps: number };
}

export function summarizeLag(records: RunRecord[]): LagSummary | null {
  const runs = records.filter((r) => r.ok && r.extra).map((r) => r.extra as unknown as LagExtra);
  if (runs.length === 0) return null;
  const fig = (get: (x: LagExtra) => { p99Ms: number; maxMs: number }): LagFigures => ({
    p99Ms: medianOrNull(runs.map((x) => get(x).p99Ms)),
    maxMs: medianOrNull(runs.map((x) => get(x).maxMs)),
  });
  return {
    runs: runs.length,
    idle: fig((x) => x.idle),
    oneRailWhole: fig((x) => x.oneRail.wholeRun),
    oneRailTimed: fig((x) => x.oneRail.timedPhase),
    twoRailsWhole: fig((x) => x.twoRails.wholeRun),
    twoRailsTimed: fig((x) => x.twoRails.timedPhase),
    twoRailsNice19Timed: fig((x) => x.twoRailsNice19?.timedPhase ?? { p99Ms: NaN, maxMs: NaN }),
    twoRailsGbps: medianOrNull(runs.map((x) => x.twoRails.gbps)),
    nice19GbpsRatio: medianOrNull(runs.filter((x) => x.twoRailsNice19 && x.twoRails.gbps > 0).map((x) => x.twoRailsNice19!.gbps / x.twoRails.gbps)),
  };
}

interface TsfnExtra {
  samples: number;
  samplesPerSecond: number;
  mainThreadCpuSeconds: number;
}

export function summarizeSampleCost(records: RunRecord[]): SampleCost | null {
  const pairs = [...pairsOf(records).values()].filter(({ a, b }) => a?.ok && b?.ok && a.extra && b.extra);
  if (pairs.length === 0) return null;
  const extra = (r: RunRecord) => r.extra as unknown as TsfnExtra;
  return {
    pairs: pairs.length,
    samplesPerSecond: medianOrNull(pairs.map(({ b }) => extra(b!).samplesPerSecond)),
    jsCpuPerSampleUs: medianOrNull(
      pairs.map(({ a, b }) => {
        const extraSamples = extra(b!).samples - extra(a!).samples;
        return extraSamples > 0 ? ((extra(b!).mainThreadCpuSeconds - extra(a!).mainThreadCpuSeconds) / extraSamples) * 1e6 : null;
      }),
    ),
    msgRateRatio: medianRatio(pairs.map(({ a, b }) => ratio(b!.mpps ?? NaN, a!.mpps ?? NaN))),
  };
}

const metricOf = (s: CaseSummary | undefined, metric: string) => s?.metrics.find((m) => m.metric === metric) ?? null;

/**
 * Each tool's both-rails over one-rail factor. From its scaling case when that ran (the median
 * of pair ratios, one rail and both rails alternating); otherwise from the medians of (a) and (e),
 * which ran minutes apart and so carry whatever the host's load did in between.
 */
function scalingOf(single: MetricComparison | null, dual: MetricComparison | null, sparkPairs: MetricComparison | null, perftestPairs: MetricComparison | null): Scaling[] {
  const of = (tool: string, pairs: MetricComparison | null, side: 'medianA' | 'medianB'): Scaling => {
    if (pairs) return { tool, singleGbps: pairs.medianA, dualGbps: pairs.medianB, factor: pairs.medianRatio, source: 'pairs' };
    const singleGbps = single?.[side] ?? null;
    const dualGbps = dual?.[side] ?? null;
    return { tool, singleGbps, dualGbps, factor: singleGbps !== null && dualGbps !== null ? ratio(dualGbps, singleGbps) : null, source: 'medians' };
  };
  return [of('perftest', perftestPairs, 'medianA'), of('spark-rdma', sparkPairs, 'medianB')];
}

export function summarize(cases: BenchCase[], records: RunRecord[]): Summary {
  const byCase = (id: string) => records.filter((r) => r.case === id);
  const summaries: CaseSummary[] = cases
    .filter((c) => c.kind !== 'sweep' && c.kind !== 'lag' && byCase(c.id).length > 0)
    .map((c) => ({ id: c.id, title: c.title, ...toolNames(byCase(c.id)), metrics: metricsFor(c, byCase(c.id)) }));
  const find = (id: string) => summaries.find((s) => s.id === id);
  const single = metricOf(find('a'), 'Gb/s');
  const dual = metricOf(find('e'), 'Gb/s');
  const scaling = scalingOf(single, dual, metricOf(find('g'), 'Gb/s'), metricOf(find('g2'), 'Gb/s'));
  const lag = summarizeLag(byCase('lag'));
  const lagTimersFirst = summarizeLag(byCase('lag-t'));
  const goals: GoalCheck[] = [];
  const add = (goal: string, m: MetricComparison | null, dir: 'at-least' | 'at-most', target: number) => {
    if (m) goals.push(checkGoal(goal, m.medianRatio, dir, target));
  };
  add('(a) bandwidth 64 KiB 1 QP, ratio >= 1.00', single, 'at-least', 1);
  add('(b) bandwidth 64 KiB 4 QPs, ratio >= 1.00', metricOf(find('b'), 'Gb/s'), 'at-least', 1);
  add('(c) message rate 64 B post list, ratio >= 1.00', metricOf(find('c'), 'Mmsg/s'), 'at-least', 1);
  add('(d) latency p50, ratio <= 1.05', metricOf(find('d'), 'p50 us'), 'at-most', 1.05);
  add('(d) latency p99, ratio <= 1.10', metricOf(find('d'), 'p99 us'), 'at-most', 1.1);
  add('(e) both rails, ratio >= 1.00', dual, 'at-least', 1);
  // Issue 14: across the two-guest wire.
  add('(w-bw) wire: bandwidth both rails, ratio >= 1.00', metricOf(find('w-bw'), 'Gb/s'), 'at-least', 1);
  add('(w-lat0) wire: latency p50 rail 0, ratio <= 1.05', metricOf(find('w-lat0'), 'p50 us'), 'at-most', 1.05);
  add('(w-lat1) wire: latency p50 rail 1, ratio <= 1.05', metricOf(find('w-lat1'), 'p50 us'), 'at-most', 1.05);
  const sparkScaling = scaling.find((x) => x.tool === 'spark-rdma')!;
  if (sparkScaling.factor !== null) {
    const how = sparkScaling.source === 'pairs' ? 'median of alternating pairs (g)' : '(e) over (a), medians';
    goals.push(checkGoal(`dual rail >= 1.9x one rail (spark-rdma, ${how})`, sparkScaling.factor, 'at-least', 1.9));
  }
  if (lag) goals.push(checkGoal('event-loop lag p99 < 5 ms during a run (one rail, timed phase)', lag.oneRailTimed.p99Ms, 'below', 5));
  if (lag) goals.push(checkGoal('(lag) event-loop lag p99 < 2 ms during a two-rail polling run (timed phase)', lag.twoRailsTimed.p99Ms, 'below', 2));
  if (lagTimersFirst) {
    goals.push(checkGoal('(lag-t) the same, emulator timers first: event-loop lag p99 < 2 ms', lagTimersFirst.twoRailsTimed.p99Ms, 'below', 2));
    // Issue 17 point 4: whatever quiets the loop must keep >= 0.98x of the two-rail bandwidth.
    if (lag?.twoRailsGbps && lagTimersFirst.twoRailsGbps) {
      goals.push(checkGoal('(lag-t) two-rail bandwidth over (lag)\'s, ratio of medians >= 0.98', lagTimersFirst.twoRailsGbps / lag.twoRailsGbps, 'at-least', 0.98));
    }
  }
  // Issue 17.
  add('(a) CPU per GB <= perftest polling', metricOf(find('a'), 'CPU s/GB'), 'at-most', 1);
  add('(b) CPU per GB <= perftest polling, 4 QPs', metricOf(find('b'), 'CPU s/GB'), 'at-most', 1);
  add('(a-ev) CPU per GB <= perftest, both event-driven', metricOf(find('a-ev'), 'CPU s/GB'), 'at-most', 1);
  add('(c-t2) message rate 64 B, 2 QPs, --threads 2, ratio >= 1.3', metricOf(find('c-t2'), 'Mmsg/s'), 'at-least', 1.3);
  add('(b-t2) bandwidth 64 KiB, 4 QPs, --threads 2, ratio >= 1.15', metricOf(find('b-t2'), 'Gb/s'), 'at-least', 1.15);
  add('(ev) --events bandwidth >= 0.95x polling', metricOf(find('ev'), 'Gb/s'), 'at-least', 0.95);
  add('(ev) --events CPU per GB at least 3x lower than polling', metricOf(find('ev'), 'CPU s/GB'), 'at-most', 1 / 3);
  const sweep = summarizeSweep(byCase('f'));
  const sweepRatios = sweep.map((p) => p.medianRatio);
  if (sweepRatios.length > 0) {
    const worst = sweepRatios.some((r) => r === null) ? null : Math.min(...(sweepRatios as number[]));
    goals.push(checkGoal('(f) sweep: every size 2 B to 8 MiB >= 0.97 (the lowest size\'s median ratio)', worst, 'at-least', 0.97));
  }
  return { cases: summaries, sweep, lag, lagTimersFirst, sampleCost: summarizeSampleCost(byCase('tsfn')), scaling, goals };
}
