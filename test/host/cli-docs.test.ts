// Issue 21, "done means": docs/cli.md is checked against the real --help output (and the error
// code list), every command's help has examples and the exit codes, `help <cmd> <sub>` shows the
// subcommand's help, and every `npx spark-rdma ...` line of the README runs on a fixture DGX
// Spark node: the commands that need no RDMA hardware to the end, bw and lat up to the point
// where they need the device or the peer, which a fixture tree does not have.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DOCUMENTED_COMMANDS, helpText, renderCliDocs } from '../../lib/cli/docs-blocks.js';
import { main } from '../../lib/cli/main.js';
import { makeHostTree } from '../fixtures/host.js';
import { healthyDualRail } from '../fixtures/nccl-logs.js';
import { dgxSparkNode } from '../fixtures/sysfs.js';

const repo = join(import.meta.dirname, '../..');

describe('docs/cli.md', () => {
  test('matches the real --help of every command and the error code list (npm run docs:cli rewrites it)', async () => {
    const page = readFileSync(join(repo, 'docs/cli.md'), 'utf8');
    const rendered = await renderCliDocs(page);
    expect(rendered === page, 'docs/cli.md is out of date: run `npm run docs:cli`').toBe(true);
  });

  test('documents every command the CLI has', async () => {
    const top = await helpText('');
    const listed = [...top.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(listed.length).toBeGreaterThanOrEqual(7);
    for (const c of listed) expect(DOCUMENTED_COMMANDS, c).toContain(c);
  });

  test.each(DOCUMENTED_COMMANDS.map((c) => [c === '' ? '(top level)' : c, c]))('%s --help has examples and the exit codes', async (_name, command) => {
    const text = await helpText(command);
    expect(text).toMatch(/\nExamples:\n {2}spark-rdma /);
    expect(text.endsWith('Exit codes: 0 ok, 1 what was measured or checked failed, 2 a bad or conflicting argument, 130 interrupted.')).toBe(true);
  });

  test('help config nccl is config nccl --help', async () => {
    let a = '';
    expect(await main(['help', 'config', 'nccl'], { stdout: (s) => (a += s), stderr: () => undefined, env: {} })).toBe(0);
    expect(a.trimEnd()).toBe(await helpText('config nccl'));
  });
});

describe('the README examples, on a fixture DGX Spark node', () => {
  const host = makeHostTree(dgxSparkNode());
  const out = mkdtempSync(join(tmpdir(), 'spark-rdma-readme-'));
  afterAll(() => {
    host.cleanup();
    rmSync(out, { recursive: true, force: true });
  }, 60_000);
  const env = { SPARK_RDMA_SYSFS_ROOT: host.sysfs, SPARK_RDMA_PROC_ROOT: host.proc, SPARK_RDMA_ETC_ROOT: host.etc, SPARK_RDMA_DEV_ROOT: host.dev, SPARK_RDMA_HOME_DIR: host.home };
  // The README's nccl-check example reads nccl.log: a healthy dual-rail log built from NCCL's format strings.
  const ncclLog = join(out, 'nccl.log');
  writeFileSync(ncclLog, `${healthyDualRail('2.27').join('\n')}\n`);

  /** `npx spark-rdma ...` lines of the README's "Command line" block, as argv lists. */
  function readmeCommands(): string[][] {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Command line'));
    const fence = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5));
    const lines = fence.split('\n').filter((l) => l.startsWith('npx spark-rdma '));
    return lines.flatMap((line) => {
      const words = line.replace(/#.*$/, '').replace(/>\s*\S+/, '').trim().split(/\s+/).slice(2);
      // `[--json]` is optional: both forms.
      return words.includes('[--json]') ? [words.filter((w) => w !== '[--json]'), words.map((w) => (w === '[--json]' ? '--json' : w))] : [words];
    });
  }

  // What each example must do here. bw and lat need verbs on the fixture's devices (or the peer),
  // which this machine does not have: they must get past every argument check and fail there.
  function expectation(argv: string[]): { code: number; stdout?: RegExp; stderr?: RegExp } {
    const [command] = argv;
    if (command === 'bw' && argv.length === 1) return { code: 1, stderr: /^spark-rdma: cannot listen on 192\.168\.100\.10: no interface of this machine has that address$/m };
    if (command === 'bw' || command === 'lat') return { code: 1, stderr: /^spark-rdma: .*(rocep1s0f0|rocep1s0f1|192\.168\.100\.10)/m };
    if (command === 'devices') return { code: 0, stdout: argv.includes('--json') ? /^\{"schema":"spark-rdma\.devices\/1"/ : /^DEVICE +PORT/ };
    if (command === 'config' && argv[1] === 'nccl') return { code: 0, stdout: /NCCL_IB_HCA/ };
    if (command === 'config') return { code: 0, stdout: /wrote .*serve\.sh/ };
    if (command === 'doctor') return { code: 0, stdout: /^spark-rdma doctor: \d+ checks, \d+ pass, 0 warn, 0 fail/ };
    if (command === 'monitor') return { code: 0, stdout: /rail 0 rocep1s0f1:1/ };
    if (command === 'nccl-check') return { code: 0, stdout: /; ok: every process used NET\/IB on its expected rails/ };
    if (command === 'exporter') return { code: 0, stderr: /^serving rail counters at http:\/\/127\.0\.0\.1:\d+\/metrics/ };
    // Started by hand (no launcher, no --rank): it says how to start it.
    if (command === 'mesh') return { code: 2, stderr: /^spark-rdma: no rank: this process was not started by mpirun, srun or torchrun/m };
    throw new Error(`the README has an example this test does not know: spark-rdma ${argv.join(' ')}`);
  }

  const commands = readmeCommands();
  test('the block has the examples this test knows', () => {
    expect(commands.map((c) => c[0])).toEqual(['devices', 'devices', 'bw', 'bw', 'bw', 'lat', 'mesh', 'config', 'config', 'doctor', 'nccl-check', 'monitor', 'exporter']);
  });

  test.each(commands.map((argv) => [argv.join(' '), argv]))('spark-rdma %s', async (_line, readmeArgv) => {
    // Two substitutions, said here: the vLLM scripts go to a temp dir, and the exporter takes a
    // free port instead of 9469 (another process on this machine may hold it).
    const argv = readmeArgv.map((w) => (w === 'launch/' ? join(out, 'launch') : w === 'nccl.log' ? ncclLog : w.replace(/:9469$/, ':0')));
    let stdout = '';
    let stderr = '';
    // monitor and exporter run until Ctrl-C: send one once they have shown they run.
    const stopOnce = (text: string, what: RegExp) => {
      if (what.test(text)) setImmediate(() => process.emit('SIGINT'));
    };
    const code = await main(argv, {
      stdout: (s) => {
        stdout += s;
        if (argv[0] === 'monitor') stopOnce(s, /rail 0 /);
      },
      stderr: (s) => {
        stderr += s;
        if (argv[0] === 'exporter') stopOnce(s, /^serving /);
      },
      env,
    });
    const want = expectation(readmeArgv);
    expect(code, stderr).toBe(want.code);
    if (want.stdout) expect(stdout).toMatch(want.stdout);
    if (want.stderr) expect(stderr).toMatch(want.stderr);
    expect(stderr).not.toMatch(/error: (unknown|missing|option)/);
    if (argv[0] === 'config' && argv[1] === 'vllm') expect(readdirSync(join(out, 'launch')).sort()).toContain('serve.sh');
  }, 30_000);
});
