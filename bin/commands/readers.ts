/** `tsmlab readers`: the PC/SC readers, the ATR of each inserted card and the card profile(s) it matches. */
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';
import { listReaders, parseReaderSelector, type ReaderInfo } from '../../drivers/pcsc.ts';
import { toHex } from '../../gp/index.ts';
import { atrMatches, loadCardProfiles, type LoadedCardProfile } from '../../profiles/index.ts';

const HELP = `usage: tsmlab readers [--profiles DIR] [--json]

Lists the PC/SC readers pcscd knows, the ATR of the card in each, and the card profiles in DIR whose
expected ATR (under its mask) matches and whose reader, when the profile names one, is this reader.

  --profiles DIR   directory of card profiles (*.json with "ics" and "ixit"); default $TSMLAB_PROFILES
  --json           print {"readers":[{"index","name","card","atr","profiles":[...]}],"profileProblems":[...]}

Exit status: 0 listed (even none), 2 PC/SC unavailable (module or pcscd) or bad options.`;

export interface ReaderReport {
  index: number;
  name: string;
  card: boolean;
  atr?: string;
  mute?: boolean;
  inUse?: boolean;
  exclusive?: boolean;
  /** Names of the matching profiles (with their files in text output). */
  profiles: string[];
}

/** Whether a profile's `ixit.reader` selector picks this reader (no selector: any reader). */
export function readerSelectorMatches(selector: string | undefined, reader: ReaderInfo): boolean {
  if (!selector) return true;
  const sel = parseReaderSelector(selector);
  if (sel === undefined) return true;
  if (typeof sel === 'number') return sel === reader.index;
  if (typeof sel === 'string') return sel === reader.name;
  return sel.test(reader.name);
}

export function matchProfiles(reader: ReaderInfo, profiles: LoadedCardProfile[]): LoadedCardProfile[] {
  if (!reader.atr) return [];
  return profiles.filter((l) => atrMatches(l.profile, reader.atr!) && readerSelectorMatches(l.profile.ixit.reader, reader));
}

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(HELP);
    return 0;
  }
  const opts = parseArgs(args, { values: ['profiles'], flags: ['json'] });
  if (opts.positional.length) throw new CliError(`unexpected argument "${opts.positional[0]}" (see tsmlab readers --help)`);
  const dir = opts.values.profiles ?? process.env.TSMLAB_PROFILES;
  const { profiles, problems } = dir ? loadCardProfiles(dir) : { profiles: [], problems: [] };

  // pcscd missing or silent is a DriverError; main maps it to one line (cli-failure.ts).
  const readers: ReaderInfo[] = await listReaders();

  const report: ReaderReport[] = readers.map((r) => ({
    index: r.index,
    name: r.name,
    card: r.present,
    ...(r.atr ? { atr: toHex(r.atr) } : {}),
    ...(r.mute ? { mute: true } : {}),
    ...(r.inUse ? { inUse: true } : {}),
    ...(r.exclusive ? { exclusive: true } : {}),
    profiles: matchProfiles(r, profiles).map((l) => l.profile.profile),
  }));

  if (opts.flags.has('json')) {
    console.log(JSON.stringify({ readers: report, profileProblems: problems }));
    return 0;
  }
  if (report.length === 0) console.log('no PC/SC readers (pcscd is running but reports none)');
  for (const r of report) {
    const card = r.card ? (r.atr ?? 'card (no ATR)') : 'empty';
    const flags = [r.mute ? 'mute' : '', r.exclusive ? 'in exclusive use' : r.inUse ? 'in use' : ''].filter(Boolean).join(', ');
    const files = matchProfiles(readers[report.indexOf(r)], profiles).map((l) => `${l.profile.profile} (${l.source})`);
    const match = !r.atr ? '' : !dir ? '' : files.length ? `  profile: ${files.join(', ')}` : '  no matching profile';
    console.log(`${String(r.index).padStart(2)}  ${r.name}  ${card}${flags ? ` [${flags}]` : ''}${match}`);
  }
  for (const p of problems) console.error(`profile problem: ${p}`);
  return 0;
}
