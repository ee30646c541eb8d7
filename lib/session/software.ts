// The `software` string of a hello: package name and version, for the peer's log.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../native/load.js';

let cached: string | undefined;

export function softwareName(): string {
  if (cached !== undefined) return cached;
  try {
    const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    cached = typeof manifest.version === 'string' ? `@spark/rdma ${manifest.version}` : '@spark/rdma';
  } catch {
    cached = '@spark/rdma';
  }
  return cached;
}
