// The tests that put ib_write_lat's figures next to ours rerun it while perftest's own clock
// calibration failed (an `inf` row under TCG); these check that rule on perftest's real output.
import { describe, expect, it } from 'vitest';
import { calibratedLat } from '../rxe/perftest-support.js';

const HEADER = ' #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]    t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec] ';
const VALID = `${HEADER}\n 4096    1000          32.10          1210.55      43.02    \t       51.77      \t30.12   \t\t264.40 \t\t1200.01\n`;
const UNCALIBRATED = `Correlation coefficient r^2: 0.828247 < 0.9\n${HEADER}\n 4096    1000          inf            inf          inf      \t       inf         \t-nan   \t\tinf     \t\tinf    \n`;

describe('calibratedLat: an ib_write_lat run whose clock failed is run again, never compared', () => {
  it('returns the first attempt with a valid row, and says which were dropped', async () => {
    const outputs = [UNCALIBRATED, VALID, VALID];
    const attempts: number[] = [];
    const result = await calibratedLat(
      async (n) => {
        attempts.push(n);
        return { stdout: outputs[n - 1]! };
      },
      (r) => r.stdout,
    );
    expect(attempts).toEqual([1, 2]);
    expect(result.stdout).toBe(VALID);
  });

  it('gives up after 3 failed calibrations with perftest\'s output in the error', async () => {
    let calls = 0;
    const run = calibratedLat(
      async () => {
        calls++;
        return UNCALIBRATED;
      },
      (r) => r,
    );
    await expect(run).rejects.toThrow(/no valid figures in 3 attempts[\s\S]*inf/);
    expect(calls).toBe(3);
  });

  it('a table with no row at all is not valid either', async () => {
    await expect(calibratedLat(async () => 'Couldn\'t connect to 10.77.0.1:18720', (r) => r)).rejects.toThrow(/3 attempts/);
  });
});
