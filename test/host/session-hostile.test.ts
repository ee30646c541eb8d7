// The real session server and channel (loopback TCP, a fake session behind it) against peers
// that hold connections without speaking, or stop speaking mid-session (issue 20 point 4,
// issue 13 point 1's ERR_PEER_SILENT).
import { connect, Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { Channel, connectSession } from '../../lib/session/index.js';
import { cleanups, rawServer, rejection, serve } from './session-harness.js';
import { LOOPBACK, SERVER_RAILS, waitFor } from './session-helpers.js';

/** A TCP connection to the server that never says hello. */
async function idleConnection(port: number): Promise<Socket> {
  const socket = connect(port, LOOPBACK);
  socket.on('error', () => undefined);
  // Read (and drop) what the server says, so its closing shows as 'end'.
  socket.resume();
  cleanups.push(() => void socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

describe('connections that never say hello', () => {
  it('an idle connection does not take the only session slot: a real client is served at once', async () => {
    const t = await serve({ maxSessions: 1, handshakeTimeoutMs: 5_000 });
    await idleConnection(t.port);
    const { channel, serverHello } = await connectSession({ host: LOOPBACK, port: t.port, handshakeTimeoutMs: 2_000 });
    cleanups.push(() => channel.close());
    expect(serverHello.rails).toEqual(SERVER_RAILS);
    channel.send({ type: 'bye' });
  });

  it('40 idle connections (more than the handshake pool) cannot lock a real client out; the oldest are dropped', async () => {
    const t = await serve({ maxSessions: 1, handshakeTimeoutMs: 5_000 });
    const idle: Socket[] = [];
    for (let i = 0; i < 40; i++) idle.push(await idleConnection(t.port));
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port, handshakeTimeoutMs: 2_000 });
    cleanups.push(() => channel.close());
    channel.send({ type: 'bye' });
    await waitFor(() => idle.filter((s) => s.destroyed || s.readableEnded).length >= 40 - 16, 3_000, 'the oldest idle connections to be dropped');
    expect(t.logs.some((l) => /^dropped 127\.0\.0\.1:\d+: ERR_SERVER_BUSY: .*handshake/.test(l))).toBe(true);
  });

  it('a hello while a session runs is refused with the real reason', async () => {
    const t = await serve({ maxSessions: 1, handshakeTimeoutMs: 5_000 });
    // Connects before the session starts (so it is in the handshake pool), says hello after.
    const late = await idleConnection(t.port);
    const first = await connectSession({ host: LOOPBACK, port: t.port, handshakeTimeoutMs: 2_000 });
    cleanups.push(() => first.channel.close());
    const lines: string[] = [];
    late.setEncoding('utf8');
    late.removeAllListeners('data');
    late.on('data', (text: string) => lines.push(...text.split('\n').filter(Boolean)));
    late.write(`${JSON.stringify({ type: 'hello', version: 2, software: 'late' })}\n`);
    await waitFor(() => lines.length > 0, 2_000, 'an answer to the late hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'error', code: 'ERR_SERVER_BUSY', message: expect.stringMatching(/already runs 1 session/) });
  });
});

describe('a peer that stops answering mid-session', () => {
  it('a receive deadline aborts the channel signal (engines watching it stop) and the channel stays failed', async () => {
    const { port } = await rawServer(() => undefined);
    const socket = connect(port, LOOPBACK);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const channel = new Channel(socket, { role: 'client' });
    cleanups.push(() => channel.close());
    const err = await rejection(channel.receive(['hello'], 100));
    expect(err.code).toBe('ERR_PEER_SILENT');
    expect(channel.signal.aborted).toBe(true);
    expect((channel.signal.reason as { code?: string }).code).toBe('ERR_PEER_SILENT');
    expect(() => channel.send({ type: 'hello', version: 2, software: 'x' })).toThrow(/no 'hello'/);
  });

  it('a deadline that progress extends: silent for 150 ms while the run still moves is not silence', async () => {
    const { port } = await rawServer(() => undefined);
    const socket = connect(port, LOOPBACK);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const channel = new Channel(socket, { role: 'client' });
    cleanups.push(() => channel.close());
    let checks = 0;
    const started = Date.now();
    const err = await rejection(channel.receive(['hello'], 150, { stillProgressing: () => ++checks <= 3 }));
    expect(err.code).toBe('ERR_PEER_SILENT');
    expect(checks).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(err.message).toMatch(/no progress/);
  });

  it('server sockets use TCP keepalive, so a peer whose host lost power is noticed', async () => {
    const keepAlive = vi.spyOn(Socket.prototype, 'setKeepAlive');
    cleanups.push(() => keepAlive.mockRestore());
    const t = await serve();
    const { channel } = await connectSession({ host: LOOPBACK, port: t.port });
    cleanups.push(() => channel.close());
    await waitFor(() => t.server.stats.active === 1);
    const serverSide = keepAlive.mock.calls.filter((_, i) => (keepAlive.mock.contexts[i] as Socket).localPort === t.port);
    expect(serverSide.length).toBe(1);
    expect(serverSide[0]![0]).toBe(true);
    expect(serverSide[0]![1]).toBeGreaterThan(0);
    expect(serverSide[0]![1]).toBeLessThanOrEqual(30_000);
    channel.send({ type: 'bye' });
  });
});
