import { InvalidArgumentError, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { RdmaError } from '../../errors.js';
import { detectIdentity, meshJson, renderMeshMarkdown, renderMeshSvg, runMesh, DEFAULT_SLOW_RULE } from '../../mesh/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { durationMs, intArg, secondsArg, sizeArg } from '../parse.js';
import { interruptible } from '../signals.js';

interface MeshFlags {
  rank?: number;
  worldSize?: number;
  rdzv?: string;
  rdzvTimeout?: number;
  rails?: number;
  size?: number;
  qps?: number;
  duration?: number;
  warmup?: number;
  lat?: boolean;
  latIters?: number;
  port?: number;
  serial?: boolean;
  slowFraction?: number;
  slowShare?: number;
  peerTimeout?: number;
  json?: boolean;
  svg?: string;
  verbose?: boolean;
  sysfsRoot?: string;
}

function fractionArg(flag: string) {
  return (text: string): number => {
    const v = Number(text);
    if (!(v > 0 && v <= 1)) throw new InvalidArgumentError(`${flag} ${text}: expected a fraction above 0 and at most 1, e.g. 0.8`);
    return v;
  };
}

const ms = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1000));

async function runMeshCommand(ctx: CliContext, o: MeshFlags): Promise<void> {
  if (o.latIters !== undefined && !o.lat) throw new RdmaError('--lat-iters needs --lat', { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'add --lat to measure latency too' });
  const host = hostname();
  const identity = detectIdentity(ctx.env, { ...(o.rank !== undefined ? { rank: o.rank } : {}), ...(o.worldSize !== undefined ? { worldSize: o.worldSize } : {}), ...(o.rdzv !== undefined ? { rdzv: o.rdzv } : {}) }, host);
  const rank0 = identity.rank === 0;
  // Launchers merge every rank's output: rank 0 reports, the others log only with --verbose.
  const log = rank0 || o.verbose ? (line: string) => ctx.err(`[rank ${identity.rank} ${new Date().toISOString()}] ${line}`) : () => undefined;
  log(`rank ${identity.rank} of ${identity.worldSize} on ${host} (from ${identity.launcher}); rendezvous ${identity.rdzv.host}:${identity.rdzv.port} (from ${identity.rdzvFrom})`);
  const interrupt = interruptible(() => ctx.err(`spark-rdma mesh: rank ${identity.rank} interrupted; telling the others`));
  try {
    const duration = durationMs(o.duration);
    const outcome = await runMesh({
      identity,
      host,
      log,
      signal: interrupt.signal,
      ...(o.rails !== undefined ? { rails: o.rails } : {}),
      ...(o.size !== undefined ? { size: o.size } : {}),
      ...(o.qps !== undefined ? { qps: o.qps } : {}),
      ...(duration !== undefined ? { durationMs: duration } : {}),
      ...(o.warmup !== undefined ? { warmupMs: ms(o.warmup)! } : {}),
      ...(o.lat ? { latIterations: o.latIters ?? 1000 } : {}),
      ...(o.port !== undefined ? { basePort: o.port } : {}),
      ...(o.serial ? { serial: true } : {}),
      slow: { fraction: o.slowFraction ?? DEFAULT_SLOW_RULE.fraction, share: o.slowShare ?? DEFAULT_SLOW_RULE.share },
      ...(o.peerTimeout !== undefined ? { peerTimeoutMs: ms(o.peerTimeout)! } : {}),
      ...(o.rdzvTimeout !== undefined ? { rdzvTimeoutMs: ms(o.rdzvTimeout)! } : {}),
      ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}),
    });
    if ('result' in outcome) {
      const result = outcome.result;
      ctx.out(o.json ? meshJson(result) : renderMeshMarkdown(result));
      if (o.svg !== undefined) {
        try {
          writeFileSync(o.svg, renderMeshSvg(result));
        } catch (err) {
          throw new RdmaError(`--svg ${o.svg}: cannot write the heatmap (${(err as Error).message})`, { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'pass a path in a writable directory' });
        }
        log(`heatmap written to ${o.svg}`);
      }
      const failed = result.rails.reduce((a, m) => a + m.failed.length, 0);
      if (failed > 0) {
        ctx.err(`spark-rdma mesh: ${failed} rail cell(s) failed; the reasons are listed ${o.json ? 'under "failed" in the JSON' : 'under the matrices'}`);
        ctx.exitCode = 1;
      }
      if (interrupt.interrupted()) ctx.exitCode = 130;
    } else {
      const s = outcome.summary;
      const line = `spark-rdma mesh: rank ${s.rank} of ${s.worldSize} on ${s.host}: wrote to ${s.cellsRun} peer(s); rank 0 has the matrix${s.failedCells > 0 ? ` (${s.failedCells} rail cell(s) failed)` : ''}`;
      if (o.json) ctx.err(line);
      else ctx.out(line);
    }
  } finally {
    interrupt.dispose();
  }
}

export const command: CliCommand = {
  name: 'mesh',
  register(program: Command, ctx: CliContext) {
    program
      .command('mesh')
      .description('all-pairs rail matrix of a cluster: one process per node, started by mpirun, srun or torchrun')
      .option('--rank <n>', 'this process\'s rank (default: from the launcher\'s environment)', intArg('--rank', 0, 4095))
      .option('--world-size <n>', 'number of ranks (default: from the launcher)', intArg('--world-size', 1, 4096))
      .option('--rdzv <host:port>', 'where rank 0 listens (default: SPARK_RDMA_RDZV, MASTER_ADDR:MASTER_PORT, or the first Slurm node, port 29600)')
      .option('--rdzv-timeout <s>', 'deadline for every rank to arrive (default 60)', secondsArg('--rdzv-timeout'))
      .option('--rails <n>', 'use the first N rails of every node (default: all)', intArg('--rails', 1, 64))
      .option('--size <bytes>', 'message size (default 65536)', sizeArg)
      .option('--qps <n>', 'QPs per rail (default 1)', intArg('--qps', 1, 4096))
      .option('--duration <s>', 'timed seconds per directed pair (default 2)', secondsArg('--duration'))
      .option('--warmup <s>', 'untimed warm-up seconds per directed pair (default 0.5)', secondsArg('--warmup'))
      .option('--lat', 'also measure write latency p50 per directed pair')
      .option('--lat-iters <n>', 'latency exchanges per pair with --lat (default 1000)', intArg('--lat-iters', 1, 1e9))
      .option('--port <n>', 'session port of a node\'s first rank; its next ranks use the ports after it (default 18515)', intArg('--port', 1, 65535))
      .option('--serial', 'one directed pair at a time (oversubscribed fabrics), instead of a round\'s disjoint pairs at once')
      .option('--slow-fraction <f>', `flag cells below this fraction of the rail's median (default ${DEFAULT_SLOW_RULE.fraction})`, fractionArg('--slow-fraction'))
      .option('--slow-share <f>', `...and below this share of the RoCEv2 goodput limit (default ${DEFAULT_SLOW_RULE.share})`, fractionArg('--slow-share'))
      .option('--peer-timeout <s>', 'deadline for each step that waits for a peer (default 10)', secondsArg('--peer-timeout'))
      .option('--json', 'rank 0 prints the matrices as JSON; the other ranks write nothing to stdout')
      .option('--svg <file>', 'rank 0 also writes an SVG heatmap there')
      .option('--verbose', 'every rank logs its progress to stderr')
      .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys')
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  spark-rdma mesh --rank 0 --world-size 2 --rdzv node1:29600     # by hand: rank 0 on node1, rank 1 elsewhere\n' +
          '  mpirun -np 4 --map-by ppr:1:node -x SPARK_RDMA_RDZV=node1:29600 npx spark-rdma mesh\n' +
          '  srun --ntasks-per-node=1 npx spark-rdma mesh --json > mesh.json',
      )
      .action(async (o: MeshFlags) => runMeshCommand(ctx, o));
  },
};
