// Options a run sends to its peer are refused before any I/O when the session protocol would
// refuse them (issue 20 point 10), naming the value, the range and the flag.
import { describe, expect, it } from 'vitest';
import { resolveBandwidthParams } from '../../lib/bandwidth/options.js';
import { RdmaError } from '../../lib/errors.js';
import { resolveLatencyParams } from '../../lib/latency/options.js';
import type { Rail } from '../../lib/rails/types.js';
import { connectClient } from '../../lib/run/client-session.js';

function refusal(fn: () => unknown): RdmaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RdmaError);
    return err as RdmaError;
  }
  throw new Error('expected a refusal');
}

describe('run options against the wire limits', () => {
  it.each([
    ['a fractional duration', { durationMs: 2500.5 }, /duration 2500\.5 ms .* whole number of milliseconds from 1 to 86400000/],
    ['a duration above a day', { durationMs: 86_400_001 }, /duration 86400001 ms/],
    ['a warm-up above 10 minutes', { warmupMs: 600_001 }, /warm-up 600001 ms .* from 0 to 600000/],
    ['an infinite warm-up', { warmupMs: Infinity }, /warm-up Infinity ms/],
    ['a zero completion timeout', { completionTimeoutMs: 0 }, /completion timeout 0 ms/],
    ['a tx depth above 65536', { txDepth: 65_537 }, /tx depth 65537 .* from 1 to 65536/],
    ['--port 65535 with --cm', { port: 65535, cm: true }, /ports 65536\.\.65536 .* beyond 65535/],
  ])('bw: %s is refused', (_name, options, message) => {
    const err = refusal(() => resolveBandwidthParams(options));
    expect(err.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
  });

  it.each([
    ['a fractional duration', { durationMs: 2500.5 }, /duration 2500\.5 ms/],
    ['an inline threshold above 4096', { inlineThreshold: 5000 }, /inline threshold 5000 .* from 0 to 4096/],
    ['a negative inline threshold', { inlineThreshold: -1 }, /inline threshold -1/],
    ['a fractional peer timeout', { peerTimeoutMs: 0.5 }, /peer timeout 0\.5 ms/],
    ['--port 65535 with --cm', { port: 65535, cm: true }, /beyond 65535/],
  ])('lat: %s is refused', (_name, options, message) => {
    const err = refusal(() => resolveLatencyParams(options));
    expect(err.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
  });

  it('--cm with two rails and --port 65534: refused before connecting (rdma_cm would need port 65536)', async () => {
    const rail = { index: 0, device: 'rxe0', port: 1, netdev: 'rail0', ipv4: '127.0.0.1', gidIndex: 1, activeMtu: 4096 } as Rail;
    const proposal = { test: 'bw', qps: 1, sizes: [65536], txDepth: 64, postList: 1, signalEvery: 16, inlineThreshold: 0, durationMs: 1000, warmupMs: 0, bidir: false, cm: true } as const;
    // Nothing listens on 127.0.0.1:65534: an attempt to connect would fail ERR_PEER_UNREACHABLE.
    const err = await connectClient({ peer: '127.0.0.1', port: 65534 }, [rail, { ...rail, index: 1 }], proposal, { regionBytes: 65536, txDepth: 64, inlineBytes: 0 }).then(
      () => null,
      (e: unknown) => e as RdmaError,
    );
    expect(err?.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(err?.message).toMatch(/ports 65535\.\.65536/);
  });
});
