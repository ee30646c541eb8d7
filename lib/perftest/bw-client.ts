// `spark-rdma bw <host> --perftest`: each rail against a stock ib_write_bw server on --port + i,
// measured by the same engine as every other run, and our figures sent back in perftest's
// report so that the server prints what we measured.
import { RdmaError } from '../errors.js';
import { measureSize, type RailWriter } from '../bandwidth/measure.js';
import type { BandwidthOptions, BandwidthParams, PerftestReportUnits } from '../bandwidth/options.js';
import type { RailBandwidth } from '../bandwidth/result.js';
import type { RunContext } from '../bandwidth/run.js';
import type { LoopbackOrClient } from '../bandwidth/sizes.js';
import type { Rail } from '../rails/types.js';
import { BYTES_PER_MIB } from '../report/units.js';
import { DEFAULT_SESSION_PORT } from '../session/protocol.js';
import { shakeHands } from './handshake.js';
import { openPerftestRail, type PerftestRail } from './client-rail.js';
import { refusePerftestFlags } from './refuse.js';
import { encodeReport, REPORT_FIELD_BYTES, type BandwidthReport } from './wire.js';

/**
 * What ib_write_bw's client would report for this rail: the average over first post to last
 * completion, the best full interval as the peak, in MiB/s (2^20 B/s, its default) or Gb/s
 * (10^9 bit/s, --report_gbits): print_report_bw's format_factor is 0x100000 or 125000000 in
 * src/perftest_parameters.c from 5.70 through 6.29. The stock server prints these numbers as
 * they come, under a header in its own units (write_bw.c: print_full_bw_report(rem_bw_rep)).
 */
export function perftestReport(r: RailBandwidth, intervalMs: number, units: PerftestReportUnits = 'MiB/s'): BandwidthReport {
  const perSecond = units === 'Gb/s' ? (bytes: number) => (bytes * 8) / 1e9 : (bytes: number) => bytes / BYTES_PER_MIB;
  const average = units === 'Gb/s' ? r.gbps : r.mibps;
  const full = r.samples.filter((s) => s.seconds >= (intervalMs / 1000) * 0.5);
  const peak = Math.max(average, ...full.map((s) => perSecond(s.bytes / s.seconds)));
  return { size: BigInt(r.size), iters: BigInt(r.messages), bwPeak: peak, bwAvg: average, msgRateMpps: r.msgRate };
}

export async function runPerftestBandwidth(
  options: BandwidthOptions,
  rails: Rail[],
  mtus: number[],
  params: BandwidthParams,
  ctx: RunContext,
): Promise<LoopbackOrClient> {
  refusePerftestFlags('bw', { cm: params.cm, bidir: params.bidir, sizes: params.sizes });
  const size = params.sizes[0]!;
  const host = options.peer!;
  const base = options.port ?? DEFAULT_SESSION_PORT;
  const deadlines = { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, peerTimeoutMs: options.peerTimeoutMs ?? 10_000 };
  const shape = (i: number) => ({ qps: params.qps, size, txDepth: params.txDepth, inlineBytes: params.inlineThreshold, mtu: mtus[i]! });
  const opened = await Promise.allSettled(rails.map((rail, i) => openPerftestRail('bw', rail, host, base + i, shape(i), deadlines)));
  const connected = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    connected.forEach((c) => c.close());
    throw failed.reason;
  }
  try {
    ctx.emitProgress(
      `connected to ib_write_bw ${connected.map((c, i) => `${c.prelude.peerVersion} at ${host}:${base + i}`).join(', ')}: ${params.qps} QP(s) each, MTU ${connected[0]!.prelude.mtu}`,
    );
    const writers: RailWriter[] = connected.map((c, i) => ({ rail: rails[i]!, mtu: c.prelude.mtu, endpoint: c.endpoint, peer: c.peer }));
    const measured = await measureSize(writers, params, size, ctx.emitSample, ctx.signal, options.sysfsRoot);
    // Rails that failed get no report: closing the socket ends their server with an error.
    const reported = await Promise.allSettled(
      measured.rails.map((r) => {
        const rail = connected[rails.findIndex((x) => x.index === r.rail)]!;
        return sendReport(rail, perftestReport(r, params.intervalMs, options.perftestReportUnits), deadlines.peerTimeoutMs);
      }),
    );
    const lost = reported.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    const sessionError = lost ? asRdmaError(lost.reason) : undefined;
    return { sizes: [measured], ...(sessionError ? { sessionError } : {}) };
  } finally {
    connected.forEach((c) => c.close());
  }
}

/** The end of ib_write_bw's client: a sync, the report (five exchanges), the closing sync. */
export async function sendReport(rail: Pick<PerftestRail, 'stream' | 'keys'>, report: BandwidthReport, timeoutMs: number): Promise<void> {
  const { stream, keys } = rail;
  await shakeHands(stream, 'client', keys[0]!, timeoutMs, 'the sync after the run');
  for (const [i, field] of encodeReport(report).entries()) {
    await stream.exchange('client', field, REPORT_FIELD_BYTES, timeoutMs, `field ${i + 1} of 5 of the bandwidth report`);
  }
  await shakeHands(stream, 'client', keys[0]!, timeoutMs, 'the closing sync');
  await stream.finish(1000);
}

function asRdmaError(err: unknown): RdmaError {
  return err instanceof RdmaError ? err : new RdmaError(err instanceof Error ? err.message : String(err), { code: 'ERR_PROTOCOL_PERFTEST' });
}
