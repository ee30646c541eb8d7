#!/usr/bin/env node
// npm run prebuilds [-- <target>...]: builds the addon for each target (default: linux-x64 and
// linux-arm64) with cmake-js in its own build tree under build-prebuilds/ (build/Release, the
// source build, is left alone), checks the binary with readelf, and puts it where
// node-gyp-build looks: prebuilds/<platform>-<arch>/spark_rdma.napi.glibc.node.
// arm64 is cross-compiled on x86-64 through cmake/linux-arm64.cmake.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectElf, prebuildProblems } from './elf.mjs';
import { prebuildPath, REPO_ROOT, TARGET_NAMES, TARGETS, WORK_DIR } from './targets.mjs';
import { assertToolchain, ToolchainError } from './toolchain.mjs';

const require = createRequire(import.meta.url);
const CMAKE_JS = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const NAPI_VERSION = '8';

export class PrebuildError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PrebuildError';
  }
}

export function resolveTargets(names) {
  if (names.length === 0) return TARGET_NAMES.map((name) => TARGETS[name]);
  return names.map((name) => {
    const target = TARGETS[name];
    if (!target) throw new PrebuildError(`unknown prebuild target ${name}; the targets are ${TARGET_NAMES.join(', ')}`);
    return target;
  });
}

/** The cmake-js command line that builds `target` into `outDir`. */
export function cmakeJsArguments(target, outDir) {
  const args = ['build', '--out', outDir, `--CDnapi_build_version=${NAPI_VERSION}`, '--arch', target.arch];
  if (target.cross) args.push(`--CDCMAKE_TOOLCHAIN_FILE=${target.cross.toolchainFile}`);
  return args;
}

/**
 * Builds, checks and installs one prebuild.
 * @param {object} target one of TARGETS
 * @param {{ quiet?: boolean, root?: string }} options quiet: keep cmake's output unless it fails
 * @returns {{ file: string, seconds: number, info: ReturnType<typeof inspectElf> }}
 */
export function buildPrebuild(target, { quiet = false, root = REPO_ROOT } = {}) {
  assertToolchain(target);
  const outDir = join(WORK_DIR, target.name);
  const started = performance.now();
  const result = spawnSync(process.execPath, [CMAKE_JS, ...cmakeJsArguments(target, outDir)], {
    cwd: root,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    const output = quiet ? `\n${`${result.stdout}${result.stderr}`.split('\n').slice(-40).join('\n')}` : '';
    throw new PrebuildError(`cmake-js failed to build the ${target.name} prebuild (exit ${result.status ?? result.signal}); ` +
      `the build tree is ${relative(root, outDir)}${output}`);
  }
  const built = join(outDir, 'Release', 'spark_rdma.node');
  const info = inspectElf(built);
  const problems = prebuildProblems(info, target);
  if (problems.length > 0) {
    throw new PrebuildError(`the ${target.name} build ${relative(root, built)} is not fit to ship: ${problems.join('; ')}`);
  }
  const file = prebuildPath(target, root);
  mkdirSync(dirname(file), { recursive: true });
  // One binary per directory: a stale file with other tags could win node-gyp-build's choice.
  for (const old of readdirSync(dirname(file))) rmSync(join(dirname(file), old), { recursive: true, force: true });
  copyFileSync(built, file);
  return { file, seconds, info };
}

export function describe(target, { file, seconds, info }, root = REPO_ROOT) {
  const versions = Object.entries(info.highest).map(([family, version]) => `${family}_${version}`).join(', ');
  const size = (statSync(file).size / 2 ** 20).toFixed(2);
  return `${target.name}: ${relative(root, file)} (${size} MiB, ${info.machine}; needs ${info.needed.join(', ')}; ` +
    `newest symbol versions ${versions}) built in ${seconds.toFixed(1)} s`;
}

function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`usage: npm run prebuilds [-- <target>...]   targets: ${TARGET_NAMES.join(', ')} (default: all)`);
    return 0;
  }
  try {
    for (const target of resolveTargets(argv)) {
      console.log(`@spark/rdma: building the ${target.name} prebuild`);
      console.log(`@spark/rdma: ${describe(target, buildPrebuild(target))}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof PrebuildError || error instanceof ToolchainError)) throw error;
    console.error(`@spark/rdma: ${error.message}`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
