// Who am I in the mesh: rank, world size, local rank and the rendezvous address, from the
// launcher the user already has. First match wins, in this order (issue 19):
//   flags -> SPARK_RDMA_* -> torchrun -> Open MPI -> MPICH/Intel MPI (Hydra) -> MVAPICH -> Slurm.
// Variable names: torchrun (torch/distributed/run.py: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), Open MPI 4/5 (OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK, ompi/runtime docs), Hydra
// (PMI_RANK, PMI_SIZE, MPI_LOCALRANKID, mpich src/pm/hydra), MVAPICH2 (MV2_COMM_WORLD_RANK/
// SIZE/LOCAL_RANK), Slurm srun (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_STEP_NODELIST,
// srun(1) "OUTPUT ENVIRONMENT VARIABLES"). Slurm comes last because sbatch exports SLURM_PROCID=0
// to the batch script (sbatch(1)), so every child of an mpirun inside it sees rank 0.
import { invalidArgument } from '../errors.js';
import { firstNode } from './nodelist.js';

export const DEFAULT_RDZV_PORT = 29600;

export type LauncherName = 'flags' | 'spark-rdma' | 'torchrun' | 'openmpi' | 'hydra' | 'mvapich' | 'slurm';

export interface RdzvAddress {
  host: string;
  port: number;
}

export interface MeshIdentity {
  rank: number;
  worldSize: number;
  /** Index among the ranks on this node, where the launcher says it (null otherwise). */
  localRank: number | null;
  rdzv: RdzvAddress;
  /** Where rank and size came from. */
  launcher: LauncherName;
  /** Where the rendezvous address came from, e.g. "SPARK_RDMA_RDZV". */
  rdzvFrom: string;
}

export interface IdentityFlags {
  rank?: number;
  worldSize?: number;
  rdzv?: string;
}

type Env = Record<string, string | undefined>;

interface Source {
  launcher: LauncherName;
  rank: string;
  size: string;
  local?: string;
  /** Only when this holds (Slurm: inside an srun step). */
  applies?: (env: Env) => boolean;
}

const SOURCES: Source[] = [
  { launcher: 'spark-rdma', rank: 'SPARK_RDMA_RANK', size: 'SPARK_RDMA_WORLD_SIZE', local: 'SPARK_RDMA_LOCAL_RANK' },
  { launcher: 'torchrun', rank: 'RANK', size: 'WORLD_SIZE', local: 'LOCAL_RANK' },
  { launcher: 'openmpi', rank: 'OMPI_COMM_WORLD_RANK', size: 'OMPI_COMM_WORLD_SIZE', local: 'OMPI_COMM_WORLD_LOCAL_RANK' },
  { launcher: 'hydra', rank: 'PMI_RANK', size: 'PMI_SIZE', local: 'MPI_LOCALRANKID' },
  { launcher: 'mvapich', rank: 'MV2_COMM_WORLD_RANK', size: 'MV2_COMM_WORLD_SIZE', local: 'MV2_COMM_WORLD_LOCAL_RANK' },
  { launcher: 'slurm', rank: 'SLURM_PROCID', size: 'SLURM_NTASKS', local: 'SLURM_LOCALID', applies: inSrunStep },
];

/** srun sets the step's variables; the batch script of sbatch has only the job's. */
function inSrunStep(env: Env): boolean {
  return present(env.SLURM_STEP_NODELIST) || present(env.SLURM_STEP_ID);
}

function present(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== '';
}

function wholeNumber(name: string, text: string, min: number): number {
  const t = text.trim();
  const n = Number(t);
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(n) || n < min) {
    throw invalidArgument(`${name}=${JSON.stringify(text)} is not a whole number${min > 0 ? ` of at least ${min}` : ''}`, `check how the launcher sets ${name}`);
  }
  return n;
}

/** "host:port", "host" (port 29600), "[v6]:port". */
export function parseRdzv(text: string, from: string): RdzvAddress {
  const t = text.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:\s]+)(?::(\d+))?$/.exec(t);
  if (!m) {
    throw invalidArgument(`${from} ${JSON.stringify(text)} is not HOST:PORT`, `e.g. ${from.startsWith('--') ? '--rdzv' : from}=head:${DEFAULT_RDZV_PORT} (the host rank 0 runs on)`);
  }
  const port = m[2] === undefined ? DEFAULT_RDZV_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`${from} ${JSON.stringify(text)}: port ${m[2]} is outside 1-65535`);
  return { host: m[1]!, port };
}

function rankAndSize(launcher: LauncherName, rankName: string, sizeName: string, rankText: string | undefined, sizeText: string | undefined) {
  if (!present(rankText) || !present(sizeText)) {
    const missing = present(rankText) ? sizeName : rankName;
    throw invalidArgument(`${missing} is missing while ${present(rankText) ? rankName : sizeName} is set (${launcher})`, `set both ${rankName} and ${sizeName}, or neither`);
  }
  const rank = wholeNumber(rankName, rankText, 0);
  const worldSize = wholeNumber(sizeName, sizeText, 1);
  if (worldSize < 2) throw invalidArgument(`${sizeName}=${worldSize}: a mesh needs at least 2 ranks`, 'start one process per node on 2 or more nodes');
  if (rank >= worldSize) throw invalidArgument(`${rankName}=${rank} is not below ${sizeName}=${worldSize}`, 'ranks run from 0 to the world size minus one');
  return { rank, worldSize };
}

/** The launcher-specific way to pass the rendezvous variable to every rank. */
function rdzvAdvice(launcher: LauncherName, suggestion: string): string {
  switch (launcher) {
    case 'openmpi':
      return `add -x SPARK_RDMA_RDZV=${suggestion} to mpirun`;
    case 'hydra':
      return `add -genv SPARK_RDMA_RDZV ${suggestion} to mpiexec`;
    case 'mvapich':
      return `add SPARK_RDMA_RDZV=${suggestion} to mpirun_rsh before the program`;
    case 'torchrun':
      return 'set MASTER_ADDR (and MASTER_PORT) as torchrun does';
    default:
      return `pass --rdzv ${suggestion} (or set SPARK_RDMA_RDZV=${suggestion}) on every rank`;
  }
}

function rendezvous(env: Env, flags: IdentityFlags, launcher: LauncherName, rank: number, hostname: string): { rdzv: RdzvAddress; from: string } {
  if (flags.rdzv !== undefined) return { rdzv: parseRdzv(flags.rdzv, '--rdzv'), from: '--rdzv' };
  if (present(env.SPARK_RDMA_RDZV)) return { rdzv: parseRdzv(env.SPARK_RDMA_RDZV, 'SPARK_RDMA_RDZV'), from: 'SPARK_RDMA_RDZV' };
  if (present(env.MASTER_ADDR)) {
    const port = present(env.MASTER_PORT) ? wholeNumber('MASTER_PORT', env.MASTER_PORT, 1) : DEFAULT_RDZV_PORT;
    if (port > 65535) throw invalidArgument(`MASTER_PORT=${port} is outside 1-65535`);
    return { rdzv: { host: env.MASTER_ADDR.trim(), port }, from: 'MASTER_ADDR' };
  }
  if (launcher === 'slurm') {
    const step = env.SLURM_STEP_NODELIST;
    const list = present(step) ? step : env.SLURM_JOB_NODELIST;
    if (present(list)) {
      return { rdzv: { host: firstNode(list), port: DEFAULT_RDZV_PORT }, from: present(step) ? 'SLURM_STEP_NODELIST' : 'SLURM_JOB_NODELIST' };
    }
  }
  // Rank 0 knows its own host; the others can only say where to look.
  const suggestion = rank === 0 ? `${hostname}:${DEFAULT_RDZV_PORT}` : `<host of rank 0>:${DEFAULT_RDZV_PORT}`;
  throw invalidArgument(
    `no rendezvous address: the ranks cannot find rank 0 (launched by ${launcher}, this is rank ${rank} on ${hostname})`,
    rdzvAdvice(launcher, suggestion),
  );
}

/** Rank, size and rendezvous from the flags and the environment, first match wins. */
export function detectIdentity(env: Env, flags: IdentityFlags, hostname: string): MeshIdentity {
  let found: { launcher: LauncherName; rank: number; worldSize: number; localRank: number | null } | null = null;
  if (flags.rank !== undefined || flags.worldSize !== undefined) {
    const { rank, worldSize } = rankAndSize(
      'flags',
      '--rank',
      '--world-size',
      flags.rank === undefined ? undefined : String(flags.rank),
      flags.worldSize === undefined ? undefined : String(flags.worldSize),
    );
    found = { launcher: 'flags', rank, worldSize, localRank: null };
  } else {
    for (const s of SOURCES) {
      if (!present(env[s.rank]) && !present(env[s.size])) continue;
      if (s.applies && !s.applies(env)) continue;
      const { rank, worldSize } = rankAndSize(s.launcher, s.rank, s.size, env[s.rank], env[s.size]);
      const local = s.local !== undefined && present(env[s.local]) ? wholeNumber(s.local, env[s.local]!, 0) : null;
      found = { launcher: s.launcher, rank, worldSize, localRank: local };
      break;
    }
  }
  if (!found) {
    if (present(env.SLURM_PROCID)) {
      throw invalidArgument(
        `SLURM_PROCID=${env.SLURM_PROCID} comes from the sbatch script itself, not from srun (SLURM_STEP_NODELIST is unset), so every process would be rank 0`,
        'launch with srun --ntasks-per-node=1, or with an MPI mpirun/mpiexec (its rank variables win over Slurm\'s), or pass --rank/--world-size',
      );
    }
    throw invalidArgument(
      'no rank: this process was not started by mpirun, srun or torchrun, and no --rank/--world-size was given',
      `e.g. mpirun -np 4 --map-by ppr:1:node -x SPARK_RDMA_RDZV=${hostname}:${DEFAULT_RDZV_PORT} npx spark-rdma mesh, or by hand: --rank 0 --world-size 2 --rdzv ${hostname}:${DEFAULT_RDZV_PORT}`,
    );
  }
  const { rdzv, from } = rendezvous(env, flags, found.launcher, found.rank, hostname);
  return { ...found, rdzv, rdzvFrom: from };
}
