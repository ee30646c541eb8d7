// The shipped linux-x64 prebuild, not the source build, drives real kernel verbs: a copy of the
// package without build/, loaded with PREBUILDS_ONLY=1, lists the guest's soft-RoCE devices.
// The prebuild is made on the host (npm run prebuilds; the guest sees the host's files).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREBUILD = join('prebuilds', 'linux-x64', 'spark_rdma.napi.glibc.node');
const CHILD_DEADLINE_MS = 120_000;

const copy = mkdtempSync(join(tmpdir(), 'spark-rdma-prebuild-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

it('with build/ hidden and PREBUILDS_ONLY=1, the linux-x64 prebuild loads and lists rxe0 and rxe1', () => {
  if (!existsSync(join(REPO_ROOT, PREBUILD))) {
    throw new Error(`${PREBUILD} is missing: run npm run prebuilds on the host before the rxe suite (the guest sees the host's files)`);
  }
  cpSync(join(REPO_ROOT, 'package.json'), join(copy, 'package.json'));
  cpSync(join(REPO_ROOT, 'prebuilds', 'linux-x64'), join(copy, 'prebuilds', 'linux-x64'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  expect(existsSync(join(copy, 'build'))).toBe(false);

  // The same call lib/native/load.ts makes: node-gyp-build on the package root.
  const script = `
    const nodeGypBuild = require('node-gyp-build');
    const root = process.cwd();
    const binding = nodeGypBuild(root);
    const rxe0 = binding.queryDevice('rxe0');
    console.log(JSON.stringify({
      resolved: nodeGypBuild.resolve(root),
      devices: binding.listDevices(),
      rxe0: { name: rxe0.name, state: rxe0.ports[0].state, linkLayer: rxe0.ports[0].linkLayer },
    }));
  `;
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: copy, encoding: 'utf8', timeout: CHILD_DEADLINE_MS, env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const out = JSON.parse(result.stdout);
  expect(out.resolved).toBe(join(copy, PREBUILD));
  expect([...out.devices].sort()).toEqual(expect.arrayContaining(['rxe0', 'rxe1']));
  expect(out.rxe0).toEqual({ name: 'rxe0', state: 'ACTIVE', linkLayer: 'Ethernet' });
});
