// `spark-rdma mesh` argument and launcher handling, in-process (no RDMA: the errors come first).
import { describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

describe('spark-rdma mesh', () => {
  test('--help shows the launchers', async () => {
    const r = await run(['mesh', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mpirun -np 4 --map-by ppr:1:node -x SPARK_RDMA_RDZV=node1:29600 npx spark-rdma mesh');
    expect(r.stdout).toContain('srun --ntasks-per-node=1');
  });

  test('without a launcher: exit 2 (the command line is incomplete), one line and how to start it', async () => {
    const r = await run(['mesh'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spark-rdma: no rank: this process was not started by mpirun, srun or torchrun/);
    expect(r.stderr).toMatch(/hint: e\.g\. mpirun -np 4 .* -x SPARK_RDMA_RDZV=/);
    expect(r.stdout).toBe('');
  });

  test('under mpirun without a rendezvous address: the -x to add', async () => {
    const r = await run(['mesh'], { OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '4' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hint: add -x SPARK_RDMA_RDZV=<host of rank 0>:29600 to mpirun');
  });

  test.each([
    [['mesh', '--slow-fraction', '1.5'], /--slow-fraction 1\.5: expected a fraction above 0 and at most 1/],
    [['mesh', '--rank', '-1'], /--rank -1: expected a whole number from 0 to 4095/],
    [['mesh', '--duration', 'x'], /--duration x: expected seconds/],
  ])('usage error %j', async (argv, why) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(why);
  });

  test('--lat-iters without --lat is refused', async () => {
    const r = await run(['mesh', '--rank', '0', '--world-size', '2', '--rdzv', '127.0.0.1:1', '--lat-iters', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lat-iters needs --lat');
  });

  test('a sysfs root that is not there is named before the rendezvous', async () => {
    const r = await run(['mesh', '--rank', '1', '--world-size', '2', '--rdzv', '127.0.0.1:1', '--sysfs-root', '/nonexistent-sysfs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent-sysfs');
  });
});
