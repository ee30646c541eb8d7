import { invalidArgument } from '../errors.js';

// Units, spelled out once. Decimal for bits on the wire (what link rates are quoted in),
// binary for bytes in memory (what perftest's default MiB/s uses).

/** 1 Gb/s = 10^9 bit/s (link rates: "200G" means 200 x 10^9 bit/s). */
export const BITS_PER_SECOND_PER_GBPS = 1e9;
/** 1 GiB/s = 2^30 B/s. */
export const BYTES_PER_GIB = 2 ** 30;
/** 1 MiB/s = 2^20 B/s: perftest's default unit. */
export const BYTES_PER_MIB = 2 ** 20;
/** 1 KiB = 2^10 B. */
export const BYTES_PER_KIB = 2 ** 10;

/** Units a byte rate can be expressed in. */
export type ByteRateUnit = 'Gb/s' | 'GiB/s' | 'MiB/s';
/** Every rate unit a report prints; Mmsg/s = 10^6 messages per second. */
export type RateUnit = ByteRateUnit | 'Mmsg/s';

const BYTES_PER_SECOND_IN: Record<ByteRateUnit, number> = {
  'Gb/s': BITS_PER_SECOND_PER_GBPS / 8,
  'GiB/s': BYTES_PER_GIB,
  'MiB/s': BYTES_PER_MIB,
};

/** Bytes moved in a duration (ns), as Gb/s (10^9 bit/s). Bits per nanosecond are Gb/s. */
export function gbps(bytes: number, durationNs: number): number {
  requireDuration(durationNs);
  return (bytes * 8) / durationNs;
}

/** Bytes moved in a duration (ns), as GiB/s (2^30 B/s). */
export function gibPerSecond(bytes: number, durationNs: number): number {
  requireDuration(durationNs);
  return (bytes * 1e9) / durationNs / BYTES_PER_GIB;
}

/** Bytes moved in a duration (ns), as MiB/s (2^20 B/s), perftest's default unit. */
export function mibPerSecond(bytes: number, durationNs: number): number {
  requireDuration(durationNs);
  return (bytes * 1e9) / durationNs / BYTES_PER_MIB;
}

/** Messages completed in a duration (ns), as Mmsg/s (10^6 messages per second). */
export function mmsgPerSecond(messages: number, durationNs: number): number {
  requireDuration(durationNs);
  return (messages * 1e3) / durationNs;
}

/** Converts a byte rate between Gb/s, GiB/s and MiB/s. */
export function convertRate(value: number, from: ByteRateUnit, to: ByteRateUnit): number {
  return (value * BYTES_PER_SECOND_IN[from]) / BYTES_PER_SECOND_IN[to];
}

/** A rate with its unit label, e.g. `formatRate(185.19, 'Gb/s')` -> `'185.19 Gb/s'`. */
export function formatRate(value: number, unit: RateUnit, fractionDigits = 2): string {
  return `${value.toFixed(fractionDigits)} ${unit}`;
}

function requireDuration(durationNs: number): void {
  if (!(durationNs > 0 && Number.isFinite(durationNs))) {
    throw invalidArgument(
      `duration ${durationNs} ns is invalid: a rate needs a finite duration > 0`,
      'take the duration from the first post to the last completion of a run that moved data',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Byte sizes
// ---------------------------------------------------------------------------------------------

// Suffixes are binary (K = 1024), as in perftest and most RDMA tooling. "KB"/"MB"/"GB" are
// refused: half the world reads them as 1000 and "Mb" as megabits.
const SIZE_SUFFIXES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gi: 2 ** 30,
  gib: 2 ** 30,
};
const AMBIGUOUS_SUFFIXES = new Set(['kb', 'mb', 'gb']);
const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;
const SIZE_EXAMPLES = '65536, 64K, 64KiB, 8M, 1G';

export interface ParseByteSizeOptions {
  /** Smallest accepted size in bytes (default 1). */
  min?: number;
  /** Largest accepted size in bytes (default Number.MAX_SAFE_INTEGER). */
  max?: number;
  /** Names the value in errors, e.g. `'--size'`. */
  what?: string;
}

/**
 * Parses a byte size: a number of bytes ("65536", "2") or a number with a binary suffix
 * ("64K", "64KiB", "8M", "8MiB", "1G", "1.5K"; case-insensitive; K = 1024). The result must be
 * a whole number of bytes within [min, max]. Words such as "all" are the caller's business.
 *
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` naming the text, what is accepted and the range.
 */
export function parseByteSize(text: string, options: ParseByteSizeOptions = {}): number {
  const min = options.min ?? 1;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const what = options.what ?? 'size';
  const match = SIZE_PATTERN.exec(text);
  const suffix = match?.[2]?.toLowerCase() ?? '';
  if (match && AMBIGUOUS_SUFFIXES.has(suffix)) {
    throw invalidArgument(
      `${what} "${text}" is ambiguous: "${match[2]}" may mean 1000- or 1024-based, or bits`,
      `write ${match[1]}${suffix[0]!.toUpperCase()} or ${match[1]}${suffix[0]!.toUpperCase()}iB (1024-based bytes), or the plain number of bytes`,
    );
  }
  const multiplier = match ? SIZE_SUFFIXES[suffix] : undefined;
  if (!match || multiplier === undefined) {
    throw invalidArgument(
      `${what} "${text}" is not a byte size: expected a number of bytes with an optional binary suffix (K, KiB, M, MiB, G, GiB)`,
      `examples: ${SIZE_EXAMPLES}`,
    );
  }
  const bytes = Number(match[1]) * multiplier;
  if (!Number.isInteger(bytes)) {
    throw invalidArgument(`${what} "${text}" is ${bytes} bytes: a size must be a whole number of bytes`, `write it in bytes, e.g. ${Math.round(bytes)}`);
  }
  if (bytes < min || bytes > max) {
    throw invalidArgument(
      `${what} "${text}" (${bytes} bytes) is out of range: it must be from ${formatByteSize(min)} (${min}) to ${formatByteSize(max)} (${max}) bytes`,
      `pick a size from ${min} to ${max} bytes`,
    );
  }
  return bytes;
}

/** Parses a comma-separated list of byte sizes ("64K,1M,8M"), each by {@link parseByteSize}. */
export function parseByteSizeList(text: string, options: ParseByteSizeOptions = {}): number[] {
  const parts = text.split(',');
  if (parts.some((p) => p.trim() === '')) {
    const what = options.what ?? 'size list';
    throw invalidArgument(`${what} "${text}" has an empty entry: expected sizes separated by commas`, 'e.g. 4K,64K,1M');
  }
  return parts.map((p) => parseByteSize(p, options));
}

const FORMAT_UNITS: ReadonlyArray<readonly [number, string]> = [
  [2 ** 30, 'GiB'],
  [2 ** 20, 'MiB'],
  [2 ** 10, 'KiB'],
];

/**
 * Formats bytes with the largest binary unit not above them: 2 -> "2B", 65536 -> "64KiB",
 * 1536 -> "1.5KiB", 8388608 -> "8MiB". Up to two decimals (cut, not rounded), trailing zeros dropped; exact for
 * every power of two, so `parseByteSize(formatByteSize(n)) === n` for those.
 */
export function formatByteSize(bytes: number): string {
  if (!(bytes >= 0 && Number.isFinite(bytes))) {
    throw invalidArgument(`byte count ${bytes} is invalid: it must be a finite number >= 0`, 'pass a byte count');
  }
  // Cut, not rounded, to two decimals: 1048575 B is "1023.99KiB", never "1024KiB".
  const cut = (x: number) => Math.floor(x * 100 + 1e-9) / 100;
  for (const [size, label] of FORMAT_UNITS) {
    if (bytes >= size) return `${cut(bytes / size)}${label}`;
  }
  return `${cut(bytes)}B`;
}

/** Smallest and largest size of `--sizes all`: 2 B and 8 MiB, as perftest's `-a`. */
export const SIZES_ALL_MIN = 2;
export const SIZES_ALL_MAX = 8 * 2 ** 20;

/** Every power of two from 2 B to 8 MiB (23 sizes): the sweep `--sizes all` runs. */
export function sizesAll(): number[] {
  const sizes: number[] = [];
  for (let s = SIZES_ALL_MIN; s <= SIZES_ALL_MAX; s *= 2) sizes.push(s);
  return sizes;
}
