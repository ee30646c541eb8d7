// perftest as a server and a client process, the way perftest is always run: in one guest both
// on the same rxe device (traffic loops back inside rxe), or on the wire the server on node0
// (a ServerSite that reaches it) and the client here on node1.
import { latRowValid, parseBanner, parseBwOutput, parseLatOutput, perftestWarnings, type PerftestBwRow, type PerftestLatRow } from '../lib/perftest-output.js';
import { run, start, waitListening } from './processes.js';

export const RAIL_ADDRESS: Record<string, string> = { rxe0: '10.77.0.1', rxe1: '10.77.1.1' };

export function railAddress(device: string): string {
  const address = RAIL_ADDRESS[device];
  if (!address) throw new RangeError(`no address known for ${device}; the guest has rxe0 (10.77.0.1) and rxe1 (10.77.1.1)`);
  return address;
}

const STARTUP_MS = 60_000;

/** A server process started by a ServerSite. */
export interface SiteServer {
  /** True once the server has exited, false if it has not within `ms`. */
  exitedWithin(ms: number): Promise<boolean>;
  /** Stops it if it still runs (SIGINT, then SIGKILL). */
  stop(): Promise<void>;
}

/** Where servers run and how the client reaches a rail there. */
export interface ServerSite {
  /** Starts `command` and resolves once it listens on TCP `port` (rejects at `timeoutMs`). */
  startListening(command: string[], port: number, runMs: number, timeoutMs: number): Promise<SiteServer>;
  /** The address a client dials to reach `device`'s rail at this site. */
  address(device: string): string;
}

/** Servers in this guest, on the client's own devices. */
export const LOCAL_SITE: ServerSite = {
  async startListening(command, port, runMs, timeoutMs) {
    const server = start(command[0]!, command.slice(1), runMs);
    try {
      await waitListening(server, port, timeoutMs);
    } catch (e) {
      await server.stop();
      throw e;
    }
    return {
      exitedWithin: (ms) => Promise.race([server.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]),
      stop: async () => void (await server.stop()),
    };
  },
  address: railAddress,
};

export interface PerftestRun<Row> {
  rows: Row[];
  banner: Record<string, string>;
  warnings: string[];
  wallSeconds: number;
  /** User + system CPU seconds of the client process (bash `times`), null if not reported. */
  cpuSeconds: number | null;
}

// The client runs under bash, whose `times` prints the CPU its children used ("0m1.230s 0m0.450s"
// on its second line): perftest's own --cpu_util reads /proc/stat, the whole machine's.
const TIMED = '"$@"; rc=$?; times >&2; exit $rc';

/** Children's user + system seconds from the last two lines of bash `times` output. */
export function childCpuSeconds(stderr: string): number | null {
  const lines = stderr.trimEnd().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1]?.trim() ?? '');
  if (!m) return null;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

async function pair(tool: 'ib_write_bw' | 'ib_write_lat', device: string, port: number, args: string[], timeoutMs: number, site: ServerSite) {
  const common = ['-d', device, '-F', '-p', String(port), ...(tool === 'ib_write_bw' ? ['--report_gbits'] : []), ...args];
  const server = await site.startListening([tool, ...common], port, timeoutMs + STARTUP_MS, STARTUP_MS);
  try {
    const client = await run('bash', ['-c', TIMED, 'perftest-client', tool, ...common, site.address(device)], timeoutMs);
    const served = await server.exitedWithin(20_000);
    if (client.timedOut) throw new Error(`${tool} client on ${device} passed its ${timeoutMs / 1000} s deadline`);
    if (client.code !== 0) throw new Error(`${tool} client on ${device} exited ${client.code}: ${(client.stdout + client.stderr).slice(-1500)}`);
    if (!served) throw new Error(`${tool} server on ${device} did not exit 20 s after its client`);
    return client;
  } finally {
    await server.stop();
  }
}

export async function perftestBw(devices: string[], basePort: number, args: string[], timeoutMs: number, site: ServerSite = LOCAL_SITE): Promise<PerftestRun<PerftestBwRow>[]> {
  // Several devices: one process pair per rail, all at once.
  const clients = await Promise.all(devices.map((d, i) => pair('ib_write_bw', d, basePort + i, args, timeoutMs, site)));
  return clients.map((c) => {
    const rows = parseBwOutput(c.stdout);
    if (rows.length === 0) throw new Error(`ib_write_bw printed no result row:\n${c.stdout.slice(-1500)}`);
    const empty = rows.find((r) => !(r.gbps > 0));
    if (empty) throw new Error(`ib_write_bw reported ${empty.gbps} Gb/s over ${empty.iterations} iterations at ${empty.bytes} B:\n${c.stdout.slice(-600)}`);
    return { rows, banner: parseBanner(c.stdout), warnings: perftestWarnings(c.stdout + c.stderr), wallSeconds: c.wallSeconds, cpuSeconds: childCpuSeconds(c.stderr) };
  });
}

/**
 * ib_write_lat; retried (up to 3 times) when perftest's cycle-counter calibration failed under
 * emulation (inf, or figures scaled far off). Rejected attempts are kept as `discarded`.
 */
export async function perftestLat(
  device: string,
  port: number,
  args: string[],
  timeoutMs: number,
  site: ServerSite = LOCAL_SITE,
): Promise<PerftestRun<PerftestLatRow> & { attempts: number; discarded: PerftestLatRow[] }> {
  let last = '';
  const discarded: PerftestLatRow[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const c = await pair('ib_write_lat', device, port + attempt - 1, args, timeoutMs, site);
    const rows = parseLatOutput(c.stdout);
    const warnings = perftestWarnings(c.stdout + c.stderr);
    if (rows.length > 0 && rows.every(latRowValid)) return { rows, banner: parseBanner(c.stdout), warnings, wallSeconds: c.wallSeconds, cpuSeconds: childCpuSeconds(c.stderr), attempts: attempt, discarded };
    discarded.push(...rows);
    last = c.stdout.slice(-800);
  }
  throw new Error(`ib_write_lat gave no valid figures in 3 attempts (clock calibration failed):\n${last}`);
}
