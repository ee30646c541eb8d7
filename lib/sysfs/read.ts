import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';

// sysfs reports "no value" through errors: an unused GID entry's type file fails with EINVAL,
// a down netdev's carrier fails with EINVAL, a missing attribute is ENOENT. Fixture trees
// stand in for EINVAL with a directory (EISDIR). All of them mean "absent" to discovery.
function isFsError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

/** The trimmed text of a sysfs attribute, or null when it cannot be read (EINVAL, ENOENT, ...). */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (isFsError(err)) return null;
    throw err;
  }
}

/** A decimal integer attribute, or null when unreadable or not a number. */
export function readInt(path: string): number | null {
  const text = readText(path);
  if (text === null || !/^-?\d+$/.test(text)) return null;
  return Number.parseInt(text, 10);
}

/** Entries of a directory sorted by code unit, or [] when it does not exist. */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch (err) {
    if (isFsError(err)) return [];
    throw err;
  }
}

/** The target of a symlink, or null when the path is not a symlink or does not exist. */
export function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch (err) {
    if (isFsError(err)) return null;
    throw err;
  }
}

/** The canonical path, or null when the path does not resolve. */
export function resolvePath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch (err) {
    if (isFsError(err)) return null;
    throw err;
  }
}
