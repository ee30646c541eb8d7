import { planRun } from '../run/plan.js';
import { runLoopbackLatency } from './loopback.js';
import { resolveLatencyParams, type LatencyOptions } from './options.js';
import type { LatencyResult } from './result.js';

export type { LatencyOptions, LatencyParams } from './options.js';
export type { LatencyResult, RailLatency } from './result.js';

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
  if (options.loopback) {
    results = await runLoopbackLatency(rails, mtus, params, signal);
  } else {
    const { runLatencyClient } = await import('./client.js');
    results = await runLatencyClient(options, rails, mtus, params, signal);
  }
  return {
    params: { ...params, mode: options.loopback ? 'loopback' : 'client', peer: options.peer ?? null, rails: rails.map((r) => `${r.device}:${r.port}`), mtu: mtus },
    rails: results,
    stoppedEarly: signal.aborted,
  };
}
