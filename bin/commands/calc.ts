/** `tsmlab calc <scp03|scp02|kdf>`: offline calculators for lab engineers. */
import { CliError } from '../cli-error.ts';

const subcommands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  scp03: () => import('./calc-scp03.ts'),
  scp02: () => import('./calc-scp02.ts'),
  kdf: () => import('./calc-kdf.ts'),
};

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const load = sub ? subcommands[sub] : undefined;
  if (!load) throw new CliError(`usage: tsmlab calc <${Object.keys(subcommands).join('|')}> [options] (see docs/cli.md)`);
  return (await load()).run(rest);
}
