// The node1 side of the node0 agent (agent.mjs): one JSON request per connection, one JSON
// answer. Shared by the wire suite (remote.ts, node.mjs) and the wire benchmark (bench/guest/wire.ts).
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_PORT } from './agent.mjs';

/** node0's rail0 address: where its agent listens. */
export const NODE0_ADDRESS = '10.77.0.1';

/** Written on node1 when the suite's last test cuts node0's power: no agent is left to stop. */
export const NODE0_POWERED_OFF_FILE = join(tmpdir(), 'spark-wire-node0-powered-off');

/**
 * Sends one request to the node0 agent and resolves with its answer; rejects when the agent
 * cannot be reached, closes without answering, or gives no answer within timeoutMs.
 * @param {Record<string, unknown>} body
 * @param {number} timeoutMs
 * @returns {Promise<any>}
 */
export function agentRequest(body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: NODE0_ADDRESS, port: AGENT_PORT });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`node0 agent: no answer to ${String(body.op)} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(body)}\n`));
    socket.on('data', (c) => (answer += c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (answer) resolve(JSON.parse(answer));
      else reject(new Error(`node0 agent closed without an answer to ${String(body.op)}`));
    });
  });
}

/**
 * Waits until the node0 agent answers (it starts with node0's guest, which may boot later).
 * @param {number} timeoutMs
 */
export async function waitForAgent(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await agentRequest({ op: 'log', id: 'none' }, 5_000);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the node0 agent did not answer at ${NODE0_ADDRESS}:${AGENT_PORT} within ${timeoutMs} ms: ${error.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
