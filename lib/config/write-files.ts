import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeFsError } from '../report/fs-error.js';
import { RdmaError, invalidArgument } from '../errors.js';
import type { GeneratedFile } from './render-vllm.js';

export interface WriteFilesOptions {
  /** Replace files that already exist (CLI --force); without it nothing is written when any exists. */
  force?: boolean;
}

/**
 * Writes the files into `dir` (created if missing) and returns their paths. Refuses, before
 * writing anything, when one of them exists and `force` is not set. Each file is written to a
 * temporary name in the same directory and renamed over the target, so a reader never sees half
 * a script and a failure leaves the old file in place.
 */
export function writeGeneratedFiles(dir: string, files: readonly GeneratedFile[], opts: WriteFilesOptions = {}): string[] {
  const target = resolve(dir);
  const paths = files.map((f) => join(target, f.name));
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length > 0 && opts.force !== true) {
    throw invalidArgument(
      `${existing.length === 1 ? `${existing[0]} already exists` : `${existing.length} files already exist in ${target} (${files.filter((_, i) => existing.includes(paths[i]!)).map((f) => f.name).join(', ')})`}; nothing was written`,
      'pass --force to replace them, or --out with another directory',
    );
  }
  const temps: string[] = [];
  try {
    mkdirSync(target, { recursive: true });
    files.forEach((f, i) => {
      const temp = join(target, `.${f.name}.${process.pid}.tmp`);
      temps.push(temp);
      writeFileSync(temp, f.content, { mode: f.mode });
      chmodSync(temp, f.mode); // the umask may have narrowed it
      renameSync(temp, paths[i]!);
    });
    return paths;
  } catch (err) {
    for (const t of temps) rmSync(t, { force: true });
    throw new RdmaError(`cannot write the config files into ${target}: ${describeFsError(err)}`, {
      code: 'ERR_RDMA_INVALID_ARGUMENT',
      hint: 'pass --out with a directory you can write to',
    });
  }
}
