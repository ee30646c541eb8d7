// The markdown report of a bench run: conditions, every pair of every comparison, the medians
// against the goals, the sweep, event-loop lag, engine counters and the micro-benchmarks.
import type { RunRecord } from './cases.js';
import type { GoalCheck } from './stats.js';
import type { LagSummary, Summary, SweepPoint } from './summary.js';

export interface MicroRow {
  name: string;
  /** Operations per second (mean throughput). */
  opsPerSecond: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  samples: number;
}

export interface ReportInput {
  date: string;
  conditions: Record<string, string>;
  summary: Summary;
  records: RunRecord[];
  micro: MicroRow[] | null;
  notes: string[];
  chartFile: string | null;
  /** Where the pairs ran, for the heading and the introduction: one guest unless said otherwise. */
  where?: { title: string; setting: string };
}

const ONE_GUEST = { title: 'spark-rdma vs perftest, side by side', setting: 'in the same soft-RoCE guest, on the same rail' };

export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v !== 0 && Math.abs(v) < 10 ** -digits) return v.toExponential(2);
  return v.toFixed(digits);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function goalText(g: GoalCheck): string {
  return g.met === null ? 'no data' : g.met ? 'met' : '**not met**';
}

function digitsFor(metric: string): number {
  return metric === 'Mmsg/s' ? 4 : metric === 'samples/s' ? 1 : metric.endsWith('us') ? 2 : 3;
}

export function renderReport(input: ReportInput): string {
  const { summary } = input;
  const out: string[] = [];
  const where = input.where ?? ONE_GUEST;
  out.push(`# ${where.title} (${input.date})`, '');
  out.push(`Every ratio is spark-rdma / perftest for one pair of runs made back to back (perftest first) ${where.setting}, with the same parameters; a comparison is summarised by the median of its pair ratios, and its spread by the smallest and largest pair ratio. Absolute figures from an emulated guest mean little; the ratios are the result.`, '');
  out.push('## Conditions', '', table(['', ''], Object.entries(input.conditions).map(([k, v]) => [k, v])), '');

  out.push('## Goals (medians of ratios)', '');
  out.push(table(['goal', 'value', 'result'], summary.goals.map((g) => [g.goal, num(g.value), goalText(g)])), '');

  out.push('## Comparisons', '');
  if (summary.cases.some((c) => c.metrics.some((m) => m.pairs.some((p) => p.contended)))) {
    out.push('† another QEMU guest (someone else\'s test run) was running on the host during this pair.', '');
  }
  out.push(
    table(
      ['case', 'metric', 'A', 'B', 'pairs (A / B = ratio)', 'median A', 'median B', 'median ratio B/A', 'ratio min – max'],
      summary.cases.flatMap((c) =>
        c.metrics.map((m) => {
          const d = digitsFor(m.metric);
          const pairs = m.pairs
            .map((p) => (p.errors.length > 0 ? `#${p.pair} failed` : `${num(p.a, d)} / ${num(p.b, d)} = ${num(p.ratio)}${p.contended ? ' †' : ''}`))
            .join('; ');
          const range = m.ratioRange ? `${num(m.ratioRange.min)} – ${num(m.ratioRange.max)}` : '–';
          return [`(${c.id}) ${c.title}`, m.metric, c.toolA, c.toolB, pairs, num(m.medianA, d), num(m.medianB, d), num(m.medianRatio), range];
        }),
      ),
    ),
    '',
  );

  if (summary.scaling.some((s) => s.factor !== null)) {
    out.push('## Dual rail: both rails at once over one rail', '');
    const from = (s: (typeof summary.scaling)[number]) =>
      s.source === 'pairs' ? `${s.tool === 'perftest' ? '(g2)' : '(g)'} median of alternating pairs` : '(e) over (a), medians of runs minutes apart';
    out.push(
      table(['tool', 'one rail Gb/s', 'both rails Gb/s', 'factor', 'from'], summary.scaling.map((s) => [s.tool, num(s.singleGbps), num(s.dualGbps), num(s.factor, 3), from(s)])),
      '',
    );
  }

  if (summary.lag) out.push(...lagSection('Event-loop lag', summary.lag));
  if (summary.lagTimersFirst) {
    out.push(
      ...lagSection('Event-loop lag, emulator timers first (lag-t)', summary.lagTimersFirst),
      "The same case in a guest booted with SPARK_RDMA_VM_TIMER_FIFO=10: QEMU's main loop, which fires the guest's timers under TCG, runs at SCHED_FIFO on the host instead of waiting behind both spinning vCPU threads (scripts/vm/timer-priority.mjs). A real machine has no such thread; this takes the emulator's share out of the figure.",
      '',
    );
  }

  if (summary.sampleCost) {
    const c = summary.sampleCost;
    out.push(`## Samples through the thread-safe function (tsfn: 64 B writes, 1 ms against 1 s sample intervals; medians of ${c.pairs} pairs)`, '');
    out.push(
      table(
        ['figure', 'value'],
        [
          ['samples received per second at a 1 ms interval', num(c.samplesPerSecond, 0)],
          ['JS-thread CPU per extra sample (us; /proc, 10 ms ticks)', num(c.jsCpuPerSampleUs, 0)],
          ['message rate at 1 ms samples / at 1 s samples', num(c.msgRateRatio)],
        ],
      ),
      '',
    );
  }

  if (summary.sweep.length > 0) {
    out.push('## Size sweep (f): Gb/s, medians over pairs', '');
    if (input.chartFile) out.push(`![size sweep](${input.chartFile})`, '');
    const range = (r: SweepPoint['ratioRange']) => (r ? `${num(r.min)} to ${num(r.max)}` : '-');
    out.push(table(['size', 'perftest Gb/s', 'spark-rdma Gb/s', 'median ratio', 'pair ratios (min to max)', 'pairs'], summary.sweep.map((p) => [formatBytes(p.bytes), num(p.perftestGbps), num(p.sparkGbps), num(p.medianRatio), range(p.ratioRange), String(p.pairs)])), '');
  }

  const engineRows = input.records
    .filter((r) => r.ok && r.engine && r.engine.length > 0)
    .map((r) => [
      `(${r.case}) #${r.pair}`,
      r.tool,
      r.engine!.map((e) => String(e['postCalls'])).join(' + '),
      r.engine!.map((e) => String(e['pollCalls'])).join(' + '),
      r.engine!.map((e) => String(e['emptyPolls'])).join(' + '),
    ]);
  if (engineRows.length > 0) {
    out.push('## spark-rdma engine counters (per rail)', '', table(['run', 'tool', 'postCalls', 'pollCalls', 'emptyPolls'], engineRows), '');
  }

  if (input.micro && input.micro.length > 0) {
    out.push('## Micro-benchmarks (host, tinybench)', '');
    out.push(table(['task', 'ops/s', 'mean us', 'p50 us', 'p99 us', 'samples'], input.micro.map((m) => [m.name, num(m.opsPerSecond, 0), num(m.meanUs, 3), num(m.p50Us, 3), num(m.p99Us, 3), String(m.samples)])), '');
  }

  if (input.notes.length > 0) out.push('## Notes', '', ...input.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

function lagSection(title: string, l: LagSummary): string[] {
  const out: string[] = [];
  out.push(`## ${title} (perf_hooks.monitorEventLoopDelay, 1 ms resolution; medians of ${l.runs} runs)`, '');
  out.push('Node records the time between ticks of a 1 ms timer, so an idle loop reads about 1 ms. "Idle" is the same process with nothing running: the guest\'s own scheduling noise.', '');
  out.push(
    table(
      ['while', 'p99 ms', 'max ms'],
      [
        ['idle (baseline)', num(l.idle.p99Ms, 2), num(l.idle.maxMs, 2)],
        ['runBandwidth, one rail, whole call (setup included)', num(l.oneRailWhole.p99Ms, 2), num(l.oneRailWhole.maxMs, 2)],
        ['runBandwidth, one rail, timed phase', num(l.oneRailTimed.p99Ms, 2), num(l.oneRailTimed.maxMs, 2)],
        ['runBandwidth, two rails, whole call', num(l.twoRailsWhole.p99Ms, 2), num(l.twoRailsWhole.maxMs, 2)],
        ['runBandwidth, two rails, timed phase', num(l.twoRailsTimed.p99Ms, 2), num(l.twoRailsTimed.maxMs, 2)],
        ['the same, engine threads at the lowest priority (engineNice 19)', num(l.twoRailsNice19Timed.p99Ms, 2), num(l.twoRailsNice19Timed.maxMs, 2)],
      ],
    ),
    '',
    `Two-rail total bandwidth at the default priority: ${num(l.twoRailsGbps)} Gb/s (median); at engineNice 19 over the default (median of per-pair ratios): ${num(l.nice19GbpsRatio)}.`,
    '',
  );
  return out;
}
