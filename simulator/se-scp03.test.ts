import { describe, expect, it } from 'vitest';
import { concat, encodeCommand, fromHex, parseResponse, parseTlv, toHex, keyCheckValue, openSecureChannel, decodeCardRecognitionData, decodeCplc, decodeExtendedCardResources, scp03PutKeyData, Scp03Host } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import { DEFAULT_KEY } from './default-card.ts';
import { SimulatedSe } from './se.ts';
import { cmd } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture, keysFor } from './test-fixtures.ts';

const k = (h: string) => fromHex(h);

const aes = (s: KeySetSpec) => ({ enc: k(s.enc), mac: k(s.mac), dek: k(s.dek) });

/** PUT KEY data for an AES key set (gp builder), encrypted with the static DEK of the key set in use. */
function aesPutKeyData(current: KeySetSpec, kvn: number, keys: KeySetSpec, lengthPrefix: boolean): Uint8Array {
  return scp03PutKeyData(k(current.dek), kvn, aes(keys), { lengthPrefix });
}

describe('SCP03 on the default card (ISD keys 40..4F, KVN 30, i=70)', () => {
  it.each([0x01, 0x03, 0x13, 0x33])('opens at level %s and carries wrapped commands and responses', (level) => {
    const { se, t, isdKeys } = fixture('03');
    t.select(ISD);
    expect(isdKeys).toMatchObject({ kvn: 0x30, i: '70', enc: DEFAULT_KEY });
    expect(t.open(isdKeys, level)).toBe(0x9000);
    expect(se.inspect().session.secureChannel).toMatchObject({ sd: ISD, scp: '03', level, kvn: 0x30 });
    const isd = parseTlv(t.ok(cmd.getStatus(0x80)))[0];
    expect(isd.tag).toBe(0xe3);
    t.ok(cmd.storeData(0x90, 0, '5F5003414243'));
    expect(toHex(t.ok(cmd.getData(0x5f50)))).toBe('5F5003414243');
    expect(toHex(t.ok(cmd.getData(0xe0)))).toBe('E012C00401308810C00402308810C00403308810');
  });

  it('announces GP 2.3.1 and SCP03 i=70 in the card recognition data and the SD FCI', () => {
    const { t } = fixture('03');
    const fci = t.select(ISD).data;
    expect(toHex(fci)).toContain('06092A864886FC6B040370');
    expect(decodeCardRecognitionData(t.ok(cmd.getData(0x66)))).toMatchObject({ gpVersion: '2.3.1', secureChannels: [{ scp: 3, i: 0x70 }] });
    const ff21 = decodeExtendedCardResources(t.ok(cmd.getData(0xff21)));
    expect(ff21.freeNonVolatileMemory).toBeGreaterThan(0);
    expect(decodeCplc(t.ok(cmd.getData(0x9f7f))).length).toBe(18);
  });

  it('derives the pseudo-random card challenge from a counter that every INITIALIZE UPDATE moves', () => {
    const { se, t, isdKeys } = fixture('03');
    t.select(ISD);
    const host = new Scp03Host({ keys: { enc: k(isdKeys.enc), mac: k(isdKeys.mac), dek: k(isdKeys.dek) }, sdAid: k(ISD) });
    const first = parseResponse(se.process(encodeCommand(host.initializeUpdate(0, fromHex('0102030405060708')))));
    expect(first.sw).toBe(0x9000);
    const info = host.onInitializeUpdateResponse(first.data); // verifies cryptogram and pseudo-random challenge
    expect(toHex(info.sequenceCounter!)).toBe('000001');
    expect(se.inspect().securityDomains[0].keySets[0].sequenceCounter).toBe(1);
    // No EXTERNAL AUTHENTICATE: the next INITIALIZE UPDATE still gets a fresh counter and challenge.
    const second = parseResponse(se.process(encodeCommand(host.initializeUpdate(0, fromHex('0102030405060708')))));
    expect(toHex(host.onInitializeUpdateResponse(second.data).sequenceCounter!)).toBe('000002');
    expect(toHex(second.data)).not.toBe(toHex(first.data));
    expect(toHex(t.ok(cmd.getData(0xc1)))).toBe('C103000002');
  });

  it('PUT KEY replaces the ISD key set (both key block formats) and the old keys stop working', () => {
    const { se, t, isdKeys } = fixture('03');
    const rotated = keysFor('03', '00112233445566778899AABBCCDDEEFF', 0x31);
    t.select(ISD);
    t.open(isdKeys, 0x03);
    const r = t.ok({ cla: 0x80, ins: 0xd8, p1: 0x30, p2: 0x81, data: aesPutKeyData(isdKeys, 0x31, rotated, true), le: 256 });
    expect(toHex(r)).toBe('31' + toHex(keyCheckValue(k(rotated.enc), 'aes')).repeat(3));
    expect(se.inspect().securityDomains[0].keySets.map((s) => [s.kvn, s.keyType])).toEqual([[0x31, 'AES']]);
    t.select(ISD);
    expect(() => t.open(isdKeys)).toThrow(/cryptogram/);
    expect(t.open(rotated, 0x33)).toBe(0x9000);
    // Add a second key set without the length prefix.
    const added = keysFor('03', 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF', 0x32);
    t.ok({ cla: 0x80, ins: 0xd8, p1: 0x00, p2: 0x81, data: aesPutKeyData(rotated, 0x32, added, false), le: 256 });
    t.select(ISD);
    expect(t.open(added, 0x01, 0x32)).toBe(0x9000);
  });

  it('SP SD key rotation locks the central SD out of the SP SD but not out of locking and deleting it', () => {
    const SP = 'F0535053440001';
    const spKeys = keysFor('03', '505152535455565758595A5B5C5D5E5F');
    const { se, t, centralKeys } = fixture('03', {
      securityDomains: [{ aid: SP, parent: CENTRAL, privileges: ['SecurityDomain'], keys: spKeys }],
      instances: [{ aid: 'F050415900000101A1', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: SP }],
    });
    t.select(SP);
    t.open(spKeys);
    const rotated = keysFor('03', '606162636465666768696A6B6C6D6E6F', 0x31);
    t.ok({ cla: 0x80, ins: 0xd8, p1: 0x30, p2: 0x81, data: aesPutKeyData(spKeys, 0x31, rotated, true), le: 256 });
    t.select(SP);
    expect(() => t.open(centralKeys)).toThrow(/cryptogram/);
    expect(() => t.open(spKeys)).toThrow(/cryptogram/);
    t.select(CENTRAL);
    expect(t.open(centralKeys, 0x33)).toBe(0x9000);
    t.ok(cmd.setStatus(0x60, 0x80, SP));
    expect(se.inspect().applications[0].lifeCycle).toBe('LOCKED');
    t.ok(cmd.delete(SP, true));
    expect(se.inspect().securityDomains.map((s) => s.aid)).toEqual([ISD, CENTRAL]);
  });

  it('counts failed SCP03 authentications and locks the card at the limit', () => {
    const { se, isdKeys } = fixture('03', { authFailureLimit: 2 });
    const fail = () => {
      const host = new Scp03Host({ keys: { enc: k(isdKeys.enc), mac: k(isdKeys.mac), dek: k(isdKeys.dek) } });
      const iu = parseResponse(se.process(encodeCommand(host.initializeUpdate(0, new Uint8Array(8)))));
      if (iu.sw !== 0x9000) return iu.sw;
      host.onInitializeUpdateResponse(iu.data);
      const ea = host.externalAuthenticate();
      ea.data![3] ^= 0x40;
      return parseResponse(se.process(encodeCommand(ea))).sw;
    };
    expect(fail()).toBe(0x6300);
    expect(fail()).toBe(0x6300);
    expect(se.inspect().lifeCycle).toBe('CARD_LOCKED');
    expect(fail()).toBe(0x6983);
  });

  it('switches contactless availability (Amendment C SET STATUS 01) of an application under the central SD', () => {
    const APP = 'F050415900000101A1';
    const { se, t, centralKeys } = fixture('03', {
      instances: [{ aid: APP, packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL }],
    });
    t.select(CENTRAL);
    t.open(centralKeys, 0x13);
    const setCl = (p2: number, aids: string[]) => ({ cla: 0x80, ins: 0xf0, p1: 0x01, p2, data: concat(...aids.map((a) => concat(Uint8Array.of(0x4f, a.length / 2), k(a)))) });
    t.ok(setCl(0x01, [APP]));
    expect(se.inspect().applications[0].contactless).toBe('activated');
    const r = t.send(setCl(0x00, [APP, 'F0FFFFFFFF']));
    expect(r.sw).toBe(0x6320);
    expect(toHex(r.data)).toBe('6109A1074F05F0FFFFFFFF');
    expect(se.inspect().applications[0].contactless).toBe('deactivated');
    expect(t.send(setCl(0x80, [APP])).sw).toBe(0x6a86);
    expect(t.send({ ...setCl(0x01, [APP]), data: fromHex('4F02AAAA') }).sw).toBe(0x6a80);
  });

  it('opens with gp openSecureChannel over a transmit function and answers wrapped GET STATUS', async () => {
    const { se, t, isdKeys } = fixture('03');
    t.select(ISD);
    const ch = await openSecureChannel(async (c) => se.process(c), {
      keys: { kvn: 0x30, scp: '03', ...aes(isdKeys) },
      level: 0x33,
      sdAid: k(ISD),
    });
    const r = await ch.transmitSecure(cmd.getStatus(0x40));
    expect(r.sw).toBe(0x9000);
    expect(parseTlv(r.data).length).toBe(1);
  });

  it('builds an SE from the default fleet shape with SCP03 everywhere', () => {
    const se = new SimulatedSe({ seId: 'x', cin: '01', iin: '02', card: { isd: { aid: ISD, keys: keysFor('03') }, memory: { nonVolatile: 1000, volatile: 100 } } });
    expect(se.inspect().securityDomains[0].keySets[0]).toMatchObject({ kvn: 0x30, scp: '03', i: 0x70 });
  });
});
