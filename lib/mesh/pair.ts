// One directed cell of the mesh: this rank writes to `dst`'s server with the same client code
// as `spark-rdma bw` (and `lat` with --lat): every rail at once, one session, no second path.
import { BandwidthRunError, runBandwidth } from '../bandwidth/index.js';
import { RdmaError } from '../errors.js';
import { LatencyRunError, runLatency } from '../latency/index.js';
import type { PairParams, RailOutcome } from './protocol.js';

export interface CellTask {
  src: number;
  dst: number;
  address: string;
  port: number;
  params: PairParams;
}

function why(err: unknown): string {
  if (err instanceof RdmaError) return `${err.message}${err.hint ? ` (${err.hint})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

/** Per-rail outcomes of one directed pair; never throws (a failure is an outcome). */
export async function runCell(task: CellTask, sysfsRoot: string | undefined, signal: AbortSignal): Promise<RailOutcome[]> {
  const p = task.params;
  const common = {
    peer: task.address,
    port: task.port,
    rails: p.rails,
    peerTimeoutMs: p.peerTimeoutMs,
    connectTimeoutMs: p.peerTimeoutMs,
    signal,
    ...(sysfsRoot !== undefined ? { sysfsRoot } : {}),
  };
  const outcomes: RailOutcome[] = Array.from({ length: p.rails }, (_, rail) => ({ rail }));
  try {
    const result = await runBandwidth({ ...common, sizes: [p.size], qps: p.qps, durationMs: p.durationMs, warmupMs: p.warmupMs });
    result.rails.forEach((r, i) => Object.assign(outcomes[i]!, { gbps: r.gbps, shareOfLimit: r.shareOfLimit }));
  } catch (err) {
    // Rails that failed say why; the others keep what they measured.
    if (err instanceof BandwidthRunError) {
      const failed = new Map(err.failures.map((f) => [f.rail, why(f.error)]));
      err.partial.rails.forEach((r, i) => {
        if (!failed.has(i) && !err.sessionError) Object.assign(outcomes[i]!, { gbps: r.gbps, shareOfLimit: r.shareOfLimit });
      });
      for (const o of outcomes) if (o.gbps === undefined) o.failed = failed.get(o.rail) ?? why(err.sessionError ?? err);
    } else {
      for (const o of outcomes) o.failed = why(err);
    }
    return outcomes;
  }
  if (p.latIterations > 0 && !signal.aborted) {
    try {
      const lat = await runLatency({ ...common, iterations: p.latIterations });
      lat.rails.forEach((r, i) => (outcomes[i]!.latP50Us = r.latency.p50Us));
    } catch (err) {
      const e = err instanceof LatencyRunError ? err.sessionError : err;
      // Bandwidth was measured; the latency part says why it is missing.
      for (const o of outcomes) o.failed = `latency: ${why(e)}`;
    }
  }
  return outcomes;
}
