import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Binding from '@spark/rdma/binding';
import { RdmaError } from '../errors.js';

export type NativeBinding = typeof Binding;

const require = createRequire(import.meta.url);
let cached: NativeBinding | undefined;

/** The package root: the nearest directory above this file whose package.json is ours. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === '@spark/rdma') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`@spark/rdma: package.json not found above ${from}`);
    dir = parent;
  }
}

/**
 * Turns a loader failure into an error that says what was tried and what to do.
 * Exported for tests: the text is part of the user interface.
 */
export function explainLoadFailure(cause: unknown, root: string): RdmaError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const tried = `tried ${join(root, 'prebuilds', `${process.platform}-${process.arch}`)} and ${join(root, 'build', 'Release')}`;
  let what: string;
  let hint: string;
  const missingLib = /(libibverbs|librdmacm)\.so[.\d]*/.exec(message);
  if (missingLib) {
    what = `the native addon needs ${missingLib[0]}, which is not installed`;
    hint = 'install rdma-core\'s libraries: sudo apt-get install libibverbs1 librdmacm1 ibverbs-providers';
  } else if (/No native build was found/.test(message)) {
    what = `no native build of @spark/rdma for ${process.platform}-${process.arch} (node ${process.versions.node})`;
    hint = 'build it from source: npm run build:native (needs cmake, g++, pkg-config, libibverbs-dev, librdmacm-dev)';
  } else {
    what = `the native addon failed to load: ${message.split('\n')[0]}`;
    hint = 'rebuild it with npm run build:native; if that fails, check that rdma-core is installed';
  }
  const err = new RdmaError(`@spark/rdma: ${what} (${tried}). To fix: ${hint}`, { code: 'ERR_RDMA_ADDON_LOAD', hint });
  (err as { cause?: unknown }).cause = cause;
  return err;
}

/** Loads the addon once per environment (main thread or worker) and registers the error class. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const root = packageRoot();
  let binding: NativeBinding;
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
    binding = nodeGypBuild(root);
  } catch (cause) {
    throw explainLoadFailure(cause, root);
  }
  binding.setErrorClass(RdmaError);
  cached = binding;
  return binding;
}
