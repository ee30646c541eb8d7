// Runs inside the soft-RoCE guest (started by bench/side-by-side through scripts/vm/run.mjs):
// for each requested case, `pairs` times: perftest, then spark-rdma, same rail, same
// parameters. Each run is printed as one marker line of JSON on stdout; guest files vanish.
//
//   node dist/bench/guest/runner.js --pairs 3 [--duration 3] [--lat-iters 10000] [--sweep-seconds 1] a b c ...
import { caseById, isWireCase, type BenchCase, type CaseSettings } from '../lib/cases.js';
import { idleLag, lagDuringRun } from './in-process.js';
import { measured, parseGuestArgs, perftestSide, sparkSide, takePorts } from './sides.js';
import { startSparkServer } from './spark.js';
import { sweep } from './sweep.js';

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
      // Two rails spin on both vCPUs: the engine threads at the default priority, then at the
      // lowest (engineNice 19), so a woken JS thread should preempt them at once.
      const two = await lagDuringRun({ loopback: true, devices: ['rxe0', 'rxe1'], durationMs, intervalMs: 500 });
      const twoNice19 = await lagDuringRun({ loopback: true, devices: ['rxe0', 'rxe1'], durationMs, intervalMs: 500, engineNice: 19 });
      return { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, gbps: one.gbps, extra: { idle, oneRail: one, twoRails: two, twoRailsNice19: twoNice19 } };
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
  if (isWireCase(c)) throw new RangeError(`case ${c.id} runs across the two-guest wire: npm run bench -- --wire`);
  process.stderr.write(`bench: ${c.id}: ${c.title} (${pairs} pairs)\n`);
  if (c.kind === 'lag' || c.kind === 'tsfn') return inProcess(c, pairs, s);
  if (c.kind === 'scaling') return scaling(c, pairs, s);
  if (c.kind === 'spark-modes') return sparkModes(c, pairs);
  if (c.kind === 'sweep') return sweep(c, pairs, s);
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

const { pairs, settings, ids } = parseGuestArgs(process.argv.slice(2));
for (const id of ids) {
  const c = caseById(id, settings);
  await runCase(c, Math.max(pairs, c.minPairs ?? 0), settings);
}
