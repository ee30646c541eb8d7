// Drives the soft-RoCE guest: boots it once per group of comparisons (pairs of one comparison
// always share a guest), runs bench/guest/runner inside (bench/guest/wire on the two-guest
// wire), and collects its marker lines.
// Waits for a quiet host first: other engineers' jobs share these 2 CPUs.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RECORD_MARKER, WIRE_CASE_IDS, type CaseSettings, type RunRecord } from './lib/cases.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface GuestGroup {
  name: string;
  cases: string[];
  /** Deadline of the whole guest run, seconds. */
  timeoutSeconds: number;
  /** Two guests on a wire (scripts/vm/run.mjs --nodes 2) running `runner` on both; one guest otherwise. */
  nodes?: 2;
  /** The guest script, default dist/bench/guest/runner.js. */
  runner?: string;
  /** Harness settings for this boot (scripts/vm/run.mjs reads SPARK_RDMA_VM_*), recorded in the conditions. */
  env?: Record<string, string>;
}

/** Which comparisons share a boot (the scaling cases g and g2 alternate within their own pairs). */
export const GROUPS: GuestGroup[] = [
  { name: 'bandwidth', cases: ['a', 'e', 'g', 'g2', 'b', 'c', 'lag', 'tsfn'], timeoutSeconds: 1200 },
  { name: 'latency and two-process', cases: ['d', 'd2', 'a2'], timeoutSeconds: 600 },
  { name: 'size sweep', cases: ['f'], timeoutSeconds: 1200 },
  { name: 'events and CPU', cases: ['a-ev', 'ev', 'd-ev'], timeoutSeconds: 900 },
  { name: 'threads per rail', cases: ['c-t2', 'b-t2'], timeoutSeconds: 900 },
  // Under TCG the guest's timers fire from QEMU's main loop, which waits behind both spinning
  // vCPU threads on a 2-CPU host (bench/results/issue-17.md): this boot lets it run first.
  { name: 'lag, emulator timers first', cases: ['lag-t'], timeoutSeconds: 600, env: { SPARK_RDMA_VM_TIMER_FIFO: '10' } },
];

/** `npm run bench -- --wire`: the two-guest wire (issue 14), one boot for all its cases. */
export const WIRE_GROUP: GuestGroup = { name: 'wire', cases: WIRE_CASE_IDS, timeoutSeconds: 1200, nodes: 2, runner: 'dist/bench/guest/wire.js' };

export interface GroupRun {
  name: string;
  cases: string[];
  loadBefore: string;
  loadAfter: string;
  /** Other QEMU guests seen when this one started (0 on a quiet host). */
  otherGuestsBefore: number;
  waitedSeconds: number;
  wallSeconds: number;
  exitCode: number | null;
  /** The harness settings this boot ran with (GuestGroup.env). */
  env?: Record<string, string>;
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Process ids of QEMU guests running on this host (other people's: ours has not started yet). */
export function otherGuests(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim().startsWith('qemu-system')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * Waits (up to maxWaitSeconds) until no other QEMU guest runs and the 1-minute load average is
 * at most maxLoad: another emulated guest takes a whole host CPU and wrecks every figure.
 */
export async function waitForQuiet(maxLoad: number, maxWaitSeconds: number, log: (s: string) => void): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [one] = loadAverage();
    const guests = otherGuests();
    if (one! <= maxLoad && guests.length === 0) return (Date.now() - started) / 1000;
    const why = guests.length > 0 ? `${guests.length} other QEMU guest(s) running (pid ${guests.join(', ')})` : `load average ${one} > ${maxLoad}`;
    if (Date.now() - started > maxWaitSeconds * 1000) {
      log(`bench: ${why} after waiting ${maxWaitSeconds} s; running anyway (figures will be noisier)`);
      return (Date.now() - started) / 1000;
    }
    log(`bench: ${why}; waiting for a quieter host`);
    await sleep(15_000);
  }
}

export interface SideBySideOptions {
  pairs: number;
  settings: CaseSettings;
  groups: GuestGroup[];
  maxLoad: number;
  maxWaitSeconds: number;
  log: (line: string) => void;
}

/** One guest boot: the runner's records, its other output forwarded to `log`. */
export function runGroup(group: GuestGroup, o: SideBySideOptions): Promise<{ records: RunRecord[]; exitCode: number | null }> {
  const s = o.settings;
  const guestCommand = [
    'node', group.runner ?? 'dist/bench/guest/runner.js',
    '--pairs', String(o.pairs),
    '--duration', String(s.durationSeconds),
    '--lat-iters', String(s.latencyIterations),
    '--sweep-seconds', String(s.sweepSeconds),
    ...group.cases,
  ];
  const nodes = group.nodes ? ['--nodes', String(group.nodes)] : [];
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'vm', 'run.mjs'), ...nodes, '--timeout', String(group.timeoutSeconds), '--', ...guestCommand], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...group.env },
  });
  const records: RunRecord[] = [];
  // Another team's guest starting mid-run takes a host CPU: each record says whether one was
  // seen while it ran (checked every 2 s), so the report can flag those pairs.
  let contended = false;
  const watch = setInterval(() => {
    if (otherGuests().some((pid) => parentOf(pid) !== child.pid)) contended = true;
  }, 2000);
  const onLine = (line: string) => {
    const at = line.indexOf(RECORD_MARKER);
    if (at < 0) {
      if (line.trim()) o.log(line);
      return;
    }
    const record = JSON.parse(line.slice(at + RECORD_MARKER.length)) as RunRecord;
    record.otherGuestSeen = contended;
    contended = false;
    records.push(record);
    const figure = record.ok ? (record.gbps !== undefined ? `${record.gbps.toFixed(3)} Gb/s` : record.p50Us !== undefined ? `p50 ${record.p50Us.toFixed(2)} us` : 'ok') : `FAILED: ${record.error}`;
    o.log(`bench: (${record.case}) pair ${record.pair} ${record.tool}: ${figure}${record.otherGuestSeen ? ' (another QEMU guest was running)' : ''}`);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (l) => o.log(l));
  // run.mjs enforces the guest deadline; this one only covers run.mjs itself hanging.
  const timer = setTimeout(() => child.kill('SIGKILL'), (group.timeoutSeconds + 180) * 1000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(watch);
      resolve({ records, exitCode: code });
    });
  });
}

export async function runSideBySide(o: SideBySideOptions): Promise<{ records: RunRecord[]; groups: GroupRun[] }> {
  const records: RunRecord[] = [];
  const groups: GroupRun[] = [];
  for (const group of o.groups) {
    const waitedSeconds = await waitForQuiet(o.maxLoad, o.maxWaitSeconds, o.log);
    const loadBefore = loadAverage().join(' ');
    const otherGuestsBefore = otherGuests().length;
    o.log(`bench: guest for ${group.name} (${group.cases.join(', ')}), load ${loadBefore}`);
    const started = Date.now();
    const r = await runGroup(group, o);
    records.push(...r.records);
    groups.push({ name: group.name, cases: group.cases, loadBefore, otherGuestsBefore, loadAfter: loadAverage().join(' '), waitedSeconds, wallSeconds: (Date.now() - started) / 1000, exitCode: r.exitCode, ...(group.env ? { env: group.env } : {}) });
  }
  return { records, groups };
}
