/**
 * PUT KEY of an AES key set (GPCS 2.3.1 §11.8, Amd D §6.2.8): each key component encrypted with the static
 * DEK (AES-CBC, ICV zero), key type '88', followed by its check value. Host builder and card-side decoder.
 */
import type { CommandApdu } from './apdu.ts';
import { concat, equalBytes } from './bytes.ts';
import { KeyType, keyCheckValue } from './keys.ts';
import { type AesKeySet, scp03DecryptSensitive, scp03EncryptSensitive } from './scp03-crypto.ts';
import { encodeLength } from './tlv.ts';

export interface Scp03PutKeyOptions {
  /**
   * Prefix each component with its clear length (Table 11-70) even when no padding is needed. 24-byte keys
   * always get it. Some cards want this form for all AES keys; the spec allows both (Table 11-71).
   */
  lengthPrefix?: boolean;
  /** Bytes of the key check value (default 3; 0 sends none). */
  kcvLength?: number;
}

/** One key data field (Table 11-68, basic format): '88' ‖ L ‖ [clear length] ‖ DEK-encrypted key ‖ Lkcv ‖ KCV. */
export function scp03KeyDataField(dek: Uint8Array, key: Uint8Array, opts: Scp03PutKeyOptions = {}): Uint8Array {
  if (![16, 24, 32].includes(key.length)) throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  const padded = new Uint8Array(Math.ceil(key.length / 16) * 16);
  padded.set(key);
  const encrypted = scp03EncryptSensitive(dek, padded);
  const block = opts.lengthPrefix || padded.length !== key.length ? concat(encodeLength(key.length), encrypted) : encrypted;
  const kcv = keyCheckValue(key, 'aes', opts.kcvLength ?? 3);
  return concat(Uint8Array.of(KeyType.AES), encodeLength(block.length), block, Uint8Array.of(kcv.length), kcv);
}

/** New KVN ‖ ENC, MAC, DEK key data fields (key identifiers 1, 2, 3). */
export function scp03PutKeyData(dek: Uint8Array, newKvn: number, keys: AesKeySet, opts: Scp03PutKeyOptions = {}): Uint8Array {
  if (!Number.isInteger(newKvn) || newKvn < 0x01 || newKvn > 0x7f) throw new RangeError(`new key version number must be 01..7F, got ${newKvn}`);
  return concat(Uint8Array.of(newKvn), ...[keys.enc, keys.mac, keys.dek].map((k) => scp03KeyDataField(dek, k, opts)));
}

/**
 * PUT KEY for a whole AES key set: P1 = `oldKvn` (00 adds a new key set, otherwise the set it replaces),
 * P2 = '81' (key identifier 1, several keys). Send it through the open channel.
 */
export function scp03PutKey(dek: Uint8Array, oldKvn: number, newKvn: number, keys: AesKeySet, opts: Scp03PutKeyOptions = {}): CommandApdu {
  if (!Number.isInteger(oldKvn) || oldKvn < 0 || oldKvn > 0x7f) throw new RangeError(`KVN to replace must be 00..7F, got ${oldKvn}`);
  return { cla: 0x80, ins: 0xd8, p1: oldKvn, p2: 0x81, data: scp03PutKeyData(dek, newKvn, keys, opts), le: 256 };
}

export interface DecodedKey {
  /** Key identifier: P2's identifier plus the position in the data field. */
  id: number;
  type: number;
  value: Uint8Array;
  kcv: Uint8Array;
}

export type Scp03PutKeyDecodeResult =
  | { ok: true; kvn: number; keys: DecodedKey[]; keySet?: AesKeySet }
  | { ok: false; sw: number; reason: string };

/**
 * Card side: decodes and checks the data field of an AES PUT KEY (basic and extended formats, with and without
 * length prefixes). Never throws. 6A80 for malformed data, 6982 for a wrong key check value (Table 11-78).
 * `keySet` is set when the field carries exactly three keys starting at identifier 1.
 */
export function decodeScp03PutKeyData(dek: Uint8Array, data: Uint8Array, p2 = 0x81): Scp03PutKeyDecodeResult {
  const fail = (reason: string, sw = 0x6a80): Scp03PutKeyDecodeResult => ({ ok: false, sw, reason });
  if (![16, 24, 32].includes(dek.length)) return fail(`DEK of ${dek.length} bytes`, 0x6985);
  if (data.length < 1) return fail('empty PUT KEY data');
  const kvn = data[0];
  if (kvn < 0x01 || kvn > 0x7f) return fail(`new key version number ${kvn.toString(16)} outside 01..7F`);
  let i = 1;
  const byte = (): number | undefined => (i < data.length ? data[i++] : undefined);
  const length = (): number | undefined => {
    const first = byte();
    if (first === undefined || first <= 0x80) return first; // '80' may code 128 (§11.8.2.3.1)
    const n = first & 0x7f;
    if (n > 2 || i + n > data.length) return undefined;
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + data[i++];
    return v;
  };
  const take = (n: number): Uint8Array | undefined => {
    if (i + n > data.length) return undefined;
    i += n;
    return data.slice(i - n, i);
  };
  const keys: DecodedKey[] = [];
  while (i < data.length) {
    const at = i;
    let type = byte()!;
    const extended = type === 0xff;
    if (extended) {
      const t = byte();
      if (t === undefined) return fail(`truncated key type at offset ${at}`);
      type = t;
    }
    if (type !== KeyType.AES) return fail(`key type ${type.toString(16).toUpperCase()} at offset ${at} is not AES ('88')`);
    const blockLength = length();
    const block = blockLength === undefined ? undefined : take(blockLength);
    if (!block) return fail(`truncated key component block at offset ${at}`);
    const kcvLength = byte();
    const kcv = kcvLength === undefined ? undefined : take(kcvLength);
    if (!kcv) return fail(`truncated key check value at offset ${at}`);
    if (extended) {
      for (const what of ['key usage', 'key access']) {
        const n = byte();
        if (n === undefined || !take(n)) return fail(`truncated ${what} at offset ${at}`);
      }
    }
    const value = decryptComponent(dek, block);
    if (typeof value === 'string') return fail(`key at offset ${at}: ${value}`);
    const id = (p2 & 0x7f) + keys.length;
    if (kcv.length > 0 && !equalBytes(kcv, keyCheckValue(value, 'aes', kcv.length))) return fail(`key check value mismatch for key ${id}`, 0x6982);
    keys.push({ id, type, value, kcv });
  }
  if (keys.length === 0) return fail('PUT KEY carries no key');
  if (!(p2 & 0x80) && keys.length > 1) return fail(`${keys.length} keys but P2 does not announce several`);
  const result: Scp03PutKeyDecodeResult = { ok: true, kvn, keys };
  const n = keys[0].value.length;
  if (keys.length === 3 && (p2 & 0x7f) === 1 && keys.every((k) => k.value.length === n)) {
    result.keySet = { enc: keys[0].value, mac: keys[1].value, dek: keys[2].value };
  }
  return result;
}

/** Table 11-70 (length-prefixed, block not a multiple of 16) or 11-71 (whole blocks); a reason string on failure. */
function decryptComponent(dek: Uint8Array, block: Uint8Array): Uint8Array | string {
  let clearLength: number | undefined;
  let encrypted = block;
  if (block.length % 16 !== 0) {
    let j = 0;
    let len = block[j++];
    if (len > 0x80) {
      const n = len & 0x7f;
      if (n > 2 || block.length < 1 + n) return 'bad clear length';
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + block[j++];
    }
    clearLength = len;
    encrypted = block.subarray(j);
    if (encrypted.length % 16 !== 0 || encrypted.length === 0) return `encrypted component of ${encrypted.length} bytes is not whole AES blocks`;
  }
  if (encrypted.length === 0) return 'empty key component';
  const plain = scp03DecryptSensitive(dek, encrypted);
  const value = clearLength === undefined ? plain : plain.slice(0, clearLength);
  if (clearLength !== undefined && clearLength > plain.length) return 'clear length longer than the decrypted component';
  if (![16, 24, 32].includes(value.length)) return `${value.length}-byte AES key`;
  return value;
}

/** PUT KEY response data (§11.8.3.1): KVN ‖ the check values as presented. */
export function putKeyResponseData(kvn: number, checkValues: Uint8Array[]): Uint8Array {
  return concat(Uint8Array.of(kvn), ...checkValues);
}

/** Host side: checks the PUT KEY response against the keys sent (KVN and 3-byte AES check values). */
export function verifyScp03PutKeyResponse(data: Uint8Array, newKvn: number, keys: AesKeySet): boolean {
  return equalBytes(data, putKeyResponseData(newKvn, [keys.enc, keys.mac, keys.dek].map((k) => keyCheckValue(k, 'aes'))));
}
