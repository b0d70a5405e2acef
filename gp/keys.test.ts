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
import { pysimGpCommands, pysimScp02, pysimScp03 } from '../test/vectors/index.ts';

const h = fromHex;
const gpVectors = pysimGpCommands();
const scp03Vectors = pysimScp03();
const scp02Vectors = pysimScp02();

describe('key check values', () => {
  it('AES: pySim SCP03_KCV_Test vectors (section 1 of the TLV vector file)', () => {
    expect(gpVectors.aesKcvs.length).toBe(3);
    for (const { key, kcv } of gpVectors.aesKcvs) {
      expect(toHex(keyCheckValue(key, 'aes'))).toBe(toHex(kcv));
      expect(toHex(keyCheckValue(key, KeyType.AES))).toBe(toHex(kcv));
    }
  });

  it('AES: the AES128 key set of pysim-scp03.txt', () => {
    const set = scp03Vectors.keySets.find((k) => k.name === 'AES128')!;
    const kcv = keySetCheckValues({ kvn: set.kvn, scp: '03', enc: set.enc, mac: set.mac, dek: set.dek });
    const expected = scp03Vectors.aes128Kcv;
    expect([toHex(kcv.enc), toHex(kcv.mac), toHex(kcv.dek)]).toEqual([toHex(expected.enc), toHex(expected.mac), toHex(expected.dek)]);
  });

  it('DES: the SCP02 test keys of pysim-scp02.txt', () => {
    const { keys, kcv } = scp02Vectors;
    for (const k of ['enc', 'mac', 'dek'] as const) expect(toHex(keyCheckValue(keys[k], 'des'))).toBe(toHex(kcv[k]));
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
    expect(gpVectors.keyInformation.length).toBe(12);
    for (const e of gpVectors.keyInformation) {
      const info = parseKeyInformationTemplate(e.tlv)[0];
      expect(info.kid).toBe(e.kid);
      expect(info.kvn).toBe(e.kvn);
      expect(info.components).toEqual([{ type: e.algorithm === 'AES' ? 0x88 : 0x80, length: e.length }]);
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
