/**
 * `tsmlab calc scp02`: recomputes an SCP02 session offline through the shared channel calculator
 * (calc-channel.ts): same arguments and JSON as `calc scp03`, plus `--i`. See docs/cli-scp02-kdf-cap.md.
 */
import {
  parseScp02InitializeUpdateResponse,
  SCP02_LEVELS,
  SCP02_SUPPORTED_I,
  Scp02Host,
  scp02SessionKeys,
  SecureChannelError,
} from '../../gp/index.ts';
import { CliError } from '../cli-error.ts';
import { type ChannelCalcInput, type ChannelSpec, runChannelCalc } from './calc-channel.ts';

const HELP = `usage: tsmlab calc scp02 --enc HEX --mac HEX [--dek HEX] --level HEX --host-challenge HEX
                         --init-update-response HEX [--i HEX] [--apdu HEX]... [--response HEX]... [--json]
  --enc, --mac, --dek      static keys, 16 bytes each (the DEK is not needed to wrap)
  --level                  00, 01, 03, 10, 11 or 13 (R-MAC levels need an i with R-MAC support: 35, 75)
  --host-challenge         8 bytes
  --init-update-response   the card's 28-byte INITIALIZE UPDATE response data, without SW; it carries the
                           sequence counter the session keys are derived from
  --i                      the card's SCP02 i parameter: 15 (default), 35, 55 or 75
  --apdu                   plain command to wrap after EXTERNAL AUTHENTICATE (repeat, in order)
  --response               the card's response to the --apdu at the same position (R-MAC levels; repeat)
  --json                   one JSON object (the fields of calc scp03, see docs/cli-calc.md)
Exit 0; 1 when the card cryptogram or a response does not verify; 2 on bad input.`;

function iParameter(input: ChannelCalcInput): number {
  const text = input.extra.i;
  if (text === undefined) return 0x15;
  if (!/^[0-9a-fA-F]{2}$/.test(text)) throw new CliError(`--i must be one hex byte, not "${text}"`);
  const i = parseInt(text, 16);
  if (!SCP02_SUPPORTED_I.includes(i)) {
    throw new CliError(`--i ${text.toUpperCase()} is not supported (${SCP02_SUPPORTED_I.map((v) => v.toString(16).toUpperCase()).join(', ')})`);
  }
  return i;
}

function sequenceCounter(input: ChannelCalcInput): Uint8Array {
  try {
    const r = parseScp02InitializeUpdateResponse(input.initUpdateResponse);
    if (r.scpId !== 0x02) throw new CliError(`--init-update-response: SCP identifier ${r.scpId.toString(16).padStart(2, '0')}, not 02 (use calc scp03)`);
    return r.sequenceCounter;
  } catch (e) {
    if (e instanceof SecureChannelError) throw new CliError(`--init-update-response: ${e.message}`);
    throw e;
  }
}

function keysOf(input: ChannelCalcInput) {
  // The DEK only enters PUT KEY; the ENC key stands in when --dek is absent.
  return { enc: input.enc, mac: input.mac, dek: input.dek ?? input.enc };
}

export const scp02Spec: ChannelSpec = {
  name: 'scp02',
  help: HELP,
  keyLengths: [16],
  hostChallengeLengths: [8],
  levels: SCP02_LEVELS,
  extraValues: ['i'],
  sessionKeys: (input) => {
    const keys = scp02SessionKeys(keysOf(input), sequenceCounter(input));
    return { senc: keys.senc, smac: keys.smac, srmac: keys.srmac };
  },
  createHost: (input) => {
    const i = iParameter(input);
    try {
      return new Scp02Host({ keys: keysOf(input), level: input.level, i });
    } catch (e) {
      if (e instanceof SecureChannelError) throw new CliError(`--level: ${e.message}`);
      throw e;
    }
  },
};

export async function run(args: string[]): Promise<number> {
  return runChannelCalc(args, scp02Spec);
}
