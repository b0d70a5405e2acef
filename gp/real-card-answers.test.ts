/**
 * Secure-channel answers as real cards send them, produced with the toolkit's own card side (Scp03Card,
 * Scp02Card) told to pad further than the shortest padding, or built from the exported primitives where a
 * card would send something broken.
 */
import { describe, expect, it } from 'vitest';
import { type CommandApdu, encodeCommand, encodeResponse, parseCommand } from './apdu.ts';
import { concat, fromHex, toHex } from './bytes.ts';
import { aesCbcEncrypt } from './crypto.ts';
import { Scp02Card, type Scp02CardKeySet } from './scp02-card.ts';
import { Scp02Host } from './scp02.ts';
import { keyCheckValue } from './keys.ts';
import { type AesKeySet, scp03EncryptSensitive, scp03ResponseIcv, scp03ResponseMac } from './scp03-crypto.ts';
import { decodeScp03PutKeyData } from './scp03-put-key.ts';
import { Scp03Card, type Scp03CardKeySet } from './scp03-card.ts';
import { Scp03Host } from './scp03.ts';
import { SecureChannelError } from './secure-channel.ts';

const h = fromHex;
const AID = h('A000000151000000');
const KDD = h('00010203040506070809');
/** 11 bytes of response data, as in the real card's answer (a GET DATA of a short object). */
const ELEVEN = h('BF3E085A06898821199000');
const GET_DATA: CommandApdu = { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, le: 256 };

const AES: AesKeySet = {
  enc: h('404142434445464748494A4B4C4D4E4F'),
  mac: h('505152535455565758595A5B5C5D5E5F'),
  dek: h('606162636465666768696A6B6C6D6E6F'),
};

function scp03Pair(opts: { level?: number; i?: number; responsePaddingBlocks?: number; commandPaddingBlocks?: number } = {}) {
  const i = opts.i ?? 0x70;
  const stored: Scp03CardKeySet = { kvn: 0x30, keys: AES, sequenceCounter: 1 };
  const card = new Scp03Card({
    findKeySet: (kvn) => (kvn === 0 || kvn === 0x30 ? stored : undefined),
    kdd: KDD,
    aid: AID,
    i,
    random: (n) => new Uint8Array(n).fill(0x11),
    responsePaddingBlocks: opts.responsePaddingBlocks,
  });
  const host = new Scp03Host({ keys: AES, level: opts.level ?? 0x33, sdAid: AID, commandPaddingBlocks: opts.commandPaddingBlocks });
  const hostChallenge = new Uint8Array(i & 0x01 ? 16 : 8).fill(0x5a);
  const iu = card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x30, hostChallenge))));
  host.onInitializeUpdateResponse(iu.data);
  const ea = card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate())));
  expect(ea.sw).toBe(0x9000);
  return { card, host };
}

/**
 * A response whose plaintext the test chooses, with a valid R-MAC. S16 mode: the wire carries the whole 16-byte
 * C-MAC, which is the MCV the R-MAC chains on. Plaintext that is not whole blocks is sent as it is.
 */
function unwrapCrafted(plainPadded: Uint8Array) {
  const { card, host } = scp03Pair({ i: 0x71 });
  const wire = host.wrap(GET_DATA);
  expect(card.unwrapCommand(parseCommand(wire)).ok).toBe(true);
  const mcv = wire.subarray(wire.length - 1 - 16, wire.length - 1);
  const senc = host.sessionKeys.senc;
  const cipher = plainPadded.length % 16 === 0 ? aesCbcEncrypt(senc, scp03ResponseIcv(senc, 1), plainPadded) : plainPadded;
  const rmac = scp03ResponseMac(host.sessionKeys.srmac, mcv, cipher, 0x9000, 16);
  return host.unwrap(concat(cipher, rmac, h('9000')));
}

describe('SCP03 R-ENCRYPTION padded over two blocks (the answer that failed a real-card run)', () => {
  it('Scp03Card with responsePaddingBlocks 2 sends 32 bytes for 11; Scp03Host.unwrap gives the 11 back', () => {
    const { card, host } = scp03Pair({ responsePaddingBlocks: 2 });
    const u = card.unwrapCommand(parseCommand(host.wrap(GET_DATA)));
    expect(u.ok).toBe(true);
    const wire = card.wrapResponse({ data: ELEVEN, sw: 0x9000 });
    // 32 bytes of ciphertext ‖ 8-byte R-MAC: the padding really spans two blocks.
    expect(wire.data.length).toBe(32 + 8);
    const plain = host.unwrap(encodeResponse(wire));
    expect(toHex(plain.data)).toBe(toHex(ELEVEN));
    expect(plain.sw).toBe(0x9000);
  });

  it('the default card still pads to one block (16 bytes for 11), and a warning SW keeps its data', () => {
    const { card, host } = scp03Pair();
    card.unwrapCommand(parseCommand(host.wrap(GET_DATA)));
    const wire = card.wrapResponse({ data: ELEVEN, sw: 0x6310 });
    expect(wire.data.length).toBe(16 + 8);
    const plain = host.unwrap(encodeResponse(wire));
    expect(toHex(plain.data)).toBe(toHex(ELEVEN));
    expect(plain.sw).toBe(0x6310);
  });

  it('every padding length from one to four blocks, over a session of several commands', () => {
    for (let blocks = 1; blocks <= 4; blocks++) {
      const { card, host } = scp03Pair({ responsePaddingBlocks: blocks });
      for (let n = 0; n < 3; n++) {
        card.unwrapCommand(parseCommand(host.wrap(GET_DATA)));
        const data = ELEVEN.subarray(0, 11 - n * 4);
        const wire = card.wrapResponse({ data, sw: 0x9000 });
        expect(wire.data.length).toBe(Math.max(blocks, 1) * 16 + 8);
        expect(toHex(host.unwrap(encodeResponse(wire)).data)).toBe(toHex(data));
      }
    }
  });

  describe('what is not padding is still refused, with the reason', () => {
    function answerWithPlain(plainPadded: Uint8Array): Error {
      try {
        unwrapCrafted(plainPadded);
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    }

    it('an empty answer a card encrypted anyway, as one block of padding, unwraps to no data', () => {
      expect(unwrapCrafted(concat(h('80'), new Uint8Array(15)))).toEqual({ data: new Uint8Array(0), sw: 0x9000 });
    });

    it("no '80' at all", () => {
      const e = answerWithPlain(concat(ELEVEN, new Uint8Array(21)));
      expect(e).toBeInstanceOf(SecureChannelError);
      expect((e as SecureChannelError).kind).toBe('bad-padding');
      expect(e.message).toMatch(/R-ENCRYPTION: 32 bytes .*'90' at offset 9 before 22 trailing '00'/);
    });

    it("a non-zero byte after the '80'", () => {
      const bad = concat(ELEVEN, h('80'), new Uint8Array(20));
      bad[25] = 0x01;
      const e = answerWithPlain(bad);
      expect((e as SecureChannelError).kind).toBe('bad-padding');
      expect(e.message).toMatch(/'01' at offset 25 before 6 trailing '00': padding is '80' followed only by '00'/);
    });

    it('ciphertext that is not whole blocks', () => {
      const e = answerWithPlain(new Uint8Array(20).fill(0x33));
      expect((e as SecureChannelError).kind).toBe('bad-padding');
      expect(e.message).toMatch(/R-ENCRYPTION: 20 bytes .*20 bytes are not a whole number of 16-byte cipher blocks/);
    });
  });
});

describe('C-DECRYPTION on the simulated card accepts any method-2 padding a host sends', () => {
  const STORE: CommandApdu = { cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data: h('5F5003414243') };

  it('SCP03: a command padded over three blocks decrypts to the same clear command', () => {
    for (const blocks of [0, 1, 2, 3]) {
      const { card, host } = scp03Pair({ level: 0x03, commandPaddingBlocks: blocks });
      const wire = parseCommand(host.wrap(STORE));
      expect(wire.data!.length).toBe(Math.max(blocks, 1) * 16 + 8);
      const u = card.unwrapCommand(wire);
      expect(u.ok && toHex(encodeCommand(u.command))).toBe(toHex(encodeCommand(STORE)));
    }
  });

  it('SCP02: a command padded over three DES blocks decrypts to the same clear command', () => {
    const des = { enc: h('404142434445464748494A4B4C4D4E4F'), mac: h('404142434445464748494A4B4C4D4E4F'), dek: h('404142434445464748494A4B4C4D4E4F') };
    for (const blocks of [0, 1, 3]) {
      const stored: Scp02CardKeySet = { kvn: 0x20, keys: des, sequenceCounter: 7 };
      const card = new Scp02Card({ findKeySet: () => stored, kdd: KDD, aid: AID, i: 0x55, random: (n) => new Uint8Array(n).fill(0x22) });
      const host = new Scp02Host({ keys: des, level: 0x03, i: 0x55, commandPaddingBlocks: blocks });
      const iu = card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x20, new Uint8Array(8).fill(0x5a)))));
      host.onInitializeUpdateResponse(iu.data);
      expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
      const wire = parseCommand(host.wrap(STORE));
      expect(wire.data!.length).toBe(Math.max(blocks, 1) * 8 + 8);
      const u = card.unwrapCommand(wire);
      expect(u.ok && toHex(encodeCommand(u.command))).toBe(toHex(encodeCommand(STORE)));
    }
  });
});

describe('SCP02 R-MAC: a warning with data is a completed command', () => {
  it("'6310' with data comes back verified and whole; an error SW comes back bare", () => {
    const des = { enc: h('404142434445464748494A4B4C4D4E4F'), mac: h('505152535455565758595A5B5C5D5E5F'), dek: h('606162636465666768696A6B6C6D6E6F') };
    const stored: Scp02CardKeySet = { kvn: 0x20, keys: des, sequenceCounter: 3 };
    const card = new Scp02Card({ findKeySet: () => stored, kdd: KDD, aid: AID, i: 0x75 });
    const host = new Scp02Host({ keys: des, level: 0x13, i: 0x75 });
    host.onInitializeUpdateResponse(card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x20, new Uint8Array(8).fill(0x5a))))).data);
    expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
    const page = h('E3104F08A0000001510000009F700107C5019E');
    expect(card.unwrapCommand(parseCommand(host.wrap({ cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: h('4F00'), le: 256 }))).ok).toBe(true);
    const wire = card.wrapResponse({ data: page, sw: 0x6310 });
    expect(wire.data.length).toBe(page.length + 8);
    const r = host.unwrap(encodeResponse(wire));
    expect(r.sw).toBe(0x6310);
    expect(toHex(r.data)).toBe(toHex(page));
    expect(card.unwrapCommand(parseCommand(host.wrap({ cla: 0x80, ins: 0xe4, p1: 0x00, p2: 0x00, data: h('4F05A000000001') }))).ok).toBe(true);
    expect(host.unwrap(encodeResponse(card.wrapResponse({ data: new Uint8Array(0), sw: 0x6a88 })))).toEqual({ data: new Uint8Array(0), sw: 0x6a88 });
  });
});

describe('PUT KEY sensitive data with long-form lengths (card side)', () => {
  function component(key: Uint8Array, lengths: 'short' | 'long'): Uint8Array {
    const enc = scp03EncryptSensitive(AES.dek, key);
    const clear = lengths === 'long' ? h('8110') : h('10');
    const block = concat(clear, enc);
    const blockLength = lengths === 'long' ? concat(h('81'), Uint8Array.of(block.length)) : Uint8Array.of(block.length);
    return concat(h('88'), blockLength, block, h('03'), keyCheckValue(key, 'aes'));
  }

  it("reads '81 12' component and '81 10' clear lengths like their short forms; refuses a clear length past the key", () => {
    const next = [h('000102030405060708090A0B0C0D0E0F'), h('101112131415161718191A1B1C1D1E1F'), h('202122232425262728292A2B2C2D2E2F')];
    for (const lengths of ['short', 'long'] as const) {
      const r = decodeScp03PutKeyData(AES.dek, concat(h('31'), ...next.map((k) => component(k, lengths))), 0x81);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.keySet && [r.keySet.enc, r.keySet.mac, r.keySet.dek].map((k) => toHex(k))).toEqual(next.map((k) => toHex(k)));
    }
    const bad = component(next[0], 'long');
    bad[4] = 0x20; // clear length 32 for a 16-byte decrypted component
    expect(decodeScp03PutKeyData(AES.dek, concat(h('31'), bad), 0x01)).toMatchObject({ ok: false, sw: 0x6a80, reason: expect.stringMatching(/clear length longer than the decrypted component/) });
  });
});

