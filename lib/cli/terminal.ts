/**
 * Whether a stream may get cursor movement and colour: a terminal, and not one that declares it
 * cannot (TERM=dumb: Emacs shells, some CI logs). Pipes and files get plain lines.
 */
export function canRedraw(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}
