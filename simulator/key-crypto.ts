/**
 * TEMPORARY local adapter until gp/keys.ts (keyCheckValue) and gp's SCP03 sensitive-data decryption land:
 * the two AES operations the card side of PUT KEY needs (GPCS §B.6 key check value; Amendment D key
 * encryption with the static DEK, AES-CBC with a zero ICV).
 */
import { cbc, ecb } from '@noble/ciphers/aes.js';
import { desKeyCheckValue } from '../gp/des.ts';

/** KCV: AES-ECB(key, 01×16) or 3DES-ECB(key, 00×8), first `length` bytes. */
export function checkValue(keyType: number, key: Uint8Array, length = 3): Uint8Array {
  if (keyType === 0x80) return desKeyCheckValue(key, length);
  return ecb(key, { disablePadding: true }).encrypt(new Uint8Array(16).fill(1)).slice(0, length);
}

/** SCP03 key component decryption with the static DEK (no padding; length a multiple of 16). */
export function aesDecryptKey(dek: Uint8Array, block: Uint8Array): Uint8Array | undefined {
  if (block.length === 0 || block.length % 16 !== 0) return undefined;
  return cbc(dek, new Uint8Array(16), { disablePadding: true }).decrypt(block);
}
