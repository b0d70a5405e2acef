import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../gp/index.ts';
import {
  atrMatches,
  authBudgetOf,
  cplcMismatches,
  icsFeatures,
  loadCardProfile,
  loadCardProfiles,
  parseCardProfile,
  parseCplc,
  ProfileError,
  profilesForAtr,
  type CardProfile,
} from './card-profile.ts';
import { KeyRefError, resolveCardKeys, resolveKeyRef } from './key-refs.ts';
import { buildAtr } from '../simulator/atr.ts';
import { buildCplc } from '../simulator/cplc.ts';

const examples = new URL('./examples/', import.meta.url);
const exampleFile = (name: string) => new URL(name, examples).pathname;

function base(): CardProfile {
  return JSON.parse(readFileSync(exampleFile('sim-scp03.json'), 'utf8')) as CardProfile;
}

function problems(json: unknown): string[] {
  try {
    parseCardProfile(json, { source: 'p.json' });
  } catch (e) {
    if (e instanceof ProfileError) return e.problems;
    throw e;
  }
  return [];
}

const tmp = mkdtempSync(path.join(tmpdir(), 'tsmlab-profiles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('card profile validation', () => {
  it('accepts both example profiles, hashing the file bytes as sha256sum does', () => {
    for (const name of ['sim-scp03.json', 'sim-scp02.json']) {
      const loaded = loadCardProfile(exampleFile(name));
      const bytes = readFileSync(exampleFile(name));
      expect(loaded.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(loaded.source).toBe(name);
      expect(loaded.warnings).toEqual([]);
    }
  });

  it('rejects an inline key value, saying why and where', () => {
    const p = base();
    p.ixit.keys.mac = '404142434445464748494A4B4C4D4E4F';
    const [msg, ...rest] = problems(p);
    expect(rest).toEqual([]);
    expect(msg).toMatch(/^p\.json: \/ixit\/keys\/mac: inline key values are not allowed — .*leaks.*env:NAME or file:path#\/json\/pointer$/);
    // The message never repeats the key.
    expect(msg).not.toContain('404142');
  });

  it('rejects something that is neither a value nor a reference with a plain format message', () => {
    const p = base();
    p.ixit.keys.enc = 'vault:isd-enc';
    expect(problems(p)).toEqual(['p.json: /ixit/keys/enc must be a key reference: env:NAME or file:path#/json/pointer']);
  });

  it('names the JSON path of every schema error', () => {
    const p = base() as unknown as Record<string, any>;
    p.ixit.atr.value = '3B8';
    p.ixit.secureChannel.keyScheme = 'diversified';
    p.ixit.cplc.icType = '51';
    p.ixit.colour = 'blue';
    delete p.ics.gpVersion;
    const found = problems(p);
    expect(found).toContain('p.json: /ixit/atr/value has an invalid format (must match ^([0-9A-Fa-f]{2}){2,33}$)');
    expect(found).toContain('p.json: /ixit/secureChannel/keyScheme must be one of "none", "emv", "visa2", "kdf3"');
    expect(found).toContain('p.json: /ixit/cplc/icType has an invalid format (must match ^[0-9A-Fa-f]{4}$)');
    expect(found).toContain('p.json: unknown field /ixit/colour');
    expect(found).toContain('p.json: missing field /ics/gpVersion');
  });

  it('cross-checks keys against the key scheme, the SCP against the ICS, and the ATR mask length', () => {
    const p = base();
    p.ixit.secureChannel.keyScheme = 'kdf3';
    p.ixit.secureChannel.i = '10';
    p.ixit.atr.mask = 'FFFF';
    const found = problems(p);
    expect(found).toContain('p.json: missing field /ixit/keys/master (keyScheme "kdf3" diversifies one master key)');
    expect(found).toContain('p.json: /ixit/keys/enc: keyScheme "kdf3" derives enc from /ixit/keys/master; remove it');
    expect(found).toContain('p.json: /ixit/secureChannel/i: i=10 is not claimed for SCP03 in /ics/secureChannels (70)');
    expect(found).toContain('p.json: /ixit/atr/mask: 2 bytes, but /ixit/atr/value has 17');
    const q = base();
    q.ixit.secureChannel.scp = '02';
    expect(problems(q)).toContain('p.json: /ixit/secureChannel/scp: SCP02 is not among /ics/secureChannels');
    const r = base();
    delete r.ixit.keys.dek;
    expect(problems(r)).toEqual(['p.json: missing field /ixit/keys/dek (keyScheme "none" needs enc, mac and dek)']);
  });

  it('takes the fleet SE a card stands for, and names the path of a malformed one', () => {
    const p = base();
    p.ixit.seId = 'se-2';
    expect(problems(p)).toEqual([]);
    p.ixit.seId = 'se 2!';
    expect(problems(p)).toEqual(['p.json: /ixit/seId has an invalid format (must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)']);
  });

  it('warns about a feature name no suite knows, without refusing the profile', () => {
    const p = base();
    p.ics.features.push('extended-lenght');
    const loaded = parseCardProfile(p);
    expect(loaded.warnings).toEqual([expect.stringMatching(/^\/ics\/features\/9: "extended-lenght" is not a feature the suites know/)]);
  });

  it('reports malformed JSON and unreadable files as one-line problems', () => {
    expect(problems('{ "profile": ')).toEqual([expect.stringMatching(/^p\.json: not valid JSON: /)]);
    expect(() => loadCardProfile(path.join(tmp, 'nope.json'))).toThrow(/^nope\.json: cannot read: ENOENT$/);
  });

  it('loads every card profile of a directory, skipping other JSON and collecting problems', () => {
    const dir = mkdtempSync(path.join(tmp, 'dir-'));
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(base()));
    const bad = base();
    bad.ixit.keys.enc = '00112233445566778899AABBCCDDEEFF';
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(bad));
    writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ ses: [] }));
    const { profiles, problems: found } = loadCardProfiles(dir);
    expect(profiles.map((p) => p.source)).toEqual(['a.json']);
    expect(found).toEqual([expect.stringMatching(/^b\.json: \/ixit\/keys\/enc: inline key values are not allowed/)]);
  });

  it('lists ICS features with the SCPs for @ICS: tags, and the default auth budget', () => {
    const p = loadCardProfile(exampleFile('sim-scp02.json')).profile;
    expect(icsFeatures(p)).toEqual(expect.arrayContaining(['cap-loading', 'scp02', 'scp02-i15', 'scp02-i55']));
    expect(icsFeatures(p)).not.toContain('scp03');
    expect(authBudgetOf(p)).toBe(3);
    delete p.ixit.authBudget;
    expect(authBudgetOf(p)).toBe(3);
    p.ixit.authBudget = 2;
    expect(authBudgetOf(p)).toBe(2);
  });
});

describe('ATR and CPLC matching', () => {
  const scp03 = () => loadCardProfile(exampleFile('sim-scp03.json')).profile;
  const scp02 = () => loadCardProfile(exampleFile('sim-scp02.json')).profile;

  it('matches the simulated card’s ATR exactly, and masked bits only under a mask', () => {
    const atr = buildAtr();
    expect(atrMatches(scp03(), atr)).toBe(true);
    const revised = buildAtr(fromHex('80 73 C8 21 13 66 05 03 63 51 00 07'));
    expect(atrMatches(scp03(), revised)).toBe(false);
    expect(atrMatches(scp02(), revised)).toBe(true);
    const other = buildAtr(fromHex('80 73 C8 21 13 66 05 03 63 52 00 02'));
    expect(atrMatches(scp02(), other)).toBe(false);
    expect(atrMatches(scp02(), atr.subarray(0, atr.length - 1))).toBe(false);
  });

  it('picks the profiles whose ATR matches', () => {
    const loaded = ['sim-scp03.json', 'sim-scp02.json'].map((n) => loadCardProfile(exampleFile(n)));
    expect(profilesForAtr(loaded, buildAtr(fromHex('80 73 C8 21 13 66 05 03 63 51 00 09'))).map((l) => l.profile.profile)).toEqual(['tsmlab-sim-scp02']);
  });

  it('reads the simulator’s CPLC field by field and reports the fields that differ', () => {
    const cplc = buildCplc('se-1', { icType: 'ABCD' });
    const fields = parseCplc(cplc)!;
    expect(fields.icFabricator).toBe('4790');
    expect(fields.icType).toBe('ABCD');
    expect(cplcMismatches(scp03(), cplc)).toEqual([{ field: 'icType', expected: '5167', actual: 'ABCD' }]);
    expect(cplcMismatches(scp03(), buildCplc('se-2'))).toEqual([]);
    // With the 9F7F tag and length in front, as GET DATA answers.
    expect(parseCplc(fromHex(`9F7F2A${toHex(cplc)}`))).toEqual(fields);
    expect(cplcMismatches(scp03(), fromHex('9F7F0100'))).toEqual([{ field: 'cplc', expected: 'a 42-byte CPLC', actual: '9F7F0100' }]);
  });
});

describe('key references', () => {
  it('resolves the example’s file: references into the fleet file, relative to the profile', () => {
    const keys = resolveCardKeys(loadCardProfile(exampleFile('sim-scp03.json')), {});
    expect(toHex(keys.enc!)).toBe('404142434445464748494A4B4C4D4E4F');
    expect(keys).toMatchObject({ scp: '03', i: 0x70, kvn: 48, keyScheme: 'none' });
    expect(keys.references.enc).toBe('file:../default-fleet.json#/ses/0/card/isd/keys/enc');
  });

  it('resolves env: references, and says which variable is missing without showing values', () => {
    const loaded = loadCardProfile(exampleFile('sim-scp02.json'));
    const env = { TSMLAB_SCP02_ENC: '00112233445566778899AABBCCDDEEFF', TSMLAB_SCP02_MAC: '0011223344556677 8899AABBCCDDEEFF' };
    expect(() => resolveCardKeys(loaded, env)).toThrow(
      new KeyRefError('sim-scp02.json: /ixit/keys/dek: env:TSMLAB_SCP02_DEK: environment variable TSMLAB_SCP02_DEK is not set'),
    );
    const keys = resolveCardKeys(loaded, { ...env, TSMLAB_SCP02_DEK: 'FFEEDDCCBBAA99887766554433221100' });
    expect(toHex(keys.mac!)).toBe('00112233445566778899AABBCCDDEEFF');
    const short = { ...env, TSMLAB_SCP02_DEK: '0011' };
    expect(() => resolveCardKeys(loaded, short)).toThrow(/\/ixit\/keys\/dek: env:TSMLAB_SCP02_DEK gives a 2-byte key; SCP02 takes 16, 24 bytes/);
  });

  it('resolves dotted paths and reports a missing field or a non-hex value by reference', () => {
    const file = path.join(tmp, 'keys.json');
    writeFileSync(file, JSON.stringify({ lab: { card7: { master: '000102030405060708090A0B0C0D0E0F', bad: 'xyz' } } }));
    expect(toHex(resolveKeyRef('file:keys.json#lab.card7.master', { dir: tmp }))).toBe('000102030405060708090A0B0C0D0E0F');
    expect(() => resolveKeyRef('file:keys.json#/lab/card8/master', { dir: tmp })).toThrow('file:keys.json#/lab/card8/master: no "card8" in the key file');
    expect(() => resolveKeyRef('file:keys.json#/lab/card7/bad', { dir: tmp })).toThrow(/the value is not hex$/);
    expect(() => resolveKeyRef('file:gone.json#/a', { dir: tmp })).toThrow(/cannot read the key file \(ENOENT\)/);
  });
});
