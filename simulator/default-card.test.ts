import { describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { DEFAULT_ISD_AID, DEFAULT_KEY, DEFAULT_MEMORY, DEFAULT_PACKAGES, defaultCardSpec, defaultKeySet, defaultSeSpec } from './default-card.ts';
import { createSimulatedSe } from './factory.ts';
import { cmd } from './testing-apdus.ts';
import { Terminal } from './terminal.ts';

describe('default card helpers', () => {
  it('build a card with GP default keys, 64 KiB / 4 KiB and pre-loaded packages under the central SD', () => {
    const spec = defaultSeSpec();
    expect(spec.card.isd).toEqual({ aid: DEFAULT_ISD_AID, keys: { kvn: 0x30, scp: '03', i: '70', enc: DEFAULT_KEY, mac: DEFAULT_KEY, dek: DEFAULT_KEY } });
    const se = createSimulatedSe(spec);
    const v = se.inspect();
    expect(v.memory.nonVolatile.total).toBe(DEFAULT_MEMORY.nonVolatile);
    expect(v.memory.volatile.total).toBe(DEFAULT_MEMORY.volatile);
    for (const p of DEFAULT_PACKAGES) {
      expect(v.packages.find((q) => q.aid === p.aid)).toMatchObject({ associatedSd: spec.centralSd.aid, nonVolatile: p.size });
    }
    const used = DEFAULT_PACKAGES.reduce((n, p) => n + p.size, 0);
    expect(v.memory.nonVolatile.used).toBeGreaterThan(used);
  });

  it('take overrides without sharing state between cards', () => {
    const a = defaultCardSpec({ memory: { nonVolatile: 1000, volatile: 10 }, packages: [] });
    expect(a.memory).toEqual({ nonVolatile: 1000, volatile: 10 });
    const b = defaultCardSpec();
    b.packages![0].size = 1;
    expect(defaultCardSpec().packages![0].size).toBe(DEFAULT_PACKAGES[0].size);
    expect(defaultKeySet({ scp: '02' })).toMatchObject({ scp: '02', i: '55' });
  });

  it('every SE of the built-in fleet builds and opens its ISD and central SD with the fleet keys', () => {
    for (const spec of defaultFleet().ses) {
      const t = new Terminal(createSimulatedSe(spec));
      expect(t.select(spec.card.isd.aid).sw).toBe(0x9000);
      expect(t.open(spec.card.isd.keys)).toBe(0x9000);
      expect(t.select(spec.centralSd.aid).sw).toBe(0x9000);
      expect(t.open(spec.centralSd.keys)).toBe(0x9000);
      expect(t.send(cmd.getStatus(0x40)).sw).toBe(0x9000);
    }
  });
});
