/**
 * Card key diversification from a master key and the key diversification data (KDD, the first 10 bytes of
 * the INITIALIZE UPDATE response), as issuers ship cards:
 *  - emv:   EMV CPS 1.1 — 3DES-ECB(master, KDD[4..9] ‖ F0 ‖ n ‖ KDD[4..9] ‖ 0F ‖ n), n = 01 ENC, 02 MAC, 03 DEK
 *  - visa2: VISA2 — the same with KDD[0..1] ‖ KDD[4..7] in place of KDD[4..9]
 *  - kdf3:  the SCP03 NIST SP 800-108 counter-mode KDF with AES-CMAC (as GlobalPlatformPro's "kdf3"): each
 *           16-byte block is CMAC(master, i ‖ 00 00 00 ‖ n ‖ 00 ‖ KDD[0..9]), i = 1, 2, … until the key length
 */
import { concat, equalBytes } from './bytes.ts';
import { aesCmac } from './crypto.ts';
import { tdesEcbEncrypt } from './des.ts';
import { Scp02Constant, deriveScp02SessionKey, scp02CardCryptogram } from './scp02-crypto.ts';
import { scp03CardCryptogram, scp03SessionKeys } from './scp03-crypto.ts';
import { parseScp03InitializeUpdateResponse } from './scp03.ts';
import { SecureChannelError } from './secure-channel.ts';
import { GpError } from './errors.ts';

export type DiversificationScheme = 'emv' | 'visa2' | 'kdf3';
export const DIVERSIFICATION_SCHEMES: readonly DiversificationScheme[] = ['emv', 'visa2', 'kdf3'];

export interface DiversifiedKeys {
  enc: Uint8Array;
  mac: Uint8Array;
  dek: Uint8Array;
}

export class DiversificationError extends GpError<'bad-diversification-input'> {
  constructor(
    readonly argument: 'scheme' | 'master' | 'kdd',
    message: string,
  ) {
    super('bad-diversification-input', message);
    this.name = 'DiversificationError';
  }
}

const KEY_NUMBER = { enc: 1, mac: 2, dek: 3 } as const;

export function isDiversificationScheme(s: string): s is DiversificationScheme {
  return (DIVERSIFICATION_SCHEMES as readonly string[]).includes(s);
}

function desInput(id: Uint8Array, n: number): Uint8Array {
  return concat(id, Uint8Array.of(0xf0, n), id, Uint8Array.of(0x0f, n));
}

function kdf3Key(master: Uint8Array, kdd: Uint8Array, n: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (let i = 1; blocks.length * 16 < master.length; i++) {
    blocks.push(aesCmac(master, concat(Uint8Array.of(i, 0, 0, 0, n, 0), kdd.subarray(0, 10))));
  }
  return concat(...blocks).slice(0, master.length);
}

/** Derives the card's static ENC, MAC and DEK keys. Throws DiversificationError naming the bad argument. */
export function diversify(scheme: DiversificationScheme, master: Uint8Array, kdd: Uint8Array): DiversifiedKeys {
  if (!isDiversificationScheme(scheme)) throw new DiversificationError('scheme', `unknown scheme "${scheme}" (emv, visa2, kdf3)`);
  if (kdd.length < 10) throw new DiversificationError('kdd', `key diversification data must be at least 10 bytes, got ${kdd.length}`);
  if (scheme === 'kdf3') {
    if (![16, 24, 32].includes(master.length)) throw new DiversificationError('master', `kdf3 needs an AES master key of 16, 24 or 32 bytes, got ${master.length}`);
    return { enc: kdf3Key(master, kdd, 1), mac: kdf3Key(master, kdd, 2), dek: kdf3Key(master, kdd, 3) };
  }
  if (master.length !== 16) throw new DiversificationError('master', `${scheme} needs a 16-byte 3DES master key, got ${master.length}`);
  const id = scheme === 'emv' ? kdd.slice(4, 10) : concat(kdd.slice(0, 2), kdd.slice(4, 8));
  const key = (n: number) => tdesEcbEncrypt(master, desInput(id, n));
  return { enc: key(KEY_NUMBER.enc), mac: key(KEY_NUMBER.mac), dek: key(KEY_NUMBER.dek) };
}

export function sameKeys(a: DiversifiedKeys, b: DiversifiedKeys): boolean {
  return equalBytes(a.enc, b.enc) && equalBytes(a.mac, b.mac) && equalBytes(a.dek, b.dek);
}

/** A candidate for findKeyScheme: a diversification scheme, or 'none' (the master key is the card key). */
export type KeyScheme = DiversificationScheme | 'none';

export interface KeySchemeMatch {
  scheme: KeyScheme;
  keys: DiversifiedKeys;
}

function candidateKeys(scheme: KeyScheme, master: Uint8Array, kdd: Uint8Array): DiversifiedKeys | undefined {
  if (scheme === 'none') return { enc: master, mac: master, dek: master };
  try {
    return diversify(scheme, master, kdd);
  } catch (e) {
    if (e instanceof DiversificationError) return undefined;
    throw e;
  }
}

/**
 * Which scheme turns `master` into the keys of the card that sent this INITIALIZE UPDATE response, decided
 * offline by recomputing the card cryptogram for each candidate. Never needs an EXTERNAL AUTHENTICATE, so
 * a wrong guess costs the card nothing. Returns undefined when no candidate matches.
 */
export function findKeyScheme(
  initUpdateResponse: Uint8Array,
  hostChallenge: Uint8Array,
  master: Uint8Array,
  schemes: readonly KeyScheme[] = ['none', ...DIVERSIFICATION_SCHEMES],
): KeySchemeMatch | undefined {
  const scp = initUpdateResponse[11];
  const kdd = initUpdateResponse.subarray(0, 10);
  for (const scheme of schemes) {
    const keys = candidateKeys(scheme, master, kdd);
    if (keys && cardCryptogramMatches(scp, initUpdateResponse, hostChallenge, keys)) return { scheme, keys };
  }
  return undefined;
}

function cardCryptogramMatches(scp: number, response: Uint8Array, hostChallenge: Uint8Array, keys: DiversifiedKeys): boolean {
  if (scp === 0x02) {
    if (response.length !== 28 || keys.enc.length !== 16) return false;
    const counter = response.subarray(12, 14);
    const senc = deriveScp02SessionKey(keys.enc, Scp02Constant.ENC, counter);
    return equalBytes(scp02CardCryptogram(senc, hostChallenge, counter, response.subarray(14, 20)), response.subarray(20, 28));
  }
  if (scp === 0x03) {
    if (![16, 24, 32].includes(keys.mac.length)) return false;
    let r;
    try {
      r = parseScp03InitializeUpdateResponse(response);
    } catch (e) {
      if (e instanceof SecureChannelError) return false;
      throw e;
    }
    const smac = scp03SessionKeys({ enc: keys.enc, mac: keys.mac }, hostChallenge, r.cardChallenge).smac;
    return equalBytes(scp03CardCryptogram(smac, hostChallenge, r.cardChallenge), r.cardCryptogram);
  }
  return false;
}
