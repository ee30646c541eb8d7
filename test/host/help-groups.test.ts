// Issue 21.10: options grouped in every command's --help, under the same headings in the same
// order everywhere, help itself last; a flag added without a group fails the build of the program.
import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { DOCUMENTED_COMMANDS, helpText } from '../../lib/cli/docs-blocks.js';
import { groupHelpOptions, HELP_GROUP_ORDER } from '../../lib/cli/help-groups.js';

/** The option headings of one help text, in order, with the flags under each. */
function groups(text: string): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const block of text.split('\n\n')) {
    const [heading, ...items] = block.split('\n');
    if (!heading || !/^[A-Za-z][^:]*:$/.test(heading) || !items.every((l) => l.startsWith('  '))) continue;
    if (heading === 'Arguments:' || heading === 'Commands:' || heading === 'Examples:') continue;
    out.push([heading, items.filter((l) => /^ {2}-/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]!)]);
  }
  return out;
}

const commandsWithOptions = DOCUMENTED_COMMANDS.filter((c) => c !== '' && c !== 'config');

describe('help groups', () => {
  test.each(commandsWithOptions)('%s --help: every option under a named heading, in the one order, help last', async (command) => {
    const found = groups(await helpText(command));
    const headings = found.map(([h]) => h).filter((h) => h !== 'Global Options:');
    expect(headings).not.toContain('Options:');
    expect(headings.length).toBeGreaterThanOrEqual(3);
    const order = headings.map((h) => HELP_GROUP_ORDER.indexOf(h));
    expect(order.every((i) => i >= 0), headings.join(', ')).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(found.find(([h]) => h === 'Other:')?.[1]).toEqual(['-h, --help']);
    expect(headings.at(-1)).toBe('Other:');
  });

  test('bw: the shared run flags and its own land where a reader looks for them', async () => {
    const found = new Map(groups(await helpText('bw')));
    expect(found.get('Peer and session:')).toEqual(['--loopback', '--cm', '--perftest', '-p, --port <n>', '--bind <addrs>', '--peer-timeout <s>']);
    expect(found.get('Rails:')).toEqual(['--rails <n>', '-d, --devices <list>', '--mtu <bytes>', '--gid-index <n>']);
    expect(found.get('Tuning:')).toContain('-q, --qps <n>');
    expect(found.get('perftest habits:')).toEqual(['-F', '--report_gbits']);
  });

  test('an option in no group, or a group naming a missing option, stops the program from being built', () => {
    const program = new Command('spark-rdma');
    program.command('devices').option('--json').option('--sysfs-root <dir>').option('--colour');
    expect(() => groupHelpOptions(program)).toThrow("help groups: 'devices' option --colour is in no group");
    const other = new Command('spark-rdma');
    other.command('devices').option('--json');
    expect(() => groupHelpOptions(other)).toThrow("help groups: 'devices' has no option 'sysfsRoot'");
  });
});
