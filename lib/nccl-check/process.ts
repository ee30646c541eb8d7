// What one NCCL process (host:pid) showed in the log, accumulated event by event. Memory stays
// bounded whatever the log's length: counters, and lists capped at MAX_ITEMS.
import type { NcclEvent, OpenedDevice } from './messages.js';

/** No list in a process's state grows past this (a log can repeat lines millions of times). */
export const MAX_ITEMS = 256;

export interface ChannelCount {
  /** NCCL's net device index (`via NET/<net>/<index>`). */
  netDev: number;
  count: number;
}

function pushCapped<T>(list: T[], item: T): void {
  if (list.length < MAX_ITEMS) list.push(item);
}

export class ProcessState {
  version: string | null = null;
  /** Every "Using network X" name, in order (one per communicator). */
  networks: string[] = [];
  devices: OpenedDevice[] = [];
  /** Channel index -> the devices (name:port) it stands for. */
  netDevs = new Map<number, string[]>();
  oob: string | null = null;
  hca: string | null = null;
  variables = new Map<string, string>();
  ranks = new Set<number>();
  nranks: number | null = null;
  /** Channels over NET/IB by net device index. */
  ibChannels = new Map<number, number>();
  /** Channels over any other net (Socket, a plugin's name) by name. */
  otherChannels = new Map<string, number>();
  gdrChannels = 0;
  gdrEnabledLines = 0;
  noIbDevice = false;
  noNet: string | null = null;
  pluginLoaded: string | null = null;
  /** Line number of the first occurrence of each kind, for the report. */
  firstLine = new Map<string, number>();

  constructor(readonly host: string | null, readonly pid: number | null) {}

  apply(e: NcclEvent, line: number): void {
    if (!this.firstLine.has(e.kind)) this.firstLine.set(e.kind, line);
    switch (e.kind) {
      case 'version':
        this.version ??= e.version;
        break;
      case 'network':
        if (this.networks.length < MAX_ITEMS && this.networks.at(-1) !== e.name) this.networks.push(e.name);
        break;
      case 'ib-devices':
        for (const d of e.devices) if (!this.devices.some((x) => x.name === d.name && x.port === d.port)) pushCapped(this.devices, d);
        for (const n of e.netDevs) if (this.netDevs.size < MAX_ITEMS) this.netDevs.set(n.index, n.names);
        this.oob ??= e.oob;
        break;
      case 'virtual-device': {
        const withPorts = e.names.map((name) => {
          const d = this.devices.find((x) => x.name === name);
          return d ? `${d.name}:${d.port}` : name;
        });
        if (this.netDevs.size < MAX_ITEMS || this.netDevs.has(e.index)) this.netDevs.set(e.index, withPorts);
        break;
      }
      case 'no-ib-device':
        this.noIbDevice = true;
        break;
      case 'no-net':
        this.noNet ??= e.text;
        break;
      case 'plugin-loaded':
        this.pluginLoaded ??= e.name;
        break;
      case 'plugin-missing':
        break;
      case 'hca':
        this.hca ??= e.value;
        break;
      case 'variable':
        if (this.variables.size < MAX_ITEMS || this.variables.has(e.name)) this.variables.set(e.name, e.value);
        break;
      case 'channel':
        if (this.ranks.size < MAX_ITEMS) this.ranks.add(e.myRank);
        if (e.gdr) this.gdrChannels++;
        if (e.via === 'IB') {
          if (this.ibChannels.size < MAX_ITEMS || this.ibChannels.has(e.netDev)) this.ibChannels.set(e.netDev, (this.ibChannels.get(e.netDev) ?? 0) + 1);
        } else if (this.otherChannels.size < MAX_ITEMS || this.otherChannels.has(e.via)) {
          this.otherChannels.set(e.via, (this.otherChannels.get(e.via) ?? 0) + 1);
        }
        break;
      case 'gdr-enabled':
        this.gdrEnabledLines++;
        break;
      case 'init-complete':
        if (this.ranks.size < MAX_ITEMS) this.ranks.add(e.rank);
        this.nranks = e.nranks;
        break;
    }
  }

  /** Devices (name:port) that carried at least one IB channel. */
  railsUsed(): string[] {
    const used = new Set<string>();
    for (const netDev of this.ibChannels.keys()) for (const name of this.netDevs.get(netDev) ?? [`NET/IB/${netDev}`]) used.add(name);
    return [...used];
  }

  channelCount(): number {
    let n = 0;
    for (const c of this.ibChannels.values()) n += c;
    for (const c of this.otherChannels.values()) n += c;
    return n;
  }
}
