import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RdmaError } from '../errors.js';
import type { GeneratedFile } from './render-vllm.js';

/** Writes the files into `dir` (created if missing, files replaced) and returns their paths. */
export function writeGeneratedFiles(dir: string, files: readonly GeneratedFile[]): string[] {
  const target = resolve(dir);
  try {
    mkdirSync(target, { recursive: true });
    return files.map((f) => {
      const path = join(target, f.name);
      writeFileSync(path, f.content, { mode: f.mode });
      chmodSync(path, f.mode); // writeFileSync keeps the mode of a file that already existed
      return path;
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    throw new RdmaError(`cannot write the config files into ${target} (${code}): ${(err as Error).message}`, {
      code: 'ERR_RDMA_INVALID_ARGUMENT',
      hint: 'pass --out with a directory you can write to',
    });
  }
}
