import { RdmaError } from '../errors.js';
import { planRun } from '../run/plan.js';
import { runLoopbackSizes } from './loopback.js';
import { resolveBandwidthParams, type BandwidthOptions } from './options.js';
import { movedErrorCounters, type RailFailure } from './measure.js';
import type { BandwidthResult, BandwidthSample } from './result.js';
import { BandwidthRun, type RunContext } from './run.js';
import type { LoopbackOrClient } from './sizes.js';

export type { BandwidthOptions, BandwidthParams } from './options.js';
export type { BandwidthResult, BandwidthSample, RailBandwidth, SizeResult, BandwidthTotal, QpBandwidth, CounterCheck } from './result.js';
export { BandwidthRun } from './run.js';

/** Error thrown when some rails failed; `partial` keeps what the others measured. */
export class BandwidthRunError extends RdmaError {
  constructor(
    message: string,
    readonly partial: BandwidthResult,
    readonly failures: { rail: number; device: string; error: RdmaError; samples?: BandwidthSample[] }[],
    /** Set when the session with the server ended early (it went away or failed). */
    readonly sessionError?: RdmaError,
  ) {
    const first = sessionError ?? failures[0]?.error;
    super(message, { code: first?.code ?? 'ERR_RDMA_RAIL_FAILED', ...(first?.hint ? { hint: first.hint } : {}) });
  }
}

/**
 * `rail 1 (rxe1) ran 2.0 s at 0.612 Gb/s, then: <why>`: the figures the rail streamed before it
 * failed. Trailing empty intervals (a stalled link still reports its intervals) are left out.
 */
function describeFailure(f: RailFailure): string {
  let end = f.samples.length;
  while (end > 0 && f.samples[end - 1]!.bytes === 0) end--;
  const moving = f.samples.slice(0, end);
  const seconds = moving.reduce((a, s) => a + s.seconds, 0);
  const bytes = moving.reduce((a, s) => a + s.bytes, 0);
  const before = seconds > 0 ? ` ran ${seconds.toFixed(1)} s at ${((bytes * 8) / seconds / 1e9).toFixed(3)} Gb/s, then` : '';
  // What the device saw tells a lossy or cut link (retransmissions, retry exceeded) from a local fault.
  const moved = f.counters ? movedErrorCounters(f.counters) : undefined;
  const saw = moved === undefined ? '' : moved ? `; ${f.device} counted ${moved} during the run` : `; ${f.device} counted no retransmission or error`;
  return `rail ${f.rail} (${f.device})${before}: ${f.error.message}${saw}`;
}

/**
 * Measures RDMA WRITE bandwidth on every selected rail at once: against a `spark-rdma bw`
 * server (`peer`) or in loopback. Await the returned run for the result; listen to its
 * 'sample' events or iterate `run.samples()` for live intervals.
 */
export function runBandwidth(options: BandwidthOptions): BandwidthRun {
  return new BandwidthRun(async (ctx) => execute(options, ctx), options.signal);
}

async function execute(options: BandwidthOptions, ctx: RunContext): Promise<BandwidthResult> {
  const params = resolveBandwidthParams(options);
  const { rails, mtus } = planRun('runBandwidth', options, {
    qps: params.qps,
    txDepth: params.txDepth,
    regionBytes: Math.max(...params.sizes),
  });
  let measured: LoopbackOrClient;
  if (options.loopback) {
    measured = await runLoopbackSizes(rails, mtus, params, ctx, options.sysfsRoot, options.connectTimeoutMs ?? 10_000);
  } else if (options.perftest) {
    const { runPerftestBandwidth } = await import('../perftest/bw-client.js');
    measured = await runPerftestBandwidth(options, rails, mtus, params, ctx);
  } else {
    const { runClientSizes } = await import('./client.js');
    measured = await runClientSizes(options, rails, mtus, params, ctx);
  }
  const sizes = measured.sizes.map(({ size, rails: r, total }) => ({ size, rails: r, total }));
  const first = sizes[0];
  const result: BandwidthResult = {
    params: {
      ...params,
      mode: options.loopback ? 'loopback' : 'client',
      peer: options.peer ?? null,
      rails: rails.map((r) => `${r.device}:${r.port}`),
      mtu: measured.mtus ?? mtus,
      pairing: measured.pairing ?? null,
    },
    sizes,
    rails: first?.rails ?? [],
    total: first?.total ?? { gbps: 0, gibps: 0, bytes: 0, messages: 0, seconds: 0, msgRate: 0, sumOfRailsGbps: 0 },
    stoppedEarly: ctx.signal.aborted,
  };
  const failures = measured.sizes.flatMap((s) => s.failures);
  if (failures.length > 0 || measured.sessionError) {
    const parts: string[] = [];
    if (measured.sessionError) parts.push(measured.sessionError.message);
    if (failures.length > 0) parts.push(`${failures.length} rail(s) failed: ${failures.map(describeFailure).join('; ')}`);
    throw new BandwidthRunError(parts.join('; '), result, failures, measured.sessionError);
  }
  return result;
}
