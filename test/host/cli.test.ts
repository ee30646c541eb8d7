// CLI argument handling and `spark-rdma devices`, run in-process through main(argv, io).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { reportError } from '../../lib/cli/errors.js';
import { RdmaError } from '../../lib/errors.js';
import { explainLoadFailure } from '../../lib/native/load.js';
import { brokenVariants, dgxSparkNode, noRdmaMachine, rxePair } from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

const { tree } = tempTrees();

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

const version = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('arguments', () => {
  test('--help lists the commands and the global options, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: spark-rdma [options] [command]');
    expect(r.stdout).toMatch(/^\s+devices \[options\]/m);
    expect(r.stdout).toContain('--debug');
    expect(r.stdout).toContain('--version');
    expect(r.stderr).toBe('');
  });

  test('devices --help describes --json and --sysfs-root, exit 0', async () => {
    const r = await run(['devices', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: spark-rdma devices [options]');
    expect(r.stdout).toContain('--json');
    expect(r.stdout).toContain('--sysfs-root <dir>');
    expect(r.stdout).toContain('--debug'); // global options shown on every command
  });

  test('help devices is the same as devices --help', async () => {
    const a = await run(['help', 'devices']);
    const b = await run(['devices', '--help']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  test('--version prints the package version, exit 0', async () => {
    const r = await run(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('an unknown option is a usage error: exit 2, message names it', async () => {
    const r = await run(['devices', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("spark-rdma: error: unknown option '--bogus'");
    expect(r.stderr).toContain('--help');
  });

  test('an unknown command is a usage error: exit 2, with a suggestion', async () => {
    const r = await run(['device']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'device'");
    expect(r.stderr).toContain('devices');
  });

  test('a missing option value is a usage error', async () => {
    const r = await run(['devices', '--sysfs-root']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--sysfs-root <dir>' argument missing");
  });

  test('no command prints usage to stderr, exit 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: spark-rdma');
  });
});

describe('devices', () => {
  test('--json on a fixture tree via SPARK_RDMA_SYSFS_ROOT', async () => {
    const r = await run(['devices', '--json'], { SPARK_RDMA_SYSFS_ROOT: tree(rxePair()) });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as { schema: string; devices: { name: string; ports: unknown[] }[]; rails: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['schema', 'devices', 'rails']);
    expect(parsed.schema).toBe('spark-rdma.devices/1');
    expect(parsed.devices.map((d) => d.name)).toEqual(['rxe0', 'rxe1']);
    expect(parsed.rails).toHaveLength(2);
    expect(parsed.rails[0]).toMatchObject({ device: 'rxe0', port: 1, netdev: 'rail0', ipv4: '10.77.0.1', gidIndex: 1, activeMtu: 4096, rateGbps: 2.5, state: 'ACTIVE' });
    expect(parsed.rails[1]).toMatchObject({ device: 'rxe1', port: 1, netdev: 'rail1', ipv4: '10.77.1.1', gidIndex: 1, activeMtu: 4096, rateGbps: 2.5, state: 'ACTIVE' });
  });

  test('--sysfs-root does the same as the variable and wins over it', async () => {
    const r = await run(['devices', '--json', '--sysfs-root', tree(dgxSparkNode())], { SPARK_RDMA_SYSFS_ROOT: tree(rxePair()) });
    const parsed = JSON.parse(r.stdout) as { devices: unknown[]; rails: { device: string; gidIndex: number }[] };
    expect(parsed.devices).toHaveLength(4);
    expect(parsed.rails.map((x) => [x.device, x.gidIndex])).toEqual([['rocep1s0f1', 3], ['roceP2p1s0f1', 3]]);
  });

  test('the table: one aligned row per port, in the spirit of ibdev2netdev, rails marked', async () => {
    const r = await run(['devices'], { SPARK_RDMA_SYSFS_ROOT: tree(dgxSparkNode()) });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines[0]!;
    expect(header).toMatch(/^DEVICE\s+PORT\s+NETDEV\s+LINK\s+RAIL\s+GID\s+IPV4\s+MTU$/);
    const rows = lines.slice(1, 5);
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(['rocep1s0f0', 'rocep1s0f1', 'roceP2p1s0f0', 'roceP2p1s0f1']);
    const up = rows[1]!;
    expect(up).toMatch(/^rocep1s0f1\s+1\s+enp1s0f1np1\s+\(Up\)\s+rail 0\s+3\s+192\.168\.100\.10\s+4096$/);
    expect(rows[0]).toMatch(/^rocep1s0f0\s+1\s+enp1s0f0np0\s+\(Down\)\s+-\s+-\s+-\s+1024$/);
    // Columns are aligned: each header starts where its values start.
    for (const col of ['RAIL', 'GID', 'IPV4', 'MTU']) {
      const at = header.indexOf(col);
      for (const row of rows) expect(row[at - 1]).toBe(' ');
      expect(up.slice(at).length).toBeGreaterThan(0);
    }
    expect(up.indexOf('192.168.100.10')).toBe(header.indexOf('IPV4'));
    // The port's link details: a second table under the first, the same rows in the same order.
    const second = lines.indexOf('') + 1;
    expect(lines[second]).toMatch(/^DEVICE\s+PORT\s+NETDEV MTU\s+RATE\s+STATE\s+TYPE\s+PCI$/);
    expect(lines[second + 2]).toMatch(/^rocep1s0f1\s+1\s+9000\s+200 Gb\/s\s+ACTIVE\/LINK_UP\s+RoCE\s+0000:01:00\.1$/);
    expect(lines[second + 1]).toMatch(/^rocep1s0f0\s+1\s+1500\s+40 Gb\/s\s+DOWN\/DISABLED\s+RoCE\s+0000:01:00\.0$/);
    expect(r.stdout).toContain('2 rails (rail i pairs with rail i on the peer):\n  rail 0 = rocep1s0f1:1 (enp1s0f1np1, 192.168.100.10)\n  rail 1 = roceP2p1s0f1:1 (enP2p1s0f1np1, 192.168.101.10)');
  });

  test('issue 21.10: every line of the devices output fits an 80-column terminal (79 characters)', async () => {
    const root = tree(dgxSparkNode());
    for (const variant of [root, tree(brokenVariants.noIpv4())]) {
      const r = await run(['devices', '--sysfs-root', variant], {});
      expect(r.code).toBe(0);
      const long = r.stdout.split('\n').filter((l) => l.length > 79);
      expect(long).toEqual([]);
    }
  });

  test('a rail without IPv4 is shown with the reason', async () => {
    const r = await run(['devices'], { SPARK_RDMA_SYSFS_ROOT: tree(brokenVariants.noIpv4()) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rail 0 (rxe0 port 1): rail0 has no IPv4 address');
  });

  test('devices but no rails says so', async () => {
    const r = await run(['devices'], { SPARK_RDMA_SYSFS_ROOT: tree(brokenVariants.allDown()) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No rails: no port is ACTIVE');
  });

  test('no RDMA devices: says so and how to get soft-RoCE, exit 0', async () => {
    const r = await run(['devices'], { SPARK_RDMA_SYSFS_ROOT: tree(noRdmaMachine()) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No RDMA devices found');
    expect(r.stdout).toContain('sudo rdma link add rxe0 type rxe netdev <if>');
    expect(r.stdout).toContain('npm run vm -- npx spark-rdma devices');
  });

  test('no RDMA devices with --json: exactly {"devices":[],"rails":[]}', async () => {
    const r = await run(['devices', '--json'], { SPARK_RDMA_SYSFS_ROOT: tree(noRdmaMachine()) });
    expect(r).toEqual({ code: 0, stdout: '{"schema":"spark-rdma.devices/1","devices":[],"rails":[]}\n', stderr: '' });
  });
});

describe('errors', () => {
  test('an RdmaError is one line plus a hint, exit 2 for a bad setting, no stack trace', async () => {
    const missing = join(tree(noRdmaMachine()), 'nope');
    const r = await run(['devices'], { SPARK_RDMA_SYSFS_ROOT: missing });
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`spark-rdma: sysfs root ${missing} does not exist (from SPARK_RDMA_SYSFS_ROOT)`);
    expect(lines[1]).toMatch(/^hint: point it at a directory shaped like \/sys/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('--debug adds the native fields and the stack trace', async () => {
    const missing = join(tree(noRdmaMachine()), 'nope');
    const r = await run(['--debug', 'devices'], { SPARK_RDMA_SYSFS_ROOT: missing });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"code":"ERR_RDMA_INVALID_ARGUMENT"');
    expect(r.stderr).toMatch(/\n\s+at /);
    const after = await run(['devices', '--debug'], { SPARK_RDMA_SYSFS_ROOT: missing });
    expect(after.stderr).toMatch(/\n\s+at /);
  });

  test('a loader failure prints its explanation once (the hint is already in the message)', () => {
    let text = '';
    const code = reportError(explainLoadFailure(new Error('libibverbs.so.1: cannot open shared object file: No such file or directory'), '/pkg'), false, (s) => (text += s));
    expect(code).toBe(1);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).toMatch(/^spark-rdma: @spark\/rdma: the native addon needs libibverbs\.so\.1/);
    expect(text).toContain('rdma-core');
  });

  test('an unexpected error is one line and points at --debug', () => {
    let text = '';
    expect(reportError(new TypeError('x is undefined'), false, (s) => (text += s))).toBe(1);
    expect(text).toBe('spark-rdma: x is undefined\nhint: this looks like a bug; run again with --debug for the stack trace and report it\n');
    text = '';
    reportError(new RdmaError('boom', { code: 'ERR_RDMA_SYSCALL', hint: 'check the cable' }), false, (s) => (text += s));
    expect(text).toBe('spark-rdma: boom\nhint: check the cable\n');
  });
});
