/**
 * The issuer's secure channel with its ISD, from the keys a card profile names (profiles' resolveCardKeys):
 * static ENC/MAC/DEK, or a master key the issuer diversifies per card (EMV CPS, VISA2, kdf3) with the key
 * diversification data the card sends back in INITIALIZE UPDATE. The INITIALIZE UPDATE command needs no key,
 * so the real host (Scp02Host / Scp03Host) is built only when the response arrives; it then checks the card
 * cryptogram before any EXTERNAL AUTHENTICATE exists, as openSecureChannel requires.
 */
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { encodeCommand, parseResponse } from './apdu.ts';
import { initializeUpdate, selectByAid } from './commands.ts';
import { type DiversificationScheme, type DiversifiedKeys, DiversificationError, diversify } from './diversify.ts';
import type { KeySet } from './keys.ts';
import { type HandshakeHost, type HostFactory, type OpenedSecureChannel, type Transmit, openSecureChannel } from './open-secure-channel.ts';
import { checkScp02Parameters, Scp02Host } from './scp02.ts';
import { checkScp03Level, Scp03Host } from './scp03.ts';
import { SecureChannelError, SecurityLevel, type SessionKeys } from './secure-channel.ts';
import { CardError, SW } from './sw.ts';

/** The ISD keys of a card profile; `ResolvedCardKeys` (profiles/key-refs.ts) is one. */
export interface IssuerKeys {
  scp: '02' | '03';
  /** The card's i parameter (SCP02: '15', '55'...; SCP03 reads it from the card). */
  i: number;
  kvn: number;
  keyScheme: 'none' | 'emv' | 'visa2' | 'kdf3';
  /** Static keys (keyScheme 'none'). */
  enc?: Uint8Array;
  mac?: Uint8Array;
  dek?: Uint8Array;
  /** Master key to diversify (emv, visa2, kdf3). */
  master?: Uint8Array;
}

/** Length of the key diversification data at the head of every INITIALIZE UPDATE response. */
const KDD_LENGTH = 10;

/** Throws SecureChannelError('unsupported') before anything is sent when the keys cannot serve their scheme. */
export function checkIssuerKeys(keys: IssuerKeys, level: number): void {
  if (keys.scp === '02') checkScp02Parameters(keys.i, level);
  else if (keys.scp === '03') checkScp03Level(level);
  else throw new SecureChannelError('unsupported', `SCP${String(keys.scp)} is not a protocol of this toolkit`);
  if (keys.keyScheme === 'none') {
    const missing = (['enc', 'mac', 'dek'] as const).filter((k) => !keys[k]);
    if (missing.length > 0) throw new SecureChannelError('unsupported', `static issuer keys without ${missing.join(', ')}`);
    return;
  }
  if (!keys.master) throw new SecureChannelError('unsupported', `key scheme ${keys.keyScheme} needs a master key`);
  // A trial derivation with a blank KDD checks the scheme and the master key length once, up front.
  cardKeysOf(keys, new Uint8Array(KDD_LENGTH));
}

/** The card's static keys: as given, or derived from the master key with the card's KDD. */
export function cardKeysOf(keys: IssuerKeys, kdd: Uint8Array): DiversifiedKeys {
  if (keys.keyScheme === 'none') return { enc: keys.enc!, mac: keys.mac!, dek: keys.dek! };
  try {
    return diversify(keys.keyScheme as DiversificationScheme, keys.master!, kdd);
  } catch (e) {
    if (e instanceof DiversificationError) throw new SecureChannelError('unsupported', `key scheme ${keys.keyScheme}: ${e.message}`);
    throw e;
  }
}

/** The host side that waits for the card's KDD before it knows its keys; then it is Scp02Host or Scp03Host. */
class IssuerHost implements HandshakeHost {
  private real?: Scp02Host | Scp03Host;
  private pending?: { kvn: number; challenge: Uint8Array };

  constructor(
    private readonly keys: IssuerKeys,
    readonly level: number,
    private readonly sdAid: Uint8Array | undefined,
  ) {
    checkIssuerKeys(keys, level);
  }

  get scp(): '02' | '03' {
    return this.keys.scp;
  }

  get sessionKeys(): SessionKeys {
    return this.host('session keys').sessionKeys;
  }

  /** The INITIALIZE UPDATE response as the real host parsed it. */
  get cardInfo(): unknown {
    return this.real?.cardInfo;
  }

  initializeUpdate(kvn: number, hostChallenge: Uint8Array): CommandApdu {
    const allowed = this.keys.scp === '02' ? [8] : [8, 16];
    if (!allowed.includes(hostChallenge.length)) {
      throw new SecureChannelError('unsupported', `SCP${this.keys.scp} host challenge of ${hostChallenge.length} bytes (${allowed.join(' or ')})`);
    }
    this.real = undefined;
    this.pending = { kvn, challenge: hostChallenge.slice() };
    return initializeUpdate(kvn, hostChallenge);
  }

  onInitializeUpdateResponse(data: Uint8Array): unknown {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) throw new SecureChannelError('unsupported', 'INITIALIZE UPDATE response without a pending INITIALIZE UPDATE');
    if (data.length < KDD_LENGTH) throw new SecureChannelError('malformed-response', `INITIALIZE UPDATE response of ${data.length} bytes has no key diversification data`);
    const cardKeys = cardKeysOf(this.keys, data.subarray(0, KDD_LENGTH));
    const host = this.keys.scp === '02' ? new Scp02Host({ keys: cardKeys, level: this.level, i: this.keys.i }) : new Scp03Host({ keys: cardKeys, level: this.level, sdAid: this.sdAid });
    host.initializeUpdate(pending.kvn, pending.challenge);
    // Throws 'card-cryptogram-mismatch' for keys that are not the card's; the host then never authenticates.
    const info = host.onInitializeUpdateResponse(data);
    this.real = host;
    return info;
  }

  externalAuthenticate(): CommandApdu {
    return this.host('EXTERNAL AUTHENTICATE').externalAuthenticate();
  }

  wrap(command: CommandApdu): Uint8Array {
    return this.host('wrap').wrap(command);
  }

  unwrap(response: Uint8Array): ResponseApdu {
    return this.host('unwrap').unwrap(response);
  }

  /** Sensitive data (PUT KEY) under the session DEK. */
  encryptSensitive(data: Uint8Array): Uint8Array {
    return this.host('encryptSensitive').encryptSensitive(data);
  }

  private host(what: string): Scp02Host | Scp03Host {
    if (!this.real) throw new SecureChannelError('unsupported', `${what} needs a verified INITIALIZE UPDATE response first`);
    return this.real;
  }
}

/**
 * A HostFactory for openSecureChannel. It ignores the KeySet openSecureChannel hands it (only its KVN
 * matters there) and uses `keys`, diversified when the scheme says so.
 */
export function issuerHostFactory(keys: IssuerKeys): HostFactory {
  return (_keySet, level, context) => issuerHost(keys, level, context.sdAid);
}

/** The issuer's host side on its own, for a handshake run by hand (see proveKeySet). Throws for unusable keys. */
export function issuerHost(keys: IssuerKeys, level: number = SecurityLevel.CMAC, sdAid?: Uint8Array): HandshakeHost {
  return new IssuerHost(keys, level, sdAid);
}

/**
 * The KeySet openSecureChannel takes, for its KVN: the static keys, or — diversified keys being unknown until
 * the card answers — empty placeholders that no host uses (issuerHostFactory derives the real ones).
 */
function keySetFor(keys: IssuerKeys): KeySet {
  const none = new Uint8Array(0);
  return { kvn: keys.kvn, scp: keys.scp, enc: keys.enc ?? none, mac: keys.mac ?? none, dek: keys.dek ?? none };
}

/** openSecureChannel with the issuer's keys on the SD already selected (the ISD, for readCardView). */
export function openIssuerChannel(transmit: Transmit, isdAid: Uint8Array, keys: IssuerKeys, level: number = SecurityLevel.CMAC): Promise<OpenedSecureChannel> {
  return openSecureChannel(transmit, { keys: keySetFor(keys), level, sdAid: isdAid, hostFactory: issuerHostFactory(keys) });
}

/** SELECT of the ISD, then the issuer's secure channel (default level C-MAC). Throws CardError on a refused SELECT. */
export async function openIssuerSession(transmit: Transmit, isdAid: Uint8Array, keys: IssuerKeys, level: number = SecurityLevel.CMAC): Promise<OpenedSecureChannel> {
  checkIssuerKeys(keys, level);
  const r = parseResponse(await transmit(encodeCommand(selectByAid(isdAid))));
  // '6283': the card is CARD_LOCKED and the ISD holds Final Application; it is selected all the same.
  if (r.sw !== SW.OK && r.sw !== SW.CARD_LOCKED) throw new CardError(r.sw, 'SELECT of the ISD');
  return openIssuerChannel(transmit, isdAid, keys, level);
}
