// spark-rdma mesh: an all-pairs rail matrix across the nodes a launcher started one process on.
import { rdmaEngine } from './engine.js';
import type { MeshIdentity } from './launcher.js';
import type { MeshResult } from './matrix.js';
import { resolveMesh, type MeshOptions } from './options.js';
import type { RankSummary } from './worker.js';

export { detectIdentity, parseRdzv, DEFAULT_RDZV_PORT, type MeshIdentity, type IdentityFlags, type LauncherName, type RdzvAddress } from './launcher.js';
export { expandNodelist, firstNode } from './nodelist.js';
export { circleSchedule, scheduleSteps, type Round, type Pair, type Cell } from './schedule.js';
export { buildMatrices, meshJson, DEFAULT_SLOW_RULE, type MeshResult, type RailMatrix, type MeshRank, type MeshRailInfo, type SlowRule, type CellOutcome } from './matrix.js';
export { renderMeshMarkdown } from './render-markdown.js';
export { renderMeshSvg } from './render-svg.js';
export type { MeshOptions } from './options.js';
export type { RankSummary } from './worker.js';

export type MeshOutcome = { rank: 0; result: MeshResult } | { rank: number; summary: RankSummary };

/**
 * Runs this process's part of a mesh: rank 0 gathers the ranks, runs the schedule and returns
 * the matrices; every other rank serves and measures as told and returns a one-line summary.
 */
export async function runMesh(options: MeshOptions): Promise<MeshOutcome> {
  const m = resolveMesh(options);
  const id: MeshIdentity = options.identity;
  const signal = options.signal ?? new AbortController().signal;
  const engine = rdmaEngine(m, options.sysfsRoot);
  if (id.rank === 0) {
    const { runRank0 } = await import('./coordinator.js');
    return { rank: 0, result: await runRank0(id, m, engine, signal) };
  }
  const { runRank } = await import('./worker.js');
  return { rank: id.rank, summary: await runRank(id, m, engine, signal) };
}
