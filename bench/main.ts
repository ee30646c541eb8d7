// `npm run bench`: the micro-benchmarks on the host, then the side-by-side comparisons with
// perftest in the soft-RoCE guest; writes bench/results/<date>.md and .json and, when the size
// sweep ran, bench/results/sweep.svg.
//
//   node dist/bench/main.js [--pairs 3] [--only a,b,c] [--no-micro] [--no-guest] [--wire]
//        [--duration 3] [--lat-iters 10000] [--sweep-seconds 1] [--max-load 3] [--max-wait 300]
//        [--rerender bench/results/<date>.json] [--merge bench/results/<date>.json]
//
// --wire runs the cases across the two-guest wire instead (w-bw, w-lat0, w-lat1: server on
// node0, client on node1, at least 5 pairs) and writes bench/results/<date>-wire.md and .json.
// --merge keeps an earlier run's records for the cases this run does not repeat (e.g. rerun
// only --only d,d2 after another team's guest disturbed them), and its micro-benchmarks when
// this run has --no-micro.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { benchCases, DEFAULT_SETTINGS, type CaseSettings, type RunRecord } from './lib/cases.js';
import { formatBytes, renderReport, type MicroRow } from './lib/report-md.js';
import { summarize } from './lib/summary.js';
import { lineChartSvg } from './lib/svg-chart.js';
import { runMicro } from './micro.js';
import { GROUPS, ROOT, runSideBySide, WIRE_GROUP, type GroupRun } from './side-by-side.js';
import { WIRE_GUEST, WIRE_TITLE, wireNotes } from './wire-notes.js';

const RESULTS = join(ROOT, 'bench', 'results');

interface Args {
  pairs: number;
  only: string[] | null;
  micro: boolean;
  guest: boolean;
  wire: boolean;
  settings: CaseSettings;
  maxLoad: number;
  maxWait: number;
  rerender: string | null;
  merge: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { pairs: 3, only: null, micro: true, guest: true, wire: false, settings: { ...DEFAULT_SETTINGS }, maxLoad: 3, maxWait: 300, rerender: null, merge: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${flag} needs a value`);
      return v;
    };
    const positive = (): number => {
      const v = Number(value());
      if (!(v > 0)) throw new RangeError(`${flag} needs a positive number, e.g. ${flag} 3`);
      return v;
    };
    if (flag === '--pairs') a.pairs = positive();
    else if (flag === '--only') a.only = value().split(',');
    else if (flag === '--no-micro') a.micro = false;
    else if (flag === '--no-guest') a.guest = false;
    else if (flag === '--wire') a.wire = true;
    else if (flag === '--duration') a.settings.durationSeconds = positive();
    else if (flag === '--lat-iters') a.settings.latencyIterations = positive();
    else if (flag === '--sweep-seconds') a.settings.sweepSeconds = positive();
    else if (flag === '--sweep-iters') throw new RangeError('--sweep-iters is gone: the sweep (f) gives each size a count that lasts a set time; pass --sweep-seconds N (default 1)');
    else if (flag === '--max-load') a.maxLoad = positive();
    else if (flag === '--max-wait') a.maxWait = positive();
    else if (flag === '--rerender') a.rerender = value();
    else if (flag === '--merge') a.merge = value();
    else throw new RangeError(`unknown option ${flag}; see the usage at the top of bench/main.ts`);
  }
  const misplaced = a.only?.filter((id) => WIRE_GROUP.cases.includes(id) !== a.wire);
  if (misplaced && misplaced.length > 0) {
    throw new RangeError(a.wire ? `--wire runs only ${WIRE_GROUP.cases.join(', ')}; ${misplaced.join(', ')} run in one guest (drop --wire)` : `${misplaced.join(', ')} run across the two-guest wire: add --wire`);
  }
  return a;
}

function quiet(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * perftest's own version (`ib_write_bw --version` prints "Version: 6.06" and exits 1), next to
 * the Debian package that shipped it (4.5+0.17-1 carries perftest 6.06).
 */
function perftestVersion(): string {
  const r = spawnSync('ib_write_bw', ['--version'], { encoding: 'utf8' });
  const version = /Version:\s*(\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown';
  return `${version} (Debian package ${quiet('dpkg-query', ['-W', '-f', '${Version}', 'perftest'])})`;
}

interface Saved {
  date: string;
  conditions: Record<string, string>;
  settings: CaseSettings;
  pairs: number;
  groups: GroupRun[];
  records: RunRecord[];
  micro: MicroRow[] | null;
  /** Run across the two-guest wire (--wire). */
  wire?: boolean;
}

function conditions(args: Args, groups: GroupRun[]): Record<string, string> {
  const c: Record<string, string> = {
    host: `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), shared with other jobs`,
    guest: args.wire ? WIRE_GUEST : 'QEMU TCG, 2 vCPUs, 3 GiB; rxe0 on rail0 (10.77.0.1), rxe1 on rail1 (10.77.1.1), netdev MTU 9000, active_mtu 4096',
    'guest kernel': quiet('bash', ['-c', 'ls /boot | sed -n "s/^vmlinuz-//p" | sort -V | tail -1']),
    perftest: perftestVersion(),
    node: process.version,
    commit: quiet('git', ['-C', ROOT, 'describe', '--always', '--dirty']),
    settings: args.wire
      ? `pairs ${Math.max(args.pairs, 5)} (at least 5 on the wire); duration ${args.settings.durationSeconds} s; latency ${args.settings.latencyIterations} iterations`
      : `pairs ${args.pairs} (latency (d) at least 15, (d2) at least 7, scaling (g, g2) at least 5); duration ${args.settings.durationSeconds} s; latency ${args.settings.latencyIterations} iterations; sweep: each size at least ${args.settings.sweepSeconds} s (one ib_write_bw and one spark-rdma per size)`,
  };
  for (const g of groups) {
    const env = g.env ? `; harness ${Object.entries(g.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
    c[`guest boot: ${g.name}`] = `load average ${g.loadBefore} before, ${g.loadAfter} after; other QEMU guests at start: ${g.otherGuestsBefore}; ${g.wallSeconds.toFixed(0)} s wall; exit ${g.exitCode}${env}`;
  }
  return c;
}

function notes(records: RunRecord[], settings: Partial<CaseSettings>): string[] {
  const banner = (id: string) => records.find((r) => r.case === id && r.banner)?.banner;
  const a = banner('a');
  const c = banner('c');
  const d = banner('d');
  const out = [
    'spark-rdma runs are the CLI (`spark-rdma bw|lat --loopback --devices rxe0 --json`): both ends in one process. perftest runs as a server and a client process on the same device. (a2) and (d2) repeat (a) and (d) with spark-rdma as two processes too (`spark-rdma bw|lat` server plus a client).',
    'perftest on rxe prints "Device not recognized to implement inline feature. Disabling it", so (d) runs spark-rdma with `--inline 0` as well: the same work in the driver.',
    'The guest\'s clocksource is hpet (the guest kernel marks the TSC unstable under TCG): clock_gettime costs about 1.2 us there against 10 ns for rdtsc. perftest stamps with the TSC and converts with /proc/cpuinfo\'s "cpu MHz"; spark-rdma (timer auto) finds the clock slow and stamps with the TSC too, at a rate it measures against CLOCK_MONOTONIC_RAW over each run (2596.3 MHz here; the kernel\'s boot calibration says 2593.2). On hardware it stamps with clock_gettime. Its JSON records the timer and how many samples spanned a move to another CPU (0 in every run here).',
    'perftest prints Gb/s with 2 decimals (0.00 for small messages) and MsgRate with 6 (2 digits at 8 MiB); the bench takes whichever reading is more precise for each row.',
    '(e) adds up each tool\'s per-rail rates: perftest\'s two client processes report one average each; spark-rdma\'s `total.gbps` over the union of both rails\' windows (a little lower) is in the JSON records.',
    'Dual-rail scaling (g, g2) alternates one rail and both rails of the same tool within each pair, so load that changes between comparisons does not enter the factor. It is limited by the machine: the guest\'s 2 vCPUs run the posting threads, the kernel\'s rxe work (done inside ibv_post_send and in softirq) and QEMU\'s own emulation, on a host with 2 CPUs shared with other jobs.',
  ];
  out.push(
    'Latency (d): the engine before this issue\'s changes (commit b52fdc3) measured p50 1.153x, p99 1.241x and min 1.075x perftest\'s, against 1.034x, 1.060x and 1.038x for the current one (36 and 60 alternating pairs in one guest). The changes: a timer that costs nothing per stamp, stamps before the post, no clock reads, page faults or responder stamps in the loop, and a warm-up of at least 100 ms so the process\'s start-up work is over. Details, and the figures of each step: [engine-changes.md](engine-changes.md).',
    'Samples through the thread-safe function (tsfn): the engine emits at most one sample per CQ poll, and at 64 B a poll follows a full window of 128 posts (about 2.6 ms in the guest), so a 1 ms interval yields about 380 samples/s. Each sample costs the JS thread about 2 ms of CPU here (emulated: JS runs about 20x slower than on the host), which costs about 35 % of the message rate on 2 vCPUs. At the default 1 s interval the cost is not measurable.',
  );
  if (records.some((r) => r.cpuSecondsPerGB !== undefined)) {
    out.push(
      'CPU (issue 17): "core share" is the share of one core a side used; "CPU s/GB" is that share over GB/s (10^9 bytes). spark-rdma\'s comes from its engine threads\' own clocks (CLOCK_THREAD_CPUTIME_ID) over the timed phase; perftest\'s from its client process\'s user + system time (bash `times`) over the process\'s wall time, setup included (which makes perftest\'s share, and so its CPU per GB, a little low). On soft-RoCE loopback the whole transfer happens inside ibv_post_send (the engine counts no empty polls and about one CQ poll per 100 doorbells), so a thread\'s CPU is the kernel\'s rxe work more than its own loop, and --events has nothing to sleep through; the stall test in test/rxe/perf-modes.test.ts shows the events engine sleeping where completions do take time.',
    );
  }
  const sweepSeconds = settings.sweepSeconds;
  if (sweepSeconds !== undefined && records.some((r) => r.case === 'f')) {
    out.push(
      `Size sweep (f): per size, \`ib_write_bw -s N -n K\` then \`spark-rdma bw --size N --iters K --warmup 0\`, back to back, K chosen to last at least ${sweepSeconds} s at the fastest rates seen in this guest (80,000 msg/s, 2 Gb/s; bench/lib/cases.ts sweepIterations); both time from the first post to the last completion. Not -D: perftest 6.06 refuses -a with -D ("Duration mode currently doesn't support running on all sizes", src/perftest_parameters.c of linux-rdma/perftest v4.5-0.17, configure.ac 6.06), and run per size with -D 1 it counts only the completions it polls inside the window, while on rxe it fills its 128-deep queue (about 1.5 s of work at 2 MiB) before polling once: 0 messages at 2 MiB in every run tried. Run per size, perftest uses its single-size defaults: CQ moderation 100 up to 8 KiB, every WR signaled above (MSG_SIZE_CQ_MOD_LIMIT); spark-rdma signals one WR per 100, at least once per 8 MiB. A perftest row is retried (up to 3 times) when the window it implies (messages x size / rate) is under 0.3 s or longer than its process ran: its TSC-frequency sampling sometimes fails under TCG (0.000000 Gb/s over a full count).`,
    );
  }
  if (a) out.push(`perftest banner, (a): TX depth ${a['TX depth']}, CQ Moderation ${a['CQ Moderation']}, Max inline data ${a['Max inline data']}, ibv_wr* API ${a['ibv_wr* API']}. spark-rdma uses tx depth 128 and one signaled WR per 100.`);
  if (c) out.push(`perftest banner, (c): Post List ${c['Post List']}, CQ Moderation ${c['CQ Moderation']}.`);
  if (d) out.push(`perftest banner, (d): TX depth ${d['TX depth']}, Max inline data ${d['Max inline data']}.`);
  return out;
}

function writeChart(records: RunRecord[]): string | null {
  const sweep = summarize(benchCases(), records).sweep;
  if (sweep.length === 0) return null;
  const svg = lineChartSvg({
    title: 'RDMA WRITE bandwidth by message size (soft-RoCE guest, medians over pairs)',
    xLabel: 'message size',
    yLabel: 'Gb/s',
    formatX: formatBytes,
    series: [
      { name: 'ib_write_bw -a', color: '#d95f02', points: sweep.filter((p) => p.perftestGbps !== null).map((p) => ({ x: p.bytes, y: p.perftestGbps! })) },
      { name: 'spark-rdma bw --sizes all', color: '#1b9e77', points: sweep.filter((p) => p.sparkGbps !== null).map((p) => ({ x: p.bytes, y: p.sparkGbps! })) },
    ],
  });
  const file = join(RESULTS, 'sweep.svg');
  writeFileSync(file, svg);
  return file;
}

function write(saved: Saved): void {
  mkdirSync(RESULTS, { recursive: true });
  const summary = summarize(benchCases(saved.settings), saved.records);
  const chart = writeChart(saved.records);
  const md = renderReport({
    date: saved.date,
    conditions: saved.conditions,
    summary,
    records: saved.records,
    micro: saved.micro,
    notes: saved.wire ? wireNotes(saved.records) : notes(saved.records, saved.settings),
    chartFile: chart ? relative(RESULTS, chart) : null,
    ...(saved.wire ? { where: WIRE_TITLE } : {}),
  });
  const name = saved.wire ? `${saved.date}-wire` : saved.date;
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify({ ...saved, summary }, null, 2) + '\n');
  writeFileSync(join(RESULTS, `${name}.md`), md);
  process.stderr.write(`bench: wrote ${relative(ROOT, join(RESULTS, `${name}.md`))} and .json${chart ? `, ${relative(ROOT, chart)}` : ''}\n`);
  for (const g of summary.goals) process.stderr.write(`bench: goal ${g.goal}: ${g.value === null ? 'no data' : g.value.toFixed(3)} ${g.met === null ? '' : g.met ? 'met' : 'NOT met'}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.rerender) {
    write(JSON.parse(readFileSync(args.rerender, 'utf8')) as Saved);
    return;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  let micro: MicroRow[] | null = null;
  if (args.micro && !args.wire) {
    log('bench: micro-benchmarks on the host');
    micro = await runMicro();
    for (const m of micro) log(`bench: ${m.name}: ${Math.round(m.opsPerSecond)} ops/s, mean ${m.meanUs.toFixed(3)} us`);
  }
  let records: RunRecord[] = [];
  let groups: GroupRun[] = [];
  if (args.guest) {
    const selected = (args.wire ? [WIRE_GROUP] : GROUPS).map((g) => ({ ...g, cases: g.cases.filter((c) => !args.only || args.only.includes(c)) })).filter((g) => g.cases.length > 0);
    ({ records, groups } = await runSideBySide({ pairs: args.pairs, settings: args.settings, groups: selected, maxLoad: args.maxLoad, maxWaitSeconds: args.maxWait, log }));
  }
  const date = new Date().toISOString().slice(0, 10);
  const wall = { 'bench wall time': `${((Date.now() - started) / 60000).toFixed(1)} min` };
  const kept: Record<string, string> = {};
  if (args.merge) {
    const earlier = JSON.parse(readFileSync(args.merge, 'utf8')) as Saved;
    const rerun = new Set(records.map((r) => r.case));
    const keptCases = [...new Set(earlier.records.map((r) => r.case).filter((c) => !rerun.has(c)))];
    records = [...earlier.records.filter((r) => !rerun.has(r.case)), ...records];
    groups = [...earlier.groups.filter((g) => !g.cases.some((c) => rerun.has(c))), ...groups];
    micro = micro ?? earlier.micro;
    wall['bench wall time'] = `${earlier.conditions['bench wall time'] ?? '?'} + ${wall['bench wall time']} (cases ${[...rerun].join(', ')} rerun)`;
    // The kept cases ran at another commit, maybe with other settings: say which ran with what.
    const now = conditions(args, groups);
    for (const key of ['commit', 'settings']) {
      const before = earlier.conditions[key];
      if (before === undefined || before === now[key] || keptCases.length === 0) continue;
      kept[key] = `${before.includes('(cases ') ? before : `${before} (cases ${keptCases.join(', ')})`}; ${now[key]} (cases ${[...rerun].join(', ')})`;
    }
  }
  write({ date, conditions: { ...conditions(args, groups), ...kept, ...wall }, settings: args.settings, pairs: args.pairs, groups, records, micro, ...(args.wire ? { wire: true } : {}) });
}

await main();
