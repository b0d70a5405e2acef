import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { aesCbcDecrypt, aesCbcEncrypt, aesCmac, aesEcbDecrypt, aesEcbEncrypt } from './crypto.ts';

const h = fromHex;

// RFC 4493 §4 / NIST SP 800-38B Appendix D.1 message, truncated to 0, 16, 40 and 64 bytes.
const M = h(
  '6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710',
);
const LENGTHS = [0, 16, 40, 64];

describe('aesCmac', () => {
  it('matches RFC 4493 examples 1-4 (AES-128)', () => {
    const key = h('2b7e151628aed2a6abf7158809cf4f3c');
    const tags = ['BB1D6929E95937287FA37D129B756746', '070A16B46B4D4144F79BDD9DD04A287C', 'DFA66747DE9AE63030CA32611497C827', '51F0BEBF7E3B9D92FC49741779363CFE'];
    LENGTHS.forEach((n, i) => expect(toHex(aesCmac(key, M.subarray(0, n)))).toBe(tags[i]));
  });

  it('matches SP 800-38B D.2 (AES-192)', () => {
    const key = h('8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b');
    const tags = ['D17DDF46ADAACDE531CAC483DE7A9367', '9E99A7BF31E710900662F65E617C5184', '8A1DE5BE2EB31AAD089A82E6EE908B0E', 'A1D5DF0EED790F794D77589659F39A11'];
    LENGTHS.forEach((n, i) => expect(toHex(aesCmac(key, M.subarray(0, n)))).toBe(tags[i]));
  });

  it('matches SP 800-38B D.3 (AES-256)', () => {
    const key = h('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    const tags = ['028962F61B7BF89EFC6B551F4667D983', '28A7023F452E8F82BD4BF28D8C37C35C', 'AAF3D8F1DE5640C232F5B169B9C911E6', 'E1992190549F6ED5696A2C056C315410'];
    LENGTHS.forEach((n, i) => expect(toHex(aesCmac(key, M.subarray(0, n)))).toBe(tags[i]));
  });

  it('pins the argument order: key first (a swapped call differs)', () => {
    const key = h('2b7e151628aed2a6abf7158809cf4f3c');
    const msg = M.subarray(0, 16);
    expect(toHex(aesCmac(msg, key))).not.toBe('070A16B46B4D4144F79BDD9DD04A287C');
  });

  it('rejects a key of the wrong length', () => {
    expect(() => aesCmac(new Uint8Array(15), M)).toThrow(/16, 24 or 32/);
  });
});

describe('AES-ECB', () => {
  it('matches FIPS 197 Appendix C.1 and C.3', () => {
    const pt = h('00112233445566778899aabbccddeeff');
    const k128 = h('000102030405060708090a0b0c0d0e0f');
    const k256 = h('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    expect(toHex(aesEcbEncrypt(k128, pt))).toBe('69C4E0D86A7B0430D8CDB78070B4C55A');
    expect(toHex(aesEcbEncrypt(k256, pt))).toBe('8EA2B7CA516745BFEAFC49904B496089');
    expect(toHex(aesEcbDecrypt(k128, h('69C4E0D86A7B0430D8CDB78070B4C55A')))).toBe(toHex(pt));
  });

  it('does not pad (32 bytes in, 32 out) and refuses partial blocks', () => {
    const k = new Uint8Array(16);
    expect(aesEcbEncrypt(k, new Uint8Array(32)).length).toBe(32);
    expect(() => aesEcbEncrypt(k, new Uint8Array(17))).toThrow(/multiple of 16/);
  });
});

describe('AES-CBC', () => {
  // NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt).
  const key = h('2b7e151628aed2a6abf7158809cf4f3c');
  const iv = h('000102030405060708090a0b0c0d0e0f');
  const ct = '7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B273BED6B8E3C1743B7116E69E222295163FF1CAA1681FAC09120ECA307586E1A7';

  it('matches SP 800-38A F.2.1/F.2.2 without padding', () => {
    expect(toHex(aesCbcEncrypt(key, iv, M))).toBe(ct);
    expect(toHex(aesCbcDecrypt(key, iv, h(ct)))).toBe(toHex(M));
  });

  it('agrees with node:crypto for AES-192/256 and works twice with the same key (fresh instance per call)', () => {
    for (const len of [24, 32]) {
      const k = Uint8Array.from({ length: len }, (_, i) => i * 7 + 1);
      const c = createCipheriv(`aes-${len * 8}-cbc`, k, iv).setAutoPadding(false);
      const expected = toHex(new Uint8Array([...c.update(M), ...c.final()]));
      expect(toHex(aesCbcEncrypt(k, iv, M))).toBe(expected);
      expect(toHex(aesCbcEncrypt(k, iv, M))).toBe(expected);
    }
  });

  it('refuses a bad IV and partial blocks', () => {
    expect(() => aesCbcEncrypt(key, new Uint8Array(8), M)).toThrow(/IV must be 16/);
    expect(() => aesCbcDecrypt(key, iv, new Uint8Array(20))).toThrow(/multiple of 16/);
  });
});
