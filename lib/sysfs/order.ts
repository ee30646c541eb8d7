// Rail i on one node pairs with rail i on the other, so the order must not depend on locale or
// on readdir order. Names compare case-insensitively with digit runs as numbers: rocep1s0f1
// (PCI domain 0) comes before roceP2p1s0f1 (domain 2), mlx5_2 before mlx5_10. Exact code-unit
// order breaks the remaining ties so the result is total.
function tokens(name: string): (string | number)[] {
  return (name.toLowerCase().match(/\d+|\D+/g) ?? []).map((t) => (/^\d/.test(t) ? Number(t) : t));
}

export function compareDeviceNames(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i] as string | number;
    const y = tb[i] as string | number;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    // A number sorts before text at the same position; text compares by code unit.
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
