// NCCL_IB_HCA as NCCL reads it (src/misc/utils.cc parseStringList/matchIfList, and the '^'/'='
// handling in src/transport/net_ib.cc, 2.21-2.30): a leading `^` excludes, a leading `=` matches
// names exactly (else each name is a prefix: mlx5_1 also matches mlx5_10..19), entries are
// `name[:port]` separated by commas. Shared by doctor (values on this host) and nccl-check (logs).

/** One NCCL_IB_HCA entry: a name (prefix unless exact) and an optional port. */
export interface HcaEntry {
  name: string;
  port: number | null;
}

export interface ParsedIbHca {
  exclude: boolean;
  exact: boolean;
  entries: HcaEntry[];
}

export function parseIbHca(value: string): ParsedIbHca {
  let rest = value.trim();
  const exclude = rest.startsWith('^');
  if (exclude) rest = rest.slice(1);
  const exact = rest.startsWith('=');
  if (exact) rest = rest.slice(1);
  const entries = rest.split(',').filter((e) => e !== '' && !e.startsWith(':')).map((e) => {
    const [name = '', port] = e.split(':');
    return { name, port: port === undefined ? null : Number.parseInt(port, 10) || 0 };
  });
  return { exclude, exact, entries };
}

/** Whether `device` (and `port`, when known) is named by one entry of a parsed list. */
export function hcaEntryMatches(parsed: ParsedIbHca, device: string, port: number | null): boolean {
  return parsed.entries.some((e) => (parsed.exact ? device === e.name : device.startsWith(e.name)) && (e.port === null || port === null || e.port === port));
}

/** Whether NCCL would use `device:port` under this NCCL_IB_HCA value. */
export function ibHcaSelects(value: string, device: string, port: number): boolean {
  const parsed = parseIbHca(value);
  if (parsed.entries.length === 0) return true;
  const hit = hcaEntryMatches(parsed, device, port);
  return parsed.exclude ? !hit : hit;
}
