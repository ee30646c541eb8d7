// The addon loader's failure text: it must say what was tried and what to do.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { explainLoadFailure } from '../../lib/native/load.js';

const require = createRequire(import.meta.url);

test('libibverbs.so.1 missing: names the library and the rdma-core packages', () => {
  const cause = new Error('libibverbs.so.1: cannot open shared object file: No such file or directory');
  const err = explainLoadFailure(cause, '/opt/pkg');
  expect(err).toBeInstanceOf(RdmaError);
  expect(err.code).toBe('ERR_RDMA_ADDON_LOAD');
  expect(err.message).toContain('the native addon needs libibverbs.so.1, which is not installed');
  expect(err.message).toContain('rdma-core');
  expect(err.hint).toBe("install rdma-core's libraries: sudo apt-get install libibverbs1 librdmacm1 ibverbs-providers");
  expect(err.message).toContain(`tried ${join('/opt/pkg', 'prebuilds', `${process.platform}-${process.arch}`)} and ${join('/opt/pkg', 'build', 'Release')}`);
  expect((err as { cause?: unknown }).cause).toBe(cause);
});

test('librdmacm missing is explained the same way', () => {
  const err = explainLoadFailure(new Error('librdmacm.so.1: cannot open shared object file'), '/opt/pkg');
  expect(err.message).toContain('needs librdmacm.so.1');
  expect(err.hint).toContain('librdmacm1');
});

test('no build at all (node-gyp-build\'s real message): names npm run build:native', () => {
  const empty = mkdtempSync(join(tmpdir(), 'spark-rdma-nobuild-'));
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    let cause: unknown;
    try {
      nodeGypBuild(empty);
    } catch (e) {
      cause = e;
    }
    expect(cause).toBeInstanceOf(Error);
    const err = explainLoadFailure(cause, empty);
    expect(err.message).toContain(`no native build of @spark/rdma for ${process.platform}-${process.arch}`);
    expect(err.message).toContain('npm run build:native');
    expect(err.hint).toContain('libibverbs-dev');
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('any other failure keeps the first line of the cause and says how to rebuild', () => {
  const err = explainLoadFailure(new Error('/x/build/Release/spark_rdma.node: invalid ELF header\nmore'), '/x');
  expect(err.message).toContain('the native addon failed to load: /x/build/Release/spark_rdma.node: invalid ELF header');
  expect(err.message).not.toContain('more');
  expect(err.hint).toContain('npm run build:native');
});
