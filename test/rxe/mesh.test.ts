// spark-rdma mesh on real rxe rails in one guest (issue 19): every rank serves rxe0/rxe1 on
// its own port and writes to the others through the same bw session code; the launchers are
// the real Open MPI mpirun and MPICH mpiexec, plus hand-started ranks for the faults.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import type { MeshResult } from '../../lib/mesh/matrix.js';
import { renderMeshMarkdown } from '../../lib/mesh/render-markdown.js';
import { CLI, requireRxe, ROOT, type Exited } from './helpers.js';
import { until } from './faults-support.js';

beforeAll(() => requireRxe());

/** Short pairs: the point is every cell, not the figure (emulated guest, ~1 Gb/s). */
const QUICK = ['--duration', '0.5', '--warmup', '0.2', '--peer-timeout', '10'];

interface Proc {
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<Exited>;
}

function start(cmd: string, args: string[], env: Record<string, string> = {}, killAfterMs = 200_000): Proc {
  const started = Date.now();
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const backstop = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<Exited>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(backstop);
    resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
  }));
  return { stdout: () => stdout, stderr: () => stderr, kill: (s) => child.kill(s), exited };
}

function everyCellMeasured(r: MeshResult, n: number): number {
  let cells = 0;
  for (const m of r.rails) {
    expect(m.failed).toEqual([]);
    for (let s = 0; s < n; s++) {
      for (let d = 0; d < n; d++) {
        if (s === d) expect(m.gbps[s]![d]).toBeNull();
        else {
          expect(m.gbps[s]![d], `rail ${m.rail} ${s}->${d}`).toBeGreaterThan(0);
          cells++;
        }
      }
    }
  }
  return cells;
}

describe('mesh in one guest', () => {
  test('Open MPI: mpirun -np 4 measures all 12 directed pairs on both rails in 3 rounds', async () => {
    rmSync('/tmp/mesh4.svg', { force: true });
    const run = start('mpirun', [
      '--allow-run-as-root', '--oversubscribe', '-np', '4', '-x', 'SPARK_RDMA_RDZV=spark-vm:29600',
      process.execPath, CLI, 'mesh', '--json', '--svg', '/tmp/mesh4.svg', ...QUICK,
    ]);
    const r = await run.exited;
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as MeshResult;
    expect(result.ranks.map((x) => [x.rank, x.host, x.rails.map((y) => y.device)])).toEqual(
      [0, 1, 2, 3].map((rank) => [rank, 'spark-vm', ['rxe0', 'rxe1']]),
    );
    expect(result.params.launcher).toBe('openmpi');
    expect(result.rounds).toBe(3);
    expect(everyCellMeasured(result, 4)).toBe(24);
    const svg = readFileSync('/tmp/mesh4.svg', 'utf8');
    expect(svg.match(/<rect x=/g)).toHaveLength(2 * 16);
    console.log(`mpirun -np 4 (${(r.ms / 1000).toFixed(0)} s):\n${renderMeshMarkdown(result)}`);
  });

  test('MPICH: mpiexec -n 3 (odd: a bye per round) measures all 6 directed pairs on both rails in 3 rounds', async () => {
    const run = start('mpiexec.mpich', ['-n', '3', '-genv', 'SPARK_RDMA_RDZV', 'spark-vm:29601', process.execPath, CLI, 'mesh', '--json', ...QUICK]);
    const r = await run.exited;
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as MeshResult;
    expect(result.params.launcher).toBe('hydra');
    expect(result.rounds).toBe(3);
    expect(everyCellMeasured(result, 3)).toBe(12);
    console.log(`mpiexec -n 3 (${(r.ms / 1000).toFixed(0)} s):\n${renderMeshMarkdown(result)}`);
  });

  test('a rank killed mid-run fails its remaining cells with the reason; the rest completes; rank 0 exits 1', async () => {
    const ranks = [0, 1, 2].map((rank) => start(process.execPath, [CLI, 'mesh', '--json', '--port', '18600', ...QUICK], {
      SPARK_RDMA_RANK: String(rank), SPARK_RDMA_WORLD_SIZE: '3', SPARK_RDMA_RDZV: '127.0.0.1:29602',
    }));
    await until('rank 0 finishes the first step', () => /step 1\/6/.test(ranks[0]!.stderr()), 120_000);
    ranks[2]!.kill('SIGKILL');
    const [r0, r1, r2] = await Promise.all(ranks.map((p) => p.exited));
    expect(r2!.signal).toBe('SIGKILL');
    expect(r0!.code, r0!.stderr).toBe(1);
    expect(r1!.code, r1!.stderr).toBe(0);
    const result = JSON.parse(r0!.stdout) as MeshResult;
    for (const m of result.rails) {
      // 0 <-> 1 always runs; everything touching rank 2 after the kill failed with a reason.
      expect(m.gbps[0]![1]).toBeGreaterThan(0);
      expect(m.gbps[1]![0]).toBeGreaterThan(0);
      expect(m.failed.length).toBeGreaterThan(0);
      for (const [s, d, why] of m.failed) {
        expect([s, d]).toContain(2);
        expect(why).toMatch(/rank 2|server|session|closed|peer/i);
      }
      // Every off-diagonal cell is either measured or failed.
      const measured = m.gbps.flat().filter((v) => v !== null).length;
      expect(measured + m.failed.length).toBe(6);
    }
    expect(r0!.stderr).toMatch(/rank 2 \(spark-vm\)/);
    expect(r0!.stderr).toMatch(/rail cell\(s\) failed/);
    console.log(`rank 2 killed after step 1:\n${renderMeshMarkdown(result)}`);
  });

  test('rank 0 killed: the other rank exits 1 at once, naming rank 0', async () => {
    const ranks = [0, 1].map((rank) => start(process.execPath, [CLI, 'mesh', '--duration', '60', '--port', '18610', '--peer-timeout', '10', '--verbose'], {
      SPARK_RDMA_RANK: String(rank), SPARK_RDMA_WORLD_SIZE: '2', SPARK_RDMA_RDZV: '127.0.0.1:29603',
    }));
    // Step 1 is rank 0 writing to rank 1 for 60 s; rank 0 dies in the middle of it.
    await until('rank 0 starts the schedule', () => /all 2 ranks serving/.test(ranks[0]!.stderr()), 120_000);
    await new Promise((r) => setTimeout(r, 3000));
    ranks[0]!.kill('SIGKILL');
    const killedAt = Date.now();
    const r1 = await ranks[1]!.exited;
    const ms = Date.now() - killedAt;
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/rank 1: lost rank 0: rank 0 \(127\.0\.0\.1:29603\) closed the connection/);
    expect(ms).toBeLessThan(20_000);
    await ranks[0]!.exited;
    console.log(`rank 0 killed: rank 1 exited 1 after ${ms} ms`);
  });
});
