import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommand, fromHex, toHex } from '../gp/index.ts';
import { SimulatorError } from './errors.ts';
import { persistentSe, readCardSnapshot } from './persistence.ts';
import { SimulatedSe } from './se.ts';
import type { CardState } from './state.ts';
import { cmd, installParams } from './testing-apdus.ts';
import { CENTRAL, fixture } from './test-fixtures.ts';
import { Terminal } from './terminal.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsmlab-se-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PKG = 'F0504159000001';
const MOD = 'F050415900000101';

describe('snapshot and restore', () => {
  it('round-trips the whole card through JSON; the restored card continues where it was', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.install(0x0c, { elf: PKG, module: MOD, app: MOD + 'A1' }));
    t.ok(cmd.personalize(MOD + 'A1'));
    t.ok(cmd.storeData(0x80, 0, 'CAFE'));
    const json = JSON.stringify(se.toJSON());
    const copy = SimulatedSe.fromJSON(json);
    expect(copy.seId).toBe(se.seId);
    expect(copy.toJSON()).toEqual(se.toJSON());
    const { session: _a, ...a } = se.inspect();
    const { session: _b, ...b } = copy.inspect();
    expect(b).toEqual(a);
    // The restored card has a fresh session (ISD selected, no channel) and the same counters.
    const t2 = new Terminal(copy);
    t2.select(CENTRAL);
    expect(t2.open(centralKeys)).toBe(0x9000);
    expect(copy.inspect().securityDomains[1].keySets[0].sequenceCounter).toBe(2);
  });

  it('refuses a snapshot that is not a card state', () => {
    expect(() => SimulatedSe.fromJSON({ hello: 1 })).toThrow(SimulatorError);
    expect(() => SimulatedSe.fromJSON('null')).toThrow(SimulatorError);
    const { se } = fixture('02');
    const s = se.toJSON() as Partial<CardState>;
    delete s.entries;
    expect(() => SimulatedSe.fromJSON(s)).toThrow(/registry/);
  });
});

describe('atomic commands', () => {
  it('a refused command leaves the state exactly as it was, even when it failed half-way', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    t.open(centralKeys);
    const before = se.toJSON();
    // The entry is registered before its footprint is charged against the 100-byte quota: 6A84 must undo both.
    expect(t.send(cmd.install(0x0c, { elf: PKG, module: MOD, app: MOD + 'A1', params: installParams({ nvQuota: 100 }) })).sw).toBe(0x6a84);
    expect(se.toJSON()).toEqual(before);
  });

  it('commits every successful command through onCommit; a card rebuilt from the last commit has it all', () => {
    const commits: CardState[] = [];
    const { se, t, centralKeys } = fixture('02', {}, { onCommit: (s) => commits.push(s) });
    t.select(CENTRAL);
    expect(commits.length).toBe(0); // SELECT changes no persistent state
    t.open(centralKeys); // the sequence counter moves
    expect(commits.length).toBe(1);
    t.ok(cmd.install(0x0c, { elf: PKG, module: MOD, app: MOD + 'A1' }));
    const n = commits.length;
    expect(t.send(cmd.install(0x0c, { elf: PKG, module: MOD, app: MOD + 'A1' })).sw).toBe(0x6a80);
    expect(commits.length).toBe(n);
    // "Kill" the process: only the last committed snapshot survives.
    const revived = SimulatedSe.fromJSON(JSON.parse(JSON.stringify(commits[commits.length - 1])));
    expect(revived.inspect().applications.map((a) => a.aid)).toEqual([MOD + 'A1']);
    expect(revived.toJSON()).toEqual(se.toJSON());
  });

  it('persists to a file atomically and restores from it', () => {
    const path = join(dir, 'se.json');
    const { spec, centralKeys } = fixture('02');
    const se = persistentSe(path, () => new SimulatedSe(spec));
    const t = new Terminal(se);
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.install(0x0c, { elf: PKG, module: MOD, app: MOD + 'A1' }));
    expect(readCardSnapshot(path).entries.some((e) => e.aid === MOD + 'A1')).toBe(true);
    const again = persistentSe(path, () => {
      throw new Error('must restore, not rebuild');
    });
    expect(again.inspect().applications.map((a) => a.aid)).toEqual([MOD + 'A1']);
    writeFileSync(path, '{ torn');
    expect(() => persistentSe(path, () => new SimulatedSe(spec))).toThrow(SimulatorError);
    expect(readFileSync(path, 'utf8')).toBe('{ torn');
  });
});

describe('robustness', () => {
  /** Deterministic PRNG (mulberry32) so a failure reproduces. */
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('never throws and never answers fewer than two bytes to random bytes', () => {
    const { se } = fixture('02');
    const r = rng(7);
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(r() * 40);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
      if (len > 1 && r() < 0.5) bytes[0] = [0x00, 0x80, 0x84][Math.floor(r() * 3)];
      const out = se.process(bytes);
      expect(out.length).toBeGreaterThanOrEqual(2);
    }
    expect(() => JSON.stringify(se.toJSON())).not.toThrow();
  });

  it('survives random GP commands inside an open secure channel', () => {
    const { se, t, centralKeys } = fixture('02');
    const r = rng(11);
    const ins = [0xca, 0xf2, 0xe6, 0xe8, 0xe4, 0xf0, 0xd8, 0xe2, 0x50, 0x82];
    let failures = 0;
    for (let n = 0; n < 600; n++) {
      if (!t.channel) {
        t.select(CENTRAL);
        t.open(centralKeys);
      }
      const data = Uint8Array.from({ length: Math.floor(r() * 60) }, () => Math.floor(r() * 256));
      const c = { cla: 0x80, ins: ins[Math.floor(r() * ins.length)], p1: Math.floor(r() * 256), p2: Math.floor(r() * 256), data, le: 256 };
      try {
        const res = t.send(c);
        expect(res.sw).toBeGreaterThan(0);
        if (res.sw !== 0x9000 && res.sw !== 0x6310) failures++;
      } catch {
        t.channel = undefined; // e.g. the card ended the session; reopen
      }
      const raw = se.process(encodeCommand({ ...c, cla: 0x00 }));
      expect(raw.length).toBeGreaterThanOrEqual(2);
    }
    expect(failures).toBeGreaterThan(0);
    expect(toHex(se.process(fromHex('00A4040000')))).toMatch(/9000$|6283$/);
  });
});
