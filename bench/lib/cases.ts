// The side-by-side comparisons of issue 6: what perftest runs and what spark-rdma runs, with
// the same rail, message size, QP count, post list and duration (or iteration count).
// Shared by the host driver (which picks and reports them) and the guest runner (which runs them).

/** wire-*: across the two-guest wire (bench/guest/wire.ts), server on node0, client on node1. */
export type CaseKind = 'bw' | 'bw-two-process' | 'dual' | 'scaling' | 'lat' | 'lat-two-process' | 'sweep' | 'lag' | 'tsfn' | 'spark-modes' | 'wire-dual' | 'wire-lat';

export interface BenchCase {
  id: string;
  title: string;
  kind: CaseKind;
  /** ib_write_bw / ib_write_lat arguments besides -d, -p, -F, --report_gbits and the peer. */
  perftest: string[];
  /** `spark-rdma bw|lat` arguments besides the mode (--loopback or the peer), --devices and --json. */
  spark: string[];
  devices: string[];
  /** The figure the pair ratio is taken of. */
  metric: 'gbps' | 'mpps' | 'latency' | 'sweep' | 'lag' | 'samples';
  /**
   * At least this many pairs, whatever --pairs says: a latency run is cheap, and its median
   * swings between two modes of the emulated guest (about 7.4 and 10 us) run by run.
   */
  minPairs?: number;
  /**
   * Scaling cases compare one tool with itself: side A on the first device alone, side B on all
   * devices at once, alternating, so that the factor is not skewed by load that changes between
   * two comparisons run minutes apart.
   */
  scalingTool?: 'perftest' | 'spark-rdma';
  /** spark-modes cases: spark-rdma with these arguments is side A (the reference), `spark` side B. */
  sparkA?: string[];
}

export interface CaseSettings {
  /** Timed seconds of each duration-mode run. */
  durationSeconds: number;
  latencyIterations: number;
  /**
   * The sweep (f) gives each size an iteration count that lasts at least this long at the
   * fastest rates this guest has shown (SWEEP_FASTEST); see sweepIterations.
   */
  sweepSeconds: number;
}

export const DEFAULT_SETTINGS: CaseSettings = { durationSeconds: 3, latencyIterations: 10_000, sweepSeconds: 1 };

/**
 * The fastest one QP has gone in the soft-RoCE guest (about 0.06 Mmsg/s at small sizes, 1.65
 * Gb/s at large ones), rounded up: an iteration count sized for these lasts at least as long
 * as asked, and longer on a slower (loaded) host.
 */
export const SWEEP_FASTEST = { msgPerSecond: 80_000, bitsPerSecond: 2e9 };

/**
 * Messages of `bytes` each that take at least `seconds` at SWEEP_FASTEST. The sweep runs
 * iterations, not -D: perftest 6.06 refuses -a with -D, and run per size with -D it counts only
 * completions it polled inside the window, while on rxe it posts a whole 128-deep queue (about
 * 1.5 s of work at 2 MiB) before polling once, so at 1 MiB and up a 1 s window counts 0 or 128
 * messages (measured: 0 iterations at 2 MiB in every run).
 */
export function sweepIterations(bytes: number, seconds: number): number {
  return Math.ceil(seconds * Math.min(SWEEP_FASTEST.msgPerSecond, SWEEP_FASTEST.bitsPerSecond / (8 * bytes)));
}

export function benchCases(s: CaseSettings = DEFAULT_SETTINGS): BenchCase[] {
  const d = String(s.durationSeconds);
  const bw64k = { perftest: ['-s', '65536', '-D', d], spark: ['--size', '65536', '--duration', d] };
  // perftest turns inline off on rxe ("Device not recognized to implement inline feature"),
  // so spark-rdma is run without inline too: the same work on the wire and in the driver.
  const lat2: Pick<BenchCase, 'metric' | 'devices' | 'perftest' | 'spark'> = {
    metric: 'latency',
    devices: ['rxe0'],
    perftest: ['-s', '2', '-n', String(s.latencyIterations)],
    spark: ['--size', '2', '--iters', String(s.latencyIterations), '--inline', '0'],
  };
  const scaling = (id: string, tool: 'perftest' | 'spark-rdma'): BenchCase => ({
    id,
    title: `dual-rail scaling of ${tool}: one rail (A) against both rails (B), 64 KiB, 1 QP`,
    kind: 'scaling',
    metric: 'gbps',
    minPairs: 5,
    scalingTool: tool,
    devices: ['rxe0', 'rxe1'],
    ...bw64k,
  });
  return [
    { id: 'a', title: 'write bw 64 KiB, 1 QP', kind: 'bw', metric: 'gbps', devices: ['rxe0'], ...bw64k },
    {
      id: 'a2',
      title: 'write bw 64 KiB, 1 QP, spark-rdma as two processes',
      kind: 'bw-two-process',
      metric: 'gbps',
      devices: ['rxe0'],
      ...bw64k,
    },
    {
      id: 'b',
      title: 'write bw 64 KiB, 4 QPs',
      kind: 'bw',
      metric: 'gbps',
      devices: ['rxe0'],
      perftest: ['-s', '65536', '-q', '4', '-D', d],
      spark: ['--size', '65536', '--qps', '4', '--duration', d],
    },
    {
      id: 'c',
      title: 'message rate 64 B, post list 16',
      kind: 'bw',
      metric: 'mpps',
      devices: ['rxe0'],
      perftest: ['-s', '64', '-l', '16', '-D', d],
      spark: ['--size', '64', '--post-list', '16', '--duration', d],
    },
    { id: 'd', title: 'write latency 2 B (no inline, as perftest on rxe)', kind: 'lat', minPairs: 15, ...lat2 },
    // Issue 17: more than one engine thread per rail (perftest drives a device from one thread).
    {
      id: 'c-t2',
      title: 'message rate 64 B, post list 16, 2 QPs; spark-rdma --threads 2',
      kind: 'bw',
      metric: 'mpps',
      devices: ['rxe0'],
      perftest: ['-s', '64', '-l', '16', '-q', '2', '-D', d],
      spark: ['--size', '64', '--post-list', '16', '--qps', '2', '--threads', '2', '--duration', d],
    },
    {
      id: 'b-t2',
      title: 'write bw 64 KiB, 4 QPs; spark-rdma --threads 2',
      kind: 'bw',
      metric: 'gbps',
      devices: ['rxe0'],
      perftest: ['-s', '65536', '-q', '4', '-D', d],
      spark: ['--size', '65536', '--qps', '4', '--threads', '2', '--duration', d],
    },
    // Issue 17: event-driven completions (perftest's -e) and what each mode costs in CPU.
    {
      id: 'a-ev',
      title: 'write bw 64 KiB, 1 QP, event-driven completions (ib_write_bw -e, spark-rdma --events)',
      kind: 'bw',
      metric: 'gbps',
      devices: ['rxe0'],
      perftest: [...bw64k.perftest, '-e'],
      spark: [...bw64k.spark, '--events'],
    },
    {
      id: 'ev',
      title: 'spark-rdma --events (B) against spark-rdma polling (A): write bw 64 KiB, 1 QP',
      kind: 'spark-modes',
      metric: 'gbps',
      devices: ['rxe0'],
      perftest: [],
      sparkA: bw64k.spark,
      spark: [...bw64k.spark, '--events'],
    },
    {
      id: 'd-ev',
      title: 'write latency 2 B, event-driven completions (ib_write_lat -e, spark-rdma --events)',
      kind: 'lat',
      minPairs: 5,
      ...lat2,
      perftest: [...lat2.perftest, '-e'],
      spark: [...lat2.spark, '--events'],
    },
    { id: 'd2', title: 'write latency 2 B, spark-rdma as two processes', kind: 'lat-two-process', minPairs: 7, ...lat2 },
    {
      id: 'e',
      title: 'write bw 64 KiB, 1 QP, both rails at once',
      kind: 'dual',
      metric: 'gbps',
      devices: ['rxe0', 'rxe1'],
      ...bw64k,
    },
    // Issue 14: across the wire. perftest runs one process pair per rail (bandwidth: both at
    // once, added up; latency: rail 0, then rail 1); spark-rdma one server on node0 and one
    // client on node1 with --rails 2 (its lat times the rails one after the other too).
    { id: 'w-bw', title: 'wire: write bw 64 KiB, 1 QP, both rails (node1 -> node0)', kind: 'wire-dual', metric: 'gbps', minPairs: 5, devices: ['rxe0', 'rxe1'], ...bw64k },
    ...(['rxe0', 'rxe1'] as const).map((device, rail): BenchCase => ({
      id: `w-lat${rail}`,
      title: `wire: write latency 2 B, rail ${rail} (${device})`,
      kind: 'wire-lat',
      minPairs: 5,
      ...lat2,
      devices: [device],
    })),
    scaling('g', 'spark-rdma'),
    scaling('g2', 'perftest'),
    {
      id: 'f',
      title: `size sweep 2 B to 8 MiB, each size at least ${s.sweepSeconds} s`,
      kind: 'sweep',
      metric: 'sweep',
      devices: ['rxe0'],
      // bench/guest/sweep.ts adds -s/--size and -n/--iters per size (sweepIterations). Both
      // time from the first post to the last completion; neither warms up.
      perftest: [],
      spark: ['--warmup', '0'],
    },
    { id: 'lag', title: 'event-loop lag during runBandwidth', kind: 'lag', metric: 'lag', devices: ['rxe0', 'rxe1'], perftest: [], spark: [] },
    // The same, in a guest whose emulated timers are not starved by its spinning vCPUs: QEMU's
    // main loop at SCHED_FIFO on the host (GROUPS in side-by-side.ts; scripts/vm/timer-priority.mjs).
    { id: 'lag-t', title: 'event-loop lag during runBandwidth, emulator timers first', kind: 'lag', metric: 'lag', devices: ['rxe0', 'rxe1'], perftest: [], spark: [] },
    {
      // Not a perftest comparison: side A of each pair is spark-rdma sampling once a second,
      // side B the same run sampling every millisecond.
      id: 'tsfn',
      title: 'samples through the thread-safe function: 64 B, 1 ms vs 1 s intervals',
      kind: 'tsfn',
      metric: 'samples',
      devices: ['rxe0'],
      perftest: [],
      spark: [],
    },
  ];
}

/** The cases that run across the two-guest wire (`npm run bench -- --wire`). */
export const isWireCase = (c: BenchCase) => c.kind === 'wire-dual' || c.kind === 'wire-lat';
export const WIRE_CASE_IDS = benchCases().filter(isWireCase).map((c) => c.id);

export function caseById(id: string, s: CaseSettings = DEFAULT_SETTINGS): BenchCase {
  const c = benchCases(s).find((x) => x.id === id);
  if (!c) throw new RangeError(`unknown bench case ${id}; known: ${benchCases(s).map((x) => x.id).join(', ')}`);
  return c;
}

/** What one run of one tool measured, as the guest prints it and the host reads it. */
export interface RunRecord {
  case: string;
  pair: number;
  /** A is the reference (perftest), B the one measured against it (spark-rdma); ratios are B / A. */
  side: 'A' | 'B';
  tool: string;
  ok: boolean;
  error?: string;
  /** Wall seconds of the whole run, process start to exit. */
  wallSeconds: number;
  gbps?: number;
  mpps?: number;
  /** Per rail, for dual-rail runs. */
  railsGbps?: number[];
  p50Us?: number;
  p99Us?: number;
  minUs?: number;
  maxUs?: number;
  /** Per size; `seconds` is the timed window the figure came from. */
  sweep?: { bytes: number; gbps: number; mpps: number; seconds?: number }[];
  /**
   * CPU seconds per GB (10^9 bytes) moved: the share of a core used over the run divided by
   * GB/s. spark-rdma: its engine threads' own clocks over the timed phase; perftest: the client
   * process's user + system time (bash `times`) over its wall time, setup included.
   */
  cpuSecondsPerGB?: number;
  /** The share of a core behind cpuSecondsPerGB. */
  coreShare?: number;
  /** spark-rdma's engine counters per rail (postCalls, pollCalls, emptyPolls...). */
  engine?: Record<string, number | boolean>[];
  /** perftest's banner (TX depth, CQ Moderation, inline...), first run of a case only. */
  banner?: Record<string, string>;
  /** Anything else the case measures (lag, sample delivery). */
  extra?: Record<string, unknown>;
  /** Set by the host: another QEMU guest ran on the host during this run (figures are suspect). */
  otherGuestSeen?: boolean;
}

export const RECORD_MARKER = '@@spark-bench ';
