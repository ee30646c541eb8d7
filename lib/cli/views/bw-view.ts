import { JSON_SCHEMAS } from '../json-schema.js';
import { counterKind } from '../../counters/kinds.js';
import type { BandwidthResult, BandwidthSample, RailBandwidth, SizeResult } from '../../bandwidth/index.js';
import { printable } from '../../report/printable.js';
import { formatByteSize } from '../../report/units.js';
import { formatTable } from '../../report/table.js';
import { cpuSecondsPerGB, formatCpu } from '../../report/cpu.js';
import { pairingLine } from './pairing-line.js';

const f = (n: number, digits = 2) => n.toFixed(digits);
const pct = (share: number | null) => (share === null ? '-' : `${(share * 100).toFixed(1)}%`);

function perGB(r: RailBandwidth): string {
  const v = cpuSecondsPerGB(r.cpu, r.bytes);
  return v === null ? '-' : f(v, 3);
}

function railRow(r: RailBandwidth): string[] {
  return [
    String(r.rail),
    r.device,
    r.netdev,
    f(r.gbps, 3),
    f(r.gibps, 3),
    f(r.msgRate, 4),
    pct(r.shareOfLimit),
    r.limitGbps > 0 ? f(r.limitGbps, 1) : '-',
    String(r.qpCount),
    f(r.seconds, 2),
    formatCpu(r.cpu),
    perGB(r),
    r.peer ? f(r.peer.gbps, 3) : r.peerError ? 'failed' : '',
  ];
}

function sizeBlock(s: SizeResult, bidir: boolean): string {
  const headers = ['rail', 'device', 'netdev', 'Gb/s', 'GiB/s', 'Mmsg/s', 'of limit', 'limit Gb/s', 'QPs', 'seconds', 'CPU core (s)', 'CPU s/GB', bidir ? 'peer Gb/s' : ''];
  const rows = s.rails.map(railRow);
  if (s.rails.length > 1) {
    rows.push(['total', '', '', f(s.total.gbps, 3), f(s.total.gibps, 3), f(s.total.msgRate, 4), '', '', '', f(s.total.seconds, 2), '', '', '']);
  }
  return `message size ${formatByteSize(s.size)} (${s.size} B)\n${formatTable(headers, rows)}`;
}

/** The final table: per size, per rail and total. Gb/s = 10^9 bit/s, GiB/s = 2^30 B/s. */
export function renderBandwidth(result: BandwidthResult): string {
  const p = result.params;
  const mode = p.mode === 'loopback' ? 'loopback' : `to ${p.peer}`;
  const length = p.iterations !== undefined ? `${p.iterations} msgs/QP` : `${(p.durationMs ?? 0) / 1000} s`;
  const head =
    `RDMA WRITE bandwidth ${mode}${p.bidir ? ', bidirectional' : ''}${p.events ? ', event-driven completions' : ''}: ${p.rails.join(', ')}, MTU ${p.mtu.join('/')}, ` +
    `${p.qps} QP(s)/rail${p.threads > 1 ? ` on ${p.threads} threads` : ''}, tx depth ${p.txDepth}, post list ${p.postList}, signal every ${p.signalEvery}, ${length}`;
  const blocks = result.sizes.map((s) => sizeBlock(s, p.bidir));
  const notes = [
    'Gb/s = 10^9 bit/s over first post to last completion; "of limit" = share of the RoCEv2 goodput limit for the port rate, MTU and size',
    'CPU core = share of one core the rail\'s engine thread used over the timed phase (its own CPU clock), CPU s/GB = its CPU seconds per 10^9 bytes moved',
  ];
  if (result.stoppedEarly) notes.push('stopped early: the figures cover what ran');
  for (const s of result.sizes) {
    for (const r of s.rails) {
      // Retransmissions, sequence errors and the like: what a lossy link looks like from here.
      const errors = Object.entries(r.counters?.delta.hw ?? {}).filter(([name, delta]) => delta > 0 && counterKind(name) === 'error');
      if (errors.length > 0) {
        notes.push(`${r.device} at ${formatByteSize(s.size)}: the device counted ${errors.map(([name, delta]) => `${name} ${delta}`).join(', ')} during the run (retransmissions or sequence errors: a lossy or congested link)`);
      }
      if (r.peerError) notes.push(`the peer's engine failed on ${r.device} at ${formatByteSize(s.size)}: ${printable(r.peerError)}`);
      if (r.counters?.agreement.status === 'mismatch') {
        notes.push(`warning: ${r.device} at ${formatByteSize(s.size)}: the device's counters disagree with the engine: ${r.counters.agreement.detail}`);
      }
    }
  }
  const pairs = pairingLine(p.pairing);
  return [pairs ? `${head}\n${pairs}` : head, ...blocks, ...notes].join('\n\n');
}

/** JSON as documented: params, rails, total; `sizes` when more than one size ran. */
export function bandwidthJson(result: BandwidthResult): string {
  const body: Record<string, unknown> = {
    schema: JSON_SCHEMAS.bw,
    params: result.params,
    rails: result.rails,
    total: result.total,
    stoppedEarly: result.stoppedEarly,
  };
  if (result.sizes.length > 1) body['sizes'] = result.sizes;
  return JSON.stringify(body, null, 2);
}

/** One live line per sample batch: the latest Gb/s of each rail. */
export class LiveLine {
  private readonly latest = new Map<number, BandwidthSample>();
  update(sample: BandwidthSample): string {
    this.latest.set(sample.rail, sample);
    const parts = [...this.latest.values()]
      .sort((a, b) => a.rail - b.rail)
      .map((s) => `${s.device} ${s.gbps.toFixed(3)} Gb/s`);
    const total = [...this.latest.values()].reduce((a, s) => a + s.gbps, 0);
    return `${formatByteSize(sample.size)}  t=${sample.t.toFixed(1)}s  ${parts.join('  ')}${this.latest.size > 1 ? `  total ${total.toFixed(3)} Gb/s` : ''}`;
  }
}
