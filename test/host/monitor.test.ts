// watchRails over fixture sysfs trees whose counter files the test rewrites between ticks.
// Calling next() takes the baseline reading synchronously (the generator runs up to its first
// timer), so counters written right after next() land in that interval, deterministically.
import { describe, expect, test } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { COUNTER_MODULUS } from '../../lib/counters/step.js';
import { watchRails } from '../../lib/monitor/watch.js';
import type { RailsSample } from '../../lib/monitor/types.js';
import { dgxSparkNode, noRdmaMachine, rxePair, setCounter, setPortState } from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

const { tree } = tempTrees();

function invalid(fn: () => unknown, code = 'ERR_RDMA_INVALID_ARGUMENT'): RdmaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RdmaError);
    expect((err as RdmaError).code).toBe(code);
    return err as RdmaError;
  }
  throw new Error('expected an RdmaError');
}

async function sample(p: Promise<IteratorResult<RailsSample>>): Promise<RailsSample> {
  const r = await p;
  if (r.done) throw new Error('the watch ended early');
  return r.value;
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

const SPARK_RAIL0 = 'rocep1s0f1';
const SPARK_RAIL1 = 'roceP2p1s0f1';

describe('watchRails on a DGX Spark fixture (mlx5 counters)', () => {
  test('bytes/s each way from port_*_data x 4 over the measured interval, packets/s, both rails', async () => {
    const root = tree(dgxSparkNode());
    const watch = watchRails({ sysfsRoot: root, intervalMs: 50 });
    expect(watch.rails.map((r) => [r.index, r.device, r.netdev])).toEqual([
      [0, SPARK_RAIL0, 'enp1s0f1np1'],
      [1, SPARK_RAIL1, 'enP2p1s0f1np1'],
    ]);
    const pending = watch.next();
    setCounter(root, SPARK_RAIL0, 1, 'port_xmit_data', 250_000_000); // 1 GB
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_data', 125_000_000); // 0.5 GB
    setCounter(root, SPARK_RAIL0, 1, 'port_xmit_packets', 300_000);
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_packets', 150_000);
    setCounter(root, SPARK_RAIL1, 1, 'port_xmit_data', 25_000);
    const s = await sample(pending);
    expect(s.seq).toBe(1);
    expect(Math.abs(s.time - Date.now())).toBeLessThan(5_000);
    const [r0, r1] = s.rails;
    expect(r0).toMatchObject({ rail: 0, device: SPARK_RAIL0, port: 1, netdev: 'enp1s0f1np1', state: 'ACTIVE', packetSource: 'counters' });
    expect(r0!.seconds).toBeGreaterThanOrEqual(0.045);
    expect(r0!.seconds).toBeLessThan(5);
    expect(r0!.txBytes).toBe(1e9);
    expect(r0!.rxBytes).toBe(5e8);
    expect(r0!.txPackets).toBe(300_000);
    expect(r0!.rxPackets).toBe(150_000);
    // rates divide by the measured interval, not the nominal 50 ms
    expect(r0!.txBytesPerSecond).toBeCloseTo(1e9 / r0!.seconds, 3);
    expect(r0!.rxBytesPerSecond).toBeCloseTo(5e8 / r0!.seconds, 3);
    expect(r0!.txGbps).toBeCloseTo((8 * 1e9) / r0!.seconds / 1e9, 9);
    expect(r0!.rxGbps).toBeCloseTo((8 * 5e8) / r0!.seconds / 1e9, 9);
    expect(r0!.txPacketsPerSecond).toBeCloseTo(300_000 / r0!.seconds, 3);
    expect(r0!.moved).toEqual([]);
    expect(r0!.reset).toBe(false);
    expect(r1!.txBytes).toBe(100_000);
    expect(r1!.rxBytes).toBe(0);
    expect(r1!.rxGbps).toBe(0);

    // the next interval counts from the previous reading, not from the start
    const next = watch.next();
    setCounter(root, SPARK_RAIL0, 1, 'port_xmit_data', 250_000_100);
    const s2 = await sample(next);
    expect(s2.seq).toBe(2);
    expect(s2.rails[0]!.txBytes).toBe(400);
    expect(s2.rails[0]!.rxBytes).toBe(0);
    await watch.return();
  });

  test('every hw_counters and counters/ delta is reported; error and congestion counters that moved are listed, errors first', async () => {
    const root = tree(dgxSparkNode());
    const watch = watchRails({ sysfsRoot: root, intervalMs: 50, devices: [SPARK_RAIL0] });
    const pending = watch.next();
    setCounter(root, SPARK_RAIL0, 1, 'np_cnp_sent', 9, 'hw_counters');
    setCounter(root, SPARK_RAIL0, 1, 'out_of_sequence', 4, 'hw_counters');
    setCounter(root, SPARK_RAIL0, 1, 'rx_write_requests', 1000, 'hw_counters');
    setCounter(root, SPARK_RAIL0, 1, 'link_downed', 1);
    const r = (await sample(pending)).rails[0]!;
    expect(r.hw['out_of_sequence']).toBe(4);
    expect(r.hw['np_cnp_sent']).toBe(9);
    expect(r.hw['rx_write_requests']).toBe(1000);
    expect(r.hw['roce_adp_retrans']).toBe(0);
    expect('lifespan' in r.hw).toBe(false);
    expect(r.portCounters['link_downed']).toBe(1);
    expect(r.portCounters['symbol_error']).toBe(0);
    expect('port_xmit_data' in r.portCounters).toBe(false); // reported as txBytes
    expect(r.moved).toEqual([
      { counter: 'counters/link_downed', delta: 1, kind: 'error' },
      { counter: 'hw_counters/out_of_sequence', delta: 4, kind: 'error' },
      { counter: 'hw_counters/np_cnp_sent', delta: 9, kind: 'congestion' },
    ]);
    await watch.return();
  });

  test('a 64-bit wrap gives the exact bytes; a counter that goes backwards otherwise gives null for one interval and a flag', async () => {
    const root = tree(dgxSparkNode());
    setCounter(root, SPARK_RAIL0, 1, 'port_xmit_data', COUNTER_MODULUS - 1000n);
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_data', 9_000_000_000);
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_packets', 4_000_000);
    const watch = watchRails({ sysfsRoot: root, intervalMs: 50, rails: 1 });

    const first = watch.next();
    setCounter(root, SPARK_RAIL0, 1, 'port_xmit_data', 1000); // wrapped: 2000 words
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_data', 10); // reset
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_packets', 3); // reset
    const r = (await sample(first)).rails[0]!;
    expect(r.txBytes).toBe(8000);
    expect(r.txGbps).toBeGreaterThan(0);
    expect(r.wrapped).toEqual(['counters/port_xmit_data']);
    expect(r.rxBytes).toBeNull();
    expect(r.rxBytesPerSecond).toBeNull();
    expect(r.rxGbps).toBeNull();
    expect(r.rxPackets).toBeNull();
    expect(r.rxPacketsPerSecond).toBeNull();
    expect(r.reset).toBe(true);
    expect(r.resetCounters.sort()).toEqual(['counters/port_rcv_data', 'counters/port_rcv_packets']);

    // the interval after a reset counts from the new value again
    const second = watch.next();
    setCounter(root, SPARK_RAIL0, 1, 'port_rcv_data', 35);
    const r2 = (await sample(second)).rails[0]!;
    expect(r2.rxBytes).toBe(100);
    expect(r2.reset).toBe(false);
    expect(r2.wrapped).toEqual([]);
    await watch.return();
  });

  test('a port that goes DOWN keeps being watched and shows its state', async () => {
    const root = tree(dgxSparkNode());
    const watch = watchRails({ sysfsRoot: root, intervalMs: 50 });
    const pending = watch.next();
    setPortState(root, SPARK_RAIL1, 1, 'DOWN');
    setCounter(root, SPARK_RAIL1, 1, 'link_downed', 1);
    const s = await sample(pending);
    expect(s.rails.map((r) => r.state)).toEqual(['ACTIVE', 'DOWN']);
    expect(s.rails[1]!.moved).toEqual([{ counter: 'counters/link_downed', delta: 1, kind: 'error' }]);
    await watch.return();
  });
});

describe('watchRails on rxe (hw_counters only)', () => {
  test('packets/s from sent_pkts/rcvd_pkts, no bytes, rxe error counters that moved', async () => {
    const root = tree(rxePair());
    const watch = watchRails({ sysfsRoot: root, intervalMs: 50 });
    const pending = watch.next();
    setCounter(root, 'rxe0', 1, 'sent_pkts', 5000, 'hw_counters');
    setCounter(root, 'rxe0', 1, 'rcvd_pkts', 2500, 'hw_counters');
    setCounter(root, 'rxe0', 1, 'out_of_seq_request', 2, 'hw_counters');
    setCounter(root, 'rxe1', 1, 'retry_exceeded_err', 1, 'hw_counters');
    const [r0, r1] = (await sample(pending)).rails;
    expect(r0).toMatchObject({ device: 'rxe0', netdev: 'rail0', packetSource: 'hw_counters', txBytes: null, rxBytes: null, txGbps: null, rxGbps: null });
    expect(r0!.txPackets).toBe(5000);
    expect(r0!.rxPackets).toBe(2500);
    expect(r0!.txPacketsPerSecond).toBeCloseTo(5000 / r0!.seconds, 3);
    expect(r0!.hw['sent_pkts']).toBe(5000);
    expect(r0!.portCounters).toEqual({});
    expect(r0!.moved).toEqual([{ counter: 'hw_counters/out_of_seq_request', delta: 2, kind: 'error' }]);
    expect(r1!.moved).toEqual([{ counter: 'hw_counters/retry_exceeded_err', delta: 1, kind: 'error' }]);
    expect(r1!.txPackets).toBe(0);
    await watch.return();
  });
});

describe('selection and options', () => {
  test('rails: N takes the first N; devices by name (and dev:port), in the order given, keep their numbers', () => {
    const root = tree(rxePair());
    const one = watchRails({ sysfsRoot: root, rails: 1 });
    expect(one.rails.map((r) => [r.index, r.device])).toEqual([[0, 'rxe0']]);
    const both = watchRails({ sysfsRoot: root, devices: ['rxe1:1', 'rxe0'] });
    expect(both.rails.map((r) => [r.index, r.device])).toEqual([[1, 'rxe1'], [0, 'rxe0']]);
    const env = watchRails({ env: { SPARK_RDMA_SYSFS_ROOT: root } });
    expect(env.rails.map((r) => r.device)).toEqual(['rxe0', 'rxe1']);
  });

  test('bad selections and intervals name the value, the limit and the fix', () => {
    const root = tree(rxePair());
    const tooMany = invalid(() => watchRails({ sysfsRoot: root, rails: 3 }));
    expect(tooMany.message).toBe('asked for 3 rails, this machine has 2 (0=rxe0:1, 1=rxe1:1)');
    expect(tooMany.hint).toMatch(/--rails 2 or fewer/);
    // The old shape, a list of indexes, is refused with the new spelling.
    const old = invalid(() => watchRails({ sysfsRoot: root, rails: [1] as never }));
    expect(old.message).toBe('rails takes a number of rails now (the first N, as in runBandwidth), not a list of indexes [1]');
    expect(old.hint).toBe("to watch the first N rails pass rails: N; to pick rails name them: devices: ['rxe1']");
    expect(invalid(() => watchRails({ sysfsRoot: root, devices: ['mlx5_0'] })).message).toMatch(/^device mlx5_0 is not a rail here \(rails: 0=rxe0:1/);
    expect(invalid(() => watchRails({ sysfsRoot: root, devices: ['rxe0:2'] })).message).toMatch(/^device rxe0:2 is not a rail/);
    expect(invalid(() => watchRails({ sysfsRoot: root, rails: 1, devices: ['rxe0'] })).message).toMatch(/both rails and devices/);
    expect(invalid(() => watchRails({ sysfsRoot: root, rails: 0 })).message).toMatch(/rails 0 must be a whole number of 1 or more/);
    const tooFast = invalid(() => watchRails({ sysfsRoot: root, intervalMs: 5 }));
    expect(tooFast.message).toBe('interval 5 ms is out of range: it must be between 10 ms and 3600000 ms (one hour)');
    expect(tooFast.hint).toMatch(/intervalMs: 1000/);
    invalid(() => watchRails({ sysfsRoot: root, intervalMs: Number.NaN }));
  });

  test('a machine without RDMA has no rails to watch', () => {
    const root = tree(noRdmaMachine());
    const err = invalid(() => watchRails({ sysfsRoot: root }), 'ERR_RDMA_NO_RAILS');
    expect(err.hint).toMatch(/ACTIVE Ethernet RDMA port/);
  });
});

describe('stopping', () => {
  test('break out of for await: no timer left behind', async () => {
    const root = tree(rxePair());
    const before = timeouts();
    const seen: number[] = [];
    for await (const s of watchRails({ sysfsRoot: root, intervalMs: 20 })) {
      seen.push(s.seq);
      if (s.seq === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  test('return() while next() waits for a long tick ends both at once and clears the timer', async () => {
    const root = tree(rxePair());
    const before = timeouts();
    const watch = watchRails({ sysfsRoot: root, intervalMs: 3_600_000 });
    const pending = watch.next();
    expect(timeouts()).toBe(before + 1);
    const started = performance.now();
    const [ended, returned] = await Promise.all([pending, watch.return()]);
    expect(ended.done).toBe(true);
    expect(returned.done).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(timeouts()).toBeLessThanOrEqual(before);
    expect((await watch.next()).done).toBe(true);
  });

  test('aborting the signal ends the iteration quietly; an already aborted signal yields nothing', async () => {
    const root = tree(rxePair());
    const before = timeouts();
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const s of watchRails({ sysfsRoot: root, intervalMs: 3_600_000, signal: controller.signal })) seen.push(s.seq);
    })();
    setImmediate(() => controller.abort());
    await loop;
    expect(seen).toEqual([]);
    expect(timeouts()).toBeLessThanOrEqual(before);

    const aborted = AbortSignal.abort();
    expect((await watchRails({ sysfsRoot: root, signal: aborted }).next()).done).toBe(true);
  });
});
