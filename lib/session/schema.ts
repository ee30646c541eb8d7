// Small hand-written schema checks for the session protocol. Each check takes an untrusted
// value and its field path, returns the typed value, or throws an RdmaError (ERR_PROTOCOL)
// that names the field, what it holds and what is allowed. Nothing else is ever thrown.
import { RdmaError } from '../errors.js';

export const ERR_PROTOCOL = 'ERR_PROTOCOL';

/** A check of one untrusted value found at `path` (e.g. `rails[0].qps[3].qpn`). */
export type Check<T> = (value: unknown, path: string) => T;

const PROTOCOL_HINT = 'both ends must run the same @spark/rdma release; is something other than spark-rdma talking to this port?';

export function protocolError(message: string, hint: string = PROTOCOL_HINT): RdmaError {
  return new RdmaError(message, { code: ERR_PROTOCOL, hint });
}

/**
 * Quotes text for a message or a log line: JSON string syntax, cut after `max` characters,
 * and every character outside printable ASCII escaped, so peer input cannot forge log lines.
 */
export function quote(text: string, max = 40): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > max ? `${escaped}... (${text.length} characters)` : escaped;
}

/** Describes an untrusted value in a few safe words: `5000`, `the string "4"`, `an array of 3`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  switch (typeof value) {
    case 'string':
      return `the string ${quote(value)}`;
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

function fieldName(path: string): string {
  return path === '' ? 'the message' : `field ${path}`;
}

export function int(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw protocolError(`${fieldName(path)} must be an integer in ${min}..${max}, got ${describe(value)}`);
    }
    if (value < min || value > max) {
      throw protocolError(`${fieldName(path)} is ${value}, outside the allowed range ${min}..${max}`);
    }
    return value;
  };
}

/** A finite number (a rate, a duration in seconds) in min..max. */
export function finite(min: number, max: number): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw protocolError(`${fieldName(path)} must be a number in ${min}..${max}, got ${describe(value)}`);
    }
    if (value < min || value > max) {
      throw protocolError(`${fieldName(path)} is ${value}, outside the allowed range ${min}..${max}`);
    }
    return value;
  };
}

/** A non-negative integer written as a canonical decimal string (64-bit addresses exceed 2^53). */
export function bigintString(max: bigint): Check<bigint> {
  return (value, path) => {
    if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(value)) {
      throw protocolError(`${fieldName(path)} must be a decimal string of an integer in 0..${max}, got ${describe(value)}`);
    }
    const parsed = BigInt(value);
    if (parsed > max) throw protocolError(`${fieldName(path)} is ${value}, above the allowed maximum ${max}`);
    return parsed;
  };
}

export function bool(): Check<boolean> {
  return (value, path) => {
    if (typeof value !== 'boolean') throw protocolError(`${fieldName(path)} must be true or false, got ${describe(value)}`);
    return value;
  };
}

/** One of a fixed set of strings or numbers. */
export function oneOf<const T extends readonly (string | number)[]>(values: T): Check<T[number]> {
  const allowed = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
  return (value, path) => {
    if ((typeof value !== 'string' && typeof value !== 'number') || !values.includes(value)) {
      throw protocolError(`${fieldName(path)} is ${describe(value)}, allowed: ${allowed}`);
    }
    return value as T[number];
  };
}

/** A string of `min..max` characters matching `pattern` (described by `what` in messages). */
export function text(min: number, max: number, pattern?: RegExp, what?: string): Check<string> {
  return (value, path) => {
    if (typeof value !== 'string') throw protocolError(`${fieldName(path)} must be a string, got ${describe(value)}`);
    if (value.length < min || value.length > max) {
      throw protocolError(`${fieldName(path)} is ${value.length} characters long, allowed ${min}..${max}`);
    }
    if (pattern && !pattern.test(value)) {
      throw protocolError(`${fieldName(path)} is ${describe(value)}, which is not ${what ?? `of the form ${pattern.source}`}`);
    }
    return value;
  };
}

const GID = /^[0-9a-fA-F]{4}(:[0-9a-fA-F]{4}){7}$/;

/** A GID in the 8-group colon hex form sysfs prints; returned in lower case. */
export function gid(): Check<string> {
  const check = text(0, 100, GID, 'a GID of 8 colon-separated groups of 4 hex digits (e.g. "0000:0000:0000:0000:0000:ffff:0a4d:0001")');
  return (value, path) => check(value, path).toLowerCase();
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

export function ipv4(): Check<string> {
  return text(7, 15, IPV4, 'a dotted-quad IPv4 address');
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

export function array<T>(of: Check<T>, min: number, max: number): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw protocolError(`${fieldName(path)} must be an array of ${min}..${max} items, got ${describe(value)}`);
    if (value.length < min || value.length > max) {
      throw protocolError(`${fieldName(path)} has ${value.length} items, allowed ${min}..${max}`);
    }
    return value.map((item, i) => of(item, `${path}[${i}]`));
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How deep a JSON value nests (stops counting past `limit`, so it never recurses far). */
function depthOf(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, depthOf(item, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

/**
 * Any JSON object nested at most `maxDepth` levels (its contents are the caller's business;
 * the bound keeps a peer from handing recursive printers a 30,000-level tree).
 */
export function anyObject(maxDepth: number): Check<Record<string, unknown>> {
  return (value, path) => {
    if (!isPlainObject(value)) throw protocolError(`${fieldName(path)} must be an object, got ${describe(value)}`);
    if (depthOf(value, maxDepth) > maxDepth) throw protocolError(`${fieldName(path)} nests deeper than ${maxDepth} levels`);
    return value;
  };
}

type Shape = Record<string, Check<unknown>>;
type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** An object with exactly these fields: every required one present, no field outside both sets. */
export function object<R extends Shape, O extends Shape = Record<never, never>>(
  required: R,
  optional?: O,
): Check<Parsed<R> & Partial<Parsed<O>>> {
  const known = [...Object.keys(required), ...Object.keys(optional ?? {})];
  return (value, path) => {
    if (!isPlainObject(value)) throw protocolError(`${fieldName(path)} must be an object, got ${describe(value)}`);
    const unknown = Object.keys(value).filter((key) => !known.includes(key));
    if (unknown.length > 0) {
      const listed = unknown.slice(0, 8).map((key) => quote(key, 30)).join(', ');
      const more = unknown.length > 8 ? ` and ${unknown.length - 8} more` : '';
      throw protocolError(
        `${fieldName(path)} has unknown field${unknown.length > 1 ? 's' : ''} ${listed}${more} (allowed: ${known.join(', ')})`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(required)) {
      if (!Object.hasOwn(value, key)) throw protocolError(`${fieldName(path)} lacks the required field ${join(path, key)}`);
      out[key] = check(value[key], join(path, key));
    }
    for (const [key, check] of Object.entries(optional ?? {})) {
      if (Object.hasOwn(value, key)) out[key] = check(value[key], join(path, key));
    }
    return out as Parsed<R> & Partial<Parsed<O>>;
  };
}
