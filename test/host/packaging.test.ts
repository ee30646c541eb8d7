// What the npm package ships, and whether its prebuilt addons load where they are meant to:
// linux-x64 on this host, linux-arm64 under qemu-user with Debian's arm64 node. The prebuilds
// are (re)built first: incremental, about a second when nothing changed. A missing cross
// toolchain fails here with the command that installs it (scripts/prebuilds/install-toolchain.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arm64NodeCommand, ensureArm64Node } from '../../scripts/prebuilds/arm64-node.mjs';
import { buildPrebuild } from '../../scripts/prebuilds/build.mjs';
import { compareVersions, inspectElf, prebuildProblems } from '../../scripts/prebuilds/elf.mjs';
import { PREBUILD_FILE_NAME, prebuildPath, REPO_ROOT, TARGETS } from '../../scripts/prebuilds/targets.mjs';
import { assertToolchain, missingForTarget } from '../../scripts/prebuilds/toolchain.mjs';

const BUILD_DEADLINE_MS = 20 * 60_000;
const RUN_DEADLINE_MS = 120_000;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let scratch: string;
let packed: string[];
/** The package as a user gets it: the tarball unpacked, no build/, no install script run. */
let unpacked: string;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: RUN_DEADLINE_MS, maxBuffer: 32 * 2 ** 20, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.error?.message ?? ''}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Every file under dir, relative to the repository root, with forward slashes. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name)));
}

beforeAll(() => {
  for (const target of Object.values(TARGETS)) buildPrebuild(target, { quiet: true });
  // dist/lib is what ships; build it the way `npm test` does.
  run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: REPO_ROOT });
  scratch = mkdtempSync(join(tmpdir(), 'spark-rdma-pack-'));
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: REPO_ROOT })) as PackResult[];
  packed = pack!.files.map((file) => file.path);
  execFileSync('tar', ['-xzf', join(scratch, pack!.filename), '-C', scratch]);
  unpacked = join(scratch, 'package');
  // Dependencies as npm would install them next to the package.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(unpacked, 'node_modules'), 'dir');
}, BUILD_DEADLINE_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the compiled library, the native surface types, both prebuilds and what a source build needs', () => {
    const wanted = [
      'package.json',
      'README.md',
      'binding.d.ts',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/native/load.js',
      'dist/lib/cli/main.js',
      'prebuilds/linux-x64/spark_rdma.napi.glibc.node',
      'prebuilds/linux-arm64/spark_rdma.napi.glibc.node',
      // npm runs the install hook from the unpacked package; CMakeLists.txt + native/ build from source.
      'scripts/install.mjs',
      'CMakeLists.txt',
      ...filesUnder('native'),
    ];
    expect(wanted.filter((path) => !packed.includes(path))).toEqual([]);
  });

  it('ships no build trees, tests, fixtures, VM cache, TypeScript sources or build scripts', () => {
    const unwanted = packed.filter((path) =>
      /^(build|build-prebuilds|test|lib|bench|docs|cmake|node_modules|\.vm-cache|\.ci)\//.test(path) ||
      /fixture/i.test(path) || /\.test\.[cm]?[jt]s$/.test(path) || path.endsWith('.tgz') ||
      (path.startsWith('scripts/') && path !== 'scripts/install.mjs'));
    expect(unwanted).toEqual([]);
    // Exactly one binary per platform directory, named so node-gyp-build accepts it.
    expect(packed.filter((path) => path.startsWith('prebuilds/')).sort()).toEqual([
      `prebuilds/linux-arm64/${PREBUILD_FILE_NAME}`,
      `prebuilds/linux-x64/${PREBUILD_FILE_NAME}`,
    ]);
  });
});

describe('the linux-x64 prebuild', () => {
  it('needs rdma-core by soname, libstdc++, libgcc_s and libc, and no glibc newer than 2.34', () => {
    const elf = inspectElf(prebuildPath(TARGETS['linux-x64']));
    expect(elf.machine).toBe('Advanced Micro Devices X86-64');
    expect(elf.type).toMatch(/^DYN/);
    expect([...elf.needed].sort()).toEqual(
      ['ld-linux-x86-64.so.2', 'libc.so.6', 'libgcc_s.so.1', 'libibverbs.so.1', 'librdmacm.so.1', 'libstdc++.so.6']);
    expect(elf.runpath).toEqual([]);
    expect(compareVersions(elf.highest.GLIBC ?? '0', '2.17')).toBeGreaterThanOrEqual(0);
    expect(compareVersions(elf.highest.GLIBC ?? '99', '2.34')).toBeLessThanOrEqual(0);
    expect(compareVersions(elf.highest.GLIBCXX ?? '99', '3.4.30')).toBeLessThanOrEqual(0);
  });

  it('is what the public loader picks in the unpacked package (no build/, no install script), with and without PREBUILDS_ONLY', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { join } from 'node:path';
      const pkg = process.env.SPARK_PKG;
      const { loadBinding } = await import(join(pkg, 'dist/lib/native/load.js'));
      const { RdmaError } = await import(join(pkg, 'dist/lib/errors.js'));
      const binding = loadBinding();
      const resolved = createRequire(join(pkg, 'package.json'))('node-gyp-build').resolve(pkg);
      let error;
      try { binding.queryDevice('no-such-device'); } catch (e) { error = { rdmaError: e instanceof RdmaError, code: e.code }; }
      console.log(JSON.stringify({ resolved, devices: binding.listDevices(), napi: binding.versions.napi, error }));
    `;
    expect(existsSync(join(unpacked, 'build'))).toBe(false);
    for (const prebuildsOnly of [undefined, '1']) {
      const env = { ...process.env, SPARK_PKG: unpacked, PREBUILDS_ONLY: prebuildsOnly };
      if (prebuildsOnly === undefined) delete env.PREBUILDS_ONLY;
      const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], { env }));
      expect(out.resolved).toBe(join(unpacked, 'prebuilds', 'linux-x64', PREBUILD_FILE_NAME));
      expect(Array.isArray(out.devices) && out.devices.every((name: unknown) => typeof name === 'string')).toBe(true);
      expect(out.napi).toBe(8);
      // A C++ exception inside the addon reaches JS as the package's error class.
      expect(out.error).toEqual({ rdmaError: true, code: 'ERR_RDMA_NO_DEVICE' });
    }
  });

  it('is refused on a musl system, so node-gyp-build reads the glibc tag in its name', () => {
    const result = spawnSync(process.execPath, ['-e', `require('node-gyp-build').resolve(${JSON.stringify(unpacked)})`], {
      cwd: unpacked, encoding: 'utf8', timeout: RUN_DEADLINE_MS, env: { ...process.env, LIBC: 'musl', PREBUILDS_ONLY: '1' },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/No native build was found for .*libc=musl/);
  });

  it('makes the npm install hook use it and build nothing', () => {
    const out = run(process.execPath, [join(unpacked, 'scripts', 'install.mjs')], { cwd: unpacked });
    expect(out.trim()).toBe(`@spark/rdma: using ${join(unpacked, 'prebuilds', 'linux-x64', PREBUILD_FILE_NAME)}`);
    expect(existsSync(join(unpacked, 'build'))).toBe(false);
  });
});

describe('the linux-arm64 prebuild', () => {
  it('is an AArch64 shared object that needs rdma-core by soname, libstdc++, libgcc_s and libc, and no glibc newer than 2.34', () => {
    const elf = inspectElf(prebuildPath(TARGETS['linux-arm64']));
    expect(elf.machine).toBe('AArch64');
    expect(elf.elfClass).toBe('ELF64');
    expect(elf.type).toMatch(/^DYN/);
    expect([...elf.needed].sort()).toEqual(['libc.so.6', 'libgcc_s.so.1', 'libibverbs.so.1', 'librdmacm.so.1', 'libstdc++.so.6']);
    expect(elf.runpath).toEqual([]);
    // DGX OS 7 (Ubuntu 24.04) has glibc 2.39 and GCC 14's libstdc++; these limits are far older.
    expect(compareVersions(elf.highest.GLIBC ?? '0', '2.17')).toBeGreaterThanOrEqual(0);
    expect(compareVersions(elf.highest.GLIBC ?? '99', '2.34')).toBeLessThanOrEqual(0);
    expect(compareVersions(elf.highest.GLIBCXX ?? '99', '3.4.30')).toBeLessThanOrEqual(0);
  });

  it('loads in Debian\'s arm64 node under qemu-user from the unpacked package with PREBUILDS_ONLY=1, and lists what the host lists', () => {
    ensureArm64Node();
    // Plain CommonJS: Debian 12's arm64 node is 18, and node-gyp-build is architecture-free JS.
    const script = `
      const path = require('node:path');
      const pkg = process.env.SPARK_PKG;
      const nodeGypBuild = require(path.join(pkg, 'node_modules', 'node-gyp-build'));
      const resolved = nodeGypBuild.resolve(pkg);
      const binding = nodeGypBuild(pkg);
      let error;
      try { binding.queryDevice('no-such-device'); } catch (e) { error = { code: e.code }; }
      console.log(JSON.stringify({ arch: process.arch, resolved, devices: binding.listDevices(), napi: binding.versions.napi, error }));
    `;
    const { command, args } = arm64NodeCommand(['-e', script]);
    const out = JSON.parse(run(command, args, { env: { ...process.env, SPARK_PKG: unpacked, PREBUILDS_ONLY: '1' } }));
    expect(out.arch).toBe('arm64');
    expect(out.resolved).toBe(join(unpacked, 'prebuilds', 'linux-arm64', PREBUILD_FILE_NAME));
    expect(out.napi).toBe(8);
    expect(out.error).toEqual({ code: 'ERR_RDMA_NO_DEVICE' });
    // qemu-user runs on the host's kernel: the same /sys, so the same devices as x64 sees.
    const host = JSON.parse(run(process.execPath, ['-e', `
      const nodeGypBuild = require(${JSON.stringify(join(unpacked, 'node_modules', 'node-gyp-build'))});
      console.log(JSON.stringify(nodeGypBuild(${JSON.stringify(unpacked)}).listDevices()));
    `], { env: { ...process.env, PREBUILDS_ONLY: '1' } }));
    expect(out.devices).toEqual(host);
  }, 5 * RUN_DEADLINE_MS);
});

describe('prebuild checks', () => {
  const arm64 = TARGETS['linux-arm64'];

  it('name every missing cross tool and library with its package and the command that installs them', () => {
    const broken = { ...arm64, cross: { ...arm64.cross, compiler: 'no-such-aarch64-g++', pkgConfigDir: '/nonexistent/pkgconfig' } };
    expect(missingForTarget(broken, 'x64')).toEqual([
      'no-such-aarch64-g++ (package g++-aarch64-linux-gnu)',
      '/nonexistent/pkgconfig/libibverbs.pc (package libibverbs-dev:arm64, after dpkg --add-architecture arm64)',
      '/nonexistent/pkgconfig/librdmacm.pc (package librdmacm-dev:arm64, after dpkg --add-architecture arm64)',
    ]);
    expect(() => assertToolchain(broken, 'x64')).toThrow(/linux-arm64 prebuild cannot be built here; missing: no-such-aarch64-g\+\+.*To fix: sudo bash scripts\/prebuilds\/install-toolchain\.sh/);
  });

  it('refuse a target this machine cannot build, and say which it can', () => {
    expect(() => assertToolchain(TARGETS['linux-x64'], 'arm64'))
      .toThrow('cannot build the linux-x64 prebuild on a linux-arm64 machine: only linux-x64 itself can. Build the targets this machine supports, e.g. npm run prebuilds -- linux-arm64');
  });

  it('reject a binary with the wrong machine, an unversioned or extra library, an RPATH or too new a glibc', () => {
    const problems = prebuildProblems({
      elfClass: 'ELF64', type: 'DYN (Shared object file)', machine: 'Advanced Micro Devices X86-64',
      needed: ['libibverbs.so', 'libnl-3.so.200', 'libc.so.6'], runpath: ['/work/build'],
      highest: { GLIBC: '2.36', GLIBCXX: '3.4.26' },
    }, arm64);
    expect(problems).toEqual([
      'machine is Advanced Micro Devices X86-64, expected AArch64',
      expect.stringMatching(/^needs libibverbs\.so, which a target machine may not have/),
      expect.stringMatching(/^needs libnl-3\.so\.200, which/),
      'does not need libibverbs.so.1 by that soname (needed: libibverbs.so, libnl-3.so.200, libc.so.6)',
      'does not need librdmacm.so.1 by that soname (needed: libibverbs.so, libnl-3.so.200, libc.so.6)',
      'has an RPATH/RUNPATH (/work/build) pointing into the build machine',
      'needs GLIBC_2.36, newer than the GLIBC_2.34 a target machine is assumed to have',
    ]);
  });

  it('compare symbol versions numerically', () => {
    expect(compareVersions('2.9', '2.34')).toBeLessThan(0);
    expect(compareVersions('3.4.30', '3.4.26')).toBeGreaterThan(0);
    expect(compareVersions('2.34', '2.34.0')).toBe(0);
  });
});
