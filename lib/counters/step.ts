// How one counter moved between two readings. sysfs counters are unsigned 64-bit: they can
// wrap (from near 2^64 to small) and they can go backwards for other reasons (driver reload,
// `rdma` statistic reset, device re-created). A wrap has a well-defined delta; anything else
// that goes backwards has none, and must never turn into a huge or negative rate.

/** Width of the kernel's counters (u64). */
export const COUNTER_MODULUS = 1n << 64n;

/**
 * port_xmit_data / port_rcv_data count 4-byte words; read as bytes (x 4) they wrap at 2^66.
 * Taking the delta modulo 2^66 of the byte values equals 4 x the word delta modulo 2^64.
 */
export const WORD_BYTES_MODULUS = COUNTER_MODULUS * 4n;

/**
 * A backwards step counts as a wrap only when the distance across the top is at most
 * modulus / 2^16 (2^48 for plain counters: about 3 hours of 800 Gb/s in bytes). A counter that
 * drops from anywhere lower, or to anywhere higher, was reset.
 */
export function wrapWindow(modulus: bigint): bigint {
  return modulus >> 16n;
}

export type CounterStep =
  /** after >= before: delta = after - before (may be 0). */
  | { kind: 'moved'; delta: bigint }
  /** Went past the top of its range: delta = modulus - before + after. */
  | { kind: 'wrapped'; delta: bigint }
  /** Went backwards otherwise: no delta for this interval. */
  | { kind: 'reset'; delta: null }
  /** One of the readings has no value (no such counter, unreadable). */
  | { kind: 'missing'; delta: null };

/** Classifies the movement of one counter between two readings; see {@link CounterStep}. */
export function counterStep(before: bigint | null | undefined, after: bigint | null | undefined, modulus: bigint = COUNTER_MODULUS): CounterStep {
  if (before === null || before === undefined || after === null || after === undefined) return { kind: 'missing', delta: null };
  if (after >= before) return { kind: 'moved', delta: after - before };
  if (before < modulus && after < modulus) {
    const across = modulus - before + after;
    if (across <= wrapWindow(modulus)) return { kind: 'wrapped', delta: across };
  }
  return { kind: 'reset', delta: null };
}
