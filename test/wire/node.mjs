#!/usr/bin/env node
// The wire suite's entry on both guests (`npm run test:wire` boots them once for the whole suite):
// node0 runs the agent that carries out the suite's requests there (servers, monitors, faults);
// node1 waits for it, runs vitest's "wire" project, then lets the agent go. Exit status: vitest's
// on node1, the agent's on node0 (0 once told to quit).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_PORT, serveAgent } from './agent.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE0 = '10.77.0.1';
const AGENT_WAIT_MS = 180_000;

function send(request, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: NODE0, port: AGENT_PORT });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the node0 agent gave no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (c) => (answer += c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (answer) resolve(JSON.parse(answer));
    });
  });
}

async function waitForAgent() {
  const deadline = Date.now() + AGENT_WAIT_MS;
  for (;;) {
    try {
      return await send({ op: 'log', id: 'none' }, 5_000);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the node0 agent did not answer at ${NODE0}:${AGENT_PORT} within ${AGENT_WAIT_MS} ms: ${error.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const node = process.env.SPARK_RDMA_VM_NODE;
if (node === '0') {
  serveAgent(NODE0);
} else if (node === '1') {
  await waitForAgent();
  const vitest = join(ROOT, 'node_modules', '.bin', 'vitest');
  const child = spawn(vitest, ['run', '--project', 'wire', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  await send({ op: 'quit' }, 10_000).catch((e) => process.stderr.write(`could not stop the node0 agent: ${e.message}\n`));
  process.exit(code);
} else {
  process.stderr.write('test/wire/node.mjs runs on the two-guest wire: npm run test:wire (scripts/vm/run.mjs --nodes 2)\n');
  process.exit(2);
}
