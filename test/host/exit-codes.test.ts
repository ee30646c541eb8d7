// Issue 21, points 4 and 5: one exit-code table (0 ok, 1 the measured/checked thing failed,
// 2 usage: any bad or conflicting argument, 130 interrupted), and conflicting or irrelevant
// flags refused instead of silently ignored. All on fixture trees: nothing here reaches verbs.
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { brokenSpark, makeHostTree } from '../fixtures/host.js';
import { dgxSparkNode, makeSysfsTree, rxePair } from '../fixtures/sysfs.js';

const rxe = makeSysfsTree(rxePair());
const spark = makeSysfsTree(dgxSparkNode());
const sick = makeHostTree(brokenSpark.carrierDown(), { memlock: { soft: 65536, hard: 65536 } });
afterAll(() => {
  rxe.cleanup();
  spark.cleanup();
  sick.cleanup();
}, 60_000);

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

describe('usage errors exit 2 wherever they are caught', () => {
  test.each([
    [['bw', '--loopback', '--rails', '0']],
    [['config', 'nccl', '--rails', '0']],
    [['bw', '--loopback', '--mtu', '9000']],
    [['bw', '--loopback', '--mtu', '1000']],
    [['bw', '--loopback', '--duration', '-1']],
    [['bw', '--loopback', '--duration', '0']],
    [['lat', '--loopback', '--duration', '0']],
    [['bw', '--loopback', '--iters', '10', '--duration', '1']],
    [['bw', '--loopback', '--rails', '3']],
    [['bw', '--loopback', '--devices', 'mlx5_9']],
    [['config', 'nccl', '--single', '--dual']],
    [['config', 'vllm', '--head-ip', '10.0.0.1', '--worker-ip', '10.0.0.2', '--model', 'm', '--tensor-parallel-size', 'x']],
    [['doctor', '--memlock-needed', 'abc']],
    [['monitor', '--interval', '0']],
  ])('%j', async (argv) => {
    const r = await cli([...argv, '--sysfs-root', argv[0] === 'config' ? spark.root : rxe.root]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^spark-rdma: /);
  });

  test('a doctor check that fails is 1, not 2', async () => {
    const r = await cli(['doctor', '--sysfs-root', sick.sysfs, '--proc-root', sick.proc, '--etc-root', sick.etc, '--dev-root', sick.dev]);
    expect(r.code).toBe(1);
  });
});

describe('conflicting or irrelevant flags are refused (exit 2) with what to do', () => {
  test.each([
    [['bw', '192.168.100.11', '--loopback'], 'a peer address and --loopback were both given'],
    [['lat', '192.168.100.11', '--loopback'], 'a peer address and --loopback were both given'],
    [['bw', '--loopback', '--size', '4096', '--sizes', '65536'], 'both --size and --sizes were given'],
    [['lat', '--loopback', '--size', '4096', '--sizes', 'all'], 'both --size and --sizes were given'],
    [['bw', '192.168.100.11', '--bind', '10.0.0.1'], '--bind is for a server'],
    [['bw', '--loopback', '--bind', '10.0.0.1'], '--bind is for a server'],
    [['bw', '--qps', '4'], 'a server (no peer address) takes no --qps'],
    [['lat', '--size', '64', '--json'], 'a server (no peer address) takes no --json'],
    [['bw', '192.168.100.300', '--rails', '1'], 'peer address "192.168.100.300" is not an IPv4 address'],
    [['bw', '10.0.0.1:18515'], 'peer address "10.0.0.1:18515"'],
    [['config', 'nccl', '--rails', '2', '--single'], 'both --rails and --single were given'],
    [['config', 'nccl', '--devices', 'rocep1s0f1', '--dual'], 'both --devices and --dual were given'],
  ])('%j', async (argv, message) => {
    const r = await cli([...argv, '--sysfs-root', argv[0] === 'config' ? spark.root : rxe.root]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toContain(message);
    expect(r.stderr).toMatch(/^hint: /m);
  });
});
