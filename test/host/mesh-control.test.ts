// The mesh's control flow on loopback TCP with a stand-in engine (no RDMA here; the real one
// runs in test/rxe/mesh.test.ts): rounds and results, a rank that leaves mid-run, rank 0 that
// leaves, a rank that misses the step deadline.
import { describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/free-port.js';
import { runRank0 } from '../../lib/mesh/coordinator.js';
import type { RankEngine } from '../../lib/mesh/engine.js';
import type { MeshIdentity } from '../../lib/mesh/launcher.js';
import { DEFAULT_SLOW_RULE } from '../../lib/mesh/matrix.js';
import type { ResolvedMesh } from '../../lib/mesh/options.js';
import type { CellTask } from '../../lib/mesh/pair.js';
import { runRank } from '../../lib/mesh/worker.js';


const mesh = (rank: number, peerTimeoutMs = 2_000): ResolvedMesh => ({
  host: `node${rank}`,
  rails: [0, 1].map((i) => ({ device: `rxe${i}`, netdev: `rail${i}`, ipv4: `10.77.${i}.${rank + 1}`, activeMtu: 4096, rateGbps: 10 })),
  pair: { rails: 2, size: 65536, qps: 1, durationMs: 10, warmupMs: 0, peerTimeoutMs, latIterations: 0 },
  rdzvTimeoutMs: 10_000,
  basePort: 18515,
  serial: false,
  slow: DEFAULT_SLOW_RULE,
  log: () => undefined,
});

const id = (rank: number, n: number, port: number): MeshIdentity => ({ rank, worldSize: n, localRank: null, rdzv: { host: '127.0.0.1', port }, launcher: 'flags', rdzvFrom: '--rdzv' });

/** Cell rates that name the cell: src*10 + dst + rail/10 Gb/s. `hook` runs before each cell. */
function engine(tasks: CellTask[], hook?: (t: CellTask) => Promise<void>): RankEngine {
  return {
    serve: async (port) => ({ port, close: async () => undefined }),
    runCell: async (task) => {
      tasks.push(task);
      await hook?.(task);
      return [0, 1].map((rail) => ({ rail, gbps: task.src * 10 + task.dst + rail / 10, shareOfLimit: 0.5 }));
    },
  };
}

describe('mesh control flow', () => {
  it('4 ranks: 3 rounds, every directed pair on both rails, tasks aimed at the peer\'s rail 0 and its port', async () => {
    const port = await freePort();
    const tasks: CellTask[] = [];
    const never = new AbortController().signal;
    const [r0, ...others] = await Promise.all([
      runRank0(id(0, 4, port), mesh(0), engine(tasks), never),
      ...[1, 2, 3].map((r) => runRank(id(r, 4, port), mesh(r), engine(tasks), never)),
    ]);
    expect(r0.rounds).toBe(3);
    for (const m of r0.rails) {
      expect(m.failed).toEqual([]);
      m.gbps.forEach((row, s) => row.forEach((v, d) => expect(v).toBe(s === d ? null : s * 10 + d + m.rail / 10)));
    }
    expect(tasks).toHaveLength(12);
    // Ranks on different hosts each take the base port; the task points at rail 0 of the writer's peer.
    expect(tasks.find((t) => t.src === 1 && t.dst === 3)).toMatchObject({ address: '10.77.0.4', port: 18515 });
    expect(others.map((o) => (o as { cellsRun: number }).cellsRun)).toEqual([3, 3, 3]);
  });

  it('a rank that leaves mid-run fails its remaining cells with the reason; the others finish', async () => {
    const port = await freePort();
    const tasks: CellTask[] = [];
    const never = new AbortController().signal;
    const leave = new AbortController();
    let r2Cells = 0;
    const leaver = engine(tasks, async () => {
      if (++r2Cells === 1) leave.abort();
    });
    const settled = await Promise.allSettled([
      runRank0(id(0, 3, port), mesh(0), engine(tasks), never),
      runRank(id(1, 3, port), mesh(1), engine(tasks), never),
      runRank(id(2, 3, port), mesh(2), leaver, leave.signal),
    ]);
    expect(settled[1].status).toBe('fulfilled');
    expect(settled[2].status).toBe('rejected');
    const r0 = (settled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof runRank0>>>).value;
    expect(r0.rounds).toBe(3);
    for (const m of r0.rails) {
      expect(m.gbps[0]![1]).toBe(1 + m.rail / 10);
      expect(m.gbps[1]![0]).toBe(10 + m.rail / 10);
      expect(m.failed.length).toBeGreaterThanOrEqual(3);
      for (const [s, d, why] of m.failed) {
        expect([s, d]).toContain(2);
        expect(why).toMatch(/rank 2 \(node2\)/);
      }
      expect(m.gbps.flat().filter((v) => v !== null).length + m.failed.length).toBe(6);
    }
  });

  it('rank 0 leaving ends every other rank at once with the reason', async () => {
    const port = await freePort();
    const stop0 = new AbortController();
    const never = new AbortController().signal;
    const slow = engine([], () => new Promise((r) => setTimeout(r, 300)));
    const started = Date.now();
    const rank0 = runRank0(id(0, 3, port), mesh(0), engine([], async () => stop0.abort()), stop0.signal);
    const ranks = [1, 2].map((r) => runRank(id(r, 3, port), mesh(r), slow, never));
    await expect(ranks[0]).rejects.toThrow(/rank 0 .*gave up: rank 0 was interrupted|lost rank 0/);
    await expect(ranks[1]).rejects.toThrow(/rank 0 .*gave up: rank 0 was interrupted|lost rank 0/);
    await rank0.catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('a rank past the step deadline is failed and dropped; the schedule goes on', async () => {
    const port = await freePort();
    const never = new AbortController().signal;
    // Step deadline = 10 + 0 + 6 x 200 + 5000 ms; rank 1 hangs in its first cell for longer.
    const hang = engine([], () => new Promise((r) => setTimeout(r, 7_000)));
    const settled = await Promise.allSettled([
      runRank0(id(0, 2, port), mesh(0, 200), engine([]), never),
      runRank(id(1, 2, port), mesh(1, 200), hang, never),
    ]);
    const r0 = (settled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof runRank0>>>).value;
    expect(r0.rails[0]!.gbps[0]![1]).toBe(1);
    expect(r0.rails[0]!.failed).toEqual([[1, 0, expect.stringMatching(/rank 1 \(node1\) sent nothing for 6\.2 s while measuring 1->0/)]]);
    expect(settled[1].status).toBe('rejected');
  }, 20_000);
});
