// Writes a list of variables as an env file (`docker run --env-file` and bash `source` both
// read it), shell export lines, or docker -e flags. Pure string functions.
import { checkEnvEntry, shellQuote } from './shell.js';
import type { EnvVariable, UnsetVariable } from './types.js';

/** Variables with the comments around them. Header and footer lines are comment text. */
export interface EnvDocument {
  header: string[];
  variables: readonly EnvVariable[];
  unset: readonly UnsetVariable[];
  footer: string[];
}

const comment = (text: string) => text.split('\n').map((line) => (line === '' ? '#' : `# ${line}`));

/**
 * shellcheck reads an env file as a script: NAME==x (NCCL_IB_HCA's "=" prefix) looks like a typo
 * to it (SC1097) and the variables look unused (SC2034). Both are wrong for a file that docker
 * --env-file and `set -a; source` read, and quotes cannot help (docker keeps them), so the file
 * says so to shellcheck itself. Docker skips the line like any other comment.
 */
const ENV_FILE_SHELLCHECK = '# shellcheck disable=SC1097,SC2034 # an env file: NAME==x means the value "=x"; set -a exports them';

/**
 * `NAME=value` lines, each after a `# reason` line. No quotes and no `export`: docker's env-file
 * parser keeps quotes literally, so values are checked to need none.
 */
export function renderEnvFile(doc: EnvDocument): string {
  const lines = [ENV_FILE_SHELLCHECK, ...doc.header.flatMap(comment)];
  for (const v of doc.variables) {
    checkEnvEntry(v.name, v.value);
    lines.push('', ...comment(v.reason), `${v.name}=${v.value}`);
  }
  for (const u of doc.unset) lines.push('', ...comment(`${u.name} is left unset: ${u.reason}`));
  if (doc.footer.length > 0) lines.push('', ...doc.footer.flatMap(comment));
  return `${lines.join('\n')}\n`;
}

/** `export NAME=value` lines (and `unset` for the variables left out), each after a `# reason` line. */
export function renderShell(doc: EnvDocument): string {
  const lines = doc.header.flatMap(comment);
  for (const v of doc.variables) {
    checkEnvEntry(v.name, v.value);
    // Quoted when it starts with "=" (NCCL_IB_HCA): bash reads NAME==x fine, but it looks like a typo.
    const word = v.value.startsWith('=') ? `'${v.value}'` : shellQuote(v.value);
    lines.push('', ...comment(v.reason), `export ${v.name}=${word}`);
  }
  for (const u of doc.unset) lines.push('', ...comment(`${u.name} is left unset: ${u.reason}`), `unset ${u.name}`);
  if (doc.footer.length > 0) lines.push('', ...doc.footer.flatMap(comment));
  return `${lines.join('\n')}\n`;
}

/** `-e NAME=value` pairs as separate arguments (what a shell passes to docker). */
export function dockerEnvArgs(variables: readonly EnvVariable[]): string[] {
  return variables.flatMap((v) => {
    checkEnvEntry(v.name, v.value);
    return ['-e', `${v.name}=${v.value}`];
  });
}

/** One line of docker flags, for `docker run $(spark-rdma config nccl --format docker) ...`. */
export function renderDockerFlags(variables: readonly EnvVariable[]): string {
  return `${dockerEnvArgs(variables).map(shellQuote).join(' ')}\n`;
}
