// A small SVG line chart: log2 x axis (message size), linear y axis (Gb/s), one line per
// series, a legend. No dependencies; the output is deterministic for the same input.

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  color: string;
  points: ChartPoint[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** Formats an x tick value (a power of two); default: the number. */
  formatX?: (x: number) => string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 16, top: 40, bottom: 52 };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A "nice" step (1, 2 or 5 x 10^k) giving about `count` ticks up to `max`. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

export function lineChartSvg(o: LineChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 420;
  const points = o.series.flatMap((s) => s.points).filter((p) => p.x > 0 && Number.isFinite(p.y));
  if (points.length === 0) throw new RangeError('a chart needs at least one point with x > 0 and a finite y');
  const formatX = o.formatX ?? ((x: number) => String(x));
  const minExp = Math.floor(Math.log2(Math.min(...points.map((p) => p.x))));
  const maxExp = Math.max(minExp + 1, Math.ceil(Math.log2(Math.max(...points.map((p) => p.x)))));
  const yStep = niceStep(Math.max(...points.map((p) => p.y)));
  const yMax = Math.max(yStep, Math.ceil(Math.max(...points.map((p) => p.y)) / yStep) * yStep);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((Math.log2(x) - minExp) / (maxExp - minExp)) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(o.title)}</text>`);
  // y grid and labels
  for (let y = 0; y <= yMax + yStep / 1e6; y += yStep) {
    const py = fmt(sy(y));
    out.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${width - MARGIN.right}" y2="${py}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${fmt(y)}</text>`);
  }
  // x ticks at powers of two, labels on every other one when crowded
  const labelEvery = maxExp - minExp > 12 ? 2 : 1;
  for (let e = minExp; e <= maxExp; e++) {
    const px = fmt(sx(2 ** e));
    out.push(`<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`);
    if ((e - minExp) % labelEvery === 0) {
      out.push(`<text x="${px}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(formatX(2 ** e))}</text>`);
    }
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  // series
  o.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.x > 0 && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 0) {
      const path = pts.map((p) => `${fmt(sx(p.x))},${fmt(sy(p.y))}`).join(' ');
      out.push(`<polyline fill="none" stroke="${escapeXml(s.color)}" stroke-width="2" points="${path}"/>`);
      for (const p of pts) out.push(`<circle cx="${fmt(sx(p.x))}" cy="${fmt(sy(p.y))}" r="3" fill="${escapeXml(s.color)}"/>`);
    }
    const ly = MARGIN.top + 14 + i * 18;
    const lx = MARGIN.left + 12;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${escapeXml(s.color)}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
