import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import {
  checkKeySet,
  encodeKeyInformationData,
  encodeKeyInformationTemplate,
  KeyError,
  keyCheckValue,
  KeyType,
  keySetCheckValues,
  parseKeyInformationData,
  parseKeyInformationTemplate,
} from './keys.ts';

const h = fromHex;
const tlvVectors = readFileSync(new URL('../../shared/vectors/pysim-gp-commands-tlv.txt', import.meta.url), 'utf8');
const scp03Vectors = readFileSync(new URL('../../shared/vectors/pysim-scp03.txt', import.meta.url), 'utf8');
const scp02Vectors = readFileSync(new URL('../../shared/vectors/pysim-scp02.txt', import.meta.url), 'utf8');

describe('key check values', () => {
  it('AES: pySim SCP03_KCV_Test vectors (section 1 of the TLV vector file)', () => {
    const re = /\[SOURCE\] AES ([0-9a-f]{32}) -> ([0-9A-F]{6})/g;
    const found = [...tlvVectors.matchAll(re)];
    expect(found.length).toBe(3);
    for (const [, key, kcv] of found) {
      expect(toHex(keyCheckValue(h(key), 'aes'))).toBe(kcv);
      expect(toHex(keyCheckValue(h(key), KeyType.AES))).toBe(kcv);
    }
  });

  it('AES: the AES128 key set of pysim-scp03.txt', () => {
    const m = /ENC ([0-9A-F]{6})\s+MAC ([0-9A-F]{6})\s+DEK ([0-9A-F]{6})/.exec(scp03Vectors)!;
    const kcv = keySetCheckValues({
      kvn: 0x30,
      scp: '03',
      enc: h('000102030405060708090a0b0c0d0e0f'),
      mac: h('101112131415161718191a1b1c1d1e1f'),
      dek: h('202122232425262728292a2b2c2d2e2f'),
    });
    expect([toHex(kcv.enc), toHex(kcv.mac), toHex(kcv.dek)]).toEqual([m[1], m[2], m[3]]);
  });

  it('DES: the SCP02 test keys of pysim-scp02.txt', () => {
    const m = /KCV \(3DES-ECB of 8x00, first 3 bytes\) ENC=([0-9a-f]{6})\s+MAC=([0-9a-f]{6})\s+DEK=([0-9a-f]{6})/.exec(scp02Vectors)!;
    const keyLine = (name: string) => new RegExp(`static ${name} \\(variable "\\w+"\\)\\s*:\\s*([0-9a-fA-F]{32})`).exec(scp02Vectors)![1];
    const keys = [keyLine('ENC'), keyLine('MAC'), keyLine('DEK')];
    keys.forEach((k, i) => expect(toHex(keyCheckValue(h(k), 'des'), false)).toBe(m[i + 1]));
  });

  it('GP test key 404142..4F (DES KCV 8BAF47, well-known from GlobalPlatformPro)', () => {
    expect(toHex(keyCheckValue(h('404142434445464748494A4B4C4D4E4F'), KeyType.DES))).toBe('8BAF47');
  });

  it('rejects wrong lengths and types without a KCV', () => {
    expect(() => keyCheckValue(new Uint8Array(20), 'aes')).toThrow(KeyError);
    expect(() => keyCheckValue(new Uint8Array(8), 'des')).toThrow(KeyError);
    expect(() => keyCheckValue(new Uint8Array(16), 0xa0)).toThrow(/no key check value/);
  });
});

describe('checkKeySet', () => {
  const k16 = new Uint8Array(16);
  it('accepts AES-128/192/256 for SCP03 and 16-byte DES for SCP02', () => {
    for (const n of [16, 24, 32]) expect(() => checkKeySet({ kvn: 0x30, scp: '03', enc: new Uint8Array(n), mac: new Uint8Array(n), dek: new Uint8Array(n) })).not.toThrow();
    expect(() => checkKeySet({ kvn: 0x20, scp: '02', enc: k16, mac: k16, dek: k16 })).not.toThrow();
  });
  it('rejects mixed AES lengths, bad lengths and KVN out of range', () => {
    expect(() => checkKeySet({ kvn: 1, scp: '03', enc: k16, mac: new Uint8Array(32), dek: k16 })).toThrow(/same length/);
    expect(() => checkKeySet({ kvn: 1, scp: '03', enc: new Uint8Array(8), mac: k16, dek: k16 })).toThrow(/ENC key/);
    expect(() => checkKeySet({ kvn: 1, scp: '02', enc: k16, mac: new Uint8Array(24), dek: k16 })).toThrow(/MAC key/);
    expect(() => checkKeySet({ kvn: 0x80, scp: '02', enc: k16, mac: k16, dek: k16 })).toThrow(/key version/);
  });
});

describe('key information template', () => {
  it('decodes the pySim C0 entries', () => {
    const entries = [...tlvVectors.matchAll(/(c004[0-9a-f]{8})\s+KID (\d), KVN (\S+) \S*\s*(DES|AES) 16/g)];
    expect(entries.length).toBe(12);
    for (const [, hex, kid, kvnText, alg] of entries) {
      const info = parseKeyInformationTemplate(h(hex))[0];
      expect(info.kid).toBe(Number(kid));
      expect(info.kvn).toBe(kvnText.startsWith('0x') ? parseInt(kvnText, 16) : Number(kvnText.replace(',', '')));
      expect(info.components).toEqual([{ type: alg === 'AES' ? 0x88 : 0x80, length: 16 }]);
    }
  });

  it('round-trips basic and extended formats inside E0', () => {
    const list = [
      { kid: 1, kvn: 0x30, components: [{ type: 0x88, length: 16 }] },
      { kid: 2, kvn: 0x30, components: [{ type: 0x88, length: 32 }], extended: { usage: 0x14, access: 0x00 } },
      { kid: 3, kvn: 0x73, components: [{ type: 0xa1, length: 256 }, { type: 0xa0, length: 3 }], extended: {} },
    ];
    const raw = encodeKeyInformationTemplate(list);
    expect(toHex(raw.subarray(0, 8))).toBe('E020C00401308810');
    expect(parseKeyInformationTemplate(raw)).toEqual(list);
    expect(toHex(encodeKeyInformationData(list[1]))).toBe('0230FF88002001140100');
  });

  it('rejects truncated key information data', () => {
    expect(() => parseKeyInformationData(h('0130'))).toThrow(KeyError);
    expect(() => parseKeyInformationData(h('013088'))).toThrow(KeyError);
    expect(() => parseKeyInformationData(h('0130FF8800100102'))).toThrow(/key usage|key access/);
    expect(() => parseKeyInformationTemplate(h('E005C00401'))).toThrow(/key information template/);
  });
});
