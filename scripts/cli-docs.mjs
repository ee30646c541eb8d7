// Rewrites the generated blocks of docs/cli.md (each command's --help, the error code table)
// from the compiled CLI: run `npm run docs:cli` after changing a flag, a help text or a code.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCliDocs } from '../dist/lib/cli/docs-blocks.js';

const page = join(import.meta.dirname, '..', 'docs', 'cli.md');
const before = readFileSync(page, 'utf8');
const after = await renderCliDocs(before);
if (after !== before) writeFileSync(page, after);
console.log(after === before ? 'docs/cli.md is up to date' : 'docs/cli.md rewritten');
