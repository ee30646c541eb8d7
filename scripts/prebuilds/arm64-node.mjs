#!/usr/bin/env node
// Debian's arm64 Node.js, run on the x86-64 host under qemu-user, so the arm64 prebuild can be
// loaded for real. The nodejs:arm64 package cannot be installed next to the host's node (the
// two conflict), so its .debs are downloaded with apt-get and unpacked under build-prebuilds/;
// its shared libraries (libuv1:arm64, libssl3:arm64, ...) are installed through multiarch
// (apt-packages.txt). Debian patches node to read some bundled modules from
// /usr/share/nodejs at startup; `qemu-aarch64 -L <root>` finds them under the unpacked root
// first and everything else (ld-linux-aarch64.so.1, libc.so.6, libibverbs.so.1) on the host.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORK_DIR } from './targets.mjs';
import { INSTALL_COMMAND, ToolchainError } from './toolchain.mjs';

export const ARM64_NODE_ROOT = join(WORK_DIR, 'arm64-node');
/** Debian 12's arm64 node 18 and the arch-independent modules it loads at startup. */
export const ARM64_NODE_DEBS = ['nodejs:arm64', 'libnode108:arm64', 'node-cjs-module-lexer', 'node-undici', 'node-acorn'];
const QEMU = 'qemu-aarch64';

/** The command line that runs Debian's arm64 node with `args` under qemu-user. */
export function arm64NodeCommand(args, root = ARM64_NODE_ROOT) {
  return { command: QEMU, args: ['-L', root, join(root, 'usr', 'bin', 'node'), ...args] };
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, ...options });
  if (result.error) return { ok: false, output: result.error.message };
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

function unpack(root) {
  const staging = mkdtempSync(`${root}.partial-`);
  try {
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const download = run('apt-get', [...sandbox, 'download', ...ARM64_NODE_DEBS], { cwd: staging });
    if (!download.ok) {
      throw new ToolchainError(`apt-get download ${ARM64_NODE_DEBS.join(' ')} failed: ${download.output}. ` +
        `The arm64 package lists must be known to apt (dpkg --add-architecture arm64; apt-get update): ${INSTALL_COMMAND}`);
    }
    const unpacked = join(staging, 'root');
    for (const deb of readdirSync(staging).filter((name) => name.endsWith('.deb'))) {
      const extract = run('dpkg-deb', ['-x', join(staging, deb), unpacked]);
      if (!extract.ok) throw new ToolchainError(`dpkg-deb -x ${deb} failed: ${extract.output}`);
    }
    rmSync(root, { recursive: true, force: true });
    renameSync(unpacked, root);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Makes sure Debian's arm64 node is unpacked and starts under qemu-user; downloads it once.
 * @returns {string} the node version it reports
 * @throws ToolchainError naming what is missing and how to install it
 */
export function ensureArm64Node(root = ARM64_NODE_ROOT) {
  if (!run(QEMU, ['--version']).ok) {
    throw new ToolchainError(`${QEMU} is not installed (package qemu-user). To fix: ${INSTALL_COMMAND}`);
  }
  if (!existsSync('/lib/ld-linux-aarch64.so.1')) {
    throw new ToolchainError(`the arm64 C library is not installed (package libc6:arm64). To fix: ${INSTALL_COMMAND}`);
  }
  if (!existsSync(join(root, 'usr', 'bin', 'node'))) {
    mkdirSync(WORK_DIR, { recursive: true });
    unpack(root);
  }
  const { command, args } = arm64NodeCommand(['-p', 'process.arch + " " + process.version'], root);
  const probe = run(command, args);
  if (!probe.ok || !probe.output.startsWith('arm64 ')) {
    throw new ToolchainError(`Debian's arm64 node does not start under ${QEMU}: ${probe.output.split('\n').slice(0, 3).join(' | ')}. ` +
      `Its libraries come from the :arm64 packages in scripts/prebuilds/apt-packages.txt. To fix: ${INSTALL_COMMAND}`);
  }
  return probe.output.split(' ')[1];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(`@spark/rdma: Debian's arm64 node ${ensureArm64Node()} runs under ${QEMU} from ${ARM64_NODE_ROOT}`);
  } catch (error) {
    if (!(error instanceof ToolchainError)) throw error;
    console.error(`@spark/rdma: ${error.message}`);
    process.exitCode = 1;
  }
}
