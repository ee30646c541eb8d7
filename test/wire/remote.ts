// The suite runs on node1; these reach node0 through its agent (agent.mjs) and run things here.
import { join } from 'node:path';
import { expect } from 'vitest';
import { runToEnd, type Exited } from '../fixtures/run-to-end.js';
import { agentRequest } from './agent-client.mjs';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');
export const NODE0 = { rail0: '10.77.0.1', rail1: '10.77.1.1' };
export const NODE1 = { rail0: '10.77.0.2', rail1: '10.77.1.2' };

export type Ran = Exited;

const request = <T>(body: Record<string, unknown>, timeoutMs: number): Promise<T> => agentRequest(body, timeoutMs) as Promise<T>;

/** Runs a command on node0 to its end (killed at timeoutMs). */
export function onNode0(args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<Ran> {
  return request<Ran>({ op: 'run', args, timeoutMs, env }, timeoutMs + 10_000);
}

/** Runs a command here (node1) to its end (killed at timeoutMs). */
export function onNode1(args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<Ran> {
  return runToEnd(args[0]!, args.slice(1), { cwd: ROOT, timeoutMs, env });
}

/** `spark-rdma <args>` on a node. */
export const cli = (node: 0 | 1, args: string[], timeoutMs = 120_000) => (node === 0 ? onNode0 : onNode1)([process.execPath, CLI, ...args], timeoutMs);

/** A background process on node0 (a server, a monitor), ready once its output matches `ready`. */
export interface Node0Process {
  log(): Promise<string>;
  /** Waits until it exits by itself (failing at the deadline), then collects it as stop() does. */
  ended(timeoutMs: number): Promise<{ code: number | null; signal: string | null; log: string }>;
  stop(signal?: string): Promise<{ code: number | null; signal: string | null; log: string }>;
}

export async function startOnNode0(id: string, args: string[], ready: string, timeoutMs = 90_000): Promise<Node0Process> {
  const started = await request<{ ok: boolean; log: string; code?: number | null }>({ op: 'start', id, args, ready, timeoutMs }, timeoutMs + 10_000);
  expect(started.ok, `${id} on node0 did not become ready (exit ${started.code ?? 'none'}):\n${started.log}`).toBe(true);
  const stop = (signal = 'SIGINT') => request<{ code: number | null; signal: string | null; log: string }>({ op: 'stop', id, signal, timeoutMs: 30_000 }, 45_000);
  return {
    log: async () => (await request<{ log: string }>({ op: 'log', id }, 10_000)).log,
    ended: async (timeoutMs) => {
      await until(`${id} on node0 ending by itself`, async () => {
        const now = await request<{ code: number | null; signal: string | null }>({ op: 'log', id }, 10_000);
        return now.code !== null || now.signal !== null;
      }, timeoutMs, 200);
      return stop();
    },
    stop,
  };
}

/** A `spark-rdma bw|lat` server on node0 (both rails unless `extra` selects). */
export const serverOnNode0 = (id: string, test: 'bw' | 'lat', port: number, extra: string[] = []) =>
  startOnNode0(id, [process.execPath, CLI, test, '--port', String(port), ...extra], 'serving rails');

/** Polls `check` until it holds, or fails naming `what` at the deadline. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 250): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
