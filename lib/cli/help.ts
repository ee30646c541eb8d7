/** The "Examples:" block every command's help ends with: `[command, what it does]` pairs. */
export function examples(lines: readonly (readonly [string, string?])[]): string {
  const width = Math.max(...lines.map(([c, w]) => (w ? c.length : 0)));
  return `\nExamples:\n${lines.map(([c, w]) => (w ? `  ${c.padEnd(width)}  # ${w}` : `  ${c}`)).join('\n')}`;
}
