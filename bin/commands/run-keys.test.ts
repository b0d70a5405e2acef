import { describe, expect, it } from 'vitest';
import { fromHex } from '../../gp/index.ts';
import { defaultFleet } from '../../profiles/fleet.ts';
import { fleetKeys, profileKeys } from './run-keys.ts';

describe('keys the leak scan looks for', () => {
  it('lists every fleet key once, labelled by owner and role', () => {
    const keys = fleetKeys(defaultFleet());
    expect(keys.find((k) => k.value === 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF')?.label).toMatch(/^se-\d (central SD|SD F043454E5452414C2E5344) KVN 30 ENC$/);
    expect(new Set(keys.map((k) => k.value.toUpperCase())).size).toBe(keys.length);
  });

  it("adds a card profile's resolved ISD keys, static or master, and nothing it does not hold", () => {
    const statics = profileKeys('lab07', { scp: '03', i: 0x70, kvn: 0x30, keyScheme: 'none', references: {}, enc: fromHex('11'.repeat(16)), mac: fromHex('22'.repeat(16)), dek: fromHex('33'.repeat(16)) });
    expect(statics).toEqual([
      { label: 'lab07 ISD KVN 30 ENC', value: '11'.repeat(16) },
      { label: 'lab07 ISD KVN 30 MAC', value: '22'.repeat(16) },
      { label: 'lab07 ISD KVN 30 DEK', value: '33'.repeat(16) },
    ]);
    const master = profileKeys('lab08', { scp: '02', i: 0x55, kvn: 1, keyScheme: 'emv', references: {}, master: fromHex('44'.repeat(16)) });
    expect(master).toEqual([{ label: 'lab08 ISD KVN 1 MASTER', value: '44'.repeat(16) }]);
  });
});
