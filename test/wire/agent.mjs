// Runs on node0 of the two-guest wire (test/wire/node.mjs starts it): executes what the suite on
// node1 asks, over TCP on node0's rail0. One JSON request per connection, one JSON answer:
//   {op:'run', args, timeoutMs, input?}        -> {code, signal, stdout, stderr, ms}
//   {op:'start', id, args, ready, timeoutMs}   -> {ok, log}   (background; `ready` a regex on its output)
//   {op:'log', id}                             -> {log, code, signal} (both null while it runs)
//   {op:'stop', id, signal?, timeoutMs}        -> {code, signal, log}
//   {op:'quit'}                                -> {ok}; the agent exits 0 once nothing runs
// Every wait has a deadline; every child is killed when the agent ends.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const AGENT_PORT = 17999;
const IDLE_EXIT_MS = Number(process.env.SPARK_RDMA_WIRE_AGENT_IDLE_MS ?? 600_000);
const background = new Map();

function runToEnd({ args, timeoutMs = 60_000, env = {} }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(args[0], args.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => (stderr += `spawn failed: ${e.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function start({ id, args, ready, timeoutMs = 60_000, env = {} }) {
  if (background.has(id)) return Promise.resolve({ ok: false, log: `${id} already runs` });
  // Its own process group: a stop reaches the CLI itself, not only a wrapper.
  const child = spawn(args[0], args.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const entry = { child, log: '', code: null, signal: null, exited: null };
  entry.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(Object.assign(entry, { code, signal }))));
  child.stdout.on('data', (c) => (entry.log += c));
  child.stderr.on('data', (c) => (entry.log += c));
  child.on('error', (e) => (entry.log += `spawn failed: ${e.message}`));
  background.set(id, entry);
  const pattern = new RegExp(ready ?? '.');
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const check = () => {
      if (pattern.test(entry.log)) return resolve({ ok: true, log: entry.log });
      if (entry.code !== null || entry.signal !== null || Date.now() > deadline) return resolve({ ok: false, log: entry.log, code: entry.code });
      setTimeout(check, 100);
    };
    check();
  });
}

async function stop({ id, signal = 'SIGINT', timeoutMs = 30_000 }) {
  const entry = background.get(id);
  if (!entry) return { code: null, signal: null, log: `no process ${id}` };
  background.delete(id);
  if (entry.code === null && entry.signal === null) {
    try {
      process.kill(-entry.child.pid, signal);
    } catch {
      // already gone
    }
  }
  const timer = setTimeout(() => entry.child.kill('SIGKILL'), timeoutMs);
  await entry.exited;
  clearTimeout(timer);
  return { code: entry.code, signal: entry.signal, log: entry.log };
}

function killAll() {
  for (const entry of background.values()) {
    try {
      process.kill(-entry.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function serveAgent(host) {
  let idle;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      process.stderr.write(`wire agent: no request for ${IDLE_EXIT_MS} ms; exiting\n`);
      killAll();
      process.exit(1);
    }, IDLE_EXIT_MS);
  };
  const server = createServer((socket) => {
    touch();
    let buffer = '';
    socket.on('error', () => {});
    socket.on('data', async (chunk) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end === -1) return;
      const request = JSON.parse(buffer.slice(0, end));
      buffer = '';
      let answer;
      if (request.op === 'run') answer = await runToEnd(request);
      else if (request.op === 'start') answer = await start(request);
      else if (request.op === 'log') answer = { log: background.get(request.id)?.log ?? '', code: background.get(request.id)?.code ?? null, signal: background.get(request.id)?.signal ?? null };
      else if (request.op === 'stop') answer = await stop(request);
      else if (request.op === 'quit') answer = { ok: true };
      else answer = { error: `unknown op ${request.op}` };
      touch();
      socket.end(`${JSON.stringify(answer)}\n`);
      if (request.op === 'quit') {
        killAll();
        server.close();
        clearTimeout(idle);
        setTimeout(() => process.exit(0), 200);
      }
    });
  });
  server.listen(AGENT_PORT, host, () => process.stderr.write(`wire agent listening on ${host}:${AGENT_PORT}\n`));
  touch();
  return server;
}
