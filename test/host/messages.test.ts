// Issue 21, point 10: messages as a user reads them. No duplicated text ("(ENOENT): ENOENT"),
// the hint on its own line, no internal option names, `npm run vm` only where it exists, no
// escapes for TERM=dumb, "help <cmd> <sub>" (test/host/cli-docs.test.ts) and JSON with a schema.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { noDevicesAdvice } from '../../lib/cli/devices-view.js';
import { DOCUMENTED_COMMANDS } from '../../lib/cli/docs-blocks.js';
import { main } from '../../lib/cli/main.js';
import { canRedraw } from '../../lib/cli/terminal.js';
import { inSourceCheckout } from '../../lib/native/source-checkout.js';
import { describeFsError } from '../../lib/report/fs-error.js';
import { dgxSparkNode, makeSysfsTree } from '../fixtures/sysfs.js';

const spark = makeSysfsTree(dgxSparkNode());
const empty = mkdtempSync(join(tmpdir(), 'spark-rdma-empty-'));
afterAll(() => {
  spark.cleanup();
  rmSync(empty, { recursive: true, force: true });
});

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

describe('messages', () => {
  test('a file that cannot be read says its error once: "no such file or directory (ENOENT)"', async () => {
    const missing = join(empty, 'nope.json');
    const r = await cli(['config', 'nccl', '--from', missing, '--sysfs-root', spark.root]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`spark-rdma: cannot read measurement file ${missing}: no such file or directory (ENOENT)`);
    expect(r.stderr).not.toMatch(/ENOENT.*ENOENT/);
    expect(r.stderr.split('\n')[1]).toMatch(/^hint: /);
    expect(describeFsError(Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES', syscall: 'open' }))).toBe('permission denied (EACCES)');
  });

  test('a wrong GID index names the flag, not the internal option name', async () => {
    const r = await cli(['bw', '--loopback', '--gid-index', '9', '--sysfs-root', spark.root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spark-rdma: GID index 9 is not a populated GID entry of rocep1s0f1 port 1/);
    expect(r.stderr).toMatch(/^hint: pick one of the populated indexes \(--gid-index\)/m);
    expect(r.stderr).not.toMatch(/gidIndex|sysfsRoot/);
  });

  test('npm run vm is suggested only in a clone of the repository', () => {
    expect(inSourceCheckout()).toBe(true);
    expect(inSourceCheckout(empty)).toBe(false);
    expect(noDevicesAdvice('/sys', true)).toContain('npm run vm -- npx spark-rdma devices');
    expect(noDevicesAdvice('/sys', false)).not.toContain('npm run vm');
  });

  test('TERM=dumb gets no escapes; a pipe neither', () => {
    expect(canRedraw({ isTTY: true }, {})).toBe(true);
    expect(canRedraw({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(canRedraw({ isTTY: false }, { TERM: 'xterm' })).toBe(false);
    expect(canRedraw({}, {})).toBe(false);
  });

  test('every JSON document names its schema first', async () => {
    const devices = JSON.parse((await cli(['devices', '--json', '--sysfs-root', spark.root])).stdout) as Record<string, unknown>;
    expect(Object.keys(devices)[0]).toBe('schema');
    expect(devices['schema']).toBe('spark-rdma.devices/1');
    const vllm = await cli(['config', 'vllm', '--head-ip', '192.168.100.10', '--worker-ip', '192.168.100.11', '--model', 'm', '--json', '--sysfs-root', spark.root]);
    expect((JSON.parse(vllm.stdout) as Record<string, unknown>)['schema']).toBe('spark-rdma.config-vllm/1');
  });

  test('--json everywhere: config nccl --json is --format json, and refuses another --format', async () => {
    const json = await cli(['config', 'nccl', '--json', '--sysfs-root', spark.root]);
    const format = await cli(['config', 'nccl', '--format', 'json', '--sysfs-root', spark.root]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(format.stdout);
    expect(() => JSON.parse(json.stdout) as unknown).not.toThrow();
    const both = await cli(['config', 'nccl', '--json', '--format', 'env', '--sysfs-root', spark.root]);
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe('spark-rdma: both --json and --format env were given');
  });

  test("no 'seed' wording reaches a user: configs (every format, both rail counts), their notes and every help", async () => {
    const vllm = ['config', 'vllm', '--head-ip', '192.168.100.10', '--worker-ip', '192.168.100.11', '--model', 'm', '--sysfs-root', spark.root];
    const runs = [
      ...['shell', 'env', 'docker', 'json'].flatMap((f) => [['config', 'nccl', '--format', f, '--sysfs-root', spark.root], ['config', 'nccl', '--format', f, '--dual', '--sysfs-root', spark.root]]),
      vllm,
      [...vllm, '--dual'],
      [...vllm, '--json'],
      ...DOCUMENTED_COMMANDS.map((c) => [...c.split(' ').filter((w) => w.length > 0), '--help']),
    ];
    for (const argv of runs) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(`${r.stdout}${r.stderr}`, argv.join(' ')).not.toMatch(/\bseed/i);
    }
  });
});
