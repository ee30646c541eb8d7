// Rank 0: gathers the ranks, hands out the table, then runs the schedule step by step: tells
// every rank its task (or none), runs its own, collects the results. A rank that is gone or
// misses the step deadline fails its cells with the reason; the schedule goes on.
import { RdmaError } from '../errors.js';
import { buildMatrices, type CellOutcome, type MeshResult } from './matrix.js';
import { stepDeadlineMs, assignPorts, type ResolvedMesh } from './options.js';
import type { RankEngine } from './engine.js';
import type { CellTask } from './pair.js';
import type { RailOutcome, TableRank } from './protocol.js';
import { gatherRanks, type RankLink } from './rendezvous.js';
import { circleSchedule, scheduleSteps, type Cell } from './schedule.js';
import type { MeshIdentity } from './launcher.js';

function failAll(cell: Cell, rails: number, reason: string): CellOutcome[] {
  return Array.from({ length: rails }, (_, rail) => ({ ...cell, rail, failed: reason }));
}

export async function runRank0(identity: MeshIdentity, m: ResolvedMesh, engine: RankEngine, signal: AbortSignal): Promise<MeshResult> {
  const n = identity.worldSize;
  const { joined, links } = await gatherRanks({ identity, host: m.host, rails: m.rails, timeoutMs: m.rdzvTimeoutMs, log: m.log });
  const ports = assignPorts(joined.map((j) => j.host), m.basePort);
  const table: TableRank[] = joined.map((j, i) => ({ ...j, port: ports[i]! }));
  const steps = scheduleSteps(circleSchedule(n), m.serial);
  const deadline = stepDeadlineMs(m.pair);
  const gone = new Map<number, string>();
  let finished = false;
  for (const [rank, link] of links) {
    void link.ended.then((why) => {
      if (!finished && !gone.has(rank)) {
        gone.set(rank, `rank ${rank} (${table[rank]!.host}) is gone: ${why.message}`);
        m.log(gone.get(rank)!);
      }
    });
  }
  const abortAll = (why: string) => {
    finished = true;
    for (const l of links.values()) l.abort(why);
  };
  const onAbort = () => abortAll('rank 0 was interrupted');
  signal.addEventListener('abort', onAbort, { once: true });
  let server: { close(): Promise<void> } | null = null;
  try {
    for (const l of links.values()) l.send({ type: 'table', ranks: table, steps: steps.length, stepDeadlineMs: deadline });
    server = await engine.serve(ports[0]!, signal);
    await Promise.all([...links].map(async ([rank, l]) => {
      const ready = await l.receive(['listening'], m.pair.peerTimeoutMs * 3, 'starting its server');
      if (ready.port !== ports[rank]) throw new RdmaError(`rank ${rank} listens on port ${ready.port}, not ${ports[rank]}`, { code: 'ERR_MESH_PROTOCOL' });
    }));
    m.log(`all ${n} ranks serving; ${steps.length} step(s) in ${circleSchedule(n).length} round(s)`);
    const outcomes: CellOutcome[] = [];
    let rounds = 0;
    for (const [index, step] of steps.entries()) {
      if (signal.aborted) break;
      const runnable: Cell[] = [];
      for (const cell of step.cells) {
        const reason = gone.get(cell.src) ?? gone.get(cell.dst);
        if (reason) outcomes.push(...failAll(cell, m.pair.rails, reason));
        else runnable.push(cell);
      }
      const taskOf = (cell: Cell): CellTask => ({ ...cell, address: table[cell.dst]!.rails[0]!.ipv4, port: table[cell.dst]!.port, params: m.pair });
      for (const [rank, l] of links) {
        if (gone.has(rank)) continue;
        const cell = runnable.find((c) => c.src === rank);
        l.send({ type: 'step', step: index, task: cell ? taskOf(cell) : null });
      }
      const results = await Promise.all(runnable.map(async (cell): Promise<CellOutcome[]> => {
        const rails = cell.src === 0
          ? await engine.runCell(taskOf(cell), signal)
          : await collect(links.get(cell.src)!, index, cell, deadline, m.pair.rails).catch((err: RdmaError) => {
            // The link names the rank: "rank 2 (node2) closed the connection", "... sent nothing for 60 s".
            const reason = gone.get(cell.src) ?? err.message;
            // A rank that missed its deadline or broke the protocol is not trusted with more cells.
            if (!gone.has(cell.src)) {
              gone.set(cell.src, reason);
              m.log(reason);
            }
            links.get(cell.src)!.abort(reason);
            return failAll(cell, m.pair.rails, reason).map((o) => ({ rail: o.rail, failed: o.failed! }));
          });
        return rails.map((r) => ({ ...r, src: cell.src, dst: cell.dst }));
      }));
      for (const r of results) outcomes.push(...r);
      const done = outcomes.filter((o) => o.rail === 0).length;
      m.log(`step ${index + 1}/${steps.length} (round ${step.round + 1}): ${done}/${n * (n - 1)} directed pairs done`);
      rounds = step.round + 1;
    }
    finished = true;
    const failedCells = outcomes.filter((o) => o.failed !== undefined).length;
    for (const l of links.values()) {
      l.send({ type: 'done', failedCells });
      l.close();
    }
    return {
      ranks: joined.map((j) => ({ rank: j.rank, host: j.host, rails: j.rails })),
      rails: buildMatrices(n, m.pair.rails, outcomes, m.slow, m.pair.latIterations > 0),
      rounds,
      params: { ...m.pair, serial: m.serial, slowFraction: m.slow.fraction, slowShare: m.slow.share, launcher: identity.launcher, rdzv: `${identity.rdzv.host}:${identity.rdzv.port}` },
    };
  } catch (err) {
    abortAll(err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await server?.close();
  }
}

/** The result of `cell` from its writer, checked against what was asked. */
async function collect(link: RankLink, step: number, cell: Cell, deadlineMs: number, rails: number): Promise<RailOutcome[]> {
  const r = await link.receive(['result'], deadlineMs, `measuring ${cell.src}->${cell.dst}`);
  if (r.step !== step || r.src !== cell.src || r.dst !== cell.dst || r.rails.length !== rails) {
    throw new RdmaError(`sent a result for step ${r.step} ${r.src}->${r.dst} with ${r.rails.length} rail(s), expected step ${step} ${cell.src}->${cell.dst} with ${rails}`, { code: 'ERR_MESH_PROTOCOL' });
  }
  return r.rails;
}
