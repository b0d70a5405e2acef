/** Minimal option parsing for tsmlab commands: --name value, repeatable options, boolean flags. */
import { CliError } from './cli-error.ts';

export interface OptionSpec {
  /** Options taking a value. */
  values?: string[];
  /** Options that may repeat (collected in order). */
  repeat?: string[];
  /** Boolean flags. */
  flags?: string[];
}

export interface ParsedArgs {
  values: Record<string, string>;
  lists: Record<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

/**
 * Whether the arguments ask for help (`-h` or `--help` anywhere before a `--`). Every command checks this
 * first, before it reads or writes anything, so help is always safe to ask for.
 */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

export function parseArgs(args: string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = { values: {}, lists: {}, flags: new Set(), positional: [] };
  for (const r of spec.repeat ?? []) out.lists[r] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.positional.push(...args.slice(i + 1));
      break;
    }
    // A single-dash word is a mistyped option, never a file name: `run -x` must not run a feature path "-x".
    if (/^-[^-]/.test(a)) throw new CliError(`unknown option ${a} (options are spelled --name; see --help)`);
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (spec.flags?.includes(name)) {
      if (inline !== undefined) throw new CliError(`--${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    const takesValue = spec.values?.includes(name) || spec.repeat?.includes(name);
    if (!takesValue) throw new CliError(`unknown option --${name}`);
    const v = inline ?? args[++i];
    if (v === undefined) throw new CliError(`--${name} needs a value`);
    if (spec.repeat?.includes(name)) out.lists[name].push(v);
    else out.values[name] = v;
  }
  return out;
}
