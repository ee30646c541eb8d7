import { Option, type Command } from 'commander';
import { LatencyRunError, runLatency, type LatencyOptions } from '../../latency/index.js';
import { LATENCY_TIMERS, type LatencyTimerChoice } from '../../latency/options.js';
import { serve } from '../../serve/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { invalidArgument } from '../../errors.js';
import { intArg, secondsArg } from '../parse.js';
import { addRunFlags, runTargetOptions, serveOptionsFrom, type RunFlags } from '../run-flags.js';
import { interruptible } from '../signals.js';
import { checkRunRole } from '../run-roles.js';
import { examples } from '../help.js';
import { EXIT_INTERRUPTED } from '../errors.js';
import { latencyJson, renderLatency } from '../views/lat-view.js';
import { serveUntilInterrupted } from './serve-loop.js';

interface LatFlags extends RunFlags {
  warmup?: number;
  warmupIters?: number;
  warmupMs?: string;
  inline?: number;
  concurrent?: boolean;
  histogram?: boolean;
  timer?: LatencyTimerChoice;
  events?: boolean;
}

function toOptions(peer: string | undefined, o: LatFlags, signal: AbortSignal, env: Record<string, string | undefined>): LatencyOptions {
  return {
    ...runTargetOptions(peer, o, signal, env),
    ...(o.warmupIters !== undefined ? { warmupIterations: o.warmupIters } : {}),
    ...(o.warmup !== undefined ? { warmupMs: Math.round(o.warmup * 1000) } : {}),
    ...(o.inline !== undefined ? { inlineThreshold: o.inline } : {}),
    ...(o.concurrent ? { concurrent: true } : {}),
    ...(o.timer !== undefined ? { timer: o.timer } : {}),
    // --peer-timeout bounds every wait for the peer: the session's steps and, inside an exchange, its silence.
    ...(o.peerTimeout !== undefined ? { silenceTimeoutMs: Math.round(o.peerTimeout * 1000) } : {}),
    ...(o.events ? { events: true } : {}),
  };
}

// A latency warm-up is a fraction of a second; a larger --warmup is the old spelling (exchanges).
const MAX_LAT_WARMUP_S = 5;
function latWarmupArg(text: string): number {
  const seconds = secondsArg('--warmup')(text);
  if (seconds > MAX_LAT_WARMUP_S) {
    throw invalidArgument(
      `--warmup ${text}: the latency warm-up is in seconds now (as in bw), at most ${MAX_LAT_WARMUP_S}`,
      `for ${text} untimed exchanges pass --warmup-iters ${text}; for a time pass e.g. --warmup 0.5`,
    );
  }
  return seconds;
}

export const command: CliCommand = {
  name: 'lat',
  register(program: Command, ctx: CliContext) {
    const cmd = program
      .command('lat')
      .argument('[peer]', 'address of the server; without it (and without --loopback) this process is the server')
      .description('RDMA WRITE latency, the ib_write_lat method, with exact percentiles and a histogram');
    addRunFlags(cmd, { size: 'default 2', iters: 'timed exchanges per size (default 1000)', duration: 'timed seconds per size instead of --iters' })
      .option('--warmup <s>', `untimed warm-up seconds at least, so start-up work is over (default 0.1; at most ${MAX_LAT_WARMUP_S})`, latWarmupArg)
      .option('--warmup-iters <n>', 'and at least this many untimed exchanges (default 100)', intArg('--warmup-iters', 0, 1e9))
      .addOption(new Option('--warmup-ms <ms>').hideHelp())
      .option('--inline <bytes>', 'post inline at or below this size (default 220)', intArg('--inline', 0, 4096))
      .option('--concurrent', 'measure all rails at the same time')
      .option('--histogram', 'print a histogram per rail and size')
      .option('-e, --events', 'wait for send completions on a completion channel instead of spinning (as ib_write_lat -e); the peer\'s write is still awaited by spinning')
      .addOption(
        new Option('--timer <kind>', 'what stamps the posts: clock (CLOCK_MONOTONIC_RAW), counter (the CPU counter scaled to it), auto: the clock unless a read costs over 200 ns').choices(
          LATENCY_TIMERS,
        ),
      )
      .addHelpText(
        'after',
        examples([
          ['spark-rdma lat', 'server on this node'],
          ['spark-rdma lat 192.168.100.10 --histogram', 'client: every rail in turn, exact percentiles'],
          ['spark-rdma lat --loopback --sizes 2,4K --iters 10000 --json', 'one machine, two sizes'],
        ]),
      )
      .action(async (peer: string | undefined, o: LatFlags, self: Command) => {
        if (o.warmupMs !== undefined) {
          throw invalidArgument('--warmup-ms is gone: the warm-up time is --warmup, in seconds as in bw', `pass --warmup ${Number(o.warmupMs) / 1000 || 0.1}`);
        }
        if (checkRunRole(self, peer, o) === 'server') {
          await serveUntilInterrupted(ctx, 'lat', (log, signal) =>
            serve({ log, signal, ...serveOptionsFrom(o, ctx.env), perftest: 'lat', perftestLatency: { ...(o.size !== undefined ? { size: o.size } : {}), ...(o.iters !== undefined ? { iterations: o.iters } : {}) } }),
          );
          return;
        }
        const interrupt = interruptible(() => ctx.err('\nspark-rdma: interrupted; printing what was measured'));
        try {
          const render = (result: Awaited<ReturnType<typeof runLatency>>) =>
            ctx.out(o.json ? latencyJson(result) : renderLatency(result, o.histogram === true, process.stdout.columns ?? 80));
          let result;
          try {
            result = await runLatency(toOptions(peer, o, interrupt.signal, ctx.env));
          } catch (err) {
            // The session broke: print what was measured before it did, then the error.
            if (err instanceof LatencyRunError && err.partial.rails.length > 0) render(err.partial);
            throw err;
          }
          render(result);
          if (interrupt.interrupted()) ctx.exitCode = EXIT_INTERRUPTED;
        } finally {
          interrupt.dispose();
        }
      });
  },
};
