// Slurm hostlist syntax: "node[01-03,07],gpu-a[1-2]-b[0-1],login" (comma-separated names, each
// with any number of bracket groups of numbers and ranges; zero padding is kept as written).
// The expression grammar is Slurm's (src/common/hostlist.c, documented in the srun/sbatch man
// pages under SLURM_JOB_NODELIST); only the expansion is done here.
import { invalidArgument } from '../errors.js';

const DEFAULT_LIMIT = 65_536;

function bad(list: string, why: string) {
  return invalidArgument(
    `node list "${list.length > 120 ? `${list.slice(0, 117)}...` : list}": ${why}`,
    'expected Slurm syntax such as node[01-04,07],login1; or pass --rdzv HOST:PORT',
  );
}

/** Splits at commas that are not inside brackets. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '[') {
      if (depth > 0) throw bad(list, `nested "[" at character ${i + 1}`);
      depth++;
    } else if (c === ']') {
      if (depth === 0) throw bad(list, `"]" without "[" at character ${i + 1}`);
      depth--;
    } else if (c === ',' && depth === 0) {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw bad(list, 'a "[" is never closed');
  items.push(list.slice(start));
  return items.map((s) => s.trim());
}

/** "01-03,07" -> ["01","02","03","07"], keeping the width of zero-padded bounds. */
function expandGroup(list: string, group: string, limit: number): string[] {
  const out: string[] = [];
  for (const part of group.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw bad(list, `"[${group}]" holds "${part}", which is not a number or a range like 01-04`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo) throw bad(list, `range ${part} runs backwards`);
    if (hi - lo + 1 + out.length > limit) throw bad(list, `more than ${limit} hosts`);
    const width = m[1]!.startsWith('0') ? m[1]!.length : 0;
    for (let n = lo; n <= hi; n++) out.push(String(n).padStart(width, '0'));
  }
  return out;
}

/** One item, e.g. "rack[1-2]-node[01-02]" -> the cartesian product in order. */
function expandItem(list: string, item: string, limit: number): string[] {
  let names = [''];
  const re = /([^[\]]*)(?:\[([^\]]*)\])?/g;
  let consumed = 0;
  for (const m of item.matchAll(re)) {
    if (m[0] === '') break;
    consumed += m[0].length;
    const prefix = m[1] ?? '';
    const values = m[2] !== undefined ? expandGroup(list, m[2], limit) : [''];
    if (names.length * values.length > limit) throw bad(list, `more than ${limit} hosts`);
    names = names.flatMap((n) => values.map((v) => n + prefix + v));
  }
  if (consumed !== item.length) throw bad(list, `cannot read "${item}"`);
  return names;
}

/** Every host of a Slurm node list, in order. */
export function expandNodelist(list: string, limit = DEFAULT_LIMIT): string[] {
  if (list.trim() === '') throw bad(list, 'it is empty');
  const hosts: string[] = [];
  for (const item of topLevelItems(list)) {
    if (item === '') throw bad(list, 'an empty name between commas');
    if (/\s/.test(item)) throw bad(list, `"${item}" contains white space`);
    for (const h of expandItem(list, item, limit - hosts.length)) hosts.push(h);
  }
  return hosts;
}

/** The first host: srun starts task 0 on the step's first node (block and cyclic distributions). */
export function firstNode(list: string): string {
  return expandNodelist(list)[0]!;
}
