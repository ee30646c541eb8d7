import { invalidArgument } from '../errors.js';
import type { HistogramBucket } from './histogram.js';

export interface RenderHistogramOptions {
  /** Total columns per line, labels included (default 80; pass process.stdout.columns). */
  width?: number;
  /** Unit of the bucket bounds, printed after them (default 'us'). */
  unit?: string;
  /** Draw with '#' instead of Unicode block characters (for logs and dumb terminals). */
  ascii?: boolean;
}

// Eighth blocks: a bar's length is drawn to 1/8 of a column.
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';

/**
 * Draws histogram buckets as horizontal bars, one line per bucket (a pure function: no
 * terminal access). Each line reads `lower - upper unit  count  share% |bar`; the fullest
 * bucket's bar fills the width, any non-empty bucket shows at least a sliver, an empty one none.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` when `width` leaves no room for a bar.
 */
export function renderHistogram(buckets: readonly HistogramBucket[], options: RenderHistogramOptions = {}): string[] {
  const width = options.width ?? 80;
  const unit = options.unit ?? 'us';
  if (buckets.length === 0) return [];

  const lowers = buckets.map((b) => formatBound(b.lower));
  const uppers = buckets.map((b) => formatBound(b.upper));
  const counts = buckets.map((b) => String(b.count));
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const shares = buckets.map((b) => `${(total === 0 ? 0 : (100 * b.count) / total).toFixed(1)}%`);
  const lowerWidth = maxLength(lowers);
  const upperWidth = maxLength(uppers);
  const countWidth = maxLength(counts);
  const shareWidth = maxLength(shares);
  const labels = buckets.map(
    (_, i) =>
      `${lowers[i]!.padStart(lowerWidth)} - ${uppers[i]!.padStart(upperWidth)} ${unit}  ` +
      `${counts[i]!.padStart(countWidth)}  ${shares[i]!.padStart(shareWidth)} |`,
  );
  const labelWidth = labels[0]!.length;
  const barWidth = width - labelWidth;
  if (!Number.isInteger(width) || barWidth < 1) {
    throw invalidArgument(
      `histogram width ${width} is too narrow: the labels alone take ${labelWidth} columns`,
      `use a width of at least ${labelWidth + 10} columns (a wider terminal, or pipe to a file)`,
    );
  }
  const maxCount = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  return buckets.map((b, i) => labels[i] + bar(b.count, maxCount, barWidth, options.ascii === true));
}

function bar(count: number, maxCount: number, barWidth: number, ascii: boolean): string {
  if (count <= 0 || maxCount <= 0) return '';
  const fraction = count / maxCount;
  if (ascii) return '#'.repeat(Math.max(1, Math.round(fraction * barWidth)));
  const eighths = Math.max(1, Math.round(fraction * barWidth * 8));
  return FULL.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!;
}

/** Three significant figures at most, without exponent notation for everyday magnitudes. */
function formatBound(value: number): string {
  if (value === 0) return '0';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return String(Number(value.toPrecision(3)));
}

function maxLength(texts: readonly string[]): number {
  return texts.reduce((m, t) => Math.max(m, t.length), 0);
}
