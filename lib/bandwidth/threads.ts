// --threads: one rail's QPs dealt among several engine threads, each with a CQ of its own, and
// their results joined back into one rail's (per QP, in QP order), so that nothing downstream
// (tables, JSON, counters, totals) knows how many threads ran.
import type { CompletionQueue, WriteBandwidthResult, WriteBandwidthSample, WriteTarget } from '@spark/rdma/binding';
import { RdmaError } from '../errors.js';
import type { RailSide } from '../verbs/rail-side.js';

/** One engine's share of a rail: its CQ and its QPs' targets (QP i goes to thread i mod threads). */
export interface ThreadShare {
  cq: CompletionQueue;
  targets: WriteTarget[];
  /** Indexes of these targets among the rail's QPs. */
  qpIndexes: number[];
}

export function shareOut(endpoint: RailSide, targets: WriteTarget[], threads: number): ThreadShare[] {
  if (threads === 1) return [{ cq: endpoint.cq, targets, qpIndexes: targets.map((_, i) => i) }];
  const cqs = endpoint.cqs ?? [endpoint.cq];
  if (cqs.length < threads) {
    throw new RdmaError(`${threads} engine threads need ${threads} completion queues; this rail's side has ${cqs.length}`, {
      code: 'ERR_RDMA_INTERNAL',
      hint: 'open the endpoint with cqs = threads',
    });
  }
  return Array.from({ length: threads }, (_, t) => {
    const qpIndexes = targets.map((_, i) => i).filter((i) => i % threads === t);
    return { cq: cqs[t]!, targets: qpIndexes.map((i) => targets[i]!), qpIndexes };
  });
}

/** The rail's result from its threads': sums, earliest first post, latest completion, QPs in order. */
export function joinResults(shares: ThreadShare[], results: WriteBandwidthResult[]): WriteBandwidthResult {
  if (results.length === 1) return results[0]!;
  const qps: WriteBandwidthResult['qps'] = [];
  shares.forEach((share, t) => share.qpIndexes.forEach((qpIndex, k) => (qps[qpIndex] = results[t]!.qps[k]!)));
  const started = results.filter((r) => r.firstPostNs > 0);
  const sum = (pick: (r: WriteBandwidthResult) => number) => results.reduce((a, r) => a + pick(r), 0);
  return {
    qps,
    bytes: sum((r) => r.bytes),
    messages: sum((r) => r.messages),
    firstPostNs: started.length > 0 ? Math.min(...started.map((r) => r.firstPostNs)) : 0,
    lastCompletionNs: Math.max(...results.map((r) => r.lastCompletionNs)),
    warmupMessages: sum((r) => r.warmupMessages),
    stoppedEarly: results.some((r) => r.stoppedEarly),
    engine: {
      postCalls: sum((r) => r.engine.postCalls),
      pollCalls: sum((r) => r.engine.pollCalls),
      emptyPolls: sum((r) => r.engine.emptyPolls),
      inlineUsed: results.every((r) => r.engine.inlineUsed),
      eventWakeups: sum((r) => r.engine.eventWakeups),
      eventSleeps: sum((r) => r.engine.eventSleeps),
      // The threads of one rail run at the same nice.
      nice: Math.max(...results.map((r) => r.engine.nice)),
    },
    // Threads ran side by side: their CPU adds up over the longest span (report/cpu.ts railCpu).
    cpu: { threadNs: sum((r) => r.cpu.threadNs), wallNs: Math.max(...results.map((r) => r.cpu.wallNs)) },
  };
}

/**
 * One sample per interval for the rail: each thread's k-th sample is held until every thread
 * has sent its k-th, then they go out as one (bytes summed). flush() sends what is left at the
 * end (a thread whose last, short interval had nothing to report sends one sample fewer).
 */
export class SampleJoiner {
  private readonly pending: WriteBandwidthSample[][];

  constructor(
    threads: number,
    private readonly emit: (s: WriteBandwidthSample) => void,
  ) {
    this.pending = Array.from({ length: threads }, () => []);
  }

  add(thread: number, s: WriteBandwidthSample): void {
    if (this.pending.length === 1) return this.emit(s);
    this.pending[thread]!.push(s);
    while (this.pending.every((q) => q.length > 0)) this.emit(combine(this.pending.map((q) => q.shift()!)));
  }

  flush(): void {
    while (this.pending.some((q) => q.length > 0)) {
      this.emit(combine(this.pending.map((q) => q.shift()).filter((s): s is WriteBandwidthSample => s !== undefined)));
    }
  }
}

function combine(samples: WriteBandwidthSample[]): WriteBandwidthSample {
  return {
    tNs: Math.max(...samples.map((s) => s.tNs)),
    intervalNs: Math.max(...samples.map((s) => s.intervalNs)),
    bytes: samples.reduce((a, s) => a + s.bytes, 0),
    messages: samples.reduce((a, s) => a + s.messages, 0),
  };
}
