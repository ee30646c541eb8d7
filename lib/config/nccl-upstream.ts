// What the NCCL config and the log check rely on in NCCL itself, each with the source file and
// the versions it holds for (read in NVIDIA/nccl at the tags v2.18.1 to v2.30.7; docs/nccl.md
// lists the line formats). One place, so a new NCCL release is checked against one file.

/** The NCCL releases whose sources the config and `nccl-check` were checked against. */
export const NCCL_CHECKED_RANGE = '2.21 to 2.30.7 (sources), 2.28.9 (a real run)';

/**
 * Version floors of the values the config sets.
 * - NCCL_IB_GID_INDEX=-1 means "choose automatically" from 2.21 (src/transport/net_ib.cc:
 *   NCCL_PARAM(IbGidIndex, "IB_GID_INDEX", -1) and ncclIbGetGidIndex); 2.20 and older default
 *   to index 0, the link-local GID.
 * - NCCL_NET_GDR_C2C exists from 2.26.2 (src/graph/paths.cc, default 0); default 1 from 2.27.3.
 * - NCCL_NET_PLUGIN=none is a keyword from 2.28.3 (src/plugin/net.cc: strcasecmp(envNetPlugin,
 *   "none")); 2.21-2.27 look for libnccl-net-none.so, do not find it and use the built-in
 *   transports (src/net.cc to 2.25, src/plugin/plugin_open.cc from 2.26).
 */
export const NCCL_FLOORS = {
  autoGidIndex: '2.21',
  gdrC2c: '2.26.2',
  pluginNoneKeyword: '2.28.3',
} as const;

/**
 * Log lines that mean an external net plugin really loaded (not merely looked for):
 * - `NET/Plugin: Loaded net plugin <name> (v<N>)`: src/net.cc (2.18-2.25) and
 *   src/plugin/net/net_v<N>.cc (2.26-2.30);
 * - `Successfully loaded external plugin <lib>`: src/plugin/net.cc, 2.27;
 * - `Successfully loaded external network plugin <lib>`: src/plugin/net.cc, 2.28-2.30.
 * Not these: `NET/Plugin: Could not find: ...` (2.22-2.30, also printed when NCCL_NET_PLUGIN=none
 * works on 2.22-2.27, and for libnccl-net.so when no plugin is set) and `NET/Plugin: No plugin
 * found (...)` (2.21): both mean no plugin loaded.
 */
export const PLUGIN_LOADED_MARKERS = ['NET/Plugin: Loaded net plugin', 'Successfully loaded external'] as const;

/**
 * WARNs when no network transport could be set up (with NCCL_NET=IB: no usable IB device):
 * `Failed to initialize any NET plugin` (src/plugin/net.cc, 2.27-2.30) and
 * `Error: network %s not found.` (src/net.cc 2.21-2.25, src/plugin/net.cc 2.26), here with NCCL_NET=IB.
 */
export const NO_NET_MARKERS = ['Failed to initialize any NET plugin', 'Error: network IB not found.'] as const;

/** INFO from the IB transport when no usable device matched (src/transport/net_ib.cc, net_ib/init.cc 2.30). */
export const NO_IB_DEVICE_MARKER = 'NET/IB : No device found.';
