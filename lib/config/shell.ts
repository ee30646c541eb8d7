import { invalidArgument } from '../errors.js';

// Characters that mean nothing special to bash and are kept literally by `docker --env-file`
// (which never unquotes): a value made only of these reads the same in every format.
const PLAIN = /^[A-Za-z0-9_.,:=/@%+-]+$/;

/** A variable name bash and docker both accept. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `value` can be written unquoted in bash and in a docker env file alike. */
export function isPlainValue(value: string): boolean {
  return PLAIN.test(value);
}

/** One bash word that expands to exactly `value`: unquoted when plain, else single-quoted. */
export function shellQuote(value: string): string {
  if (value !== '' && isPlainValue(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Like {@link shellQuote}, but a leading `$HOME` stays expandable (double-quoted), so a default
 * such as `$HOME/.cache/huggingface` means the home directory of whoever runs the script.
 */
export function shellWordWithHome(value: string): string {
  const m = /^\$HOME(\/.*)?$/.exec(value);
  const rest = m?.[1] ?? '';
  if (m && (rest === '' || isPlainValue(rest))) return `"$HOME${rest}"`;
  return shellQuote(value);
}

/** Checks a variable for the env-file format: plain name, plain non-empty value. */
export function checkEnvEntry(name: string, value: string): void {
  if (!NAME.test(name)) {
    throw invalidArgument(`environment variable name "${name}" is not valid: letters, digits and _ only, not starting with a digit`, 'rename the variable');
  }
  if (!isPlainValue(value)) {
    throw invalidArgument(
      `value ${JSON.stringify(value)} of ${name} cannot be written to an env file: docker --env-file keeps quotes literally and bash would split it`,
      'use only letters, digits and _ . , : = / @ % + - in names of devices, netdevs and addresses',
    );
  }
}
