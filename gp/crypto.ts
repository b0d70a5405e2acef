/**
 * AES primitives for SCP03 and key check values, wrapping @noble/ciphers (pinned 2.4.0).
 * noble's `cmac` takes (message, key) since 2.2; a swapped call yields a valid-looking wrong tag,
 * so every caller goes through `aesCmac(key, message)` and RFC 4493 vectors pin the order.
 * Block modes here never pad: SCP03 pads with '80 00..' itself (`pad80`) and checks it on the way back.
 */
import { cbc, cmac, ecb } from '@noble/ciphers/aes.js';

export const AES_BLOCK = 16;

function checkKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
}

function checkBlocks(data: Uint8Array, what: string): void {
  if (data.length % AES_BLOCK !== 0) throw new RangeError(`${what} must be a multiple of 16 bytes, got ${data.length}`);
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== AES_BLOCK) throw new RangeError(`AES IV must be 16 bytes, got ${iv.length}`);
}

/** AES-CMAC (RFC 4493 / NIST SP 800-38B), full 16-byte tag. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  checkKey(key);
  return new Uint8Array(cmac(message, key));
}

export function aesEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data, 'AES-ECB input');
  return new Uint8Array(ecb(key, { disablePadding: true }).encrypt(data));
}

export function aesEcbDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data, 'AES-ECB input');
  return new Uint8Array(ecb(key, { disablePadding: true }).decrypt(data));
}

/** AES-CBC without padding; a fresh cipher instance per call (noble instances encrypt once). */
export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkIv(iv);
  checkBlocks(data, 'AES-CBC input');
  return new Uint8Array(cbc(key, iv, { disablePadding: true }).encrypt(data));
}

export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkIv(iv);
  checkBlocks(data, 'AES-CBC input');
  return new Uint8Array(cbc(key, iv, { disablePadding: true }).decrypt(data));
}
