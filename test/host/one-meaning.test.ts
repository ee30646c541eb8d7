// Issue 21, point 3: one meaning per name. --rails N is "the first N rails" in every command
// and API; --warmup is seconds in bw and lat; the old spellings are refused with the new one.
import { afterAll, describe, expect, test } from 'vitest';
import { invalidArgument } from '../fixtures/refusal.js';
import { BandwidthRun, runBandwidth } from '../../lib/bandwidth/index.js';
import { main } from '../../lib/cli/main.js';
import { ncclConfig } from '../../lib/config/nccl.js';
import { RdmaError } from '../../lib/errors.js';
import { LatencyRun, runLatency } from '../../lib/latency/index.js';
import { discoverRails } from '../../lib/rails/discover.js';
import { MeasurementRun } from '../../lib/run/measurement-run.js';
import { dgxSparkNode, makeSysfsTree, rxePair } from '../fixtures/sysfs.js';

const rxe = makeSysfsTree(rxePair());
const spark = makeSysfsTree(dgxSparkNode());
afterAll(() => {
  rxe.cleanup();
  spark.cleanup();
});

const refusal = invalidArgument;

async function rejection(run: PromiseLike<unknown>): Promise<RdmaError> {
  const err = await Promise.resolve(run).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RdmaError);
  return err as RdmaError;
}

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--sysfs-root', rxe.root], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

describe('--warmup is seconds in bw and lat', () => {
  test('lat --warmup 100 (the old exchanges) is refused with --warmup-iters', async () => {
    const r = await cli(['lat', '--loopback', '--warmup', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'spark-rdma: --warmup 100: the latency warm-up is in seconds now (as in bw), at most 5\n' +
        'hint: for 100 untimed exchanges pass --warmup-iters 100; for a time pass e.g. --warmup 0.5\n',
    );
  });

  test('lat --warmup-ms (the old time flag, in ms) is refused with --warmup in seconds', async () => {
    const r = await cli(['lat', '--loopback', '--warmup-ms', '200']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('spark-rdma: --warmup-ms is gone: the warm-up time is --warmup, in seconds as in bw\nhint: pass --warmup 0.2\n');
  });

  test('both help texts say seconds', async () => {
    const bw = (await cli(['bw', '--help'])).stdout;
    const lat = (await cli(['lat', '--help'])).stdout;
    expect(bw).toMatch(/--warmup <s>\s+untimed warm-up seconds/);
    expect(lat).toMatch(/--warmup <s>\s+untimed warm-up seconds/);
    expect(lat).toMatch(/--warmup-iters <n>\s+and at least this many untimed exchanges/);
    expect(lat).not.toContain('--warmup-ms');
  });
});

describe('--rails N is the first N rails everywhere', () => {
  test.each([
    [['bw', '--loopback', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
    [['lat', '--loopback', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
    [['monitor', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
    [['config', 'nccl', '--rails', '3'], 'asked for 3 rails, this machine has 2'],
  ])('%j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(message);
  });
});

describe('the library: one shape per name', () => {
  test('ncclConfig({ rails: 2 }) takes the first two rails, as runBandwidth does (it threw a bare TypeError)', () => {
    const env = (c: ReturnType<typeof ncclConfig>) => Object.fromEntries(c.variables.map((v) => [v.name, v.value]));
    expect(env(ncclConfig({ sysfsRoot: spark.root, rails: 2 }))['NCCL_IB_HCA']).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
    expect(env(ncclConfig({ fromRails: discoverRails({ sysfsRoot: spark.root }), rails: 1 }))['NCCL_IB_HCA']).toBe('=rocep1s0f1:1');
  });

  test('the old shapes are refused with the new spelling', () => {
    const list = refusal(() => ncclConfig({ sysfsRoot: spark.root, rails: discoverRails({ sysfsRoot: spark.root }) as never }));
    expect(list.message).toBe('rails takes a number of rails now (the first N, as in runBandwidth), not a list of rails');
    expect(list.hint).toBe('pass the rails to choose from as fromRails: discoverRails(), and rails: N to take the first N of them');
    const count = refusal(() => ncclConfig({ sysfsRoot: spark.root, railCount: 2 } as never));
    expect([count.message, count.hint]).toEqual(['railCount is now rails', 'pass rails: 2']);
  });

  test('runLatency returns a run like runBandwidth (events, stop(), samples(), thenable); await still gives the result or the error', async () => {
    const run = runLatency({ loopback: true, sysfsRoot: rxe.root, sizes: [] });
    expect(run).toBeInstanceOf(LatencyRun);
    expect(run).toBeInstanceOf(MeasurementRun);
    expect(Object.getPrototypeOf(BandwidthRun.prototype)).toBe(MeasurementRun.prototype);
    expect(typeof run.stop).toBe('function');
    expect(typeof run.on).toBe('function');
    expect(typeof run.samples()[Symbol.asyncIterator]).toBe('function');
    const err = await rejection(run);
    expect(err.message).toBe('no message sizes given');
  });

  test('a run is used as a promise is: .catch() and .finally() as well as then/await (runBandwidth and runLatency)', async () => {
    let settled = 0;
    const caught = await runLatency({ loopback: true, sysfsRoot: rxe.root, sizes: [] })
      .catch((e: unknown) => e)
      .finally(() => void settled++);
    expect((caught as Error).message).toBe('no message sizes given');
    const bw = await runBandwidth({ loopback: true, sysfsRoot: rxe.root, sizes: [] }).finally(() => void settled++).catch((e: unknown) => e);
    expect((bw as Error).message).toBe('no message sizes given');
    expect(settled).toBe(2);
  });

  test('LatencyOptions.peerTimeoutMs is the session step deadline, as in runBandwidth; the engine silence limit is silenceTimeoutMs', async () => {
    const err = await rejection(runLatency({ loopback: true, sysfsRoot: rxe.root, peerTimeoutMs: 2000 }));
    expect(err.message).toBe('peerTimeoutMs is the deadline of a session step, and a loopback run has no session');
    expect(err.hint).toBe('for the limit on silence inside an exchange pass silenceTimeoutMs: 2000');
    const bad = await rejection(runLatency({ loopback: true, sysfsRoot: rxe.root, silenceTimeoutMs: 0 }));
    expect(bad.message).toBe('silence timeout 0 ms is not a whole number of 1 or more');
  });
});
