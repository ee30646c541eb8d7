// Text that came from elsewhere (a peer's error message, a hint, a device name) reaches the
// user's terminal only with its control characters escaped: an ESC or CSI byte in it could
// otherwise recolour, move or rewrite what the terminal shows (ANSI escape injection).

/** C0 controls, DEL and the C1 controls (0x9b is CSI on its own in some terminals). */
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
const CONTROLS_BUT_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function escape(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** Every control character as `\xNN`: for a peer's text, which must stay on its own line. */
export function printable(text: string): string {
  return text.replace(CONTROLS, escape);
}

/** Like printable, but keeps line feeds and tabs: for this program's own multi-line messages. */
export function printableLines(text: string): string {
  return text.replace(CONTROLS_BUT_LINES, escape);
}
