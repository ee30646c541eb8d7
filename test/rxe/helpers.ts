// Shared by the real-verbs suites (run inside the soft-RoCE guest: `npm run test:rxe`).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadBinding } from '../../lib/native/load.js';
import { runToEnd, type Exited } from '../fixtures/run-to-end.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');

/** Fails (never skips) when the guest's rails are missing: a missing device is a broken run. */
export function requireRxe(): void {
  const devices = loadBinding().listDevices();
  expect(devices, 'rxe0 and rxe1 must exist: run the suite with `npm run test:rxe` (the soft-RoCE VM)').toEqual(
    expect.arrayContaining(['rxe0', 'rxe1']),
  );
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export type { Exited };

/** Runs a node process to completion with a deadline (killed and reported past it). */
export function runNode(args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<Exited> {
  return runToEnd(process.execPath, args, { cwd: ROOT, timeoutMs, env });
}

/** A `spark-rdma <test>` server on its own port; resolves once it says it is serving. */
export async function startServer(test: 'bw' | 'lat', port: number, extra: string[] = []): Promise<{ child: ChildProcess; log: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, test, '--port', String(port), ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${log}`)), 60_000);
    const check = () => {
      if (log.includes('serving rails')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before serving:\n${log}`));
    });
  });
  return {
    child,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
      }),
  };
}

/** A port for this test file's servers, away from 18515 so a stray server cannot interfere. */
export function testPort(offset: number): number {
  return 19000 + (process.pid % 500) * 4 + offset;
}
