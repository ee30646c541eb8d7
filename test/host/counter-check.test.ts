import { describe, expect, test } from 'vitest';
import { counterAgreement } from '../../lib/bandwidth/counter-check.js';
import type { PortCounterDelta } from '../../lib/counters/port-counters.js';

function delta(d: Partial<PortCounterDelta>): PortCounterDelta {
  return { txBytes: null, rxBytes: null, txPackets: null, rxPackets: null, hw: {}, seconds: 1, ...d };
}

describe('counterAgreement: the device count against the engine count', () => {
  const base = { messagesOnWire: 1000, size: 65536, mtu: 4096, mixed: false };

  test('byte counters: payload plus headers agrees; less than the payload or far more is a mismatch', () => {
    const payload = 1000 * 65536;
    const withHeaders = payload + 16_000 * 62 + 1000 * 16;
    expect(counterAgreement({ ...base, delta: delta({ txBytes: withHeaders }) }).status).toBe('ok');
    expect(counterAgreement({ ...base, delta: delta({ txBytes: payload }) }).status).toBe('ok');
    const short = counterAgreement({ ...base, delta: delta({ txBytes: payload * 0.9 }) });
    expect(short.status).toBe('mismatch');
    expect(short.detail).toMatch(/port_xmit_data x 4 = 58982400 B for 65536000 B of payload \(x0\.9000\)/);
    expect(counterAgreement({ ...base, delta: delta({ txBytes: payload * 1.5 }) }).status).toBe('mismatch');
  });

  test('packet counters (rxe): at least the data packets, at most one ACK per message plus 10 %', () => {
    expect(counterAgreement({ ...base, delta: delta({ txPackets: 16_000 }) }).status).toBe('ok');
    expect(counterAgreement({ ...base, delta: delta({ txPackets: 17_000 }) }).status).toBe('ok');
    expect(counterAgreement({ ...base, delta: delta({ txPackets: 15_999 }) }).status).toBe('mismatch');
    expect(counterAgreement({ ...base, delta: delta({ txPackets: 19_000 }) }).status).toBe('mismatch');
    expect(counterAgreement({ ...base, size: 2, delta: delta({ txPackets: 1000 }) }).detail).toMatch(/1000 data packets \(1 per message\)/);
  });

  test('unknown when the counters cannot say: bidirectional, nothing sent, no counters', () => {
    expect(counterAgreement({ ...base, mixed: true, delta: delta({ txPackets: 1 }) }).status).toBe('unknown');
    expect(counterAgreement({ ...base, messagesOnWire: 0, delta: delta({ txPackets: 0 }) }).status).toBe('unknown');
    expect(counterAgreement({ ...base, delta: delta({}) })).toEqual({ status: 'unknown', detail: 'this driver exposes no traffic counters' });
  });
});
