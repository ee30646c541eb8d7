import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './load.js';

/** True in a clone of the repository (scripts/vm exists), false in an installed package. */
export function inSourceCheckout(root: string = packageRoot()): boolean {
  return existsSync(join(root, 'scripts', 'vm', 'run.mjs'));
}
