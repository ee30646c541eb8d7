// Leaks (issue 7, section 4): 1,000 bandwidth sessions set up and torn down in one process,
// server and client both in it (serve() and the client session over the rail's own address):
// open file descriptors and threads come back exactly to their baseline, and resident memory
// and the JS heap stay within a small tolerance after a GC. Each session is a whole one: hello,
// proposal, verbs objects on both ends (context, PD, CQ, QP, two 64 KiB regions each), QPs to
// RTS, an engine thread writing 20 messages, finish, bye, teardown. Every 100th session is a
// full runBandwidth() (rail discovery and device-limit checks too). A heap census before and
// after shows that no kind of JS object or closure piles up per session.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { requireRxe, ROOT, runNode, testPort } from './helpers.js';

beforeAll(() => requireRxe());

const SESSIONS = 1000;
const WARMUP_SESSIONS = 20;
/**
 * Allowed RSS growth after a GC. RSS does not return to the byte: malloc arenas (engine threads),
 * V8's heap capacity and its optimized code grow in steps and then stay. Measured in the guest:
 * +13 MiB over the first 100 engine runs then flat; 1,000 full sessions ended +17 to +37 MiB,
 * in steps (first 100 sessions, around 600 and 700), adding under 3 MiB over the last 300.
 * What a session could leak is checked exactly instead: descriptors, threads, pinned
 * (registered) memory, and the heap census. A leak of the sessions' regions alone would be
 * 250 MiB here; a leak of 55 KiB per session would break the tail limit.
 */
const RSS_TOLERANCE = 64 * 2 ** 20;
const RSS_TAIL_TOLERANCE = 16 * 2 ** 20;
const HEAP_TOLERANCE = 4 * 2 ** 20;

interface Probe {
  fds: number;
  threads: number;
  rss: number;
  /** VmPin: memory pinned by registrations (ibv_reg_mr), exact. */
  pinned: number;
  heap: number;
}

test(`${SESSIONS} session set-ups and tear-downs in one process: fds and threads back to baseline, memory within tolerance`, { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spark-rdma-leaks-'));
  const lib = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'lib', path)).href);
  const script = join(dir, 'sessions.mjs');
  writeFileSync(
    script,
    `import { readdirSync, readFileSync } from 'node:fs';
     import v8 from 'node:v8';
     import { serve } from ${lib('serve/index.js')};
     import { runBandwidth } from ${lib('bandwidth/index.js')};
     import { runClientSizes } from ${lib('bandwidth/client.js')};
     import { resolveBandwidthParams } from ${lib('bandwidth/options.js')};
     import { selectRails } from ${lib('run/select-rails.js')};
     import { openLoopbackPair } from ${lib('verbs/loopback-pair.js')};
     const port = ${testPort(0)};
     const problems = [];
     const server = await serve({ port, bind: ['10.77.0.1'], log: (l) => { if (/dropped|refused|still running/.test(l)) problems.push(l); } });
     const idle = async () => {
       const deadline = Date.now() + 10_000;
       while (server.stats().active > 0) {
         if (Date.now() > deadline) throw new Error('the server stayed busy for 10 s');
         await new Promise((r) => setTimeout(r, 10));
       }
       await new Promise((r) => setTimeout(r, 50));
     };
     const probe = async () => {
       await idle();
       globalThis.gc(); globalThis.gc();
       const status = readFileSync('/proc/self/status', 'utf8');
       const kib = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(status)[1]) * 1024;
       return { fds: readdirSync('/proc/self/fd').length, threads: readdirSync('/proc/self/task').length, rss: kib('VmRSS'), pinned: kib('VmPin'), heap: process.memoryUsage().heapUsed };
     };
     // Live JS objects and closures by constructor or function name, from a heap snapshot.
     const census = async () => {
       await idle();
       globalThis.gc(); globalThis.gc();
       let text = '';
       for await (const chunk of v8.getHeapSnapshot()) text += chunk;
       const snap = JSON.parse(text);
       const { node_fields: fields, node_types: [types] } = snap.snapshot.meta;
       const typeAt = fields.indexOf('type'), nameAt = fields.indexOf('name');
       const counts = {};
       for (let i = 0; i < snap.nodes.length; i += fields.length) {
         const type = types[snap.nodes[i + typeAt]];
         if (type !== 'object' && type !== 'closure') continue;
         const key = type + ' ' + snap.strings[snap.nodes[i + nameAt]];
         counts[key] = (counts[key] ?? 0) + 1;
       }
       return counts;
     };
     const options = { peer: '10.77.0.1', port, devices: ['rxe0'], iterations: 20, sizes: [65536], warmupMs: 0 };
     const rails = selectRails({ devices: ['rxe0'] });
     const params = resolveBandwidthParams(options);
     const session = async (i) => {
       if (i % 100 === 0) {
         const r = await runBandwidth(options);
         if (r.rails[0].messages !== 20) throw new Error('session ' + i + ': ' + r.rails[0].messages + ' messages');
         return;
       }
       // A signal of its own per session, as each runBandwidth() has.
       const r = await runClientSizes(options, rails, [4096], params, { emitSample() {}, emitProgress() {}, signal: new AbortController().signal });
       if (r.sessionError) throw r.sessionError;
       if (r.sizes[0].failures.length > 0) throw r.sizes[0].failures[0].error;
       if (r.sizes[0].rails[0].messages !== 20) throw new Error('session ' + i + ': ' + r.sizes[0].rails[0].messages + ' messages');
     };
     for (let i = 1; i <= ${WARMUP_SESSIONS}; i++) await session(i);
     const before = await census();
     const base = await probe();
     // The pinned-memory probe sees a registration: one session's regions while they exist.
     const pinnedWhileOpen = await (async () => {
       const pair = await openLoopbackPair(rails[0], 4096, { qps: 1, regionBytes: 65536, txDepth: 128, inlineBytes: 0, cm: false, timeoutMs: 5000 });
       const { pinned } = await probe();
       pair.close();
       return pinned;
     })();
     const checkpoints = [];
     const started = Date.now();
     for (let i = 1; i <= ${SESSIONS}; i++) {
       await session(i);
       if (i % 100 === 0) checkpoints.push({ sessions: i, ms: Date.now() - started, ...(await probe()) });
     }
     const ms = Date.now() - started;
     const after = await census();
     const grown = Object.entries(after).map(([name, n]) => [name, n - (before[name] ?? 0)]).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]).slice(0, 10);
     const stats = server.stats();
     await server.close();
     console.log(JSON.stringify({ base, pinnedWhileOpen, checkpoints, end: checkpoints[checkpoints.length - 1], ms, stats, problems, grown }));`,
  );
  const r = await runNode(['--expose-gc', script], 580_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as {
    base: Probe;
    pinnedWhileOpen: number;
    checkpoints: (Probe & { sessions: number; ms: number })[];
    end: Probe;
    ms: number;
    stats: { sessionsServed: number; clientsDropped: number };
    problems: string[];
    grown: [string, number][];
  };
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  console.log(
    `${SESSIONS} sessions in ${(out.ms / 1000).toFixed(1)} s (${(out.ms / SESSIONS).toFixed(0)} ms each); baseline fds ${out.base.fds}, threads ${out.base.threads}, ` +
      `pinned ${out.base.pinned / 1024} KiB (${out.pinnedWhileOpen / 1024} KiB with one loopback pair open), RSS ${mib(out.base.rss)}, heap ${mib(out.base.heap)}\n` +
      out.checkpoints.map((c) => `  after ${c.sessions}: fds ${c.fds}, threads ${c.threads}, pinned ${c.pinned / 1024} KiB, RSS ${mib(c.rss)}, heap ${mib(c.heap)}`).join('\n') +
      `\n  live objects and closures that grew: ${JSON.stringify(out.grown)}`,
  );
  // Whatever a session leaves behind would be there a thousand times: a verbs wrapper, a channel,
  // a socket, a listener closure. A handful of extra objects is V8's own bookkeeping.
  for (const [name, grew] of out.grown) expect(grew, `${name} grew by ${grew} over ${SESSIONS} sessions`).toBeLessThan(SESSIONS / 10);
  expect(out.problems).toEqual([]);
  expect(out.stats.sessionsServed).toBe(WARMUP_SESSIONS + SESSIONS);
  expect(out.stats.clientsDropped).toBe(0);
  for (const c of out.checkpoints) {
    expect(c.fds, `fds after ${c.sessions} sessions`).toBe(out.base.fds);
    expect(c.threads, `threads after ${c.sessions} sessions`).toBe(out.base.threads);
    expect(c.pinned, `pinned memory after ${c.sessions} sessions`).toBe(out.base.pinned);
  }
  // Two 64 KiB regions per side, pinned while the pair is open.
  expect(out.pinnedWhileOpen - out.base.pinned).toBeGreaterThanOrEqual(4 * 65536);
  expect(out.end.rss - out.base.rss).toBeLessThan(RSS_TOLERANCE);
  // The last 300 sessions, after the steps: a per-session leak would still show here.
  expect(out.end.rss - out.checkpoints[6]!.rss).toBeLessThan(RSS_TAIL_TOLERANCE);
  expect(out.end.heap - out.base.heap).toBeLessThan(HEAP_TOLERANCE);
});
