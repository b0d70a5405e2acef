/**
 * Static key sets of a security domain, key check values (GPCS 2.3.1 §B.6, Amd D §6.2.2.4 / §7.2) and the
 * Key Information Template of GET DATA 'E0' (§11.3.3.1.1).
 */
import { concat, equalBytes } from './bytes.ts';
import { aesEcbEncrypt } from './crypto.ts';
import { desKeyCheckValue } from './des.ts';
import { parseTlv, tlv, TlvError } from './tlv.ts';
import { GpError } from './errors.ts';

/** Key type coding (GPCS 2.3.1 Table 11-16), the symmetric values this toolkit handles by name. */
export const KeyType = {
  DES: 0x80,
  TLS_PSK: 0x85,
  AES: 0x88,
  HMAC_SHA1: 0x90,
  HMAC_SHA1_160: 0x91,
} as const;

export type KcvAlgorithm = 'aes' | 'des';

/** A static ENC/MAC/DEK key set (key identifiers 1, 2, 3) with its key version number. */
export interface KeySet {
  kvn: number;
  scp: '02' | '03';
  enc: Uint8Array;
  mac: Uint8Array;
  dek: Uint8Array;
}

export class KeyError extends GpError<'bad-key'> {
  constructor(message: string) {
    super('bad-key', message);
    this.name = 'KeyError';
  }
}

/**
 * Key check value, first `length` (default 3) bytes of: AES — AES-ECB(key, 01*16); DES — 3DES-ECB(key, 00*8).
 * `type` is a name or the key type byte ('80' DES, '88' AES).
 */
export function keyCheckValue(key: Uint8Array, type: KcvAlgorithm | number, length = 3): Uint8Array {
  const alg = typeof type === 'number' ? kcvAlgorithmOf(type) : type;
  if (alg === 'aes') {
    checkAesKey(key, 'AES key');
    return aesEcbEncrypt(key, new Uint8Array(16).fill(0x01)).slice(0, length);
  }
  if (key.length !== 16 && key.length !== 24) throw new KeyError(`DES key must be 16 or 24 bytes, got ${key.length}`);
  return desKeyCheckValue(key, length);
}

function kcvAlgorithmOf(keyType: number): KcvAlgorithm {
  if (keyType === KeyType.AES) return 'aes';
  if (keyType === KeyType.DES) return 'des';
  throw new KeyError(`no key check value defined for key type ${keyType.toString(16).toUpperCase()}`);
}

export function checkAesKey(key: Uint8Array, what: string): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new KeyError(`${what} must be 16, 24 or 32 bytes, got ${key.length}`);
}

/** Throws KeyError when the key set cannot serve its SCP (lengths, equal AES lengths, KVN range). */
export function checkKeySet(ks: KeySet): void {
  if (!Number.isInteger(ks.kvn) || ks.kvn < 0 || ks.kvn > 0x7f) throw new KeyError(`key version number must be 00..7F, got ${ks.kvn}`);
  const named = [
    ['ENC', ks.enc],
    ['MAC', ks.mac],
    ['DEK', ks.dek],
  ] as const;
  if (ks.scp === '03') {
    for (const [n, k] of named) checkAesKey(k, `SCP03 ${n} key`);
    if (ks.enc.length !== ks.mac.length || ks.enc.length !== ks.dek.length) throw new KeyError('SCP03 ENC, MAC and DEK keys must have the same length');
  } else {
    for (const [n, k] of named) if (k.length !== 16) throw new KeyError(`SCP02 ${n} key must be 16 bytes, got ${k.length}`);
  }
}

/** KCVs of a key set, for traces and reports (keys themselves never appear there). */
export function keySetCheckValues(ks: KeySet): { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array } {
  const alg: KcvAlgorithm = ks.scp === '03' ? 'aes' : 'des';
  return { enc: keyCheckValue(ks.enc, alg), mac: keyCheckValue(ks.mac, alg), dek: keyCheckValue(ks.dek, alg) };
}

export function sameKeySet(a: KeySet, b: KeySet): boolean {
  return a.kvn === b.kvn && a.scp === b.scp && equalBytes(a.enc, b.enc) && equalBytes(a.mac, b.mac) && equalBytes(a.dek, b.dek);
}

// ---- Key Information Template (GET DATA 'E0') ---------------------------------------------------------

export interface KeyComponentInfo {
  /** Key type byte (Table 11-16); in the extended format the byte after 'FF'. */
  type: number;
  length: number;
}

export interface KeyInformation {
  kid: number;
  kvn: number;
  components: KeyComponentInfo[];
  /** Extended format only (Table 11-29). */
  extended?: { usage?: number; access?: number };
}

/** One 'C0' Key Information Data value, basic (Table 11-28) or extended (Table 11-29) format. */
export function parseKeyInformationData(v: Uint8Array): KeyInformation {
  if (v.length < 4) throw new KeyError(`key information data of ${v.length} bytes (at least 4)`);
  const info: KeyInformation = { kid: v[0], kvn: v[1], components: [] };
  if (v[2] !== 0xff) {
    if ((v.length - 2) % 2 !== 0) throw new KeyError('basic key information: odd number of type/length bytes');
    for (let i = 2; i < v.length; i += 2) info.components.push({ type: v[i], length: v[i + 1] });
    return info;
  }
  let i = 2;
  while (i + 4 <= v.length && v[i] === 0xff) {
    info.components.push({ type: v[i + 1], length: (v[i + 2] << 8) | v[i + 3] });
    i += 4;
  }
  const ext: { usage?: number; access?: number } = {};
  for (const field of ['usage', 'access'] as const) {
    if (i >= v.length) throw new KeyError(`extended key information: missing length of key ${field}`);
    const n = v[i++];
    if (n > 1 || i + n > v.length) throw new KeyError(`extended key information: bad length ${n} of key ${field}`);
    if (n === 1) ext[field] = v[i++];
  }
  if (i !== v.length) throw new KeyError(`extended key information: ${v.length - i} trailing bytes`);
  info.extended = ext;
  return info;
}

export function encodeKeyInformationData(info: KeyInformation): Uint8Array {
  const head = Uint8Array.of(info.kid, info.kvn);
  if (!info.extended) return concat(head, ...info.components.map((c) => Uint8Array.of(c.type, c.length)));
  const comps = info.components.map((c) => Uint8Array.of(0xff, c.type, c.length >> 8, c.length & 0xff));
  const opt = (x: number | undefined) => (x === undefined ? Uint8Array.of(0) : Uint8Array.of(1, x));
  return concat(head, ...comps, opt(info.extended.usage), opt(info.extended.access));
}

/** Decodes an 'E0' template (with or without the E0 wrapper) into its key information entries. */
export function parseKeyInformationTemplate(data: Uint8Array): KeyInformation[] {
  let list;
  try {
    list = parseTlv(data);
  } catch (e) {
    if (e instanceof TlvError) throw new KeyError(`key information template: ${e.message}`);
    throw e;
  }
  const inner = list.length === 1 && list[0].tag === 0xe0 ? (list[0].children ?? []) : list;
  return inner.filter((t) => t.tag === 0xc0).map((t) => parseKeyInformationData(t.value));
}

export function encodeKeyInformationTemplate(entries: KeyInformation[]): Uint8Array {
  return tlv(0xe0, entries.map((e) => tlv(0xc0, encodeKeyInformationData(e))));
}
