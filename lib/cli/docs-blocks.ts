// The parts of docs/cli.md that come from the code: each command's --help text and the error
// code table. `npm run docs:cli` writes them (scripts/cli-docs.mjs); test/host/cli-docs.test.ts
// fails when the page and the code disagree.
import { ERROR_CODES } from '../error-codes.js';
import { main } from './main.js';

/** The commands whose help docs/cli.md shows, as argv before --help. */
export const DOCUMENTED_COMMANDS: readonly string[] = [
  '',
  'devices',
  'bw',
  'lat',
  'mesh',
  'config',
  'config nccl',
  'config vllm',
  'doctor',
  'nccl-check',
  'monitor',
  'exporter',
];

/** `spark-rdma <command> --help` exactly as a pipe reads it. */
export async function helpText(command: string): Promise<string> {
  let out = '';
  const argv = [...command.split(' ').filter((w) => w.length > 0), '--help'];
  const code = await main(argv, { stdout: (s) => (out += s), stderr: () => undefined, env: {} });
  if (code !== 0) throw new Error(`spark-rdma ${argv.join(' ')} exited ${code}`);
  return out.trimEnd();
}

/** Markdown for the error code table. */
export function errorCodeTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = Object.entries(ERROR_CODES).map(([code, info]) => `| \`${code}\` | ${info.exit} | ${cell(info.meaning)} | ${cell(info.action)} |`);
  return ['| code | exit | meaning | what to do |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

// A generated block: its opening marker line, anything (not another marker), its closing marker.
const block = (name: string) => new RegExp(`(<!-- ${name} -->\\n)(?:(?!<!--)[\\s\\S])*?(<!-- /${name.split(':')[0]} -->)`);

/** The page with every generated block replaced by what the code says now. */
export async function renderCliDocs(page: string): Promise<string> {
  let out = page.replace(block('error-codes'), (_m, open: string, close: string) => `${open}${errorCodeTable()}\n${close}`);
  for (const command of DOCUMENTED_COMMANDS) {
    const name = `help:${command === '' ? 'spark-rdma' : command}`;
    const text = await helpText(command);
    if (!block(name).test(out)) throw new Error(`docs/cli.md has no <!-- ${name} --> block`);
    out = out.replace(block(name), (_m, open: string, close: string) => `${open}\`\`\`text\n${text}\n\`\`\`\n${close}`);
  }
  return out;
}
