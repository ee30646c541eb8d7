// The wire benchmark's pure parts (issue 14): reading node0's /proc/net/tcp for a listening
// perftest server, the wire cases' summary (both rails added up, latency per rail), their
// goals, and the spread of pair ratios the report shows.
import { describe, expect, it } from 'vitest';
import { listensIn } from '../../bench/guest/processes.js';
import { benchCases, caseById, WIRE_CASE_IDS, type RunRecord } from '../../bench/lib/cases.js';
import { renderReport } from '../../bench/lib/report-md.js';
import { ratioRange } from '../../bench/lib/stats.js';
import { summarize } from '../../bench/lib/summary.js';
import { GROUPS, WIRE_GROUP } from '../../bench/side-by-side.js';

// `cat /proc/net/tcp /proc/net/tcp6` on a guest: 18607 = 0x48AF listens (0A) on IPv4, 18608 =
// 0x48B0 only has an established connection (01), 18609 = 0x48B1 listens on IPv6.
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:48AF 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21071 1 0000000000000000 100 0 0 10 0
   1: 0100000A:48B0 0200000A:D2F4 01 00000000:00000000 00:00000000 00000000     0        0 21090 1 0000000000000000 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:48B1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21102 1 0000000000000000 100 0 0 10 0
`;

const rec = (c: string, pair: number, side: 'A' | 'B', figures: Partial<RunRecord>): RunRecord => ({
  case: c,
  pair,
  side,
  tool: side === 'A' ? 'perftest' : 'spark-rdma --rails 2',
  ok: true,
  wallSeconds: 5,
  ...figures,
});

describe('wire bench', () => {
  it('a port is listening only in state 0A, in either table', () => {
    expect(listensIn(PROC_NET_TCP, 18607)).toBe(true);
    expect(listensIn(PROC_NET_TCP, 18608)).toBe(false);
    expect(listensIn(PROC_NET_TCP, 18609)).toBe(true);
    expect(listensIn(PROC_NET_TCP, 18610)).toBe(false);
    expect(listensIn('', 18607)).toBe(false);
  });

  it('the spread is the smallest and largest ratio that exists', () => {
    expect(ratioRange([1.02, null, 0.97, 1.1])).toEqual({ min: 0.97, max: 1.1 });
    expect(ratioRange([null])).toBeNull();
  });

  const records: RunRecord[] = [
    // perftest's two processes' averages and spark-rdma's per-rail rates are added up.
    rec('w-bw', 1, 'A', { gbps: 0.3, railsGbps: [0.15, 0.15] }),
    rec('w-bw', 1, 'B', { gbps: 0.29, railsGbps: [0.16, 0.15] }),
    rec('w-bw', 2, 'A', { gbps: 0.32, railsGbps: [0.16, 0.16] }),
    rec('w-bw', 2, 'B', { gbps: 0.3, railsGbps: [0.15, 0.16] }),
    rec('w-bw', 3, 'A', { gbps: 0.3, railsGbps: [0.15, 0.15] }),
    rec('w-bw', 3, 'B', { gbps: 0.33, railsGbps: [0.17, 0.16] }),
    rec('w-lat0', 1, 'A', { p50Us: 300, p99Us: 900, minUs: 250 }),
    rec('w-lat0', 1, 'B', { p50Us: 309, p99Us: 950, minUs: 251 }),
    rec('w-lat1', 1, 'A', { p50Us: 300, p99Us: 900, minUs: 250 }),
    rec('w-lat1', 1, 'B', { p50Us: 330, p99Us: 950, minUs: 260 }),
  ];
  const s = summarize(benchCases(), records);

  it('bandwidth: per-rail rates added up, median of pair ratios, spread from the pairs', () => {
    const bw = s.cases.find((c) => c.id === 'w-bw')!.metrics.find((m) => m.metric === 'Gb/s')!;
    expect(bw.pairs.map((p) => p.ratio)).toEqual([0.31 / 0.3, 0.31 / 0.32, 0.33 / 0.3].map((x) => expect.closeTo(x, 12)));
    expect(bw.medianRatio).toBeCloseTo(0.31 / 0.3, 12);
    expect(bw.ratioRange!.min).toBeCloseTo(0.31 / 0.32, 12);
    expect(bw.ratioRange!.max).toBeCloseTo(1.1, 12);
  });

  it('latency goals per rail: p50 within 1.05x on rail 0 met, on rail 1 not', () => {
    const goal = (name: string) => s.goals.find((g) => g.goal.startsWith(name))!;
    expect(goal('(w-bw)')).toMatchObject({ met: true, direction: 'at-least', target: 1 });
    expect(goal('(w-lat0)').value).toBeCloseTo(1.03, 12);
    expect(goal('(w-lat0)').met).toBe(true);
    expect(goal('(w-lat1)').value).toBeCloseTo(1.1, 12);
    expect(goal('(w-lat1)').met).toBe(false);
  });

  it('the report names the wire and shows each comparison\'s spread', () => {
    const md = renderReport({ date: '2026-12-02', conditions: {}, summary: s, records, micro: null, notes: [], chartFile: null, where: { title: 'across the wire', setting: 'across two guests' } });
    expect(md).toContain('# across the wire (2026-12-02)');
    expect(md).toContain('back to back (perftest first) across two guests, with');
    expect(md).toMatch(/\| \(w-lat1\) wire: write latency 2 B, rail 1 \(rxe1\) \| p50 us \| perftest \| spark-rdma --rails 2 \| 300\.00 \/ 330\.00 = 1\.100 \| 300\.00 \| 330\.00 \| 1\.100 \| 1\.100 – 1\.100 \|/);
    expect(md).toContain('| 0.969 – 1.100 |');
  });

  it('the wire group runs the wire cases, at least 5 pairs each, and no one-guest group does', () => {
    expect(WIRE_GROUP).toMatchObject({ cases: ['w-bw', 'w-lat0', 'w-lat1'], nodes: 2, runner: 'dist/bench/guest/wire.js' });
    expect(WIRE_CASE_IDS.map((id) => caseById(id).minPairs)).toEqual([5, 5, 5]);
    for (const g of GROUPS) expect(g.cases.filter((id) => WIRE_CASE_IDS.includes(id))).toEqual([]);
  });
});
