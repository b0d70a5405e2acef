import { describe, expect, it } from 'vitest';
import { encodeCommand, encodeResponse, parseCommand } from './apdu.ts';
import { concat, fromHex, toHex } from './bytes.ts';
import { aesCbcEncrypt } from './crypto.ts';
import { keyCheckValue } from './keys.ts';
import type { AesKeySet } from './scp03-crypto.ts';
import { Scp03Card } from './scp03-card.ts';
import { decodeScp03PutKeyData, putKeyResponseData, scp03KeyDataField, scp03PutKey, scp03PutKeyData, verifyScp03PutKeyResponse } from './scp03-put-key.ts';
import { Scp03Host } from './scp03.ts';
import { pysimScp03 } from '../test/vectors/index.ts';

const h = fromHex;
const V = pysimScp03();
const set128 = V.keySets.find((k) => k.name === 'AES128')!;
const AES128: AesKeySet = { enc: set128.enc, mac: set128.mac, dek: set128.dek };
const KCV = [V.aes128Kcv.enc, V.aes128Kcv.mac, V.aes128Kcv.dek].map((k) => toHex(k));

function keysOf(n: number, base: number): AesKeySet {
  const k = (o: number) => Uint8Array.from({ length: n }, (_, i) => (base + o + i) & 0xff);
  return { enc: k(0), mac: k(0x20), dek: k(0x40) };
}

describe('PUT KEY builder (AES key set)', () => {
  it('lays out KVN ‖ 88 10 enc(key) 03 KCV for each key, KCVs as in pysim-scp03.txt', () => {
    const dek = h('000102030405060708090a0b0c0d0e0f');
    const data = scp03PutKeyData(dek, 0x31, AES128);
    expect(data.length).toBe(1 + 3 * 22);
    expect(data[0]).toBe(0x31);
    for (let k = 0; k < 3; k++) {
      const f = data.subarray(1 + 22 * k, 23 + 22 * k);
      expect(toHex(f.subarray(0, 2))).toBe('8810');
      expect(f[18]).toBe(3);
      expect(toHex(f.subarray(19))).toBe(KCV[k]);
      // Key data = AES-CBC(DEK, ICV 0, key): independent check through node:crypto via aesCbcEncrypt's own vectors.
      const key = [AES128.enc, AES128.mac, AES128.dek][k];
      expect(toHex(f.subarray(2, 18))).toBe(toHex(aesCbcEncrypt(dek, new Uint8Array(16), key)));
    }
  });

  it('24-byte keys carry the clear length and 8 padding bytes; lengthPrefix forces it for 16 bytes', () => {
    const dek = new Uint8Array(24).fill(7);
    const f24 = scp03KeyDataField(dek, new Uint8Array(24).fill(1));
    expect(toHex(f24.subarray(0, 3))).toBe('882118');
    expect(f24.length).toBe(3 + 32 + 1 + 3);
    const f16 = scp03KeyDataField(new Uint8Array(16), new Uint8Array(16).fill(1), { lengthPrefix: true });
    expect(toHex(f16.subarray(0, 3))).toBe('881110');
  });

  it('command header: 80 D8 oldKvn 81, Le 00', () => {
    const cmd = scp03PutKey(AES128.dek, 0x30, 0x30, AES128);
    expect(toHex(encodeCommand(cmd).subarray(0, 5))).toBe('80D8308143');
    expect(() => scp03PutKey(AES128.dek, 0x80, 0x30, AES128)).toThrow(RangeError);
    expect(() => scp03PutKeyData(AES128.dek, 0, AES128)).toThrow(/01..7F/);
  });
});

describe('PUT KEY decoder (card side)', () => {
  for (const n of [16, 24, 32]) {
    for (const lengthPrefix of [false, true]) {
      it(`round trip: AES-${n * 8} keys under an AES-${n * 8} DEK, length prefix ${lengthPrefix}`, () => {
        const dek = keysOf(n, 0x90).dek;
        const keys = keysOf(n, 0x10);
        const r = decodeScp03PutKeyData(dek, scp03PutKeyData(dek, 0x32, keys, { lengthPrefix }));
        if (!r.ok) throw new Error(r.reason);
        expect(r.kvn).toBe(0x32);
        expect(r.keys.map((k) => k.id)).toEqual([1, 2, 3]);
        expect(toHex(r.keySet!.enc)).toBe(toHex(keys.enc));
        expect(toHex(r.keySet!.mac)).toBe(toHex(keys.mac));
        expect(toHex(r.keySet!.dek)).toBe(toHex(keys.dek));
        const response = putKeyResponseData(r.kvn, r.keys.map((k) => k.kcv));
        expect(verifyScp03PutKeyResponse(response, 0x32, keys)).toBe(true);
        expect(verifyScp03PutKeyResponse(response, 0x33, keys)).toBe(false);
      });
    }
  }

  it('a wrong check value is 6982 (GPCS Table 11-78), a wrong DEK shows up the same way', () => {
    const data = scp03PutKeyData(AES128.dek, 0x30, AES128);
    data[data.length - 1] ^= 1;
    expect(decodeScp03PutKeyData(AES128.dek, data)).toMatchObject({ ok: false, sw: 0x6982 });
    const good = scp03PutKeyData(AES128.dek, 0x30, AES128);
    expect(decodeScp03PutKeyData(AES128.enc, good)).toMatchObject({ ok: false, sw: 0x6982, reason: /key 1/ });
  });

  it('malformed data is 6A80 with the reason', () => {
    const good = scp03PutKeyData(AES128.dek, 0x30, AES128);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /empty/],
      [h('80'), /01..7F/],
      [good.subarray(0, 30), /truncated/],
      [concat(h('30'), h('8810'), new Uint8Array(16), h('00'), h('8810')), /truncated/],
      [concat(h('30 80 10'), new Uint8Array(16), h('00')), /not AES/],
      [concat(h('30 88 0F'), new Uint8Array(15), h('00')), /not whole AES blocks|AES key/],
      [h('30'), /no key/],
    ];
    for (const [data, reason] of cases) {
      const r = decodeScp03PutKeyData(AES128.dek, data);
      expect(r).toMatchObject({ ok: false, sw: 0x6a80 });
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
    expect(decodeScp03PutKeyData(AES128.dek, good, 0x01)).toMatchObject({ ok: false, reason: /P2/ });
  });

  it('accepts the extended format (FF 88 ..., key usage and access) and KCV length 0', () => {
    const enc = aesCbcEncrypt(AES128.dek, new Uint8Array(16), AES128.enc);
    const data = concat(h('30 FF88 10'), enc, h('03'), keyCheckValue(AES128.enc, 'aes'), h('01 14 01 00'));
    const r = decodeScp03PutKeyData(AES128.dek, data, 0x01);
    expect(r.ok && toHex(r.keys[0].value)).toBe(toHex(AES128.enc));
    const noKcv = concat(h('30 88 10'), enc, h('00'));
    expect(decodeScp03PutKeyData(AES128.dek, noKcv, 0x02)).toMatchObject({ ok: true, keys: [{ id: 2 }] });
  });

  it('through an SCP03 channel: the card decrypts with the static DEK of its session', () => {
    const keys = keysOf(16, 0x40);
    const stored = { kvn: 0x30, keys, sequenceCounter: 0 };
    const card = new Scp03Card({ findKeySet: () => stored, kdd: new Uint8Array(10), aid: h('A000000151000000'), i: 0x70 });
    const host = new Scp03Host({ keys, level: 0x33 });
    host.onInitializeUpdateResponse(card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x30, new Uint8Array(8))))).data);
    expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
    const next = keysOf(16, 0x70);
    const u = card.unwrapCommand(parseCommand(host.wrap(scp03PutKey(keys.dek, 0x30, 0x31, next))));
    if (!u.ok) throw new Error('rejected');
    // The simulator decrypts each component through the channel; here the decoder with the same DEK.
    const r = decodeScp03PutKeyData(keys.dek, u.command.data!, u.command.p2);
    if (!r.ok) throw new Error(r.reason);
    expect(toHex(card.decryptSensitive(scp03KeyDataField(keys.dek, next.mac).subarray(2, 18))!)).toBe(toHex(next.mac));
    const resp = host.unwrap(encodeResponse(card.wrapResponse({ data: putKeyResponseData(r.kvn, r.keys.map((k) => k.kcv)), sw: 0x9000 })));
    expect(verifyScp03PutKeyResponse(resp.data, 0x31, next)).toBe(true);
  });
});
