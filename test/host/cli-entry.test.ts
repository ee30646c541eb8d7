// The CLI as users run it: compiled, as its own process, also through a symlink like npm's bin.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeSysfsTree, rxePair } from '../fixtures/sysfs.js';

const repo = join(import.meta.dirname, '../..');
// Under the repo so the compiled loader finds package.json and node_modules the way dist/ does.
const outDir = join(repo, 'node_modules', '.cache', `spark-rdma-cli-test-${process.pid}`);
const mainJs = join(outDir, 'lib', 'cli', 'main.js');
let binDir = '';

beforeAll(() => {
  // Emit only (--noCheck): type errors are `npm run lint`'s business, this test is about the entry.
  const tsc = spawnSync(
    process.execPath,
    [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), 'lib/cli/main.ts', '--outDir', outDir, '--rootDir', '.',
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', '--noCheck'],
    { cwd: repo, encoding: 'utf8', timeout: 120_000 },
  );
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  chmodSync(mainJs, 0o755);
  binDir = mkdtempSync(join(tmpdir(), 'spark-rdma-bin-'));
  symlinkSync(mainJs, join(binDir, 'spark-rdma'));
}, 150_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

test('the package bin is lib/cli/main compiled, and starts with a node shebang', () => {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  expect(pkg.bin['spark-rdma']).toBe('dist/lib/cli/main.js');
  expect(readFileSync(join(repo, 'lib/cli/main.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  expect(readFileSync(mainJs, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

test('run through a symlink (as npm installs bins): devices --json on a fixture, exit 0', () => {
  const t = makeSysfsTree(rxePair());
  try {
    const r = spawnSync(join(binDir, 'spark-rdma'), ['devices', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SPARK_RDMA_SYSFS_ROOT: t.root },
    });
    expect(r.status, r.stderr).toBe(0);
    const parsed = JSON.parse(r.stdout) as { rails: { device: string; ipv4: string }[] };
    expect(parsed.rails.map((x) => [x.device, x.ipv4])).toEqual([['rxe0', '10.77.0.1'], ['rxe1', '10.77.1.1']]);
  } finally {
    t.cleanup();
  }
});

test('the process exit status follows main(): usage error 2 (from the parser or a check), failure 1', () => {
  const usage = spawnSync(process.execPath, [mainJs, 'devices', '--bogus'], { encoding: 'utf8', timeout: 60_000 });
  expect(usage.status).toBe(2);
  expect(usage.stderr).toContain("unknown option '--bogus'");
  const badRoot = spawnSync(process.execPath, [mainJs, 'devices'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SPARK_RDMA_SYSFS_ROOT: join(binDir, 'missing') },
  });
  expect(badRoot.status).toBe(2);
  expect(badRoot.stderr).toMatch(/^spark-rdma: sysfs root .* does not exist/);
  // A machine without rails cannot run the measurement: that is a failure, not a usage error.
  const failure = spawnSync(process.execPath, [mainJs, 'bw', '--loopback', '--sysfs-root', binDir], { encoding: 'utf8', timeout: 60_000 });
  expect(failure.status).toBe(1);
  expect(failure.stderr).toMatch(/^spark-rdma: this machine has no RDMA rails/);
});

test('importing the module does not run the CLI', async () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(mainJs)}); console.log('imported')`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe('imported\n');
});
