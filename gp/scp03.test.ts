import { describe, expect, it } from 'vitest';
import { type CommandApdu, encodeCommand, encodeResponse, parseCommand, parseResponse } from './apdu.ts';
import { concat, fromHex, toHex, uint } from './bytes.ts';
import { type AesKeySet, SCP03_LEVELS, scp03Kdf, scp03PseudoRandomChallenge } from './scp03-crypto.ts';
import { Scp03Card, type Scp03CardKeySet } from './scp03-card.ts';
import { parseScp03InitializeUpdateResponse, Scp03Host } from './scp03.ts';
import { SecureChannelError } from './secure-channel.ts';

import { pysimScp03, type Scp03VectorKeySet } from '../test/vectors/index.ts';

const h = fromHex;
const V = pysimScp03();
const PLAIN = V.plainCommands.map((c) => c.apdu);
const SD_AID = V.sdAid;
const CASES = V.cases;
const keysOf = (k: Scp03VectorKeySet): AesKeySet => ({ enc: k.enc, mac: k.mac, dek: k.dek });

describe('pysim-scp03.txt is read completely', () => {
  it('has 9 cases (AES-128/192/256 x levels 11, 03, 33) and 5 plain commands', () => {
    expect(CASES.map((c) => c.name)).toEqual(['AES128_11', 'AES128_03', 'AES128_33', 'AES192_11', 'AES192_03', 'AES192_33', 'AES256_11', 'AES256_03', 'AES256_33']);
    expect(PLAIN.length).toBe(5);
    expect(SD_AID.length).toBe(16);
  });
});

// ---- host side against every case ------------------------------------------------------------------------

const x = (b: Uint8Array) => toHex(b);

describe.each(CASES)('SCP03 host, pySim $name', (c) => {
  const ks = c.keySet;

  function openHost(): Scp03Host {
    const host = new Scp03Host({ keys: keysOf(ks), level: c.level, sdAid: SD_AID });
    expect(x(encodeCommand(host.initializeUpdate(ks.kvn, c.hostChallenge)))).toBe(x(c.initializeUpdate));
    const r = host.onInitializeUpdateResponse(c.initializeUpdateResponse);
    expect(x(r.sequenceCounter!)).toBe(x(c.sequenceCounter));
    return host;
  }

  it('session keys from the INITIALIZE UPDATE response', () => {
    const k = openHost().sessionKeys;
    expect([x(k.senc), x(k.smac), x(k.srmac)]).toEqual([x(c.senc), x(c.smac), x(c.srmac)]);
  });

  it('host cryptogram and EXTERNAL AUTHENTICATE', () => {
    const ea = encodeCommand(openHost().externalAuthenticate());
    expect(x(ea)).toBe(x(c.externalAuthenticate));
    expect(x(ea.subarray(5, 13))).toBe(x(c.hostCryptogram));
  });

  it('wraps the five commands in order and unwraps the GET EID response', () => {
    const host = openHost();
    host.externalAuthenticate();
    const eid = host.wrap(parseCommand(PLAIN[0]));
    expect(x(eid)).toBe(x(c.wrapped[0]));
    const r = host.unwrap(concat(c.eidResponse, h('9000')));
    expect(x(r.data)).toBe(x(V.eidResponsePlain));
    expect(r.sw).toBe(0x9000);
    for (let k = 1; k < 5; k++) expect(x(host.wrap(parseCommand(PLAIN[k])))).toBe(x(c.wrapped[k]));
  });
});

// ---- card side against every case -------------------------------------------------------------------------

describe.each(CASES)('SCP03 card, pySim $name', (c) => {
  it('answers INITIALIZE UPDATE byte for byte, accepts EXTERNAL AUTHENTICATE, unwraps all five and wraps the GET EID response', () => {
    const ks = c.keySet;
    const counters: number[] = [];
    const counter = c.sequenceCounter.reduce((n, b) => n * 256 + b, 0);
    const stored: Scp03CardKeySet = { kvn: ks.kvn, keys: keysOf(ks), sequenceCounter: counter - 1 };
    const card = new Scp03Card({
      findKeySet: (kvn) => (kvn === ks.kvn ? stored : undefined),
      kdd: new Uint8Array(10),
      aid: SD_AID,
      i: 0x70,
      random: () => {
        throw new Error('i=70 must not use the random source');
      },
      onSequenceCounter: (kvn, v) => counters.push(kvn, v),
    });
    const iu = card.handleInitializeUpdate(parseCommand(c.initializeUpdate));
    expect(iu.sw).toBe(0x9000);
    expect(x(iu.data)).toBe(x(c.initializeUpdateResponse));
    expect(counters).toEqual([ks.kvn, counter]);
    expect(card.handleExternalAuthenticate(parseCommand(c.externalAuthenticate)).sw).toBe(0x9000);
    expect(card.level).toBe(c.level);
    expect(card.kvn).toBe(ks.kvn);
    for (let k = 0; k < 5; k++) {
      const u = card.unwrapCommand(parseCommand(c.wrapped[k]));
      if (!u.ok) throw new Error(`command #${k + 1} rejected with ${u.sw.toString(16)}`);
      expect(x(encodeCommand(u.command))).toBe(x(PLAIN[k]));
      const response = card.wrapResponse({ data: k === 0 ? V.eidResponsePlain : new Uint8Array(0), sw: 0x9000 });
      if (k === 0) expect(x(response.data)).toBe(x(c.eidResponse));
    }
  });
});

// ---- primitives -----------------------------------------------------------------------------------------

describe('SCP03 primitives', () => {
  it('the pseudo-random challenge of every case is KDF(ENC, 02, counter ‖ ISD-R AID)', () => {
    for (const c of CASES) {
      const r = parseScp03InitializeUpdateResponse(c.initializeUpdateResponse);
      expect(x(r.cardChallenge)).toBe(x(c.cardChallenge));
      expect(x(scp03PseudoRandomChallenge(c.keySet.enc, r.sequenceCounter!, SD_AID, 8))).toBe(x(r.cardChallenge));
    }
  });

  it('KDF output length: two CMAC blocks for 192/256 bits, cut to L', () => {
    const k = new Uint8Array(16);
    expect(scp03Kdf(k, 4, new Uint8Array(16), 192).length).toBe(24);
    expect(toHex(scp03Kdf(k, 4, new Uint8Array(16), 256).subarray(0, 16))).not.toBe(toHex(scp03Kdf(k, 4, new Uint8Array(16), 128)));
    expect(() => scp03Kdf(k, 4, new Uint8Array(0), 12)).toThrow(RangeError);
  });

  it('parses S8 and S16 INITIALIZE UPDATE responses and rejects bad ones', () => {
    expect(() => parseScp03InitializeUpdateResponse(CASES[0].initializeUpdateResponse.subarray(0, 31))).toThrow(/must be 32 bytes/);
    const scp02 = CASES[0].initializeUpdateResponse.slice();
    scp02[11] = 0x02;
    expect(() => parseScp03InitializeUpdateResponse(scp02)).toThrow(/not SCP03/);
    const s16 = new Uint8Array(48);
    s16[11] = 0x03;
    s16[12] = 0x71;
    const r = parseScp03InitializeUpdateResponse(s16);
    expect(r.cardChallenge.length).toBe(16);
    expect(r.sequenceCounter!.length).toBe(3);
    expect(parseScp03InitializeUpdateResponse(new Uint8Array([...new Uint8Array(11), 3, 0x60, ...new Uint8Array(16)])).sequenceCounter).toBeUndefined();
  });
});

// ---- host <-> card round trips ------------------------------------------------------------------------------

const COMMANDS: CommandApdu[] = [
  { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, le: 256 },
  { cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: h('4F00'), le: 256 },
  { cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0x00, data: Uint8Array.from({ length: 200 }, (_, i) => i) },
  { cla: 0x80, ins: 0xf0, p1: 0x40, p2: 0x07 },
  { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: h('A0000001510000'), le: 256 },
  { cla: 0x81, ins: 0xe2, p1: 0x90, p2: 0x00, data: Uint8Array.from({ length: 16 }, (_, i) => i) },
  { cla: 0xc1, ins: 0xca, p1: 0x00, p2: 0xe0, le: 256 },
];

function responseFor(cmd: CommandApdu, n: number): { data: Uint8Array; sw: number } {
  if (n % 3 === 2) return { data: new Uint8Array(0), sw: 0x9000 };
  return { data: Uint8Array.from({ length: 10 + n * 7 }, (_, i) => (i * 13 + cmd.ins) & 0xff), sw: n === 3 ? 0x6310 : 0x9000 };
}

function makePair(keyLength: number, level: number, i: number, opts: { hostKeys?: AesKeySet; random?: (n: number) => Uint8Array } = {}) {
  const keys: AesKeySet = {
    enc: Uint8Array.from({ length: keyLength }, (_, k) => 0x40 + k),
    mac: Uint8Array.from({ length: keyLength }, (_, k) => 0x60 + k),
    dek: Uint8Array.from({ length: keyLength }, (_, k) => 0x80 + k),
  };
  const stored: Scp03CardKeySet = { kvn: 0x30, keys, sequenceCounter: 5 };
  const card = new Scp03Card({
    findKeySet: (kvn) => (kvn === 0 || kvn === 0x30 ? stored : undefined),
    kdd: h('00010203040506070809'),
    aid: h('A000000151000000'),
    i,
    random: opts.random,
    onSequenceCounter: (_kvn, v) => {
      stored.sequenceCounter = v;
    },
  });
  const host = new Scp03Host({ keys: opts.hostKeys ?? keys, level, sdAid: h('A000000151000000') });
  const s16 = (i & 0x01) !== 0;
  const transmitInit = () => {
    const iu = card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x30, new Uint8Array(s16 ? 16 : 8).fill(0x5a)))));
    return iu;
  };
  return { card, host, stored, keys, transmitInit };
}

/** One command through host.wrap -> card.unwrapCommand -> (card app) -> card.wrapResponse -> host.unwrap. */
function exchange(host: Scp03Host, card: Scp03Card, cmd: CommandApdu, n: number) {
  const wire = parseCommand(host.wrap(cmd));
  const u = card.unwrapCommand(wire);
  if (!u.ok) throw new Error(`card rejected command ${n}: ${u.sw.toString(16)}`);
  const resp = responseFor(u.command, n);
  const back = host.unwrap(encodeResponse(card.wrapResponse(resp)));
  return { clear: u.command, resp, back, wire };
}

describe('host <-> card round trips', () => {
  const iValues = [0x70, 0x60, 0x71, 0x61, 0x30, 0x00, 0x10, 0x01];
  for (const keyLength of [16, 24, 32]) {
    for (const i of iValues) {
      for (const level of SCP03_LEVELS) {
        const rmacOk = !(level & 0x10) || (i & 0x20) !== 0;
        const rencOk = !(level & 0x20) || (i & 0x40) !== 0;
        if (!rmacOk || !rencOk) continue;
        it(`AES-${keyLength * 8}, i=${i.toString(16).padStart(2, '0')}, level ${level.toString(16).padStart(2, '0')}`, () => {
          let seed = 1;
          const { card, host, transmitInit } = makePair(keyLength, level, i, { random: (n) => Uint8Array.from({ length: n }, () => (seed = (seed * 73 + 11) & 0xff)) });
          const iu = transmitInit();
          expect(iu.sw).toBe(0x9000);
          host.onInitializeUpdateResponse(iu.data);
          expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
          expect(card.level).toBe(level);
          COMMANDS.forEach((cmd, n) => {
            const { clear, resp, back, wire } = exchange(host, card, cmd, n);
            expect(toHex(encodeCommand(clear))).toBe(toHex(encodeCommand(cmd)));
            expect(back.sw).toBe(resp.sw);
            expect(toHex(back.data)).toBe(toHex(resp.data));
            if (level & 0x02 && cmd.data && cmd.data.length > 0) expect(toHex(wire.data!)).not.toContain(toHex(cmd.data));
          });
          const u = card.unwrapCommand(parseCommand(host.wrap({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0, data: h('4F05A000000001') })));
          expect(u.ok).toBe(true);
          const err = host.unwrap(encodeResponse(card.wrapResponse({ data: h('AABB'), sw: 0x6a88 })));
          expect(err.sw).toBe(0x6a88);
          // With R-MAC an error SW comes back bare; without it the card passes the response through.
          expect(err.data.length).toBe(level & 0x10 ? 0 : 2);
        });
      }
    }
  }

  it('logical channels: 81 -> 85 and C1 -> E1 on the wire; the card strips the indication back', () => {
    const { card, host, transmitInit } = makePair(16, 0x03, 0x70);
    host.onInitializeUpdateResponse(transmitInit().data);
    card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate())));
    for (const [cla, wireCla] of [
      [0x81, 0x85],
      [0xc1, 0xe1],
      [0x03, 0x07],
    ]) {
      const wire = host.wrap({ cla, ins: 0xca, p1: 0, p2: 0x66, le: 256 });
      expect(wire[0]).toBe(wireCla);
      const u = card.unwrapCommand(parseCommand(wire));
      expect(u.ok && u.command.cla).toBe(cla);
      card.wrapResponse({ data: new Uint8Array(0), sw: 0x9000 });
    }
  });

  it('the sequence counter increments per INITIALIZE UPDATE and tops out with 6985', () => {
    const { card, host, stored, transmitInit } = makePair(16, 0x01, 0x70);
    transmitInit();
    transmitInit();
    expect(stored.sequenceCounter).toBe(7);
    stored.sequenceCounter = 0xffffff;
    expect(card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x30, new Uint8Array(8))))).sw).toBe(0x6985);
  });
});

describe('negative cases', () => {
  it('wrong static keys: the host refuses with card-cryptogram-mismatch and will not build EXTERNAL AUTHENTICATE', () => {
    const wrong: AesKeySet = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    const { host, transmitInit } = makePair(16, 0x33, 0x70, { hostKeys: wrong });
    const iu = transmitInit();
    expect(() => host.onInitializeUpdateResponse(iu.data)).toThrow(SecureChannelError);
    try {
      host.onInitializeUpdateResponse(iu.data);
    } catch (e) {
      expect((e as SecureChannelError).kind).toBe('unsupported'); // no pending INITIALIZE UPDATE any more
    }
    expect(() => host.externalAuthenticate()).toThrow(/verified card cryptogram/);
    expect(() => host.wrap(COMMANDS[0])).toThrow(/not open/);
  });

  it('the mismatch kind is card-cryptogram-mismatch', () => {
    const c = CASES[0];
    const ks = c.keySet;
    const host = new Scp03Host({ keys: { ...keysOf(ks), mac: new Uint8Array(16) }, level: 0x11 });
    host.initializeUpdate(ks.kvn, c.hostChallenge);
    let kind: string | undefined;
    try {
      host.onInitializeUpdateResponse(c.initializeUpdateResponse);
    } catch (e) {
      kind = (e as SecureChannelError).kind;
    }
    expect(kind).toBe('card-cryptogram-mismatch');
  });

  it('a wrong SD AID with pseudo-random challenges is refused before EXTERNAL AUTHENTICATE', () => {
    const c = CASES[0];
    const ks = c.keySet;
    const host = new Scp03Host({ keys: keysOf(ks), level: 0x11, sdAid: h('A000000151000000') });
    host.initializeUpdate(ks.kvn, c.hostChallenge);
    expect(() => host.onInitializeUpdateResponse(c.initializeUpdateResponse)).toThrow(/pseudo-random card challenge/);
    expect(() => host.externalAuthenticate()).toThrow(SecureChannelError);
  });

  it('the card answers 6300 to a wrong host cryptogram and 6982 to a wrong MAC', () => {
    for (const [offset, expected] of [
      [5, 0x6300],
      [20, 0x6982],
    ] as const) {
      const { card, host, transmitInit } = makePair(16, 0x01, 0x70);
      host.onInitializeUpdateResponse(transmitInit().data);
      const ea = encodeCommand(host.externalAuthenticate());
      ea[offset] ^= 0x01;
      expect(card.handleExternalAuthenticate(parseCommand(ea)).sw).toBe(expected);
      expect(card.isOpen).toBe(false);
    }
  });

  it('EXTERNAL AUTHENTICATE without INITIALIZE UPDATE, with a level i does not allow, with a bad length', () => {
    const { card, host, transmitInit } = makePair(16, 0x01, 0x00);
    expect(card.handleExternalAuthenticate({ cla: 0x84, ins: 0x82, p1: 1, p2: 0, data: new Uint8Array(16) }).sw).toBe(0x6985);
    host.onInitializeUpdateResponse(transmitInit().data);
    const ea = host.externalAuthenticate();
    expect(card.handleExternalAuthenticate({ ...ea, p1: 0x11 }).sw).toBe(0x6a86); // i=00: no R-MAC
    expect(card.handleExternalAuthenticate(ea).sw).toBe(0x6985); // the failed attempt consumed the pending session
    transmitInit();
    expect(card.handleExternalAuthenticate({ ...ea, data: ea.data!.subarray(0, 12) }).sw).toBe(0x6700);
  });

  it('INITIALIZE UPDATE errors: unknown KVN 6A88, wrong challenge length 6700, P2 6A86', () => {
    const { card } = makePair(16, 0x01, 0x70);
    expect(card.handleInitializeUpdate({ cla: 0x80, ins: 0x50, p1: 0x31, p2: 0, data: new Uint8Array(8) }).sw).toBe(0x6a88);
    expect(card.handleInitializeUpdate({ cla: 0x80, ins: 0x50, p1: 0x30, p2: 0, data: new Uint8Array(16) }).sw).toBe(0x6700);
    expect(card.handleInitializeUpdate({ cla: 0x80, ins: 0x50, p1: 0x30, p2: 1, data: new Uint8Array(8) }).sw).toBe(0x6a86);
  });

  function openPair(level: number) {
    const pair = makePair(16, level, 0x70);
    pair.host.onInitializeUpdateResponse(pair.transmitInit().data);
    expect(pair.card.handleExternalAuthenticate(parseCommand(encodeCommand(pair.host.externalAuthenticate()))).sw).toBe(0x9000);
    return pair;
  }

  it('a tampered C-MAC aborts the session: 6982 now and for every later command', () => {
    const { card, host } = openPair(0x03);
    const wire = host.wrap(COMMANDS[1]);
    wire[wire.length - 2] ^= 0x80;
    expect(card.unwrapCommand(parseCommand(wire))).toEqual({ ok: false, sw: 0x6982 });
    expect(card.isOpen).toBe(false);
    expect(card.unwrapCommand(parseCommand(host.wrap(COMMANDS[0])))).toEqual({ ok: false, sw: 0x6982 });
    expect(card.unwrapCommand(COMMANDS[0])).toEqual({ ok: false, sw: 0x6982 });
    card.reset();
    expect(card.unwrapCommand(COMMANDS[0])).toEqual({ ok: true, command: COMMANDS[0] });
  });

  it('tampered ciphertext and a plain command inside a C-MAC session are rejected', () => {
    const a = openPair(0x03);
    const wire = a.host.wrap(COMMANDS[2]);
    wire[6] ^= 1;
    expect(a.card.unwrapCommand(parseCommand(wire)).ok).toBe(false);
    const b = openPair(0x01);
    expect(b.card.unwrapCommand(COMMANDS[0])).toEqual({ ok: false, sw: 0x6982 });
  });

  it('a tampered R-MAC or R-ENC response makes the host throw bad-mac', () => {
    const { card, host } = openPair(0x33);
    const u = card.unwrapCommand(parseCommand(host.wrap(COMMANDS[0])));
    expect(u.ok).toBe(true);
    const r = encodeResponse(card.wrapResponse({ data: h('0102030405'), sw: 0x9000 }));
    r[0] ^= 1;
    expect(() => host.unwrap(r)).toThrow(expect.objectContaining({ kind: 'bad-mac' }));
  });

  it('a replayed command (old MAC chain) is refused', () => {
    const { card, host } = openPair(0x01);
    const first = host.wrap(COMMANDS[0]);
    expect(card.unwrapCommand(parseCommand(first)).ok).toBe(true);
    card.wrapResponse({ data: new Uint8Array(0), sw: 0x9000 });
    expect(card.unwrapCommand(parseCommand(first)).ok).toBe(false);
  });

  it('host refuses levels outside Table 7-6, levels the card i cannot serve, and bad key lengths', () => {
    expect(() => new Scp03Host({ keys: keysOf(V.keySets.find((k) => k.name === 'AES128')!), level: 0x02 })).toThrow(/not defined/);
    expect(() => new Scp03Host({ keys: { ...keysOf(V.keySets.find((k) => k.name === 'AES128')!), enc: new Uint8Array(20) } })).toThrow(/ENC key/);
    const { host, transmitInit } = makePair(16, 0x33, 0x30);
    expect(() => host.onInitializeUpdateResponse(transmitInit().data)).toThrow(/R-ENCRYPTION/);
  });

  it('host refuses an S16 answer to an S8 challenge', () => {
    const { card, host } = makePair(16, 0x01, 0x71);
    const iu = card.handleInitializeUpdate({ cla: 0x80, ins: 0x50, p1: 0x30, p2: 0, data: new Uint8Array(16) });
    host.initializeUpdate(0x30, new Uint8Array(8));
    expect(() => host.onInitializeUpdateResponse(iu.data)).toThrow(/S16 mode/);
  });

  it('error status words come back bare with R-MAC on; host passes them through', () => {
    const { card, host } = openPair(0x11);
    card.unwrapCommand(parseCommand(host.wrap(COMMANDS[0])));
    const r = card.wrapResponse({ data: h('AABB'), sw: 0x6a88 });
    expect(r.data.length).toBe(0);
    expect(host.unwrap(encodeResponse(r))).toEqual({ data: new Uint8Array(0), sw: 0x6a88 });
    expect(() => host.unwrap(h('AABB6A88'))).toThrow(/error SW/);
  });

  it('card-side sensitive data decryption uses the static DEK', () => {
    const { card, host, keys } = openPair(0x01);
    const block = host.encryptSensitive(keys.enc);
    expect(toHex(card.decryptSensitive(block)!)).toBe(toHex(keys.enc));
    expect(card.decryptSensitive(new Uint8Array(15))).toBeUndefined();
    expect(toHex(uint(1, 3))).toBe('000001');
  });
});
