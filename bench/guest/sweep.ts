// The size sweep (f) inside the guest: for each size from 2 B to 8 MiB, ib_write_bw then
// spark-rdma, back to back, with the same message count (sweepIterations: at least the set
// seconds at the fastest rates seen), so each size's ratio comes from two runs seconds apart.
// One pair is one whole sweep per tool, emitted as one record per tool.
import { sizesAll } from '../../lib/report/units.js';
import { sweepIterations, type BenchCase, type CaseSettings, type RunRecord } from '../lib/cases.js';
import { perftestBw } from './perftest.js';
import { BW_TIMEOUT_MS, emit, takePorts } from './sides.js';
import { sparkBwLoopback } from './spark.js';

type SweepEntry = NonNullable<RunRecord['sweep']>[number];

/**
 * perftest converts TSC cycles with a frequency it samples at start-up; under TCG that
 * sampling sometimes fails (a run then reports 0.000000 Gb/s over its full iteration count).
 * A row is kept when the window it implies (messages x size / rate) is plausible: at least
 * 0.3 s (the counts last >= 1 s at the fastest rate seen) and no longer than the process ran.
 */
export function perftestWindowSeconds(row: { bytes: number; iterations: number; gbps: number }): number {
  return row.gbps > 0 ? (row.iterations * row.bytes * 8) / (row.gbps * 1e9) : Infinity;
}

const ATTEMPTS = 3;

async function perftestSize(c: BenchCase, bytes: number, iterations: number, discarded: string[]): Promise<SweepEntry & { wall: number }> {
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const [run] = await perftestBw(c.devices.slice(0, 1), takePorts(1), ['-s', String(bytes), '-n', String(iterations), ...c.perftest], BW_TIMEOUT_MS);
      const row = run!.rows[0]!;
      const seconds = perftestWindowSeconds(row);
      if (seconds >= 0.3 && seconds <= run!.wallSeconds) return { bytes, gbps: row.gbps, mpps: row.msgRateMpps, seconds, wall: run!.wallSeconds };
      last = `${bytes} B: ${row.gbps} Gb/s over ${row.iterations} messages implies ${seconds.toFixed(3)} s in a ${run!.wallSeconds.toFixed(1)} s process`;
    } catch (e) {
      last = `${bytes} B: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    }
    discarded.push(last);
  }
  throw new Error(`ib_write_bw gave no plausible figure in ${ATTEMPTS} attempts: ${last}`);
}

async function sparkSize(c: BenchCase, bytes: number, iterations: number): Promise<SweepEntry & { wall: number }> {
  const { json, wallSeconds } = await sparkBwLoopback(c.devices.slice(0, 1), ['--size', String(bytes), '--iters', String(iterations), ...c.spark], BW_TIMEOUT_MS);
  const rail = json.rails[0]!;
  return { bytes, gbps: json.total.gbps, mpps: json.total.msgRate, seconds: rail.seconds, wall: wallSeconds };
}

export async function sweep(c: BenchCase, pairs: number, s: CaseSettings): Promise<void> {
  for (let pair = 1; pair <= pairs; pair++) {
    const sides = { A: { tool: 'perftest', sizes: [] as SweepEntry[], failures: [] as string[], wall: 0 }, B: { tool: 'spark-rdma', sizes: [] as SweepEntry[], failures: [] as string[], wall: 0 } };
    const discarded: string[] = [];
    for (const bytes of sizesAll()) {
      const iterations = sweepIterations(bytes, s.sweepSeconds);
      for (const [side, run] of [['A', () => perftestSize(c, bytes, iterations, discarded)], ['B', () => sparkSize(c, bytes, iterations)]] as const) {
        try {
          const { wall, ...entry } = await run();
          sides[side].sizes.push(entry);
          sides[side].wall += wall;
        } catch (e) {
          sides[side].failures.push(`${bytes} B: ${String((e as Error)?.message ?? e).slice(0, 500)}`);
        }
      }
      process.stderr.write(`bench: (f) pair ${pair} ${bytes} B x ${iterations}: ${sides.A.sizes.at(-1)?.bytes === bytes ? sides.A.sizes.at(-1)!.gbps.toFixed(4) : 'failed'} / ${sides.B.sizes.at(-1)?.bytes === bytes ? sides.B.sizes.at(-1)!.gbps.toFixed(4) : 'failed'} Gb/s\n`);
    }
    for (const side of ['A', 'B'] as const) {
      const x = sides[side];
      emit({
        case: c.id,
        pair,
        side,
        tool: x.tool,
        ok: x.sizes.length > 0,
        ...(x.sizes.length === 0 ? { error: x.failures.join('; ').slice(0, 2000) } : {}),
        wallSeconds: x.wall,
        sweep: x.sizes,
        extra: { failures: x.failures, ...(side === 'A' ? { discarded } : {}) },
      });
    }
  }
}
