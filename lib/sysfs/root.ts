import { resolve } from 'node:path';

/** Where the kernel mounts sysfs. Only this root may be enriched with verbs queries. */
export const DEFAULT_SYSFS_ROOT = '/sys';

/** Environment variable that points discovery at another tree (fixtures, held-out machines). */
export const SYSFS_ROOT_ENV = 'SPARK_RDMA_SYSFS_ROOT';

export interface SysfsRootOptions {
  /** sysfs mount point to read instead of /sys (a tree with class/infiniband, class/net). */
  sysfsRoot?: string;
  /** Environment to read SPARK_RDMA_SYSFS_ROOT from; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedSysfsRoot {
  root: string;
  /** True when the root is not the real /sys: then nothing may call verbs. */
  redirected: boolean;
}

/** opts.sysfsRoot, else $SPARK_RDMA_SYSFS_ROOT, else /sys. An empty variable counts as unset. */
export function resolveSysfsRoot(opts: SysfsRootOptions = {}): ResolvedSysfsRoot {
  const fromEnv = (opts.env ?? process.env)[SYSFS_ROOT_ENV];
  const chosen = opts.sysfsRoot ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SYSFS_ROOT);
  const root = resolve(chosen);
  return { root, redirected: root !== DEFAULT_SYSFS_ROOT };
}
