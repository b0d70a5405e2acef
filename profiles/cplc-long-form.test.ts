/**
 * The CPLC check of the real-card guard reads GET DATA '9F7F' as cards send it: the 42 bytes bare, or inside
 * '9F7F' with the length in the short form ('2A') or a long form ('81 2A', '82 00 2A'). A CPLC that is not
 * 42 bytes, or a wrapper whose length is broken, is still a mismatch the guard refuses.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../gp/index.ts';
import { buildCplc } from '../simulator/cplc.ts';
import { cplcBytes, cplcMismatches, loadCardProfile, parseCplc } from './card-profile.ts';

const profile = () => loadCardProfile(new URL('./examples/sim-scp03.json', import.meta.url).pathname).profile;

describe("CPLC in GET DATA '9F7F' answers", () => {
  const cplc = buildCplc('se-1', {});
  const fields = parseCplc(cplc)!;

  it("reads '9F7F 2A', '9F7F 81 2A' and '9F7F 82 00 2A' alike", () => {
    expect(fields.icFabricator).toBe('4790');
    for (const length of ['2A', '812A', '82002A']) {
      expect(parseCplc(fromHex(`9F7F${length}${toHex(cplc)}`))).toEqual(fields);
      expect(cplcMismatches(profile(), fromHex(`9F7F${length}${toHex(cplc)}`))).toEqual([]);
      // The bytes kept as the sample's identity are the 42 CPLC bytes, not the length's tail.
      expect(toHex(cplcBytes(fromHex(`9F7F${length}${toHex(cplc)}`))!)).toBe(toHex(cplc));
    }
  });

  it('refuses a CPLC of the wrong size and a wrapper whose length is broken', () => {
    expect(parseCplc(fromHex(`9F7F29${toHex(cplc.subarray(0, 41))}`))).toBeUndefined();
    expect(parseCplc(fromHex(`9F7F80${toHex(cplc)}`))).toBeUndefined();
    expect(parseCplc(fromHex(`9F7F812B${toHex(cplc)}`))).toBeUndefined();
    expect(cplcMismatches(profile(), fromHex(`9F7F80${toHex(cplc)}`))).toEqual([{ field: 'cplc', expected: 'a 42-byte CPLC', actual: `9F7F80${toHex(cplc)}` }]);
  });
});
