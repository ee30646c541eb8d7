// What a rank does with RDMA: serve its rails, and measure one directed pair with the bw/lat
// client. The coordinator and the worker take it as a parameter so their control flow (rounds,
// deadlines, ranks that die) also runs on a host without RDMA; runMesh passes this real one.
import { serve } from '../serve/index.js';
import type { ResolvedMesh } from './options.js';
import { runCell, type CellTask } from './pair.js';
import type { RailOutcome } from './protocol.js';

export interface RankEngine {
  /** Serves this rank's rails on `port` until closed or aborted. */
  serve(port: number, signal: AbortSignal): Promise<{ port: number; close(): Promise<void> }>;
  /** Writes to the task's destination; a failure is an outcome, never a throw. */
  runCell(task: CellTask, signal: AbortSignal): Promise<RailOutcome[]>;
}

export function rdmaEngine(m: ResolvedMesh, sysfsRoot: string | undefined): RankEngine {
  const root = sysfsRoot !== undefined ? { sysfsRoot } : {};
  return {
    serve: (port, signal) => serve({ port, peerTimeoutMs: m.pair.peerTimeoutMs, log: (l) => m.log(`server: ${l}`), signal, ...root }),
    runCell: (task, signal) => runCell(task, sysfsRoot, signal),
  };
}
