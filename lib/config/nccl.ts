// The NCCL environment for host-staged RoCE with GPUDirect off (facts §4): every value with the
// reason it has. Pure data; render-env.ts writes it in each format.
import { invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';
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

/** NCCL_IB_HCA for rails in order: `=` for exact names (else mlx5_1 also matches mlx5_10..19). */
export function ncclIbHca(rails: readonly Rail[]): string {
  return `=${rails.map((r) => `${r.device}:${r.port}`).join(',')}`;
}

/** The variables for these rails (rail 0's netdev carries the TCP bootstrap). Pure. */
export function ncclVariables(rails: readonly Rail[], opts: { debug?: boolean } = {}): { variables: EnvVariable[]; unset: UnsetVariable[] } {
  const first = rails[0];
  if (!first) throw invalidArgument('ncclVariables needs at least one rail, got none', 'pass the rails from chooseRails() or discoverRails()');
  const netdev = first.netdev;
  const variables: EnvVariable[] = [
    {
      name: 'NCCL_IB_HCA',
      value: ncclIbHca(rails),
      reason: `exact device:port list in rail order (${rails.length === 1 ? 'single' : 'dual'} rail); "=" stops prefix matching; use the same value on every node`,
    },
    { name: 'NCCL_NET', value: 'IB', reason: 'use the IB/RoCE transport or fail loudly, instead of silently falling back to TCP sockets' },
    { name: 'NCCL_NET_PLUGIN', value: 'none', reason: 'do not load a net plugin (NGC images ship the HPC-X one, which crashed in the seed setup)' },
    { name: 'NCCL_NET_GDR_LEVEL', value: 'LOC', reason: 'never GPUDirect RDMA: GB10 does not support it, buffers are staged in host memory' },
    { name: 'NCCL_NET_GDR_C2C', value: '0', reason: 'NCCL >= 2.27 defaults it to 1, which overrides NCCL_NET_GDR_LEVEL for CPU-attached NICs on C2C parts like GB10' },
    { name: 'NCCL_DMABUF_ENABLE', value: '0', reason: 'dma-buf registration of GPU memory does not work on GB10' },
    { name: 'NCCL_SOCKET_IFNAME', value: netdev, reason: `bootstrap and out-of-band TCP on rail 0's netdev (${first.device})` },
    { name: 'GLOO_SOCKET_IFNAME', value: netdev, reason: "PyTorch Gloo (torch.distributed's CPU side) on the same netdev" },
    { name: 'UCX_NET_DEVICES', value: netdev, reason: 'UCX (used by some Ray and MPI transports) on the same netdev' },
  ];
  if (opts.debug) {
    variables.push(
      { name: 'NCCL_DEBUG', value: 'INFO', reason: 'log the transport NCCL picks, to check it is NET/IB' },
      { name: 'NCCL_DEBUG_SUBSYS', value: 'INIT,NET', reason: 'only the init and network lines' },
    );
  }
  const gidIndexes = rails.map((r) => `${r.device} ${r.gidIndex ?? 'none'}`).join(', ');
  const unset: UnsetVariable[] = [
    {
      name: 'NCCL_IB_GID_INDEX',
      reason: `NCCL finds the IPv4 RoCE v2 GID itself (here: ${gidIndexes}); a fixed index breaks when IPv6 global addresses shift the table`,
    },
  ];
  return { variables, unset };
}

/** The log lines that prove (or disprove) the IB transport is in use. */
export function ncclLogCheck(rails: readonly Rail[]): NcclLogCheck {
  // NCCL numbers devices in its own enumeration order, so each rail is its own expectation.
  return {
    expect: ['Using network IB', 'NET/IB : Using', ...rails.map((r) => `${r.device}:${r.port}/RoCE`), 'via NET/IB/'],
    reject: [
      { text: '/GDRDMA', meaning: 'GPUDirect RDMA was attempted: NCCL_NET_GDR_LEVEL/NCCL_NET_GDR_C2C did not take effect' },
      { text: 'Using network Socket', meaning: 'NCCL fell back to TCP sockets: check /dev/infiniband, memlock and NCCL_IB_HCA in the container' },
      { text: 'NET/Socket', meaning: 'a channel runs over TCP sockets instead of RDMA' },
      { text: 'NET/Plugin', meaning: 'a net plugin was loaded: NCCL_NET_PLUGIN=none did not reach the process (or an nccl.conf sets it)' },
    ],
  };
}

/**
 * The NCCL environment for this machine's rails (or `opts.rails`), single or dual rail per
 * {@link chooseRails}. Never touches hardware beyond reading sysfs for discovery.
 */
export function ncclConfig(opts: NcclConfigOptions = {}): NcclConfig {
  const decision = chooseRails(opts);
  const { variables, unset } = ncclVariables(decision.rails, { debug: opts.debug === true });
  const notes = [
    'containers: pass these with docker run -e or --env-file (Ray workers inherit the container environment, not the driver shell), ' +
      'plus --device /dev/infiniband:/dev/infiniband --ulimit memlock=-1 --cap-add IPC_LOCK',
    'a /etc/nccl.conf (or ~/.nccl.conf) in the image is read by NCCL at init and can set variables silently: spark-rdma doctor checks the host',
    'if RDMA is impossible for now, NCCL_NET=Socket runs over TCP (slow, but it works)',
  ];
  return { decision, rails: decision.rails, variables, unset, verify: ncclLogCheck(decision.rails), notes };
}
