// Measurements that need the library in this process: event-loop lag while runBandwidth runs,
// and samples delivered through the engine's thread-safe function.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { runBandwidth, type BandwidthOptions } from '../../lib/index.js';

/** Node's figures as recorded: each value is the time between 1 ms timer ticks, so an idle loop reads about 1 ms. */
export interface LagStats {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  samples: number;
}

const RESOLUTION_MS = 1;

function lagOf(h: IntervalHistogram): LagStats {
  return { p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, samples: h.count };
}

/** CPU seconds (user + system) of this process's main thread, the one that runs JS. */
export function mainThreadCpuSeconds(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export async function idleLag(ms: number): Promise<LagStats> {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  await new Promise((r) => setTimeout(r, ms));
  h.disable();
  return lagOf(h);
}

export interface LagDuringRun {
  /** From the call to runBandwidth until its promise settles (setup included). */
  wholeRun: LagStats;
  /** From the first streamed sample until the promise settles (the engine's timed phase). */
  timedPhase: LagStats;
  gbps: number;
  mpps: number;
  samples: number;
  samplesPerSecond: number;
  /** CPU the JS thread used during the call (setup, samples, result): 10 ms resolution. */
  mainThreadCpuSeconds: number;
  seconds: number;
  engine: Record<string, number | boolean>[];
}

export async function lagDuringRun(options: BandwidthOptions): Promise<LagDuringRun> {
  const whole = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const timed = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  whole.enable();
  let samples = 0;
  const cpuBefore = mainThreadCpuSeconds();
  const run = runBandwidth(options);
  run.on('sample', () => {
    if (samples++ === 0) timed.enable();
  });
  try {
    const result = await run;
    const seconds = Math.max(...result.rails.map((r) => r.seconds));
    return {
      wholeRun: lagOf(whole),
      timedPhase: lagOf(timed),
      gbps: result.total.gbps,
      mpps: result.total.msgRate,
      samples,
      samplesPerSecond: seconds > 0 ? samples / seconds : 0,
      mainThreadCpuSeconds: mainThreadCpuSeconds() - cpuBefore,
      seconds,
      engine: result.rails.map((r) => ({ ...r.engine })),
    };
  } finally {
    whole.disable();
    timed.disable();
  }
}
