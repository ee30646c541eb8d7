// Shared by the session suites: servers and raw peers over loopback TCP (127.0.0.1 only) that
// clean up after each test, and the checks for a dropped client.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { LOOPBACK, RawClient, SERVER_RAILS, startServer, waitFor, type TestServer } from './session-helpers.js';

/** Run after each test, last registered first. */
export const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export async function serve(overrides: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await startServer(overrides);
  cleanups.push(() => server.close());
  return server;
}

/** A plain TCP server that does whatever `onSocket` says (for misbehaving servers). */
export async function rawServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  return { server, port: address.port, sockets };
}

export async function rejection(promise: Promise<unknown>): Promise<RdmaError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RdmaError);
    return err as RdmaError;
  }
  throw new Error('expected a rejection');
}

export function dropLine(logs: string[], label: string): string | undefined {
  return logs.find((line) => line.startsWith(`dropped ${label}: `));
}

/** A raw client that has done a valid hello exchange. */
export async function helloClient(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  cleanups.push(() => client.destroy());
  client.send({ type: 'hello', version: 2, software: 'raw' });
  expect(JSON.parse((await client.line(0))!)).toMatchObject({ type: 'hello', version: 2, rails: SERVER_RAILS });
  return client;
}

/** Sends bad input after the hello; expects the server's error line and the drop in its log. */
export async function expectDropped(t: TestServer, client: RawClient, code: string, message: RegExp): Promise<void> {
  const index = client.lines.length;
  const line = await client.line(index);
  expect(line).not.toBeNull();
  const error = JSON.parse(line!) as { type: string; code: string; message: string };
  expect(error.type).toBe('error');
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  await client.closedByServer();
  await waitFor(() => dropLine(t.logs, client.label) !== undefined, 2_000, 'the drop to be logged');
  expect(dropLine(t.logs, client.label)).toMatch(new RegExp(`^dropped ${client.label.replace(/\./g, '\\.')}: ${code}: ${message.source.replace(/^\^/, '')}`));
}

