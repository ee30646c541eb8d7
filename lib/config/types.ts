import type { Rail } from '../rails/types.js';

/** One environment variable of a launch config, and why it has this value. */
export interface EnvVariable {
  name: string;
  value: string;
  /** One line a person reads: why this value (rendered as a comment in env/shell formats). */
  reason: string;
  /** The oldest NCCL release that reads this value as meant (lib/config/nccl-upstream.ts), when it matters. */
  since?: string;
}

/** A variable the config deliberately leaves unset, and why. */
export interface UnsetVariable {
  name: string;
  reason: string;
}

/** How many rails a launch config uses: one, or two (or more) bonded by NCCL. */
export type RailMode = 'single' | 'dual';

/** Single- and multi-rail bandwidth compared from saved `spark-rdma bw --json` results. */
export interface RailComparison {
  /** Message size both figures are taken at, in bytes. */
  size: number;
  singleGbps: number;
  /** Where the single-rail figure comes from (a file, or "estimated from <file>"). */
  singleSource: string;
  /** True when no single-rail run was given: the fastest rail inside the multi-rail run stands in (then the verdict is single). */
  singleEstimated: boolean;
  dualGbps: number;
  dualSource: string;
  /** The multi-rail run's rails as `device:port`, in rail order. */
  dualRails: string[];
  /** dualGbps / singleGbps. */
  speedup: number;
  /** Smallest speedup that counts as clearly faster. */
  threshold: number;
  verdict: RailMode;
}

/** The rails a config uses and why. */
export interface RailDecision {
  mode: RailMode;
  rails: Rail[];
  /** What decided: --single/--dual/--rails/--devices, saved measurements, or the default. */
  source: 'explicit' | 'measured' | 'default';
  /** Sentences a person reads: why this rail set. */
  reason: string;
  /** The measured comparison, when measurements were given and had a multi-rail run. */
  comparison: RailComparison | null;
}

/**
 * Output formats of the NCCL environment. `shell` (the default) is what a user pastes or sources
 * into a shell: export lines. `env` is a docker --env-file (no export, no quotes). `docker` is one
 * line of -e flags. `json` is data.
 */
export type EnvFormat = 'shell' | 'env' | 'docker' | 'json';
export const ENV_FORMATS: readonly EnvFormat[] = ['shell', 'env', 'docker', 'json'];

/** How each format is used, in one line (help text and the file's own header). */
export const ENV_FORMAT_USE: Record<EnvFormat, string> = {
  shell: 'export lines: source it in bash (spark-rdma config nccl > nccl.sh && source nccl.sh), or paste it',
  env: 'a docker env file: docker run --env-file nccl.env ...; bash reads it only with set -a (set -a; source nccl.env; set +a)',
  docker: 'docker run flags on one line: docker run $(spark-rdma config nccl --format docker) ...',
  json: 'the config as JSON, for other programs',
};
