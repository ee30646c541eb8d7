// Checks, before a build starts, that the tools and libraries a target needs are installed, and
// says which Debian packages bring what is missing (the full list: apt-packages.txt).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const INSTALL_COMMAND = 'sudo bash scripts/prebuilds/install-toolchain.sh';

export class ToolchainError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ToolchainError';
  }
}

function hasCommand(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** What building `target` on this machine needs and does not find, each with its package. */
export function missingForTarget(target, hostArch = process.arch) {
  const missing = [];
  for (const [command, pkg] of [['cmake', 'cmake'], ['pkg-config', 'pkg-config']]) {
    if (!hasCommand(command)) missing.push(`${command} (package ${pkg})`);
  }
  if (target.arch === hostArch) {
    if (!hasCommand('g++')) missing.push('g++ (package g++)');
    for (const [module, pkg] of [['libibverbs', 'libibverbs-dev'], ['librdmacm', 'librdmacm-dev']]) {
      if (spawnSync('pkg-config', ['--exists', module], { stdio: 'ignore' }).status !== 0) {
        missing.push(`pkg-config module ${module} (package ${pkg})`);
      }
    }
    return missing;
  }
  const cross = target.cross;
  if (!cross || cross.fromArch !== hostArch) {
    throw new ToolchainError(
      `cannot build the ${target.name} prebuild on a ${process.platform}-${hostArch} machine: only ` +
        `${target.name} itself${cross ? ` or ${process.platform}-${cross.fromArch} (cross)` : ''} can. ` +
        `Build the targets this machine supports, e.g. npm run prebuilds -- ${process.platform}-${hostArch}`,
    );
  }
  if (!hasCommand(cross.compiler)) missing.push(`${cross.compiler} (package ${cross.compilerPackage})`);
  for (const [module, pkg] of [['libibverbs', `libibverbs-dev:${target.arch}`], ['librdmacm', `librdmacm-dev:${target.arch}`]]) {
    const pc = join(cross.pkgConfigDir, `${module}.pc`);
    if (!existsSync(pc)) missing.push(`${pc} (package ${pkg}, after dpkg --add-architecture ${target.arch})`);
  }
  return missing;
}

/** Throws a ToolchainError naming every missing piece and the command that installs them all. */
export function assertToolchain(target, hostArch = process.arch) {
  const missing = missingForTarget(target, hostArch);
  if (missing.length > 0) {
    throw new ToolchainError(
      `the ${target.name} prebuild cannot be built here; missing: ${missing.join('; ')}. ` +
        `To fix: ${INSTALL_COMMAND} (installs the packages in scripts/prebuilds/apt-packages.txt)`,
    );
  }
}
