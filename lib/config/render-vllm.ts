// Writes the vLLM launch as commands to paste (stdout) or as files: one env file and one start
// script per node plus serve.sh. Pure: returns strings; write-files.ts puts them on disk.
import { describeRails, logCheckLines, provenance } from './render-nccl.js';
import { renderEnvFile } from './render-env.js';
import { shellWordWithHome } from './shell.js';
import type { VllmConfig, VllmNode } from './vllm.js';
import { RDMA_DOCKER_ARGS, RUN_CLUSTER_UPSTREAM, rayFix } from './vllm.js';

/** A file the vLLM config consists of. */
export interface GeneratedFile {
  name: string;
  content: string;
  /** Permission bits: 0o755 for scripts, 0o644 for env files. */
  mode: number;
}

const q = shellWordWithHome;

/** Splits argv after `lead` words into one line per flag (a flag and the values after it). */
function flagLines(argv: readonly string[]): string[][] {
  const lines: string[][] = [];
  for (const word of argv) {
    if (word.startsWith('-') || lines.length === 0) lines.push([word]);
    else lines[lines.length - 1]!.push(word);
  }
  return lines;
}

/** Shell words joined into one command with a backslash-newline before each flag. */
function command(lead: readonly string[], flags: readonly string[][]): string {
  return [lead.join(' '), ...flags.map((f) => f.join(' '))].join(' \\\n  ');
}

const comment = (lines: readonly string[]) => lines.flatMap((l) => l.split('\n')).map((l) => (l === '' ? '#' : `# ${l}`));

function header(config: VllmConfig, generatedBy: string): string[] {
  return [
    ...provenance(`vLLM on two nodes (Ray, tensor parallel over RoCE with GPUDirect off)`, generatedBy, config.decision),
    `model ${config.model}, image ${config.image}, head ${config.head.ip}, worker ${config.worker.ip}`,
  ];
}

function pasteCommand(node: VllmNode): string {
  const [bash, script, ...args] = node.command;
  const lead = [bash!, q(script!), ...args.slice(0, 4).map(q)];
  return command(lead, flagLines(args.slice(4)).map((f) => f.map(q)));
}

function serveCommand(config: VllmConfig, containerWord: string, tty: string): string {
  const [vllm, serve, model, ...flags] = config.serve;
  return command(['docker', 'exec', tty, containerWord, vllm!, serve!, q(model!)], flagLines(flags).map((f) => f.map(q)));
}

const FIND_CONTAINER = `"$(docker ps --filter 'name=^node-' --format '{{.Names}}' | head -n 1)"`;

/** Commands to paste on each node, with every variable's reason; what `config vllm` prints. */
export function renderVllmCommands(config: VllmConfig, generatedBy = 'spark-rdma config vllm'): string {
  const why = config.head.env.map((v) => `${v.name}: ${v.reason}`);
  const out = [
    ...comment(header(config, generatedBy)),
    '#',
    ...comment(['Environment (each -e below):', ...why.map((w) => `  ${w}`)]),
    '#',
    ...comment([
      `0. On both nodes, check the image has Ray (run_cluster.sh starts it; recent vLLM images may not ship it): docker run --rm --entrypoint /bin/bash ${q(config.image)} -c 'command -v ray'`,
      `   If it prints nothing: ${rayFix(config.image)}`,
    ]),
    ...comment([`1. On the head node (${config.head.ip}), where run_cluster.sh is (${RUN_CLUSTER_UPSTREAM}); keep it running:`]),
    pasteCommand(config.head),
    '',
    ...comment([`2. On the worker node (${config.worker.ip}); keep it running:`]),
    pasteCommand(config.worker),
    '',
    ...comment(['3. On the head node, once `ray status` in the container lists both nodes:']),
    serveCommand(config, FIND_CONTAINER, '-it'),
    '',
    ...comment([...logCheckLines(config.nccl.verify), ...config.notes.map((n) => `Note: ${n}`)]),
  ];
  return `${out.join('\n')}\n`;
}

function envFile(config: VllmConfig, node: VllmNode, generatedBy: string): string {
  return renderEnvFile({
    header: [
      ...header(config, generatedBy),
      `Container environment of the ${node.role} node (${node.ip}): docker run --env-file reads it, and so does bash (set -a; source ${node.role}.env).`,
    ],
    variables: node.env,
    unset: config.nccl.unset,
    footer: logCheckLines(config.nccl.verify),
  });
}

function startScript(config: VllmConfig, node: VllmNode, generatedBy: string): string {
  const lead = ['exec', 'bash', '"$run_cluster"', '"$image"', q(config.head.ip), `--${node.role}`, q(config.hfHome)];
  const flags = [...flagLines(RDMA_DOCKER_ARGS).map((f) => f.map(q)), ['--env-file', `"$here/${node.role}.env"`], ['-e', q(`VLLM_HOST_IP=${node.ip}`)]];
  const order = node.role === 'head' ? 'Start this first, then start-worker.sh on the worker node.' : 'Start start-head.sh on the head node first, then this.';
  return [
    '#!/usr/bin/env bash',
    ...comment([
      ...header(config, generatedBy),
      `${node.role} node (${node.ip}). ${order} Keep it running: run_cluster.sh removes the container when it exits.`,
      `run_cluster.sh is ${RUN_CLUSTER_UPSTREAM}; set RUN_CLUSTER to its path if it is elsewhere.`,
    ]),
    'set -euo pipefail',
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    `run_cluster="\${RUN_CLUSTER:-${config.runCluster}}"`,
    `image=${q(config.image)}`,
    '# run_cluster.sh runs `ray start` in the image; recent vLLM images may not ship Ray, so check first.',
    'if ! docker run --rm --entrypoint /bin/bash "$image" -c \'command -v ray\' >/dev/null 2>&1; then',
    `  echo "start-${node.role}.sh: image $image has no ray command (or docker cannot run it)" >&2`,
    `  printf '%s\\n' ${q(`hint: ${rayFix(config.image)}`)} >&2`,
    '  exit 1',
    'fi',
    '# VLLM_HOST_IP is in the env file and also passed with -e: run_cluster.sh reads it from its -e arguments to bind Ray.',
    command(lead, flags),
    '',
  ].join('\n');
}

function serveScript(config: VllmConfig, generatedBy: string): string {
  return [
    '#!/usr/bin/env bash',
    ...comment([
      ...header(config, generatedBy),
      'Run on the head node once start-head.sh and start-worker.sh are up (`ray status` in the container lists both nodes).',
      'With several run_cluster.sh containers, pass the name of the head one: ./serve.sh node-12345',
    ]),
    'set -euo pipefail',
    `container="\${1:-$(docker ps --filter 'name=^node-' --format '{{.Names}}' | head -n 1)}"`,
    'if [ -z "$container" ]; then',
    '  echo "serve.sh: no run_cluster.sh container (node-*) is running: start start-head.sh first, or pass the container name" >&2',
    '  exit 1',
    'fi',
    'tty=(-i)',
    'if [ -t 0 ]; then tty+=(-t); fi',
    `exec ${serveCommand(config, '"$container"', '"${tty[@]}"')}`,
    '',
  ].join('\n');
}

/** head.env, worker.env, start-head.sh, start-worker.sh and serve.sh. */
export function vllmFiles(config: VllmConfig, generatedBy = 'spark-rdma config vllm'): GeneratedFile[] {
  return [
    { name: 'head.env', content: envFile(config, config.head, generatedBy), mode: 0o644 },
    { name: 'worker.env', content: envFile(config, config.worker, generatedBy), mode: 0o644 },
    { name: 'start-head.sh', content: startScript(config, config.head, generatedBy), mode: 0o755 },
    { name: 'start-worker.sh', content: startScript(config, config.worker, generatedBy), mode: 0o755 },
    { name: 'serve.sh', content: serveScript(config, generatedBy), mode: 0o755 },
  ];
}

/** The config as plain data for `--format json`. */
export function vllmConfigJson(config: VllmConfig): unknown {
  const node = (n: VllmNode) => ({ role: n.role, ip: n.ip, env: Object.fromEntries(n.env.map((v) => [v.name, v.value])), command: n.command });
  return {
    mode: config.decision.mode,
    rails: config.rails,
    railsText: describeRails(config.rails),
    decision: { mode: config.decision.mode, source: config.decision.source, reason: config.decision.reason, comparison: config.decision.comparison },
    model: config.model,
    image: config.image,
    hfHome: config.hfHome,
    runCluster: config.runCluster,
    head: node(config.head),
    worker: node(config.worker),
    serve: config.serve,
    variables: config.head.env.map((v) => ({ name: v.name, reason: v.reason })),
    unset: config.nccl.unset,
    verify: config.nccl.verify,
    notes: config.notes,
    warnings: config.warnings,
  };
}
