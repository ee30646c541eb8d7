// Abort signals given to runs and servers (issue 20 point 9): listeners are removed when the
// run or server ends, an already aborted signal is honoured, and a Ctrl-C during a server's
// start-up is not lost.
import { getEventListeners } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BandwidthRun } from '../../lib/bandwidth/run.js';
import type { BandwidthResult } from '../../lib/bandwidth/result.js';
import type { CliContext } from '../../lib/cli/command.js';
import { serveUntilInterrupted } from '../../lib/cli/commands/serve-loop.js';
import { serve, type SparkServer } from '../../lib/serve/index.js';
import { dgxSparkNode, makeSysfsTree } from '../fixtures/sysfs.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function fixtureRoot(): string {
  const t = makeSysfsTree(dgxSparkNode());
  cleanups.push(t.cleanup);
  return t.root;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('abort listeners', () => {
  it('12 runs on one signal: each removes its listener when it ends, no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    const shared = new AbortController();
    for (let i = 0; i < 12; i++) await new BandwidthRun(async () => ({}) as BandwidthResult, shared.signal);
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('serve() with an already aborted signal does not stay listening', async () => {
    const server = await serve({ sysfsRoot: fixtureRoot(), bind: ['127.0.0.1'], port: 0, signal: AbortSignal.abort() });
    cleanups.push(() => server.close());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await refused(server.port)).toBe(true);
  });

  it('serve() removes its abort listener when closed', async () => {
    const controller = new AbortController();
    const server = await serve({ sysfsRoot: fixtureRoot(), bind: ['127.0.0.1'], port: 0, signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await server.close();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a Ctrl-C while the server starts stops it once started, instead of serving on', async () => {
    const lines: string[] = [];
    const ctx = { err: (t: string) => lines.push(t), out: (t: string) => lines.push(t), env: {}, io: {} } as unknown as CliContext;
    let closed = false;
    const fake = { port: 1, endpoints: ['127.0.0.1:1'], rails: [], stats: () => ({}), close: async () => void (closed = true) } as unknown as SparkServer;
    const run = serveUntilInterrupted(ctx, 'bw', async () => {
      process.emit('SIGINT');
      return fake;
    });
    const outcome = await Promise.race([run.then(() => 'returned'), new Promise((resolve) => setTimeout(() => resolve('still serving after 2 s'), 2_000))]);
    expect(outcome).toBe('returned');
    expect(closed).toBe(true);
  });
});
