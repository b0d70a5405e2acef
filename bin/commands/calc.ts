/** `tsmlab calc <scp03|scp02|kdf>`: offline calculators for lab engineers. */
import { wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';

const subcommands: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  scp03: { summary: 'recompute an SCP03 session: session keys, cryptograms, wrapped commands', load: () => import('./calc-scp03.ts') },
  scp02: { summary: 'recompute an SCP02 session: session keys, cryptograms, wrapped commands', load: () => import('./calc-scp02.ts') },
  kdf: { summary: "a card's static keys from a master key (EMV CPS, VISA2, SCP03 KDF)", load: () => import('./calc-kdf.ts') },
};

const HELP = `usage: tsmlab calc <subcommand> [options]

${Object.entries(subcommands)
  .map(([name, s]) => `  ${name.padEnd(6)} ${s.summary}`)
  .join('\n')}

'tsmlab calc <subcommand> --help' for its options; docs/cli.md lists every command,
docs/cli-calc.md and docs/cli-scp02-kdf-cap.md explain the calculators with worked examples.`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  const s = subcommands[sub];
  if (!s) throw new CliError(`unknown subcommand "${sub}": give one of ${Object.keys(subcommands).join(', ')} (see tsmlab calc --help)`);
  return (await s.load()).run(rest);
}
