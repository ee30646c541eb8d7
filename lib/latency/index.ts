import { RdmaError } from '../errors.js';
import { planRun } from '../run/plan.js';
import type { RailPairing } from '../run/rail-pairing.js';
import { runLoopbackLatency } from './loopback.js';
import { resolveLatencyParams, type LatencyOptions } from './options.js';
import type { LatencyResult, RailLatency } from './result.js';
import { MeasurementRun, type RunContext } from '../run/measurement-run.js';

export type { LatencyOptions, LatencyParams } from './options.js';
export type { LatencyResult, RailLatency } from './result.js';

/** Thrown when the session with the server broke mid-run; `partial` keeps what was measured before. */
export class LatencyRunError extends RdmaError {
  constructor(
    readonly partial: LatencyResult,
    readonly sessionError: RdmaError,
  ) {
    super(sessionError.message, { code: sessionError.code, ...(sessionError.hint ? { hint: sessionError.hint } : {}) });
  }
}

/**
 * A latency run in progress, the same shape as runBandwidth's (lib/run/measurement-run.ts):
 * await it for the result; each 'sample' event (and `samples()`) is one rail and size done
 * (RailLatency); `stop()` ends it early and it still resolves with what was measured.
 */
export class LatencyRun extends MeasurementRun<LatencyResult, RailLatency> {}

/**
 * Measures RDMA WRITE latency the ib_write_lat way (ping-pong, spin on the last byte, half the
 * round trip per sample) on each selected rail, against a `spark-rdma lat` server or in
 * loopback, and returns exact statistics over every sample. `await runLatency(...)` gives the
 * result as before.
 */
export function runLatency(options: LatencyOptions): LatencyRun {
  return new LatencyRun((ctx) => execute(options, ctx), options.signal);
}

async function execute(options: LatencyOptions, ctx: RunContext<RailLatency>): Promise<LatencyResult> {
  const params = resolveLatencyParams(options);
  const { rails, mtus } = planRun('runLatency', options, { qps: 1, txDepth: 64, regionBytes: Math.max(...params.sizes) });
  const signal = ctx.signal;
  let results;
  let sessionError: RdmaError | undefined;
  let pairing: RailPairing[] | null = null;
  if (options.loopback) {
    results = await runLoopbackLatency(rails, mtus, params, signal, ctx.emitSample);
  } else if (options.perftest) {
    const { runPerftestLatency } = await import('../perftest/lat-client.js');
    ({ rails: results, sessionError } = await runPerftestLatency(options, rails, mtus, params, signal, ctx.emitSample));
  } else {
    const { runLatencyClient } = await import('./client.js');
    ({ rails: results, sessionError, pairing } = await runLatencyClient(options, rails, mtus, params, signal, ctx.emitSample));
  }
  const result: LatencyResult = {
    params: { ...params, mode: options.loopback ? 'loopback' : 'client', peer: options.peer ?? null, rails: rails.map((r) => `${r.device}:${r.port}`), mtu: mtus, pairing },
    rails: results,
    stoppedEarly: signal.aborted || sessionError !== undefined,
  };
  if (sessionError) throw new LatencyRunError(result, sessionError);
  return result;
}
