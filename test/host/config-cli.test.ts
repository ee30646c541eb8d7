// `spark-rdma config nccl|vllm` in-process through main(argv, io): options, formats, exit codes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { dockerEnvFile, shellWords } from '../fixtures/shell.js';
import { dgxSparkNode, makeSysfsTree } from '../fixtures/sysfs.js';

// Building and removing fixture trees is slow on a loaded machine; the default 10 s hook deadline is too tight.
const HOOK_MS = 60_000;

const results = join(import.meta.dirname, '..', 'fixtures', 'results');
const spark = makeSysfsTree(dgxSparkNode());
const outDir = mkdtempSync(join(tmpdir(), 'spark-rdma-config-cli-'));
afterAll(() => {
  spark.cleanup();
  rmSync(outDir, { recursive: true, force: true });
}, HOOK_MS);

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env });
  return { code, stdout, stderr };
}

const nccl = (...args: string[]) => run(['config', 'nccl', '--sysfs-root', spark.root, ...args]);
const VLLM = ['config', 'vllm', '--head-ip', '192.168.100.10', '--worker-ip', '192.168.100.11', '--model', 'Qwen/Qwen3-32B'];

describe('spark-rdma config nccl', () => {
  it('prints the shell format by default: `config nccl > f; source f` exports the variables, no set -a needed', async () => {
    const r = await nccl();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('# Use: export lines: source it in bash (spark-rdma config nccl > nccl.sh && source nccl.sh), or paste it');
    const path = join(mkdtempSync(join(outDir, 'source-')), 'nccl.sh');
    writeFileSync(path, r.stdout);
    // What a program started from that shell sees (the python3 os.environ check, with env(1)).
    const seen = execFileSync('env', ['-i', 'bash', '--noprofile', '--norc', '-c', 'source "$1" && env', '_', path]).toString();
    expect(seen).toContain('\nNCCL_IB_HCA==rocep1s0f1:1\n');
    expect(seen).toContain('\nNCCL_NET_GDR_LEVEL=LOC\n');
    expect(r.stdout).toContain('# rail choice (default): single rail by default');
    const env = await nccl('--format', 'env');
    expect(env.stdout).toContain('# Use: a docker env file: docker run --env-file nccl.env ...; bash reads it only with set -a');
    expect(dockerEnvFile(env.stdout).NCCL_IB_HCA).toBe('=rocep1s0f1:1');
  });

  it('--help says how each format is used', async () => {
    const r = await run(['config', 'nccl', '--help']);
    expect(r.stdout).toContain('  shell  export lines: source it in bash');
    expect(r.stdout).toContain('  env    a docker env file: docker run --env-file nccl.env');
    expect(r.stdout).toContain('  docker docker run flags on one line: docker run $(spark-rdma config nccl --format docker)');
  });

  it('reads the sysfs root from SPARK_RDMA_SYSFS_ROOT', async () => {
    const r = await run(['config', 'nccl', '--format', 'docker'], { SPARK_RDMA_SYSFS_ROOT: spark.root });
    expect(r.code).toBe(0);
    expect(shellWords(r.stdout.trim())).toContain('NCCL_IB_HCA==rocep1s0f1:1');
  });

  it('--from a single-rail and a clearly faster dual-rail run: dual rail', async () => {
    const r = await nccl('--from', join(results, 'single-rail.json'), '--from', join(results, 'dual-rail-faster.json'), '--format', 'json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.mode).toBe('dual');
    expect(json.env.NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
  });

  it('--from a dual-rail run that is not clearly faster: single rail, and --dual-threshold moves the line', async () => {
    const args = ['--from', join(results, 'single-rail.json'), '--from', join(results, 'dual-rail-not-faster.json'), '--format', 'json'];
    expect(JSON.parse((await nccl(...args)).stdout).mode).toBe('single');
    expect(JSON.parse((await nccl(...args, '--dual-threshold', '1.1')).stdout).mode).toBe('dual');
  });

  it('--devices, --rails, --single, --dual and --debug-nccl', async () => {
    const env = async (...a: string[]) => dockerEnvFile((await nccl('--format', 'env', ...a)).stdout);
    expect((await env('--devices', 'roceP2p1s0f1,rocep1s0f1')).NCCL_IB_HCA).toBe('=roceP2p1s0f1:1,rocep1s0f1:1');
    expect((await env('--rails', '2')).NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
    expect((await env('--dual')).NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
    expect((await env('--rails', '1')).NCCL_IB_HCA).toBe('=rocep1s0f1:1');
    const debug = await env('--debug-nccl');
    expect(debug.NCCL_DEBUG).toBe('INFO');
    expect(debug.NCCL_DEBUG_SUBSYS).toBe('INIT,NET');
  });

  it.each([
    [['--single', '--dual'], 'both --single and --dual were given'],
    [['--format', 'yaml'], 'format "yaml" is not one of shell, env, docker, json'],
    [['--rails', 'two'], '--rails "two" is not a whole number'],
    [['--dual-threshold', 'x'], '--dual-threshold "x" is not a number'],
    [['--from', join(results, 'truncated.json')], `${join(results, 'truncated.json')} is not valid JSON`],
    [['--from', join(results, 'wrong-shape.json')], `${join(results, 'wrong-shape.json')}: sizes[0].total.gbps must be a rate in Gb/s`],
  ])('%j is a usage error (exit 2) that says what is wrong', async (args, message) => {
    const r = await nccl(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`spark-rdma: ${message}`);
    expect(r.stderr).toContain('hint: ');
  });
});

describe('spark-rdma config vllm', () => {
  it('prints the commands for both nodes and the serve line', async () => {
    const r = await run([...VLLM, '--sysfs-root', spark.root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bash ./run_cluster.sh vllm/vllm-openai:latest 192.168.100.10 --head "$HOME/.cache/huggingface" \\\n  --device /dev/infiniband:/dev/infiniband');
    expect(r.stdout).toContain('  -e VLLM_HOST_IP=192.168.100.11 \\');
    expect(r.stdout).toContain('vllm serve Qwen/Qwen3-32B \\\n  --tensor-parallel-size 2 \\\n  --distributed-executor-backend ray');
  });

  it('passes the serve options through', async () => {
    const r = await run([...VLLM, '--sysfs-root', spark.root, '--json', '--image', 'nvidia/vllm:25.09-py3', '--tensor-parallel-size', '2',
      '--gpu-memory-utilization', '0.8', '--kv-cache-dtype', 'auto', '--max-num-batched-tokens', '4096', '--hf-home', '/data/hf']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.serve).toEqual(['vllm', 'serve', 'Qwen/Qwen3-32B', '--tensor-parallel-size', '2', '--distributed-executor-backend', 'ray',
      '--gpu-memory-utilization', '0.80', '--kv-cache-dtype', 'auto', '--max-num-batched-tokens', '4096']);
    expect(json.head.command.slice(2, 6)).toEqual(['nvidia/vllm:25.09-py3', '192.168.100.10', '--head', '/data/hf']);
  });

  it('--out writes the scripts and env files and says where', async () => {
    const dir = join(outDir, 'launch');
    const r = await run([...VLLM, '--sysfs-root', spark.root, '--out', dir, '--from', join(results, 'single-rail.json'), '--from', join(results, 'dual-rail-faster.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('rails: rocep1s0f1:1, roceP2p1s0f1:1 (dual rail)');
    for (const f of ['head.env', 'worker.env', 'start-head.sh', 'start-worker.sh', 'serve.sh']) {
      expect(r.stdout).toContain(`wrote ${join(dir, f)}`);
      expect(existsSync(join(dir, f))).toBe(true);
    }
    expect(statSync(join(dir, 'serve.sh')).mode & 0o111).toBe(0o111);
    expect(dockerEnvFile(readFileSync(join(dir, 'worker.env'), 'utf8')).VLLM_HOST_IP).toBe('192.168.100.11');
  });

  it('--out refuses to replace existing files without --force (nothing written), replaces them with it; --json with --out prints JSON and the paths', async () => {
    const dir = join(outDir, 'again');
    expect((await run([...VLLM, '--sysfs-root', spark.root, '--out', dir])).code).toBe(0);
    writeFileSync(join(dir, 'serve.sh'), '# my edits\n');
    const refused = await run([...VLLM, '--sysfs-root', spark.root, '--out', dir, '--model', 'Other/Model']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`5 files already exist in ${dir} (head.env, worker.env, start-head.sh, start-worker.sh, serve.sh); nothing was written`);
    expect(refused.stderr).toContain('hint: pass --force to replace them');
    expect(readFileSync(join(dir, 'serve.sh'), 'utf8')).toBe('# my edits\n');
    const forced = await run([...VLLM, '--sysfs-root', spark.root, '--out', dir, '--force', '--json']);
    expect(forced.code).toBe(0);
    const json = JSON.parse(forced.stdout);
    expect(json.files).toEqual(['head.env', 'worker.env', 'start-head.sh', 'start-worker.sh', 'serve.sh'].map((f) => join(dir, f)));
    expect(json.serve[2]).toBe('Qwen/Qwen3-32B');
    expect(readFileSync(join(dir, 'serve.sh'), 'utf8')).toContain('vllm serve');
    // Written by rename: no temporary file left behind.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect((await run([...VLLM, '--sysfs-root', spark.root, '--force'])).stderr).toContain('--force only applies with --out');
  });

  it('sanity warnings go to stderr; --tensor-parallel-size 4 on two single-GPU nodes fails; the tokens hint suggests 2048', async () => {
    const warned = await run([...VLLM.slice(0, 2), '--head-ip', '192.168.100.10', '--worker-ip', '192.168.101.11', '--model', 'Qwen/Qwen3-32B', '--sysfs-root', spark.root, '--kv-cache-dtype', 'bogus']);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain("spark-rdma: warning: --worker-ip 192.168.101.11 is in rail 1's subnet");
    expect(warned.stderr).toContain('spark-rdma: warning: --kv-cache-dtype bogus is none of the dtypes');
    const tp = await run([...VLLM, '--sysfs-root', spark.root, '--tensor-parallel-size', '4']);
    expect(tp.code).not.toBe(0);
    expect(tp.stderr).toContain('--tensor-parallel-size 4 needs 4 GPUs');
    const tokens = await run([...VLLM, '--sysfs-root', spark.root, '--max-num-batched-tokens', 'many']);
    expect(tokens.stderr).toContain('hint: pass e.g. --max-num-batched-tokens 2048');
  });

  it('a missing required option is a usage error (exit 2)', async () => {
    const r = await run(['config', 'vllm', '--head-ip', '192.168.100.10', '--worker-ip', '192.168.100.11', '--sysfs-root', spark.root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--model <name>' not specified");
  });

  it('a bad address is a usage error (exit 2) naming it', async () => {
    const r = await run(['config', 'vllm', '--head-ip', '192.168.100.300', '--worker-ip', '192.168.100.11', '--model', 'm', '--sysfs-root', spark.root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('spark-rdma: --head-ip "192.168.100.300" is not an IPv4 address');
  });
});
