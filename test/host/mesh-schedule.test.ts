import { describe, expect, it } from 'vitest';
import { circleSchedule, scheduleSteps } from '../../lib/mesh/schedule.js';

describe('circle-method schedule', () => {
  for (let n = 2; n <= 17; n++) {
    it(`N = ${n}: ${n % 2 === 0 ? n - 1 : n} rounds, disjoint pairs, every ordered pair exactly once`, () => {
      const rounds = circleSchedule(n);
      expect(rounds).toHaveLength(n % 2 === 0 ? n - 1 : n);
      const byes: number[] = [];
      for (const round of rounds) {
        const seen = round.pairs.flat();
        expect(new Set(seen).size, 'no rank twice in a round').toBe(seen.length);
        for (const [a, b] of round.pairs) {
          expect(a).toBeLessThan(b);
          expect(b).toBeLessThan(n);
        }
        if (n % 2 === 0) {
          expect(round.bye).toBeNull();
          expect(round.pairs).toHaveLength(n / 2);
        } else {
          expect(round.bye).not.toBeNull();
          expect(seen).not.toContain(round.bye);
          expect(round.pairs).toHaveLength((n - 1) / 2);
          byes.push(round.bye!);
        }
      }
      // Odd N: each rank sits out exactly once.
      if (n % 2 === 1) expect(byes.sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const serial of [false, true]) {
        const steps = scheduleSteps(rounds, serial);
        const ordered = steps.flatMap((s) => s.cells.map((c) => `${c.src}>${c.dst}`));
        expect(new Set(ordered).size).toBe(ordered.length);
        expect(ordered).toHaveLength(n * (n - 1));
        for (const s of steps) {
          const ranks = s.cells.flatMap((c) => [c.src, c.dst]);
          expect(new Set(ranks).size, 'a rank is in one cell per step').toBe(ranks.length);
          if (serial) expect(s.cells).toHaveLength(1);
        }
        expect(Math.max(...steps.map((s) => s.round)) + 1).toBe(rounds.length);
      }
    });
  }

  it('N = 4 concurrently is 3 rounds of 2 steps (both directions)', () => {
    const steps = scheduleSteps(circleSchedule(4), false);
    expect(steps.map((s) => s.round)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(steps[0]!.cells).toHaveLength(2);
    expect(steps[1]!.cells.map((c) => [c.dst, c.src])).toEqual(steps[0]!.cells.map((c) => [c.src, c.dst]));
  });

  it.each([1, 0, -2, 2.5, 5000, NaN])('refuses a mesh of %s', (n) => {
    expect(() => circleSchedule(n)).toThrow(/expected 2 to 4096/);
  });
});
