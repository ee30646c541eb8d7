// What an NCCL process started here would see for each NCCL_* variable: NCCL's own environment
// first, then its config files, read the way NCCL reads them. src/misc/param.cc (initEnvFunc and
// setEnvFile, 2.23-2.30; src/os/linux.cc holds the setenv in 2.30): NCCL_CONF_FILE if set, else
// ~/.nccl.conf (the passwd home, getpwuid), then /etc/nccl.conf; each `NAME=value` line goes
// through setenv(name, value, 0), so the environment always wins and the first file wins over
// the second. Lines starting with '#' are skipped (2.23+); nothing is trimmed.
import { join } from 'node:path';
import { readText } from '../sysfs/read.js';

/** Where a variable's value comes from. */
export interface NcclSetting {
  name: string;
  value: string;
  /** 'environment', or the conf file that set it. */
  source: string;
  /** Conf-file values NCCL ignores for it because something earlier set it. */
  shadowed: { source: string; value: string }[];
}

/** One conf file NCCL would read, and the lines it sets (null when the file is absent). */
export interface NcclConfFile {
  path: string;
  /** Why NCCL reads it: NCCL_CONF_FILE, ~/.nccl.conf or /etc/nccl.conf. */
  role: string;
  settings: { name: string; value: string }[] | null;
}

/** NCCL's parse of one conf file (setEnvFile). */
export function parseNcclConf(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.push({ name: line.slice(0, eq), value: line.slice(eq + 1) });
  }
  return out;
}

/** The conf files NCCL reads, in its order, with what each sets. */
export function ncclConfFiles(env: Record<string, string | undefined>, homeDir: string, etcRoot: string): NcclConfFile[] {
  const confFile = env.NCCL_CONF_FILE;
  const first = confFile !== undefined && confFile !== ''
    ? { path: confFile, role: 'NCCL_CONF_FILE' }
    : { path: join(homeDir, '.nccl.conf'), role: '~/.nccl.conf' };
  return [first, { path: join(etcRoot, 'nccl.conf'), role: '/etc/nccl.conf' }].map((f) => {
    const text = readText(f.path);
    return { ...f, settings: text === null ? null : parseNcclConf(text) };
  });
}

/** Effective NCCL_* settings: the environment, then each file in order, first setter wins. */
export function effectiveNcclSettings(env: Record<string, string | undefined>, files: readonly NcclConfFile[]): Map<string, NcclSetting> {
  const settings = new Map<string, NcclSetting>();
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('NCCL_') && value !== undefined) settings.set(name, { name, value, source: 'environment', shadowed: [] });
  }
  for (const file of files) {
    for (const s of file.settings ?? []) {
      const known = settings.get(s.name);
      if (known) known.shadowed.push({ source: file.path, value: s.value });
      else settings.set(s.name, { name: s.name, value: s.value, source: file.path, shadowed: [] });
    }
  }
  return settings;
}
