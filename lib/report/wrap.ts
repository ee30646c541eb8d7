/** The widest line the CLI's prose and tables aim for: an 80-column terminal less the cursor's column. */
export const TERMINAL_COLUMNS = 79;

/**
 * Word-wraps one paragraph to `width` columns; continuation lines start with the text's own
 * leading blanks plus `indent`. A word longer than a line (a long path) stays whole.
 */
export function wrapText(text: string, width = TERMINAL_COLUMNS, indent = '  '): string {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter((w) => w.length > 0)) {
    if (line === '') line = lead + word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = lead + indent + word;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}
