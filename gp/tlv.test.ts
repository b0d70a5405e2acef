import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { pysimGpCommands } from '../test/vectors/index.ts';
import { encodeLength, encodeTlv, findTlv, findTlvDeep, isConstructed, parseTlv, tagHex, tlv, TlvError } from './tlv.ts';

const h = fromHex;
const V = pysimGpCommands();

describe('pySim samples', () => {
  it('card recognition data (GET DATA 66): constructed 66 > 73 > 06/60/63/64', () => {
    const raw = V.cardRecognitionData;
    expect(raw.length).toBe(0x33);
    const [top] = parseTlv(raw);
    expect(top.tag).toBe(0x66);
    const crd = findTlv(top.children, 0x73)!;
    expect(crd.children!.map((c) => tagHex(c.tag))).toEqual(['06', '60', '63', '64']);
    expect(toHex(findTlv(crd.children, 0x06)!.value)).toBe('2A864886FC6B01');
    expect(toHex(findTlv(findTlv(crd.children, 0x60)!.children, 0x06)!.value)).toBe('2A864886FC6B02020101');
    // Tag 64 names the SCP of the ISD: {globalPlatform 4 02 15}.
    expect(toHex(findTlvDeep([top], 0x64)!.children![0].value)).toBe('2A864886FC6B040215');
    expect(toHex(encodeTlv(top))).toBe(toHex(raw));
  });

  it('key information template entries (C0 04 KID KVN type length)', () => {
    const entries = ['C00401708010', 'C00402708010', 'C00403708010', 'C00402038810'];
    const listed = V.keyInformation.map((k) => toHex(k.tlv));
    for (const e of entries) expect(listed).toContain(e);
    const template = tlv(0xe0, entries.map(h));
    const [e0] = parseTlv(template);
    expect(e0.children!.length).toBe(4);
    const aes = e0.children![3];
    expect(aes.tag).toBe(0xc0);
    expect(toHex(aes.value)).toBe('02038810');
  });

  it('install parameters C9 / EF {C8, C7, CA}', () => {
    const raw = V.installParameters.quotas256;
    const list = parseTlv(raw);
    expect(list.map((t) => tagHex(t.tag))).toEqual(['C9', 'EF']);
    expect(list[0].value.length).toBe(0);
    const ef = list[1].children!;
    expect(ef.map((t) => tagHex(t.tag))).toEqual(['C8', 'C7', 'CA']);
    expect(toHex(findTlv(ef, 0xc8)!.value)).toBe('0100');
    expect(toHex(findTlv(ef, 0xca)!.value)).toBe(toHex(V.installParameters.stkParameters));
    expect(toHex(list.map(encodeTlv).reduce((a, b) => new Uint8Array([...a, ...b])))).toBe(toHex(raw));
  });
});

describe('tags', () => {
  it('multi-byte tags: 9F7F, BF3E, DF 81 02 and 4-byte', () => {
    const [a, b, c] = parseTlv(h('9F7F0101 BF3E03 5A0100 DF810201AA'));
    expect(tagHex(a.tag)).toBe('9F7F');
    expect(tagHex(b.tag)).toBe('BF3E');
    expect(isConstructed(b.tag)).toBe(true);
    expect(b.children![0].tag).toBe(0x5a);
    expect(tagHex(c.tag)).toBe('DF8102');
    expect(toHex(tlv(0xdf8102, h('AA')))).toBe('DF810201AA');
    expect(tagHex(parseTlv(h('5F8181010100'))[0].tag)).toBe('5F818101');
  });

  it('rejects a tag longer than 4 bytes and a truncated tag', () => {
    expect(() => parseTlv(h('5F8181818101'))).toThrow(/tag longer than 4 bytes at offset 0/);
    expect(() => parseTlv(h('01009F'))).toThrow(/truncated tag at offset 2/);
  });
});

describe('lengths', () => {
  it('encodes short, 81, 82 and 83 forms', () => {
    expect(toHex(encodeLength(0x7f))).toBe('7F');
    expect(toHex(encodeLength(0x80))).toBe('8180');
    expect(toHex(encodeLength(0xff))).toBe('81FF');
    expect(toHex(encodeLength(0x100))).toBe('820100');
    expect(toHex(encodeLength(0x10000))).toBe('83010000');
  });

  it('parses 81 and 82 lengths (round trip of 200 and 600 bytes)', () => {
    for (const n of [200, 600]) {
      const v = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
      const enc = tlv(0xc4, v);
      expect(enc[1]).toBe(n < 256 ? 0x81 : 0x82);
      const [t] = parseTlv(enc);
      expect(t.value.length).toBe(n);
      expect(toHex(t.value)).toBe(toHex(v));
    }
  });

  it('rejects indefinite length, too long a length field, missing and truncated lengths', () => {
    expect(() => parseTlv(h('7380'))).toThrow(/indefinite length not allowed at offset 1/);
    expect(() => parseTlv(h('C08401000000'))).toThrow(/length field of 4 bytes at offset 1/);
    expect(() => parseTlv(h('C001AA C1'))).toThrow(/missing length at offset 4/);
    expect(() => parseTlv(h('C08201'))).toThrow(/truncated length at offset 1/);
  });
});

describe('constructed objects and errors with offsets', () => {
  it('reports the value overrun at the offset of the offending tag, also when nested', () => {
    expect(() => parseTlv(h('4F03A000'))).toThrow(TlvError);
    try {
      parseTlv(h('E30A 4F05A000000003 9F7003'));
      expect.unreachable();
    } catch (e) {
      // E3's 10 bytes fit; inside it 9F70 (offset 9) claims 3 bytes with none left.
      expect(e).toBeInstanceOf(TlvError);
      expect((e as TlvError).offset).toBe(9);
    }
  });

  it('findTlvDeep walks the tree; findTlv stays on one level', () => {
    const list = parseTlv(h('E30D 4F07A0000000030000 9F700107'));
    expect(findTlv(list, 0x4f)).toBeUndefined();
    expect(toHex(findTlvDeep(list, 0x9f70)!.value)).toBe('07');
    expect(list[0].children![1].offset).toBe(11);
  });

  it('non-recursive parsing keeps the raw value', () => {
    const [e3] = parseTlv(h('E3034F0100'), { recursive: false });
    expect(e3.children).toBeUndefined();
    expect(toHex(e3.value)).toBe('4F0100');
  });

  it('skips 00/FF padding only when asked', () => {
    const raw = h('00FF5A01AA00');
    expect(parseTlv(raw, { skipPadding: true }).map((t) => t.tag)).toEqual([0x5a]);
    // Without it, 00 is a tag and FF a (bad) length byte.
    expect(() => parseTlv(raw)).toThrow(TlvError);
  });

  it('guards against hostile nesting depth', () => {
    let v: Uint8Array = h('5A00');
    for (let i = 0; i < 20; i++) v = tlv(0x70, v);
    expect(() => parseTlv(v)).toThrow(/nesting too deep/);
    expect(parseTlv(v, { maxDepth: 32 })[0].tag).toBe(0x70);
  });
});
