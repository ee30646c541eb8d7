// The session layer over real loopback TCP (127.0.0.1 only): a full exchange, version and
// deadline failures, one session at a time, and the lifecycle, each ending within its deadline
// with a distinct code and a clear message. Bad input is in session-bad-input.test.ts.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { Channel, connectSession, SessionServer, type ClientMessage, type SessionPeer } from '../../lib/session/index.js';
import { serve, rawServer, rejection, dropLine, cleanups } from './session-harness.js';
import { endpointsFor, fakeServerSession, LOOPBACK, PROPOSAL, RawClient, SERVER_RAILS, waitFor } from './session-helpers.js';

describe('session over loopback', () => {
  it('runs a full exchange through every message type', async () => {
    const seen: { peer: SessionPeer; received: ClientMessage[] }[] = [];
    const t = await serve({
      onSession: async (channel, peer) => {
        seen.push({ peer, received: await fakeServerSession(channel) });
      },
    });
    const { channel, serverHello } = await connectSession({ host: LOOPBACK, port: t.port, connectTimeoutMs: 1_000, handshakeTimeoutMs: 1_000, software: 'test-client' });
    cleanups.push(() => channel.close());
    expect(serverHello).toEqual({ type: 'hello', version: 2, software: 'test-server', rails: SERVER_RAILS });

    channel.send({ ...PROPOSAL, rails: [0, 7] });
    expect(await channel.receive(['accept', 'reject'], 1_000)).toEqual({
      type: 'reject',
      code: 'ERR_RAIL_UNKNOWN',
      message: 'no rail 7 here',
      hint: 'propose rails 0..1',
    });
    channel.send(PROPOSAL);
    const accept = await channel.receive(['accept', 'reject'], 1_000);
    expect(accept).toEqual({ type: 'accept', rails: endpointsFor(PROPOSAL, 2) });
    expect(channel.proposal).toEqual(PROPOSAL);
    channel.send({ type: 'connect', rails: endpointsFor(PROPOSAL, 1) });
    expect(await channel.receive(['ready'], 1_000)).toEqual({ type: 'ready' });
    for (const size of PROPOSAL.sizes) {
      channel.send({ type: 'start', size });
      expect(await channel.receive(['started'], 1_000)).toEqual({ type: 'started' });
      channel.send({ type: 'finish', size, counters: { bytes: size, side: 'client' } });
      expect(await channel.receive(['finished'], 1_000)).toEqual({ type: 'finished', size, counters: { bytes: size * 10, side: 'server' } });
    }
    channel.send({ type: 'bye' });
    channel.close();
    expect(channel.closed).toBe(true);
    channel.close(); // idempotent

    await waitFor(() => t.server.stats.sessionsServed === 1, 2_000, 'the session to be served');
    expect(t.server.stats).toEqual({ sessionsServed: 1, clientsDropped: 0, clientsRefused: 0, active: 0, handshaking: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.peer).toMatchObject({ address: LOOPBACK, software: 'test-client' });
    // The server got exactly what the client sent, 64-bit addresses included.
    expect(seen[0]!.received.map((m) => m.type)).toEqual(['propose', 'propose', 'connect', 'start', 'finish', 'start', 'finish', 'bye']);
    expect(seen[0]!.received[2]).toEqual({ type: 'connect', rails: endpointsFor(PROPOSAL, 1) });
    expect(seen[0]!.received[4]).toEqual({ type: 'finish', size: 4096, counters: { bytes: 4096, side: 'client' } });
    expect(t.logs).toContain(`session with ${seen[0]!.peer.label} (test-client) started`);
    expect(t.logs).toContain(`session with ${seen[0]!.peer.label} ended`);
    expect(t.logs[0]).toBe(`listening on ${LOOPBACK}:${t.port} (protocol v2, at most 1 session(s) at a time)`);
  });

  it('a client of another protocol version: the server refuses it and both sides say why', async () => {
    const t = await serve();
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: LOOPBACK, port: t.port }, () => resolve(s));
      s.once('error', reject);
    });
    const label = `${LOOPBACK}:${socket.localPort}`;
    // A client-side channel reads the answer; the hello of version 2 is written raw.
    const channel = new Channel(socket, { role: 'client' });
    cleanups.push(() => channel.close());
    socket.write(`${JSON.stringify({ type: 'hello', version: 3, software: 'future', features: ['x'] })}\n`);
    const err = await rejection(channel.receive(['hello'], 1_000));
    expect(err.code).toBe('ERR_PROTOCOL_VERSION');
    expect(err.message).toBe('peer: protocol version mismatch: the client speaks version 3, this server speaks version 2');
    expect(err.hint).toBe('install the same @spark/rdma release on both nodes');
    await waitFor(() => t.server.stats.clientsDropped === 1);
    expect(t.logs).toContain(
      `dropped ${label}: ERR_PROTOCOL_VERSION: protocol version mismatch: the client speaks version 3, this server speaks version 2`,
    );
    channel.close();
  });

  it('a server of another protocol version: the client refuses it and tells the server', async () => {
    const heard: string[] = [];
    const { port } = await rawServer((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        heard.push(...text.split('\n').filter(Boolean));
        if (heard.length === 1) socket.write(`${JSON.stringify({ type: 'hello', version: 3, software: 'future', rails: [] })}\n`);
      });
    });
    const err = await rejection(connectSession({ host: LOOPBACK, port, handshakeTimeoutMs: 1_000 }));
    expect(err.code).toBe('ERR_PROTOCOL_VERSION');
    expect(err.message).toBe('protocol version mismatch: the server speaks version 3, this client speaks version 2');
    await waitFor(() => heard.length === 2, 2_000, 'the client to tell the server');
    expect(JSON.parse(heard[0]!)).toMatchObject({ type: 'hello', version: 2 });
    expect(JSON.parse(heard[1]!)).toEqual({
      type: 'error',
      code: 'ERR_PROTOCOL_VERSION',
      message: 'protocol version mismatch: the server speaks version 3, this client speaks version 2',
      hint: 'install the same @spark/rdma release on both nodes',
    });
  });

  it('nothing listening: ERR_PEER_UNREACHABLE naming the address and what to start', async () => {
    const { server, port } = await rawServer(() => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await rejection(connectSession({ host: LOOPBACK, port, connectTimeoutMs: 1_000 }));
    expect(err.code).toBe('ERR_PEER_UNREACHABLE');
    expect(err.message).toBe(`nothing listens on ${LOOPBACK}:${port}; start \`spark-rdma bw\` there first`);
    expect(err.syscall).toBe('connect');
  });

  it('a server that accepts TCP and says nothing: ERR_PEER_SILENT within the handshake deadline', async () => {
    const { port } = await rawServer(() => {});
    const started = Date.now();
    const err = await rejection(connectSession({ host: LOOPBACK, port, handshakeTimeoutMs: 300 }));
    const elapsed = Date.now() - started;
    expect(err.code).toBe('ERR_PEER_SILENT');
    expect(err.message).toBe(`${LOOPBACK}:${port} accepted the connection but sent no hello within 300 ms`);
    expect(err.hint).toMatch(/spark-rdma server of the same release/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('a silent client is dropped within the handshake deadline and the server keeps serving', async () => {
    const t = await serve({ handshakeTimeoutMs: 300 });
    const client = await RawClient.open(t.port);
    cleanups.push(() => client.destroy());
    const started = Date.now();
    const line = await client.line(0, 1_500);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
    expect(JSON.parse(line!)).toMatchObject({
      type: 'error',
      code: 'ERR_PEER_SILENT',
      message: `no 'hello' from the client at ${client.label} within 300 ms (before any message): the peer went silent`,
    });
    await client.closedByServer();
    expect(dropLine(t.logs, client.label)).toBe(
      `dropped ${client.label}: ERR_PEER_SILENT: no 'hello' from the client at ${client.label} within 300 ms (before any message): the peer went silent`,
    );
    const next = await connectSession({ host: LOOPBACK, port: t.port });
    next.channel.send({ type: 'bye' });
    next.channel.close();
    await waitFor(() => t.server.stats.sessionsServed === 1);
    expect(t.server.stats.clientsDropped).toBe(1);
  });

  it('serves one session at a time: a second client gets ERR_SERVER_BUSY, the next one after is served', async () => {
    const t = await serve();
    const first = await connectSession({ host: LOOPBACK, port: t.port });
    cleanups.push(() => first.channel.close());
    const err = await rejection(connectSession({ host: LOOPBACK, port: t.port, handshakeTimeoutMs: 1_000 }));
    expect(err.code).toBe('ERR_SERVER_BUSY');
    expect(err.message).toBe('peer: this server already runs 1 session(s), its limit; try again when the current run ends');
    expect(err.hint).toMatch(/one benchmark at a time per server/);
    expect(t.server.stats.clientsRefused).toBe(1);
    expect(t.logs.some((l) => /^refused 127\.0\.0\.1:\d+: ERR_SERVER_BUSY: this server already runs 1 session/.test(l))).toBe(true);

    first.channel.send({ type: 'bye' });
    first.channel.close();
    await waitFor(() => t.server.stats.sessionsServed === 1 && t.server.stats.active === 0);
    const third = await connectSession({ host: LOOPBACK, port: t.port });
    expect(third.serverHello.rails).toEqual(SERVER_RAILS);
    // Without a software option the hello names this package and its version.
    expect(t.logs.at(-1)).toMatch(/^session with 127\.0\.0\.1:\d+ \(@spark\/rdma \d+\.\d+\.\d+\S*\) started$/);
    third.channel.send({ type: 'bye' });
    third.channel.close();
    await waitFor(() => t.server.stats.sessionsServed === 2);
    expect(t.server.stats).toMatchObject({ sessionsServed: 2, clientsDropped: 0, clientsRefused: 1 });
  });

  it('a client killed mid-run: the waiting server step fails with ERR_PEER_CLOSED and the next client is served', async () => {
    const failures: RdmaError[] = [];
    const t = await serve({
      onSession: async (channel) => {
        try {
          await fakeServerSession(channel);
        } catch (err) {
          failures.push(err as RdmaError);
          throw err;
        }
      },
    });
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    channel.send(PROPOSAL);
    await channel.receive(['accept'], 1_000);
    channel.send({ type: 'connect', rails: endpointsFor(PROPOSAL, 1) });
    await channel.receive(['ready'], 1_000);
    channel.send({ type: 'start', size: 65536 });
    await channel.receive(['started'], 1_000);
    channel.close(); // killed: no finish, no bye
    await waitFor(() => failures.length === 1);
    expect(failures[0]!.code).toBe('ERR_PEER_CLOSED');
    expect(failures[0]!.message).toMatch(
      /^(the client at 127\.0\.0\.1:\d+ (closed|reset) the connection.*|the connection to the client at 127\.0\.0\.1:\d+ closed) while this side waited for 'finish' \(after 'started'\)$/,
    );
    await waitFor(() => t.server.stats.clientsDropped === 1 && t.server.stats.active === 0);
    const next = await connectSession({ host: LOOPBACK, port: t.port });
    next.channel.send({ type: 'bye' });
    next.channel.close();
    await waitFor(() => t.server.stats.sessionsServed === 1);
  });

  it("the server's own failure reaches the client with its code, message and hint", async () => {
    const t = await serve({
      onSession: async (channel) => {
        await channel.receive(['propose'], 1_000);
        throw new RdmaError('ibv_open_device(rocep1s0f1) failed: Permission denied', { code: 'ERR_RDMA_SYSCALL', hint: 'check /dev/infiniband permissions' });
      },
    });
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    channel.send(PROPOSAL);
    const err = await rejection(channel.receive(['accept', 'reject'], 1_000));
    expect(err.code).toBe('ERR_RDMA_SYSCALL');
    expect(err.message).toBe('peer: ibv_open_device(rocep1s0f1) failed: Permission denied');
    expect(err.hint).toBe('check /dev/infiniband permissions');
    // The session is over: sending now fails with the same error.
    expect(() => channel.send({ type: 'bye' })).toThrow(/peer: ibv_open_device/);
    expect(channel.signal.aborted).toBe(true);
    channel.close();
    await waitFor(() => t.server.stats.clientsDropped === 1);
    expect(t.logs.some((l) => l.endsWith(': ERR_RDMA_SYSCALL: ibv_open_device(rocep1s0f1) failed: Permission denied'))).toBe(true);
  });

  it('a peer that goes silent mid-session: ERR_PEER_SILENT naming the awaited message and the wait', async () => {
    const { port } = await rawServer((socket) => {
      socket.once('data', () => socket.write(`${JSON.stringify({ type: 'hello', version: 2, software: 's', rails: [] })}\n`));
    });
    const { channel } = await connectSession({ host: LOOPBACK, port });
    cleanups.push(() => channel.close());
    channel.send(PROPOSAL);
    const started = Date.now();
    const err = await rejection(channel.receive(['accept', 'reject'], 300));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.code).toBe('ERR_PEER_SILENT');
    expect(err.message).toBe(`no 'accept' or 'reject' from the server at ${LOOPBACK}:${port} within 300 ms (after the client's 'propose'): the peer went silent`);
  });

  it('close() ends running sessions: both ends of a waiting step fail, and the server stops listening', async () => {
    const t = await serve();
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    const pending = rejection(channel.receive(['accept'], 5_000));
    await waitFor(() => t.logs.some((l) => l.endsWith(' started')));
    await t.close();
    const err = await pending;
    expect(err.code).toBe('ERR_PEER_CLOSED');
    expect(err.message).toMatch(/^(the server at 127\.0\.0\.1:\d+ closed the connection|the connection to the server at 127\.0\.0\.1:\d+ closed) while this side waited for 'accept' \(after 'hello'\)$/);
    expect(t.server.stats).toMatchObject({ active: 0, clientsDropped: 1 });
    expect(t.logs.some((l) => /: ERR_SESSION_CLOSED: this side closed the session while this side waited for 'propose' or 'bye' \(after 'hello'\)$/.test(l))).toBe(true);
    expect(t.logs.at(-1)).toBe('closed');
    const refused = await rejection(connectSession({ host: LOOPBACK, port: t.port, connectTimeoutMs: 1_000 }));
    expect(refused.code).toBe('ERR_PEER_UNREACHABLE');
  });

  it('refuses to send a line above the limit, saying how big it is and what to change', async () => {
    const thrown: RdmaError[] = [];
    const t = await serve({
      onSession: async (channel) => {
        const propose = await channel.receive(['propose'], 1_000);
        try {
          channel.send({ type: 'accept', rails: endpointsFor({ ...propose, qps: 1000 }, 2) });
        } catch (err) {
          thrown.push(err as RdmaError);
          throw err;
        }
      },
    });
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    cleanups.push(() => channel.close());
    channel.send({ ...PROPOSAL, qps: 1000 });
    const err = await rejection(channel.receive(['accept', 'reject'], 1_000));
    expect(thrown[0]!.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(thrown[0]!.message).toMatch(/^refusing to send a \d+-byte 'accept': the line limit is 65536 bytes$/);
    expect(thrown[0]!.hint).toBe('use fewer QPs per rail, or raise maxLineBytes on both ends');
    // The client learns why instead of waiting out its deadline.
    expect(err.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(err.message).toMatch(/^peer: refusing to send a \d+-byte 'accept'/);
  });

  it('refuses to bind a port already in use, naming the port and --port', async () => {
    const t = await serve();
    const second = new SessionServer({
      addresses: [LOOPBACK],
      port: t.port,
      serverHello: () => ({ software: 's', rails: [] }),
      onSession: async () => {},
    });
    const err = await rejection(second.listen());
    expect(err.code).toBe('ERR_SERVER_ADDRESS_IN_USE');
    expect(err.message).toBe(`port ${t.port} on ${LOOPBACK} is already in use (another spark-rdma server?); stop it or choose another port with --port`);
  });

  it('validates its own options and outgoing messages', async () => {
    const base = { serverHello: () => ({ software: 's', rails: [] }), onSession: async () => {} };
    expect(() => new SessionServer({ ...base, addresses: [] })).toThrow(/addresses is empty/);
    expect(() => new SessionServer({ ...base, addresses: ['rail0'] })).toThrow(/address "rail0" is not an IP address/);
    expect(() => new SessionServer({ ...base, addresses: [LOOPBACK], port: 70000 })).toThrow(/port is 70000, allowed 0\.\.65535/);
    expect(() => new SessionServer({ ...base, addresses: [LOOPBACK], maxSessions: 0 })).toThrow(/maxSessions is 0, allowed 1\.\.1024/);

    const t = await serve();
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    cleanups.push(() => channel.close());
    const badQps = { ...PROPOSAL, qps: 0 };
    const invalid = (() => {
      try {
        channel.send(badQps);
      } catch (err) {
        return err as RdmaError;
      }
      return null;
    })();
    expect(invalid?.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    expect(invalid?.message).toBe("refusing to send: invalid 'propose' from the client: field qps is 0, outside the allowed range 1..4096");
    const outOfTurn = (() => {
      try {
        channel.send({ type: 'start', size: 4096 });
      } catch (err) {
        return err as RdmaError;
      }
      return null;
    })();
    expect(outOfTurn?.code).toBe('ERR_SESSION_STATE');
    expect(outOfTurn?.message).toBe("this side may not send now: out-of-order 'start' from the client after 'hello': it may send 'propose' or 'bye' now");
    await expect(channel.receive(['accept'], 0)).rejects.toThrow(/timeoutMs is 0, allowed 1\.\.2147483647 ms/);
  });
});
