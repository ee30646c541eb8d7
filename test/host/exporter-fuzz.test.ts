// The exporter against raw, malformed and slow HTTP clients (issue 20 point 2): every request
// gets an answer or a closed connection, never a crash, and /metrics keeps answering.
import { connect } from 'node:net';
import { request } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { startExporter, type RailExporter } from '../../lib/monitor/exporter.js';
import { dgxSparkNode, makeSysfsTree } from '../fixtures/sysfs.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function exporter(): Promise<{ e: RailExporter; errors: Error[] }> {
  const t = makeSysfsTree(dgxSparkNode());
  cleanups.push(t.cleanup);
  const errors: Error[] = [];
  const e = await startExporter({ sysfsRoot: t.root, listen: '127.0.0.1:0', onError: (err) => errors.push(err) });
  cleanups.push(() => e.close());
  return { e, errors };
}

/** Writes raw bytes, returns what came back until the server closed or `waitMs` passed. */
function raw(port: number, payload: string | Buffer, waitMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      // One answer is all we ask for: do not wait for a keep-alive connection to time out.
      if (/\r\n\r\n/.test(text)) {
        const length = /content-length: (\d+)/i.exec(text);
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        if (!length || body.length >= Number(length[1])) socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

function status(reply: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);
}

function scrape(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Seeded, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('the exporter under malformed requests', () => {
  test('a request target that is not a URL (GET http://[ HTTP/1.1) gets 400, and the exporter lives on', async () => {
    const { e } = await exporter();
    const reply = await raw(e.port, 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(status(reply)).toBe(400);
    expect(reply).toMatch(/request target/);
    expect(await scrape(e.url)).toBe(200);
  });

  test('bad request lines, huge headers, HEAD, POST with a body: each gets a 4xx or 2xx answer', async () => {
    const { e } = await exporter();
    const cases: [string, string | Buffer, number[]][] = [
      ['garbage line', 'HELLO\r\n\r\n', [400]],
      ['no version (HTTP/0.9 style)', 'GET /metrics\r\n\r\n', [200, 400]],
      ['binary', Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]), [400]],
      ['absolute URL', 'GET http://a/metrics HTTP/1.1\r\nHost: a\r\n\r\n', [200]],
      ['asterisk', 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', [404]],
      ['huge header', `GET /metrics HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, [431]],
      ['HEAD', 'HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n', [200]],
      ['POST with a body', 'POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', [405]],
      ['percent junk', 'GET /metrics%zz%00 HTTP/1.1\r\nHost: a\r\n\r\n', [404]],
    ];
    for (const [name, payload, expected] of cases) {
      const reply = await raw(e.port, payload);
      expect(expected, `${name}: ${reply.slice(0, 80)}`).toContain(status(reply));
    }
    expect(await scrape(e.url)).toBe(200);
  });

  test('300 generated request lines: every one answered or closed, /metrics still answers', async () => {
    const { e } = await exporter();
    const random = prng(20);
    const alphabet = ['GET', 'HEAD', 'POST', ' ', '/', 'metrics', 'http://', '[', ']', ':', '%', '?', '#', 'HTTP/1.1', '\r\n', '\x00', '\x7f', 'é', '..', '@'];
    for (let i = 0; i < 300; i++) {
      let line = '';
      const parts = 1 + Math.floor(random() * 10);
      for (let p = 0; p < parts; p++) line += alphabet[Math.floor(random() * alphabet.length)];
      const reply = await raw(e.port, `${line}\r\nHost: a\r\n\r\n`, 1_000);
      const code = status(reply);
      expect(code === 0 || (code >= 200 && code < 500), `${JSON.stringify(line)} -> ${reply.slice(0, 60)}`).toBe(true);
    }
    expect(await scrape(e.url)).toBe(200);
  });

  test('slow clients do not block a scrape, and half-sent headers are cut off within the headers deadline', async () => {
    const { e } = await exporter();
    expect(e.server.headersTimeout).toBeLessThanOrEqual(10_000);
    const slow = Array.from({ length: 20 }, () => {
      const socket = connect(e.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('connect', () => socket.write('GET /metrics HTTP/1.1\r\nHost: a\r\n'));
      cleanups.push(() => socket.destroy());
      return socket;
    });
    expect(await scrape(e.url)).toBe(200);
    expect(slow.every((s) => !s.destroyed)).toBe(true);
  });

  test('an error on the listening socket after start (EMFILE on accept) is reported, not thrown', async () => {
    const { e, errors } = await exporter();
    const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
    expect(() => e.server.emit('error', emfile)).not.toThrow();
    expect(errors.map((x) => x.message)).toEqual(['accept EMFILE']);
    expect(await scrape(e.url)).toBe(200);
  });
});
