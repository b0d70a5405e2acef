/** Dispatches `tsmlab <command>` to bin/commands/<command>.ts; each exports `run(args): Promise<number>`. */
import { toolCommit, toolVersion } from '../reports/index.ts';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  run: { summary: 'run the feature suites (default: built-in simulator)', load: () => import('./commands/run.ts') },
  sim: { summary: 'serve a fleet of simulated SEs over WebSocket (and vpcd)', load: () => import('./commands/sim.ts') },
  serve: { summary: 'run the central TSM SP API alone', load: () => import('./commands/serve.ts') },
  calc: { summary: 'secure-channel and key calculators (scp03, scp02, kdf)', load: () => import('./commands/calc.ts') },
  cap: { summary: 'inspect CAP files', load: () => import('./commands/cap.ts') },
  view: { summary: 'open the trace viewer on a saved trace', load: () => import('./commands/view.ts') },
  readers: { summary: 'list PC/SC readers, inserted cards and matching profiles', load: () => import('./commands/readers.ts') },
};

export const commandNames = Object.keys(commands);

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return [
    'usage: tsmlab <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    "'tsmlab <command> --help' for a command's options; 'tsmlab --version' for the version.",
    'Every command and option: docs/cli.md.',
  ].join('\n');
}

function version(): string {
  const commit = toolCommit();
  return `tsmlab ${toolVersion()}${commit === 'unknown' ? '' : ` (commit ${commit})`}`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...after] = argv;
  if (first === '--version' || first === '-V') {
    console.log(version());
    return 0;
  }
  if (!first || first === '--help' || first === '-h') {
    console.log(usage());
    return first ? 0 : 2;
  }
  // `tsmlab help calc scp03` is `tsmlab calc scp03 --help`.
  const [name, rest] = first === 'help' && after.length > 0 ? [after[0], [...after.slice(1), '--help']] : [first, after];
  if (name === 'help') {
    console.log(usage());
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`tsmlab: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    const mod = await cmd.load();
    return await mod.run(rest);
  } catch (e) {
    // Every command's failures are mapped here, once; the mapper is loaded only when one failed.
    const failure = (await import('./cli-failure.ts')).cliFailure(e);
    if (!failure) throw e;
    console.error(`tsmlab ${name}: ${failure.message}`);
    return failure.exitCode;
  }
}
