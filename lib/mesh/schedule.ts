// Round-robin tournament by the circle method: rank 0 stays put, the others rotate one seat per
// round; seat i plays seat n-1-i. With an odd count a phantom seat joins and whoever meets it
// sits the round out (a bye). Result: n-1 rounds (n when odd) of disjoint pairs, every
// unordered pair exactly once. Each pair is then measured in both directions.
import { invalidArgument } from '../errors.js';

/** [a, b] with a < b: one pair of a round. */
export type Pair = readonly [number, number];

export interface Round {
  pairs: Pair[];
  /** The rank without a partner this round (odd world sizes only). */
  bye: number | null;
}

export const MAX_WORLD_SIZE = 4096;

export function circleSchedule(n: number): Round[] {
  if (!Number.isInteger(n) || n < 2 || n > MAX_WORLD_SIZE) {
    throw invalidArgument(`a mesh of ${n} rank(s): expected 2 to ${MAX_WORLD_SIZE}`);
  }
  const seats = n % 2 === 0 ? n : n + 1;
  const phantom = n % 2 === 0 ? -1 : n;
  const ring = Array.from({ length: seats - 1 }, (_, i) => i + 1);
  const rounds: Round[] = [];
  for (let r = 0; r < seats - 1; r++) {
    const order = [0, ...ring.slice(r), ...ring.slice(0, r)];
    const pairs: Pair[] = [];
    let bye: number | null = null;
    for (let i = 0; i < seats / 2; i++) {
      const a = order[i]!;
      const b = order[seats - 1 - i]!;
      if (a === phantom || b === phantom) {
        bye = a === phantom ? b : a;
        continue;
      }
      pairs.push(a < b ? [a, b] : [b, a]);
    }
    pairs.sort((x, y) => x[0] - y[0]);
    rounds.push({ pairs, bye });
  }
  return rounds;
}

/** One directed measurement: `src` writes to `dst`'s server. */
export interface Cell {
  src: number;
  dst: number;
}

/**
 * The steps rank 0 runs one after another. Concurrent: per round, every pair one way, then
 * every pair the other way. Serial: one directed pair per step (for oversubscribed fabrics).
 */
export function scheduleSteps(rounds: Round[], serial: boolean): { round: number; cells: Cell[] }[] {
  const steps: { round: number; cells: Cell[] }[] = [];
  rounds.forEach((round, r) => {
    const forward = round.pairs.map(([a, b]) => ({ src: a, dst: b }));
    const backward = round.pairs.map(([a, b]) => ({ src: b, dst: a }));
    if (serial) {
      for (const [i, f] of forward.entries()) steps.push({ round: r, cells: [f] }, { round: r, cells: [backward[i]!] });
    } else {
      steps.push({ round: r, cells: forward }, { round: r, cells: backward });
    }
  });
  return steps;
}
