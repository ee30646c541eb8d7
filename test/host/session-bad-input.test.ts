// Bad input on a live session over loopback TCP: oversized and truncated lines, duplicated and
// out-of-order messages, unknown fields, wrong types and values out of range. Each is refused
// with the field, the value and the rule, and the server drops that client and keeps serving.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectSession, stringifyMessage } from '../../lib/session/index.js';
import { serve, rawServer, rejection, dropLine, helloClient, expectDropped, cleanups } from './session-harness.js';
import { endpointsFor, LOOPBACK, PROPOSAL, RawClient, waitFor } from './session-helpers.js';

describe('bad input on a session', () => {
  it('an oversized line is refused as soon as it passes the limit', async () => {
    const t = await serve({ maxLineBytes: 1024 });
    const client = await helloClient(t.port);
    client.write('{"type":"propose","test":"' + 'x'.repeat(5000));
    await expectDropped(t, client, 'ERR_PROTOCOL', /^line 2 is longer than the 1024-byte limit \(\d+ bytes and no newline yet\)/);
  });

  it('a truncated line then a close: ERR_PEER_CLOSED saying mid-message and at which step', async () => {
    const t = await serve();
    const client = await helloClient(t.port);
    const partial = '{"type":"propose","test":"bw"';
    client.write(partial);
    client.socket.end();
    await client.closedByServer();
    await waitFor(() => dropLine(t.logs, client.label) !== undefined);
    expect(dropLine(t.logs, client.label)).toBe(
      `dropped ${client.label}: ERR_PEER_CLOSED: the client at ${client.label} closed the connection in the middle of a message ` +
        `(${partial.length} bytes without a final newline) while this side waited for 'propose' or 'bye' (after 'hello')`,
    );
  });

  it('duplicated messages: before and after the answer', async () => {
    const t = await serve();
    const early = await RawClient.open(t.port);
    cleanups.push(() => early.destroy());
    const hello = `${JSON.stringify({ type: 'hello', version: 2, software: 'raw' })}\n`;
    early.write(hello + hello);
    // The first hello is answered or not depending on timing; the error always follows.
    await waitFor(() => early.lines.some((l) => l.includes('"error"')), 2_000, 'the error line');
    const error = JSON.parse(early.lines.find((l) => l.includes('"error"'))!) as { code: string; message: string };
    expect(error.code).toBe('ERR_PROTOCOL');
    expect(error.message).toMatch(/^duplicated 'hello' from the client \((the server has not answered the first one yet|it was already answered)\)$/);
    await early.closedByServer();

    const late = await helloClient(t.port);
    late.send(PROPOSAL);
    expect(JSON.parse((await late.line(1))!)).toMatchObject({ type: 'accept' });
    late.send(PROPOSAL);
    await expectDropped(t, late, 'ERR_PROTOCOL', /^duplicated 'propose' from the client \(it was already answered\)/);
  });

  it('out-of-order messages are refused with what was allowed', async () => {
    const t = await serve();
    const client = await helloClient(t.port);
    client.send({ type: 'start', size: 4096 });
    await expectDropped(t, client, 'ERR_PROTOCOL', /^out-of-order 'start' from the client after 'hello': it may send 'propose' or 'bye' now/);
  });

  it('unknown fields are refused and listed', async () => {
    const t = await serve();
    const client = await helloClient(t.port);
    client.send({ ...JSON.parse(stringifyMessage(PROPOSAL)), gpuDirect: true });
    await expectDropped(t, client, 'ERR_PROTOCOL', /^invalid 'propose' from the client: the message has unknown field "gpuDirect" \(allowed: type, test, rails/);
  });

  it('wrong types are refused naming the field and the value', async () => {
    const t = await serve();
    const client = await helloClient(t.port);
    client.send({ ...JSON.parse(stringifyMessage(PROPOSAL)), qps: '4' });
    await expectDropped(t, client, 'ERR_PROTOCOL', /^invalid 'propose' from the client: field qps must be an integer in 1\.\.4096, got the string "4"/);
  });

  it('out-of-range values are refused naming the field, the value and the range', async () => {
    const t = await serve();
    const client = await helloClient(t.port);
    client.send(PROPOSAL);
    expect(JSON.parse((await client.line(1))!)).toMatchObject({ type: 'accept' });
    const rails = JSON.parse(stringifyMessage({ type: 'connect', rails: endpointsFor(PROPOSAL, 1) })) as { rails: { qps: { psn: number }[] }[] };
    rails.rails[1]!.qps[0]!.psn = 2 ** 24;
    client.send(rails);
    await expectDropped(t, client, 'ERR_PROTOCOL', /^invalid 'connect' from the client: field rails\[1\]\.qps\[0\]\.psn is 16777216, outside the allowed range 0\.\.16777215/);
  });

  it('an unknown message type and invalid UTF-8 are refused', async () => {
    const t = await serve();
    const a = await helloClient(t.port);
    a.send({ type: 'launch', missiles: 2 });
    await expectDropped(t, a, 'ERR_PROTOCOL', /^unknown message type "launch" from the client \(a client sends: hello, propose, connect, start, finish, bye, error\)/);
    const b = await helloClient(t.port);
    b.write(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
    await expectDropped(t, b, 'ERR_PROTOCOL', /^line 2 is not valid UTF-8 \(4 bytes\)/);
    expect(t.server.stats.clientsDropped).toBe(2);
  });

  it('a server that answers twice: the client refuses the duplicate on its next step', async () => {
    const { port } = await rawServer((socket) => {
      socket.once('data', () => {
        const hello = `${JSON.stringify({ type: 'hello', version: 2, software: 's', rails: [] })}\n`;
        socket.write(hello + hello);
      });
    });
    const { channel } = await connectSession({ host: LOOPBACK, port });
    cleanups.push(() => channel.close());
    const err = await rejection(channel.receive(['accept'], 1_000));
    expect(err.code).toBe('ERR_PROTOCOL');
    expect(err.message).toBe("duplicated 'hello' from the server (its request was already answered)");
  });
});
