import type { SparkServer } from '../../serve/index.js';
import type { CliContext } from '../command.js';
import { interruptible } from '../signals.js';

/** Runs a server until SIGINT/SIGTERM, logging to stderr; exits 0 on a clean stop. */
export async function serveUntilInterrupted(
  ctx: CliContext,
  test: string,
  start: (log: (line: string) => void, signal: AbortSignal) => Promise<SparkServer>,
): Promise<void> {
  const interrupt = interruptible();
  try {
    const log = (line: string) => ctx.err(`[${new Date().toISOString()}] ${line}`);
    const server = await start(log, interrupt.signal);
    ctx.err(
      `spark-rdma ${test}: serving rails ${server.rails.map((r) => `${r.device}(${r.netdev} ${r.ipv4 ?? 'no IPv4'})`).join(', ')} ` +
        `on ${server.endpoints.join(', ')}; Ctrl-C stops`,
    );
    // A Ctrl-C during start-up already aborted the signal: its listener would never fire.
    if (!interrupt.signal.aborted) {
      await new Promise<void>((resolve) => interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    await server.close();
  } finally {
    interrupt.dispose();
  }
}
