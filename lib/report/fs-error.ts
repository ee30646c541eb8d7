/**
 * A Node fs error as one clause, without saying the code twice: "no such file or directory
 * (ENOENT)" instead of "(ENOENT): ENOENT: no such file or directory, open '/x'" (the caller
 * names the path already).
 */
export function describeFsError(err: unknown): string {
  const e = err as { code?: string; syscall?: string; message?: string };
  let text = typeof e.message === 'string' ? e.message : String(err);
  if (e.code && text.startsWith(`${e.code}: `)) text = text.slice(e.code.length + 2);
  if (e.syscall) text = text.replace(new RegExp(`, ${e.syscall} '.*'$`), '');
  return e.code ? `${text} (${e.code})` : text;
}
