// Port counters: reading sysfs (mlx5 counters/ in 4-byte words, rxe hw_counters/), and how a
// counter moved between two readings: plain, wrapped at 2^64, or reset.
import { describe, expect, test } from 'vitest';
import { counterKind } from '../../lib/counters/kinds.js';
import { counterDelta, readPortCounters } from '../../lib/counters/port-counters.js';
import { COUNTER_MODULUS, WORD_BYTES_MODULUS, counterStep, wrapWindow } from '../../lib/counters/step.js';
import { dgxSparkNode, rxePair, setCounter } from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

const { tree } = tempTrees();

const MAX = COUNTER_MODULUS - 1n;

describe('counterStep', () => {
  test('a counter that grows moves by the difference, including 0', () => {
    expect(counterStep(10n, 25n)).toEqual({ kind: 'moved', delta: 15n });
    expect(counterStep(7n, 7n)).toEqual({ kind: 'moved', delta: 0n });
    expect(counterStep(0n, MAX)).toEqual({ kind: 'moved', delta: MAX });
  });

  test('from near 2^64 to small is a wrap, with the exact delta across the top', () => {
    expect(counterStep(MAX, 0n)).toEqual({ kind: 'wrapped', delta: 1n });
    expect(counterStep(COUNTER_MODULUS - 10n, 5n)).toEqual({ kind: 'wrapped', delta: 15n });
    const w = wrapWindow(COUNTER_MODULUS);
    expect(w).toBe(1n << 48n);
    expect(counterStep(COUNTER_MODULUS - w, 0n)).toEqual({ kind: 'wrapped', delta: w });
  });

  test('going backwards from anywhere else is a reset: no delta, never huge or negative', () => {
    expect(counterStep(1_000_000n, 5n)).toEqual({ kind: 'reset', delta: null });
    expect(counterStep(1n << 63n, 0n)).toEqual({ kind: 'reset', delta: null });
    // near the top but landing high: more than the window across the top
    expect(counterStep(MAX, wrapWindow(COUNTER_MODULUS))).toEqual({ kind: 'reset', delta: null });
    // a value beyond the counter's width cannot wrap
    expect(counterStep(COUNTER_MODULUS + 5n, 1n)).toEqual({ kind: 'reset', delta: null });
  });

  test('a missing reading on either side gives no delta', () => {
    expect(counterStep(null, 5n)).toEqual({ kind: 'missing', delta: null });
    expect(counterStep(5n, null)).toEqual({ kind: 'missing', delta: null });
    expect(counterStep(undefined, 5n)).toEqual({ kind: 'missing', delta: null });
  });

  test('byte values from 4-byte words wrap at 2^66: 4 x the word delta modulo 2^64', () => {
    const wordsBefore = COUNTER_MODULUS - 3n;
    const wordsAfter = 2n;
    expect(counterStep(wordsBefore * 4n, wordsAfter * 4n, WORD_BYTES_MODULUS)).toEqual({ kind: 'wrapped', delta: 5n * 4n });
    // with the plain 2^64 modulus the same byte values would look like a reset
    expect(counterStep(wordsBefore * 4n, wordsAfter * 4n).kind).toBe('reset');
  });
});

describe('readPortCounters', () => {
  test('mlx5: bytes are port_xmit_data/port_rcv_data x 4, packets from counters/, hw_counters raw, lifespan skipped', () => {
    const root = tree(dgxSparkNode());
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 1000);
    setCounter(root, 'rocep1s0f1', 1, 'port_rcv_data', (1n << 62n) + 1n);
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_packets', 77);
    setCounter(root, 'rocep1s0f1', 1, 'out_of_sequence', 3, 'hw_counters');
    const r = readPortCounters(root, 'rocep1s0f1', 1);
    expect(r.txBytes).toBe(4000n);
    expect(r.rxBytes).toBe(((1n << 62n) + 1n) * 4n);
    expect(r.txPackets).toBe(77n);
    expect(r.packetSource).toBe('counters');
    expect(r.counters['port_xmit_data']).toBe(1000n);
    expect(r.counters['symbol_error']).toBe(0n);
    expect(r.hw['out_of_sequence']).toBe(3n);
    expect('lifespan' in r.hw).toBe(false);
    expect(typeof r.atNs).toBe('bigint');
  });

  test('rxe: no bytes, packets from hw_counters sent_pkts/rcvd_pkts', () => {
    const root = tree(rxePair());
    setCounter(root, 'rxe0', 1, 'sent_pkts', 12, 'hw_counters');
    setCounter(root, 'rxe0', 1, 'rcvd_pkts', 34, 'hw_counters');
    const r = readPortCounters(root, 'rxe0', 1);
    expect(r.txBytes).toBeNull();
    expect(r.rxBytes).toBeNull();
    expect(r.txPackets).toBe(12n);
    expect(r.rxPackets).toBe(34n);
    expect(r.packetSource).toBe('hw_counters');
    expect(r.counters).toEqual({});
  });

  test('a device that is gone reads as empty, not as an exception', () => {
    const root = tree(rxePair());
    const r = readPortCounters(root, 'rxe9', 1);
    expect(r).toMatchObject({ txBytes: null, rxBytes: null, txPackets: null, rxPackets: null, packetSource: null, counters: {}, hw: {} });
  });
});

describe('counterDelta', () => {
  test('plain movement in bytes and packets; hw counters that moved only', () => {
    const root = tree(dgxSparkNode());
    const before = readPortCounters(root, 'rocep1s0f1', 1);
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 250);
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_packets', 10);
    setCounter(root, 'rocep1s0f1', 1, 'roce_adp_retrans', 2, 'hw_counters');
    const d = counterDelta(before, readPortCounters(root, 'rocep1s0f1', 1));
    expect(d.txBytes).toBe(1000);
    expect(d.rxBytes).toBe(0);
    expect(d.txPackets).toBe(10);
    expect(d.hw).toEqual({ roce_adp_retrans: 2 });
    expect(d.wrapped).toEqual([]);
    expect(d.reset).toEqual([]);
    expect(d.seconds).toBeGreaterThanOrEqual(0);
  });

  test('a wrapped data counter gives the exact bytes; a reset one gives null and is named', () => {
    const root = tree(dgxSparkNode());
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', COUNTER_MODULUS - 100n);
    setCounter(root, 'rocep1s0f1', 1, 'port_rcv_data', 5_000_000);
    setCounter(root, 'rocep1s0f1', 1, 'out_of_buffer', 40, 'hw_counters');
    const before = readPortCounters(root, 'rocep1s0f1', 1);
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 100);
    setCounter(root, 'rocep1s0f1', 1, 'port_rcv_data', 7);
    setCounter(root, 'rocep1s0f1', 1, 'out_of_buffer', 1, 'hw_counters');
    const d = counterDelta(before, readPortCounters(root, 'rocep1s0f1', 1));
    expect(d.txBytes).toBe(200 * 4);
    expect(d.rxBytes).toBeNull();
    expect(d.wrapped).toEqual(['counters/port_xmit_data']);
    expect(d.reset).toEqual(['counters/port_rcv_data', 'hw_counters/out_of_buffer']);
    expect('out_of_buffer' in d.hw).toBe(false);
  });

  test('rxe packet counters wrap at 2^64 like any other', () => {
    const root = tree(rxePair());
    setCounter(root, 'rxe0', 1, 'sent_pkts', MAX, 'hw_counters');
    const before = readPortCounters(root, 'rxe0', 1);
    setCounter(root, 'rxe0', 1, 'sent_pkts', 9, 'hw_counters');
    const d = counterDelta(before, readPortCounters(root, 'rxe0', 1));
    expect(d.txPackets).toBe(10);
    expect(d.hw['sent_pkts']).toBe(10);
    expect(d.wrapped).toEqual(['hw_counters/sent_pkts']);
  });
});

describe('counterKind', () => {
  test('traffic, congestion and error counters of mlx5 and rxe', () => {
    for (const name of ['port_xmit_data', 'sent_pkts', 'rcvd_pkts', 'rdma_sends', 'rx_write_requests', 'unicast_xmit_packets']) {
      expect(counterKind(name), name).toBe('traffic');
    }
    for (const name of ['np_cnp_sent', 'rp_cnp_handled', 'np_ecn_marked_roce_packets', 'port_xmit_wait']) {
      expect(counterKind(name), name).toBe('congestion');
    }
    for (const name of [
      'out_of_sequence', 'out_of_seq_request', 'roce_adp_retrans', 'retry_exceeded_err', 'link_downed', 'symbol_error',
      'port_rcv_errors', 'local_ack_timeout_err', 'duplicate_request', 'VL15_dropped', 'rnr_nak_retry_err',
    ]) {
      expect(counterKind(name), name).toBe('error');
    }
  });

  test('an unknown counter is an error unless it looks like a plain count of work', () => {
    expect(counterKind('some_new_thing')).toBe('error');
    expect(counterKind('tx_bytes')).toBe('traffic');
    expect(counterKind('rx_flush_requests')).toBe('error');
  });
});
