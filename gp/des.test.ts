import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import {
  DesError,
  desCbcDecrypt,
  desCbcEncrypt,
  desEcbDecrypt,
  desEcbEncrypt,
  desKeyCheckValue,
  retailMac,
  tdesCbcDecrypt,
  tdesCbcEncrypt,
  tdesCbcMac,
  tdesEcbDecrypt,
  tdesEcbEncrypt,
} from './des.ts';

const h = fromHex;

describe('single DES', () => {
  // FIPS 81 examples: key 0123456789ABCDEF, "Now is the time for all ".
  const key = h('0123456789ABCDEF');
  const text = h('4E6F772069732074 68652074696D6520 666F7220616C6C20');

  it('ECB matches FIPS 81 (both paths)', () => {
    for (const path of ['ede', undefined] as const) {
      expect(toHex(desEcbEncrypt(key, text.subarray(0, 8), path))).toBe('3FA40E8A984D4815');
      expect(toHex(desEcbDecrypt(key, h('3FA40E8A984D4815'), path))).toBe('4E6F772069732074');
    }
  });

  it('CBC matches FIPS 81 with IV 1234567890ABCDEF', () => {
    const iv = h('1234567890ABCDEF');
    const ct = desCbcEncrypt(key, text, iv, 'ede');
    expect(toHex(ct)).toBe('E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6');
    expect(toHex(desCbcDecrypt(key, ct, iv, 'ede'))).toBe(toHex(text));
  });

  it('the K1=K2 3DES path agrees with OpenSSL native DES (legacy provider in a child process)', () => {
    const keys = ['0123456789ABCDEF', '133457799BBCDFF1', 'FEDCBA9876543210', '29A69328E6049498'];
    const blocks = '00000000000000004E6F7720697320740123456789ABCDEFFFFFFFFFFFFFFFFF';
    const script = `const c=require('crypto');const out=[];for(const k of ${JSON.stringify(keys)}){const x=c.createCipheriv('des-ecb',Buffer.from(k,'hex'),null);x.setAutoPadding(false);out.push(Buffer.concat([x.update(Buffer.from('${blocks}','hex')),x.final()]).toString('hex').toUpperCase());}console.log(JSON.stringify(out));`;
    const native = JSON.parse(execFileSync(process.execPath, ['--openssl-legacy-provider', '-e', script], { encoding: 'utf8' }));
    const ours = keys.map((k) => toHex(desEcbEncrypt(h(k), h(blocks), 'ede')));
    expect(ours).toEqual(native);
    expect(new Set(ours).size).toBe(keys.length);
  });

  it('rejects a wrong key size and unaligned data', () => {
    expect(() => desEcbEncrypt(h('0011'), new Uint8Array(8))).toThrow(DesError);
    expect(() => desEcbEncrypt(key, new Uint8Array(7))).toThrow(/multiple of 8/);
  });
});

describe('triple DES', () => {
  it('ECB three-key matches NIST SP 800-67 example', () => {
    const key = h('0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123');
    const pt = h('5468652071756663 6B2062726F776E20 666F78206A756D70');
    const ct = tdesEcbEncrypt(key, pt);
    expect(toHex(ct)).toBe('A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900');
    expect(toHex(tdesEcbDecrypt(key, ct))).toBe(toHex(pt));
  });

  it('two-key KCVs of the pySim SCP02 key set', () => {
    expect(toHex(desKeyCheckValue(h('100102030405060708090a0b0c0d0e0f')))).toBe('E54A63');
    expect(toHex(desKeyCheckValue(h('101102030405060708090a0b0c0d0e0f')))).toBe('1F6BB2');
    expect(toHex(desKeyCheckValue(h('102102030405060708090a0b0c0d0e0f')))).toBe('3178A9');
  });

  it('a 16-byte key equals the 24-byte key K1|K2|K1', () => {
    const k16 = h('404142434445464748494A4B4C4D4E4F');
    const k24 = h('404142434445464748494A4B4C4D4E4F4041424344454647');
    const data = h('00112233445566778899AABBCCDDEEFF');
    expect(toHex(tdesCbcEncrypt(k16, data))).toBe(toHex(tdesCbcEncrypt(k24, data)));
  });

  it('CBC round trip with an ICV, and equal halves reduce to single DES', () => {
    const k = h('0123456789ABCDEF0123456789ABCDEF');
    const iv = h('1234567890ABCDEF');
    const pt = h('4E6F772069732074 68652074696D6520 666F7220616C6C20');
    const ct = tdesCbcEncrypt(k, pt, iv);
    expect(toHex(ct)).toBe('E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6');
    expect(toHex(tdesCbcDecrypt(k, ct, iv))).toBe(toHex(pt));
  });

  it('rejects 8-byte keys and a bad ICV', () => {
    expect(() => tdesEcbEncrypt(h('0123456789ABCDEF'), new Uint8Array(8))).toThrow(DesError);
    expect(() => tdesCbcEncrypt(h('0123456789ABCDEF0123456789ABCDEF'), new Uint8Array(8), new Uint8Array(4))).toThrow(/ICV/);
  });
});

describe('MACs', () => {
  it('full 3DES MAC reproduces the pySim SCP02 card cryptogram (S-ENC, padded)', () => {
    const senc = h('1ba074b31f72a6c44fe8f5d9afe4da2f');
    const mac = tdesCbcMac(senc, h('40A62C37FA6304F8 0001 6B4524ABEE7C'));
    expect(toHex(mac)).toBe('F32EA3838BC148F3');
  });

  it('retail MAC reproduces the pySim EXTERNAL AUTHENTICATE C-MAC', () => {
    const cmac = h('29a69328e60494982632039ddd47a2f1');
    expect(toHex(retailMac(cmac, h('8482010010BA6961667737C5BC')))).toBe('EBECE14C7D6A4376');
  });

  it('retail MAC over one block equals the 3DES MAC; with equal halves it equals the DES CBC-MAC', () => {
    const key = h('29a69328e60494982632039ddd47a2f1');
    const one = h('0102030405');
    expect(toHex(retailMac(key, one))).toBe(toHex(tdesCbcMac(key, one)));
    const eq = h('0123456789ABCDEF0123456789ABCDEF');
    const long = h('4E6F772069732074 68652074696D6520 666F7220616C6C20');
    const desMac = desCbcEncrypt(eq.subarray(0, 8), long, undefined, 'ede').slice(16);
    expect(toHex(retailMac(eq, long, { pad: false }))).toBe(toHex(desMac));
    expect(toHex(retailMac(key, long))).not.toBe(toHex(tdesCbcMac(key, long)));
  });

  it('honours the ICV and refuses unpadded unaligned input', () => {
    const key = h('29a69328e60494982632039ddd47a2f1');
    const msg = h('84F22002');
    expect(toHex(retailMac(key, msg, { icv: h('0000000000000001') }))).not.toBe(toHex(retailMac(key, msg)));
    expect(() => retailMac(key, msg, { pad: false })).toThrow(DesError);
    expect(() => retailMac(h('0123456789ABCDEF'), msg)).toThrow(/16/);
  });
});
