// Discovery and the launch configs on both nodes of the wire.
import { describe, expect, test } from 'vitest';
import { cli, NODE0, NODE1 } from '../remote.js';

interface DevicesJson {
  rails: { index: number; device: string; netdev: string; ipv4: string | null; activeMtu: number; state: string }[];
}

describe('each node sees its own two rails', () => {
  test('spark-rdma devices --json on both nodes: rails 0 and 1 with the node\'s own addresses', async () => {
    const [zero, one] = await Promise.all([cli(0, ['devices', '--json']), cli(1, ['devices', '--json'])]);
    for (const [r, own] of [[zero, NODE0], [one, NODE1]] as const) {
      expect(r.code, r.stderr).toBe(0);
      const rails = (JSON.parse(r.stdout) as DevicesJson).rails;
      expect(rails.map((x) => [x.index, x.device, x.netdev, x.ipv4, x.activeMtu, x.state])).toEqual([
        [0, 'rxe0', 'rail0', own.rail0, 4096, 'ACTIVE'],
        [1, 'rxe1', 'rail1', own.rail1, 4096, 'ACTIVE'],
      ]);
    }
  });

  test('config nccl gives the same NCCL_IB_HCA on both nodes, and doctor passes on both', async () => {
    const [zero, one] = await Promise.all([cli(0, ['config', 'nccl']), cli(1, ['config', 'nccl'])]);
    const hca = (text: string) => /NCCL_IB_HCA=(\S+)/.exec(text)?.[1];
    expect(zero.code, zero.stderr).toBe(0);
    expect(one.code, one.stderr).toBe(0);
    expect(hca(zero.stdout)).toBeDefined();
    expect(hca(zero.stdout)).toBe(hca(one.stdout));
    const [d0, d1] = await Promise.all([cli(0, ['doctor']), cli(1, ['doctor'])]);
    expect(d0.code, `node0 doctor:\n${d0.stdout}${d0.stderr}`).toBe(0);
    expect(d1.code, `node1 doctor:\n${d1.stdout}${d1.stderr}`).toBe(0);
  });
});
