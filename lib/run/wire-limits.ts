// Options a run sends to its peer are checked against the session protocol's limits
// (lib/session/protocol.ts LIMITS) before any I/O: a value the wire would refuse must fail
// here, in the caller's words, not after connecting with "a bug in the caller of Channel.send()".
import { invalidArgument } from '../errors.js';
import { LIMITS } from '../session/protocol.js';

/** A whole number of milliseconds in min..max (the protocol carries integers). */
export function wholeMs(what: string, flag: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${what} ${value} ms is out of range: it must be a whole number of milliseconds from ${min} to ${max}`, `pass ${flag} within that range`);
  }
  return value;
}

export function checkDurationMs(value: number): number {
  return wholeMs('duration', '--duration', value, LIMITS.durationMs.min, LIMITS.durationMs.max);
}

export function checkWarmupMs(value: number): number {
  return wholeMs('warm-up', '--warmup', value, LIMITS.warmupMs.min, LIMITS.warmupMs.max);
}

export function checkInlineThreshold(value: number): number {
  const { min, max } = LIMITS.inlineThreshold;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`inline threshold ${value} is out of range: it must be a whole number of bytes from ${min} to ${max}`, 'pass --inline with a byte count such as 220, or 0 to disable');
  }
  return value;
}

/**
 * With rdma_cm the server listens on the ports after the session port, one per rail
 * (lib/verbs/wire.ts cmPortFor): all of them must be TCP/UDP ports.
 */
export function checkCmPorts(port: number, railCount: number): void {
  const last = port + railCount;
  if (last > 65535) {
    throw invalidArgument(
      `with --cm the server listens on ports ${port + 1}..${last} (one per rail after --port ${port}), beyond 65535`,
      `pass --port ${65535 - railCount} or lower`,
    );
  }
}
