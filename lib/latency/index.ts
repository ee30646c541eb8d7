import { RdmaError } from '../errors.js';
import { planRun } from '../run/plan.js';
import type { RailPairing } from '../run/rail-pairing.js';
import { runLoopbackLatency } from './loopback.js';
import { resolveLatencyParams, type LatencyOptions } from './options.js';
import type { LatencyResult } from './result.js';

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
 * Measures RDMA WRITE latency the ib_write_lat way (ping-pong, spin on the last byte, half the
 * round trip per sample) on each selected rail, against a `spark-rdma lat` server or in
 * loopback, and returns exact statistics over every sample.
 */
export async function runLatency(options: LatencyOptions): Promise<LatencyResult> {
  const params = resolveLatencyParams(options);
  const { rails, mtus } = planRun('runLatency', options, { qps: 1, txDepth: 64, regionBytes: Math.max(...params.sizes) });
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  let results;
  let sessionError: RdmaError | undefined;
  let pairing: RailPairing[] | null = null;
  if (options.loopback) {
    results = await runLoopbackLatency(rails, mtus, params, signal);
  } else if (options.perftest) {
    const { runPerftestLatency } = await import('../perftest/lat-client.js');
    ({ rails: results, sessionError } = await runPerftestLatency(options, rails, mtus, params, signal));
  } else {
    const { runLatencyClient } = await import('./client.js');
    ({ rails: results, sessionError, pairing } = await runLatencyClient(options, rails, mtus, params, signal));
  }
  const result: LatencyResult = {
    params: { ...params, mode: options.loopback ? 'loopback' : 'client', peer: options.peer ?? null, rails: rails.map((r) => `${r.device}:${r.port}`), mtu: mtus, pairing },
    rails: results,
    stoppedEarly: signal.aborted || sessionError !== undefined,
  };
  if (sessionError) throw new LatencyRunError(result, sessionError);
  return result;
}
