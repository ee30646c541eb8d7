// An SVG heatmap of the mesh: one panel per rail, one square per directed pair, coloured from
// red (slowest) to green (fastest) relative to the best cell of that rail; failed cells grey
// with a cross, slow cells outlined. Plain SVG 1.1, no scripts, every text escaped.
import type { MeshResult, RailMatrix } from './matrix.js';

const CELL = 56;
const MARGIN = 120;
const GAP = 40;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Red (0) -> amber -> green (1). */
function colour(ratio: number): string {
  const hue = Math.round(Math.max(0, Math.min(1, ratio)) * 120);
  return `hsl(${hue}, 70%, 55%)`;
}

function panel(result: MeshResult, m: RailMatrix, x0: number, y0: number): string[] {
  const n = result.ranks.length;
  const best = Math.max(0, ...m.gbps.flat().filter((v): v is number => v !== null));
  const failed = new Map(m.failed.map(([s, d, why]) => [`${s},${d}`, why]));
  const slow = new Set(m.slow.map(([s, d]) => `${s},${d}`));
  const out = [`<text x="${x0}" y="${y0 - 28}" font-weight="bold">Rail ${m.rail}: Gb/s, row writes to column</text>`];
  for (let i = 0; i < n; i++) {
    const name = esc(`${i} ${result.ranks[i]?.host ?? ''}`);
    out.push(`<text x="${x0 - 6}" y="${y0 + i * CELL + CELL / 2 + 4}" text-anchor="end">${name}</text>`);
    out.push(`<text x="${x0 + i * CELL + CELL / 2}" y="${y0 - 8}" text-anchor="middle">${i}</text>`);
  }
  for (let s = 0; s < n; s++) {
    for (let d = 0; d < n; d++) {
      const x = x0 + d * CELL;
      const y = y0 + s * CELL;
      const v = m.gbps[s]![d];
      const key = `${s},${d}`;
      if (s === d) {
        out.push(`<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="#ffffff" stroke="#cccccc"/>`);
      } else if (failed.has(key) || v === null || v === undefined) {
        const why = esc(failed.get(key) ?? 'not run');
        out.push(`<g><title>${s} -&gt; ${d}: ${why}</title><rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="#9e9e9e" stroke="#ffffff"/>`);
        out.push(`<path d="M${x + 12} ${y + 12} L${x + CELL - 12} ${y + CELL - 12} M${x + CELL - 12} ${y + 12} L${x + 12} ${y + CELL - 12}" stroke="#ffffff" stroke-width="3"/></g>`);
      } else {
        const stroke = slow.has(key) ? 'stroke="#000000" stroke-width="3"' : 'stroke="#ffffff"';
        out.push(`<g><title>${s} -&gt; ${d}: ${v.toFixed(3)} Gb/s${slow.has(key) ? ' (slow)' : ''}</title><rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${colour(best > 0 ? v / best : 0)}" ${stroke}/>`);
        out.push(`<text x="${x + CELL / 2}" y="${y + CELL / 2 + 4}" text-anchor="middle">${v >= 10 ? v.toFixed(1) : v.toFixed(2)}</text></g>`);
      }
    }
  }
  return out;
}

export function renderMeshSvg(result: MeshResult): string {
  const n = result.ranks.length;
  const side = n * CELL;
  const width = MARGIN + result.rails.length * (side + GAP + MARGIN);
  const height = 60 + side + 40;
  const body = result.rails.flatMap((m, i) => panel(result, m, MARGIN + i * (side + GAP + MARGIN), 60));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...body,
    `<text x="10" y="${height - 12}" fill="#555555">spark-rdma mesh: ${n} ranks, ${result.rounds} rounds; colour relative to each rail's best cell; grey = failed</text>`,
    '</svg>',
    '',
  ].join('\n');
}
