/**
 * Is this the key set an SD holds? Answered with INITIALIZE UPDATE alone: the card cryptogram is recomputed
 * offline and the handshake stops there. Without EXTERNAL AUTHENTICATE a wrong guess never counts as a failed
 * authentication, so a lab can try the keys it has on a card whose budget is small.
 */
import { randomBytes } from 'node:crypto';
import { encodeCommand, parseResponse } from './apdu.ts';
import { selectByAid } from './commands.ts';
import { type IssuerKeys, issuerHost } from './issuer-session.ts';
import type { KeySet } from './keys.ts';
import type { Transmit } from './open-secure-channel.ts';
import { SecureChannelError, SecurityLevel } from './secure-channel.ts';
import { describeSw, SW } from './sw.ts';

export type KeyProof = 'match' | 'card-cryptogram-mismatch' | `refused ${string}`;

/** A plain key set as issuer keys: static, and for SCP02 the default i (it does not enter the card cryptogram). */
function asIssuerKeys(keys: KeySet | IssuerKeys): IssuerKeys {
  if ('keyScheme' in keys) return keys;
  return { scp: keys.scp, i: 0x15, kvn: keys.kvn, keyScheme: 'none', enc: keys.enc, mac: keys.mac, dek: keys.dek };
}

function refused(command: string, sw: number): KeyProof {
  return `refused ${command} ${describeSw(sw).hex}`;
}

/**
 * SELECT of `sdAid`, INITIALIZE UPDATE (KVN `opts.kvn`, default the key set's; 0 lets the card choose), card
 * cryptogram check, stop. 'refused SELECT 6A82' / 'refused INITIALIZE UPDATE 6A88' name what the card said.
 * A malformed INITIALIZE UPDATE response, or one of another protocol, throws SecureChannelError.
 */
export async function proveKeySet(transmit: Transmit, sdAid: Uint8Array, keys: KeySet | IssuerKeys, opts: { kvn?: number } = {}): Promise<KeyProof> {
  const issuer = asIssuerKeys(keys);
  const host = issuerHost(issuer, SecurityLevel.CMAC, sdAid);
  const selected = parseResponse(await transmit(encodeCommand(selectByAid(sdAid))));
  if (selected.sw !== SW.OK && selected.sw !== SW.CARD_LOCKED) return refused('SELECT', selected.sw);
  const challenge = new Uint8Array(randomBytes(8));
  const iu = parseResponse(await transmit(encodeCommand(host.initializeUpdate(opts.kvn ?? issuer.kvn, challenge))));
  if (iu.sw !== SW.OK) return refused('INITIALIZE UPDATE', iu.sw);
  try {
    host.onInitializeUpdateResponse(iu.data);
  } catch (e) {
    if (e instanceof SecureChannelError && e.kind === 'card-cryptogram-mismatch') return 'card-cryptogram-mismatch';
    throw e;
  }
  return 'match';
}
