import { describe, expect, it } from 'vitest';
import { buildMatrices, meshJson, missingCells, type CellOutcome, type MeshResult } from '../../lib/mesh/matrix.js';
import { renderMeshMarkdown } from '../../lib/mesh/render-markdown.js';
import { renderMeshSvg } from '../../lib/mesh/render-svg.js';

const rails = (i: number) => [
  { device: 'rocep1s0f1', netdev: 'enp1s0f1np1', ipv4: `192.168.100.${10 + i}`, activeMtu: 4096, rateGbps: 100 },
  { device: 'roceP2p1s0f1', netdev: 'enP2p1s0f1np1', ipv4: `192.168.101.${10 + i}`, activeMtu: 4096, rateGbps: 100 },
];

/** Three nodes, two rails; 2 -> 0 on rail 1 is slow, 1 -> 2 on rail 0 failed. */
function sample(): MeshResult {
  const outcomes: CellOutcome[] = [];
  for (let s = 0; s < 3; s++) {
    for (let d = 0; d < 3; d++) {
      if (s === d) continue;
      for (let rail = 0; rail < 2; rail++) {
        if (s === 1 && d === 2 && rail === 0) {
          outcomes.push({ src: s, dst: d, rail, failed: 'the server at 192.168.100.12 ended the session <killed>' });
          continue;
        }
        const gbps = s === 2 && d === 0 && rail === 1 ? 41.5 : 96 + s + d / 10;
        outcomes.push({ src: s, dst: d, rail, gbps, shareOfLimit: gbps / 98.04, latP50Us: 2 + s / 10 });
      }
    }
  }
  return {
    ranks: [0, 1, 2].map((rank) => ({ rank, host: `spark${rank}`, rails: rails(rank) })),
    rails: buildMatrices(3, 2, outcomes, { fraction: 0.8, share: 0.9 }, true),
    rounds: 3,
    params: { size: 65536, slowFraction: 0.8, slowShare: 0.9 },
  };
}

describe('mesh matrices', () => {
  it('fills cells, keeps the diagonal null, lists failures and flags the slow cell', () => {
    const r = sample();
    const [m0, m1] = r.rails;
    expect(m0!.gbps[0]![0]).toBeNull();
    expect(m0!.gbps[0]![1]).toBeCloseTo(96.1);
    expect(m0!.gbps[1]![2]).toBeNull();
    expect(m0!.failed).toEqual([[1, 2, 'the server at 192.168.100.12 ended the session <killed>']]);
    expect(m0!.slow).toEqual([]);
    expect(m1!.slow).toEqual([[2, 0]]);
    expect(m1!.failed).toEqual([]);
    expect(missingCells(m0!)).toEqual([]);
    expect(m1!.latP50Us![2]![0]).toBeCloseTo(2.2);
  });

  it('a cell below the median fraction but near the goodput limit is not slow', () => {
    const outcomes: CellOutcome[] = [
      { src: 0, dst: 1, rail: 0, gbps: 100, shareOfLimit: 0.98 },
      { src: 1, dst: 0, rail: 0, gbps: 70, shareOfLimit: 0.95 },
    ];
    expect(buildMatrices(2, 1, outcomes, { fraction: 0.9, share: 0.9 }, false)[0]!.slow).toEqual([]);
    expect(buildMatrices(2, 1, outcomes, { fraction: 0.9, share: 0.99 }, false)[0]!.slow).toEqual([[1, 0]]);
  });

  it('a cell never reported shows as missing', () => {
    const m = buildMatrices(3, 1, [{ src: 0, dst: 1, rail: 0, gbps: 1 }], { fraction: 0.8, share: 0.9 }, false)[0]!;
    expect(missingCells(m)).toHaveLength(5);
  });

  it('JSON follows the schema: ranks, rails with gbps (null diagonal) and failed triples, rounds, params', () => {
    const j = JSON.parse(meshJson(sample())) as Record<string, unknown> & { ranks: { rank: number; host: string; rails: unknown[] }[]; rails: { rail: number; gbps: (number | null)[][]; failed: [number, number, string][] }[] };
    expect(Object.keys(j)).toEqual(['schema', 'ranks', 'rails', 'rounds', 'params']);
    expect(j.schema).toBe('spark-rdma.mesh/1');
    expect(j.rounds).toBe(3);
    expect(j.ranks.map((r) => [r.rank, r.host, r.rails.length])).toEqual([[0, 'spark0', 2], [1, 'spark1', 2], [2, 'spark2', 2]]);
    expect(j.rails.map((r) => r.rail)).toEqual([0, 1]);
    expect(j.rails[0]!.gbps.map((row, s) => row[s])).toEqual([null, null, null]);
    expect(j.rails[0]!.failed[0]).toEqual([1, 2, expect.stringContaining('ended the session')]);
  });

  it('markdown: one table per rail, slow in bold, failed cells and reasons, latency table', () => {
    const md = renderMeshMarkdown(sample());
    expect(md).toContain('## spark-rdma mesh: 3 ranks, 2 rail(s), 3 round(s)');
    expect(md).toContain('11 of 12 directed rail cells measured, 1 failed.');
    expect(md).toContain('### Rail 0 (rocep1s0f1)');
    expect(md).toContain('### Rail 1 (roceP2p1s0f1)');
    expect(md).toContain('| from \\ to | 0 spark0 | 1 spark1 | 2 spark2 |');
    expect(md).toMatch(/\| 1 spark1 \| 97\.0 \(99%\) \| — \| failed \|/);
    expect(md).toContain('**41.5 (42%) slow**');
    expect(md).toContain('Slow (below 0.8 x median and below 0.9 of the limit): 2->0');
    expect(md).toContain('- 1->2: the server at 192.168.100.12 ended the session <killed>');
    expect(md).toContain('Latency p50, one way (us):');
  });

  it('SVG: one square per cell, failed grey, slow outlined, text escaped', () => {
    const r = sample();
    r.ranks[2]!.host = 'a<b&"c"';
    const svg = renderMeshSvg(r);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(2 * 9);
    expect(svg).toContain('fill="#9e9e9e"');
    expect(svg).toContain('1 -&gt; 2: the server at 192.168.100.12 ended the session &lt;killed&gt;');
    expect(svg).toContain('2 -&gt; 0: 41.500 Gb/s (slow)');
    expect(svg).toContain('a&lt;b&amp;&quot;c&quot;');
    expect(svg).not.toContain('<script');
  });
});
