#!/usr/bin/env node
// The wire suite's entry on both guests (`npm run test:wire` boots them once for the whole suite):
// node0 runs the agent that carries out the suite's requests there (servers, monitors, faults);
// node1 waits for it, runs vitest's "wire" project, then lets the agent go. Exit status: vitest's
// on node1, the agent's on node0 (0 once told to quit).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { NODE0_ADDRESS, NODE0_POWERED_OFF_FILE, agentRequest, waitForAgent } from './agent-client.mjs';
import { serveAgent } from './agent.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AGENT_WAIT_MS = 180_000;

const node = process.env.SPARK_RDMA_VM_NODE;
if (node === '0') {
  serveAgent(NODE0_ADDRESS);
} else if (node === '1') {
  await waitForAgent(AGENT_WAIT_MS);
  const vitest = join(ROOT, 'node_modules', '.bin', 'vitest');
  const child = spawn(vitest, ['run', '--project', 'wire', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  if (existsSync(NODE0_POWERED_OFF_FILE)) {
    process.stderr.write('node0 was powered off by the power-loss test (cases/power.ts): no agent to stop\n');
  } else {
    await agentRequest({ op: 'quit' }, 10_000).catch((e) => process.stderr.write(`could not stop the node0 agent: ${e.message}\n`));
  }
  process.exit(code);
} else {
  process.stderr.write('test/wire/node.mjs runs on the two-guest wire: npm run test:wire (scripts/vm/run.mjs --nodes 2)\n');
  process.exit(2);
}
