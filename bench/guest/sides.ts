// One side of one pair: runs perftest or spark-rdma for a case and prints what it measured as a
// marker line (RECORD_MARKER + JSON) on stdout, for the host to collect. Shared by the guest
// runner (runner.ts) and the wire runner (wire.ts).
import { DEFAULT_SETTINGS, RECORD_MARKER, type BenchCase, type CaseSettings, type RunRecord } from '../lib/cases.js';
import type { LatencyResult } from '../../lib/latency/index.js';
import { LOCAL_SITE, perftestBw, perftestLat, type ServerSite } from './perftest.js';
import { sparkBwClient, sparkBwLoopback, sparkLatClient, sparkLatLoopback, type BwJson } from './spark.js';

/** The guest runners' command line: --pairs, --duration, --lat-iters, --sweep-seconds, then case ids. */
export function parseGuestArgs(argv: string[]): { pairs: number; settings: CaseSettings; ids: string[] } {
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
    else if (a === '--sweep-seconds') settings.sweepSeconds = value();
    else ids.push(a);
  }
  return { pairs, settings, ids };
}

export const BW_TIMEOUT_MS = 180_000;
let nextPort = 18600;
export const takePorts = (n: number) => {
  const p = nextPort;
  nextPort += n;
  return p;
};

export function emit(record: RunRecord): void {
  process.stdout.write(`${RECORD_MARKER}${JSON.stringify(record)}\n`);
}

function engineOf(json: BwJson): Record<string, number | boolean>[] {
  return json.rails.map((r) => ({ ...r.engine }));
}

export type Measured = Omit<RunRecord, 'case' | 'pair' | 'side' | 'tool' | 'ok'>;

export async function measured(c: BenchCase, pair: number, side: RunRecord['side'], tool: string, body: () => Promise<Measured>): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    emit({ case: c.id, pair, side, tool, ok: true, ...(await body()) });
  } catch (e) {
    emit({ case: c.id, pair, side, tool, ok: false, error: String((e as Error)?.message ?? e).slice(0, 2000), wallSeconds: Number(process.hrtime.bigint() - started) / 1e9 });
  }
}

export async function perftestSide(c: BenchCase, pair: number, s: CaseSettings, side: RunRecord['side'] = 'A', tool = 'perftest', site: ServerSite = LOCAL_SITE): Promise<void> {
  await measured(c, pair, side, tool, async () => {
    if (c.kind === 'lat' || c.kind === 'lat-two-process' || c.kind === 'wire-lat') {
      const r = await perftestLat(c.devices[0]!, takePorts(3), c.perftest, BW_TIMEOUT_MS, site);
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
    if (c.kind === 'sweep') throw new RangeError('the sweep (f) runs per size: bench/guest/sweep.ts');
    const runs = await perftestBw(c.devices, takePorts(c.devices.length), c.perftest, BW_TIMEOUT_MS, site);
    const banner = { ...(pair === 1 ? { banner: runs[0]!.banner } : {}), extra: { warnings: runs.flatMap((r) => r.warnings) } };
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

export async function sparkSide(c: BenchCase, pair: number, serverPort: number | null, side: RunRecord['side'] = 'B', tool = 'spark-rdma'): Promise<void> {
  await measured(c, pair, side, tool, async () => {
    if (c.kind === 'lat' || c.kind === 'lat-two-process') {
      const { json, wallSeconds } =
        c.kind === 'lat'
          ? await sparkLatLoopback(c.devices, c.spark, BW_TIMEOUT_MS)
          : await sparkLatClient(c.devices[0]!, serverPort!, c.spark, BW_TIMEOUT_MS);
      return sparkLatFigures(json.rails[0]!, wallSeconds);
    }
    const { json, wallSeconds } =
      c.kind === 'bw-two-process'
        ? await sparkBwClient(c.devices[0]!, serverPort!, c.spark, BW_TIMEOUT_MS)
        : await sparkBwLoopback(c.devices, c.spark, BW_TIMEOUT_MS);
    return sparkBwFigures(json, wallSeconds);
  });
}

/** What one rail of a `spark-rdma lat --json` result measured. */
export function sparkLatFigures(rail: LatencyResult['rails'][number], wallSeconds: number): Measured {
  const l = rail.latency;
  return { wallSeconds, coreShare: rail.cpu.coreShare, p50Us: l.p50Us, p99Us: l.p99Us, minUs: l.minUs, maxUs: l.maxUs, extra: { p999Us: l.p999Us, meanUs: l.meanUs, inlineUsed: rail.inlineUsed, timer: rail.timer } };
}

/** What a `spark-rdma bw --json` result measured, every rail added up. */
export function sparkBwFigures(json: BwJson, wallSeconds: number): Measured {
  const coreShare = json.rails.reduce((a, r) => a + r.cpu.coreShare, 0);
  const cpu = json.total.gbps > 0 ? { coreShare, cpuSecondsPerGB: coreShare / (json.total.gbps / 8) } : {};
  return { wallSeconds, gbps: json.total.gbps, mpps: json.total.msgRate, railsGbps: json.rails.map((r) => r.gbps), engine: engineOf(json), ...cpu };
}

