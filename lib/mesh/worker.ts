// A rank other than 0: joins, serves its rails on the port rank 0 gave it, runs each task it
// is handed and reports back, until rank 0 says done. Rank 0 going away (closed, or silent past
// the step deadline) ends this rank with an error at once.
import { RdmaError } from '../errors.js';
import type { MeshIdentity } from './launcher.js';
import type { ResolvedMesh } from './options.js';
import type { RankEngine } from './engine.js';
import { joinRank0 } from './rendezvous.js';

export interface RankSummary {
  rank: number;
  worldSize: number;
  host: string;
  /** Directed pairs this rank wrote (as src). */
  cellsRun: number;
  /** Failed rail cells over the whole mesh, as rank 0 counted them. */
  failedCells: number;
}

export async function runRank(identity: MeshIdentity, m: ResolvedMesh, engine: RankEngine, signal: AbortSignal): Promise<RankSummary> {
  const { rank } = identity;
  const link = await joinRank0({ identity, host: m.host, rails: m.rails, timeoutMs: m.rdzvTimeoutMs, log: m.log });
  const stop = new AbortController();
  void link.ended.then(() => stop.abort());
  const onAbort = () => link.abort(`rank ${rank} was interrupted`);
  signal.addEventListener('abort', onAbort, { once: true });
  let server: { port: number; close(): Promise<void> } | null = null;
  try {
    // Rank 0 answers once every rank arrived: allow the whole rendezvous deadline.
    const table = await link.receive(['table'], m.rdzvTimeoutMs + m.pair.peerTimeoutMs, 'waiting for the other ranks');
    const me = table.ranks[rank];
    if (!me || me.rank !== rank) throw new RdmaError(`rank 0's table has no rank ${rank}`, { code: 'ERR_MESH_PROTOCOL' });
    try {
      server = await engine.serve(me.port, stop.signal);
    } catch (err) {
      link.abort(`rank ${rank} cannot serve on port ${me.port}: ${(err as Error).message}`);
      throw err;
    }
    link.send({ type: 'listening', port: server.port });
    m.log(`rank ${rank}: serving on port ${server.port}; ${table.steps} step(s) to follow`);
    let cellsRun = 0;
    for (;;) {
      const next = await link.receive(['step', 'done'], table.stepDeadlineMs + m.pair.peerTimeoutMs, 'waiting for the next step');
      if (next.type === 'done') return { rank, worldSize: identity.worldSize, host: m.host, cellsRun, failedCells: next.failedCells };
      if (next.task === null) continue;
      const task = next.task;
      if (task.src !== rank) throw new RdmaError(`rank 0 handed rank ${rank} the task of rank ${task.src}`, { code: 'ERR_MESH_PROTOCOL' });
      m.log(`rank ${rank}: step ${next.step + 1}: writing to rank ${task.dst} at ${task.address}:${task.port}`);
      const rails = await engine.runCell(task, stop.signal);
      cellsRun++;
      link.send({ type: 'result', step: next.step, src: task.src, dst: task.dst, rails });
    }
  } catch (err) {
    if (err instanceof RdmaError && (err.code === 'ERR_PEER_CLOSED' || err.code === 'ERR_PEER_SILENT')) {
      throw new RdmaError(`rank ${rank}: lost rank 0: ${err.message}`, { code: err.code, hint: 'see rank 0\'s output: it holds the matrix and the reason' });
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
    link.close();
    await server?.close();
  }
}
