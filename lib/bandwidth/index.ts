import { RdmaError } from '../errors.js';
import { checkDeviceLimits } from '../run/device-limits.js';
import { selectRails } from '../run/select-rails.js';
import { runLoopbackSizes } from './loopback.js';
import { resolveBandwidthParams, type BandwidthOptions } from './options.js';
import type { BandwidthResult } from './result.js';
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
    readonly failures: { rail: number; device: string; error: RdmaError }[],
  ) {
    super(message, { code: failures[0]?.error.code ?? 'ERR_RDMA_RAIL_FAILED', ...(failures[0]?.error.hint ? { hint: failures[0].error.hint } : {}) });
  }
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
  if (!options.loopback && options.peer === undefined) {
    throw new RdmaError('runBandwidth needs a peer address or loopback: true', {
      code: 'ERR_RDMA_INVALID_ARGUMENT',
      hint: 'to serve, use serve(); for a one-machine test pass loopback: true',
    });
  }
  const rails = selectRails({
    ...(options.rails !== undefined ? { rails: options.rails } : {}),
    ...(options.devices !== undefined ? { devices: options.devices } : {}),
    ...(options.gidIndex !== undefined ? { gidIndex: options.gidIndex } : {}),
    ...(options.sysfsRoot !== undefined ? { sysfsRoot: options.sysfsRoot } : {}),
  });
  const mtus = rails.map((r) => options.mtu ?? r.activeMtu);
  checkDeviceLimits(rails, {
    qps: params.qps,
    txDepth: params.txDepth,
    regionBytes: Math.max(...params.sizes),
    ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
  });
  let measured: LoopbackOrClient;
  if (options.loopback) {
    measured = await runLoopbackSizes(rails, mtus, params, ctx, options.sysfsRoot, options.connectTimeoutMs ?? 10_000);
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
      mtu: mtus,
    },
    sizes,
    rails: first?.rails ?? [],
    total: first?.total ?? { gbps: 0, gibps: 0, bytes: 0, messages: 0, seconds: 0, msgRate: 0, sumOfRailsGbps: 0 },
    stoppedEarly: ctx.signal.aborted,
  };
  const failures = measured.sizes.flatMap((s) => s.failures);
  if (failures.length > 0) {
    const text = failures.map((f) => `rail ${f.rail} (${f.device}): ${f.error.message}`).join('; ');
    throw new BandwidthRunError(`${failures.length} rail(s) failed: ${text}`, result, failures);
  }
  return result;
}
