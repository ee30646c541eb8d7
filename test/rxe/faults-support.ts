// Shared by the fault, bad-input and leak suites (inside the soft-RoCE guest): a CLI process
// that can be watched while it runs, polling with a deadline, the guest's links, and raw
// TCP exchanges with a server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadBinding } from '../../lib/native/load.js';
import { CLI, ROOT, type Exited } from './helpers.js';

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr (or stdout) matches; rejects past the deadline or if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  exited: Promise<Exited>;
}

/** Starts `spark-rdma <args>` (or `node <args>` with raw: true) and lets the test act while it runs. */
export function spawnCli(args: string[], options: { raw?: boolean; killAfterMs?: number } = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, options.raw ? args : [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  // Backstop: no test may leave a process behind.
  const backstop = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 180_000);
  const exited = new Promise<Exited>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(backstop);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  const waitFor = (pattern: RegExp, timeoutMs: number, stream: 'stdout' | 'stderr' = 'stderr') =>
    new Promise<void>((resolve, reject) => {
      const text = () => (stream === 'stdout' ? stdout : stderr);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} on ${stream} within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      }, timeoutMs);
      const check = () => {
        if (pattern.test(text())) {
          cleanup();
          resolve();
        }
      };
      const onExit = () => {
        check();
        cleanup();
        reject(new Error(`process exited before ${pattern} appeared:\n${stdout}\n${stderr}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        child.off('close', onExit);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.on('close', onExit);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, exited };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `ready` until it is true; returns how long that took, throws naming `what` past the deadline. */
export async function until(what: string, ready: () => boolean, timeoutMs: number, stepMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (ready()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

/** `ip <args>` in the guest (the tests run as root there). */
export function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** The port state as sysfs shows it, e.g. "4: ACTIVE". */
export function portState(device: string): string {
  return readFileSync(`/sys/class/infiniband/${device}/ports/1/state`, 'utf8').trim();
}

export function activeMtu(device: string): number {
  return loadBinding().queryDevice(device).ports[0]!.activeMtu;
}

/** True once the rail can carry a run again: port ACTIVE and its IPv4 RoCE v2 GID (index 1) back. */
export function railReady(device: string): boolean {
  if (!portState(device).endsWith('ACTIVE')) return false;
  const gid = readFileSync(`/sys/class/infiniband/${device}/ports/1/gids/1`, 'utf8').trim();
  return gid.startsWith('0000:0000:0000:0000:0000:ffff:');
}

export interface RawExchange {
  /** Lines the server sent back. */
  lines: string[];
  /** The server closed the connection (rather than our deadline ending it). */
  closedByServer: boolean;
  ms: number;
}

/**
 * Connects and writes `payload`, then reads until the server closes or `waitMs` passes. Given
 * pieces, each one after the first waits for one more line from the server (a client that
 * takes turns: hello, then propose once the server's hello came, ...). `end: true` half-closes
 * after the last piece (a truncated message, or a client that leaves).
 */
export function rawExchange(host: string, port: number, payload: string | Buffer | (string | Buffer)[], waitMs: number, end = false): Promise<RawExchange> {
  const pieces = Array.isArray(payload) ? payload : [payload];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host, port });
    let text = '';
    let written = 0;
    let closedByServer = true;
    const timer = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, waitMs);
    const writeNext = () => {
      socket.write(pieces[written++]!);
      if (written === pieces.length && end) socket.end();
    };
    socket.on('connect', writeNext);
    socket.on('data', (c: Buffer) => {
      text += c.toString();
      const lines = text.split('\n').length - 1;
      while (written < pieces.length && lines >= written && !socket.destroyed) writeNext();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the server's reply still counts as the server closing.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ lines: text.split('\n').filter((l) => l.length > 0), closedByServer, ms: Date.now() - started });
    });
  });
}

/** The `error` message a server sent, parsed. */
export function errorLine(x: RawExchange): { type: string; code: string; message: string; hint?: string } {
  const line = x.lines.map((l) => JSON.parse(l) as { type: string; code: string; message: string; hint?: string }).find((m) => m.type === 'error');
  if (!line) throw new Error(`the server sent no error message: ${JSON.stringify(x.lines)}`);
  return line;
}

/** `spark-rdma <argv>` in this process (no node start-up: about 5 s saved per call under TCG). */
export async function cliInProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const { main } = await import('../../lib/cli/main.js');
  let stdout = '';
  let stderr = '';
  const started = Date.now();
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
  return { code, stdout, stderr, ms: Date.now() - started };
}

/** No stack trace in what a user sees (only --debug prints one). */
export const STACK_FRAME = /^\s+at .+\(.*:\d+:\d+\)$/m;
