// Stock perftest processes next to spark-rdma in the guest: every one has a deadline, and a
// server is waited for with `ss -ltn` (it takes the first connection as its client, so a
// connect probe would use it up).
import { execFileSync } from 'node:child_process';
import { start, type Running } from '../../bench/guest/processes.js';
import { latRowValid, parseLatOutput } from '../../bench/lib/perftest-output.js';

export const PEER = '10.77.0.1';

export function listeningOn(port: number): boolean {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  return out.trim().length > 0;
}

/** Starts ib_write_bw / ib_write_lat as a server on rxe0 and waits until it listens. */
export async function perftestServer(tool: 'ib_write_bw' | 'ib_write_lat', port: number, args: string[], timeoutMs: number, device = 'rxe0'): Promise<Running> {
  const server = start(tool, ['-d', device, '-F', '-p', String(port), ...args], timeoutMs);
  const deadline = Date.now() + 30_000;
  while (!listeningOn(port)) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`${tool} exited before listening:\n${server.output()}`);
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${tool} was not listening on ${port} after 30 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

/** A perftest client with a deadline (the wire suite dials node0's rails with `peer`). */
export function perftestClient(tool: 'ib_write_bw' | 'ib_write_lat', port: number, args: string[], timeoutMs: number, device = 'rxe0', peer = PEER): Running {
  return start(tool, ['-d', device, '-F', '-p', String(port), ...args, peer], timeoutMs);
}

/** The result row under perftest's "#bytes" header: the numbers, in order. */
export function perftestRow(output: string): number[] {
  const lines = output.split('\n');
  const header = lines.findIndex((l) => l.includes('#bytes'));
  if (header < 0) throw new Error(`no result table in:\n${output}`);
  for (const line of lines.slice(header + 1)) {
    const fields = line.trim().split(/\s+/);
    if (/^\d+$/.test(fields[0] ?? '')) return fields.map(Number);
  }
  throw new Error(`no result row in:\n${output}`);
}

/** Prints both tables next to each other in the test log (the evidence). */
export function sideBySide(title: string, ours: string, theirs: string): void {
  console.log(`==== ${title}\n---- spark-rdma\n${ours.trim()}\n---- perftest\n${theirs.trim()}\n====`);
}

/**
 * Runs an ib_write_lat exchange again while perftest's own clock failed. perftest converts TSC
 * ticks with /proc/cpuinfo's "cpu MHz", and under TCG its calibration sometimes fails: the row
 * reads `inf` (or is scaled far off), which is no latency to compare with. Up to 3 attempts, as
 * the bench does (bench/guest/perftest.ts, perftestLat); each discarded one is logged.
 * `attempt` gets the attempt number (1..3) so a caller can take a fresh port for each.
 */
export async function calibratedLat<T>(attempt: (n: number) => Promise<T>, perftestOutput: (result: T) => string): Promise<T> {
  let last = '';
  for (let n = 1; n <= 3; n++) {
    const result = await attempt(n);
    const output = perftestOutput(result);
    const rows = parseLatOutput(output);
    if (rows.length > 0 && rows.every(latRowValid)) return result;
    last = output;
    console.log(`ib_write_lat attempt ${n}: perftest's clock calibration failed (no valid row); running it again:\n${output.slice(-600)}`);
  }
  throw new Error(`ib_write_lat gave no valid figures in 3 attempts (its clock calibration failed each time):\n${last}`);
}
