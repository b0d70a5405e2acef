import { describe, expect, it } from 'vitest';
import { encodeCommand, fromHex, parseResponse, parseTlv, toHex, scp02PutKey, Scp02Host } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import type { SimulatedSe } from './se.ts';
import { cmd } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture, keysFor } from './test-fixtures.ts';

const k = (h: string) => fromHex(h);
const desKeys = (s: KeySetSpec) => ({ enc: k(s.enc), mac: k(s.mac), dek: k(s.dek) });

/** INITIALIZE UPDATE with the right keys, then an EXTERNAL AUTHENTICATE with a corrupted host cryptogram. */
function failedAuthentication(se: SimulatedSe, keys: KeySetSpec): number {
  const host = new Scp02Host({ keys: desKeys(keys), i: parseInt(keys.i!, 16) });
  const iu = parseResponse(se.process(encodeCommand(host.initializeUpdate(0, fromHex('0011223344556677')))));
  if (iu.sw !== 0x9000) return iu.sw;
  host.onInitializeUpdateResponse(iu.data);
  const ea = host.externalAuthenticate();
  ea.data![0] ^= 0xff;
  return parseResponse(se.process(encodeCommand(ea))).sw;
}

describe('secure channel per SD', () => {
  it.each([
    [0x01, '55'],
    [0x03, '55'],
    [0x13, '75'],
  ])('opens at level %s (i=%s) and carries commands both ways', (level, i) => {
    const keys = { ...keysFor('02'), i };
    const { se, t } = fixture('02', { isdKeys: keys });
    t.select(ISD);
    expect(t.open(keys, level)).toBe(0x9000);
    expect(se.inspect().session.secureChannel).toMatchObject({ sd: ISD, scp: '02', level, kvn: 0x20 });
    expect(parseTlv(t.ok(cmd.getStatus(0x80)))[0].tag).toBe(0xe3);
    t.ok(cmd.storeData(0x90, 0, '5F50024142'));
    expect(se.inspect().securityDomains[0].dataObjects['5F50']).toBe('4142');
  });

  it('belongs to the SD that opened it: another SELECT, a reset or power off ends it', () => {
    const { se, t, isdKeys } = fixture('02');
    t.select(ISD);
    t.open(isdKeys);
    t.select(CENTRAL);
    expect(se.inspect().session.secureChannel).toBeUndefined();
    expect(t.send(cmd.getStatus(0x40)).sw).toBe(0x6982);
    // The ISD keys do not open the central SD.
    expect(() => t.open(isdKeys)).toThrow(/cryptogram/);
    t.select(ISD);
    t.open(isdKeys);
    se.powerOff();
    se.powerOn();
    expect(se.inspect().session.secureChannel).toBeUndefined();
  });

  it('keeps the SCP02 sequence counter across sessions and snapshots', () => {
    const { se, t, isdKeys } = fixture('02');
    for (let n = 0; n < 3; n++) {
      t.select(ISD);
      t.open(isdKeys);
    }
    expect(se.inspect().securityDomains[0].keySets[0].sequenceCounter).toBe(3);
    expect(toHex(t.ok(cmd.getData(0xc1)))).toBe('C1020003');
  });
});

describe('failed authentication budget', () => {
  it('counts failed EXTERNAL AUTHENTICATEs, resets on success, locks the card at the limit and answers 6983', () => {
    const { se, t, isdKeys } = fixture('02', { authFailureLimit: 3 });
    t.select(ISD);
    expect(failedAuthentication(se, isdKeys)).toBe(0x6300);
    expect(failedAuthentication(se, isdKeys)).toBe(0x6300);
    expect(se.inspect().auth.failures).toBe(2);
    expect(t.open(isdKeys)).toBe(0x9000);
    expect(se.inspect().auth.failures).toBe(0);
    for (let n = 0; n < 2; n++) expect(failedAuthentication(se, isdKeys)).toBe(0x6300);
    expect(se.inspect().lifeCycle).toBe('SECURED');
    expect(failedAuthentication(se, isdKeys)).toBe(0x6300);
    expect(se.inspect()).toMatchObject({ lifeCycle: 'CARD_LOCKED', auth: { failures: 3, limit: 3, blocked: true } });
    expect(failedAuthentication(se, isdKeys)).toBe(0x6983);
    expect(() => t.open(isdKeys)).toThrow(/6983/);
    // Still blocked after a power cycle and a snapshot round trip.
    se.reset(true);
    expect(() => t.open(isdKeys)).toThrow(/6983/);
  });

  it('does not count an EXTERNAL AUTHENTICATE without INITIALIZE UPDATE or with a bad length', () => {
    const { se } = fixture('02', { authFailureLimit: 1 });
    expect(toHex(se.process(fromHex('8482010010' + '00'.repeat(16))))).toBe('6985');
    expect(se.inspect().auth.failures).toBe(0);
  });
});

describe('PUT KEY', () => {
  const newKeys = keysFor('02', '606162636465666768696A6B6C6D6E6F', 0x21);

  it('adds a key set, reports it in the key information template, and opens with it', () => {
    const { se, t, isdKeys } = fixture('02');
    t.select(ISD);
    t.open(isdKeys);
    const sdek = (t.channel as Scp02Host).sessionKeys.sdek;
    const r = t.ok(scp02PutKey(sdek, 0x00, 0x21, desKeys(newKeys)));
    expect(r[0]).toBe(0x21);
    const kcvs = se.inspect().securityDomains[0].keySets.find((s) => s.kvn === 0x21)!.kcv;
    expect(toHex(r.subarray(1))).toBe(kcvs[1] + kcvs[2] + kcvs[3]);
    const kit = toHex(t.ok(cmd.getData(0xe0)));
    expect(kit).toContain('C00401218010');
    t.select(ISD);
    expect(t.open(newKeys, 1, 0x21)).toBe(0x9000);
    expect(t.open(isdKeys, 1, 0x20)).toBe(0x9000);
  });

  it('replaces a key set so the old keys no longer open the SD', () => {
    const { se, t, isdKeys } = fixture('02');
    t.select(ISD);
    t.open(isdKeys);
    t.ok(scp02PutKey((t.channel as Scp02Host).sessionKeys.sdek, 0x20, 0x21, desKeys(newKeys)));
    expect(se.inspect().securityDomains[0].keySets.map((s) => s.kvn)).toEqual([0x21]);
    t.select(ISD);
    expect(() => t.open(isdKeys)).toThrow(/cryptogram/);
    expect(() => t.open(isdKeys, 1, 0x20)).toThrow(/6a88/);
    expect(t.open(newKeys)).toBe(0x9000);
  });

  it('answers 6982 on a wrong check value, 6A88 for an unknown KVN, 6A80 for a taken KVN or a bad key', () => {
    const { se, t, isdKeys } = fixture('02');
    t.select(ISD);
    t.open(isdKeys);
    const sdek = (t.channel as Scp02Host).sessionKeys.sdek;
    const bad = scp02PutKey(sdek, 0x00, 0x21, desKeys(newKeys));
    bad.data![bad.data!.length - 1] ^= 0x01;
    expect(t.send(bad).sw).toBe(0x6982);
    expect(t.send(scp02PutKey(sdek, 0x55, 0x21, desKeys(newKeys))).sw).toBe(0x6a88);
    expect(t.send(scp02PutKey(sdek, 0x00, 0x20, desKeys(newKeys))).sw).toBe(0x6a80);
    expect(t.send({ cla: 0x80, ins: 0xd8, p1: 0, p2: 0x81, data: fromHex('2199100011'), le: 256 }).sw).toBe(0x6a80);
    expect(t.send({ cla: 0x80, ins: 0xd8, p1: 0, p2: 0x81, data: fromHex('FF'), le: 256 }).sw).toBe(0x6a80);
    expect(se.inspect().securityDomains[0].keySets.map((s) => s.kvn)).toEqual([0x20]);
  });

  it('needs a secure channel with the SD whose keys change', () => {
    const { t } = fixture('02');
    t.select(CENTRAL);
    expect(t.send(scp02PutKey(new Uint8Array(16), 0x00, 0x21, desKeys(newKeys))).sw).toBe(0x6982);
  });
});
