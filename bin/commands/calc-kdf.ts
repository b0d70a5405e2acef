/** `tsmlab calc kdf`: a card's static keys from a master key and the key diversification data. */
import { DiversificationError, diversify, fromHex, HexError, isDiversificationScheme, toHex } from '../../gp/index.ts';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';

const HELP = `usage: tsmlab calc kdf --scheme emv|visa2|kdf3 --master HEX --kdd HEX [--json]
  --scheme   emv (EMV CPS), visa2, or kdf3 (SCP03 AES-CMAC KDF, as GlobalPlatformPro)
  --master   master key: 16 bytes for emv/visa2, 16/24/32 bytes for kdf3
  --kdd      key diversification data: the first 10 bytes of the INITIALIZE UPDATE response
  --json     print {"enc":HEX,"mac":HEX,"dek":HEX}
(see docs/cli-scp02-kdf-cap.md)`;

function hexArg(name: string, value: string | undefined): Uint8Array {
  if (value === undefined) throw new CliError(`--${name} is required (see tsmlab calc kdf --help)`);
  try {
    const bytes = fromHex(value);
    if (bytes.length === 0) throw new CliError(`--${name}: empty value`);
    return bytes;
  } catch (e) {
    if (e instanceof HexError) throw new CliError(`--${name}: ${e.message}`);
    throw e;
  }
}

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(HELP);
    return 0;
  }
  const a = parseArgs(args, { values: ['scheme', 'master', 'kdd'], flags: ['json'] });
  if (a.positional.length > 0) throw new CliError(`unexpected argument "${a.positional[0]}"`);
  const scheme = a.values.scheme;
  if (scheme === undefined) throw new CliError('--scheme is required: emv, visa2 or kdf3');
  if (!isDiversificationScheme(scheme)) throw new CliError(`--scheme must be emv, visa2 or kdf3, not "${scheme}"`);
  const master = hexArg('master', a.values.master);
  const kdd = hexArg('kdd', a.values.kdd);
  let keys;
  try {
    keys = diversify(scheme, master, kdd);
  } catch (e) {
    if (e instanceof DiversificationError) throw new CliError(`--${e.argument}: ${e.message}`);
    throw e;
  }
  const out = { enc: toHex(keys.enc), mac: toHex(keys.mac), dek: toHex(keys.dek) };
  if (a.flags.has('json')) console.log(JSON.stringify(out));
  else console.log(`ENC ${out.enc}\nMAC ${out.mac}\nDEK ${out.dek}`);
  return 0;
}
