import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMeasurement } from '../../lib/config/measurements.js';
import { renderVllmCommands, vllmConfigJson, vllmFiles } from '../../lib/config/render-vllm.js';
import { DEFAULT_VLLM_IMAGE, vllmConfig, type VllmConfig, type VllmConfigOptions } from '../../lib/config/vllm.js';
import { writeGeneratedFiles } from '../../lib/config/write-files.js';
import { RdmaError } from '../../lib/errors.js';
import { bashSyntaxError, dockerEnvFile, hasShellcheck, makeStubs, runWithStubs, shellcheck, sourcedEnv } from '../fixtures/shell.js';
import { dgxSparkNode, rxePair, sparkAddresses, type SparkIpLayout } from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

// Building and removing fixture trees is slow on a loaded machine; the default 10 s hook deadline is too tight.
const HOOK_MS = 60_000;

const results = join(import.meta.dirname, '..', 'fixtures', 'results');
const measured = (...names: string[]) => names.map((n) => parseMeasurement(readFileSync(join(results, n), 'utf8'), n));

const { tree, defer } = tempTrees('all', HOOK_MS);
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spark-rdma-vllm-'));
  defer(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const envMap = (c: VllmConfig, role: 'head' | 'worker') => Object.fromEntries(c[role].env.map((v) => [v.name, v.value]));
const MODEL = 'Qwen/Qwen3-32B-FP8';
const RDMA_ARGS = ['--device', '/dev/infiniband:/dev/infiniband', '--ulimit', 'memlock=-1', '--cap-add', 'IPC_LOCK'];

/** -e pairs after the run_cluster.sh positional arguments and the RDMA docker args. */
function envPairs(argv: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-e') continue;
    const [name, ...rest] = argv[i + 1]!.split('=');
    env[name!] = rest.join('=');
  }
  return env;
}

const LAYOUTS: SparkIpLayout[] = ['subnet-per-function', 'link-local', 'one-subnet'];

describe.each(LAYOUTS)('vLLM config for a DGX Spark pair, IP layout %s', (layout) => {
  const [headIp, headIp2] = sparkAddresses(layout, 0);
  const [workerIp] = sparkAddresses(layout, 1);
  const roots = [0, 1].map((node) => tree(dgxSparkNode({ ipLayout: layout, node: node as 0 | 1 })));

  it.each([0, 1])('generated on node %i: each node gets its own VLLM_HOST_IP, the head is MASTER_ADDR', (node) => {
    const c = vllmConfig({ sysfsRoot: roots[node]!, headIp, workerIp, model: MODEL });
    expect(c.decision.mode).toBe('single');
    for (const role of ['head', 'worker'] as const) {
      const env = envMap(c, role);
      expect(env.VLLM_HOST_IP).toBe(role === 'head' ? headIp : workerIp);
      expect(env.MASTER_ADDR).toBe(headIp);
      expect(env.NCCL_IB_HCA).toBe('=rocep1s0f1:1');
      expect(env.NCCL_NET).toBe('IB');
      expect(env.NCCL_NET_PLUGIN).toBe('none');
      expect(env.NCCL_NET_GDR_LEVEL).toBe('LOC');
      expect(env.NCCL_NET_GDR_C2C).toBe('0');
      expect(env.NCCL_DMABUF_ENABLE).toBe('0');
      expect(env.NCCL_SOCKET_IFNAME).toBe('enp1s0f1np1');
      expect(env.GLOO_SOCKET_IFNAME).toBe('enp1s0f1np1');
      expect(env.TP_SOCKET_IFNAME).toBe('enp1s0f1np1');
      expect(env.UCX_NET_DEVICES).toBe('enp1s0f1np1');
      expect(env.RAY_memory_monitor_refresh_ms).toBe('0');
      expect(env.VLLM_SLEEP_WHEN_IDLE).toBe('1');
      expect(env.OMP_NUM_THREADS).toBe('1');
      expect(env.NCCL_IB_GID_INDEX).toBe('-1');
      expect(Object.keys(env)).toHaveLength(16);
    }
    expect(c.notes[0]).toBe(node === 0 ? `this machine is the head (enp1s0f1np1 has ${headIp})` : `this machine is the worker (enp1s0f1np1 has ${workerIp})`);
  });

  it('notes: run_cluster.sh lives in examples/ray_serving, the image needs Ray, async scheduling depends on the vLLM release', () => {
    const c = vllmConfig({ sysfsRoot: roots[0]!, headIp: '192.168.100.10', workerIp: '192.168.100.11', model: 'Qwen/Qwen3-32B' });
    const notes = c.notes.join('\n');
    expect(notes).toContain('--async-scheduling is left out: some vLLM releases refuse it with --distributed-executor-backend ray');
    expect(notes).toContain('the image must have Ray');
    expect(notes).toContain(`FROM ${DEFAULT_VLLM_IMAGE}`);
    const text = renderVllmCommands(c);
    expect(text).toContain("vLLM's examples/ray_serving/run_cluster.sh (examples/online_serving/ in older vLLM)");
    expect(text).toContain(`docker run --rm --entrypoint /bin/bash ${DEFAULT_VLLM_IMAGE} -c 'command -v ray'`);
  });

  it('the run_cluster.sh command per node: image, head IP, role, HF cache, then the RDMA docker args and -e pairs', () => {
    const c = vllmConfig({ sysfsRoot: roots[0]!, headIp, workerIp, model: MODEL });
    for (const role of ['head', 'worker'] as const) {
      const argv = c[role].command;
      expect(argv.slice(0, 6)).toEqual(['bash', './run_cluster.sh', DEFAULT_VLLM_IMAGE, headIp, `--${role}`, '$HOME/.cache/huggingface']);
      expect(argv.slice(6, 12)).toEqual(RDMA_ARGS);
      expect(envPairs(argv)).toEqual(envMap(c, role));
    }
  });

  it('warns when --head-ip is the second function, not rail 0 (the sockets netdev)', () => {
    const c = vllmConfig({ sysfsRoot: roots[0]!, headIp: headIp2, workerIp, model: MODEL, rails: 2 });
    expect(c.warnings[0]).toContain(`${headIp2} is on rail 1 (enP2p1s0f1np1), not on rail 0 (enp1s0f1np1`);
    expect(c.notes).toContain(`warning: ${c.warnings[0]}`);
  });
});

describe('vLLM serve line and options', () => {
  const spark = tree(dgxSparkNode());
  const base: VllmConfigOptions = { sysfsRoot: spark, headIp: '192.168.100.10', workerIp: '192.168.100.11', model: MODEL };

  it("defaults to the measured pair's settings: TP 2, ray backend, 0.70 memory, fp8 KV cache, 2048 batched tokens", () => {
    expect(vllmConfig(base).serve).toEqual([
      'vllm', 'serve', MODEL,
      '--tensor-parallel-size', '2',
      '--distributed-executor-backend', 'ray',
      '--gpu-memory-utilization', '0.70',
      '--kv-cache-dtype', 'fp8',
      '--max-num-batched-tokens', '2048',
    ]);
  });

  it('takes every serve setting, the image, the HF cache and run_cluster.sh path as options', () => {
    const c = vllmConfig({
      ...base, image: 'nvidia/vllm:25.09-py3', hfHome: '/data/hf', runCluster: '/opt/vllm/run_cluster.sh',
      tensorParallelSize: 4, gpusPerNode: 2, gpuMemoryUtilization: 0.85, kvCacheDtype: 'auto', maxNumBatchedTokens: 8192,
    });
    expect(c.warnings).toEqual([]);
    expect(c.serve.slice(3)).toEqual([
      '--tensor-parallel-size', '4', '--distributed-executor-backend', 'ray', '--gpu-memory-utilization', '0.85',
      '--kv-cache-dtype', 'auto', '--max-num-batched-tokens', '8192',
    ]);
    expect(c.head.command.slice(0, 6)).toEqual(['bash', '/opt/vllm/run_cluster.sh', 'nvidia/vllm:25.09-py3', '192.168.100.10', '--head', '/data/hf']);
  });

  it('rejects bad input, naming the value and the fix', () => {
    const err = (o: Partial<VllmConfigOptions>) => {
      try {
        vllmConfig({ ...base, ...o });
      } catch (e) {
        expect(e).toBeInstanceOf(RdmaError);
        return (e as RdmaError).message;
      }
      throw new Error('expected an RdmaError');
    };
    expect(err({ headIp: '192.168.100' })).toBe('--head-ip "192.168.100" is not an IPv4 address');
    expect(err({ workerIp: 'spark-2' })).toBe('--worker-ip "spark-2" is not an IPv4 address');
    expect(err({ workerIp: '192.168.100.10' })).toBe('--head-ip and --worker-ip are both 192.168.100.10');
    expect(err({ model: 'my model' })).toContain('--model "my model" is not a model name');
    expect(err({ gpuMemoryUtilization: 1.5 })).toContain('--gpu-memory-utilization 1.5 is out of range: it must be more than 0 and at most 1');
    expect(err({ tensorParallelSize: 0 })).toContain('--tensor-parallel-size 0 is out of range');
    expect(err({ maxNumBatchedTokens: 2.5 })).toContain('--max-num-batched-tokens 2.5 is out of range');
    expect(err({ kvCacheDtype: 'fp8; rm' })).toContain('--kv-cache-dtype "fp8; rm" is not a dtype name');
    expect(err({ image: 'my image' })).toContain('--image "my image" has characters a generated script would have to quote');
  });

  it('sanity: TP larger than the two nodes\' GPUs is an error; a smaller TP, an unknown KV dtype and addresses off rail 0 are warnings', () => {
    const tooBig = (() => {
      try {
        vllmConfig({ ...base, tensorParallelSize: 4 });
      } catch (e) {
        return e as RdmaError;
      }
      throw new Error('expected an RdmaError');
    })();
    expect(tooBig.message).toBe('--tensor-parallel-size 4 needs 4 GPUs, but two nodes with 1 GPU each have 2: Ray would wait forever for the missing ones');
    expect(tooBig.hint).toBe('pass --tensor-parallel-size 2 (one shard per GPU of both nodes), or --gpus-per-node if the nodes have more');
    expect(vllmConfig({ ...base }).warnings).toEqual([]);
    expect(vllmConfig({ ...base, tensorParallelSize: 1 }).warnings).toEqual(['--tensor-parallel-size 1 uses 1 of the 2 GPUs of the two nodes: the worker node gets no shard and RDMA carries nothing']);
    expect(vllmConfig({ ...base, kvCacheDtype: 'bogus' }).warnings[0]).toMatch(/^--kv-cache-dtype bogus is none of the dtypes vLLM's CacheDType lists \(auto, float16, bfloat16/);
    expect(vllmConfig({ ...base, headIp: '10.9.9.1', workerIp: '10.9.9.2' }).warnings[0]).toContain("neither 10.9.9.1 nor 10.9.9.2 is an address of this machine's rail 0");
    // The worker's address in rail 1's subnet (192.168.101.0/24) while NCCL's sockets are on rail 0.
    expect(vllmConfig({ ...base, workerIp: '192.168.101.11' }).warnings).toEqual([
      "--worker-ip 192.168.101.11 is in rail 1's subnet (enP2p1s0f1np1, 192.168.101.10), but NCCL_SOCKET_IFNAME is rail 0 (enp1s0f1np1): pass the peer's rail 0 address",
    ]);
  });

  it('dual rail from measurements: both HCAs, and a note that tok/s decides for vLLM', () => {
    const c = vllmConfig({ ...base, measurements: measured('single-rail.json', 'dual-rail-faster.json') });
    expect(envMap(c, 'head').NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
    expect(c.notes.at(-1)).toContain('compare tok/s against --single');
  });

  it('rxe pair: rail0 is the sockets netdev', () => {
    const c = vllmConfig({ sysfsRoot: tree(rxePair()), headIp: '10.77.0.1', workerIp: '10.77.0.2', model: MODEL });
    expect(envMap(c, 'worker').NCCL_SOCKET_IFNAME).toBe('rail0');
    expect(envMap(c, 'worker').NCCL_IB_HCA).toBe('=rxe0:1');
  });

  it('json: per node env and commands, the serve argv and the decision', () => {
    const json = vllmConfigJson(vllmConfig(base)) as Record<string, any>;
    expect(json.head.env.VLLM_HOST_IP).toBe('192.168.100.10');
    expect(json.worker.env.VLLM_HOST_IP).toBe('192.168.100.11');
    expect(json.worker.command[4]).toBe('--worker');
    expect(json.serve[2]).toBe(MODEL);
    expect(json.decision.source).toBe('default');
  });
});

describe('vLLM commands and scripts, run by bash against stub run_cluster.sh and docker', () => {
  const spark = tree(dgxSparkNode({ ipv6Globals: 0 }));
  const config = vllmConfig({ sysfsRoot: spark, headIp: '192.168.100.10', workerIp: '192.168.100.11', model: MODEL, measurements: measured('single-rail.json', 'dual-rail-faster.json') });
  let dir = '';
  let paths: string[] = [];
  beforeAll(() => {
    dir = tempDir();
    paths = writeGeneratedFiles(join(dir, 'out'), vllmFiles(config));
  }, HOOK_MS);

  it('the printed commands: bash -n passes, and running them passes the exact argv to run_cluster.sh and docker', () => {
    const work = tempDir();
    const text = renderVllmCommands(config);
    writeFileSync(join(work, 'commands.sh'), text);
    expect(bashSyntaxError(join(work, 'commands.sh'))).toBeNull();
    expect(shellcheck(join(work, 'commands.sh'))).toBe('');
    const { bin, log } = makeStubs(work, ['docker']);
    writeFileSync(join(work, 'run_cluster.sh'), `printf '%s\\n' "$@" > "${log}/run_cluster.$RANDOM"\n`);
    chmodSync(join(work, 'run_cluster.sh'), 0o755);
    const r = runWithStubs(join(work, 'commands.sh'), [], { bin, cwd: work });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const calls = readdirSync(log).sort().map((f) => readFileSync(join(log, f), 'utf8').trimEnd().split('\n'));
    const runs = calls.filter((argv) => argv[2] === '--head' || argv[2] === '--worker');
    expect(runs.map((a) => a.slice(0, 4))).toEqual(expect.arrayContaining([
      [DEFAULT_VLLM_IMAGE, '192.168.100.10', '--head', '/home/spark/.cache/huggingface'],
      [DEFAULT_VLLM_IMAGE, '192.168.100.10', '--worker', '/home/spark/.cache/huggingface'],
    ]));
    for (const argv of runs) {
      expect(argv.slice(4, 10)).toEqual(RDMA_ARGS);
      expect(envPairs(argv)).toEqual(envMap(config, argv[2] === '--head' ? 'head' : 'worker'));
    }
    const exec = calls.find((a) => a[0] === 'exec')!;
    expect(exec).toEqual(['exec', '-it', 'node-4242', ...config.serve]);
  });

  it('--out writes five files: scripts executable, env files not', () => {
    expect(paths.map((p) => p.slice(join(dir, 'out').length + 1))).toEqual(['head.env', 'worker.env', 'start-head.sh', 'start-worker.sh', 'serve.sh']);
    for (const p of paths) expect(statSync(p).mode & 0o777, p).toBe(p.endsWith('.sh') ? 0o755 : 0o644);
  });

  it('each file starts with a header naming the generator and the rails', () => {
    for (const p of paths) {
      const text = readFileSync(p, 'utf8');
      expect(text).toContain('generated by spark-rdma config vllm');
      expect(text).toContain('# rails: rail 0 rocep1s0f1:1 (enp1s0f1np1, 192.168.100.10); rail 1 roceP2p1s0f1:1 (enP2p1s0f1np1, 192.168.101.10)');
      expect(text).toContain('# rail choice (measured): dual rail');
      if (p.endsWith('.sh')) expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    }
  });

  it('the scripts pass bash -n and shellcheck', () => {
    expect(hasShellcheck).toBe(true);
    for (const p of paths.filter((x) => x.endsWith('.sh'))) {
      expect(bashSyntaxError(p), p).toBeNull();
      expect(shellcheck(p), p).toBe('');
    }
  });

  it('the env files: bash source and docker --env-file both read exactly the node environment', () => {
    for (const role of ['head', 'worker'] as const) {
      const path = join(dir, 'out', `${role}.env`);
      expect(sourcedEnv(path)).toEqual(envMap(config, role));
      expect(dockerEnvFile(readFileSync(path, 'utf8'))).toEqual(envMap(config, role));
    }
  });

  it.each(['head', 'worker'] as const)('start-%s.sh hands run_cluster.sh the RDMA args, its env file and VLLM_HOST_IP', (role) => {
    const work = tempDir();
    const { bin, log } = makeStubs(work, ['run_cluster.sh', 'docker']);
    const r = runWithStubs(join(dir, 'out', `start-${role}.sh`), [], { bin, cwd: work, env: { RUN_CLUSTER: join(bin, 'run_cluster.sh') } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // First it checks the image has Ray (run_cluster.sh runs `ray start` in it).
    expect(readFileSync(join(log, 'docker.0'), 'utf8').trimEnd().split('\n')).toEqual(['run', '--rm', '--entrypoint', '/bin/bash', DEFAULT_VLLM_IMAGE, '-c', 'command -v ray']);
    const argv = readFileSync(join(log, 'run_cluster.sh.0'), 'utf8').trimEnd().split('\n');
    expect(argv).toEqual([
      DEFAULT_VLLM_IMAGE, '192.168.100.10', `--${role}`, '/home/spark/.cache/huggingface',
      ...RDMA_ARGS,
      '--env-file', join(dir, 'out', `${role}.env`),
      '-e', `VLLM_HOST_IP=${role === 'head' ? '192.168.100.10' : '192.168.100.11'}`,
    ]);
  });

  it('start-head.sh stops with the fix when the image has no Ray, before run_cluster.sh starts anything', () => {
    const work = tempDir();
    const { bin, log } = makeStubs(work, ['run_cluster.sh']);
    // A docker whose image lacks ray: `command -v ray` fails inside it.
    writeFileSync(join(bin, 'docker'), '#!/usr/bin/env bash\nexit 1\n');
    chmodSync(join(bin, 'docker'), 0o755);
    const r = runWithStubs(join(dir, 'out', 'start-head.sh'), [], { bin, cwd: work, env: { RUN_CLUSTER: join(bin, 'run_cluster.sh') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`start-head.sh: image ${DEFAULT_VLLM_IMAGE} has no ray command`);
    expect(r.stderr).toContain(`hint: build an image with Ray: printf 'FROM ${DEFAULT_VLLM_IMAGE}\\nRUN pip install "ray[default]"\\n' | docker build -t vllm-ray -`);
    expect(readdirSync(log)).toEqual([]);
  });

  it('serve.sh finds the node-* container and runs vllm serve in it; fails clearly without one', () => {
    const work = tempDir();
    const { bin, log } = makeStubs(work, ['docker']);
    const r = runWithStubs(join(dir, 'out', 'serve.sh'), [], { bin, cwd: work });
    expect(r.status).toBe(0);
    const ps = readFileSync(join(log, 'docker.0'), 'utf8').trimEnd().split('\n');
    expect(ps).toEqual(['ps', '--filter', 'name=^node-', '--format', '{{.Names}}']);
    const exec = readFileSync(join(log, 'docker.1'), 'utf8').trimEnd().split('\n');
    expect(exec).toEqual(['exec', '-i', 'node-4242', ...config.serve]);
    const named = runWithStubs(join(dir, 'out', 'serve.sh'), ['node-7'], { bin, cwd: work });
    expect(named.status).toBe(0);
    expect(readFileSync(join(log, 'docker.2'), 'utf8').split('\n').slice(0, 3)).toEqual(['exec', '-i', 'node-7']);
    const empty = makeStubs(tempDir(), ['docker'], '');
    const none = runWithStubs(join(dir, 'out', 'serve.sh'), [], { bin: empty.bin, cwd: work });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('serve.sh: no run_cluster.sh container (node-*) is running');
  });

  it('reports a directory it cannot write as an RdmaError', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    expect(() => writeGeneratedFiles(join(file, 'sub'), vllmFiles(config))).toThrow(/cannot write the config files into .*a-file\/sub: not a directory \(ENOTDIR\)$/);
  });
});
