// bw --threads: QPs dealt round-robin to threads with CQs of their own, and the threads'
// results joined back into one rail's, QPs in their order (issue 17, point 1).
import { describe, expect, test } from 'vitest';
import type { CompletionQueue, WriteBandwidthResult, WriteTarget } from '../../binding.js';
import { resolveBandwidthParams } from '../../lib/bandwidth/options.js';
import { joinResults, SampleJoiner, shareOut } from '../../lib/bandwidth/threads.js';
import type { RailSide } from '../../lib/verbs/rail-side.js';

const cqs = [{ name: 'cq0' }, { name: 'cq1' }] as unknown as CompletionQueue[];
const side = { cq: cqs[0]!, cqs } as unknown as RailSide;
const targets = [0, 1, 2, 3, 4].map((i) => ({ rkey: i }) as unknown as WriteTarget);

function raw(qpns: number[], first: number, last: number, threadNs: number, wallNs: number): WriteBandwidthResult {
  return {
    qps: qpns.map((qpn) => ({ qpn, bytes: 100, messages: 1, firstPostNs: first, lastCompletionNs: last })),
    bytes: 100 * qpns.length,
    messages: qpns.length,
    firstPostNs: first,
    lastCompletionNs: last,
    warmupMessages: 2,
    stoppedEarly: false,
    engine: { postCalls: 10, pollCalls: 20, emptyPolls: 5, inlineUsed: false, eventWakeups: 0, eventSleeps: 0, nice: 5 },
    cpu: { threadNs, wallNs },
  };
}

describe('bw --threads', () => {
  test('QP i goes to thread i mod T, each thread on its own CQ', () => {
    const shares = shareOut(side, targets, 2);
    expect(shares.map((s) => s.qpIndexes)).toEqual([[0, 2, 4], [1, 3]]);
    expect(shares.map((s) => s.cq)).toEqual(cqs);
    expect(shares[1]!.targets.map((t) => t.rkey)).toEqual([1, 3]);
  });

  test('a side with fewer CQs than threads is refused, not shared silently', () => {
    expect(() => shareOut({ cq: cqs[0]! } as unknown as RailSide, targets, 2)).toThrow(/2 engine threads need 2 completion queues/);
  });

  test('results join: sums, earliest first post, latest completion, QPs back in order, CPU added up', () => {
    const shares = shareOut(side, targets, 2);
    const joined = joinResults(shares, [raw([10, 12, 14], 1000, 5000, 3e9, 4e9), raw([11, 13], 900, 5200, 2e9, 4.1e9)]);
    expect(joined.qps.map((q) => q.qpn)).toEqual([10, 11, 12, 13, 14]);
    expect(joined).toMatchObject({ bytes: 500, messages: 5, firstPostNs: 900, lastCompletionNs: 5200, warmupMessages: 4 });
    expect(joined.engine).toMatchObject({ postCalls: 20, pollCalls: 40, emptyPolls: 10, nice: 5 });
    expect(joined.cpu).toEqual({ threadNs: 5e9, wallNs: 4.1e9 });
  });

  test('samples: one per interval for the rail, once every thread has sent its own', () => {
    const out: { bytes: number; tNs: number }[] = [];
    const j = new SampleJoiner(2, (s) => out.push({ bytes: s.bytes, tNs: s.tNs }));
    j.add(0, { tNs: 1e9, intervalNs: 1e9, bytes: 10, messages: 1 });
    expect(out).toEqual([]);
    j.add(1, { tNs: 1.01e9, intervalNs: 1e9, bytes: 20, messages: 2 });
    j.add(0, { tNs: 1.5e9, intervalNs: 0.5e9, bytes: 5, messages: 1 });
    j.flush();
    expect(out).toEqual([
      { bytes: 30, tNs: 1.01e9 },
      { bytes: 5, tNs: 1.5e9 },
    ]);
  });

  test('options: threads at most qps, and not with cm', () => {
    expect(resolveBandwidthParams({ qps: 4, threads: 2 }).threads).toBe(2);
    expect(resolveBandwidthParams({}).threads).toBe(1);
    expect(() => resolveBandwidthParams({ qps: 1, threads: 2 })).toThrow(/2 engine threads per rail for 1 QP/);
    expect(() => resolveBandwidthParams({ qps: 2, threads: 2, cm: true })).toThrow(/--threads 2 needs the out-of-band exchange/);
  });
});
