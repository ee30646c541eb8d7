// One running server over loopback fed 10,000 generated inputs (seeded): random bytes, random
// JSON, mutated valid messages, duplicated lines, truncations, oversized lines. Each input goes
// after a valid prefix of the conversation chosen at random, so every protocol state is hit.
// The server must never crash, must drop each bad client with a logged reason (and tell it
// why), and must still serve a valid session at the end.
import { describe, expect, it } from 'vitest';
import { Conversation } from '../../lib/session/conversation.js';
import {
  connectSession,
  LineDecoder,
  parseMessage,
  stringifyMessage,
  type ClientMessage,
  type Message,
  type ProposeMessage,
  type ServerMessage,
} from '../../lib/session/index.js';
import {
  endpointsFor,
  LOOPBACK,
  MAX_FAKE_QPS,
  mutate,
  pick,
  prng,
  randomBytes,
  randomInt,
  randomJson,
  RawClient,
  SERVER_RAILS,
  startServer,
  validClientScript,
  waitFor,
  type Rng,
} from './session-helpers.js';

const INPUTS = 10_000;
const CONCURRENCY = 24;
const MAX_LINE = 4096;

/** The fake session's answer to a valid request (mirrors fakeServerSession). */
function answerTo(request: ClientMessage): ServerMessage | null {
  switch (request.type) {
    case 'hello':
      return { type: 'hello', version: 2, software: 'test-server', rails: SERVER_RAILS };
    case 'propose':
      if (request.qps > MAX_FAKE_QPS || request.rails.some((i) => i >= SERVER_RAILS.length)) {
        return { type: 'reject', code: 'ERR_X', message: 'no' };
      }
      return { type: 'accept', rails: endpointsFor(request, 2) };
    case 'connect':
      return { type: 'ready' };
    case 'start':
      return { type: 'started' };
    case 'finish':
      return { type: 'finished', size: request.size, counters: null };
    default:
      return null;
  }
}

type Outcome = { kind: 'protocol'; code: string } | { kind: 'closed' } | { kind: 'served' } | { kind: 'peer-error'; code: string };

/**
 * What the server should make of `input` after `prefix` valid requests: decided with the
 * same validators on this side, replaying the conversation.
 */
function expectedOutcome(prefix: ClientMessage[], input: Buffer): Outcome {
  const conversation = new Conversation();
  for (const request of prefix) {
    conversation.observe('client', request);
    conversation.observe('server', answerTo(request)!);
  }
  const { values, error } = new LineDecoder(MAX_LINE).push(input);
  for (const value of values) {
    let message: ClientMessage;
    try {
      message = parseMessage(value, 'client');
    } catch (err) {
      return { kind: 'protocol', code: (err as { code: string }).code };
    }
    if (message.type === 'error') return { kind: 'peer-error', code: message.code };
    if (conversation.observe('client', message) !== null) return { kind: 'protocol', code: 'ERR_PROTOCOL' };
    if (message.type === 'bye') return { kind: 'served' };
    conversation.observe('server', answerTo(message)!);
  }
  if (error) return { kind: 'protocol', code: error.code };
  return { kind: 'closed' };
}

/** One bad (or, rarely, valid) input for the step after `prefix`. */
function generateInput(rng: Rng, next: ClientMessage): Buffer {
  const line = (value: unknown): string => `${JSON.stringify(value)}\n`;
  const roll = rng();
  if (roll < 0.15) {
    const bytes = randomBytes(rng, 300);
    return rng() < 0.5 ? Buffer.concat([bytes, Buffer.from('\n')]) : bytes;
  }
  if (roll < 0.3) return Buffer.from(line(randomJson(rng, 3)));
  if (roll < 0.75) {
    // A mutation of the expected next message, or of any other one.
    const base = rng() < 0.6 ? next : pick(rng, validClientScript());
    let value: unknown = base;
    for (let i = randomInt(rng, 1, 3); i > 0; i--) value = mutate(rng, value);
    return Buffer.from(line(value));
  }
  const valid = `${stringifyMessage(next)}\n`;
  if (roll < 0.83) return Buffer.from(valid + valid); // duplicated
  if (roll < 0.9) {
    const cut = valid.slice(0, randomInt(rng, 1, valid.length - 2)); // truncated
    return Buffer.from(rng() < 0.5 ? cut : `${cut}\n`);
  }
  if (roll < 0.95) {
    // Oversized: a plausible message with a huge string, with or without its newline.
    const huge = `{"type":"hello","version":2,"software":"${'A'.repeat(MAX_LINE + randomInt(rng, 1, 3 * MAX_LINE))}"}`;
    return Buffer.from(rng() < 0.5 ? huge : `${huge}\n`);
  }
  if (roll < 0.97) {
    // The client gives up with an error of its own (with control characters in its text).
    return Buffer.from(line({ type: 'error', code: 'ERR_ABORTED', message: `interrupted\nat ${randomInt(rng, 0, 9)}\u001b[2J`, hint: 'again' }));
  }
  return Buffer.from(valid); // valid: the session goes on until the client leaves
}

describe('server under 10,000 generated inputs', () => {
  it('never crashes, drops every bad client with a logged reason, and still serves', async () => {
    const finals = new Map<string, string[]>();
    // Keep each connection's final log line, keyed by its address (ports get reused later).
    const badLogLines: string[] = [];
    const log = (line: string): void => {
      if (/[\x00-\x1f]/.test(line)) badLogLines.push(line);
      const match = /^(?:dropped (\d+\.\d+\.\d+\.\d+:\d+): |session with (\d+\.\d+\.\d+\.\d+:\d+) ended$)/.exec(line);
      const label = match?.[1] ?? match?.[2];
      if (label === undefined) return;
      const list = finals.get(label) ?? [];
      list.push(line);
      finals.set(label, list);
    };
    const t = await startServer({ maxSessions: 64, maxLineBytes: MAX_LINE, handshakeTimeoutMs: 3_000, lingerMs: 1_000, log });

    // All inputs are generated up front, so the seed alone decides them.
    const rng = prng(20_260_417);
    const script = validClientScript();
    const cases = Array.from({ length: INPUTS }, () => {
      const prefixLength = randomInt(rng, 0, 5);
      const input = generateInput(rng, script[prefixLength]!);
      return { prefixLength, input, expected: expectedOutcome(script.slice(0, prefixLength), input) };
    });
    const tally: Record<string, number> = {};
    for (const c of cases) tally[c.expected.kind] = (tally[c.expected.kind] ?? 0) + 1;
    const failures: string[] = [];
    let nextIndex = 0;

    const runOne = async (index: number): Promise<void> => {
      const { prefixLength, input, expected } = cases[index]!;
      const prefix = script.slice(0, prefixLength);
      const client = await RawClient.open(t.port);
      try {
        for (const [i, request] of prefix.entries()) {
          client.send(request);
          const answer = await client.line(i, 3_000);
          if (answer === null || (JSON.parse(answer) as Message).type !== answerTo(request)!.type) {
            throw new Error(`prefix step ${i} (${request.type}) got ${answer}`);
          }
        }
        client.write(input);
        client.socket.end();
        await client.closedByServer(4_000);
      } finally {
        client.destroy();
      }
      const final = finals.get(client.label)?.shift();
      const replies = client.lines.slice(prefix.length).map((l) => {
        try {
          return JSON.parse(l) as Message;
        } catch {
          return null;
        }
      });
      const errorReply = replies.find((m) => m?.type === 'error') as { code: string; message: string } | undefined;
      const where = `input ${index} (prefix ${prefixLength}, ${JSON.stringify(input.subarray(0, 120).toString('latin1'))})`;
      if (final === undefined) {
        failures.push(`${where}: no final log line`);
        return;
      }
      switch (expected.kind) {
        case 'protocol':
          if (!final.startsWith(`dropped ${client.label}: ${expected.code}: `)) failures.push(`${where}: expected ${expected.code}, log: ${final}`);
          if (errorReply?.code !== expected.code || errorReply.message.length === 0) failures.push(`${where}: client got ${JSON.stringify(errorReply)}`);
          break;
        case 'closed':
          if (!final.startsWith(`dropped ${client.label}: ERR_PEER_CLOSED: the client at ${client.label} closed the connection`)) {
            failures.push(`${where}: log: ${final}`);
          }
          break;
        case 'peer-error':
          if (!final.startsWith(`dropped ${client.label}: ${expected.code}: peer: `)) failures.push(`${where}: log: ${final}`);
          break;
        case 'served':
          if (final !== `session with ${client.label} ended`) failures.push(`${where}: log: ${final}`);
          break;
      }
    };

    const worker = async (): Promise<void> => {
      while (nextIndex < INPUTS) {
        const index = nextIndex++;
        await runOne(index);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));

    expect(failures.slice(0, 10)).toEqual([]);
    expect(badLogLines).toEqual([]);
    await waitFor(() => t.server.stats.active === 0, 3_000, 'every session to end');
    const stats = t.server.stats;
    expect(stats.sessionsServed + stats.clientsDropped).toBe(INPUTS);
    expect(stats.clientsRefused).toBe(0);
    expect(stats.sessionsServed).toBe(tally.served ?? 0);
    // Every kind of input was exercised in earnest.
    expect(tally.protocol).toBeGreaterThan(7_000);
    expect(tally.closed).toBeGreaterThan(300);
    expect(tally['peer-error']).toBeGreaterThan(50);
    expect(tally.served).toBeGreaterThan(50);

    // Still serving: a complete valid session.
    const { channel, serverHello } = await connectSession({ host: LOOPBACK, port: t.port, handshakeTimeoutMs: 1_000 });
    expect(serverHello.rails).toEqual(SERVER_RAILS);
    const proposal = script[1] as ProposeMessage;
    channel.send(proposal);
    expect((await channel.receive(['accept', 'reject'], 1_000)).type).toBe('accept');
    channel.send({ type: 'connect', rails: endpointsFor(proposal, 1) });
    await channel.receive(['ready'], 1_000);
    channel.send({ type: 'start', size: 4096 });
    await channel.receive(['started'], 1_000);
    channel.send({ type: 'finish', size: 4096, counters: null });
    expect(await channel.receive(['finished'], 1_000)).toMatchObject({ size: 4096 });
    channel.send({ type: 'bye' });
    channel.close();
    await waitFor(() => t.server.stats.sessionsServed === stats.sessionsServed + 1, 2_000, 'the final session');
    await t.close();
  }, 240_000); // correctness, not speed: a loaded machine may take minutes
});
