// Servers on node0 of the two-guest wire, started from node1 through node0's agent
// (test/wire/agent.mjs, the mechanism the wire suite uses): perftest servers for the perftest
// side, a `spark-rdma bw|lat` server for spark-rdma's. node0's rails have the lone guest's
// addresses (10.77.0.1, 10.77.1.1), so a client dials railAddress(device) either way.
import { agentRequest } from '../../test/wire/agent-client.mjs';
import { railAddress, type ServerSite, type SiteServer } from './perftest.js';
import { listensIn, PROC_NET_TCP } from './processes.js';
import { CLI } from './spark.js';

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  ok: boolean;
  log: string;
  code?: number | null;
}

interface Logged {
  log: string;
  code: number | null;
  signal: string | null;
}

let nextId = 0;

function node0Process(id: string): SiteServer & { log(): Promise<Logged> } {
  const log = () => agentRequest({ op: 'log', id }, 10_000) as Promise<Logged>;
  return {
    log,
    async exitedWithin(ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const l = await log();
        if (l.code !== null || l.signal !== null) return true;
        if (Date.now() > deadline) return false;
        await sleep(POLL_MS);
      }
    },
    async stop() {
      await agentRequest({ op: 'stop', id, signal: 'SIGINT', timeoutMs: 15_000 }, 30_000);
    },
  };
}

/** Starts `command` on node0 (killed there after runMs); resolves once `ready` holds. */
async function startOnNode0(command: string[], runMs: number, readyPattern: string, timeoutMs: number): Promise<SiteServer & { log(): Promise<Logged> }> {
  const id = `bench-${command[0]!.split('/').pop()}-${++nextId}`;
  // The agent kills a background process only when told to: the stop below (or the agent's
  // end) does it, and `timeout` bounds a server nobody stops.
  const started = (await agentRequest({ op: 'start', id, args: ['timeout', '-s', 'KILL', String(Math.ceil(runMs / 1000)), ...command], ready: readyPattern, timeoutMs }, timeoutMs + 10_000)) as Started;
  const server = node0Process(id);
  if (!started.ok) {
    await server.stop();
    throw new Error(`${command.join(' ')} on node0 did not start (exit ${started.code ?? 'none'}):\n${started.log.slice(-1500)}`);
  }
  return server;
}

/** perftest servers on node0: ready once their TCP port listens there (perftest's own banner sits in a pipe buffer). */
export const NODE0_SITE: ServerSite = {
  async startListening(command, port, runMs, timeoutMs) {
    const server = await startOnNode0(command, runMs, '^', timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tables = (await agentRequest({ op: 'run', args: ['cat', ...PROC_NET_TCP], timeoutMs: 10_000 }, 20_000)) as { stdout: string };
      if (listensIn(tables.stdout, port)) return server;
      const l = await server.log();
      const gone = l.code !== null || l.signal !== null;
      if (gone || Date.now() > deadline) {
        await server.stop();
        throw new Error(`${command[0]} on node0 ${gone ? `exited (${l.code ?? l.signal}) before listening` : `was not listening on port ${port} after ${timeoutMs / 1000} s`}:\n${l.log.slice(-1500)}`);
      }
      await sleep(POLL_MS);
    }
  },
  address: railAddress,
};

/** A `spark-rdma bw|lat` server on node0, serving every rail, kept for all pairs. */
export function startSparkServerOnNode0(test: 'bw' | 'lat', port: number, runMs: number): Promise<SiteServer> {
  return startOnNode0([process.execPath, CLI, test, '--port', String(port)], runMs, 'serving rails', 120_000);
}
