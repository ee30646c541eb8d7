// spark-rdma mesh across the wire (issue 19): one rank per guest, started the way torchrun starts
// them (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); each rank writes to the other over the real
// cables, rail r to rail r, and rank 0 (node0) prints both rails' matrices.
import { describe, expect, test } from 'vitest';
import type { MeshResult } from '../../../lib/mesh/matrix.js';
import { renderMeshMarkdown } from '../../../lib/mesh/render-markdown.js';
import { CLI, onNode0, onNode1 } from '../remote.js';

const MESH = [CLI, 'mesh', '--json', '--duration', '1', '--warmup', '0.2', '--rdzv-timeout', '60'];
const torchrun = (rank: number) => ({ RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: 'node0', MASTER_PORT: '29600' });

describe('mesh: one rank per node', () => {
  test('two ranks via torchrun-style variables: both directions measured on both rails', async () => {
    const [rank0, rank1] = await Promise.all([
      onNode0([process.execPath, ...MESH], 150_000, torchrun(0)),
      onNode1([process.execPath, ...MESH], 150_000, torchrun(1)),
    ]);
    expect(rank1.code, rank1.stderr).toBe(0);
    expect(rank0.code, rank0.stderr).toBe(0);
    // With --json a rank other than 0 writes nothing to stdout and one line to stderr.
    expect(rank1.stdout).toBe('');
    expect(rank1.stderr).toMatch(/rank 1 of 2 on node1: wrote to 1 peer\(s\); rank 0 has the matrix/);
    const result = JSON.parse(rank0.stdout) as MeshResult;
    expect(result.params['launcher']).toBe('torchrun');
    expect(result.ranks.map((x) => [x.host, x.rails.map((y) => y.ipv4)])).toEqual([
      ['node0', ['10.77.0.1', '10.77.1.1']],
      ['node1', ['10.77.0.2', '10.77.1.2']],
    ]);
    for (const m of result.rails) {
      expect(m.failed).toEqual([]);
      expect(m.gbps[0]![1]).toBeGreaterThan(0);
      expect(m.gbps[1]![0]).toBeGreaterThan(0);
    }
    console.log(`mesh across the wire (${(rank0.ms / 1000).toFixed(0)} s):\n${renderMeshMarkdown(result)}`);
  });
});
