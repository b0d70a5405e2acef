/**
 * Card answers whose BER-TLV lengths use the long form where the short form would do ('81 05', '82 00 05'),
 * as some real cards encode them. The simulator's own answers (GET STATUS, GET DATA '66', '9F7F', 'FF21',
 * '00E0', the SD's FCI) are re-encoded that way and every host-side decoder must read the same values; input
 * that is really malformed is still refused with a message naming the problem.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeCardRecognitionData,
  decodeCplc,
  decodeExtendedCardResources,
  decodeGetStatusResponse,
  fromHex,
  parseKeyInformationTemplate,
  parseTlv,
  type Tlv,
  toHex,
} from '../gp/index.ts';
import { cmd } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture } from './test-fixtures.ts';

/** Tag bytes as they were on the wire (parseTlv keeps the tag as a number). */
function tagBytes(tag: number): number[] {
  const out: number[] = [];
  for (let t = tag; t > 0 || out.length === 0; t = Math.floor(t / 256)) out.unshift(t & 0xff);
  return out;
}

/** The same objects with every length in the long form: '81 LL' (width 1) or '82 00 LL' / '82 HH LL' (width 2). */
function longForm(objects: Tlv[], width: 1 | 2): Uint8Array {
  const parts: number[] = [];
  for (const t of objects) {
    const value = t.children ? longForm(t.children, width) : t.value;
    const len = value.length;
    const lengthBytes = width === 1 && len < 256 ? [0x81, len] : [0x82, len >> 8, len & 0xff];
    parts.push(...tagBytes(t.tag), ...lengthBytes, ...value);
  }
  return Uint8Array.from(parts);
}

function reencode(data: Uint8Array, width: 1 | 2): Uint8Array {
  const out = longForm(parseTlv(data), width);
  // The re-encoding must really differ from the card's short-form answer, or the test proves nothing.
  expect(toHex(out)).not.toBe(toHex(data));
  return out;
}

function card() {
  const f = fixture('03', {
    instances: [{ aid: 'F050415900000101AA', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL, size: 16 }],
  });
  expect(f.t.select(ISD).sw).toBe(0x9000);
  expect(f.t.open(f.isdKeys)).toBe(0x9000);
  return f;
}

describe('BER-TLV lengths in the long form where the short form would do', () => {
  for (const width of [1, 2] as const) {
    const form = width === 1 ? "'81 LL'" : "'82 00 LL'";
    it(`GET STATUS registry data (E3 templates) with ${form}`, () => {
      const { t } = card();
      for (const [p1, subset] of [
        [0x80, 'isd'],
        [0x40, 'applications'],
        [0x10, 'load-files-and-modules'],
      ] as const) {
        const data = t.ok(cmd.getStatus(p1));
        const expected = decodeGetStatusResponse(data, { format: 'tlv', subset });
        expect(expected.length).toBeGreaterThan(0);
        expect(decodeGetStatusResponse(reencode(data, width), { format: 'tlv', subset })).toEqual(expected.map((e) => ({ ...e })));
      }
    });

    it(`GET DATA '66', '9F7F', 'FF21', '00E0' with ${form}`, () => {
      const { t } = card();
      const cardData = t.ok(cmd.getData(0x66));
      expect(decodeCardRecognitionData(reencode(cardData, width))).toEqual(decodeCardRecognitionData(cardData));
      const cplc = t.ok(cmd.getData(0x9f7f));
      expect(decodeCplc(reencode(cplc, width))).toEqual(decodeCplc(cplc));
      const resources = t.ok(cmd.getData(0xff21));
      expect(decodeExtendedCardResources(reencode(resources, width))).toEqual(decodeExtendedCardResources(resources));
      const keyInfo = t.ok(cmd.getData(0xe0));
      const keys = parseKeyInformationTemplate(keyInfo);
      expect(keys.length).toBeGreaterThan(0);
      expect(parseKeyInformationTemplate(reencode(keyInfo, width))).toEqual(keys);
    });
  }

  it("a literal answer as a card sent it: FF21 and its counters with '81 LL' and '82 00 LL' lengths", () => {
    expect(decodeExtendedCardResources(fromHex('FF21 81 0E 81 01 05 82 82 00 02 7F00 83 81 02 0800'))).toEqual({
      installedApplications: 5,
      freeNonVolatileMemory: 0x7f00,
      freeVolatileMemory: 0x0800,
    });
  });

  it('still refuses what no card may send, saying what is wrong', () => {
    // Indefinite length ('80'), a value running past the data, a length field of more than three bytes, a cut length.
    expect(() => decodeExtendedCardResources(fromHex('FF21 80 81 01 05 0000'))).toThrow(/extended card resources: indefinite length not allowed at offset 2/);
    expect(() => decodeExtendedCardResources(fromHex('FF21 81 10 81 01 05'))).toThrow(/value of 16 bytes runs past the end \(3 left\)/);
    expect(() => decodeCplc(fromHex('9F7F 84 0000002A'))).toThrow(/CPLC: length field of 4 bytes/);
    expect(() => decodeGetStatusResponse(fromHex('E3 82 00'), { format: 'tlv', subset: 'isd' })).toThrow(/GET STATUS response: truncated length/);
  });
});
