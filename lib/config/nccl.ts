// The NCCL environment for host-staged RoCE with GPUDirect off (facts §4): every value with the
// reason it has. Pure data; render-env.ts writes it in each format.
import { invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';
import { NCCL_CHECKED_RANGE, NCCL_FLOORS, NO_IB_DEVICE_MARKER, NO_NET_MARKERS, PLUGIN_LOADED_MARKERS } from './nccl-upstream.js';
import { chooseRails, type RailChoiceOptions } from './rail-choice.js';
import type { EnvVariable, RailDecision, UnsetVariable } from './types.js';

export interface NcclConfigOptions extends RailChoiceOptions {
  /** Add NCCL_DEBUG=INFO and NCCL_DEBUG_SUBSYS=INIT,NET to check the transport in the log. */
  debug?: boolean;
}

/** What the NCCL log shows when the config took effect (with NCCL_DEBUG=INFO). */
export interface NcclLogCheck {
  /** Substrings that must appear. */
  expect: string[];
  /** Substrings that must not appear, each with what it means. */
  reject: { text: string; meaning: string }[];
}

export interface NcclConfig {
  decision: RailDecision;
  rails: Rail[];
  variables: EnvVariable[];
  unset: UnsetVariable[];
  verify: NcclLogCheck;
  notes: string[];
}

/** Every NCCL_* variable ncclVariables() can set (doctor tells conf-file values it overrides from those it leaves in force). */
export const NCCL_CONFIG_NAMES: readonly string[] = [
  'NCCL_IB_HCA', 'NCCL_NET', 'NCCL_NET_PLUGIN', 'NCCL_NET_GDR_LEVEL', 'NCCL_NET_GDR_C2C', 'NCCL_DMABUF_ENABLE',
  'NCCL_IB_GID_INDEX', 'NCCL_CROSS_NIC', 'NCCL_SOCKET_IFNAME', 'NCCL_DEBUG', 'NCCL_DEBUG_SUBSYS',
];

/** NCCL_IB_HCA for rails in order: `=` for exact names (else mlx5_1 also matches mlx5_10..19). */
export function ncclIbHca(rails: readonly Rail[]): string {
  return `=${rails.map((r) => `${r.device}:${r.port}`).join(',')}`;
}

/**
 * True when the rails' IPv4 addresses look like one subnet per rail: different /24s (the
 * playbook's layout), link-local 169.254/16 counting as one. A guess for the reason text only:
 * sysfs GIDs carry no prefix length.
 */
function separateSubnets(rails: readonly Rail[]): boolean {
  const nets = rails.map((r) => (r.ipv4?.startsWith('169.254.') ? '169.254' : r.ipv4?.split('.').slice(0, 3).join('.') ?? ''));
  return new Set(nets).size > 1;
}

/** The variables for these rails (rail 0's netdev carries the TCP bootstrap). Pure. */
export function ncclVariables(rails: readonly Rail[], opts: { debug?: boolean } = {}): { variables: EnvVariable[]; unset: UnsetVariable[] } {
  const first = rails[0];
  if (!first) throw invalidArgument('ncclVariables needs at least one rail, got none', 'pass the rails from chooseRails() or discoverRails()');
  const netdev = first.netdev;
  const gidIndexes = rails.map((r) => `${r.device} ${r.gidIndex ?? 'none'}`).join(', ');
  const variables: EnvVariable[] = [
    {
      name: 'NCCL_IB_HCA',
      value: ncclIbHca(rails),
      reason: `exact device:port list in rail order (${rails.length === 1 ? 'single' : 'dual'} rail); "=" stops prefix matching; use the same value on every node`,
    },
    { name: 'NCCL_NET', value: 'IB', reason: 'use the IB/RoCE transport or fail loudly, instead of silently falling back to TCP sockets' },
    {
      name: 'NCCL_NET_PLUGIN',
      value: 'none',
      since: NCCL_FLOORS.pluginNoneKeyword,
      reason:
        `do not load a net plugin (NGC images ship the HPC-X one, which crashed NCCL on a measured DGX Spark pair); "none" is a keyword from NCCL ${NCCL_FLOORS.pluginNoneKeyword}, ` +
        'older NCCL looks for libnccl-net-none.so, logs "NET/Plugin: Could not find" and uses its built-in transports, which is what we want',
    },
    { name: 'NCCL_NET_GDR_LEVEL', value: 'LOC', reason: 'never GPUDirect RDMA: GB10 does not support it, buffers are staged in host memory' },
    {
      name: 'NCCL_NET_GDR_C2C',
      value: '0',
      since: NCCL_FLOORS.gdrC2c,
      reason:
        `redundant with NCCL_NET_GDR_LEVEL=LOC (LOC is below every path, so GPUDirect stays off either way), kept for clarity: NCCL ${NCCL_FLOORS.gdrC2c} added it ` +
        '(default 0) and 2.27.3 turned it on by default for CPU-attached NICs on C2C parts like GB10; older NCCL ignores it',
    },
    { name: 'NCCL_DMABUF_ENABLE', value: '0', reason: 'dma-buf registration of GPU memory does not work on GB10' },
    {
      name: 'NCCL_IB_GID_INDEX',
      value: '-1',
      since: NCCL_FLOORS.autoGidIndex,
      reason:
        `-1 = NCCL finds the IPv4 RoCE v2 GID itself (NCCL >= ${NCCL_FLOORS.autoGidIndex}; here: ${gidIndexes}). Set rather than left unset because env files ` +
        'cannot unset a stale value; a fixed index breaks when IPv6 global addresses shift the table. NCCL before 2.21 has no automatic choice ' +
        '(default index 0, the link-local GID) and fails on -1: there, set the index spark-rdma doctor shows',
    },
  ];
  if (rails.length > 1) {
    variables.push({
      name: 'NCCL_CROSS_NIC',
      value: '0',
      reason:
        `rail i here talks only to rail i on the peer (same port to same port, NCCL_IB_HCA in the same order); the default 2 may pair rail 0 with the peer's rail 1, ` +
        `which does not route when each rail has its own subnet${separateSubnets(rails) ? ' (as here)' : ''}; NCCL's own hint for that failure is NCCL_CROSS_NIC=0`,
    });
  }
  variables.push(
    { name: 'NCCL_SOCKET_IFNAME', value: netdev, reason: `bootstrap and out-of-band TCP on rail 0's netdev (${first.device})` },
    { name: 'GLOO_SOCKET_IFNAME', value: netdev, reason: "PyTorch Gloo (torch.distributed's CPU side) on the same netdev" },
    { name: 'UCX_NET_DEVICES', value: netdev, reason: 'UCX (used by some Ray and MPI transports) on the same netdev' },
  );
  if (opts.debug) {
    variables.push(
      { name: 'NCCL_DEBUG', value: 'INFO', reason: 'log the transport NCCL picks, to check it is NET/IB' },
      { name: 'NCCL_DEBUG_SUBSYS', value: 'INIT,NET', reason: 'only the init and network lines' },
    );
  }
  return { variables, unset: [] };
}

/** The log lines that prove (or disprove) the IB transport is in use (formats: lib/config/nccl-upstream.ts, docs/nccl.md). */
export function ncclLogCheck(rails: readonly Rail[]): NcclLogCheck {
  // NCCL numbers devices in its own enumeration order, so each rail is its own expectation.
  return {
    expect: ['Using network IB', ...rails.map((r) => `${r.device}:${r.port}/RoCE`), 'via NET/IB/'],
    reject: [
      { text: '/GDRDMA', meaning: 'GPUDirect RDMA was attempted: NCCL_NET_GDR_LEVEL did not take effect' },
      { text: 'Using network Socket', meaning: 'NCCL fell back to TCP sockets: check /dev/infiniband, memlock and NCCL_IB_HCA in the container' },
      { text: 'via NET/Socket', meaning: 'a channel runs over TCP sockets instead of RDMA' },
      { text: NO_IB_DEVICE_MARKER, meaning: 'NCCL_IB_HCA matched no usable device: check the names (spark-rdma devices) and /dev/infiniband in the container' },
      ...NO_NET_MARKERS.map((text) => ({ text, meaning: 'no network transport came up (with NCCL_NET=IB: no usable IB device); NCCL aborts' })),
      ...PLUGIN_LOADED_MARKERS.map((text) => ({
        text,
        meaning: 'an external net plugin loaded: NCCL_NET_PLUGIN=none did not reach the process ("NET/Plugin: Could not find" lines are fine)',
      })),
    ],
  };
}

/** Sentences about which NCCL versions the values need and how NCCL's config files interact with them. */
export function ncclVersionNotes(): string[] {
  return [
    `checked against NCCL ${NCCL_CHECKED_RANGE}; needs NCCL >= ${NCCL_FLOORS.autoGidIndex} (NCCL_IB_GID_INDEX=-1 = automatic); ` +
      `NCCL_NET_GDR_C2C exists from ${NCCL_FLOORS.gdrC2c}; NCCL_NET_PLUGIN=none is a keyword from ${NCCL_FLOORS.pluginNoneKeyword} (older NCCL works too, see its reason)`,
    'NCCL also reads NCCL_CONF_FILE (else ~/.nccl.conf), then /etc/nccl.conf, without overriding the environment: these values win, ' +
      'but whatever such a file sets that this config leaves out (NCCL_IB_DISABLE, NCCL_TOPO_FILE, NCCL_SOCKET_FAMILY, ...) still applies; spark-rdma doctor checks them',
  ];
}

/**
 * The NCCL environment for this machine's rails (or `opts.fromRails`), single or dual rail per
 * {@link chooseRails}. Never touches hardware beyond reading sysfs for discovery.
 */
export function ncclConfig(opts: NcclConfigOptions = {}): NcclConfig {
  const decision = chooseRails(opts);
  const { variables, unset } = ncclVariables(decision.rails, { debug: opts.debug === true });
  const notes = [
    'containers: pass these with docker run -e or --env-file (Ray workers inherit the container environment, not the driver shell), ' +
      'plus --device /dev/infiniband:/dev/infiniband --ulimit memlock=-1 --cap-add IPC_LOCK',
    ...ncclVersionNotes(),
    'if RDMA is impossible for now, NCCL_NET=Socket runs over TCP (slow, but it works)',
  ];
  return { decision, rails: decision.rails, variables, unset, verify: ncclLogCheck(decision.rails), notes };
}
