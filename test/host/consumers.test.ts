// What consumers' own tools say about the packed package. The tarball is installed into a fresh
// project the way a user installs it (its dependencies from the registry, npm's cache first; no
// other network), next to the TypeScript and @types/node versions this repo builds with. Then:
// tsc (strict, skipLibCheck false) in nodenext (ESM and CommonJS files) and bundler resolution,
// @arethetypeswrong/cli and publint on the tarball, and a plain CommonJS program that requires
// the package and discovers the rails of a fixture sysfs tree. The consumer sources are in
// test/fixtures/consumer/.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../scripts/prebuilds/targets.mjs';
import { buildSysfs, dgxSparkNode } from '../fixtures/sysfs.js';

const STEP_DEADLINE_MS = 150_000;
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'consumer');

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Outcome {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: STEP_DEADLINE_MS, maxBuffer: 32 * 2 ** 20, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  if (r.error) throw new Error(`${command} ${args.join(' ')} did not run: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mustRun(command: string, args: string[], cwd: string): string {
  const r = run(command, args, cwd);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

let scratch: string;
let tarball: string;
let consumer: string;
let sysfsRoot: string;

function tsc(project: string): Outcome {
  return run(process.execPath, [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--pretty', 'false'], consumer);
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'spark-rdma-consumer-'));
  // npm pack runs the prepack script (the TypeScript build), so the tarball holds this tree's dist/.
  const [packed] = JSON.parse(mustRun('npm', ['pack', '--json', '--pack-destination', scratch], REPO_ROOT)) as { filename: string }[];
  tarball = join(scratch, packed!.filename);
  consumer = join(scratch, 'consumer');
  cpSync(FIXTURE, consumer, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'spark-rdma-consumer', private: true, type: 'module' }, null, 2)}\n`);
  mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball,
    `typescript@${installedVersion('typescript')}`, `@types/node@${installedVersion('@types/node')}`], consumer);
  sysfsRoot = buildSysfs(join(scratch, 'sys'), dgxSparkNode());
}, 2 * STEP_DEADLINE_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a TypeScript consumer (strict, skipLibCheck false)', () => {
  test('compiles clean with nodenext resolution, from an ES module and from a CommonJS (.cts) file', () => {
    expect(tsc('tsconfig.nodenext.json')).toEqual({ status: 0, stdout: '', stderr: '' });
  }, STEP_DEADLINE_MS);

  test('compiles clean with bundler resolution', () => {
    expect(tsc('tsconfig.bundler.json')).toEqual({ status: 0, stdout: '', stderr: '' });
  }, STEP_DEADLINE_MS);

  test('with binding.d.ts unreachable and skipLibCheck true (issue 18\'s silent any), the IsAny checks still fail the build', () => {
    const declared = join(consumer, 'node_modules', '@spark', 'rdma', 'binding.d.ts');
    writeFileSync(join(consumer, 'tsconfig.skiplib.json'), JSON.stringify({ extends: './tsconfig.nodenext.json', compilerOptions: { skipLibCheck: true }, files: ['esm.ts'] }));
    renameSync(declared, `${declared}.away`);
    try {
      const broken = tsc('tsconfig.skiplib.json');
      expect(broken.status).not.toBe(0);
      // the package's own declarations no longer complain (skipLibCheck) ...
      expect(broken.stdout).not.toMatch(/node_modules/);
      // ... but a type that flows from them is any, which esm.ts refuses
      expect(broken.stdout).toMatch(/esm\.ts\(\d+,\d+\): error TS2344: Type 'true' does not satisfy the constraint 'false'/);
    } finally {
      renameSync(`${declared}.away`, declared);
    }
  }, STEP_DEADLINE_MS);
});

describe('the packed tarball', () => {
  test('@arethetypeswrong/cli: every entry point resolves for node10, node16 and bundler (ESM-only: require() is Node\'s require(esm))', () => {
    const attw = join(REPO_ROOT, 'node_modules', '.bin', 'attw');
    // --no-definitely-typed: no @types lookup on the network. cjs-resolves-to-esm is the ESM-only
    // decision (README "CommonJS"); the CommonJS test below shows require() works.
    const outcome = run(attw, [tarball, '--no-definitely-typed', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table', '--no-color', '--no-emoji'], consumer);
    console.log(outcome.stdout);
    expect(outcome.status, outcome.stdout + outcome.stderr).toBe(0);
    expect(outcome.stdout).not.toMatch(/resolution error|Resolution failed|Masquerading|Incorrect default export|Missing `export =`/i);
  }, STEP_DEADLINE_MS);

  test('publint --strict: no errors, warnings or suggestions', () => {
    const outcome = run(join(REPO_ROOT, 'node_modules', '.bin', 'publint'), ['run', tarball, '--strict'], consumer);
    expect(outcome.status, outcome.stdout + outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/All good!/);
  }, STEP_DEADLINE_MS);
});

describe('a CommonJS consumer', () => {
  test('require(\'@spark/rdma\') works and discoverRails() reads a fixture tree; errors are the package\'s RdmaError', () => {
    const outcome = run(process.execPath, ['require.cjs', sysfsRoot], consumer);
    expect(outcome.status, outcome.stderr).toBe(0);
    expect(outcome.stderr).toBe(''); // no ExperimentalWarning either
    expect(JSON.parse(outcome.stdout)).toEqual({
      requireModule: true,
      rails: [
        { index: 0, device: 'rocep1s0f1', netdev: 'enp1s0f1np1', ipv4: '192.168.100.10' },
        { index: 1, device: 'roceP2p1s0f1', netdev: 'enP2p1s0f1np1', ipv4: '192.168.101.10' },
      ],
      refused: { rdmaError: true, code: 'ERR_RDMA_INVALID_ARGUMENT' },
    });
  }, STEP_DEADLINE_MS);
});
