import { describe, expect, it } from 'vitest';
import { findTlv, fromHex, parseTlv, toHex, scp02PutKey, type Scp02Host } from '../gp/index.ts';
import { Footprint } from './memory.ts';
import { cmd, installParams } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture, keysFor } from './test-fixtures.ts';

const PAY_PKG = 'F0504159000001';
const PAY_MOD = 'F050415900000101';
const SP_SD = 'F0535053440001';
const APP = 'F050415900000101A1';

function ff21(t: ReturnType<typeof fixture>['t']): { apps: number; nv: number; v: number } {
  const tpl = parseTlv(t.ok(cmd.getData(0xff21)))[0];
  const n = (tag: number) => parseInt(toHex(findTlv(tpl.children, tag)!.value), 16);
  return { apps: n(0x81), nv: n(0x82), v: n(0x83) };
}

describe('install, make selectable, personalize (central SD with Authorized Management)', () => {
  it('installs an applet under the central SD, charges its memory and reports it in FF21', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    expect(t.open(centralKeys)).toBe(0x9000);
    const before = ff21(t);
    t.ok(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: installParams({ c9: 'AABB' }) }));
    const after = ff21(t);
    expect(after.apps).toBe(before.apps + 1);
    expect(before.nv - after.nv).toBe(Footprint.appNonVolatile);
    expect(before.v - after.v).toBe(Footprint.appVolatile);
    const app = se.inspect().applications.find((a) => a.aid === APP)!;
    expect(app).toMatchObject({ lifeCycle: 'SELECTABLE', associatedSd: CENTRAL, packageAid: PAY_PKG, moduleAid: PAY_MOD, installParams: 'AABB' });
    expect(t.select(APP).sw).toBe(0x9000);
  });

  it('installs then makes selectable in two steps, and refuses a second make selectable', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.install(0x04, { elf: PAY_PKG, module: PAY_MOD, app: APP }));
    expect(se.inspect().applications[0].lifeCycle).toBe('INSTALLED');
    t.ok(cmd.makeSelectable(APP));
    expect(se.inspect().applications[0].lifeCycle).toBe('SELECTABLE');
    expect(t.send(cmd.makeSelectable(APP)).sw).toBe(0x6985);
  });

  it('answers the INSTALL error status words', () => {
    const { t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP })).sw).toBe(0x6982); // no channel
    t.open(centralKeys);
    expect(t.send(cmd.install(0x0c, { elf: 'F0FFFFFFFF', module: PAY_MOD, app: APP })).sw).toBe(0x6a88);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: 'F0FFFFFFFF', app: APP })).sw).toBe(0x6a88);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: fromHex('EF00') })).sw).toBe(0x6a80); // no C9
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, token: fromHex('01') })).sw).toBe(0x6a80);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: CENTRAL })).sw).toBe(0x6a80); // AID taken
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, privileges: '880000' })).sw).toBe(0x6985); // Card Terminate: the central SD lacks it
    expect(t.send({ ...cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP }), p2: 0x01 }).sw).toBe(0x6a86);
    expect(t.send({ ...cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP }), p1: 0x0e }).sw).toBe(0x6a86);
    expect(t.send({ cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0, data: fromHex('05F0'), le: 256 }).sw).toBe(0x6a80);
  });

  it('answers 6A84 when the install does not fit (card memory, quota, reserved memory)', () => {
    const { t, centralKeys } = fixture('02', { memory: { nonVolatile: 64 * 1024, volatile: 1024 } });
    t.select(CENTRAL);
    t.open(centralKeys);
    const free = ff21(t);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: installParams({ vReserved: free.v + 1, vQuota: free.v + 1 }) })).sw).toBe(0x6a84);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: installParams({ nvQuota: 100 }) })).sw).toBe(0x6a84);
    expect(t.send(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: installParams({ nvReserved: 200, nvQuota: 100 }) })).sw).toBe(0x6a80);
    // Reserved memory is charged at install time.
    t.ok(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: installParams({ nvReserved: 4000, nvQuota: 5000 }) }));
    expect(free.nv - ff21(t).nv).toBe(4000);
    expect(ff21(t)).toMatchObject({ apps: free.apps + 1 });
  });

  it('personalizes an applet: STORE DATA lands in its store and memory, GET DATA reads it back', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP, params: installParams({ nvQuota: Footprint.appNonVolatile + 10 }) }));
    const before = ff21(t).nv;
    t.ok(cmd.personalize(APP));
    expect(t.send(cmd.storeData(0x10, 1, '0101')).sw).toBe(0x6a86); // block numbers start at 00
    t.ok(cmd.personalize(APP));
    t.ok(cmd.storeData(0x10, 0, '9F1002AABB'));
    t.ok(cmd.storeData(0x90, 1, '5A01CC'));
    const app = se.inspect().applications[0];
    expect(app.storedHex).toBe('9F1002AABB5A01CC');
    expect(app.stored.map((b) => b.format)).toEqual(['ber-tlv', 'ber-tlv']);
    expect(app.dataObjects).toMatchObject({ '9F10': 'AABB', '5A': 'CC' });
    expect(before - ff21(t).nv).toBe(8);
    // The session ended with the last block: the next STORE DATA goes to the SD itself.
    t.ok(cmd.storeData(0x90, 0, '5F5003414243'));
    expect(se.inspect().securityDomains.find((s) => s.aid === CENTRAL)!.dataObjects['5F50']).toBe('414243');
    // The quota (footprint + 10) is now exceeded by 3 more bytes.
    t.ok(cmd.personalize(APP));
    expect(t.send(cmd.storeData(0x80, 0, 'DEADBEEF')).sw).toBe(0x6a84);
    t.select(APP);
    expect(toHex(t.ok(cmd.getData(0x9f10)))).toBe('9F1002AABB');
    expect(toHex(t.ok(cmd.getData(0x5a, 0x00)))).toBe('CC');
  });

  it('refuses to personalize an application not directly associated, or absent', () => {
    const { t, centralKeys, isdKeys } = fixture('02', {
      instances: [{ aid: APP, packageAid: PAY_PKG, moduleAid: PAY_MOD, sd: CENTRAL }],
    });
    t.select(ISD);
    t.open(isdKeys);
    expect(t.send(cmd.personalize(APP)).sw).toBe(0x6985);
    expect(t.send(cmd.personalize('F0FFFFFFFF')).sw).toBe(0x6a88);
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.personalize(APP));
  });

  it('refuses STORE DATA of card-generated objects to an SD', () => {
    const { t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    expect(t.send(cmd.storeData(0x90, 0, 'FF210100')).sw).toBe(0x6a80);
  });
});

describe('security domains, extradition and key rotation', () => {
  /** Pre-personalization as the central TSM does it: SP SD with temporary keys, instance extradited to it. */
  function prepersonalize() {
    const f = fixture('02');
    const { t, centralKeys } = f;
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.install(0x0c, { elf: 'A0000001515350', module: 'A000000151535041', app: SP_SD, privileges: '808000' }));
    t.ok(cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP }));
    return f;
  }

  it('installs an SD from the ROM SD package with a copy of its installer key set', () => {
    const { se } = prepersonalize();
    const sp = se.inspect().securityDomains.find((s) => s.aid === SP_SD)!;
    expect(sp).toMatchObject({ kind: 'sd', lifeCycle: 'SELECTABLE', associatedSd: CENTRAL, privileges: ['security-domain', 'trusted-path'] });
    const central = se.inspect().securityDomains.find((s) => s.aid === CENTRAL)!;
    expect(sp.keySets[0].kcv).toEqual(central.keySets[0].kcv);
  });

  it('extradites an instance to an SP SD only once that SD is PERSONALIZED', () => {
    const { se, t, centralKeys } = prepersonalize();
    expect(t.send(cmd.extradite(SP_SD, APP)).sw).toBe(0x6985);
    // The SP SD personalizes itself (its installer's keys for now), then accepts the instance.
    t.select(SP_SD);
    expect(t.open(centralKeys)).toBe(0x9000);
    t.ok(cmd.setStatus(0x40, 0x0f, SP_SD));
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.extradite(SP_SD, APP));
    expect(se.inspect().applications[0].associatedSd).toBe(SP_SD);
    expect(t.send(cmd.extradite(SP_SD, 'F0FFFFFFFF')).sw).toBe(0x6a88);
    expect(t.send(cmd.extradite('F0FFFFFFFF', APP)).sw).toBe(0x6a88);
    expect(t.send(cmd.extradite(APP, SP_SD)).sw).toBe(0x6a80); // target is not an SD
    expect(t.send(cmd.extradite(CENTRAL, ISD)).sw).toBe(0x6985);
    expect(t.send(cmd.extradite(SP_SD, CENTRAL)).sw).toBe(0x6985); // CENTRAL is not under itself... and would loop
  });

  it('after the SP rotates its SD keys the central SD can no longer open it, yet can lock and delete it', () => {
    const { se, t, centralKeys } = prepersonalize();
    t.select(SP_SD);
    t.open(centralKeys);
    t.ok(cmd.setStatus(0x40, 0x0f, SP_SD));
    const spKeys = keysFor('02', '707172737475767778797A7B7C7D7E7F', 0x21);
    const host = t.channel as Scp02Host;
    const k = (h: string) => fromHex(h);
    const resp = t.ok(scp02PutKey(host.sessionKeys.sdek, 0x20, 0x21, { enc: k(spKeys.enc), mac: k(spKeys.mac), dek: k(spKeys.dek) }));
    expect(resp[0]).toBe(0x21);
    expect(resp.length).toBe(1 + 9);
    t.select(SP_SD);
    expect(() => t.open(centralKeys)).toThrow(/INITIALIZE UPDATE answered 6a88|cryptogram/);
    expect(() => t.open(centralKeys, 1, 0x21)).toThrow(/cryptogram/);
    expect(t.open(spKeys, 1, 0x21)).toBe(0x9000);
    expect(se.inspect().securityDomains.find((s) => s.aid === SP_SD)!.keySets.map((k) => k.kvn)).toEqual([0x21]);
    // Central SD: lock and unlock the SP SD (it sits under the central SD), then delete it with its content.
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.extradite(SP_SD, APP));
    t.ok(cmd.setStatus(0x40, 0x80, SP_SD));
    expect(t.select(SP_SD).sw).toBe(0x6999);
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.setStatus(0x40, 0x00, SP_SD));
    expect(t.send(cmd.delete(SP_SD)).sw).toBe(0x6985); // still holds the instance
    const before = ff21(t);
    t.ok(cmd.delete(SP_SD, true));
    const after = ff21(t);
    expect(after.apps).toBe(before.apps - 2);
    expect(after.nv - before.nv).toBe(Footprint.sdNonVolatile + Footprint.keySet + Footprint.appNonVolatile);
    expect(se.inspect().applications).toEqual([]);
  });

  it('Global Lock and Global Delete reach an SD outside the acting SD hierarchy', () => {
    const f = fixture('02', {
      securityDomains: [{ aid: SP_SD, privileges: ['SecurityDomain'], keys: keysFor('02', '505152535455565758595A5B5C5D5E5F') }],
    });
    const { t, centralKeys } = f;
    t.select(CENTRAL);
    t.open(centralKeys);
    // The default central SD has Global Lock and Global Delete.
    t.ok(cmd.setStatus(0x40, 0x80, SP_SD));
    t.ok(cmd.setStatus(0x40, 0x00, SP_SD));
    t.ok(cmd.delete(SP_SD));
    expect(f.se.inspect().securityDomains.map((s) => s.aid)).toEqual([ISD, CENTRAL]);
  });

  it('an AM SD without Global privileges cannot touch what is not under it', () => {
    const other = 'F04F54484552534401';
    const { t } = fixture('02', {
      centralSd: { aid: CENTRAL, keys: keysFor('02', 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF') },
      securityDomains: [
        { aid: CENTRAL, privileges: ['SecurityDomain', 'AuthorizedManagement'], keys: keysFor('02', 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF') },
        { aid: other, privileges: ['SecurityDomain'], keys: keysFor('02', '505152535455565758595A5B5C5D5E5F') },
      ],
    });
    t.select(CENTRAL);
    t.open(keysFor('02', 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF'));
    expect(t.send(cmd.setStatus(0x40, 0x80, other)).sw).toBe(0x6985);
    expect(t.send(cmd.delete(other)).sw).toBe(0x6985);
    expect(t.send(cmd.getStatus(0x80)).sw).toBe(0x6a86);
    const own = parseTlv(t.ok(cmd.getStatus(0x40)));
    expect(own.map((e) => toHex(findTlv(e.children, 0x4f)!.value))).toEqual([CENTRAL]); // only itself
    expect(t.send(cmd.getStatus(0x20, 0x02, 'A0000001515350')).sw).toBe(0x6a88); // the ISD's SD load file is not its
  });
});

describe('DELETE', () => {
  it('deletes an instance, then the package; refuses a package with instances without the related bit', () => {
    const { se, t, centralKeys } = fixture('02', {
      instances: [{ aid: APP, packageAid: PAY_PKG, moduleAid: PAY_MOD, sd: CENTRAL, size: 1000 }],
    });
    t.select(CENTRAL);
    t.open(centralKeys);
    const start = ff21(t);
    expect(t.send(cmd.delete(PAY_PKG)).sw).toBe(0x6985);
    t.ok(cmd.delete(APP));
    expect(ff21(t).nv - start.nv).toBe(1000);
    t.ok(cmd.delete(PAY_PKG));
    expect(ff21(t).nv - start.nv).toBe(1000 + 6144);
    expect(se.inspect().packages.map((p) => p.aid)).not.toContain(PAY_PKG);
    expect(t.send(cmd.delete(PAY_PKG)).sw).toBe(0x6a88);
    expect(t.send(cmd.delete(ISD)).sw).toBe(0x6985);
    expect(t.send({ ...cmd.delete(APP), p2: 0x01 }).sw).toBe(0x6a86);
    expect(t.send({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0, data: fromHex('4F02'), le: 256 }).sw).toBe(0x6a80);
  });

  it('deletes a package with its instances using the related-objects bit', () => {
    const { se, t, centralKeys } = fixture('02', {
      instances: [
        { aid: APP, packageAid: PAY_PKG, moduleAid: PAY_MOD, sd: CENTRAL },
        { aid: APP + '02', packageAid: PAY_PKG, moduleAid: PAY_MOD, sd: CENTRAL },
      ],
    });
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.delete(PAY_PKG, true));
    expect(se.inspect().applications).toEqual([]);
  });

  it('deletes keys of the acting SD with D0/D2', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    expect(t.send({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0, data: fromHex('D20177'), le: 256 }).sw).toBe(0x6a88);
    t.ok({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0, data: fromHex('D00103D20120'), le: 256 });
    expect(Object.keys(se.inspect().securityDomains[1].keySets[0].kcv)).toEqual(['1', '2']);
  });
});

describe('GP command chaining', () => {
  it('reassembles a chained INSTALL and refuses an interrupted chain', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    const whole = cmd.install(0x0c, { elf: PAY_PKG, module: PAY_MOD, app: APP }).data!;
    t.ok({ cla: 0x80, ins: 0xe6, p1: 0x8c, p2: 0, data: whole.slice(0, 10) });
    t.ok({ cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0, data: whole.slice(10), le: 256 });
    expect(se.inspect().applications.map((a) => a.aid)).toEqual([APP]);
    t.ok({ cla: 0x80, ins: 0xe4, p1: 0x80, p2: 0, data: fromHex('4F') });
    expect(t.send(cmd.getData(0x42)).sw).toBe(0x6985);
  });
});
