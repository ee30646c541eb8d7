import { InvalidArgumentError } from 'commander';
import { invalidArgument } from '../errors.js';
import { parseByteSize, parseByteSizeList, sizesAll } from '../report/units.js';

// Commander argument parsers: each names the flag, the value and what is allowed.

export function intArg(flag: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} ${text}: expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function secondsArg(flag: string) {
  return (text: string): number => {
    const s = Number(text);
    if (!Number.isFinite(s) || s < 0) throw new InvalidArgumentError(`${flag} ${text}: expected seconds, e.g. 5 or 0.5`);
    return s;
  };
}

export function sizeArg(text: string): number {
  try {
    return parseByteSize(text, { what: '--size', max: 2 ** 31 });
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** `all` = 2 B to 8 MiB in powers of two, as ib_write_bw -a. */
export function sizesArg(text: string): number[] {
  if (text.trim() === 'all') return sizesAll();
  try {
    return parseByteSizeList(text, { what: '--sizes', max: 2 ** 31 });
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function listArg(text: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list, got "${text}"`);
  return items;
}

/** Seconds from the CLI to milliseconds for the API; a duration of 0 is refused here. */
export function durationMs(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (seconds <= 0) throw invalidArgument(`--duration ${seconds}: a run must last longer than 0 s`, 'pass --duration 5 (seconds), or --iters N');
  return Math.round(seconds * 1000);
}
