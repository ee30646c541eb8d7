// The session protocol without sockets: message validation, framing and the state machine.
import { describe, expect, it } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { Conversation } from '../../lib/session/conversation.js';
import type { Rail } from '../../lib/rails/types.js';
import { helloRail, LineDecoder, parseMessage, stringifyMessage, type AcceptMessage, type ClientMessage } from '../../lib/session/index.js';
import { endpointsFor, PROPOSAL, SERVER_RAILS } from './session-helpers.js';

function rejectionOf(fn: () => unknown): RdmaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RdmaError);
    return err as RdmaError;
  }
  throw new Error('expected a rejection');
}

function wire(message: unknown): Record<string, unknown> {
  return JSON.parse(stringifyMessage(message as ClientMessage)) as Record<string, unknown>;
}

describe('message validation', () => {
  it('accepts every valid message and round-trips 64-bit addresses exactly', () => {
    const accept: AcceptMessage = { type: 'accept', rails: endpointsFor(PROPOSAL, 2) };
    const text = stringifyMessage(accept);
    expect(text).toContain(`"addr":"${0xffff_8000_0000_0000n + 2_000_001n}"`);
    const back = parseMessage(JSON.parse(text), 'server');
    expect(back).toEqual(accept);
    expect(typeof (back as AcceptMessage).rails[0]!.qps[0]!.addr).toBe('bigint');
    expect(parseMessage(wire(PROPOSAL), 'client')).toEqual(PROPOSAL);
    expect(parseMessage({ type: 'hello', version: 2, software: 'x', rails: SERVER_RAILS }, 'server')).toMatchObject({ rails: SERVER_RAILS });
    expect(parseMessage({ type: 'finish', size: 1, counters: null }, 'client')).toEqual({ type: 'finish', size: 1, counters: null });
  });

  it('normalizes GIDs to lower case and refuses other GID forms', () => {
    const rails = endpointsFor(PROPOSAL, 1);
    rails[0]!.gid = '0000:0000:0000:0000:0000:FFFF:0A4D:0001';
    const back = parseMessage(wire({ type: 'connect', rails }), 'client');
    expect((back as { rails: { gid: string }[] }).rails[0]!.gid).toBe('0000:0000:0000:0000:0000:ffff:0a4d:0001');
    rails[0]!.gid = 'fe80::1';
    const err = rejectionOf(() => parseMessage(wire({ type: 'connect', rails }), 'client'));
    expect(err.code).toBe('ERR_PROTOCOL');
    expect(err.message).toMatch(/field rails\[0\]\.gid is .*"fe80::1".* not a GID of 8 colon-separated groups/);
  });

  it('refuses unknown message types, naming the type and the known ones', () => {
    const err = rejectionOf(() => parseMessage({ type: 'launch' }, 'client'));
    expect(err.code).toBe('ERR_PROTOCOL');
    expect(err.message).toBe('unknown message type "launch" from the client (a client sends: hello, propose, connect, start, finish, bye, error)');
    // A server message type is unknown coming from a client.
    expect(rejectionOf(() => parseMessage({ type: 'accept', rails: [] }, 'client')).message).toMatch(/unknown message type "accept" from the client/);
    expect(rejectionOf(() => parseMessage({ size: 1 }, 'client')).message).toBe('the message has no type field');
    expect(rejectionOf(() => parseMessage([1, 2], 'client')).message).toBe('a message must be a JSON object, got an array of 2');
    expect(rejectionOf(() => parseMessage(null, 'server')).message).toBe('a message must be a JSON object, got null');
  });

  it('refuses unknown fields and lists them', () => {
    const err = rejectionOf(() => parseMessage({ ...wire(PROPOSAL), gpu: true, extra: 1 }, 'client'));
    expect(err.code).toBe('ERR_PROTOCOL');
    expect(err.message).toMatch(/^invalid 'propose' from the client: the message has unknown fields "gpu", "extra" \(allowed: type, test, rails,/);
    const nested = wire({ type: 'connect', rails: endpointsFor(PROPOSAL, 1) }) as { rails: { qps: Record<string, unknown>[] }[] };
    nested.rails[1]!.qps[0]!.lkey = 5;
    expect(rejectionOf(() => parseMessage(nested, 'client')).message).toMatch(/field rails\[1\]\.qps\[0\] has unknown field "lkey"/);
  });

  it('refuses wrong types, naming the field, the value and what is allowed', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ qps: '4' }, /field qps must be an integer in 1\.\.4096, got the string "4"/],
      [{ rails: 0 }, /field rails must be an array of 1\.\.64 items, got 0/],
      [{ bidir: 'yes' }, /field bidir must be true or false, got the string "yes"/],
      [{ test: 'read' }, /field test is the string "read", allowed: 'bw', 'lat'/],
      [{ sizes: [4096, 1.5] }, /field sizes\[1\] must be an integer in 1\.\.2147483648, got 1\.5/],
      [{ mtu: 9000 }, /field mtu is 9000, allowed: 256, 512, 1024, 2048, 4096/],
    ];
    for (const [change, expected] of cases) {
      const err = rejectionOf(() => parseMessage({ ...wire(PROPOSAL), ...change }, 'client'));
      expect(err.code).toBe('ERR_PROTOCOL');
      expect(err.message).toMatch(expected);
    }
    const accept = wire({ type: 'accept', rails: endpointsFor(PROPOSAL, 2) }) as { rails: { qps: Record<string, unknown>[] }[] };
    accept.rails[0]!.qps[1]!.addr = 12345;
    expect(rejectionOf(() => parseMessage(accept, 'server')).message).toMatch(
      /field rails\[0\]\.qps\[1\]\.addr must be a decimal string of an integer in 0\.\.18446744073709551615, got 12345/,
    );
  });

  it('refuses out-of-range values, naming the field, the value and the range', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ qps: 5000 }, /field qps is 5000, outside the allowed range 1\.\.4096/],
      [{ qps: 0 }, /field qps is 0, outside the allowed range 1\.\.4096/],
      [{ txDepth: -1 }, /field txDepth is -1, outside the allowed range 1\.\.65536/],
      [{ inlineThreshold: 4097 }, /field inlineThreshold is 4097, outside the allowed range 0\.\.4096/],
      [{ durationMs: 86_400_001 }, /field durationMs is 86400001, outside the allowed range 1\.\.86400000/],
      [{ sizes: [] }, /field sizes has 0 items, allowed 1\.\.64/],
      [{ sizes: [2 ** 31 + 1] }, /field sizes\[0\] is 2147483649, outside the allowed range 1\.\.2147483648/],
      [{ rails: [0, 1, 0] }, /rail indices must be distinct \(rails\[2\] repeats rails\[0\], 0\)/],
      [{ rails: [0, 0] }, /rail indices must be distinct/],
      [{ iterations: 1000 }, /fields iterations \(1000\) and durationMs \(1000\) are both set/],
    ];
    for (const [change, expected] of cases) {
      const err = rejectionOf(() => parseMessage({ ...wire(PROPOSAL), ...change }, 'client'));
      expect(err.code).toBe('ERR_PROTOCOL');
      expect(err.message).toMatch(expected);
    }
    const { durationMs: _omitted, ...noRunLength } = wire(PROPOSAL);
    expect(rejectionOf(() => parseMessage(noRunLength, 'client')).message).toMatch(/iterations and durationMs are both missing; send exactly one/);
    const accept = wire({ type: 'accept', rails: endpointsFor(PROPOSAL, 2) }) as { rails: { qps: Record<string, unknown>[] }[] };
    accept.rails[0]!.qps[0]!.qpn = 2 ** 24;
    expect(rejectionOf(() => parseMessage(accept, 'server')).message).toMatch(/field rails\[0\]\.qps\[0\]\.qpn is 16777216, outside the allowed range 0\.\.16777215/);
    accept.rails[0]!.qps[0]!.qpn = 1;
    accept.rails[0]!.qps[0]!.addr = '18446744073709551616';
    expect(rejectionOf(() => parseMessage(accept, 'server')).message).toMatch(/addr is 18446744073709551616, above the allowed maximum 18446744073709551615/);
    accept.rails[0]!.qps[0]!.addr = '-1';
    expect(rejectionOf(() => parseMessage(accept, 'server')).message).toMatch(/addr must be a decimal string/);
  });

  it('answers a hello of another version with ERR_PROTOCOL_VERSION naming both versions', () => {
    const fromClient = rejectionOf(() => parseMessage({ type: 'hello', version: 3, software: 'x', future: true }, 'client'));
    expect(fromClient.code).toBe('ERR_PROTOCOL_VERSION');
    expect(fromClient.message).toBe('protocol version mismatch: the client speaks version 3, this server speaks version 2');
    expect(fromClient.hint).toMatch(/same @spark\/rdma release on both nodes/);
    const fromServer = rejectionOf(() => parseMessage({ type: 'hello', version: 0, software: 'x', rails: [] }, 'server'));
    expect(fromServer.message).toBe('protocol version mismatch: the server speaks version 0, this client speaks version 2');
    // A version that is not an integer is plain bad input.
    expect(rejectionOf(() => parseMessage({ type: 'hello', version: '1', software: 'x' }, 'client')).code).toBe('ERR_PROTOCOL');
  });

  it('bounds how deep counters may nest', () => {
    let deep: Record<string, unknown> = { bytes: 1 };
    for (let i = 0; i < 7; i++) deep = { level: deep };
    expect(parseMessage({ type: 'finish', size: 1, counters: deep }, 'client')).toMatchObject({ counters: deep });
    const err = rejectionOf(() => parseMessage({ type: 'finished', size: 1, counters: { level: deep } }, 'server'));
    expect(err.message).toBe("invalid 'finished' from the server: field counters nests deeper than 8 levels");
    let huge: unknown = 1;
    for (let i = 0; i < 20_000; i++) huge = [huge];
    expect(rejectionOf(() => parseMessage({ type: 'finish', size: 1, counters: { x: huge } }, 'client')).message).toMatch(/nests deeper than 8 levels/);
  });

  it('escapes peer text in messages so it cannot forge log lines', () => {
    const err = rejectionOf(() => parseMessage({ type: 'propose\nroot login', x: 1 }, 'client'));
    expect(err.message).not.toMatch(/\n/);
    expect(err.message).toContain('"propose\\nroot login"');
  });
});

describe('LineDecoder', () => {
  it('splits lines across chunks and parses each as JSON', () => {
    const decoder = new LineDecoder(1024);
    expect(decoder.push(Buffer.from('{"a":1}\n{"b"'))).toEqual({ values: [{ a: 1 }], error: null });
    expect(decoder.pendingBytes).toBe(4);
    expect(decoder.push(Buffer.from(':2}\n[3]\n'))).toEqual({ values: [{ b: 2 }, [3]], error: null });
    expect(decoder.lines).toBe(3);
  });

  it('fails an oversized line as soon as it crosses the limit, without a newline', () => {
    const decoder = new LineDecoder(300);
    expect(decoder.push(Buffer.alloc(200, 0x20)).error).toBeNull();
    const { error } = decoder.push(Buffer.alloc(200, 0x20));
    expect(error?.code).toBe('ERR_PROTOCOL');
    expect(error?.message).toBe('line 1 is longer than the 300-byte limit (400 bytes and no newline yet)');
    expect(decoder.pendingBytes).toBe(0);
    // Once failed, it stays failed.
    expect(decoder.push(Buffer.from('{}\n')).error).toBe(error);
  });

  it('accepts a line of exactly the limit', () => {
    const decoder = new LineDecoder(256);
    const line = `"${'x'.repeat(254)}"\n`;
    expect(decoder.push(Buffer.from(line))).toEqual({ values: ['x'.repeat(254)], error: null });
  });

  it('fails invalid UTF-8 and invalid JSON, saying which line and what', () => {
    const utf8 = new LineDecoder(1024);
    const bad = utf8.push(Buffer.concat([Buffer.from('{}\n{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    expect(bad.values).toEqual([{}]);
    expect(bad.error?.message).toBe('line 2 is not valid UTF-8 (10 bytes)');
    const json = new LineDecoder(1024);
    const broken = json.push(Buffer.from('{"type":"hello",\n'));
    expect(broken.error?.code).toBe('ERR_PROTOCOL');
    expect(broken.error?.message).toMatch(/^line 1 is not valid JSON \(.+\): "\{\\"type\\":\\"hello\\","$/);
  });
});

describe('Conversation (the state machine)', () => {
  const accept = { type: 'accept', rails: endpointsFor(PROPOSAL, 2) } as const;

  function through(steps: [('client' | 'server'), unknown][]): Conversation {
    const c = new Conversation();
    for (const [from, message] of steps) {
      const problem = c.observe(from, message as ClientMessage);
      if (problem !== null) throw new Error(`unexpected problem at ${JSON.stringify(message)}: ${problem}`);
    }
    return c;
  }

  const opening: [('client' | 'server'), unknown][] = [
    ['client', { type: 'hello', version: 2, software: 'c' }],
    ['server', { type: 'hello', version: 2, software: 's', rails: SERVER_RAILS }],
    ['client', PROPOSAL],
    ['server', accept],
    ['client', { type: 'connect', rails: endpointsFor(PROPOSAL, 1) }],
    ['server', { type: 'ready' }],
  ];

  it('walks a full session, with several sizes and a re-proposal after a reject', () => {
    const c = through([
      opening[0]!,
      opening[1]!,
      ['client', PROPOSAL],
      ['server', { type: 'reject', code: 'ERR_X', message: 'no' }],
      ...opening.slice(2),
      ['client', { type: 'start', size: 4096 }],
      ['server', { type: 'started' }],
      ['client', { type: 'finish', size: 4096, counters: null }],
      ['server', { type: 'finished', size: 4096, counters: {} }],
      ['client', { type: 'start', size: 65536 }],
      ['server', { type: 'started' }],
      ['client', { type: 'finish', size: 65536, counters: null }],
      ['server', { type: 'finished', size: 65536, counters: null }],
      ['client', { type: 'bye' }],
    ]);
    expect(c.ended).toBe(true);
    expect(c.proposal).toEqual(PROPOSAL);
  });

  it('names duplicated, out-of-order and unsolicited messages', () => {
    const c = through(opening.slice(0, 1));
    expect(c.observe('client', { type: 'hello', version: 2, software: 'c' })).toBe(
      "duplicated 'hello' from the client (the server has not answered the first one yet)",
    );
    expect(c.observe('client', PROPOSAL)).toBe(
      "'propose' from the client before the server answered its 'hello' (send one request and wait for its answer)",
    );
    const d = through(opening.slice(0, 2));
    expect(d.observe('client', { type: 'hello', version: 2, software: 'c' })).toBe("duplicated 'hello' from the client (it was already answered)");
    expect(d.observe('client', { type: 'start', size: 4096 })).toBe(
      "out-of-order 'start' from the client after 'hello': it may send 'propose' or 'bye' now",
    );
    expect(d.observe('server', { type: 'ready' })).toBe("unsolicited 'ready' from the server: no request is waiting for an answer");
    expect(d.observe('server', { type: 'hello', version: 2, software: 's', rails: [] })).toBe(
      "duplicated 'hello' from the server (its request was already answered)",
    );
    const e = through(opening.slice(0, 3));
    expect(e.observe('server', { type: 'ready' })).toBe("'ready' from the server does not answer the client's 'propose' (expected 'accept' or 'reject')");
  });

  it('checks sizes and rail shapes against the proposal', () => {
    const c = through(opening);
    expect(c.observe('client', { type: 'start', size: 8 })).toBe("'start' names size 8, which is not among the proposed sizes [4096, 65536]");
    expect(c.observe('client', { type: 'start', size: 4096 })).toBeNull();
    expect(c.observe('server', { type: 'started' })).toBeNull();
    expect(c.observe('client', { type: 'finish', size: 65536, counters: null })).toBe("'finish' names size 65536, but the running size is 4096");
    const d = through(opening.slice(0, 3));
    expect(d.observe('server', { type: 'accept', rails: endpointsFor({ ...PROPOSAL, qps: 3 }, 2) })).toBe(
      "'accept' rails[0] has 3 QP(s), but the proposal asks for 2 per rail",
    );
    expect(d.observe('server', { type: 'accept', rails: endpointsFor({ ...PROPOSAL, rails: [0] }, 2) })).toBe(
      "'accept' describes 1 rail(s), but the proposal has 2",
    );
    expect(d.observe('server', { type: 'accept', rails: endpointsFor({ ...PROPOSAL, rails: [1, 2] }, 2) })).toBe(
      "'accept' describes rails [1, 2], but the client proposed rails [0, 1]",
    );
  });

  it("a lat start may name the rails it times (v2): each once, within the proposal; never in bw", () => {
    const lat = { ...PROPOSAL, test: 'lat' as const, qps: 1 };
    const latOpening: [('client' | 'server'), unknown][] = [
      ...opening.slice(0, 2),
      ['client', lat],
      ['server', { type: 'accept', rails: endpointsFor(lat, 2) }],
      ['client', { type: 'connect', rails: endpointsFor(lat, 1) }],
      ['server', { type: 'ready' }],
    ];
    // Rail by rail, one size: start/finish twice with the same size is a normal session.
    const c = through([
      ...latOpening,
      ['client', { type: 'start', size: 4096, rails: [0] }],
      ['server', { type: 'started' }],
      ['client', { type: 'finish', size: 4096, counters: null }],
      ['server', { type: 'finished', size: 4096, counters: null }],
    ]);
    expect(c.observe('client', { type: 'start', size: 4096, rails: [2] })).toBe("'start' names rail 2, but the proposal has 2 rail(s)");
    expect(c.observe('client', { type: 'start', size: 4096, rails: [1, 1] })).toBe("'start' names a rail twice: [1, 1]");
    expect(c.observe('client', { type: 'start', size: 4096, rails: [1] })).toBeNull();
    const bw = through(opening);
    expect(bw.observe('client', { type: 'start', size: 4096, rails: [0] })).toBe(
      "'start' names rails, but only a lat session times rails one by one (this is bw)",
    );
    // The message itself: at least one rail, each a rail index.
    expect(parseMessage({ type: 'start', size: 4096, rails: [1] }, 'client')).toEqual({ type: 'start', size: 4096, rails: [1] });
    expect(() => parseMessage({ type: 'start', size: 4096, rails: [] }, 'client')).toThrow(/rails/);
    expect(() => parseMessage({ type: 'start', size: 4096, rails: ['0'] }, 'client')).toThrow(/rails/);
  });

  it('ends on an error from either side and refuses anything after', () => {
    const c = through(opening.slice(0, 2));
    expect(c.observe('server', { type: 'error', code: 'ERR_X', message: 'gone' })).toBeNull();
    expect(c.ended).toBe(true);
    expect(c.observe('client', PROPOSAL)).toBe("'propose' from the client after the session ended");
  });
});

describe('helloRail', () => {
  const rail: Rail = {
    index: 1,
    device: 'roceP2p1s0f1',
    port: 1,
    netdev: 'enP2p1s0f1np1',
    ipv4: '192.168.101.10',
    gidIndex: 3,
    gid: '0000:0000:0000:0000:0000:FFFF:C0A8:650A',
    gidIndexSource: 'ipv4-rocev2',
    activeMtu: 4096,
    rateGbps: 200,
    state: 'ACTIVE',
    physState: 'LINK_UP',
    netdevMtu: 9000,
    carrier: true,
    pciAddress: '0002:01:00.1',
  };

  it("describes a discovered rail the way the server's hello must", () => {
    const hello = helloRail(rail);
    expect(hello).toEqual({
      index: 1,
      device: 'roceP2p1s0f1',
      port: 1,
      ipv4: '192.168.101.10',
      gid: '0000:0000:0000:0000:0000:ffff:c0a8:650a',
      gidIndex: 3,
      activeMtu: 4096,
    });
    expect(parseMessage({ type: 'hello', version: 2, software: 's', rails: [hello] }, 'server')).toMatchObject({ rails: [hello] });
    expect(helloRail({ ...rail, gid: null, gidIndex: null }).gid).toBeNull();
  });

  it('refuses an active MTU the protocol cannot carry, naming it', () => {
    expect(() => helloRail({ ...rail, activeMtu: 1500 })).toThrow('rail 1 (roceP2p1s0f1) has active MTU 1500, not one of 256, 512, 1024, 2048, 4096');
  });
});
