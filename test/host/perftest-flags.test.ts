// Issue 21, point 6: perftest habits. bw and lat take perftest's short flags where they mean the
// same (-d -s -n -D -p -a -F --report_gbits, and bw's -q), and answer perftest's other flags
// with the spark-rdma equivalent (exit 2) instead of "unknown option".
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { PERFTEST_REFUSED } from '../../lib/cli/perftest-flags.js';
import { makeSysfsTree, rxePair } from '../fixtures/sysfs.js';

const rxe = makeSysfsTree(rxePair());
afterAll(() => rxe.cleanup());

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--sysfs-root', rxe.root], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr, first: stderr.split('\n')[0] };
}

describe('perftest short flags with the same meaning are accepted', () => {
  // Each reaches the check of its long form: the message names the long flag, so the alias is wired to it.
  test.each([
    [['bw', '--loopback', '-d', 'mlx5_9'], 'spark-rdma: device mlx5_9 is not a rail here (rails: rxe0:1, rxe1:1)'],
    [['lat', '--loopback', '-d', 'mlx5_9'], 'spark-rdma: device mlx5_9 is not a rail here (rails: rxe0:1, rxe1:1)'],
    [['bw', '--loopback', '-s', '0'], '--size "0" (0 bytes) is out of range'],
    [['bw', '--loopback', '-n', '0'], '--iters 0: expected a whole number from 1'],
    [['lat', '--loopback', '-D', '0'], '--duration 0: a run must last longer than 0 s'],
    [['bw', '--loopback', '-q', '5000'], '--qps 5000: expected a whole number from 1 to 4096'],
    [['bw', '127.0.0.1', '-p', '70000'], '--port 70000: expected a whole number from 1 to 65535'],
    [['bw', '--loopback', '-a', '-s', '64'], 'both --size and -a were given'],
    [['lat', '--loopback', '-a', '--sizes', '64'], 'both --sizes and -a were given'],
    [['bw', '--loopback', '-F', '--report_gbits', '-d', 'mlx5_9'], 'spark-rdma: device mlx5_9 is not a rail here'],
  ])('%j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code, r.stderr).toBe(2);
    expect(r.first).toContain(message);
    expect(r.stderr).not.toContain('unknown option');
  });

  test('-a is --sizes all: a server refuses it like any client flag, and -F/--report_gbits/-p are fine on a server', async () => {
    const r = await cli(['bw', '-a', '-F']);
    expect(r.code).toBe(2);
    expect(r.first).toBe('spark-rdma: a server (no peer address) takes no -a: the client chooses what to measure and the server follows');
  });

  test('lat has no -q (one QP per rail): commander names it, exit 2', async () => {
    const r = await cli(['lat', '--loopback', '-q', '2']);
    expect(r.code).toBe(2);
    expect(r.first).toBe("spark-rdma: error: unknown option '-q'");
  });
});

describe('perftest flags without the same meaning are refused with the spark-rdma equivalent', () => {
  test.each([
    ['bw', '-x', '3', 'use --gid-index <n>'],
    ['bw', '-R', null, 'use --cm (rdma_cm) on the client; the server follows'],
    ['bw', '-b', null, 'use --bidir (bw)'],
    ['bw', '-t', '64', 'use --tx-depth <n> (bw)'],
    ['bw', '-Q', '8', 'use --signal-every <n> (bw)'],
    ['bw', '-m', '4096', 'use --mtu <bytes>'],
    ['bw', '--out_json', null, 'use --json and redirect it: --json > result.json'],
    ['bw', '--run_infinitely', null, 'use spark-rdma monitor for live rates, or a long --duration'],
    ['lat', '-H', null, 'use --histogram (lat)'],
    ['lat', '-C', null, 'latencies are in microseconds'],
    ['lat', '-x3', null, 'use --gid-index <n>'],
    ['lat', '--output=latency', null, 'use --json and pick the field'],
    ['lat', '--ib-dev=mlx5_0', null, 'use -d or --devices'],
  ])('%s %s', async (test, flag, value, hint) => {
    const r = await cli([test, '--loopback', flag, ...(value === null ? [] : [value])]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.first).toBe(`spark-rdma: ${flag} is a perftest flag that spark-rdma ${test} does not take`);
    expect(r.stderr.split('\n')[1]).toContain(`hint: ${hint}`);
  });

  test('every refused flag has a hint, and none is a flag bw or lat takes', async () => {
    const help = (await cli(['bw', '--help'])).stdout + (await cli(['lat', '--help'])).stdout;
    for (const [flag, instead] of Object.entries(PERFTEST_REFUSED)) {
      expect(instead.length, flag).toBeGreaterThan(8);
      expect(help, flag).not.toMatch(new RegExp(`(^|[ ,])${flag}[ ,<]`, 'm'));
    }
  });

  test('a flag that is neither ours nor perftest\'s keeps commander\'s message', async () => {
    const r = await cli(['bw', '--loopback', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.first).toBe("spark-rdma: error: unknown option '--bogus'");
  });
});
