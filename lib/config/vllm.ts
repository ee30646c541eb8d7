// vLLM across two nodes with Ray (facts §5): run_cluster.sh per node with the docker arguments
// it lacks, each node's environment, and the `vllm serve` line. Pure data; render-vllm.ts
// writes it as commands or scripts.
import { isIPv4 } from 'node:net';
import { invalidArgument } from '../errors.js';
import { discoverRails } from '../rails/discover.js';
import type { Rail } from '../rails/types.js';
import { DUAL_RAIL_TOKENS_NOTE } from './compare.js';
import { ncclConfig, type NcclConfig, type NcclConfigOptions } from './nccl.js';
import { isPlainValue } from './shell.js';
import type { EnvVariable, RailDecision } from './types.js';

/**
 * Default image: vLLM's own multi-arch image, the one run_cluster.sh's usage names. An NGC vLLM
 * image works the same (--image). Recent vLLM lists Ray in none of requirements/common.txt and
 * requirements/cuda.txt, which the image installs, so the image may lack the `ray` command that
 * run_cluster.sh starts: the generated start scripts check for it first (RAY_CHECK).
 */
export const DEFAULT_VLLM_IMAGE = 'vllm/vllm-openai:latest';
/** Default Hugging Face cache, expanded on each node when the script runs. */
export const DEFAULT_HF_HOME = '$HOME/.cache/huggingface';
/** Default path of vLLM's run_cluster.sh (relative to where the command runs); see {@link RUN_CLUSTER_UPSTREAM}. */
export const DEFAULT_RUN_CLUSTER = './run_cluster.sh';
/** Where vLLM keeps run_cluster.sh: examples/ray_serving/ now, examples/online_serving/ in older releases. */
export const RUN_CLUSTER_UPSTREAM = "vLLM's examples/ray_serving/run_cluster.sh (examples/online_serving/ in older vLLM)";
/** What to do when the image has no Ray (NVIDIA's Spark playbook installs ray[default] the same way). */
export function rayFix(image: string): string {
  return `build an image with Ray: printf 'FROM ${image}\\nRUN pip install "ray[default]"\\n' | docker build -t vllm-ray - ; then pass --image vllm-ray`;
}
/** The serve settings of the measured DGX Spark pair (two single-GPU nodes, TP 2). */
export const VLLM_SERVE_DEFAULTS = {
  tensorParallelSize: 2,
  gpuMemoryUtilization: 0.7,
  kvCacheDtype: 'fp8',
  maxNumBatchedTokens: 2048,
} as const;

/** What run_cluster.sh does not pass and RDMA needs: without them NCCL silently uses sockets. */
export const RDMA_DOCKER_ARGS: readonly string[] = ['--device', '/dev/infiniband:/dev/infiniband', '--ulimit', 'memlock=-1', '--cap-add', 'IPC_LOCK'];

export interface VllmConfigOptions extends NcclConfigOptions {
  /** The head node's fabric (rail 0) IPv4 address: Ray head, MASTER_ADDR, its VLLM_HOST_IP. */
  headIp: string;
  /** The worker node's fabric (rail 0) IPv4 address: its VLLM_HOST_IP. */
  workerIp: string;
  /** Model to serve (Hugging Face id or a path inside the container). */
  model: string;
  /** Container image; default {@link DEFAULT_VLLM_IMAGE}. */
  image?: string;
  /** Host directory mounted as the container's Hugging Face cache; default {@link DEFAULT_HF_HOME}. */
  hfHome?: string;
  /** Path of run_cluster.sh; default {@link DEFAULT_RUN_CLUSTER}. */
  runCluster?: string;
  tensorParallelSize?: number;
  gpuMemoryUtilization?: number;
  kvCacheDtype?: string;
  maxNumBatchedTokens?: number;
  /** GPUs on each node (default 1: a DGX Spark); tensorParallelSize must fit in the two nodes. */
  gpusPerNode?: number;
}

export interface VllmNode {
  role: 'head' | 'worker';
  /** This node's rail address: its VLLM_HOST_IP. */
  ip: string;
  /** The node's whole container environment, each variable with its reason. */
  env: EnvVariable[];
  /** The run_cluster.sh command as argv, environment inline as -e pairs. */
  command: string[];
}

export interface VllmConfig {
  decision: RailDecision;
  rails: Rail[];
  nccl: NcclConfig;
  model: string;
  image: string;
  hfHome: string;
  runCluster: string;
  head: VllmNode;
  worker: VllmNode;
  /** The serve command (argv) to run inside the head container. */
  serve: string[];
  notes: string[];
  /** What looks wrong but may be meant (the CLI prints these on stderr). */
  warnings: string[];
}

/**
 * KV cache dtypes vLLM knows: vllm/config/cache.py CacheDType across recent releases (the list
 * grows: int8, nvfp4 and turboquant_* came later). An unknown name is a warning, not an error:
 * a newer vLLM may accept it.
 */
export const KNOWN_KV_CACHE_DTYPES: readonly string[] = ['auto', 'float16', 'bfloat16', 'int8', 'fp8', 'fp8_e4m3', 'fp8_e5m2', 'fp8_inc', 'fp8_ds_mla', 'nvfp4'];

function checkIp(ip: string, flag: string): string {
  if (typeof ip !== 'string' || !isIPv4(ip)) {
    throw invalidArgument(`${flag} "${ip}" is not an IPv4 address`, `pass the node's rail 0 address, e.g. ${flag} 192.168.100.10 (spark-rdma devices shows it)`);
  }
  return ip;
}

function checkWord(value: string | undefined, what: string, fallback: string, example: string): string {
  const v = value ?? fallback;
  const plain = v.startsWith('$HOME') ? isPlainValue(v.slice(5) || 'x') : isPlainValue(v);
  if (!plain) {
    throw invalidArgument(`${what} ${JSON.stringify(v)} has characters a generated script would have to quote`, `use letters, digits and _ . , : = / @ % + - only, e.g. ${example}`);
  }
  return v;
}

function checkNumber(value: number | undefined, fallback: number, what: string, ok: (v: number) => boolean, range: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw invalidArgument(`${what} ${v} is out of range: it must be ${range}`, `pass ${what} within that range (default ${fallback})`);
  return v;
}

/** "0.70" for 0.7 (two decimals when that is exact), any other value as written. */
function formatFraction(v: number): string {
  return Number.isInteger(v * 100) ? v.toFixed(2) : String(v);
}

function nodeEnv(nccl: NcclConfig, nodeIp: string, headIp: string, netdev: string): EnvVariable[] {
  const env: EnvVariable[] = [
    { name: 'VLLM_HOST_IP', value: nodeIp, reason: "this node's rail 0 address: vLLM and Ray bind to it" },
    { name: 'MASTER_ADDR', value: headIp, reason: "the head node's rail 0 address (torch.distributed rendezvous)" },
  ];
  for (const v of nccl.variables) {
    env.push(v);
    if (v.name === 'GLOO_SOCKET_IFNAME') env.push({ name: 'TP_SOCKET_IFNAME', value: netdev, reason: 'TensorPipe (torch RPC) on the same netdev' });
  }
  env.push(
    { name: 'RAY_memory_monitor_refresh_ms', value: '0', reason: "GB10 memory is unified: Ray's monitor counts page cache as pressure and kills workers" },
    { name: 'VLLM_SLEEP_WHEN_IDLE', value: '1', reason: 'idle workers sleep instead of spinning a CPU core (as on the measured DGX Spark pair)' },
    { name: 'OMP_NUM_THREADS', value: '1', reason: 'one OpenMP thread per process: the Grace cores serve NCCL host staging (as on the measured DGX Spark pair)' },
  );
  return env;
}

/** a.b.c of an IPv4 address, or 169.254 for link-local (its own /16): the subnet guess for warnings. */
const subnet = (ip: string | null) => (ip === null ? null : ip.startsWith('169.254.') ? '169.254' : ip.split('.').slice(0, 3).join('.'));

/** Where the head and worker addresses sit on this machine's rails: notes, and warnings for what looks wrong. */
function locate(rails: Rail[], headIp: string, workerIp: string): { notes: string[]; warnings: string[] } {
  const notes: string[] = [];
  const warnings: string[] = [];
  const first = rails[0]!;
  const other = rails.find((r, i) => i > 0 && (r.ipv4 === headIp || r.ipv4 === workerIp));
  const rail0 = `rail 0 (${first.netdev}, ${first.ipv4 ?? 'no IPv4'})`;
  if (first.ipv4 === headIp) notes.push(`this machine is the head (${first.netdev} has ${headIp})`);
  else if (first.ipv4 === workerIp) notes.push(`this machine is the worker (${first.netdev} has ${workerIp})`);
  else if (other) {
    warnings.push(
      `${other.ipv4} is on rail ${other.index} (${other.netdev}), not on ${rail0}, which carries NCCL/Gloo sockets: ` +
        'pass rail 0 addresses as --head-ip/--worker-ip so Ray and NCCL use the same netdev',
    );
  } else {
    warnings.push(`neither ${headIp} nor ${workerIp} is an address of this machine's ${rail0}: run this on the head or the worker, or check the addresses (spark-rdma devices)`);
  }
  // The peer's address cannot be checked here, but its subnet can: in rail 1's subnet, Ray would bind rail 1 while NCCL_SOCKET_IFNAME is rail 0.
  for (const [flag, ip] of [['--head-ip', headIp], ['--worker-ip', workerIp]] as const) {
    if (rails.some((r) => r.ipv4 === ip)) continue;
    const onOther = rails.find((r, i) => i > 0 && subnet(r.ipv4) === subnet(ip) && subnet(ip) !== subnet(first.ipv4));
    if (onOther) {
      warnings.push(`${flag} ${ip} is in rail ${onOther.index}'s subnet (${onOther.netdev}, ${onOther.ipv4}), but NCCL_SOCKET_IFNAME is rail 0 (${first.netdev}): pass the peer's rail 0 address`);
    }
  }
  notes.push('the worker is assumed to have the same rail names (devices, netdevs) as this machine, as two DGX Sparks do');
  return { notes, warnings };
}

/**
 * The two-node vLLM launch: for head and worker the run_cluster.sh command with the docker
 * arguments RDMA needs and the node's environment, and the `vllm serve` line for the head.
 */
export function vllmConfig(opts: VllmConfigOptions): VllmConfig {
  const headIp = checkIp(opts.headIp, '--head-ip');
  const workerIp = checkIp(opts.workerIp, '--worker-ip');
  if (headIp === workerIp) throw invalidArgument(`--head-ip and --worker-ip are both ${headIp}`, 'give each node its own rail 0 address');
  if (typeof opts.model !== 'string' || opts.model.trim() === '' || /[\s'"\\$`]/.test(opts.model)) {
    throw invalidArgument(`--model ${JSON.stringify(opts.model)} is not a model name`, 'pass a Hugging Face id such as Qwen/Qwen3-32B (no spaces or quotes)');
  }
  const image = checkWord(opts.image, '--image', DEFAULT_VLLM_IMAGE, DEFAULT_VLLM_IMAGE);
  const hfHome = checkWord(opts.hfHome, '--hf-home', DEFAULT_HF_HOME, '/data/huggingface');
  const runCluster = checkWord(opts.runCluster, '--run-cluster', DEFAULT_RUN_CLUSTER, './run_cluster.sh');
  const tp = checkNumber(opts.tensorParallelSize, VLLM_SERVE_DEFAULTS.tensorParallelSize, '--tensor-parallel-size', (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'a whole number from 1 to 64');
  const gmu = checkNumber(opts.gpuMemoryUtilization, VLLM_SERVE_DEFAULTS.gpuMemoryUtilization, '--gpu-memory-utilization', (v) => v > 0 && v <= 1, 'more than 0 and at most 1');
  const tokens = checkNumber(opts.maxNumBatchedTokens, VLLM_SERVE_DEFAULTS.maxNumBatchedTokens, '--max-num-batched-tokens', (v) => Number.isInteger(v) && v >= 1, 'a whole number of 1 or more');
  const kv = opts.kvCacheDtype ?? VLLM_SERVE_DEFAULTS.kvCacheDtype;
  if (!/^[a-z0-9_]+$/.test(kv)) throw invalidArgument(`--kv-cache-dtype "${kv}" is not a dtype name`, 'pass e.g. fp8 or auto');
  const gpus = checkNumber(opts.gpusPerNode, 1, '--gpus-per-node', (v) => Number.isInteger(v) && v >= 1 && v <= 16, 'a whole number from 1 to 16');
  if (tp > 2 * gpus) {
    throw invalidArgument(
      `--tensor-parallel-size ${tp} needs ${tp} GPUs, but two nodes with ${gpus} GPU${gpus === 1 ? '' : 's'} each have ${2 * gpus}: Ray would wait forever for the missing ones`,
      `pass --tensor-parallel-size ${2 * gpus} (one shard per GPU of both nodes), or --gpus-per-node if the nodes have more`,
    );
  }
  const warnings: string[] = [];
  if (tp < 2 * gpus) {
    warnings.push(`--tensor-parallel-size ${tp} uses ${tp} of the ${2 * gpus} GPUs of the two nodes${tp <= gpus ? ': the worker node gets no shard and RDMA carries nothing' : ''}`);
  }
  if (!KNOWN_KV_CACHE_DTYPES.includes(kv)) {
    warnings.push(`--kv-cache-dtype ${kv} is none of the dtypes vLLM's CacheDType lists (${KNOWN_KV_CACHE_DTYPES.join(', ')}): vllm serve refuses it unless your release added it`);
  }

  const nccl = ncclConfig(opts);
  const netdev = nccl.rails[0]!.netdev;
  const node = (role: 'head' | 'worker', ip: string): VllmNode => {
    const env = nodeEnv(nccl, ip, headIp, netdev);
    return {
      role,
      ip,
      env,
      command: ['bash', runCluster, image, headIp, `--${role}`, hfHome, ...RDMA_DOCKER_ARGS, ...env.flatMap((v) => ['-e', `${v.name}=${v.value}`])],
    };
  };
  const serve = [
    'vllm', 'serve', opts.model,
    '--tensor-parallel-size', String(tp),
    '--distributed-executor-backend', 'ray',
    '--gpu-memory-utilization', formatFraction(gmu),
    '--kv-cache-dtype', kv,
    '--max-num-batched-tokens', String(tokens),
  ];
  // Every rail of this machine (not only the chosen ones): an address in an unused rail's subnet is worth a warning too.
  const machine = opts.fromRails ?? discoverRails({ ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}), ...(opts.env !== undefined ? { env: opts.env } : {}) });
  const where = locate([...nccl.rails, ...machine.filter((r) => !nccl.rails.some((c) => c.device === r.device && c.port === r.port))], headIp, workerIp);
  warnings.push(...where.warnings);
  const notes = [
    ...where.notes,
    ...where.warnings.map((w) => `warning: ${w}`),
    'start the head first, then the worker; keep both running (run_cluster.sh removes its container when it exits)',
    '--async-scheduling is left out: some vLLM releases refuse it with --distributed-executor-backend ray (vllm/engine/arg_utils.py); add it only if yours accepts it',
    `the image must have Ray (run_cluster.sh runs ray start in it; recent vLLM images may not ship it): the start scripts check and stop with the fix: ${rayFix(image)}`,
  ];
  if (nccl.decision.mode === 'dual') {
    notes.push(`dual rail raises raw bandwidth, but ${DUAL_RAIL_TOKENS_NOTE}: compare tok/s against --single before keeping it`);
  }
  return {
    decision: nccl.decision,
    rails: nccl.rails,
    nccl,
    model: opts.model,
    image,
    hfHome,
    runCluster,
    head: node('head', headIp),
    worker: node('worker', workerIp),
    serve,
    notes,
    warnings,
  };
}
