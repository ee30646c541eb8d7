import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { compareRailCounts, DUAL_RAIL_MIN_SPEEDUP } from '../../lib/config/compare.js';
import { loadMeasurement, measurementFromResult, parseMeasurement } from '../../lib/config/measurements.js';
import { ncclConfig } from '../../lib/config/nccl.js';
import { RdmaError } from '../../lib/errors.js';
import { dgxSparkNode, makeSysfsTree } from '../fixtures/sysfs.js';

const results = join(import.meta.dirname, '..', 'fixtures', 'results');
const file = (name: string) => join(results, name);

function thrown(fn: () => unknown): RdmaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RdmaError);
    return err as RdmaError;
  }
  throw new Error('expected an RdmaError');
}

describe('saved bandwidth results (--from)', () => {
  it('reads a single-rail and a dual-rail result: rails in order, every size, aggregate and per rail', () => {
    const single = loadMeasurement(file('single-rail.json'));
    expect(single.source).toBe(file('single-rail.json'));
    expect(single.rails).toEqual(['rocep1s0f1:1']);
    expect(single.sizes.map((s) => s.size)).toEqual([65536, 1048576, 8388608]);
    expect(single.sizes[2]!.totalGbps).toBe(97.3);
    const dual = loadMeasurement(file('dual-rail-faster.json'));
    expect(dual.rails).toEqual(['rocep1s0f1:1', 'roceP2p1s0f1:1']);
    expect(dual.sizes[2]!.rails).toEqual([{ name: 'rocep1s0f1:1', gbps: 92.6 }, { name: 'roceP2p1s0f1:1', gbps: 97.3 }]);
    expect(dual.sizes[2]!.totalGbps).toBe(189.9);
    expect(dual.stoppedEarly).toBe(false);
  });

  it('names the file when it is not JSON', () => {
    const err = thrown(() => loadMeasurement(file('truncated.json')));
    expect(err.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(err.message).toContain(file('truncated.json'));
    expect(err.message).toContain('is not valid JSON');
    expect(err.hint).toContain('spark-rdma bw --json');
  });

  it('names the file, the JSON path and the bad value when the shape is wrong', () => {
    const err = thrown(() => loadMeasurement(file('wrong-shape.json')));
    expect(err.message).toContain(file('wrong-shape.json'));
    expect(err.message).toContain('sizes[0].total.gbps must be a rate in Gb/s');
    expect(err.message).toContain('"fast"');
  });

  it('names the file when it cannot be read', () => {
    const err = thrown(() => loadMeasurement(file('no-such-run.json')));
    expect(err.message).toContain('no-such-run.json');
    expect(err.message).toContain('ENOENT');
  });

  it.each([
    ['an array', [], 'the top level must be an object'],
    ['no params', { sizes: [] }, 'params must be an object'],
    ['empty rails', { params: { rails: [] }, sizes: [] }, 'params.rails must be a non-empty array'],
    ['a rail that is not device:port', { params: { rails: ['mlx5 0'] }, sizes: [] }, 'params.rails[0] must be a "device:port" name'],
    ['no sizes', { params: { rails: ['rxe0:1'] }, sizes: [] }, 'sizes must be a non-empty array'],
    ['a fractional size', { params: { rails: ['rxe0:1'] }, sizes: [{ size: 1.5, rails: [{ device: 'rxe0', gbps: 1 }], total: { gbps: 1 } }] }, 'sizes[0].size must be a message size'],
    ['a negative rate', { params: { rails: ['rxe0:1'] }, sizes: [{ size: 64, rails: [{ device: 'rxe0', gbps: -1 }], total: { gbps: 1 } }] }, 'sizes[0].rails[0].gbps must be a rate'],
    ['a rail without device', { params: { rails: ['rxe0:1'] }, sizes: [{ size: 64, rails: [{ gbps: 1 }], total: { gbps: 1 } }] }, 'sizes[0].rails[0].device must be a device name'],
    ['stoppedEarly not boolean', { params: { rails: ['rxe0:1'] }, sizes: [{ size: 64, rails: [{ device: 'rxe0', gbps: 1 }], total: { gbps: 1 } }], stoppedEarly: 'no' }, 'stoppedEarly must be true or false'],
  ])('rejects %s with the JSON path', (_what, value, message) => {
    const err = thrown(() => measurementFromResult(value, 'run.json'));
    expect(err.message).toMatch(/^run\.json: /);
    expect(err.message).toContain(message);
  });
});

describe('single or dual rail from measurements', () => {
  const single = () => loadMeasurement(file('single-rail.json'));
  const faster = () => loadMeasurement(file('dual-rail-faster.json'));
  const notFaster = () => loadMeasurement(file('dual-rail-not-faster.json'));

  it('the threshold is 1.3x', () => {
    expect(DUAL_RAIL_MIN_SPEEDUP).toBe(1.3);
  });

  it('chooses dual rail when dual measured clearly faster (1.95x at 8 MiB)', () => {
    const v = compareRailCounts([single(), faster()]);
    expect(v.verdict).toBe('dual');
    const c = v.comparison!;
    expect(c.size).toBe(8388608);
    expect(c.singleGbps).toBe(97.3);
    expect(c.dualGbps).toBe(189.9);
    expect(c.speedup).toBeCloseTo(189.9 / 97.3, 10);
    expect(c.singleEstimated).toBe(false);
    expect(c.dualRails).toEqual(['rocep1s0f1:1', 'roceP2p1s0f1:1']);
    expect(v.reason).toMatch(/^dual rail: 2 rails measured 189\.9 Gb\/s .* against 97\.3 Gb\/s on one .* at 8MiB messages: 1\.95x, dual rail needs >= 1\.30x$/);
  });

  it('keeps single rail when dual is not clearly faster (1.16x), and says why', () => {
    const v = compareRailCounts([notFaster(), single()]);
    expect(v.verdict).toBe('single');
    expect(v.comparison!.speedup).toBeCloseTo(113.1 / 97.3, 10);
    expect(v.reason).toContain('single rail: 2 rails measured 113.1 Gb/s');
    expect(v.reason).toContain('1.16x');
    expect(v.reason).toContain('not clearly faster');
    expect(v.reason).toContain('host memory');
    expect(v.reason).toContain('299 tok/s on one rail vs 239 tok/s on two');
  });

  it('takes the best run of each kind when several are given', () => {
    const v = compareRailCounts([single(), notFaster(), faster()]);
    expect(v.verdict).toBe('dual');
    expect(v.comparison!.dualSource).toBe(file('dual-rail-faster.json'));
  });

  it('a dual-rail run alone never decides dual: its fastest rail is only an optimistic stand-in', () => {
    const v = compareRailCounts([notFaster()]);
    expect(v.verdict).toBe('single');
    expect(v.comparison!.singleEstimated).toBe(true);
    expect(v.comparison!.singleGbps).toBe(63.8);
    expect(v.comparison!.speedup).toBeGreaterThan(1.3); // what the estimate would wrongly suggest
    expect(v.reason).toContain('no single-rail run');
    expect(v.reason).toContain('spark-rdma bw --rails 1 --json');
  });

  it('single-rail runs alone: single rail, no comparison', () => {
    const v = compareRailCounts([single()]);
    expect(v.verdict).toBe('single');
    expect(v.comparison).toBeNull();
    expect(v.reason).toContain('only single-rail runs were measured (best 97.3 Gb/s at 8MiB');
  });

  it('compares at the largest size both runs measured', () => {
    const small = parseMeasurement(
      JSON.stringify({ params: { rails: ['rocep1s0f1:1'] }, sizes: [{ size: 65536, rails: [{ device: 'rocep1s0f1', port: 1, gbps: 50 }], total: { gbps: 50 } }] }),
      'small.json',
    );
    const v = compareRailCounts([small, faster()]);
    expect(v.comparison!.size).toBe(65536);
    expect(v.comparison!.dualGbps).toBe(187.6);
    expect(v.comparison!.speedup).toBeCloseTo(187.6 / 50, 10);
  });

  it('a custom threshold moves the line', () => {
    expect(compareRailCounts([single(), faster()], 2).verdict).toBe('single');
    expect(compareRailCounts([single(), notFaster()], 1.1).verdict).toBe('dual');
  });

  it('rejects a threshold outside 1..10 and a baseline of 0 Gb/s', () => {
    expect(thrown(() => compareRailCounts([single()], 0.5)).message).toContain('dual-rail threshold 0.5 is out of range');
    const zero = measurementFromResult({ params: { rails: ['rocep1s0f1:1'] }, sizes: [{ size: 8388608, rails: [{ device: 'rocep1s0f1', gbps: 0 }], total: { gbps: 0 } }] }, 'zero.json');
    expect(thrown(() => compareRailCounts([zero, faster()])).message).toContain('zero.json: measured 0 Gb/s at 8MiB');
  });
});

describe('measurement files written by a user', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  it('accepts a result without ports in the per-rail entries (device names only)', () => {
    dir = mkdtempSync(join(tmpdir(), 'spark-rdma-results-'));
    const path = join(dir, 'r.json');
    writeFileSync(path, JSON.stringify({ params: { rails: ['rxe0:1', 'rxe1:1'] }, sizes: [{ size: 4096, rails: [{ device: 'rxe0', gbps: 1 }, { device: 'rxe1', gbps: 1.1 }], total: { gbps: 2.1 } }] }));
    const run = loadMeasurement(path);
    expect(run.sizes[0]!.rails.map((r) => r.name)).toEqual(['rxe0', 'rxe1']);
  });
});

describe('--from evidence that cannot decide a two-node config is refused', () => {
  const spark = makeSysfsTree(dgxSparkNode());
  afterAll(() => spark.cleanup(), 60_000);
  const variant = (name: string, edit: (v: Record<string, any>) => void) => {
    const v = JSON.parse(readFileSync(file(name), 'utf8')) as Record<string, any>;
    edit(v);
    return measurementFromResult(v, `${name} (edited)`);
  };
  const single = () => loadMeasurement(file('single-rail.json'));
  const decide = (...runs: ReturnType<typeof single>[]) => thrown(() => ncclConfig({ sysfsRoot: spark.root, measurements: runs }));

  it('a loopback run (params.mode "loopback")', () => {
    const loop = variant('dual-rail-faster.json', (v) => void (v.params.mode = 'loopback'));
    expect(loop.mode).toBe('loopback');
    const err = decide(single(), loop);
    expect(err.message).toBe('dual-rail-faster.json (edited) is a loopback run (params.mode "loopback"): it measured each device against itself, not the link between the nodes, so it cannot decide single or dual rail');
    expect(err.hint).toContain('measure between the two nodes');
  });

  it('a run that stopped early', () => {
    const err = decide(single(), variant('dual-rail-faster.json', (v) => void (v.stoppedEarly = true)));
    expect(err.message).toBe('dual-rail-faster.json (edited) stopped early (stoppedEarly: true): an interrupted run undercounts and cannot decide single or dual rail');
  });

  it('a run on rails this machine does not have', () => {
    const other = variant('dual-rail-faster.json', (v) => {
      v.params.rails = ['mlx5_0:1', 'mlx5_1:1'];
    });
    const err = decide(single(), other);
    expect(err.message).toBe(
      'dual-rail-faster.json (edited) was measured on mlx5_0:1, mlx5_1:1, which are not rails of this machine (rails here: rocep1s0f1:1, roceP2p1s0f1:1): it comes from other hardware and says nothing about these rails');
    expect(err.hint).toContain('or choose yourself with --single or --dual');
    // Runs between the nodes, complete, on these rails still decide.
    expect(ncclConfig({ sysfsRoot: spark.root, measurements: [single(), loadMeasurement(file('dual-rail-faster.json'))] }).decision.mode).toBe('dual');
  });
});
