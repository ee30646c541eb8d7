import { describe, expect, it } from 'vitest';
import { detectIdentity, parseRdzv } from '../../lib/mesh/launcher.js';
import { expandNodelist, firstNode } from '../../lib/mesh/nodelist.js';

const HOST = 'node07';

describe('launcher detection', () => {
  const cases: { name: string; env: Record<string, string>; flags?: { rank?: number; worldSize?: number; rdzv?: string }; want: object }[] = [
    {
      name: 'explicit flags',
      env: { OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '8' },
      flags: { rank: 1, worldSize: 2, rdzv: 'head:1234' },
      want: { launcher: 'flags', rank: 1, worldSize: 2, localRank: null, rdzv: { host: 'head', port: 1234 }, rdzvFrom: '--rdzv' },
    },
    {
      name: 'SPARK_RDMA_* variables',
      env: { SPARK_RDMA_RANK: '2', SPARK_RDMA_WORLD_SIZE: '3', SPARK_RDMA_RDZV: '10.0.0.1:29601', RANK: '0', WORLD_SIZE: '9' },
      want: { launcher: 'spark-rdma', rank: 2, worldSize: 3, rdzv: { host: '10.0.0.1', port: 29601 }, rdzvFrom: 'SPARK_RDMA_RDZV' },
    },
    {
      name: 'torchrun',
      env: { RANK: '1', WORLD_SIZE: '2', LOCAL_RANK: '0', MASTER_ADDR: 'node0', MASTER_PORT: '29500' },
      want: { launcher: 'torchrun', rank: 1, worldSize: 2, localRank: 0, rdzv: { host: 'node0', port: 29500 }, rdzvFrom: 'MASTER_ADDR' },
    },
    {
      name: 'torchrun without MASTER_PORT takes the default port',
      env: { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'node0' },
      want: { launcher: 'torchrun', rdzv: { host: 'node0', port: 29600 } },
    },
    {
      name: 'Open MPI',
      env: { OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_LOCAL_RANK: '3', SPARK_RDMA_RDZV: 'spark-vm:29600' },
      want: { launcher: 'openmpi', rank: 3, worldSize: 4, localRank: 3, rdzv: { host: 'spark-vm', port: 29600 } },
    },
    {
      name: 'MPICH / Intel MPI (Hydra)',
      env: { PMI_RANK: '2', PMI_SIZE: '3', MPI_LOCALRANKID: '2', SPARK_RDMA_RDZV: 'spark-vm' },
      want: { launcher: 'hydra', rank: 2, worldSize: 3, localRank: 2, rdzv: { host: 'spark-vm', port: 29600 } },
    },
    {
      name: 'MVAPICH',
      env: { MV2_COMM_WORLD_RANK: '1', MV2_COMM_WORLD_SIZE: '5', MV2_COMM_WORLD_LOCAL_RANK: '0', SPARK_RDMA_RDZV: 'h:1' },
      want: { launcher: 'mvapich', rank: 1, worldSize: 5, localRank: 0 },
    },
    {
      name: 'srun: rendezvous on the first node of the step',
      env: { SLURM_PROCID: '5', SLURM_NTASKS: '16', SLURM_LOCALID: '0', SLURM_STEP_ID: '0', SLURM_STEP_NODELIST: 'spark[03-18]', SLURM_JOB_NODELIST: 'spark[01-20]' },
      want: { launcher: 'slurm', rank: 5, worldSize: 16, localRank: 0, rdzv: { host: 'spark03', port: 29600 }, rdzvFrom: 'SLURM_STEP_NODELIST' },
    },
    {
      name: 'the sbatch-plus-mpirun trap: Open MPI\'s rank wins over the batch script\'s SLURM_PROCID=0',
      env: { SLURM_PROCID: '0', SLURM_NTASKS: '4', SLURM_JOB_NODELIST: 'spark[1-4]', OMPI_COMM_WORLD_RANK: '2', OMPI_COMM_WORLD_SIZE: '4', SPARK_RDMA_RDZV: 'spark1:29600' },
      want: { launcher: 'openmpi', rank: 2, worldSize: 4 },
    },
    {
      name: 'the same trap under MPICH\'s mpiexec',
      env: { SLURM_PROCID: '0', SLURM_NTASKS: '4', SLURM_JOB_NODELIST: 'spark[1-4]', PMI_RANK: '3', PMI_SIZE: '4', SPARK_RDMA_RDZV: 'spark1:29600' },
      want: { launcher: 'hydra', rank: 3, worldSize: 4 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(detectIdentity(c.env, c.flags ?? {}, HOST)).toMatchObject(c.want);
    });
  }

  const refusals: { name: string; env: Record<string, string>; flags?: { rank?: number; worldSize?: number; rdzv?: string }; message: RegExp; hint?: RegExp }[] = [
    {
      name: 'mpirun without a rendezvous address names the -x to add (rank 0 knows its host)',
      env: { OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '4' },
      message: /no rendezvous address.*openmpi.*rank 0 on node07/,
      hint: /^add -x SPARK_RDMA_RDZV=node07:29600 to mpirun$/,
    },
    {
      name: 'other mpirun ranks say where the value comes from',
      env: { OMPI_COMM_WORLD_RANK: '2', OMPI_COMM_WORLD_SIZE: '4' },
      message: /no rendezvous address/,
      hint: /-x SPARK_RDMA_RDZV=<host of rank 0>:29600/,
    },
    {
      name: 'mpiexec (Hydra) without a rendezvous address names -genv',
      env: { PMI_RANK: '0', PMI_SIZE: '3' },
      message: /no rendezvous address/,
      hint: /-genv SPARK_RDMA_RDZV node07:29600/,
    },
    {
      name: 'sbatch alone: SLURM_PROCID=0 in every process is refused',
      env: { SLURM_PROCID: '0', SLURM_NTASKS: '4', SLURM_JOB_NODELIST: 'spark[1-4]' },
      message: /SLURM_PROCID=0 comes from the sbatch script itself/,
      hint: /srun/,
    },
    { name: 'no launcher at all', env: {}, message: /no rank/, hint: /--rank 0 --world-size 2 --rdzv node07:29600/ },
    { name: 'rank without size', env: { RANK: '1' }, message: /WORLD_SIZE is missing while RANK is set/ },
    { name: 'rank not a number', env: { OMPI_COMM_WORLD_RANK: 'one', OMPI_COMM_WORLD_SIZE: '4' }, message: /OMPI_COMM_WORLD_RANK="one" is not a whole number/ },
    { name: 'rank beyond the size', env: { PMI_RANK: '3', PMI_SIZE: '3' }, message: /PMI_RANK=3 is not below PMI_SIZE=3/ },
    { name: 'a mesh of one', env: { SPARK_RDMA_RANK: '0', SPARK_RDMA_WORLD_SIZE: '1' }, message: /at least 2 ranks/ },
    { name: '--rank without --world-size', env: {}, flags: { rank: 0 }, message: /--world-size is missing/ },
    { name: 'bad --rdzv', env: {}, flags: { rank: 0, worldSize: 2, rdzv: 'a:b:c' }, message: /--rdzv "a:b:c" is not HOST:PORT/ },
    { name: 'port out of range', env: { SPARK_RDMA_RANK: '0', SPARK_RDMA_WORLD_SIZE: '2', SPARK_RDMA_RDZV: 'h:70000' }, message: /port 70000 is outside 1-65535/ },
    { name: 'bad node list', env: { SLURM_PROCID: '0', SLURM_NTASKS: '2', SLURM_STEP_ID: '1', SLURM_STEP_NODELIST: 'spark[1-' }, message: /node list "spark\[1-": a "\[" is never closed/ },
  ];
  for (const c of refusals) {
    it(`refuses: ${c.name}`, () => {
      let caught: { message: string; hint?: string; code?: string } | undefined;
      try {
        detectIdentity(c.env, c.flags ?? {}, HOST);
      } catch (err) {
        caught = err as typeof caught;
      }
      expect(caught?.code).toBe('ERR_RDMA_INVALID_ARGUMENT');
      expect(caught?.message).toMatch(c.message);
      if (c.hint) expect(caught?.hint).toMatch(c.hint);
    });
  }

  it('parses IPv6 rendezvous addresses in brackets', () => {
    expect(parseRdzv('[fd00::1]:4000', '--rdzv')).toEqual({ host: 'fd00::1', port: 4000 });
  });
});

describe('Slurm node lists', () => {
  it.each([
    ['spark1', ['spark1']],
    ['spark[1-3]', ['spark1', 'spark2', 'spark3']],
    ['node[01-03,07]', ['node01', 'node02', 'node03', 'node07']],
    ['gpu[8-10]', ['gpu8', 'gpu9', 'gpu10']],
    ['a[1-2]-b[0-1]', ['a1-b0', 'a1-b1', 'a2-b0', 'a2-b1']],
    ['login1,spark[09-10],x', ['login1', 'spark09', 'spark10', 'x']],
    ['rack[1]-n', ['rack1-n']],
  ])('%s', (list, hosts) => {
    expect(expandNodelist(list)).toEqual(hosts);
    expect(firstNode(list)).toBe(hosts[0]);
  });

  it.each([
    ['', /it is empty/],
    ['a,,b', /an empty name between commas/],
    ['n[1-2', /never closed/],
    ['n1-2]', /"\]" without "\["/],
    ['n[[1]]', /nested "\["/],
    ['n[3-1]', /range 3-1 runs backwards/],
    ['n[a-b]', /not a number or a range/],
    ['n[]', /not a number or a range/],
    ['n[1-99999999]', /more than 65536 hosts/],
    ['a[1-300]b[1-300]', /more than 65536 hosts/],
    ['n 1', /white space/],
  ])('refuses %j', (list, why) => {
    expect(() => expandNodelist(list)).toThrow(why);
  });
});
