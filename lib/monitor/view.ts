// How `spark-rdma monitor` shows samples: a table redrawn in place on a terminal, one plain
// line per rail and interval otherwise (logs, pipes), JSON lines with --json. Pure functions.
import { formatTable } from '../report/table.js';
import type { Rail } from '../rails/types.js';
import type { CounterMove, RailSample, RailsSample } from './types.js';

const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export interface ViewOptions {
  /** ANSI colours (only on a terminal, and not when NO_COLOR is set). */
  color: boolean;
}

function paint(text: string, code: string, opts: ViewOptions): string {
  return opts.color ? `${code}${text}${RESET}` : text;
}

export function formatGbps(gbps: number | null): string {
  return gbps === null ? '-' : gbps.toFixed(2);
}

/** 950 -> "950", 12345 -> "12.3 k", 2812345 -> "2.81 M". */
export function formatCount(perSecond: number | null): string {
  if (perSecond === null) return '-';
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) {
    if (perSecond >= scale) {
      const v = perSecond / scale;
      return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${suffix}`;
    }
  }
  return perSecond.toFixed(0);
}

function movedText(moves: readonly CounterMove[], sample: RailSample, opts: ViewOptions): string {
  const parts = moves.map((m) => {
    const name = m.counter.slice(m.counter.indexOf('/') + 1);
    const text = `${m.kind === 'error' ? '!' : '~'}${name} +${m.delta}`;
    return paint(text, m.kind === 'error' ? RED : YELLOW, opts);
  });
  if (sample.reset) parts.push(paint(`reset: ${sample.resetCounters.join(' ')}`, YELLOW, opts));
  if (sample.wrapped.length > 0) parts.push(`wrapped: ${sample.wrapped.join(' ')}`);
  return parts.join('  ');
}

function stateText(state: string, opts: ViewOptions): string {
  return state === 'ACTIVE' ? state : paint(state, RED + BOLD, opts);
}

/** The table for one interval, for a terminal (redrawn in place). */
export function renderFrame(sample: RailsSample, intervalMs: number, opts: ViewOptions): string[] {
  const time = new Date(sample.time).toTimeString().slice(0, 8);
  const headers = ['rail', 'device', 'port', 'netdev', 'state', 'tx Gb/s', 'rx Gb/s', 'tx pkt/s', 'rx pkt/s', 'error/congestion counters that moved'];
  const rows = sample.rails.map((r) => [
    String(r.rail),
    r.device,
    String(r.port),
    r.netdev,
    // colour only in the last column or in cells as wide as their plain text (state is padded before colouring)
    r.state,
    formatGbps(r.txGbps),
    formatGbps(r.rxGbps),
    formatCount(r.txPacketsPerSecond),
    formatCount(r.rxPacketsPerSecond),
    movedText(r.moved, r, opts) || '-',
  ]);
  const table = formatTable(headers, rows).split('\n');
  const lines = [
    paint(`spark-rdma monitor  every ${intervalMs / 1000} s  sample ${sample.seq}  ${time}`, BOLD, opts),
    paint(table[0]!, BOLD, opts),
    ...table.slice(1).map((line, i) => {
      const state = sample.rails[i]!.state;
      return state === 'ACTIVE' ? line : line.replace(` ${state} `, ` ${stateText(state, opts)} `);
    }),
  ];
  const packetsOnly = sample.rails.filter((r) => r.txBytes === null && r.rxBytes === null && r.packetSource === 'hw_counters');
  if (packetsOnly.length > 0) {
    lines.push(`${packetsOnly.map((r) => r.device).join(', ')}: no byte counters (rxe counts packets only; bytes ~ packets x MTU)`);
  }
  lines.push('Ctrl-C to stop');
  return lines;
}

/** ANSI: move the cursor up over the previous frame and clear to the end of the screen. */
export function redrawPrefix(previousLines: number): string {
  return previousLines > 0 ? `\x1b[${previousLines}F\x1b[J` : '';
}

/** One line per rail for an interval, for logs and pipes (no cursor movement). */
export function renderPlainLines(sample: RailsSample, opts: ViewOptions): string[] {
  const time = new Date(sample.time).toISOString();
  return sample.rails.map((r) => {
    const moved = movedText(r.moved, r, opts);
    return (
      `${time} rail ${r.rail} ${r.device}:${r.port} ${r.netdev} ${stateText(r.state, opts)}` +
      ` tx ${formatGbps(r.txGbps)} Gb/s rx ${formatGbps(r.rxGbps)} Gb/s` +
      ` tx ${formatCount(r.txPacketsPerSecond)} pkt/s rx ${formatCount(r.rxPacketsPerSecond)} pkt/s` +
      (moved ? ` moved ${moved}` : '')
    );
  });
}

/** What the monitor says before the first sample arrives. */
export function renderWatching(rails: readonly Rail[], intervalMs: number): string {
  const list = rails.map((r) => `rail ${r.index} ${r.device}:${r.port} (${r.netdev})`).join(', ');
  return `watching ${list} every ${intervalMs / 1000} s; Ctrl-C to stop`;
}
