// The mesh result as markdown: per rail an N x N table (row = writer, column = receiver) of
// Gb/s and share of the RoCEv2 goodput limit, slow cells in bold with "slow", failed cells
// "failed" and their reasons listed under the table.
import type { MeshResult, RailMatrix } from './matrix.js';

function label(result: MeshResult, rank: number): string {
  const host = result.ranks[rank]?.host ?? '?';
  return `${rank} ${host}`;
}

function pct(share: number | null | undefined): string {
  if (share === null || share === undefined) return '';
  return share >= 0.1 ? ` (${(share * 100).toFixed(0)}%)` : ` (${(share * 100).toFixed(1)}%)`;
}

function gbpsText(v: number): string {
  return v >= 10 ? v.toFixed(1) : v.toFixed(3);
}

function table(result: MeshResult, cell: (s: number, d: number) => string): string[] {
  const n = result.ranks.length;
  const ranks = Array.from({ length: n }, (_, i) => i);
  return [
    `| from \\ to | ${ranks.map((r) => label(result, r)).join(' | ')} |`,
    `| --- | ${ranks.map(() => '---:').join(' | ')} |`,
    ...ranks.map((s) => `| ${label(result, s)} | ${ranks.map((d) => (s === d ? '—' : cell(s, d))).join(' | ')} |`),
  ];
}

function railHeading(result: MeshResult, m: RailMatrix): string {
  const devices = [...new Set(result.ranks.map((r) => r.rails[m.rail]?.device).filter((d) => d !== undefined))];
  return `### Rail ${m.rail} (${devices.join(', ')})`;
}

function railSection(result: MeshResult, m: RailMatrix): string[] {
  const failed = new Map(m.failed.map(([s, d, why]) => [`${s},${d}`, why]));
  const slow = new Set(m.slow.map(([s, d]) => `${s},${d}`));
  const lines = [
    railHeading(result, m),
    '',
    `Gb/s (10^9 bit/s) written by the row's rank to the column's rank, with the share of the RoCEv2 goodput limit; median ${m.medianGbps === null ? 'n/a' : gbpsText(m.medianGbps)} Gb/s.`,
    '',
    ...table(result, (s, d) => {
      const v = m.gbps[s]![d];
      if (failed.has(`${s},${d}`)) return 'failed';
      if (v === null || v === undefined) return 'not run';
      const text = `${gbpsText(v)}${pct(m.share[s]![d])}`;
      return slow.has(`${s},${d}`) ? `**${text} slow**` : text;
    }),
  ];
  if (m.latP50Us) {
    const lat = m.latP50Us;
    lines.push('', 'Latency p50, one way (us):', '', ...table(result, (s, d) => {
      const v = lat[s]![d];
      return v === null || v === undefined ? (failed.has(`${s},${d}`) ? 'failed' : 'n/a') : v.toFixed(2);
    }));
  }
  if (m.slow.length > 0) {
    lines.push('', `Slow (below ${result.params.slowFraction ?? '?'} x median and below ${result.params.slowShare ?? '?'} of the limit): ${m.slow.map(([s, d]) => `${s}->${d}`).join(', ')}`);
  }
  if (m.failed.length > 0) {
    lines.push('', 'Failed:', ...m.failed.map(([s, d, why]) => `- ${s}->${d}: ${why}`));
  }
  return lines;
}

export function renderMeshMarkdown(result: MeshResult): string {
  const n = result.ranks.length;
  const failed = result.rails.reduce((a, m) => a + m.failed.length, 0);
  const cells = n * (n - 1) * result.rails.length;
  const head = [
    `## spark-rdma mesh: ${n} ranks, ${result.rails.length} rail(s), ${result.rounds} round(s)`,
    '',
    `${cells - failed} of ${cells} directed rail cells measured${failed > 0 ? `, ${failed} failed` : ''}.`,
    '',
    '| rank | host | rails |',
    '| ---: | --- | --- |',
    ...result.ranks.map((r) => `| ${r.rank} | ${r.host} | ${r.rails.map((x) => `${x.device} ${x.ipv4}`).join(', ')} |`),
  ];
  return [...head, ...result.rails.flatMap((m) => ['', ...railSection(result, m)])].join('\n');
}
