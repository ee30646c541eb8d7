// The validators, the framing and the state machine alone, over 100,000+ generated inputs
// (seeded, so any failure reproduces): they never throw anything but RdmaError, their messages
// stay on one bounded line, and whatever they accept survives a round trip unchanged.
import { describe, expect, it } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { Conversation } from '../../lib/session/conversation.js';
import { LineDecoder, parseMessage, stringifyMessage, type Message, type Role } from '../../lib/session/index.js';
import { endpointsFor, mutate, pick, PROPOSAL, prng, randomBytes, randomInt, randomJson, SERVER_RAILS, validClientScript, type Rng } from './session-helpers.js';

const SERVER_MESSAGES: Message[] = [
  { type: 'hello', version: 2, software: 'fuzz-server', rails: SERVER_RAILS },
  { type: 'accept', rails: endpointsFor(PROPOSAL, 2) },
  { type: 'reject', code: 'ERR_NO', message: 'no', hint: 'later' },
  { type: 'ready' },
  { type: 'started' },
  { type: 'finished', size: 4096, counters: { bytes: 1 } },
  { type: 'error', code: 'ERR_X', message: 'x' },
];
const CLIENT_MESSAGES: Message[] = [...validClientScript(), { type: 'error', code: 'ERR_ABORTED', message: 'interrupted' }];

const ALLOWED_CODES = new Set(['ERR_PROTOCOL', 'ERR_PROTOCOL_VERSION']);

/** One generated input: random JSON, a valid message mutated 1..4 times, or a valid one. */
function generate(rng: Rng): unknown {
  const roll = rng();
  if (roll < 0.3) return randomJson(rng, 4);
  let value: unknown = pick(rng, rng() < 0.5 ? CLIENT_MESSAGES : SERVER_MESSAGES);
  if (roll < 0.95) {
    const times = randomInt(rng, 1, 4);
    for (let i = 0; i < times; i++) value = mutate(rng, value);
  } else {
    value = JSON.parse(stringifyMessage(value as Message));
  }
  return value;
}

function checkRejection(err: unknown): void {
  if (!(err instanceof RdmaError)) throw new Error(`a validator threw a non-RdmaError: ${String(err)}`);
  if (!ALLOWED_CODES.has(err.code)) throw new Error(`unexpected code ${err.code}: ${err.message}`);
  if (err.message.length === 0 || err.message.length > 2_000 || /[\n\r]/.test(err.message)) {
    throw new Error(`bad message text: ${JSON.stringify(err.message.slice(0, 200))}`);
  }
}

describe('validators under random input', () => {
  it('100,000 generated values: only RdmaError is thrown, and accepted messages round-trip', () => {
    const rng = prng(0x5eed);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 100_000; i++) {
      const value = generate(rng);
      for (const from of ['client', 'server'] as Role[]) {
        let message: Message;
        try {
          message = parseMessage(value, from);
        } catch (err) {
          checkRejection(err);
          rejected++;
          continue;
        }
        accepted++;
        const again = parseMessage(JSON.parse(stringifyMessage(message)), from);
        if (JSON.stringify(again, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) !==
            JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) {
          throw new Error(`round trip changed input ${i}: ${stringifyMessage(message)}`);
        }
      }
    }
    // The generator must exercise both outcomes in earnest.
    expect(accepted).toBeGreaterThan(5_000);
    expect(rejected).toBeGreaterThan(100_000);
  }, 120_000);

  it('20,000 random byte streams through the line decoder: errors are returned, never thrown', () => {
    const rng = prng(0xb17e5);
    let values = 0;
    let errors = 0;
    for (let i = 0; i < 20_000; i++) {
      const decoder = new LineDecoder(randomInt(rng, 256, 2048));
      const chunks = randomInt(rng, 1, 5);
      for (let c = 0; c < chunks; c++) {
        const bytes = rng() < 0.3 ? Buffer.from(`${stringifyMessage(pick(rng, CLIENT_MESSAGES))}\n`) : randomBytes(rng, 600);
        if (rng() < 0.5 && bytes.length > 0) bytes[randomInt(rng, 0, bytes.length - 1)] = 0x0a;
        const result = decoder.push(bytes);
        values += result.values.length;
        for (const value of result.values) {
          try {
            parseMessage(value, 'client');
          } catch (err) {
            checkRejection(err);
          }
        }
        if (result.error) {
          errors++;
          checkRejection(result.error);
          break;
        }
      }
    }
    expect(values).toBeGreaterThan(1_000);
    expect(errors).toBeGreaterThan(1_000);
  }, 120_000);

  it('20,000 random message sequences through the state machine: it answers, never throws', () => {
    const rng = prng(0xc0ffee);
    const valid: [Role, Message][] = [
      ...CLIENT_MESSAGES.map((m): [Role, Message] => ['client', m]),
      ...SERVER_MESSAGES.map((m): [Role, Message] => ['server', m]),
    ];
    let refused = 0;
    let longest = 0;
    for (let i = 0; i < 20_000; i++) {
      const conversation = new Conversation();
      // Start from a correct prefix, then go random.
      const script = validClientScript();
      const answers = SERVER_MESSAGES.slice(0, 1).concat([SERVER_MESSAGES[1]!, SERVER_MESSAGES[3]!, SERVER_MESSAGES[4]!, SERVER_MESSAGES[5]!]);
      const prefix = randomInt(rng, 0, 5);
      for (let p = 0; p < prefix; p++) {
        expect(conversation.observe('client', script[p]!)).toBeNull();
        expect(conversation.observe('server', answers[p]!)).toBeNull();
      }
      let steps = 0;
      for (let s = 0; s < 10 && !conversation.ended; s++) {
        const [from, message] = pick(rng, valid);
        const problem = conversation.observe(from, message);
        steps++;
        if (problem !== null) {
          expect(typeof problem).toBe('string');
          refused++;
          break;
        }
      }
      longest = Math.max(longest, steps);
    }
    expect(refused).toBeGreaterThan(10_000);
    expect(longest).toBeGreaterThan(2);
  }, 120_000);
});
