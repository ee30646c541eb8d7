import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { abortOnSignals } from '../../monitor/signals.js';
import { MAX_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, watchRails } from '../../monitor/watch.js';
import { redrawPrefix, renderFrame, renderPlainLines, renderWatching } from '../../monitor/view.js';
import type { CliCommand, CliContext } from '../command.js';
import { examples } from '../help.js';
import { canRedraw } from '../terminal.js';
import { withSchema } from '../json-schema.js';
import { processIo } from '../io.js';

interface MonitorOptions {
  interval: string;
  json?: boolean;
  count?: string;
  rails?: string;
  devices?: string;
  sysfsRoot?: string;
}

function parseInterval(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  const ms = seconds * 1000;
  if (!(ms >= MIN_WATCH_INTERVAL_MS && ms <= MAX_WATCH_INTERVAL_MS)) {
    throw invalidArgument(
      `--interval ${text} is not a number of seconds from ${MIN_WATCH_INTERVAL_MS / 1000} to ${MAX_WATCH_INTERVAL_MS / 1000}`,
      'pass e.g. --interval 1 (seconds; fractions like 0.5 work)',
    );
  }
  return ms;
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw invalidArgument(`--count ${text} must be a whole number of samples, 1 or more`, 'pass e.g. --count 10, or leave it out to run until Ctrl-C');
  }
  return Number(text);
}

function parseRailCount(text: string): number {
  if (/^\d+(\s*,\s*\d+)+$/.test(text.trim())) {
    // The old spelling, a list of rail indexes: --rails counts rails in every command now.
    throw invalidArgument(
      `--rails ${text} is a list of rail indexes; --rails counts rails now (the first N, as in bw and config)`,
      'pass --rails N to watch the first N rails, or name rails with --devices (e.g. --devices rocep1s0f1,roceP2p1s0f1)',
    );
  }
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw invalidArgument(`--rails ${text} must be a whole number of rails, 1 or more`, 'pass e.g. --rails 2 (the first two rails), or name rails with --devices');
  }
  return Number(text);
}

function isTerminal(ctx: CliContext): boolean {
  // Only the real process streams can be a terminal; tests pass their own io.
  return ctx.io === processIo && canRedraw(process.stdout, ctx.env);
}

async function run(ctx: CliContext, opts: MonitorOptions): Promise<void> {
  const intervalMs = parseInterval(opts.interval);
  const count = opts.count === undefined ? Infinity : parseCount(opts.count);
  const stop = abortOnSignals();
  try {
    const watch = watchRails({
      env: ctx.env,
      intervalMs,
      signal: stop.signal,
      ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
      ...(opts.rails !== undefined ? { rails: parseRailCount(opts.rails) } : {}),
      ...(opts.devices !== undefined ? { devices: opts.devices.split(',').map((s) => s.trim()) } : {}),
    });
    const tty = !opts.json && isTerminal(ctx);
    const view = { color: tty && (ctx.env['NO_COLOR'] ?? '') === '' };
    ctx.err(renderWatching(watch.rails, intervalMs));
    let drawn = 0;
    for await (const sample of watch) {
      if (opts.json) {
        ctx.out(JSON.stringify(withSchema('monitor', sample)));
      } else if (tty) {
        const frame = renderFrame(sample, intervalMs, view);
        ctx.io.stdout(`${redrawPrefix(drawn)}${frame.join('\n')}\n`);
        drawn = frame.length;
      } else {
        ctx.out(renderPlainLines(sample, view).join('\n'));
      }
      if (sample.seq >= count) break;
    }
  } finally {
    stop.release();
  }
}

export const command: CliCommand = {
  name: 'monitor',
  register(program: Command, ctx: CliContext) {
    program
      .command('monitor')
      .description("live per-rail traffic from the ports' counters: Gb/s each way, packets/s, error counters that moved")
      .option('--interval <seconds>', 'time between samples in seconds', '1')
      .option('--json', 'print one JSON line per sample ({"seq", "time", "rails": [...]}) for piping')
      .option('--count <n>', 'stop after n samples (default: run until Ctrl-C)')
      .option('--rails <n>', 'watch the first N rails (default: all)')
      .option('--devices <list>', 'watch only these devices, e.g. rocep1s0f1,roceP2p1s0f1 (dev or dev:port)')
      .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys (same as SPARK_RDMA_SYSFS_ROOT)')
      .addHelpText(
        'after',
        '\nRates are per second over the measured interval. Bytes come from ports/<p>/counters/port_xmit_data\n' +
          'and port_rcv_data (x 4; on mlx5 RoCE they count RDMA traffic only); rxe has packet counters only,\n' +
          'so its Gb/s columns show "-". Counters marked ! (errors: retransmits, sequence errors, link downed)\n' +
          'or ~ (congestion: ECN, CNP) moved during the interval. Ctrl-C exits 0.\n' +
          examples([
            ['spark-rdma monitor', 'live, until Ctrl-C'],
            ['spark-rdma monitor --rails 2 --interval 0.5', ''],
            ["spark-rdma monitor --json --count 10 | jq -c '.rails[] | {rail, txGbps}'", ''],
          ]),
      )
      .action((opts: MonitorOptions) => run(ctx, opts));
  },
};
