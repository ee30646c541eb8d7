// Child processes with deadlines, for the guest runner: every wait ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  timedOut: boolean;
}

export interface Running {
  child: ChildProcess;
  output(): string;
  done: Promise<Finished>;
  stop(): Promise<Finished>;
}

/** Starts a command, collects its output, kills it (SIGKILL) at the deadline. */
export function start(command: string, args: string[], timeoutMs: number): Running {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<Finished>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, timedOut });
    };
    child.on('close', finish);
    child.on('error', (e) => {
      stderr += String(e);
      finish(null, null);
    });
  });
  return {
    child,
    output: () => stdout + stderr,
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }
      return done;
    },
  };
}

export const run = (command: string, args: string[], timeoutMs: number): Promise<Finished> => start(command, args, timeoutMs).done;

/** True when /proc/net/tcp or tcp6 text (several files may be concatenated) shows `port` in LISTEN. */
export function listensIn(procNetTcp: string, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return procNetTcp.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f.length > 3 && f[1]!.endsWith(`:${hex}`) && f[3] === '0A';
  });
}

/** True when something listens on this TCP port here (IPv4 or IPv6). */
export function listening(port: number): boolean {
  return PROC_NET_TCP.some((file) => {
    try {
      return listensIn(readFileSync(file, 'utf8'), port);
    } catch {
      return false;
    }
  });
}

export const PROC_NET_TCP = ['/proc/net/tcp', '/proc/net/tcp6'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `port` listens, or the server exits, or the deadline passes. */
export async function waitListening(server: Running, port: number, timeoutMs: number, ready?: (output: string) => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ready ? ready(server.output()) : listening(port)) return;
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`server on port ${port} exited before listening:\n${server.output().slice(-2000)}`);
    }
    if (Date.now() > deadline) throw new Error(`server on port ${port} was not listening after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}
