// The job the guest runs, written into the writable 9p share: job.sh (cd, environment, exec the
// command), settings (the rails deadline and the node's hostname for the guest init) and hosts
// (the guest's /etc/hosts). The guest writes its status back there.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VmError } from './errors.mjs';

// Host variables that make sense inside the guest (same files, same tools, same CI).
const PASSED_NAMES = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TERM', 'COLORTERM',
  'CI', 'GITHUB_ACTIONS', 'FORCE_COLOR', 'NO_COLOR', 'NODE_OPTIONS',
];
const PASSED_PREFIXES = ['SPARK_RDMA_'];
// Set by the guest init from what it really created; a host value would be wrong in there.
const GUEST_OWNED = new Set([
  'SPARK_RDMA_VM', 'SPARK_RDMA_VM_NODE', 'SPARK_RDMA_VM_NODES', 'SPARK_RDMA_VM_STATUS_FILE', 'SPARK_RDMA_TEST_RAILS', 'SPARK_RDMA_TEST_NETDEVS', 'SPARK_RDMA_TEST_RAIL_IPS',
]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Single-quotes a word for sh: nothing inside is expanded. */
export function shellQuote(word) {
  return `'${String(word).replaceAll("'", `'\\''`)}'`;
}

/**
 * The environment the guest command gets: the passed-through host variables, then the extras
 * (--env NAME=VALUE, or --env NAME for the host's value), minus the names the guest owns.
 */
export function guestEnvironment(hostEnv, extras = []) {
  const env = {};
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value === undefined) continue;
    if (PASSED_NAMES.includes(name) || PASSED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  for (const extra of extras) {
    const equals = extra.indexOf('=');
    const name = equals === -1 ? extra : extra.slice(0, equals);
    if (!NAME.test(name)) throw new VmError(`--env ${extra}: "${name}" is not a variable name; use --env NAME=VALUE`);
    if (equals !== -1) env[name] = extra.slice(equals + 1);
    else if (hostEnv[name] !== undefined) env[name] = hostEnv[name];
  }
  for (const name of GUEST_OWNED) delete env[name];
  return env;
}

export function jobScript({ cwd, env, command }) {
  const lines = ['# Written by scripts/vm/run.mjs; run by the guest init.'];
  lines.push(`cd ${shellQuote(cwd)} || exit 125`);
  for (const [name, value] of Object.entries(env)) lines.push(`export ${shellQuote(`${name}=${value}`)}`);
  lines.push(`exec ${command.map(shellQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The guest's name and /etc/hosts. Tools refuse a host without a name (Open MPI's mpirun fails
 * on the "(none)" an init-less kernel reports), so every guest gets one: spark-vm alone, or
 * node<i> when several guests share a wire, each reachable by name at its rail0 address.
 */
export function guestIdentity(node = 0, nodes = 1) {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  if (nodes === 1) return { hostname: 'spark-vm', hosts: `${[...lines, '127.0.1.1 spark-vm'].join('\n')}\n` };
  for (let i = 0; i < nodes; i++) lines.push(`10.77.0.${i + 1} node${i}`);
  return { hostname: `node${node}`, hosts: `${lines.join('\n')}\n` };
}

/** Writes job.sh, settings and hosts into the share directory; the guest reads them after boot. */
export function writeJob(shareDir, { cwd, env, command, railDeadlineSeconds, node = 0, nodes = 1 }) {
  const identity = guestIdentity(node, nodes);
  writeFileSync(join(shareDir, 'job.sh'), jobScript({ cwd, env, command }), { mode: 0o644 });
  const settings = [
    `RAIL_DEADLINE_SECONDS=${Math.ceil(railDeadlineSeconds)}`,
    `GUEST_HOSTNAME=${identity.hostname}`,
    `NODE_INDEX=${node}`,
    `NODE_COUNT=${nodes}`,
  ];
  writeFileSync(join(shareDir, 'settings'), `${settings.join('\n')}\n`, { mode: 0o644 });
  writeFileSync(join(shareDir, 'hosts'), identity.hosts, { mode: 0o644 });
}
