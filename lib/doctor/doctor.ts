import { accessSync, constants } from 'node:fs';
import { discoverRdma } from '../rails/discover.js';
import { invalidArgument } from '../errors.js';
import type { SysfsRootOptions } from '../sysfs/root.js';
import { checkDevices, checkRails } from './checks-machine.js';
import { checkIpv4, checkLinks } from './checks-ports.js';
import { checkGid, checkMtu, checkPcie } from './checks-rails.js';
import { checkCma, checkDevInfiniband, checkMemlock } from './checks-host.js';
import { checkNcclConf, checkNcclIbDisable, checkNcclIbHca } from './checks-nccl.js';
import { effectiveNcclSettings, ncclConfFiles } from './nccl-env.js';
import type { CheckContext } from './context.js';
import { readIpcLock, readMemlock, type MemlockLimit } from './procfs.js';
import { resolveHostRoots, type HostRootOptions } from './roots.js';
import type { CheckStatus, DoctorCheck, DoctorReport } from './types.js';

/**
 * Default planned registration size: 1 GiB. NCCL's host-staged buffers on two rails and a
 * `spark-rdma bw` sweep to 8 MiB messages stay below it; the measured DGX Spark pair ran with memlock unlimited.
 */
export const DEFAULT_MEMLOCK_NEEDED = 2 ** 30;

export interface DoctorOptions extends SysfsRootOptions, HostRootOptions {
  /** Bytes the planned registrations pin (memlock must allow them); default {@link DEFAULT_MEMLOCK_NEEDED}. */
  memlockNeeded?: number;
  /** Reads the memlock limit; default: "Max locked memory" of <procRoot>/self/limits (what `ulimit -l` shows). */
  readMemlock?: () => MemlockLimit | null;
  /** Whether this user may open a device file read-write; default access(2) with R_OK | W_OK. */
  canAccess?: (path: string) => boolean;
}

function defaultAccess(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks this machine for what RoCE with NCCL needs, each with pass/warn/fail, the files read
 * and the fix. Reads /sys, /proc, /etc and /dev under redirectable roots (sysfsRoot /
 * SPARK_RDMA_SYSFS_ROOT, procRoot / SPARK_RDMA_PROC_ROOT, etcRoot / SPARK_RDMA_ETC_ROOT,
 * devRoot / SPARK_RDMA_DEV_ROOT, homeDir / SPARK_RDMA_HOME_DIR for ~/.nccl.conf). A redirected sysfs root is read without verbs calls.
 */
export function doctor(opts: DoctorOptions = {}): DoctorReport {
  const needed = opts.memlockNeeded ?? DEFAULT_MEMLOCK_NEEDED;
  if (!Number.isSafeInteger(needed) || needed < 0) {
    throw invalidArgument(`memlockNeeded ${needed} must be a whole number of bytes >= 0`, 'pass e.g. --memlock-needed 1G');
  }
  const roots = resolveHostRoots(opts);
  const discovery = discoverRdma({
    ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  const env = opts.env ?? process.env;
  const ncclFiles = ncclConfFiles(env, roots.home, roots.etc);
  const ctx: CheckContext = {
    discovery,
    roots,
    env,
    nccl: { files: ncclFiles, settings: effectiveNcclSettings(env, ncclFiles) },
    memlock: (opts.readMemlock ?? (() => readMemlock(roots.proc)))(),
    capabilities: readIpcLock(roots.proc),
    memlockNeeded: needed,
    canAccess: opts.canAccess ?? defaultAccess,
  };
  const perRail = discovery.rails.flatMap((rail) => [checkMtu(ctx, rail), checkGid(ctx, rail), checkPcie(ctx, rail)]);
  const checks = [
    checkDevices(ctx),
    checkRails(ctx),
    ...checkLinks(ctx),
    ...checkIpv4(ctx),
    ...perRail,
    checkMemlock(ctx),
    checkDevInfiniband(ctx),
    checkNcclConf(ctx),
    checkNcclIbHca(ctx),
    checkNcclIbDisable(ctx),
    checkCma(ctx),
  ].filter((c): c is DoctorCheck => c !== null);
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, roots: { sysfs: discovery.root, ...roots }, checks };
}
