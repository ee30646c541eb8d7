// The NCCL log messages nccl-check reads, each recognised by NCCL's own format string (file and
// versions next to each pattern; docs/nccl.md has the full table). A message is the text after
// "NCCL INFO " / "NCCL WARN " (lib/nccl-check/line.ts).
import { NO_IB_DEVICE_MARKER } from '../config/nccl-upstream.js';

/** An IB/RoCE device NCCL opened, as `[index]name:port/link` in its "NET/IB : Using" line. */
export interface OpenedDevice {
  index: number;
  name: string;
  port: number;
  link: string;
}

export type NcclEvent =
  | { kind: 'version'; version: string }
  | { kind: 'network'; name: string }
  | { kind: 'ib-devices'; devices: OpenedDevice[]; netDevs: { index: number; names: string[] }[]; oob: string | null }
  | { kind: 'virtual-device'; index: number; names: string[] }
  | { kind: 'no-ib-device' }
  | { kind: 'no-net'; text: string }
  | { kind: 'plugin-loaded'; name: string }
  | { kind: 'plugin-missing'; text: string }
  | { kind: 'hca'; value: string }
  | { kind: 'variable'; name: string; value: string }
  | { kind: 'channel'; via: string; netDev: number; gdr: boolean; myRank: number }
  | { kind: 'gdr-enabled' }
  | { kind: 'init-complete'; rank: number; nranks: number };

// src/init.cc VERSION_STRING, 2.21-2.30: "NCCL version 2.27.7+cuda12.9".
const VERSION = /^NCCL version (\d+\.\d+\.\d+)/;
// src/init.cc, 2.21-2.30: INFO(NCCL_INIT, "Using network %s", comm->ncclNet->name).
const NETWORK = /^Using network (\S+)/;
// src/transport/net_ib.cc (2.21-2.29), net_ib/init.cc (2.30): "NET/IB : Using%s %s; OOB %s:%s" with
// " [%d]%s:%d/%s" per device (2.30 may add ":<rail>" / "::<plane>" after the port), or 2.21's
// merged " [%d]={[%d] %s:%d/%s, ...}".
const IB_USING = /^NET\/IB : Using(.*?)(?: \[RO\])? ?; OOB (\S+)/;
const MERGED = /\[(\d+)\]=\{([^}]*)\}/g;
const DEVICE = /\[(\d+)\] ?([^\s:[\]{},=]+):(\d+)(?::[^/\s,]*)?\/(IB|RoCE|\w+)/g;
// src/transport/net_ib.cc (2.27-2.29), net_ib/init.cc (2.30): "NET/IB : Made virtual device [%d] name=%s speed=%d ndevs=%d".
const VIRTUAL = /^NET\/IB : Made virtual device \[(\d+)\] name=(\S+) speed=\d+ ndevs=\d+/;
// src/transport/net.cc, 2.21-2.30:
// "Channel %02d/%d : %d[%d] -> %d[%d] [send] via NET/%s/%d%s%s%s" (also "/%d(%d)" with a proxy rank, "[receive]");
// the suffixes are "/GDRDMA", "(PCI)" (2.27+) and "/Shared".
const CHANNEL = /^Channel \d+\/\d+ : (\d+)\[\d+\] -> (\d+)\[\d+\] \[(send|receive)\] via NET\/([^/\s]+)\/(\d+)(?:\(\d+\))?(\/GDRDMA)?/;
// src/graph/paths.cc, 2.21-2.29 (TRACE only in 2.30): "GPU Direct RDMA Enabled for GPU ...".
const GDR_ENABLED = /^GPU Direct RDMA Enabled for /;
// src/init.cc, 2.21-2.30: "%s comm %p rank %d nranks %d cudaDev %d ... - Init COMPLETE".
const INIT_COMPLETE = /comm 0x[0-9a-f]+ rank (\d+) nranks (\d+) .*- Init COMPLETE/;
// src/misc/param.cc (ncclLoadParam: "%s set by environment to %lld."), src/graph/paths.cc,
// src/misc/socket.cc, src/plugin/*.cc ("%s set by environment to %s"), 2.21-2.30.
const VARIABLE = /^(NCCL_[A-Z0-9_]+) set by environment to (.*)$/;
// src/transport/net_ib.cc (2.21-2.29), net_ib/init.cc (2.30): "NCCL_IB_HCA set to %s".
const HCA = /^NCCL_IB_HCA set to (.*)$/;
// Plugin really loaded: src/net.cc (2.18-2.25) and src/plugin/net/net_v*.cc (2.26-2.30)
// "NET/Plugin: Loaded net plugin %s (v%d)"; src/plugin/net.cc "Successfully loaded external
// plugin %s" (2.27) and "Successfully loaded external network plugin %s" (2.28-2.30).
const PLUGIN_LOADED = /^(?:NET\/Plugin: Loaded net plugin (\S+)|Successfully loaded external (?:network )?plugin (\S+))/;
// Looked for and not found (fine): "NET/Plugin: Could not find: ..." (src/net.cc 2.22-2.25,
// src/plugin/plugin_open.cc 2.26-2.30), "NET/Plugin: No plugin found (%s)" (src/net.cc 2.21).
const PLUGIN_MISSING = /^NET\/Plugin: (?:Could not find|No plugin found)/;
// src/plugin/net.cc (2.27-2.30): "Failed to initialize any NET plugin"; src/net.cc (2.21-2.25),
// src/plugin/net.cc (2.26): "Error: network %s not found.".
const NO_NET = /^(?:Failed to initialize any NET plugin|Error: network \S* ?not found\.)/;

const toDevice = (d: RegExpMatchArray): OpenedDevice => ({ index: Number(d[1]), name: d[2]!, port: Number(d[3]), link: d[4]! });

/** The opened devices, and which of them each channel index (`via NET/IB/<index>`) stands for. */
function ibDevices(list: string): { devices: OpenedDevice[]; netDevs: { index: number; names: string[] }[] } {
  const devices: OpenedDevice[] = [];
  const netDevs: { index: number; names: string[] }[] = [];
  let singles = list;
  for (const m of list.matchAll(MERGED)) {
    // 2.21's merged form: the inner indexes are physical devices, the channel index is the outer one.
    const inner = [...m[2]!.matchAll(DEVICE)].map(toDevice);
    devices.push(...inner);
    netDevs.push({ index: Number(m[1]), names: inner.map((d) => `${d.name}:${d.port}`) });
    singles = singles.replace(m[0], '');
  }
  for (const d of [...singles.matchAll(DEVICE)].map(toDevice)) {
    devices.push(d);
    netDevs.push({ index: d.index, names: [`${d.name}:${d.port}`] });
  }
  return { devices, netDevs };
}

/** What one message says, or null when nccl-check does not need it. */
export function interpret(message: string): NcclEvent | null {
  let m: RegExpExecArray | null;
  if (message.startsWith('Channel ')) {
    m = CHANNEL.exec(message);
    if (!m) return null;
    const direction = m[3];
    return { kind: 'channel', via: m[4]!, netDev: Number(m[5]), gdr: m[6] !== undefined, myRank: Number(direction === 'send' ? m[1] : m[2]) };
  }
  if ((m = VERSION.exec(message))) return { kind: 'version', version: m[1]! };
  if ((m = NETWORK.exec(message))) return { kind: 'network', name: m[1]! };
  if (message === NO_IB_DEVICE_MARKER || message.startsWith(NO_IB_DEVICE_MARKER)) return { kind: 'no-ib-device' };
  if ((m = IB_USING.exec(message))) return { kind: 'ib-devices', ...ibDevices(m[1]!), oob: m[2]! };
  if ((m = VIRTUAL.exec(message))) return { kind: 'virtual-device', index: Number(m[1]), names: m[2]!.split('+') };
  if ((m = HCA.exec(message))) return { kind: 'hca', value: m[1]!.trim() };
  if ((m = VARIABLE.exec(message))) {
    // ncclLoadParam ends integers with "." ("NCCL_IB_GID_INDEX set by environment to -1.").
    const value = /^-?\d+\.$/.test(m[2]!) ? m[2]!.slice(0, -1) : m[2]!;
    return { kind: 'variable', name: m[1]!, value };
  }
  if ((m = PLUGIN_LOADED.exec(message))) return { kind: 'plugin-loaded', name: m[1] ?? m[2]! };
  if (PLUGIN_MISSING.test(message)) return { kind: 'plugin-missing', text: message };
  if (NO_NET.test(message)) return { kind: 'no-net', text: message.trim() };
  if (GDR_ENABLED.test(message)) return { kind: 'gdr-enabled' };
  if ((m = INIT_COMPLETE.exec(message))) return { kind: 'init-complete', rank: Number(m[1]), nranks: Number(m[2]) };
  return null;
}
