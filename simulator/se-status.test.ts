import { describe, expect, it } from 'vitest';
import { concat, findTlv, fromHex, parseTlv, toHex } from '../gp/index.ts';
import { GET_STATUS_PAGE } from './cmd-get-status.ts';
import { cmd } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture } from './test-fixtures.ts';

const PKG = 'F0504159000001';
const MOD = 'F050415900000101';

function manyApps(n: number) {
  return Array.from({ length: n }, (_, k) => ({
    aid: `${MOD}${k.toString(16).padStart(4, '0').toUpperCase()}`,
    packageAid: PKG,
    moduleAid: MOD,
    sd: CENTRAL,
    size: 16,
  }));
}

describe('GET STATUS', () => {
  it('pages with 6310 and GET STATUS [next], every page within one short response', () => {
    const apps = manyApps(20);
    const { t, isdKeys } = fixture('02', { instances: apps });
    t.select(ISD);
    t.open(isdKeys);
    const pages: Uint8Array[] = [];
    let r = t.send(cmd.getStatus(0x40));
    pages.push(r.data);
    while (r.sw === 0x6310) {
      r = t.send(cmd.getStatus(0x40, 0x03));
      pages.push(r.data);
    }
    expect(r.sw).toBe(0x9000);
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(p.length).toBeLessThanOrEqual(GET_STATUS_PAGE);
    const aids = parseTlv(concat(...pages)).map((e) => toHex(findTlv(e.children, 0x4f)!.value));
    expect(aids).toEqual([CENTRAL, ...apps.map((a) => a.aid)]);
    // Paging is spent: another [next] has nothing to continue.
    expect(t.send(cmd.getStatus(0x40, 0x03)).sw).toBe(0x6985);
  });

  it('answers registry data per entry type, with the tag list, the AID filter and 6A88', () => {
    const { t, isdKeys } = fixture('02', { instances: manyApps(1) });
    t.select(ISD);
    t.open(isdKeys);
    const isd = parseTlv(t.ok(cmd.getStatus(0x80)))[0];
    expect(toHex(findTlv(isd.children, 0x9f70)!.value)).toBe('0F');
    expect(toHex(findTlv(isd.children, 0xc5)!.value)).toBe('9EFE80');
    const app = parseTlv(t.ok(cmd.getStatus(0x40, 0x02, MOD)))[0];
    expect(toHex(findTlv(app.children, 0xc4)!.value)).toBe(PKG);
    expect(toHex(findTlv(app.children, 0xcc)!.value)).toBe(CENTRAL);
    expect(toHex(findTlv(app.children, 0x9f70)!.value)).toBe('07');
    const elf = parseTlv(t.ok(cmd.getStatus(0x10, 0x02, PKG)))[0];
    expect(toHex(findTlv(elf.children, 0x84)!.value)).toBe(MOD);
    expect(toHex(findTlv(elf.children, 0xce)!.value)).toBe('0100');
    const noModules = parseTlv(t.ok(cmd.getStatus(0x20, 0x02, PKG)))[0];
    expect(findTlv(noModules.children, 0x84)).toBeUndefined();
    const trimmed = parseTlv(t.ok(cmd.getStatus(0x40, 0x02, MOD, '4F9F70')))[0];
    expect(trimmed.children!.map((c) => c.tag)).toEqual([0x4f, 0x9f70]);
    expect(t.send(cmd.getStatus(0x40, 0x02, 'A0FFFFFFFF')).sw).toBe(0x6a88);
  });

  it('answers the deprecated P2 00 layout', () => {
    const { t, isdKeys } = fixture('02', { instances: manyApps(1) });
    t.select(ISD);
    t.open(isdKeys);
    expect(toHex(t.ok(cmd.getStatus(0x80, 0x00)))).toBe(`08${ISD}0F9E`);
    expect(toHex(t.ok(cmd.getStatus(0x40, 0x00, MOD)))).toBe(`0A${MOD}00000700`.replace(/ /g, ''));
    expect(toHex(t.ok(cmd.getStatus(0x10, 0x00, PKG)))).toBe(`07${PKG}010001 08${MOD}`.replace(/ /g, ''));
  });

  it('rejects bad parameters and missing search criteria', () => {
    const { t, isdKeys } = fixture('02');
    t.select(ISD);
    expect(t.send(cmd.getStatus(0x40)).sw).toBe(0x6982);
    t.open(isdKeys);
    expect(t.send(cmd.getStatus(0x41)).sw).toBe(0x6a86);
    expect(t.send(cmd.getStatus(0x40, 0x06)).sw).toBe(0x6a86);
    expect(t.send(cmd.getStatus(0x80, 0x03)).sw).toBe(0x6a86);
    expect(t.send(cmd.getStatus(0x40, 0x03)).sw).toBe(0x6985);
    expect(t.send({ cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: fromHex('5C014F'), le: 256 }).sw).toBe(0x6a80);
    expect(t.send({ cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: fromHex('4F05A0'), le: 256 }).sw).toBe(0x6a80);
  });
});

describe('SET STATUS', () => {
  it('locks and unlocks the card with Card Lock; CARD_LOCKED blocks content management and selection', () => {
    const { se, t, isdKeys, centralKeys } = fixture('02', { instances: manyApps(1) });
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.setStatus(0x80, 0x7f)); // the default central SD has Card Lock
    expect(se.inspect().lifeCycle).toBe('CARD_LOCKED');
    expect(t.send(cmd.delete(manyApps(1)[0].aid)).sw).toBe(0x6985);
    expect(t.select(CENTRAL).sw).toBe(0x6a81);
    expect(t.select(ISD).sw).toBe(0x6283); // the ISD holds Final Application
    expect(t.open(isdKeys)).toBe(0x9000);
    expect(t.send(cmd.setStatus(0x80, 0x7f)).sw).toBe(0x6985);
    t.ok(cmd.setStatus(0x80, 0x0f));
    expect(se.inspect().lifeCycle).toBe('SECURED');
    expect(t.select(CENTRAL).sw).toBe(0x9000);
  });

  it('gives Final Application to the one SD the profile names (the ISD then loses it), which alone stays selectable in CARD_LOCKED and unlocks', () => {
    const privileges = ['SecurityDomain', 'AuthorizedManagement', 'CardLock', 'FinalApplication'];
    const { se, t, centralKeys } = fixture('03', { securityDomains: [{ aid: CENTRAL, privileges }] });
    const isd = se.inspect().securityDomains.find((sd) => sd.aid === ISD)!;
    expect(isd.privileges).not.toContain('final-application');
    expect(se.inspect().securityDomains.find((sd) => sd.aid === CENTRAL)!.privileges).toContain('final-application');
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.setStatus(0x80, 0x7f));
    expect(se.inspect().lifeCycle).toBe('CARD_LOCKED');
    expect(t.select(ISD).sw).toBe(0x6a81);
    expect(t.select(CENTRAL).sw).toBe(0x6283);
    expect(t.open(centralKeys)).toBe(0x9000);
    t.ok(cmd.setStatus(0x80, 0x0f));
    expect(se.inspect().lifeCycle).toBe('SECURED');
    expect(t.select(ISD).sw).toBe(0x9000);
  });

  it('refuses a card on which two security domains claim Final Application (only one may hold it)', () => {
    const sd = (aid: string) => ({ aid, privileges: ['SecurityDomain', 'FinalApplication'] });
    expect(() => fixture('03', { securityDomains: [sd(CENTRAL), sd('F0535041524553442E3031')] })).toThrow(/Final Application/);
  });

  it('terminates the card only with Card Terminate, after which only GET DATA works', () => {
    const { se, t, isdKeys, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    expect(t.send(cmd.setStatus(0x80, 0xff)).sw).toBe(0x6985);
    t.select(ISD);
    t.open(isdKeys);
    t.ok(cmd.setStatus(0x80, 0xff));
    expect(se.inspect().lifeCycle).toBe('TERMINATED');
    expect(t.send(cmd.getData(0x9f7f)).sw).toBe(0x9000);
    expect(t.send(cmd.getStatus(0x40)).sw).toBe(0x6985);
    expect(t.select(ISD).sw).toBe(0x6a81);
    // The failed SELECT left the card's session in place; an unprotected command in it is refused.
    expect(t.send(cmd.setStatus(0x80, 0x0f)).sw).toBe(0x6982);
    expect(() => t.open(isdKeys)).toThrow(/6985/);
  });

  it('locks an SD with its applications (P1 60) and unlocks them; rejects a transition to the current state', () => {
    const apps = manyApps(2);
    const { se, t, isdKeys } = fixture('02', { instances: apps });
    t.select(ISD);
    t.open(isdKeys);
    t.ok(cmd.setStatus(0x60, 0x80, CENTRAL));
    expect(se.inspect().applications.map((a) => a.lifeCycle)).toEqual(['LOCKED', 'LOCKED']);
    expect(se.inspect().securityDomains[1].lifeCycleByte).toBe(0x8f);
    t.ok(cmd.setStatus(0x60, 0x80, CENTRAL)); // already locked: no error for P1 60
    expect(t.send(cmd.setStatus(0x40, 0x80, apps[0].aid)).sw).toBe(0x6985);
    t.ok(cmd.setStatus(0x60, 0x00, CENTRAL));
    expect(se.inspect().applications.map((a) => a.lifeCycleByte)).toEqual([0x07, 0x07]);
    expect(t.send(cmd.setStatus(0x40, 0x00, apps[0].aid)).sw).toBe(0x6985);
    expect(t.send(cmd.setStatus(0x40, 0x80, 'F0FFFFFFFF')).sw).toBe(0x6a88);
    expect(t.send(cmd.setStatus(0x40, 0x80, ISD)).sw).toBe(0x6985);
    expect(t.send(cmd.setStatus(0x20, 0x80, CENTRAL)).sw).toBe(0x6a86);
    expect(t.send(cmd.setStatus(0x40, 0x80)).sw).toBe(0x6a80);
  });
});
