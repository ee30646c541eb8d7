// What a peer says reaches this side's terminal and error codes only after checks (issue 20
// points 7 and 11): control characters escaped, unknown reject codes not taken as ours, and the
// server's bidirectional figures validated like any other peer input.
import { describe, expect, it } from 'vitest';
import { parsePeerCounters } from '../../lib/bandwidth/peer-counters.js';
import { foldPeer } from '../../lib/bandwidth/sizes.js';
import type { MeasuredSize } from '../../lib/bandwidth/measure.js';
import { reportError } from '../../lib/cli/errors.js';
import type { Rail } from '../../lib/rails/types.js';
import { connectClient } from '../../lib/run/client-session.js';
import { connectSession } from '../../lib/session/index.js';
import { rejection, serve } from './session-harness.js';
import { LOOPBACK } from './session-helpers.js';

const EVIL = 'pwned\x1b[2J\x1b]0;title\x07\r\nspark-rdma: all good\x9b31m';
const RAIL = { index: 0, device: 'rxe0', port: 1, netdev: 'rail0', ipv4: '10.77.0.1', gidIndex: 1, activeMtu: 4096 } as Rail;

function printed(err: unknown): string {
  let text = '';
  reportError(err, false, (t) => (text += t));
  return text;
}

const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe("a peer's text on this side's terminal", () => {
  it('a reject with escape sequences and an unknown code: printed escaped on one line, under ERR_PEER_REJECTED', async () => {
    const t = await serve({
      onSession: async (channel) => {
        await channel.receive(['propose']);
        channel.send({ type: 'reject', code: 'ERR_SERVER_BUSY', message: EVIL, hint: `try \x1b[31mred\x1b[0m` });
        await channel.receive(['bye']).catch(() => undefined);
      },
    });
    const proposal = { test: 'bw', qps: 1, sizes: [65536], txDepth: 64, postList: 1, signalEvery: 16, inlineThreshold: 0, durationMs: 1000, warmupMs: 0, bidir: false, cm: false } as const;
    const err = await rejection(connectClient({ peer: LOOPBACK, port: t.port }, [RAIL], proposal, { regionBytes: 65536, txDepth: 64, inlineBytes: 0 }));
    expect(err.code).toBe('ERR_PEER_REJECTED');
    expect(err.message).toContain('ERR_SERVER_BUSY');
    const text = printed(err);
    expect(text).not.toMatch(CONTROL);
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(text).toContain('pwned\\x1b[2J');
  });

  it("a peer's error message with escape sequences: escaped in the error and on the terminal", async () => {
    const t = await serve({
      onSession: async (channel) => {
        await channel.receive(['propose']);
        channel.fail({ code: 'ERR_RDMA_WC', message: EVIL, hint: EVIL });
      },
    });
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    channel.send({ type: 'propose', test: 'bw', rails: [0], qps: 1, sizes: [64], txDepth: 64, postList: 1, signalEvery: 1, inlineThreshold: 0, durationMs: 1000, warmupMs: 0, bidir: false, cm: false });
    const err = await rejection(channel.receive(['accept']));
    channel.close();
    expect(err.message).not.toMatch(CONTROL);
    expect(err.hint).not.toMatch(CONTROL);
    expect(printed(err)).not.toMatch(CONTROL);
  });
});

describe("the server's bidirectional figures", () => {
  const ours = {
    size: 65536,
    rails: [{ rail: 3, gbps: 90 }, { rail: 5, gbps: 91 }],
    total: {},
    failures: [],
    raws: [],
  } as unknown as MeasuredSize;
  const rails = [{ ...RAIL, index: 3 }, { ...RAIL, index: 5 }] as Rail[];

  it('are validated: a rate that is not a number or rails that are not a list are ERR_PROTOCOL naming the field', () => {
    expect(() => parsePeerCounters({ rails: [{ rail: 0, gbps: 'lots', bytes: 1, seconds: 1 }] })).toThrow(/finished\.counters\.rails\[0\]\.gbps must be a number/);
    expect(() => parsePeerCounters({ rails: 'x' })).toThrow(/finished\.counters\.rails must be an array/);
    expect(() => parsePeerCounters({ rails: [], extra: 1 })).toThrow(/unknown field "extra"/);
    expect(parsePeerCounters(null)).toBeNull();
  });

  it('land on the rail of their position in the proposal, with the failed rail named', () => {
    const theirs = parsePeerCounters({ rails: [{ rail: 1, gbps: 50, bytes: 100, seconds: 2 }], failures: [{ rail: 0, code: 'ERR_RDMA_WC', message: 'remote access error' }] });
    const folded = foldPeer(ours, theirs, rails);
    expect(folded.rails.map((r) => [r.rail, r.peer?.gbps ?? null, r.peerError ?? null])).toEqual([
      [3, null, 'ERR_RDMA_WC: remote access error'],
      [5, 50, null],
    ]);
  });
});
