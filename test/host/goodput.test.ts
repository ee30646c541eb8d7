import { describe, expect, it } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import {
  goodputFraction,
  goodputLimitGbps,
  packetOverheadBytes,
  shareOfLimit,
  writeMessageWireBytes,
} from '../../lib/report/goodput.js';

/** Rounds like the facts table prints: percent to 2 decimals, Gb/s to 1. */
const percent = (fraction: number): string => (100 * fraction).toFixed(2);
const oneDecimal = (gbps: number): string => gbps.toFixed(1);

describe('RoCEv2 goodput limit', () => {
  it('per-packet overhead is 82 bytes, +4 with VLAN, +20 over IPv6', () => {
    expect(packetOverheadBytes()).toBe(82);
    expect(packetOverheadBytes({ vlan: true })).toBe(86);
    expect(packetOverheadBytes({ ipv6: true })).toBe(102);
    expect(packetOverheadBytes({ vlan: true, ipv6: true })).toBe(106);
  });

  it('reproduces the facts-file table for large messages', () => {
    const table = [
      { mtu: 1024, share: '92.59', at100: '92.6', at200: '185.2' },
      { mtu: 2048, share: '96.15', at100: '96.2', at200: '192.3' },
      { mtu: 4096, share: '98.04', at100: '98.0', at200: '196.1' },
    ];
    for (const row of table) {
      expect(percent(goodputFraction(row.mtu)), `MTU ${row.mtu}`).toBe(row.share);
      expect(oneDecimal(goodputLimitGbps(100, row.mtu)), `MTU ${row.mtu} at 100G`).toBe(row.at100);
      expect(oneDecimal(goodputLimitGbps(200, row.mtu)), `MTU ${row.mtu} at 200G`).toBe(row.at200);
    }
    expect(goodputFraction(4096)).toBe(4096 / 4178);
  });

  it('VLAN and IPv6 lower the limit', () => {
    expect(goodputFraction(4096, { vlan: true })).toBe(4096 / (4096 + 86));
    expect(goodputFraction(4096, { ipv6: true })).toBe(4096 / (4096 + 102));
    expect(goodputFraction(4096, { vlan: true, ipv6: true })).toBeLessThan(goodputFraction(4096, { ipv6: true }));
  });

  it('a message of size S costs S + ceil(S / mtu) x 82 + RETH 16 bytes on the wire', () => {
    expect(writeMessageWireBytes(65536, 4096)).toBe(65536 + 16 * 82 + 16);
    expect(writeMessageWireBytes(4096, 4096)).toBe(4096 + 82 + 16);
    expect(writeMessageWireBytes(4097, 4096)).toBe(4097 + 3 + 2 * 82 + 16); // +3: pad to 4 bytes
    expect(writeMessageWireBytes(64, 1024)).toBe(64 + 82 + 16);
    expect(writeMessageWireBytes(2, 4096)).toBe(2 + 2 + 82 + 16); // BTH PadCnt pads 2 -> 4
    expect(writeMessageWireBytes(0, 4096)).toBe(82 + 16); // a zero-length WRITE is still a packet
    expect(writeMessageWireBytes(65536, 4096, { vlan: true })).toBe(65536 + 16 * 86 + 16);
  });

  it('gives the exact, lower limit for a given message size', () => {
    expect(goodputFraction(4096, { messageSize: 65536 })).toBe(65536 / (65536 + 16 * 82 + 16));
    expect(goodputFraction(4096, { messageSize: 64 })).toBe(64 / (64 + 82 + 16));
    // Small messages pay the headers on every packet: 64 B WRITEs reach under 40 % of the line.
    expect(goodputLimitGbps(200, 4096, { messageSize: 64 })).toBeCloseTo(200 * (64 / 162), 12);
    // Approaches the large-message limit from below as the size grows.
    let previous = 0;
    for (const size of [4096, 65536, 1 << 20, 8 << 20]) {
      const f = goodputFraction(4096, { messageSize: size });
      expect(f).toBeGreaterThan(previous);
      expect(f).toBeLessThan(goodputFraction(4096));
      previous = f;
    }
    expect(goodputFraction(4096, { messageSize: 8 << 20 })).toBeCloseTo(goodputFraction(4096), 5);
  });

  it('shareOfLimit is measured / limit as a fraction', () => {
    expect(shareOfLimit(196.1, 200, 4096)).toBeCloseTo(196.1 / (200 * (4096 / 4178)), 12);
    expect(shareOfLimit(190, 200, 4096)).toBeCloseTo(0.969, 3);
    expect(shareOfLimit(0, 200, 1024)).toBe(0);
    expect(shareOfLimit(goodputLimitGbps(100, 2048), 100, 2048)).toBeCloseTo(1, 12);
  });

  it('rejects an MTU that verbs cannot negotiate, naming the valid ones', () => {
    for (const mtu of [9000, 1500, 0, 4095]) {
      let caught: unknown;
      try {
        goodputFraction(mtu);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RdmaError);
      expect((caught as RdmaError).code).toBe('ERR_RDMA_INVALID_ARGUMENT');
      expect((caught as RdmaError).message).toContain(`path MTU ${mtu} is invalid: it must be one of 256, 512, 1024, 2048, 4096`);
      expect((caught as RdmaError).hint).toMatch(/9000 gives a path MTU of 4096/);
    }
  });

  it('rejects a bad rate, measurement or message size', () => {
    expect(() => goodputLimitGbps(0, 4096)).toThrow(/link rate 0 Gb\/s is invalid/);
    expect(() => shareOfLimit(-1, 200, 4096)).toThrow(/measured bandwidth -1 Gb\/s/);
    expect(() => goodputFraction(4096, { messageSize: 1.5 })).toThrow(/message size 1\.5/);
    expect(() => goodputFraction(4096, { messageSize: -1 })).toThrow(RdmaError);
  });
});
