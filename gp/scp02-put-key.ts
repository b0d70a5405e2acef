/**
 * PUT KEY of a DES key set under SCP02 (GPCS 2.3.1 §11.8): each 16-byte key encrypted with the session DEK
 * (3DES-ECB, E.4.7) and followed by its check value (3DES-ECB of 00*8, first 3 bytes, §B.6).
 */
import type { CommandApdu } from './apdu.ts';
import { concat, equalBytes } from './bytes.ts';
import { desKeyCheckValue, tdesEcbDecrypt, tdesEcbEncrypt } from './des.ts';
import type { DesKeySet } from './scp02-crypto.ts';

/** Key type of a DES key in PUT KEY (GPCS Table 11-16). */
export const SCP02_KEY_TYPE_DES = 0x80;

/** New KVN ‖ three key data blocks (ENC, MAC, DEK): 80 10 <enc key> 03 <KCV>. */
export function scp02PutKeyData(sdek: Uint8Array, newKvn: number, keys: DesKeySet): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(newKvn)];
  for (const key of [keys.enc, keys.mac, keys.dek]) {
    if (key.length !== 16) throw new RangeError(`SCP02 keys are 16 bytes, got ${key.length}`);
    parts.push(Uint8Array.of(SCP02_KEY_TYPE_DES, 16), tdesEcbEncrypt(sdek, key), Uint8Array.of(3), desKeyCheckValue(key));
  }
  return concat(...parts);
}

/**
 * PUT KEY replacing key set `oldKvn` (0 adds a new set) with `newKvn`: P2 = key identifier 1 with b8 set
 * (several keys in one command). Send it wrapped by the open channel.
 */
export function scp02PutKey(sdek: Uint8Array, oldKvn: number, newKvn: number, keys: DesKeySet): CommandApdu {
  return { cla: 0x80, ins: 0xd8, p1: oldKvn, p2: 0x81, data: scp02PutKeyData(sdek, newKvn, keys), le: 256 };
}

export type PutKeyDecodeResult = { ok: true; kvn: number; keys: DesKeySet } | { ok: false; reason: string };

/** Card side: decrypts and checks a DES PUT KEY data field (never throws). */
export function decodeScp02PutKeyData(sdek: Uint8Array, data: Uint8Array): PutKeyDecodeResult {
  if (data.length < 1) return { ok: false, reason: 'empty PUT KEY data' };
  const kvn = data[0];
  const keys: Uint8Array[] = [];
  let i = 1;
  while (i < data.length) {
    if (i + 2 > data.length) return { ok: false, reason: `truncated key block at offset ${i}` };
    const type = data[i];
    const len = data[i + 1];
    if (type !== SCP02_KEY_TYPE_DES) return { ok: false, reason: `key type ${type.toString(16)} is not DES` };
    if (len !== 16) return { ok: false, reason: `DES key block of ${len} bytes, expected 16` };
    const end = i + 2 + len;
    if (end + 1 > data.length) return { ok: false, reason: `truncated key block at offset ${i}` };
    const key = tdesEcbDecrypt(sdek, data.subarray(i + 2, end));
    const kcvLen = data[end];
    if (end + 1 + kcvLen > data.length) return { ok: false, reason: `truncated check value at offset ${end}` };
    const kcv = data.subarray(end + 1, end + 1 + kcvLen);
    if (kcvLen > 0 && !equalBytes(kcv, desKeyCheckValue(key, kcvLen))) return { ok: false, reason: `check value mismatch for key ${keys.length + 1}` };
    keys.push(key);
    i = end + 1 + kcvLen;
  }
  if (keys.length !== 3) return { ok: false, reason: `expected 3 keys (ENC, MAC, DEK), got ${keys.length}` };
  return { ok: true, kvn, keys: { enc: keys[0], mac: keys[1], dek: keys[2] } };
}
