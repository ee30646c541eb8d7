import type { GidType, LinkLayer } from './types.js';

// sysfs prints port states as "<number>: <text>"; the number is the verbs enum, so map by it
// and return the names ibv_devinfo and binding.d.ts use.
const PORT_STATES = ['NOP', 'DOWN', 'INIT', 'ARMED', 'ACTIVE', 'ACTIVE_DEFER'];
const PHYS_STATES = ['', 'SLEEP', 'POLLING', 'DISABLED', 'PORT_CONFIGURATION_TRAINING', 'LINK_UP', 'LINK_ERROR_RECOVERY', 'PHY_TEST'];

function byNumber(text: string | null, names: readonly string[]): string {
  if (text === null) return 'UNKNOWN';
  const m = /^(\d+)\s*:\s*(.*)$/.exec(text);
  if (m) {
    const name = names[Number(m[1])];
    if (name) return name;
    return (m[2] ?? '').trim().toUpperCase() || 'UNKNOWN';
  }
  return text.trim().toUpperCase() || 'UNKNOWN';
}

/** "4: ACTIVE" -> 'ACTIVE'; unreadable -> 'UNKNOWN'. */
export function parsePortState(text: string | null): string {
  return byNumber(text, PORT_STATES);
}

/** "5: LinkUp" -> 'LINK_UP', "3: Disabled" -> 'DISABLED'; unreadable -> 'UNKNOWN'. */
export function parsePhysState(text: string | null): string {
  return byNumber(text, PHYS_STATES);
}

/** "200 Gb/sec (4X HDR)" -> 200, "2.5 Gb/sec (1X SDR)" -> 2.5; null when unreadable. */
export function parseRateGbps(text: string | null): number | null {
  if (text === null) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*Gb\/sec/i.exec(text);
  return m ? Number(m[1]) : null;
}

export function parseLinkLayer(text: string | null): LinkLayer {
  if (text === 'Ethernet' || text === 'InfiniBand') return text;
  return 'Unspecified';
}

/**
 * gid_attrs/types/<i> says "IB/RoCE v1" for both IB and RoCE v1 (same wire format);
 * the link layer tells them apart. Null for anything else (treated as an unused entry).
 */
export function parseGidType(text: string | null, linkLayer: LinkLayer): GidType | null {
  if (text === null) return null;
  const t = text.trim();
  if (t === 'RoCE v2') return 'RoCE v2';
  if (t === 'IB/RoCE v1' || t === 'RoCE v1' || t === 'IB') return linkLayer === 'Ethernet' ? 'RoCE v1' : 'IB';
  return null;
}

/** "1: CA" -> 'CA'. */
export function parseNodeType(text: string | null): string | null {
  if (text === null) return null;
  const m = /^\d+\s*:\s*(.*)$/.exec(text);
  return (m ? m[1] ?? '' : text).trim() || null;
}
