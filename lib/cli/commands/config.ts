import type { Command } from 'commander';
import { DUAL_RAIL_MIN_SPEEDUP } from '../../config/compare.js';
import { loadMeasurement } from '../../config/measurements.js';
import { ncclConfig, type NcclConfigOptions } from '../../config/nccl.js';
import { ENV_FORMATS, ENV_FORMAT_USE } from '../../config/types.js';
import { checkFormat, renderNcclConfig } from '../../config/render-nccl.js';
import { renderVllmCommands, vllmConfigJson, vllmFiles } from '../../config/render-vllm.js';
import { DEFAULT_HF_HOME, DEFAULT_RUN_CLUSTER, DEFAULT_VLLM_IMAGE, VLLM_SERVE_DEFAULTS, vllmConfig } from '../../config/vllm.js';
import { writeGeneratedFiles } from '../../config/write-files.js';
import { invalidArgument } from '../../errors.js';
import type { CliCommand, CliContext } from '../command.js';
import { examples } from '../help.js';
import { withSchema } from '../json-schema.js';

interface RailFlags {
  rails?: string;
  devices?: string;
  single?: boolean;
  dual?: boolean;
  from: string[];
  dualThreshold?: string;
  debugNccl?: boolean;
  sysfsRoot?: string;
}

interface NcclFlags extends RailFlags {
  format: string;
  json?: boolean;
}

interface VllmFlags extends RailFlags {
  headIp: string;
  workerIp: string;
  model: string;
  image?: string;
  hfHome?: string;
  runCluster?: string;
  tensorParallelSize?: string;
  gpuMemoryUtilization?: string;
  kvCacheDtype?: string;
  maxNumBatchedTokens?: string;
  gpusPerNode?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function wholeNumber(text: string | undefined, flag: string, example: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw invalidArgument(`${flag} "${text}" is not a whole number`, `pass e.g. ${flag} ${example}`);
  return Number(text);
}

function decimal(text: string | undefined, flag: string, example: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text)) throw invalidArgument(`${flag} "${text}" is not a number`, `pass e.g. ${flag} ${example}`);
  return Number(text);
}

/** The rail options both subcommands share, as ncclConfig options. */
function railOptions(ctx: CliContext, flags: RailFlags): NcclConfigOptions {
  if (flags.single && flags.dual) throw invalidArgument('both --single and --dual were given', 'pass one of them, or neither to decide from --from measurements');
  const mode = flags.single ? '--single' : flags.dual ? '--dual' : null;
  const selection = flags.rails !== undefined ? '--rails' : flags.devices !== undefined ? '--devices' : null;
  if (mode !== null && selection !== null) {
    throw invalidArgument(
      `both ${selection} and ${mode} were given`,
      `pass one: ${mode} takes rail 0${mode === '--dual' ? ' and rail 1' : ''}; ${selection} alone picks the rails and so their number`,
    );
  }
  const railCount = wholeNumber(flags.rails, '--rails', 2);
  const threshold = decimal(flags.dualThreshold, '--dual-threshold', String(DUAL_RAIL_MIN_SPEEDUP));
  return {
    env: ctx.env,
    ...(flags.sysfsRoot !== undefined ? { sysfsRoot: flags.sysfsRoot } : {}),
    ...(railCount !== undefined ? { rails: railCount } : {}),
    ...(flags.devices !== undefined ? { devices: flags.devices.split(',').map((d) => d.trim()) } : {}),
    ...(flags.single ? { mode: 'single' as const } : flags.dual ? { mode: 'dual' as const } : {}),
    ...(flags.from.length > 0 ? { measurements: flags.from.map(loadMeasurement) } : {}),
    ...(threshold !== undefined ? { dualThreshold: threshold } : {}),
    debug: flags.debugNccl === true,
  };
}

function addRailOptions(cmd: Command): Command {
  return cmd
    .option('--rails <n>', 'use the first N rails')
    .option('--devices <list>', 'use these rails in this order: device or device:port, comma-separated')
    .option('--single', 'one rail (rail 0), whatever the measurements say')
    .option('--dual', 'two rails, whatever the measurements say')
    .option('--from <file>', 'a saved `spark-rdma bw --json` result; repeat for a single-rail and a dual-rail run', collect, [] as string[])
    .option('--dual-threshold <x>', `speedup dual rail must measure over single rail to be chosen (default ${DUAL_RAIL_MIN_SPEEDUP})`)
    .option('--debug-nccl', 'add NCCL_DEBUG=INFO and NCCL_DEBUG_SUBSYS=INIT,NET to check the transport in the log')
    .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys (same as SPARK_RDMA_SYSFS_ROOT)');
}

const RAIL_HELP =
  '\nRail choice: --single/--dual, else --rails/--devices, else --from measurements (dual rail only when it\n' +
  `measured >= ${DUAL_RAIL_MIN_SPEEDUP}x single rail: with GPUDirect off a second rail adds host staging; one measured\n` +
  'pair of DGX Sparks served vLLM at 299 tok/s on one rail vs 239 on two), else single rail.\n';

function runNccl(ctx: CliContext, flags: NcclFlags, cmd: Command): void {
  // --json, as in every other command, is --format json.
  if (flags.json && cmd.getOptionValueSource('format') === 'cli' && flags.format !== 'json') {
    throw invalidArgument(`both --json and --format ${flags.format} were given`, 'pass one of them: --json is --format json');
  }
  const format = checkFormat(flags.json ? 'json' : flags.format);
  const config = ncclConfig(railOptions(ctx, flags));
  ctx.io.stdout(renderNcclConfig(config, format));
}

function runVllm(ctx: CliContext, flags: VllmFlags): void {
  const tp = wholeNumber(flags.tensorParallelSize, '--tensor-parallel-size', VLLM_SERVE_DEFAULTS.tensorParallelSize);
  const gmu = decimal(flags.gpuMemoryUtilization, '--gpu-memory-utilization', '0.70');
  const tokens = wholeNumber(flags.maxNumBatchedTokens, '--max-num-batched-tokens', VLLM_SERVE_DEFAULTS.maxNumBatchedTokens);
  const gpus = wholeNumber(flags.gpusPerNode, '--gpus-per-node', 1);
  const config = vllmConfig({
    ...railOptions(ctx, flags),
    headIp: flags.headIp,
    workerIp: flags.workerIp,
    model: flags.model,
    ...(flags.image !== undefined ? { image: flags.image } : {}),
    ...(flags.hfHome !== undefined ? { hfHome: flags.hfHome } : {}),
    ...(flags.runCluster !== undefined ? { runCluster: flags.runCluster } : {}),
    ...(tp !== undefined ? { tensorParallelSize: tp } : {}),
    ...(gmu !== undefined ? { gpuMemoryUtilization: gmu } : {}),
    ...(flags.kvCacheDtype !== undefined ? { kvCacheDtype: flags.kvCacheDtype } : {}),
    ...(tokens !== undefined ? { maxNumBatchedTokens: tokens } : {}),
    ...(gpus !== undefined ? { gpusPerNode: gpus } : {}),
  });
  for (const w of config.warnings) ctx.err(`spark-rdma: warning: ${w}`);
  if (flags.out !== undefined) {
    const paths = writeGeneratedFiles(flags.out, vllmFiles(config), { force: flags.force === true });
    if (flags.json) {
      ctx.io.stdout(`${JSON.stringify(withSchema('vllm', { ...(vllmConfigJson(config) as object), files: paths }), null, 2)}\n`);
      return;
    }
    ctx.out([`rails: ${config.rails.map((r) => `${r.device}:${r.port}`).join(', ')} (${config.decision.mode} rail)`, `why: ${config.decision.reason}`, ...paths.map((p) => `wrote ${p}`)].join('\n'));
    return;
  }
  if (flags.force) throw invalidArgument('--force only applies with --out', 'pass --out DIR --force to replace files written before, or drop --force');
  ctx.io.stdout(flags.json ? `${JSON.stringify(withSchema('vllm', vllmConfigJson(config) as object), null, 2)}\n` : renderVllmCommands(config));
}

export const command: CliCommand = {
  name: 'config',
  register(program: Command, ctx: CliContext) {
    const config = program
      .command('config')
      .description('launch configs for NCCL and vLLM from this machine\'s rails and saved measurements')
      .addHelpText('after', examples([['spark-rdma config nccl --help'], ['spark-rdma config vllm --help']]));

    addRailOptions(
      config
        .command('nccl')
        .description('the NCCL environment for RoCE with GPUDirect off (NCCL_IB_HCA, GDR off, socket netdevs), each value with its reason')
        .option('--format <format>', 'shell (export lines to source or paste), env (docker --env-file), docker (-e flags) or json', 'shell')
        .option('--json', 'print the config as JSON (same as --format json)'),
    )
      .addHelpText(
        'after',
        `${RAIL_HELP}\n\nFormats:\n${ENV_FORMATS.map((f) => `  ${f.padEnd(7)}${ENV_FORMAT_USE[f]}`).join('\n')}` +
          examples([
            ['spark-rdma config nccl > nccl.sh && source nccl.sh', 'the default: export lines for this shell'],
            ['spark-rdma config nccl --format env > nccl.env', 'then: docker run --env-file nccl.env ...'],
            ['spark-rdma config nccl --from one.json --from two.json', 'single or dual rail from measurements'],
            ['spark-rdma config nccl --format json', ''],
          ]),
      )
      .action((flags: NcclFlags, cmd: Command) => runNccl(ctx, flags, cmd));

    addRailOptions(
      config
        .command('vllm')
        .description('the commands for vLLM on two nodes: run_cluster.sh per node with the RDMA docker arguments and environment, and vllm serve')
        .requiredOption('--head-ip <ip>', "the head node's rail 0 address (Ray head, MASTER_ADDR)")
        .requiredOption('--worker-ip <ip>', "the worker node's rail 0 address")
        .requiredOption('--model <name>', 'model to serve, e.g. Qwen/Qwen3-32B')
        .option('--image <image>', `container image (default ${DEFAULT_VLLM_IMAGE}; an NGC vLLM image works the same)`)
        .option('--hf-home <dir>', `Hugging Face cache on each node (default ${DEFAULT_HF_HOME})`)
        .option('--run-cluster <path>', `vLLM's examples/ray_serving/run_cluster.sh (default ${DEFAULT_RUN_CLUSTER})`)
        .option('--tensor-parallel-size <n>', `vllm serve --tensor-parallel-size (default ${VLLM_SERVE_DEFAULTS.tensorParallelSize})`)
        .option('--gpu-memory-utilization <x>', `vllm serve --gpu-memory-utilization (default ${VLLM_SERVE_DEFAULTS.gpuMemoryUtilization.toFixed(2)})`)
        .option('--kv-cache-dtype <dtype>', `vllm serve --kv-cache-dtype (default ${VLLM_SERVE_DEFAULTS.kvCacheDtype})`)
        .option('--max-num-batched-tokens <n>', `vllm serve --max-num-batched-tokens (default ${VLLM_SERVE_DEFAULTS.maxNumBatchedTokens})`)
        .option('--gpus-per-node <n>', 'GPUs on each node (default 1, a DGX Spark): --tensor-parallel-size must fit in both nodes')
        .option('--out <dir>', 'write head.env, worker.env, start-head.sh, start-worker.sh and serve.sh there instead of printing (refuses to replace files)')
        .option('--force', 'with --out: replace files that already exist')
        .option('--json', 'print the config as JSON (with --out: also the paths written)'),
    )
      .addHelpText(
        'after',
        RAIL_HELP +
          examples([
            ['spark-rdma config vllm --head-ip 192.168.100.10 --worker-ip 192.168.100.11 --model Qwen/Qwen3-32B', ''],
            ['spark-rdma config vllm --head-ip A --worker-ip B --model M --out launch/', 'write the scripts'],
          ]),
      )
      .action((flags: VllmFlags) => runVllm(ctx, flags));
  },
};
