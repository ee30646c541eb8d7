import { describe, expect, it } from 'vitest';
import { invalidArgument } from '../fixtures/refusal.js';
import {
  BYTES_PER_GIB,
  BYTES_PER_MIB,
  convertRate,
  formatByteSize,
  formatRate,
  gbps,
  gibPerSecond,
  mibPerSecond,
  mmsgPerSecond,
  parseByteSize,
  parseByteSizeList,
  sizesAll,
} from '../../lib/report/units.js';

const invalid = invalidArgument;

describe('rates', () => {
  it('Gb/s is 10^9 bit/s: 25 GB in one second is 200 Gb/s', () => {
    expect(gbps(25e9, 1e9)).toBe(200);
    expect(gbps(65536 * 1000, 1e6)).toBeCloseTo(524.288, 9);
  });

  it('GiB/s is 2^30 B/s and MiB/s is 2^20 B/s (perftest default)', () => {
    expect(BYTES_PER_GIB).toBe(1073741824);
    expect(BYTES_PER_MIB).toBe(1048576);
    expect(gibPerSecond(2 ** 30, 1e9)).toBe(1);
    expect(mibPerSecond(3 * 2 ** 20, 5e8)).toBe(6);
  });

  it('Mmsg/s is 10^6 messages per second', () => {
    expect(mmsgPerSecond(2_000_000, 1e9)).toBe(2);
    expect(mmsgPerSecond(500, 1e3)).toBe(500);
  });

  it('converts between byte-rate units', () => {
    expect(convertRate(200, 'Gb/s', 'GiB/s')).toBeCloseTo(25e9 / 2 ** 30, 9); // 23.28
    expect(convertRate(1, 'GiB/s', 'MiB/s')).toBe(1024);
    expect(convertRate(convertRate(196.1, 'Gb/s', 'MiB/s'), 'MiB/s', 'Gb/s')).toBeCloseTo(196.1, 9);
  });

  it('formats with the unit label', () => {
    expect(formatRate(185.185, 'Gb/s')).toBe('185.19 Gb/s');
    expect(formatRate(3.5, 'Mmsg/s', 1)).toBe('3.5 Mmsg/s');
  });

  it('refuses a zero, negative or non-finite duration', () => {
    expect(invalid(() => gbps(1, 0)).message).toMatch(/duration 0 ns/);
    expect(invalid(() => mibPerSecond(1, -5)).message).toMatch(/duration -5 ns/);
    expect(invalid(() => mmsgPerSecond(1, Number.NaN)).message).toMatch(/duration NaN ns/);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['65536', 65536],
    ['2', 2],
    ['64K', 65536],
    ['64k', 65536],
    ['64KiB', 65536],
    ['64Ki', 65536],
    ['64kib', 65536],
    ['8M', 8 * 2 ** 20],
    ['8MiB', 8 * 2 ** 20],
    ['1G', 2 ** 30],
    ['1GiB', 2 ** 30],
    ['1.5K', 1536],
    ['64B', 64],
    [' 4K ', 4096],
  ])('%s is %i bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'abc', '64X', '-5', '1e3', '64 K B', 'K', '0x10', '1,5K'])('rejects garbage %j naming it and the accepted forms', (text) => {
    const err = invalid(() => parseByteSize(text, { what: '--size' }));
    expect(err.message).toContain(`--size "${text}"`);
    expect(err.message).toMatch(/K, KiB, M, MiB, G, GiB/);
    expect(err.hint).toMatch(/64K/);
  });

  it('refuses ambiguous decimal-looking suffixes and says what to write', () => {
    const err = invalid(() => parseByteSize('64KB'));
    expect(err.message).toMatch(/ambiguous/);
    expect(err.hint).toMatch(/64K or 64KiB/);
    expect(invalid(() => parseByteSize('8Mb')).hint).toMatch(/8M or 8MiB/);
  });

  it('refuses a fraction of a byte', () => {
    expect(invalid(() => parseByteSize('1.3K')).message).toMatch(/1331\.2 bytes.*whole number/);
    expect(invalid(() => parseByteSize('2.5')).message).toMatch(/whole number/);
  });

  it('enforces min and max, naming both', () => {
    expect(invalid(() => parseByteSize('0')).message).toMatch(/out of range.*from 1B \(1\)/);
    const err = invalid(() => parseByteSize('16M', { max: 8 * 2 ** 20, what: '--size' }));
    expect(err.message).toMatch(/--size "16M" \(16777216 bytes\) is out of range: .* to 8MiB \(8388608\)/);
    expect(parseByteSize('0', { min: 0 })).toBe(0);
  });

  it('parses comma-separated lists and rejects empty entries', () => {
    expect(parseByteSizeList('4K,64K, 1M')).toEqual([4096, 65536, 2 ** 20]);
    expect(invalid(() => parseByteSizeList('4K,,1M')).message).toMatch(/empty entry/);
    expect(invalid(() => parseByteSizeList('4K,nope')).message).toMatch(/"nope"/);
  });
});

describe('formatByteSize', () => {
  it.each([
    [0, '0B'],
    [2, '2B'],
    [1023, '1023B'],
    [1024, '1KiB'],
    [1536, '1.5KiB'],
    [65536, '64KiB'],
    [8 * 2 ** 20, '8MiB'],
    [3 * 2 ** 30, '3GiB'],
    // Never rounded up into the next unit's territory: 1 B short of 1 MiB is not "1024KiB".
    [2 ** 20 - 1, '1023.99KiB'],
    [2 ** 30 - 1, '1023.99MiB'],
    [1024 * 1.999, '1.99KiB'],
  ])('%i bytes is %s', (bytes, text) => {
    expect(formatByteSize(bytes)).toBe(text);
  });

  it('round-trips every size of the sweep through parseByteSize', () => {
    for (const size of sizesAll()) expect(parseByteSize(formatByteSize(size))).toBe(size);
  });

  it('rejects negative and non-finite counts', () => {
    invalid(() => formatByteSize(-1));
    invalid(() => formatByteSize(Number.POSITIVE_INFINITY));
  });
});

describe('sizesAll', () => {
  it('is every power of two from 2 B to 8 MiB, like perftest -a', () => {
    const sizes = sizesAll();
    expect(sizes).toHaveLength(23);
    expect(sizes[0]).toBe(2);
    expect(sizes.at(-1)).toBe(8 * 2 ** 20);
    sizes.forEach((s, i) => expect(s).toBe(2 ** (i + 1)));
  });

  it('returns a fresh array each time', () => {
    const a = sizesAll();
    a.push(1);
    expect(sizesAll()).toHaveLength(23);
  });
});
