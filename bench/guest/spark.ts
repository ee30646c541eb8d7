// spark-rdma runs inside the guest, through the CLI a user would type: loopback (both ends in
// one process) or two processes (a `spark-rdma bw` server and a client, in this guest or across
// the wire).
import { join } from 'node:path';
import type { BandwidthResult } from '../../lib/bandwidth/index.js';
import type { LatencyResult } from '../../lib/latency/index.js';
import { railAddress } from './perftest.js';
import { run, start, waitListening, type Running } from './processes.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');

/** `--json` output of `bw` with several sizes also carries `sizes`. */
export type BwJson = Pick<BandwidthResult, 'params' | 'rails' | 'total' | 'stoppedEarly'> & Partial<Pick<BandwidthResult, 'sizes'>>;

async function cli(args: string[], timeoutMs: number): Promise<{ json: unknown; wallSeconds: number }> {
  const r = await run(process.execPath, [CLI, ...args], timeoutMs);
  if (r.timedOut) throw new Error(`spark-rdma ${args.join(' ')} passed its ${timeoutMs / 1000} s deadline`);
  if (r.code !== 0) throw new Error(`spark-rdma ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-1500)}`);
  return { json: JSON.parse(r.stdout), wallSeconds: r.wallSeconds };
}

export async function sparkBwLoopback(devices: string[], args: string[], timeoutMs: number): Promise<{ json: BwJson; wallSeconds: number }> {
  const r = await cli(['bw', '--loopback', '--devices', devices.join(','), '--json', ...args], timeoutMs);
  return { json: r.json as BwJson, wallSeconds: r.wallSeconds };
}

export async function sparkLatLoopback(devices: string[], args: string[], timeoutMs: number): Promise<{ json: LatencyResult; wallSeconds: number }> {
  const r = await cli(['lat', '--loopback', '--devices', devices.join(','), '--json', ...args], timeoutMs);
  return { json: r.json as LatencyResult, wallSeconds: r.wallSeconds };
}

/** A `spark-rdma bw|lat` server, kept for all pairs of a comparison (it sleeps between sessions). */
export async function startSparkServer(test: 'bw' | 'lat', port: number): Promise<Running> {
  const server = start(process.execPath, [CLI, test, '--port', String(port)], 30 * 60_000);
  await waitListening(server, port, 120_000, (out) => out.includes('serving rails'));
  return server;
}

/** A `spark-rdma bw|lat` client of a server at `address` (`args` pick the rails and the test). */
export async function sparkClient<T extends 'bw' | 'lat'>(
  test: T,
  address: string,
  port: number,
  args: string[],
  timeoutMs: number,
): Promise<{ json: T extends 'bw' ? BwJson : LatencyResult; wallSeconds: number }> {
  const r = await cli([test, address, '--port', String(port), '--json', ...args], timeoutMs);
  return { json: r.json as T extends 'bw' ? BwJson : LatencyResult, wallSeconds: r.wallSeconds };
}

export const sparkBwClient = (device: string, port: number, args: string[], timeoutMs: number) => sparkClient('bw', railAddress(device), port, ['--devices', device, ...args], timeoutMs);

export const sparkLatClient = (device: string, port: number, args: string[], timeoutMs: number) => sparkClient('lat', railAddress(device), port, ['--devices', device, ...args], timeoutMs);
