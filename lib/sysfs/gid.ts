// GIDs are 128-bit IPv6-shaped addresses. sysfs prints them as 8 groups of 4 hex digits
// ("fe80:0000:0000:0000:0a00:27ff:fe4e:8b01"); ibv_devinfo prints RoCE v2 entries with
// inet_ntop ("::ffff:10.77.0.1"). Both forms parse to the same 16 bytes here.

/** The 16 bytes of a GID written either way, or null when the text is not an address. */
export function parseGid(text: string): Uint8Array | null {
  let s = text.trim().toLowerCase();
  const bytes = new Uint8Array(16);
  // A trailing dotted quad (::ffff:10.77.0.1) stands for the last two groups.
  const quad = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (quad) {
    const octets = quad.slice(2, 6).map(Number);
    if (octets.some((o) => o > 255)) return null;
    const [a, b, c, d] = octets as [number, number, number, number];
    s = `${quad[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] ?? '').split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? '';
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    const v = Number.parseInt(g, 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  }
  return bytes;
}

/** The sysfs spelling of a GID: 8 groups of 4 lowercase hex digits. */
export function formatGid(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push((((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16).padStart(4, '0'));
  return groups.join(':');
}

/** Normalizes any GID spelling to the sysfs one; null when it does not parse. */
export function normalizeGid(text: string): string | null {
  const bytes = parseGid(text);
  return bytes === null ? null : formatGid(bytes);
}

/** True for the all-zero GID the kernel leaves in unused table entries. */
export function isZeroGid(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** The IPv4 address of an IPv4-mapped GID (::ffff:a.b.c.d), or null for any other GID. */
export function ipv4FromGid(bytes: Uint8Array): string | null {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
}
