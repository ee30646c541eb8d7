// Runs inside the soft-RoCE guest (started by bench/side-by-side through scripts/vm/run.mjs):
// for each requested case, `pairs` times: perftest, then spark-rdma, same rail, same
// parameters. Each run is printed as one marker line of JSON on stdout; guest files vanish.
//
//   node dist/bench/guest/runner.js --pairs 3 [--duration 3] [--lat-iters 10000] [--sweep-iters 200] a b c ...
import { caseById, DEFAULT_SETTINGS, RECORD_MARKER, type BenchCase, type CaseSettings, type RunRecord } from '../lib/cases.js';
import { idleLag, lagDuringRun } from './in-process.js';
import { perftestBw, perftestLat } from './perftest.js';
import { sparkBwClient, sparkBwLoopback, sparkLatClient, sparkLatLoopback, startSparkServer, type BwJson } from './spark.js';

const BW_TIMEOUT_MS = 180_000;
const SWEEP_TIMEOUT_MS = 900_000;
let nextPort = 18600;
const takePorts = (n: number) => {
  const p = nextPort;
  nextPort += n;
  return p;
};

function emit(record: RunRecord): void {
  process.stdout.write(`${RECORD_MARKER}${JSON.stringify(record)}\n`);
}

function engineOf(json: BwJson): Record<string, number | boolean>[] {
  return json.rails.map((r) => ({ ...r.engine }));
}

type Measured = Omit<RunRecord, 'case' | 'pair' | 'side' | 'tool' | 'ok'>;

async function measured(c: BenchCase, pair: number, side: RunRecord['side'], tool: string, body: () => Promise<Measured>): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    emit({ case: c.id, pair, side, tool, ok: true, ...(await body()) });
  } catch (e) {
    emit({ case: c.id, pair, side, tool, ok: false, error: String((e as Error)?.message ?? e).slice(0, 2000), wallSeconds: Number(process.hrtime.bigint() - started) / 1e9 });
  }
}

async function perftestSide(c: BenchCase, pair: number, s: CaseSettings, side: RunRecord['side'] = 'A', tool = 'perftest'): Promise<void> {
  await measured(c, pair, side, tool, async () => {
    if (c.kind === 'lat' || c.kind === 'lat-two-process') {
      const r = await perftestLat(c.devices[0]!, takePorts(3), c.perftest, BW_TIMEOUT_MS);
      const row = r.rows[0]!;
      return {
        wallSeconds: r.wallSeconds,
        p50Us: row.typicalUs,
        p99Us: row.p99Us,
        minUs: row.minUs,
        maxUs: row.maxUs,
        ...(r.cpuSeconds !== null ? { coreShare: r.cpuSeconds / r.wallSeconds } : {}),
        extra: { p999Us: row.p999Us, avgUs: row.avgUs, attempts: r.attempts, discarded: r.discarded, warnings: r.warnings },
        ...(pair === 1 ? { banner: r.banner } : {}),
      };
    }
    const timeout = c.kind === 'sweep' ? SWEEP_TIMEOUT_MS : BW_TIMEOUT_MS;
    const runs = await perftestBw(c.devices, takePorts(c.devices.length), c.perftest, timeout);
    const banner = { ...(pair === 1 ? { banner: runs[0]!.banner } : {}), extra: { warnings: runs.flatMap((r) => r.warnings) } };
    if (c.kind === 'sweep') {
      const rows = runs[0]!.rows;
      return { wallSeconds: runs[0]!.wallSeconds, sweep: rows.map((r) => ({ bytes: r.bytes, gbps: r.gbps, mpps: r.msgRateMpps })), ...banner };
    }
    const rails = runs.map((r) => r.rows[0]!);
    const gbps = rails.reduce((a, r) => a + r.gbps, 0);
    const cpu = runs.every((r) => r.cpuSeconds !== null) ? runs.reduce((a, r) => a + r.cpuSeconds! / r.wallSeconds, 0) : null;
    return {
      ...(cpu !== null && gbps > 0 ? { coreShare: cpu, cpuSecondsPerGB: cpu / (gbps / 8) } : {}),
      wallSeconds: Math.max(...runs.map((r) => r.wallSeconds)),
      gbps: rails.reduce((a, r) => a + r.gbps, 0),
      mpps: rails.reduce((a, r) => a + r.msgRateMpps, 0),
      railsGbps: rails.map((r) => r.gbps),
      ...banner,
    };
  });
  void s;
}

async function sparkSide(c: BenchCase, pair: number, serverPort: number | null, side: RunRecord['side'] = 'B', tool = 'spark-rdma'): Promise<void> {
  await measured(c, pair, side, tool, async () => {
    if (c.kind === 'lat' || c.kind === 'lat-two-process') {
      const { json, wallSeconds } =
        c.kind === 'lat'
          ? await sparkLatLoopback(c.devices, c.spark, BW_TIMEOUT_MS)
          : await sparkLatClient(c.devices[0]!, serverPort!, c.spark, BW_TIMEOUT_MS);
      const l = json.rails[0]!.latency;
      return { wallSeconds, coreShare: json.rails[0]!.cpu.coreShare, p50Us: l.p50Us, p99Us: l.p99Us, minUs: l.minUs, maxUs: l.maxUs, extra: { p999Us: l.p999Us, meanUs: l.meanUs, inlineUsed: json.rails[0]!.inlineUsed, timer: json.rails[0]!.timer } };
    }
    const { json, wallSeconds } =
      c.kind === 'bw-two-process'
        ? await sparkBwClient(c.devices[0]!, serverPort!, c.spark, BW_TIMEOUT_MS)
        : await sparkBwLoopback(c.devices, c.spark, c.kind === 'sweep' ? SWEEP_TIMEOUT_MS : BW_TIMEOUT_MS);
    if (c.kind === 'sweep') {
      const sizes = json.sizes ?? [];
      return { wallSeconds, sweep: sizes.map((z) => ({ bytes: z.size, gbps: z.total.gbps, mpps: z.total.msgRate })) };
    }
    const coreShare = json.rails.reduce((a, r) => a + r.cpu.coreShare, 0);
    const cpu = json.total.gbps > 0 ? { coreShare, cpuSecondsPerGB: coreShare / (json.total.gbps / 8) } : {};
    return { wallSeconds, gbps: json.total.gbps, mpps: json.total.msgRate, railsGbps: json.rails.map((r) => r.gbps), engine: engineOf(json), ...cpu };
  });
}

/** spark-rdma against itself in two modes: sparkA (side A) then spark (side B), alternating. */
async function sparkModes(c: BenchCase, pairs: number): Promise<void> {
  for (let pair = 1; pair <= pairs; pair++) {
    await sparkSide({ ...c, spark: c.sparkA ?? [] }, pair, null, 'A', `spark-rdma ${(c.sparkA ?? []).join(' ')}`);
    await sparkSide(c, pair, null, 'B', `spark-rdma ${c.spark.join(' ')}`);
  }
}

async function inProcess(c: BenchCase, pairs: number, s: CaseSettings): Promise<void> {
  const durationMs = s.durationSeconds * 1000 + 1000;
  for (let pair = 1; pair <= pairs; pair++) {
    if (c.kind === 'tsfn') {
      // 64 B messages keep the engine's loop short, so it can emit a sample every millisecond;
      // the same run with 1 s samples is the reference: the ratio is what 1 kHz sampling costs.
      const base = { loopback: true, devices: ['rxe0'], sizes: [64], durationMs, warmupMs: 200 };
      for (const [side, intervalMs] of [['A', 1000], ['B', 1]] as const) {
        await measured(c, pair, side, `spark-rdma, ${intervalMs} ms samples`, async () => {
          const started = process.hrtime.bigint();
          const r = await lagDuringRun({ ...base, intervalMs });
          return { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, gbps: r.gbps, mpps: r.mpps, engine: r.engine, extra: { intervalMs, ...r } };
        });
      }
      continue;
    }
    await measured(c, pair, 'B', 'spark-rdma', async () => {
      const started = process.hrtime.bigint();
      const idle = await idleLag(2000);
      const one = await lagDuringRun({ loopback: true, devices: ['rxe0'], durationMs, intervalMs: 500 });
      const two = await lagDuringRun({ loopback: true, devices: ['rxe0', 'rxe1'], durationMs, intervalMs: 500 });
      return { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, gbps: one.gbps, extra: { idle, oneRail: one, twoRails: two } };
    });
  }
}

/** One tool against itself: the first rail alone (A), then all rails at once (B), alternating. */
async function scaling(c: BenchCase, pairs: number, s: CaseSettings): Promise<void> {
  const oneRail: BenchCase = { ...c, devices: c.devices.slice(0, 1) };
  const tool = c.scalingTool ?? 'spark-rdma';
  for (let pair = 1; pair <= pairs; pair++) {
    if (tool === 'perftest') {
      await perftestSide(oneRail, pair, s, 'A', 'perftest, one rail');
      await perftestSide(c, pair, s, 'B', `perftest, ${c.devices.length} rails`);
    } else {
      await sparkSide(oneRail, pair, null, 'A', 'spark-rdma, one rail');
      await sparkSide(c, pair, null, 'B', `spark-rdma, ${c.devices.length} rails`);
    }
  }
}

async function runCase(c: BenchCase, pairs: number, s: CaseSettings): Promise<void> {
  process.stderr.write(`bench: ${c.id}: ${c.title} (${pairs} pairs)\n`);
  if (c.kind === 'lag' || c.kind === 'tsfn') return inProcess(c, pairs, s);
  if (c.kind === 'scaling') return scaling(c, pairs, s);
  if (c.kind === 'spark-modes') return sparkModes(c, pairs);
  let serverPort: number | null = null;
  const serverTest = c.kind === 'bw-two-process' ? 'bw' : c.kind === 'lat-two-process' ? 'lat' : null;
  const server = serverTest ? await startSparkServer(serverTest, (serverPort = takePorts(1))) : null;
  try {
    for (let pair = 1; pair <= pairs; pair++) {
      await perftestSide(c, pair, s);
      await sparkSide(c, pair, serverPort);
    }
  } finally {
    await server?.stop();
  }
}

function parse(argv: string[]): { pairs: number; settings: CaseSettings; ids: string[] } {
  const settings = { ...DEFAULT_SETTINGS };
  let pairs = 3;
  const ids: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!(v > 0)) throw new RangeError(`${a} needs a positive number`);
      return v;
    };
    if (a === '--pairs') pairs = value();
    else if (a === '--duration') settings.durationSeconds = value();
    else if (a === '--lat-iters') settings.latencyIterations = value();
    else if (a === '--sweep-iters') settings.sweepIterations = value();
    else ids.push(a);
  }
  return { pairs, settings, ids };
}

const { pairs, settings, ids } = parse(process.argv.slice(2));
for (const id of ids) {
  const c = caseById(id, settings);
  await runCase(c, Math.max(pairs, c.minPairs ?? 0), settings);
}
