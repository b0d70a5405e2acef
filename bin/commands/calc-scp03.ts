/** `tsmlab calc scp03`: recomputes an SCP03 session offline. Interface: docs/cli-calc.md. */
import {
  parseScp03InitializeUpdateResponse,
  SCP03_LEVELS,
  Scp03Host,
  scp03SessionKeys,
  SecureChannelError,
} from '../../gp/index.ts';
import { CliError } from '../cli-error.ts';
import { type ChannelCalcInput, type ChannelSpec, runChannelCalc } from './calc-channel.ts';

const HELP = `usage: tsmlab calc scp03 --enc HEX --mac HEX [--dek HEX] --level HEX --host-challenge HEX
                         --init-update-response HEX [--apdu HEX]... [--response HEX]... [--json]
  --enc, --mac, --dek      static keys, 16, 24 or 32 bytes (the DEK is not needed to wrap)
  --level                  00, 01, 03, 11, 13 or 33
  --host-challenge         8 bytes (S8) or 16 bytes (S16)
  --init-update-response   the card's INITIALIZE UPDATE response data, without SW
  --apdu                   plain command to wrap after EXTERNAL AUTHENTICATE (repeat, in order)
  --response               the card's wrapped response to the --apdu at the same position (repeat)
  --json                   one JSON object (see docs/cli-calc.md)
Exit 0; 1 when the card cryptogram or a response does not verify; 2 on bad input.`;

function cardChallenge(input: ChannelCalcInput): Uint8Array {
  try {
    return parseScp03InitializeUpdateResponse(input.initUpdateResponse).cardChallenge;
  } catch (e) {
    if (e instanceof SecureChannelError) throw new CliError(`--init-update-response: ${e.message}`);
    throw e;
  }
}

export const scp03Spec: ChannelSpec = {
  name: 'scp03',
  help: HELP,
  keyLengths: [16, 24, 32],
  hostChallengeLengths: [8, 16],
  levels: SCP03_LEVELS,
  sessionKeys: (input) => scp03SessionKeys(input, input.hostChallenge, cardChallenge(input)),
  createHost: (input) =>
    // The DEK never enters the session; a zero placeholder keeps the key set whole when --dek is absent.
    new Scp03Host({ keys: { enc: input.enc, mac: input.mac, dek: input.dek ?? new Uint8Array(input.enc.length) }, level: input.level }),
};

export async function run(args: string[]): Promise<number> {
  return runChannelCalc(args, scp03Spec);
}
