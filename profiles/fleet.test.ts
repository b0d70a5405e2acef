import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultFleet, FleetError, loadFleet, parseFleet } from './fleet.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof FleetError) return e.problems;
    throw e;
  }
  throw new Error('expected a FleetError');
}

describe('default fleet', () => {
  const fleet = defaultFleet();

  it('has an eSE on MNO-A over http-admin and a UICC on MNO-B over sms with small limits', () => {
    const se1 = fleet.ses.find((s) => s.seId === 'se-1')!;
    const se2 = fleet.ses.find((s) => s.seId === 'se-2')!;
    expect([se1.type, se1.mno]).toEqual(['eSE', 'MNO-A']);
    expect([se2.type, se2.mno]).toEqual(['UICC', 'MNO-B']);
    const mnoA = fleet.mnos.find((m) => m.name === 'MNO-A')!;
    const mnoB = fleet.mnos.find((m) => m.name === 'MNO-B')!;
    expect(mnoA.bearer).toBe('http-admin');
    expect(mnoB.bearer).toBe('sms');
    expect(mnoB.maxApduCount!).toBeLessThan(mnoA.maxApduCount!);
    expect(mnoB.maxScriptSize!).toBeLessThan(mnoA.maxScriptSize!);
    expect(fleet.ses.length).toBeGreaterThanOrEqual(3);
  });

  it('gives every ISD the GP default keys and the central SD and SP SDs keys of their own', () => {
    for (const se of fleet.ses) {
      const isd = se.card.isd.keys;
      expect(isd).toMatchObject({ kvn: 0x30, scp: '03', i: '70', enc: '404142434445464748494A4B4C4D4E4F' });
      expect(isd.mac).toBe(isd.enc);
      expect(isd.dek).toBe(isd.enc);
      expect(se.centralSd.keys.enc).not.toBe(isd.enc);
      for (const svc of se.services ?? []) {
        // A service not yet on the card (pre-personalization) has no SP keys yet.
        if (svc.state === 'available') continue;
        expect(svc.spKeys!.enc).not.toBe(se.centralSd.keys.enc);
        expect(svc.spKeys!.enc).not.toBe(isd.enc);
      }
    }
  });

  it('lists BankCo and TransitCo and each copy is independent', () => {
    expect(fleet.serviceProviders.map((s) => s.name)).toEqual(['BankCo', 'TransitCo']);
    const other = defaultFleet();
    other.ses[0].seId = 'changed';
    expect(defaultFleet().ses[0].seId).toBe('se-1');
  });
});

describe('schema errors name the JSON path', () => {
  const base = () => JSON.parse(JSON.stringify(defaultFleet())) as Record<string, any>;

  it('reports a wrong type with the path', () => {
    const f = base();
    f.ses[1].card.memory.nonVolatile = '64k';
    expect(problemsOf(() => parseFleet(f, 'fleet.json'))).toContain('fleet.json: /ses/1/card/memory/nonVolatile must be integer');
  });

  it('reports an unknown field', () => {
    const f = base();
    f.ses[0].colour = 'blue';
    expect(problemsOf(() => parseFleet(f, 'fleet.json'))).toContain('fleet.json: unknown field /ses/0/colour');
  });

  it('reports a missing field and a bad enum value', () => {
    const f = base();
    delete f.ses[0].cin;
    f.mnos[0].bearer = 'carrier-pigeon';
    const p = problemsOf(() => parseFleet(f, 'fleet.json'));
    expect(p).toContain('fleet.json: missing field /ses/0/cin');
    expect(p.some((x) => x.startsWith('fleet.json: /mnos/0/bearer must be one of'))).toBe(true);
  });

  it('reports malformed hex', () => {
    const f = base();
    f.ses[0].card.isd.aid = 'A00000015G';
    f.ses[0].centralSd.keys.enc = '404142';
    const p = problemsOf(() => parseFleet(f, 'fleet.json'));
    expect(p.some((x) => x.startsWith('fleet.json: /ses/0/card/isd/aid has an invalid format'))).toBe(true);
    expect(p.some((x) => x.startsWith('fleet.json: /ses/0/centralSd/keys/enc has an invalid format'))).toBe(true);
  });

  it('reports text that is not JSON', () => {
    expect(problemsOf(() => parseFleet('{"mnos": [', 'x.json'))[0]).toMatch(/^x\.json: not valid JSON/);
  });
});

describe('cross-checks', () => {
  const base = () => JSON.parse(JSON.stringify(defaultFleet())) as Record<string, any>;

  it("refuses an SE whose MNO does not exist", () => {
    const f = base();
    f.ses[2].mno = 'MNO-Z';
    expect(problemsOf(() => parseFleet(f, 'f'))).toContain('f: /ses/2/mno "MNO-Z" is not an MNO of the fleet');
  });

  it('refuses an MSISDN reused on the same MNO but accepts it on another MNO', () => {
    const f = base();
    f.ses[2].msisdns = ['33600000001'];
    expect(problemsOf(() => parseFleet(f, 'f'))).toContain('f: /ses/2/msisdns/0 33600000001 on MNO-A already reaches se-1');
    const g = base();
    g.ses[1].msisdns = ['+33600000001'];
    expect(() => parseFleet(g, 'f')).not.toThrow();
  });

  it('refuses a service of an unknown SP', () => {
    const f = base();
    f.ses[0].services[0].serviceProvider = 'EvilCo';
    expect(problemsOf(() => parseFleet(f, 'f'))).toContain('f: /ses/0/services/0/serviceProvider "EvilCo" is not a service provider of the fleet');
  });

  it('refuses an AES key of the wrong length for SCP03 and an instance of an unknown package', () => {
    const f = base();
    f.ses[0].card.isd.keys.enc = '40'.repeat(20);
    f.ses[0].card.instances[0].packageAid = 'A0000000000001';
    const p = problemsOf(() => parseFleet(f, 'f'));
    expect(p).toContain('f: /ses/0/card/isd/keys/enc must be 16, 24, 32 bytes for SCP03, not 20');
    expect(p).toContain('f: /ses/0/card/instances/0/packageAid A0000000000001 is not a package of the card');
  });

  it('refuses SP keys that differ from the SD keys on the card', () => {
    const f = base();
    f.ses[0].services[0].spKeys.enc = 'AA'.repeat(16);
    expect(problemsOf(() => parseFleet(f, 'f'))).toContain(
      `f: /ses/0/services/0/spKeys differ from the keys of security domain ${f.ses[0].services[0].sdAid} on the card`,
    );
  });
});

describe('loadFleet', () => {
  it('names the file in messages and reads a valid file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fleet-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(defaultFleet()));
    expect(loadFleet(good).ses.length).toBe(3);
    const bad = path.join(dir, 'fleet.json');
    const f = JSON.parse(JSON.stringify(defaultFleet()));
    f.ses[0].colour = 'red';
    writeFileSync(bad, JSON.stringify(f));
    expect(problemsOf(() => loadFleet(bad))).toEqual(['fleet.json: unknown field /ses/0/colour']);
    expect(problemsOf(() => loadFleet(path.join(dir, 'missing.json')))[0]).toBe('missing.json: cannot read: ENOENT');
  });
});
