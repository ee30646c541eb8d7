// Reads what a built addon needs at load time with binutils' readelf (which reads every
// architecture's ELF files, so the x86-64 host can inspect the arm64 binary).
import { execFileSync } from 'node:child_process';
import { ALLOWED_NEEDED, REQUIRED_NEEDED, SYMBOL_VERSION_LIMITS } from './targets.mjs';

function readelf(args, file) {
  try {
    return execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (cause) {
    throw new Error(`readelf ${args.join(' ')} ${file} failed: ${cause.stderr || cause.message}. ` +
      'readelf comes with binutils: apt-get install binutils', { cause });
  }
}

/** Compares dotted versions numerically: '2.9' < '2.34'. */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * @returns {{ elfClass: string, type: string, machine: string, needed: string[], runpath: string[],
 *   highest: Record<string, string> }} `highest` maps a version family (GLIBC, GLIBCXX, CXXABI, GCC)
 *   to the newest version of it the file requires.
 */
export function inspectElf(file) {
  const header = readelf(['-h'], file);
  const field = (name) => new RegExp(`^\\s*${name}:\\s+(.+?)\\s*$`, 'm').exec(header)?.[1] ?? '';
  const dynamic = readelf(['-d'], file);
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const runpath = [...dynamic.matchAll(/\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/g)].map((m) => m[1]);
  // Only the version *needs* (.gnu.version_r), not definitions.
  const versions = readelf(['-V'], file);
  const needs = versions.slice(Math.max(0, versions.indexOf("'.gnu.version_r'")));
  const highest = {};
  for (const [, family, version] of needs.matchAll(/Name: ([A-Z]+)_(\d+(?:\.\d+)*)/g)) {
    if (!highest[family] || compareVersions(version, highest[family]) > 0) highest[family] = version;
  }
  return { elfClass: field('Class'), type: field('Type'), machine: field('Machine'), needed, runpath, highest };
}

/** Everything wrong with a prebuild for `target` (see targets.mjs); empty when it is fit to ship. */
export function prebuildProblems(info, target) {
  const problems = [];
  if (info.machine !== target.elfMachine) problems.push(`machine is ${info.machine}, expected ${target.elfMachine}`);
  if (info.elfClass !== 'ELF64') problems.push(`class is ${info.elfClass}, expected ELF64`);
  if (!info.type.startsWith('DYN')) problems.push(`type is ${info.type}, expected a shared object (DYN)`);
  const allowed = [...ALLOWED_NEEDED, target.interpreter];
  for (const lib of info.needed) {
    if (!allowed.includes(lib)) problems.push(`needs ${lib}, which a target machine may not have (allowed: ${allowed.join(', ')})`);
  }
  for (const lib of REQUIRED_NEEDED) {
    if (!info.needed.includes(lib)) problems.push(`does not need ${lib} by that soname (needed: ${info.needed.join(', ')})`);
  }
  if (info.runpath.length > 0) problems.push(`has an RPATH/RUNPATH (${info.runpath.join(', ')}) pointing into the build machine`);
  for (const [family, limit] of Object.entries(SYMBOL_VERSION_LIMITS)) {
    const version = info.highest[family];
    if (version && compareVersions(version, limit) > 0) {
      problems.push(`needs ${family}_${version}, newer than the ${family}_${limit} a target machine is assumed to have`);
    }
  }
  return problems;
}
