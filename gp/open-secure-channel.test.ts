import { describe, expect, it } from 'vitest';
import { encodeResponse, parseCommand, type ResponseApdu } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';
import type { KeySet } from './keys.ts';
import { type HandshakeHost, openSecureChannel } from './open-secure-channel.ts';
import { Scp03Card } from './scp03-card.ts';
import { Scp03Host } from './scp03.ts';
import { SecureChannelError } from './secure-channel.ts';
import { CardError } from './sw.ts';

const h = fromHex;
const KEYS: KeySet = {
  kvn: 0x30,
  scp: '03',
  enc: h('404142434445464748494A4B4C4D4E4F'),
  mac: h('505152535455565758595A5B5C5D5E5F'),
  dek: h('606162636465666768696A6B6C6D6E6F'),
};
const ISD = h('A000000151000000');

/** A minimal card: the real Scp03Card in front of an application that answers GET DATA and echoes the rest. */
function simulatedCard(opts: { i?: number } = {}) {
  const stored = { kvn: 0x30, keys: { enc: KEYS.enc, mac: KEYS.mac, dek: KEYS.dek }, sequenceCounter: 0 };
  const sc = new Scp03Card({
    findKeySet: (kvn) => (kvn === 0 || kvn === 0x30 ? stored : undefined),
    kdd: h('11223344556677889900'),
    aid: ISD,
    i: opts.i ?? 0x70,
    onSequenceCounter: (_k, v) => {
      stored.sequenceCounter = v;
    },
  });
  const seen: number[] = [];
  const transmit = async (raw: Uint8Array): Promise<Uint8Array> => {
    const cmd = parseCommand(raw);
    seen.push(cmd.ins);
    let r: ResponseApdu;
    if (cmd.ins === 0x50) r = sc.handleInitializeUpdate(cmd);
    else if (cmd.ins === 0x82) r = sc.handleExternalAuthenticate(cmd);
    else {
      const u = sc.unwrapCommand(cmd);
      if (!u.ok) return encodeResponse({ data: new Uint8Array(0), sw: u.sw });
      const app: ResponseApdu = u.command.ins === 0xca ? { data: h('9F7F03010203'), sw: 0x9000 } : { data: u.command.data ?? new Uint8Array(0), sw: 0x9000 };
      r = sc.wrapResponse(app);
    }
    return encodeResponse(r);
  };
  return { sc, transmit, seen, stored };
}

describe('openSecureChannel over an in-memory Scp03Card', () => {
  for (const level of [0x01, 0x03, 0x13, 0x33]) {
    it(`opens at level ${level.toString(16)} and carries commands both ways`, async () => {
      const card = simulatedCard();
      const ch = await openSecureChannel(card.transmit, { keys: KEYS, level, sdAid: ISD });
      expect(card.seen).toEqual([0x50, 0x82]);
      expect(ch.scp).toBe('03');
      expect(ch.level).toBe(level);
      expect(card.sc.level).toBe(level);
      const r = await ch.transmitSecure({ cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x7f, le: 256 });
      expect(r).toEqual({ data: h('9F7F03010203'), sw: 0x9000 });
      const echo = await ch.transmitSecure({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data: h('0102030405060708090A0B0C0D0E0F1011') });
      expect(toHex(echo.data)).toBe('0102030405060708090A0B0C0D0E0F1011');
    });
  }

  it('S16 mode with a 16-byte host challenge', async () => {
    const card = simulatedCard({ i: 0x71 });
    const ch = await openSecureChannel(card.transmit, { keys: KEYS, level: 0x33, hostChallenge: new Uint8Array(16).fill(9) });
    expect((await ch.transmitSecure({ cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x7f, le: 256 })).sw).toBe(0x9000);
  });

  it('wrong keys: throws card-cryptogram-mismatch and never sends EXTERNAL AUTHENTICATE', async () => {
    const card = simulatedCard();
    const wrong: KeySet = { ...KEYS, mac: new Uint8Array(16) };
    await expect(openSecureChannel(card.transmit, { keys: wrong, level: 0x01 })).rejects.toMatchObject({ name: 'SecureChannelError', kind: 'card-cryptogram-mismatch' });
    expect(card.seen).toEqual([0x50]);
  });

  it('INITIALIZE UPDATE error: CardError naming the command, nothing else sent', async () => {
    const card = simulatedCard();
    const err = await openSecureChannel(card.transmit, { keys: { ...KEYS, kvn: 0x31 }, level: 0x01 }).catch((e) => e);
    expect(err).toBeInstanceOf(CardError);
    expect((err as CardError).sw).toBe(0x6a88);
    expect((err as CardError).command).toBe('INITIALIZE UPDATE');
    expect(card.seen).toEqual([0x50]);
  });

  it('EXTERNAL AUTHENTICATE rejected by the card: CardError, no retry', async () => {
    const card = simulatedCard({ i: 0x00 });
    // A host whose host cryptogram is wrong (as after a card-side key change mid-handshake): the card says 6300.
    const factory = (keys: KeySet): HandshakeHost => {
      const inner = new Scp03Host({ keys, level: 0x01 });
      return {
        scp: '03',
        level: 0x01,
        get sessionKeys() {
          return inner.sessionKeys;
        },
        wrap: (c) => inner.wrap(c),
        unwrap: (r) => inner.unwrap(r),
        initializeUpdate: (kvn, challenge) => inner.initializeUpdate(kvn, challenge),
        onInitializeUpdateResponse: (data) => inner.onInitializeUpdateResponse(data),
        externalAuthenticate: () => ({ ...inner.externalAuthenticate(), data: new Uint8Array(16) }),
      };
    };
    const err = await openSecureChannel(card.transmit, { keys: KEYS, level: 0x01, hostFactory: factory }).catch((e) => e);
    expect(err).toBeInstanceOf(CardError);
    expect((err as CardError).command).toBe('EXTERNAL AUTHENTICATE');
    expect((err as CardError).sw).toBe(0x6300);
    expect(card.seen).toEqual([0x50, 0x82]);
  });

  it('SCP02 key sets need a hostFactory', async () => {
    const card = simulatedCard();
    await expect(openSecureChannel(card.transmit, { keys: { ...KEYS, scp: '02' }, level: 0x01 })).rejects.toThrow(SecureChannelError);
    expect(card.seen).toEqual([]);
  });

  it('hostFactory receives keys, level and SD AID', async () => {
    const card = simulatedCard();
    const calls: unknown[] = [];
    await openSecureChannel(card.transmit, {
      keys: KEYS,
      level: 0x03,
      sdAid: ISD,
      hostFactory: (keys, level, ctx) => {
        calls.push([keys.kvn, level, toHex(ctx.sdAid!)]);
        return new Scp03Host({ keys, level, sdAid: ctx.sdAid });
      },
    });
    expect(calls).toEqual([[0x30, 0x03, 'A000000151000000']]);
  });
});
