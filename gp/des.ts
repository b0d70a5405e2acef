/**
 * DES and triple-DES for SCP02 and DES key sets, on node:crypto without automatic padding.
 *
 * OpenSSL 3 moved single DES into its legacy provider, which Node does not load by default. Single DES is
 * therefore computed as two-key 3DES with K1 = K2 (E_K(D_K(E_K(x))) = E_K(x)), unless the native cipher is
 * available. Both paths give identical results; the tests check them against each other.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { xor } from './bytes.ts';
import { pad80 } from './padding.ts';
import { GpError } from './errors.ts';

export class DesError extends GpError<'bad-des-input'> {
  constructor(message: string) {
    super('bad-des-input', message);
    this.name = 'DesError';
  }
}

const BLOCK = 8;
const ZERO_ICV = new Uint8Array(BLOCK);

/** How single DES is computed: the native OpenSSL cipher, or 3DES with equal key halves. */
export type SingleDesPath = 'native' | 'ede';

function probeNative(): boolean {
  try {
    const c = createCipheriv('des-ecb', new Uint8Array(8), null);
    c.setAutoPadding(false);
    c.update(new Uint8Array(8));
    return true;
  } catch {
    return false;
  }
}

/** The path used when none is asked for: native when OpenSSL offers it (legacy provider loaded). */
export const defaultSingleDesPath: SingleDesPath = probeNative() ? 'native' : 'ede';

function checkBlocks(data: Uint8Array, what: string): void {
  if (data.length % BLOCK !== 0) throw new DesError(`${what}: data length ${data.length} is not a multiple of 8`);
}

function checkKey(key: Uint8Array, sizes: number[], what: string): void {
  if (!sizes.includes(key.length)) throw new DesError(`${what}: key must be ${sizes.join(' or ')} bytes, got ${key.length}`);
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== BLOCK) throw new DesError(`ICV must be 8 bytes, got ${iv.length}`);
}

function run(algorithm: string, encrypt: boolean, key: Uint8Array, iv: Uint8Array | null, data: Uint8Array): Uint8Array {
  const c = encrypt ? createCipheriv(algorithm, key, iv) : createDecipheriv(algorithm, key, iv);
  c.setAutoPadding(false);
  const out = Buffer.concat([c.update(data), c.final()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** 16-byte keys are two-key 3DES (K3 = K1), 24-byte keys three-key. */
function tdesAlgorithm(key: Uint8Array, mode: 'ecb' | 'cbc'): string {
  return key.length === 16 ? `des-ede-${mode}` : `des-ede3-${mode}`;
}

function singleAsTdes(key: Uint8Array): Uint8Array {
  const k = new Uint8Array(16);
  k.set(key, 0);
  k.set(key, 8);
  return k;
}

function single(encrypt: boolean, mode: 'ecb' | 'cbc', key: Uint8Array, iv: Uint8Array | null, data: Uint8Array, path: SingleDesPath): Uint8Array {
  checkKey(key, [8], 'DES');
  checkBlocks(data, 'DES');
  if (path === 'native') return run(`des-${mode}`, encrypt, key, iv, data);
  return run(`des-ede-${mode}`, encrypt, singleAsTdes(key), iv, data);
}

export function desEcbEncrypt(key: Uint8Array, data: Uint8Array, path: SingleDesPath = defaultSingleDesPath): Uint8Array {
  return single(true, 'ecb', key, null, data, path);
}

export function desEcbDecrypt(key: Uint8Array, data: Uint8Array, path: SingleDesPath = defaultSingleDesPath): Uint8Array {
  return single(false, 'ecb', key, null, data, path);
}

export function desCbcEncrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_ICV, path: SingleDesPath = defaultSingleDesPath): Uint8Array {
  checkIv(iv);
  return single(true, 'cbc', key, iv, data, path);
}

export function desCbcDecrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_ICV, path: SingleDesPath = defaultSingleDesPath): Uint8Array {
  checkIv(iv);
  return single(false, 'cbc', key, iv, data, path);
}

export function tdesEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, [16, 24], '3DES');
  checkBlocks(data, '3DES');
  return run(tdesAlgorithm(key, 'ecb'), true, key, null, data);
}

export function tdesEcbDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, [16, 24], '3DES');
  checkBlocks(data, '3DES');
  return run(tdesAlgorithm(key, 'ecb'), false, key, null, data);
}

export function tdesCbcEncrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_ICV): Uint8Array {
  checkKey(key, [16, 24], '3DES');
  checkBlocks(data, '3DES');
  checkIv(iv);
  return run(tdesAlgorithm(key, 'cbc'), true, key, iv, data);
}

export function tdesCbcDecrypt(key: Uint8Array, data: Uint8Array, iv: Uint8Array = ZERO_ICV): Uint8Array {
  checkKey(key, [16, 24], '3DES');
  checkBlocks(data, '3DES');
  checkIv(iv);
  return run(tdesAlgorithm(key, 'cbc'), false, key, iv, data);
}

export interface MacOptions {
  /** Initial chaining value (default 00*8). */
  icv?: Uint8Array;
  /** Apply ISO/IEC 9797-1 padding method 2 first (default true). With false the message must be block-aligned. */
  pad?: boolean;
}

function macInput(message: Uint8Array, opts: MacOptions): Uint8Array {
  const data = opts.pad === false ? message : pad80(message, BLOCK);
  checkBlocks(data, 'MAC');
  return data;
}

/**
 * Retail MAC (ISO/IEC 9797-1 MAC algorithm 3): single-DES CBC with the key's left half over all blocks,
 * then the last block finished with 3DES (decrypt with the right half, encrypt with the left).
 */
export function retailMac(key: Uint8Array, message: Uint8Array, opts: MacOptions = {}): Uint8Array {
  checkKey(key, [16], 'retail MAC');
  const icv = opts.icv ?? ZERO_ICV;
  checkIv(icv);
  const data = macInput(message, opts);
  const left = key.subarray(0, 8);
  const head = data.subarray(0, data.length - BLOCK);
  const chained = head.length > 0 ? desCbcEncrypt(left, head, icv).subarray(head.length - BLOCK) : icv;
  const last = xor(chained, data.subarray(data.length - BLOCK));
  return tdesEcbEncrypt(key, last);
}

/** Full triple-DES CBC MAC (ISO/IEC 9797-1 MAC algorithm 1 with 3DES): the last block of 3DES-CBC. */
export function tdesCbcMac(key: Uint8Array, message: Uint8Array, opts: MacOptions = {}): Uint8Array {
  const icv = opts.icv ?? ZERO_ICV;
  const data = macInput(message, opts);
  return tdesCbcEncrypt(key, data, icv).slice(data.length - BLOCK);
}

/** DES key check value (GPCS B.6): first `length` bytes of 3DES-ECB(key, 00*8). */
export function desKeyCheckValue(key: Uint8Array, length = 3): Uint8Array {
  return tdesEcbEncrypt(key, new Uint8Array(8)).slice(0, length);
}
