import { userInfo } from 'node:os';
import { resolve } from 'node:path';

// Like SPARK_RDMA_SYSFS_ROOT for /sys, each of /proc, /etc and /dev can be pointed at a fake
// tree so every doctor finding is testable: <proc>/self/limits, <proc>/meminfo,
// <etc>/nccl.conf, <dev>/infiniband/*.
export const PROC_ROOT_ENV = 'SPARK_RDMA_PROC_ROOT';
export const ETC_ROOT_ENV = 'SPARK_RDMA_ETC_ROOT';
export const DEV_ROOT_ENV = 'SPARK_RDMA_DEV_ROOT';
/** The home directory whose .nccl.conf NCCL reads (NCCL takes it from the passwd entry, not $HOME). */
export const HOME_DIR_ENV = 'SPARK_RDMA_HOME_DIR';

export interface HostRootOptions {
  /** procfs to read instead of /proc (self/limits, meminfo); else $SPARK_RDMA_PROC_ROOT. */
  procRoot?: string;
  /** Directory to read instead of /etc (nccl.conf); else $SPARK_RDMA_ETC_ROOT. */
  etcRoot?: string;
  /** Directory to read instead of /dev (infiniband/uverbs*, rdma_cm); else $SPARK_RDMA_DEV_ROOT. */
  devRoot?: string;
  /** Home directory of ~/.nccl.conf; else $SPARK_RDMA_HOME_DIR, else this user's passwd home. */
  homeDir?: string;
  env?: Record<string, string | undefined>;
}

export interface HostRoots {
  proc: string;
  etc: string;
  dev: string;
  home: string;
}

function pick(option: string | undefined, variable: string, fallback: string, env: Record<string, string | undefined>): string {
  const fromEnv = env[variable];
  return resolve(option ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : fallback));
}

function passwdHome(): string {
  try {
    return userInfo().homedir;
  } catch {
    return '/root';
  }
}

/** Option, else environment variable (empty = unset), else the real directory. */
export function resolveHostRoots(opts: HostRootOptions = {}): HostRoots {
  const env = opts.env ?? process.env;
  return {
    proc: pick(opts.procRoot, PROC_ROOT_ENV, '/proc', env),
    etc: pick(opts.etcRoot, ETC_ROOT_ENV, '/etc', env),
    dev: pick(opts.devRoot, DEV_ROOT_ENV, '/dev', env),
    home: pick(opts.homeDir, HOME_DIR_ENV, passwdHome(), env),
  };
}
