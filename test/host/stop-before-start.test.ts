// A run stopped before it began starts no engine at all (issue 20 point 6): at the TS level a
// stop() before start() used to be followed by start(), and the native stop flag was lost.
import { describe, expect, it } from 'vitest';
import { measureSize, type RailWriter } from '../../lib/bandwidth/measure.js';
import { resolveBandwidthParams } from '../../lib/bandwidth/options.js';
import { initiate, respond } from '../../lib/latency/ping-pong.js';
import { resolveLatencyParams } from '../../lib/latency/options.js';
import type { RailWire } from '../../lib/verbs/endpoint.js';
import type { RailSide } from '../../lib/verbs/rail-side.js';

/** An endpoint whose every field access fails: any attempt to build an engine on it shows. */
const untouchable = new Proxy({} as RailSide, {
  get(_target, key) {
    throw new Error(`an engine was being built: endpoint.${String(key)} was read`);
  },
});
const peer: RailWire = { device: 'rxe0', port: 1, gid: '', mtu: 4096, qps: [{ qpn: 1, psn: 1, rkey: 1, addr: '4096' }] };

describe('stop before start', () => {
  it('measureSize with an aborted signal starts no engine and reports nothing measured', async () => {
    const writers = [{ rail: { index: 0, device: 'rxe0', port: 1 }, mtu: 4096, endpoint: untouchable, peer }] as unknown as RailWriter[];
    const measured = await measureSize(writers, resolveBandwidthParams({}), 65536, () => undefined, AbortSignal.abort(), undefined);
    expect(measured.rails).toEqual([]);
    expect(measured.failures).toEqual([]);
  });

  it('a latency initiator or responder with an aborted signal starts no engine and resolves with no samples', async () => {
    const params = resolveLatencyParams({});
    const initiator = initiate(untouchable, peer, 2, params, AbortSignal.abort());
    const responder = respond(untouchable, peer, 2, { inlineThreshold: 0, silenceTimeoutMs: 1000 }, AbortSignal.abort());
    for (const p of [initiator, responder]) {
      const result = await p.done;
      expect(result.samplesNs.length).toBe(0);
      expect(result.stoppedEarly).toBe(true);
    }
  });
});
