import { describe, expect, it } from 'vitest';
import { encodeCommand, parseCommand, parseResponse, encodeResponse, type CommandApdu } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';
import { desKeyCheckValue } from './des.ts';
import { Scp02Card, type Scp02CardKeySet } from './scp02-card.ts';
import {
  deriveScp02SessionKey,
  scp02CardCryptogram,
  scp02HostCryptogram,
  scp02SessionKeys,
  type DesKeySet,
} from './scp02-crypto.ts';
import { decodeScp02PutKeyData, scp02PutKey, scp02PutKeyData } from './scp02-put-key.ts';
import { Scp02Host, parseScp02InitializeUpdateResponse, scp02HostFactory } from './scp02.ts';
import { openSecureChannel } from './open-secure-channel.ts';
import { SecureChannelError } from './secure-channel.ts';
import { pysimScp02 } from '../test/vectors/index.ts';

const P = pysimScp02();
// Hex (upper case) where the tests compare against toHex output.
const v = {
  kvn: P.kvn,
  hostChallenge: toHex(P.hostChallenge),
  initUpdate: toHex(P.initializeUpdate),
  iuResponse: toHex(P.initializeUpdateResponse),
  senc: toHex(P.sessionKeys.senc),
  cmac: toHex(P.sessionKeys.cmac),
  rmac: toHex(P.sessionKeys.rmac),
  sdek: toHex(P.sessionKeys.sdek),
  cardCryptogram: toHex(P.cardCryptogram),
  hostCryptogram: toHex(P.hostCryptogram),
  extAuth: toHex(P.externalAuthenticate),
  wrapped: P.wrapped.map((w) => ({ plain: toHex(w.plain), wire: toHex(w.wire) })),
  kcvs: [P.kcv.enc, P.kcv.mac, P.kcv.dek].map((k) => toHex(k)),
};
const keys: DesKeySet = P.keys;
const h = fromHex;

describe('pySim SCP02 vectors are read from test/vectors/pysim-scp02.txt', () => {
  it('found every value', () => {
    expect(v.kvn).toBe(0x20);
    expect(v.iuResponse).toHaveLength(56);
    expect(v.wrapped).toHaveLength(4);
    expect(v.kcvs).toHaveLength(3);
  });
});

describe('SCP02 primitives (pySim vectors)', () => {
  const counter = h('0001');

  it('key check values', () => {
    expect([keys.enc, keys.mac, keys.dek].map((k) => toHex(desKeyCheckValue(k)))).toEqual(v.kcvs);
  });

  it('session keys from the sequence counter', () => {
    const s = scp02SessionKeys(keys, counter);
    expect(toHex(s.senc)).toBe(v.senc);
    expect(toHex(s.smac)).toBe(v.cmac);
    expect(toHex(s.srmac)).toBe(v.rmac);
    expect(toHex(s.sdek)).toBe(v.sdek);
    expect(toHex(deriveScp02SessionKey(keys.enc, 0x0182, h('0002')))).not.toBe(v.senc);
  });

  it('card and host cryptograms', () => {
    const r = parseScp02InitializeUpdateResponse(h(v.iuResponse));
    expect(toHex(r.cardCryptogram)).toBe(v.cardCryptogram);
    expect(toHex(scp02CardCryptogram(h(v.senc), h(v.hostChallenge), r.sequenceCounter, r.cardChallenge))).toBe(v.cardCryptogram);
    expect(toHex(scp02HostCryptogram(h(v.senc), r.sequenceCounter, r.cardChallenge, h(v.hostChallenge)))).toBe(v.hostCryptogram);
  });

  it('parses the INITIALIZE UPDATE response fields', () => {
    const r = parseScp02InitializeUpdateResponse(h(v.iuResponse));
    expect(toHex(r.kdd)).toBe(toHex(P.response.kdd));
    expect(r.kvn).toBe(P.response.kvn);
    expect(r.kvn).toBe(0x70);
    expect(r.scpId).toBe(P.response.scpId);
    expect(toHex(r.sequenceCounter)).toBe(toHex(P.response.sequenceCounter));
    expect(toHex(r.cardChallenge)).toBe(toHex(P.response.cardChallenge));
    expect(toHex(r.cardCryptogram)).toBe(toHex(P.response.cardCryptogram));
    expect(() => parseScp02InitializeUpdateResponse(h(v.iuResponse).slice(1))).toThrow(SecureChannelError);
  });
});

function openHost(level = 0x01): Scp02Host {
  const host = new Scp02Host({ keys, level });
  host.initializeUpdate(v.kvn, h(v.hostChallenge));
  host.onInitializeUpdateResponse(h(v.iuResponse));
  return host;
}

describe('Scp02Host against the pySim session', () => {
  it('builds INITIALIZE UPDATE', () => {
    const host = new Scp02Host({ keys });
    expect(toHex(encodeCommand(host.initializeUpdate(v.kvn, h(v.hostChallenge))))).toBe(v.initUpdate);
  });

  it('verifies the card cryptogram and builds EXTERNAL AUTHENTICATE', () => {
    const host = openHost();
    expect(toHex(host.sessionKeys.smac)).toBe(v.cmac);
    expect(toHex(encodeCommand(host.externalAuthenticate()))).toBe(v.extAuth);
  });

  it('wraps the four commands of one session, each chained on the previous C-MAC', () => {
    const host = openHost();
    host.externalAuthenticate();
    for (const w of v.wrapped) expect(toHex(host.wrap(parseCommand(h(w.plain))))).toBe(w.wire);
  });

  it('a different order gives different MACs (the chaining is real)', () => {
    const host = openHost();
    host.externalAuthenticate();
    expect(toHex(host.wrap(parseCommand(h(v.wrapped[1].plain))))).not.toBe(v.wrapped[1].wire);
  });

  it('rejects the card cryptogram with the last byte changed, and never produces EXTERNAL AUTHENTICATE', () => {
    const host = new Scp02Host({ keys });
    host.initializeUpdate(v.kvn, h(v.hostChallenge));
    let err: unknown;
    try {
      host.onInitializeUpdateResponse(P.badInitializeUpdateResponse);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecureChannelError);
    expect((err as SecureChannelError).kind).toBe('card-cryptogram-mismatch');
    expect(() => host.externalAuthenticate()).toThrow(SecureChannelError);
    expect(() => host.wrap({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66 })).toThrow(/not open/);
  });

  it('rejects wrong static keys by the cryptogram alone', () => {
    const host = new Scp02Host({ keys: { ...keys, enc: h('404142434445464748494A4B4C4D4E4F') } });
    host.initializeUpdate(v.kvn, h(v.hostChallenge));
    expect(() => host.onInitializeUpdateResponse(h(v.iuResponse))).toThrow(/cryptogram mismatch/);
  });

  it('can insist on the requested key version (the pySim card answers 70 to 20)', () => {
    const host = new Scp02Host({ keys, requireKeyVersionMatch: true });
    host.initializeUpdate(v.kvn, h(v.hostChallenge));
    expect(() => host.onInitializeUpdateResponse(h(v.iuResponse))).toThrow(/key version 70/);
  });

  it('refuses another SCP identifier, a wrong challenge size and levels outside SCP02', () => {
    const host = new Scp02Host({ keys });
    host.initializeUpdate(v.kvn, h(v.hostChallenge));
    const scp03 = v.iuResponse.slice(0, 22) + '03' + v.iuResponse.slice(24);
    expect(() => host.onInitializeUpdateResponse(h(scp03))).toThrow(/not SCP02/);
    expect(() => host.initializeUpdate(0, h('0102'))).toThrow(/8 bytes/);
    expect(() => new Scp02Host({ keys, level: 0x33 })).toThrow(SecureChannelError);
    expect(() => new Scp02Host({ keys, level: 0x11, i: 0x15 })).toThrow(/R-MAC/);
    expect(() => new Scp02Host({ keys, i: 0x1a })).toThrow(/not supported/);
  });
});

/** A simulated security domain holding one key set; the counter persists through the callback. */
function makeCard(i = 0x15, counter = 1, challenge = '6B4524ABEE7C') {
  const store: Scp02CardKeySet = { kvn: 0x70, keys, sequenceCounter: counter };
  const card = new Scp02Card({
    findKeySet: (kvn) => (kvn === 0 || kvn === store.kvn || kvn === 0x20 ? store : undefined),
    kdd: new Uint8Array(10),
    aid: h('A000000151000000'),
    i,
    random: () => h(challenge),
    onSequenceCounter: (_kvn, value) => {
      store.sequenceCounter = value;
    },
  });
  return { card, store };
}

/** Plays the wire between host and card the way the simulator will: raw bytes in both directions. */
function exchange(card: Scp02Card, wire: Uint8Array): Uint8Array {
  const cmd = parseCommand(wire);
  if (cmd.ins === 0x50) return encodeResponse(card.handleInitializeUpdate(cmd));
  if (cmd.ins === 0x82) return encodeResponse(card.handleExternalAuthenticate(cmd));
  const u = card.unwrapCommand(cmd);
  if (!u.ok) return encodeResponse({ data: new Uint8Array(0), sw: u.sw });
  // An echo application: answers the clear command bytes as data, so both sides see what arrived.
  return encodeResponse(card.wrapResponse({ data: encodeCommand(u.command), sw: 0x9000 }));
}

function handshake(card: Scp02Card, level: number, i = 0x15): Scp02Host {
  const host = new Scp02Host({ keys, level, i });
  const iu = parseResponse(exchange(card, encodeCommand(host.initializeUpdate(0x20, h(v.hostChallenge)))));
  expect(iu.sw).toBe(0x9000);
  host.onInitializeUpdateResponse(iu.data);
  const ea = parseResponse(exchange(card, encodeCommand(host.externalAuthenticate())));
  expect(ea.sw).toBe(0x9000);
  return host;
}

describe('Scp02Card', () => {
  it('answers INITIALIZE UPDATE exactly as the pySim card did', () => {
    const { card } = makeCard();
    const r = card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    expect(r.sw).toBe(0x9000);
    expect(toHex(r.data)).toBe(v.iuResponse);
  });

  it('accepts the pySim EXTERNAL AUTHENTICATE and the four wrapped commands, and increments the counter', () => {
    const { card, store } = makeCard();
    card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    expect(card.handleExternalAuthenticate(parseCommand(h(v.extAuth))).sw).toBe(0x9000);
    expect(store.sequenceCounter).toBe(2);
    expect(card.level).toBe(0x01);
    for (const w of v.wrapped) {
      const u = card.unwrapCommand(parseCommand(h(w.wire)));
      expect(u.ok).toBe(true);
      if (u.ok) expect(toHex(encodeCommand(u.command))).toBe(w.plain);
    }
  });

  it('rejects a wrong host cryptogram with 6300 and does not count the session', () => {
    const { card, store } = makeCard();
    card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    const bad = h(v.extAuth);
    bad[5] ^= 0x01;
    expect(card.handleExternalAuthenticate(parseCommand(bad)).sw).toBe(0x6300);
    expect(store.sequenceCounter).toBe(1);
    expect(card.isOpen).toBe(false);
  });

  it('rejects a wrong EXTERNAL AUTHENTICATE MAC with 6982, and one without INITIALIZE UPDATE with 6985', () => {
    const { card } = makeCard();
    card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    const bad = h(v.extAuth);
    bad[bad.length - 1] ^= 0x01;
    expect(card.handleExternalAuthenticate(parseCommand(bad)).sw).toBe(0x6982);
    expect(card.handleExternalAuthenticate(parseCommand(h(v.extAuth))).sw).toBe(0x6985);
  });

  it('answers 6A88 for an unknown key version and 6A86 for an R-MAC level on i=15', () => {
    const { card } = makeCard();
    expect(card.handleInitializeUpdate({ cla: 0x80, ins: 0x50, p1: 0x33, p2: 0, data: h(v.hostChallenge) }).sw).toBe(0x6a88);
    card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    const ea = parseCommand(h(v.extAuth));
    expect(card.handleExternalAuthenticate({ ...ea, p1: 0x11 }).sw).toBe(0x6a86);
  });

  it('a tampered or replayed command aborts the session with 6982', () => {
    const { card } = makeCard();
    card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    card.handleExternalAuthenticate(parseCommand(h(v.extAuth)));
    expect(card.unwrapCommand(parseCommand(h(v.wrapped[0].wire))).ok).toBe(true);
    const replay = card.unwrapCommand(parseCommand(h(v.wrapped[0].wire)));
    expect(replay).toEqual({ ok: false, sw: 0x6982 });
    expect(card.isOpen).toBe(false);
    // Until a new session or selection, even plain commands are refused (E.1.6).
    expect(card.unwrapCommand({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66, le: 256 })).toEqual({ ok: false, sw: 0x6982 });
    card.reset();
    expect(card.unwrapCommand({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66, le: 256 }).ok).toBe(true);
  });

  it('a plain command in a C-MAC session is refused', () => {
    const { card } = makeCard();
    card.handleInitializeUpdate(parseCommand(h(v.initUpdate)));
    card.handleExternalAuthenticate(parseCommand(h(v.extAuth)));
    expect(card.unwrapCommand(parseCommand(h('80F22002')))).toEqual({ ok: false, sw: 0x6982 });
  });
});

const commands: CommandApdu[] = [
  { cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: h('4F00'), le: 256 },
  { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, le: 256 },
  { cla: 0x80, ins: 0xe4, p1: 0x00, p2: 0x80, data: h('4F05D07002CA44') },
  { cla: 0x80, ins: 0xf0, p1: 0x80, p2: 0x07 },
  { cla: 0x81, ins: 0xe2, p1: 0x90, p2: 0x00, data: new Uint8Array(200).map((_, k) => k) },
  { cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0x00, data: h('05D07002CA44 08D07002CA44900101 08D07002CA44900101 0100 02C900 00') },
];

describe('host <-> card round trips', () => {
  for (const [i, level] of [
    [0x15, 0x01],
    [0x15, 0x03],
    [0x55, 0x01],
    [0x55, 0x03],
    [0x35, 0x11],
    [0x35, 0x13],
    [0x75, 0x13],
  ] as const) {
    it(`i=${i.toString(16)} level ${level.toString(16).padStart(2, '0')}`, () => {
      const { card, store } = makeCard(i, 7, 'A1A2A3A4A5A6');
      const host = handshake(card, level, i);
      expect(store.sequenceCounter).toBe(8);
      for (const c of commands) {
        const wire = host.wrap(c);
        if (level & 0x02 && c.data) expect(toHex(wire)).not.toContain(toHex(c.data));
        const r = host.unwrap(exchange(card, wire));
        expect(r.sw).toBe(0x9000);
        // The echo shows the card recovered the exact clear command (R-MAC cases add Le '00' to case 1/3).
        const echoed = parseCommand(r.data);
        expect({ ...echoed, le: undefined }).toEqual({ ...c, le: undefined });
      }
    });
  }

  it('i=55 derives the card challenge from the AID and the C-MAC session key', () => {
    const a = makeCard(0x55, 3, '000000000000');
    const b = makeCard(0x55, 3, 'FFFFFFFFFFFF');
    const iu = { cla: 0x80, ins: 0x50, p1: 0x70, p2: 0, data: h(v.hostChallenge), le: 256 };
    const ra = a.card.handleInitializeUpdate(iu);
    expect(toHex(ra.data)).toBe(toHex(b.card.handleInitializeUpdate(iu).data));
    const c = makeCard(0x55, 4, '000000000000');
    expect(toHex(c.card.handleInitializeUpdate(iu).data.slice(14, 20))).not.toBe(toHex(ra.data.slice(14, 20)));
  });

  it('a tampered R-MAC is caught by the host', () => {
    const { card } = makeCard(0x35, 1);
    const host = handshake(card, 0x11, 0x35);
    const resp = exchange(card, host.wrap(commands[1]));
    resp[0] ^= 0x01;
    let err: unknown;
    try {
      host.unwrap(resp);
    } catch (e) {
      err = e;
    }
    expect((err as SecureChannelError).kind).toBe('bad-mac');
  });

  it('a tampered encrypted command is refused by the card', () => {
    const { card } = makeCard(0x15, 1);
    const host = handshake(card, 0x03, 0x15);
    const wire = host.wrap(commands[2]);
    wire[6] ^= 0x80;
    expect(parseResponse(exchange(card, wire)).sw).toBe(0x6982);
  });
});

describe('PUT KEY of a DES key set', () => {
  const newKeys: DesKeySet = {
    enc: h('404142434445464748494A4B4C4D4E4F'),
    mac: h('505152535455565758595A5B5C5D5E5F'),
    dek: h('606162636465666768696A6B6C6D6E6F'),
  };

  it('encrypts each key with the session DEK (3DES-ECB) and appends its KCV', () => {
    const sdek = h(v.sdek);
    const data = scp02PutKeyData(sdek, 0x21, newKeys);
    expect(data.length).toBe(1 + 3 * 22);
    expect(data[0]).toBe(0x21);
    expect(toHex(data.slice(1, 3))).toBe('8010');
    expect(toHex(data.slice(19, 23))).toBe('03' + toHex(desKeyCheckValue(newKeys.enc)));
    // 404142..4F has the well-known KCV 8BAF47.
    expect(toHex(desKeyCheckValue(newKeys.enc))).toBe('8BAF47');
    expect(toHex(data.slice(3, 19))).not.toBe(toHex(newKeys.enc));
    const cmd = scp02PutKey(sdek, 0x20, 0x21, newKeys);
    expect([cmd.cla, cmd.ins, cmd.p1, cmd.p2]).toEqual([0x80, 0xd8, 0x20, 0x81]);
  });

  it('the card decrypts it under the same session and checks the KCVs', () => {
    const { card } = makeCard(0x15, 1);
    const host = handshake(card, 0x03, 0x15);
    const u = card.unwrapCommand(parseCommand(host.wrap(scp02PutKey(host.sessionKeys.sdek, 0x70, 0x71, newKeys))));
    expect(u.ok).toBe(true);
    if (!u.ok) return;
    const decoded = decodeScp02PutKeyData(card.sessionKeys!.sdek, u.command.data!);
    expect(decoded).toEqual({ ok: true, kvn: 0x71, keys: newKeys });
    const wrongDek = decodeScp02PutKeyData(h(v.senc), u.command.data!);
    expect(wrongDek.ok).toBe(false);
    expect(decodeScp02PutKeyData(card.sessionKeys!.sdek, u.command.data!.slice(0, 30))).toMatchObject({ ok: false });
  });
});

describe('GlobalPlatformPro SCP02 vectors (TestPlaintextKeys: static keys 404142..4F, sequence counter 0000)', () => {
  const k = h('404142434445464748494A4B4C4D4E4F');
  const s = scp02SessionKeys({ enc: k, mac: k, dek: k }, h('0000'));

  it('session key check values', () => {
    expect(toHex(desKeyCheckValue(s.senc))).toBe('F2DCDD');
    expect(toHex(desKeyCheckValue(s.smac))).toBe('5FCC69');
    expect(toHex(desKeyCheckValue(s.sdek))).toBe('85272E');
    expect(toHex(desKeyCheckValue(s.srmac))).toBe('9F749A');
  });

  it('a key encrypted for PUT KEY with the session DEK', () => {
    const data = scp02PutKeyData(s.sdek, 0x01, { enc: k, mac: k, dek: k });
    expect(toHex(data.slice(3, 19))).toBe('EFBEE6C6D99D7B70BDE9D7E927F020AF');
  });
});

describe('openSecureChannel with scp02HostFactory against Scp02Card', () => {
  it('opens at level 03 over a transmit function and exchanges wrapped commands', async () => {
    const { card, store } = makeCard(0x55, 3);
    const transmit = async (wire: Uint8Array) => exchange(card, wire);
    const ch = await openSecureChannel(transmit, { keys: { kvn: 0x70, scp: '02', ...keys }, level: 0x03, hostFactory: scp02HostFactory(0x55) });
    expect(ch.scp).toBe('02');
    expect(store.sequenceCounter).toBe(4);
    const r = await ch.transmitSecure(commands[2]);
    expect(r.sw).toBe(0x9000);
    expect(toHex(r.data)).toBe(toHex(encodeCommand(commands[2])));
  });

  it('a wrong key set stops after INITIALIZE UPDATE: the card never sees EXTERNAL AUTHENTICATE', async () => {
    const { card, store } = makeCard(0x15, 3);
    const seen: number[] = [];
    const transmit = async (wire: Uint8Array) => {
      seen.push(wire[1]);
      return exchange(card, wire);
    };
    const wrong = { kvn: 0x70, scp: '02' as const, enc: h('404142434445464748494A4B4C4D4E4F'), mac: keys.mac, dek: keys.dek };
    await expect(openSecureChannel(transmit, { keys: wrong, level: 0x01, hostFactory: scp02HostFactory() })).rejects.toMatchObject({
      kind: 'card-cryptogram-mismatch',
    });
    expect(seen).toEqual([0x50]);
    expect(store.sequenceCounter).toBe(3);
  });
});
