// The wire cases of `npm run bench -- --wire` (issue 14), run on both guests of the two-guest wire
// (scripts/vm/run.mjs --nodes 2). node0 runs the wire suite's agent (test/wire/agent.mjs), which
// starts the servers there; node1 runs the clients: per pair, perftest first (one process pair
// per rail), then spark-rdma (one client with --rails 2 against one server on node0). Each run is
// printed as a marker line, as the one-guest runner does.
//
//   node dist/bench/guest/wire.js [--pairs 5] [--duration 3] [--lat-iters 10000] [w-bw] [w-lat0] [w-lat1]
// (each case runs at least its minPairs, 5; no case named: all three)
import { NODE0_ADDRESS, agentRequest, waitForAgent } from '../../test/wire/agent-client.mjs';
import { serveAgent } from '../../test/wire/agent.mjs';
import { caseById, WIRE_CASE_IDS, type BenchCase, type CaseSettings } from '../lib/cases.js';
import { BW_TIMEOUT_MS, emit, measured, parseGuestArgs, perftestSide, sparkBwFigures, sparkLatFigures, takePorts } from './sides.js';
import { sparkClient } from './spark.js';
import { NODE0_SITE, startSparkServerOnNode0 } from './wire-site.js';

const AGENT_WAIT_MS = 180_000;
/** How long node0's spark-rdma servers may live: the whole run's guest deadline bounds it too. */
const SERVER_LIFE_MS = 30 * 60_000;
const SPARK_RAILS = ['--rails', '2'];

/** One `spark-rdma lat --rails 2` run: one record per requested rail, or that many failures. */
async function sparkLatBothRails(cases: BenchCase[], pair: number, port: number): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    const { json, wallSeconds } = await sparkClient('lat', NODE0_ADDRESS, port, [...SPARK_RAILS, ...cases[0]!.spark], BW_TIMEOUT_MS);
    const rails = cases.map((c) => {
      const rail = json.rails.find((r) => r.device === c.devices[0]);
      if (!rail) throw new Error(`spark-rdma lat --rails 2 measured ${json.rails.map((r) => r.device).join(', ')}, not ${c.devices[0]}`);
      return rail;
    });
    cases.forEach((c, i) => emit({ case: c.id, pair, side: 'B', tool: 'spark-rdma --rails 2', ok: true, ...sparkLatFigures(rails[i]!, wallSeconds) }));
  } catch (e) {
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const c of cases) emit({ case: c.id, pair, side: 'B', tool: 'spark-rdma --rails 2', ok: false, error: String((e as Error)?.message ?? e).slice(0, 2000), wallSeconds });
  }
}

async function runPairs(pairs: number, settings: CaseSettings, ids: string[]): Promise<void> {
  const cases = ids.map((id) => caseById(id, settings));
  pairs = Math.max(pairs, ...cases.map((c) => c.minPairs ?? 0));
  process.stderr.write(`bench: wire: ${ids.join(', ')} (${pairs} pairs)\n`);
  const bw = cases.find((c) => c.kind === 'wire-dual');
  const lat = cases.filter((c) => c.kind === 'wire-lat');
  const bwPort = takePorts(1);
  const latPort = takePorts(1);
  const servers = [...(bw ? [await startSparkServerOnNode0('bw', bwPort, SERVER_LIFE_MS)] : []), ...(lat.length > 0 ? [await startSparkServerOnNode0('lat', latPort, SERVER_LIFE_MS)] : [])];
  try {
    for (let pair = 1; pair <= pairs; pair++) {
      if (bw) {
        await perftestSide(bw, pair, settings, 'A', 'perftest, a process pair per rail', NODE0_SITE);
        await measured(bw, pair, 'B', 'spark-rdma --rails 2', async () => {
          const { json, wallSeconds } = await sparkClient('bw', NODE0_ADDRESS, bwPort, [...SPARK_RAILS, ...bw.spark], BW_TIMEOUT_MS);
          return sparkBwFigures(json, wallSeconds);
        });
      }
      for (const c of lat) await perftestSide(c, pair, settings, 'A', 'perftest', NODE0_SITE);
      if (lat.length > 0) await sparkLatBothRails(lat, pair, latPort);
    }
  } finally {
    for (const s of servers) await s.stop();
  }
}

const node = process.env['SPARK_RDMA_VM_NODE'];
if (node === '0') {
  serveAgent(NODE0_ADDRESS);
} else if (node === '1') {
  await waitForAgent(AGENT_WAIT_MS);
  let code = 0;
  try {
    const { pairs, settings, ids } = parseGuestArgs(process.argv.slice(2));
    const unknown = ids.filter((id) => !WIRE_CASE_IDS.includes(id));
    if (unknown.length > 0) throw new RangeError(`${unknown.join(', ')}: the wire runs ${WIRE_CASE_IDS.join(', ')}`);
    await runPairs(pairs, settings, ids.length > 0 ? ids : WIRE_CASE_IDS);
  } catch (e) {
    process.stderr.write(`bench: wire: ${(e as Error).stack ?? String(e)}\n`);
    code = 1;
  }
  await agentRequest({ op: 'quit' }, 10_000).catch((e: Error) => process.stderr.write(`could not stop the node0 agent: ${e.message}\n`));
  process.exit(code);
} else {
  process.stderr.write('bench/guest/wire.js runs on the two-guest wire: npm run bench -- --wire\n');
  process.exit(2);
}
