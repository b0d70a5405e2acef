import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { desKeyCheckValue } from './des.ts';
import { DiversificationError, diversify, findKeyScheme } from './diversify.ts';
import { Scp02Card } from './scp02-card.ts';
import { Scp02Host } from './scp02.ts';
import { Scp03Card } from './scp03-card.ts';
import { Scp03Host } from './scp03.ts';
import { pysimScp02, pysimScp03Case } from '../test/vectors/index.ts';

const h = fromHex;
const KEY_16 = h('404142434445464748494A4B4C4D4E4F');
const KEY_24 = h('404142434445464748494A4B4C4D4E4F5051525354555657');
const KEY_32 = h('404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F');
const KDD = h('00010203040506070809');

function aesKcv(key: Uint8Array): string {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return toHex(new Uint8Array(c.update(new Uint8Array(16).fill(1)))).slice(0, 6);
}
const desKcvs = (k: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }) => [k.enc, k.mac, k.dek].map((x) => toHex(desKeyCheckValue(x)));
const aesKcvs = (k: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }) => [k.enc, k.mac, k.dek].map(aesKcv);

// Known answers from GlobalPlatformPro's TestPlaintextKeys (master 404142..., KDD 00010203040506070809), by KCV.
describe('diversify: GlobalPlatformPro known answers', () => {
  it('emv', () => {
    expect(desKcvs(diversify('emv', KEY_16, KDD))).toEqual(['C33013', '6F4CA6', 'BB8179']);
  });

  it('visa2', () => {
    expect(desKcvs(diversify('visa2', KEY_16, KDD))).toEqual(['2BE598', '58DA38', '3C328E']);
  });

  it('kdf3 with AES-128, AES-192 and AES-256 masters', () => {
    expect(aesKcvs(diversify('kdf3', KEY_16, KDD))).toEqual(['E79C05', 'D1BD77', '3FDE8C']);
    expect(aesKcvs(diversify('kdf3', KEY_24, KDD))).toEqual(['1DE8EA', '47C00C', 'C04D76']);
    expect(aesKcvs(diversify('kdf3', KEY_32, KDD))).toEqual(['2972D2', '036F94', '5D57B8']);
    expect(diversify('kdf3', KEY_24, KDD).enc.length).toBe(24);
  });

  it('kdf3 external vector: the full derived ENC key', () => {
    const k = diversify('kdf3', h('8C72C72CF908411653018807950D82FBAD947562F0828A0B10B8B9606ABF3BCD'), h('D9B1DE5D0362DEDCE4FB'));
    expect(toHex(k.enc)).toBe('9AAC5D0B3601F89438A0D9D0B6B256CFB47E6462DFA5228D3420C4AC7C224781');
  });

  it('emv reads KDD bytes 4..9 only, visa2 bytes 0-1 and 4-7 only', () => {
    const other = h('FFFF0203040506070809');
    expect(toHex(diversify('emv', KEY_16, other).enc)).toBe(toHex(diversify('emv', KEY_16, KDD).enc));
    expect(toHex(diversify('visa2', KEY_16, other).enc)).not.toBe(toHex(diversify('visa2', KEY_16, KDD).enc));
    const tail = h('000102030405060708FF');
    expect(toHex(diversify('visa2', KEY_16, tail).enc)).toBe(toHex(diversify('visa2', KEY_16, KDD).enc));
    expect(toHex(diversify('emv', KEY_16, tail).enc)).not.toBe(toHex(diversify('emv', KEY_16, KDD).enc));
  });

  it('names the bad argument', () => {
    const arg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as DiversificationError).argument;
      }
      return undefined;
    };
    expect(arg(() => diversify('emv', KEY_24, KDD))).toBe('master');
    expect(arg(() => diversify('kdf3', h('0102'), KDD))).toBe('master');
    expect(arg(() => diversify('visa2', KEY_16, h('0102')))).toBe('kdd');
    expect(arg(() => diversify('foo' as 'emv', KEY_16, KDD))).toBe('scheme');
  });
});

describe('findKeyScheme: offline, by the card cryptogram only', () => {
  const hostChallenge = h('0011223344556677');

  function scp02CardResponse(keys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }, kdd: Uint8Array): Uint8Array {
    const card = new Scp02Card({
      findKeySet: () => ({ kvn: 0x20, keys, sequenceCounter: 0x2a }),
      kdd,
      aid: h('A000000151000000'),
      random: () => h('0A0B0C0D0E0F'),
    });
    const r = card.handleInitializeUpdate(new Scp02Host({ keys }).initializeUpdate(0x20, hostChallenge));
    expect(r.sw).toBe(0x9000);
    return r.data;
  }

  it('finds emv and visa2 on SCP02 cards diversified that way', () => {
    const kdd = h('4D0123456789ABCDEF01');
    for (const scheme of ['emv', 'visa2'] as const) {
      const response = scp02CardResponse(diversify(scheme, KEY_16, kdd), kdd);
      const found = findKeyScheme(response, hostChallenge, KEY_16, ['none', 'emv', 'visa2', 'kdf3']);
      expect(found?.scheme).toBe(scheme);
      expect(toHex(found!.keys.enc)).toBe(toHex(diversify(scheme, KEY_16, kdd).enc));
    }
  });

  it('finds "none" when the master key is the card key (pySim SCP02 session: only ENC enters the cryptogram)', () => {
    const v = pysimScp02();
    expect(findKeyScheme(v.initializeUpdateResponse, v.hostChallenge, v.keys.enc)?.scheme).toBe('none');
    expect(findKeyScheme(v.initializeUpdateResponse, v.hostChallenge, v.keys.mac)).toBeUndefined();
  });

  it('finds "none" on the pySim SCP03 AES-128 session (only MAC enters the cryptogram)', () => {
    const c = pysimScp03Case('AES128_11');
    expect(findKeyScheme(c.initializeUpdateResponse, c.hostChallenge, c.keySet.mac)?.scheme).toBe('none');
    expect(findKeyScheme(c.initializeUpdateResponse, c.hostChallenge, c.keySet.enc)).toBeUndefined();
  });

  it('finds kdf3 on an SCP03 card (gp Scp03Card) whose keys were diversified that way', () => {
    const kdd = h('D9B1DE5D0362DEDCE4FB');
    for (const master of [KEY_16, KEY_32]) {
      const keys = diversify('kdf3', master, kdd);
      const card = new Scp03Card({ findKeySet: () => ({ kvn: 0x30, keys, sequenceCounter: 9 }), kdd, aid: h('A000000151000000') });
      const r = card.handleInitializeUpdate(new Scp03Host({ keys }).initializeUpdate(0x30, hostChallenge));
      expect(r.sw).toBe(0x9000);
      expect(findKeyScheme(r.data, hostChallenge, master)?.scheme).toBe('kdf3');
      expect(findKeyScheme(r.data, hostChallenge, master, ['none', 'emv', 'visa2'])).toBeUndefined();
    }
  });

  it('returns undefined for a wrong master key, a scheme left out, or an unknown SCP', () => {
    const kdd = h('4D0123456789ABCDEF01');
    const response = scp02CardResponse(diversify('emv', KEY_16, kdd), kdd);
    expect(findKeyScheme(response, hostChallenge, h('505152535455565758595A5B5C5D5E5F'))).toBeUndefined();
    expect(findKeyScheme(response, hostChallenge, KEY_16, ['visa2', 'kdf3'])).toBeUndefined();
    const other = response.slice();
    other[11] = 0x01;
    expect(findKeyScheme(other, hostChallenge, KEY_16)).toBeUndefined();
  });
});
