// Issue 21, point 3: one meaning per name. --rails N is "the first N rails" in every command
// and API; --warmup is seconds in bw and lat; the old spellings are refused with the new one.
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { makeSysfsTree, rxePair } from '../fixtures/sysfs.js';

const rxe = makeSysfsTree(rxePair());
afterAll(() => rxe.cleanup());

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--sysfs-root', rxe.root], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

describe('--warmup is seconds in bw and lat', () => {
  test('lat --warmup 100 (the old exchanges) is refused with --warmup-iters', async () => {
    const r = await cli(['lat', '--loopback', '--warmup', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'spark-rdma: --warmup 100: the latency warm-up is in seconds now (as in bw), at most 5\n' +
        'hint: for 100 untimed exchanges pass --warmup-iters 100; for a time pass e.g. --warmup 0.5\n',
    );
  });

  test('lat --warmup-ms (the old time flag, in ms) is refused with --warmup in seconds', async () => {
    const r = await cli(['lat', '--loopback', '--warmup-ms', '200']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('spark-rdma: --warmup-ms is gone: the warm-up time is --warmup, in seconds as in bw\nhint: pass --warmup 0.2\n');
  });

  test('both help texts say seconds', async () => {
    const bw = (await cli(['bw', '--help'])).stdout;
    const lat = (await cli(['lat', '--help'])).stdout;
    expect(bw).toMatch(/--warmup <s>\s+untimed warm-up seconds/);
    expect(lat).toMatch(/--warmup <s>\s+untimed warm-up seconds/);
    expect(lat).toMatch(/--warmup-iters <n>\s+and at least this many untimed exchanges/);
    expect(lat).not.toContain('--warmup-ms');
  });
});

describe('--rails N is the first N rails everywhere', () => {
  test.each([
    [['bw', '--loopback', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
    [['lat', '--loopback', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
    [['monitor', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
    [['config', 'nccl', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
  ])('%j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(message);
  });
});
