import { join } from 'node:path';
import { readText } from '../sysfs/read.js';

export type LimitValue = number | 'unlimited';

/** RLIMIT_MEMLOCK in bytes: the soft limit is what ibv_reg_mr is held to (`ulimit -l`, in KiB). */
export interface MemlockLimit {
  soft: LimitValue;
  hard: LimitValue;
  /** Where it came from, e.g. the limits file, for the evidence. */
  source: string;
  /** The raw text it was read from. */
  text: string;
}

function limitValue(text: string | undefined): LimitValue | null {
  if (text === 'unlimited') return 'unlimited';
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

/** The "Max locked memory" row of /proc/<pid>/limits, or null when it is missing or garbled. */
export function parseMemlock(limitsText: string, source: string): MemlockLimit | null {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max locked memory'));
  if (!line) return null;
  const [soft, hard, units] = line.slice('Max locked memory'.length).trim().split(/\s+/);
  const s = limitValue(soft);
  const h = limitValue(hard);
  if (s === null || h === null || (units !== undefined && units !== 'bytes')) return null;
  return { soft: s, hard: h, source, text: line.trim() };
}

/** The calling process's memlock limit from <procRoot>/self/limits, or null when unreadable. */
export function readMemlock(procRoot: string): MemlockLimit | null {
  const path = join(procRoot, 'self', 'limits');
  const text = readText(path);
  return text === null ? null : parseMemlock(text, path);
}

/** One /proc/meminfo field in kB (e.g. CmaTotal), null when the line is missing. */
export function meminfoKb(meminfoText: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB\\s*$`, 'm').exec(meminfoText);
  return m ? Number(m[1]) : null;
}

/** CAP_IPC_LOCK (capability 14) exempts a process from RLIMIT_MEMLOCK when it pins memory for RDMA. */
const CAP_IPC_LOCK = 14n;

/** Whether the effective capabilities in <procRoot>/self/status include CAP_IPC_LOCK; null when unreadable. */
export function readIpcLock(procRoot: string): { path: string; capEff: string | null; ipcLock: boolean | null } {
  const path = join(procRoot, 'self', 'status');
  const capEff = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(readText(path) ?? '')?.[1] ?? null;
  return { path, capEff, ipcLock: capEff === null ? null : ((BigInt(`0x${capEff}`) >> CAP_IPC_LOCK) & 1n) === 1n };
}
