// `spark-rdma lat <host> --perftest`: each rail against a stock ib_write_lat server on
// --port + i. ib_write_lat's server writes first (run_iter_lat_write: it skips its first wait),
// so this side is the responder, stamping its own posts as perftest's client does; both ends
// must make exactly the same number of exchanges of the same size.
import { RdmaError } from '../errors.js';
import type { LatencyOptions, LatencyParams } from '../latency/options.js';
import { respond, type PingPong } from '../latency/ping-pong.js';
import { railLatency, type RailLatency } from '../latency/result.js';
import type { Rail } from '../rails/types.js';
import { DEFAULT_SESSION_PORT } from '../session/protocol.js';
import { openPerftestRail, type PerftestRail } from './client-rail.js';
import { lingeringPeerProblem, mismatchError } from './lat-mismatch.js';
import { refusePerftestFlags } from './refuse.js';

export interface PerftestLatency {
  rails: RailLatency[];
  sessionError?: RdmaError;
}

export async function runPerftestLatency(
  options: LatencyOptions,
  rails: Rail[],
  mtus: number[],
  params: LatencyParams,
  signal: AbortSignal,
  onRail: (r: RailLatency) => void = () => undefined,
): Promise<PerftestLatency> {
  refusePerftestFlags('lat', { cm: params.cm, sizes: params.sizes, durationMs: params.durationMs });
  const size = params.sizes[0]!;
  const iterations = params.iterations!;
  const host = options.peer!;
  const base = options.port ?? DEFAULT_SESSION_PORT;
  const deadlines = { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, peerTimeoutMs: options.peerTimeoutMs ?? 10_000 };
  const measureRail = async (i: number): Promise<RailLatency> => {
    const rail = await openPerftestRail('lat', rails[i]!, host, base + i, { qps: 1, size, txDepth: 64, inlineBytes: params.inlineThreshold, mtu: mtus[i]! }, deadlines);
    try {
      const measured = await pingPong(rail, rails[i]!, size, iterations, params, signal, `${host}:${base + i}`);
      onRail(measured);
      return measured;
    } finally {
      rail.close();
    }
  };
  const out: RailLatency[] = [];
  if (params.concurrent) {
    const settled = await Promise.allSettled(rails.map((_, i) => measureRail(i)));
    for (const s of settled) if (s.status === 'fulfilled') out.push(s.value);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) return finish(out, failed.reason);
  } else {
    for (let i = 0; i < rails.length && !signal.aborted; i++) {
      try {
        out.push(await measureRail(i));
      } catch (err) {
        return finish(out, err);
      }
    }
  }
  return { rails: out };
}

function finish(out: RailLatency[], err: unknown): PerftestLatency {
  if (out.length === 0 || !(err instanceof RdmaError)) throw err;
  return { rails: out, sessionError: err };
}

async function pingPong(
  rail: PerftestRail,
  ours: Rail,
  size: number,
  iterations: number,
  params: LatencyParams,
  signal: AbortSignal,
  where: string,
): Promise<RailLatency> {
  const run: PingPong = respond(rail.endpoint, rail.peer, size, { inlineThreshold: params.inlineThreshold, silenceTimeoutMs: params.silenceTimeoutMs }, signal, {
    iterations,
    stamp: true,
    timer: params.timer,
  });
  let raw;
  try {
    raw = await run.done;
  } catch (err) {
    throw mismatchError(err, rail, size, iterations, where);
  }
  // A server given a larger -n writes once more at once: say so instead of leaving it spinning.
  const problem = await lingeringPeerProblem(rail, size, iterations, where);
  if (problem) throw problem;
  return railLatency(ours, size, raw);
}
