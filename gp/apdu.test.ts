import { describe, expect, it } from 'vitest';
import { ApduError, apduCase, type CommandApdu, encodeCommand, encodeResponse, parseCommand, parseResponse, swOnly } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';

const h = fromHex;

describe('command APDUs, short length (ISO/IEC 7816-3 §12.1.3)', () => {
  const cases: [string, CommandApdu, string, number][] = [
    ['case 1', { cla: 0x80, ins: 0xf2, p1: 0x20, p2: 0x02 }, '80F22002', 1],
    ['case 2', { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, le: 256 }, '80CA006600', 2],
    ['case 2, Le 10', { cla: 0x00, ins: 0xb0, p1: 0x00, p2: 0x00, le: 0x10 }, '00B0000010', 2],
    ['case 3', { cla: 0x80, ins: 0xf2, p1: 0x20, p2: 0x02, data: h('4f0212345c054f9f70c5') }, '80F220020A4F0212345C054F9F70C5', 3],
    ['case 4', { cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: h('4f00'), le: 256 }, '80F28002024F0000', 4],
  ];
  for (const [name, cmd, hex, kase] of cases) {
    it(`${name}: encodes, parses back and classifies`, () => {
      expect(toHex(encodeCommand(cmd))).toBe(hex);
      expect(apduCase(cmd)).toBe(kase);
      const back = parseCommand(h(hex));
      expect(back.cla).toBe(cmd.cla);
      expect(back.ins).toBe(cmd.ins);
      expect(back.p1).toBe(cmd.p1);
      expect(back.p2).toBe(cmd.p2);
      expect(back.le).toBe(cmd.le);
      expect(toHex(back.data ?? new Uint8Array(0))).toBe(toHex(cmd.data ?? new Uint8Array(0)));
    });
  }

  it('treats empty data like no data (case 1)', () => {
    expect(toHex(encodeCommand({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: new Uint8Array(0) }))).toBe('00A40400');
  });
});

describe('command APDUs, extended length', () => {
  const data300 = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);

  it('case 2E: 00 Le1 Le2; Ne 65536 is 0000', () => {
    expect(toHex(encodeCommand({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 1000 }))).toBe('00B00000' + '0003E8');
    expect(toHex(encodeCommand({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 65536 }))).toBe('00B00000' + '000000');
    expect(parseCommand(h('00B00000000000')).le).toBe(65536);
    expect(parseCommand(h('00B000000003E8')).le).toBe(1000);
  });

  it('case 3E and 4E: 00 Lc1 Lc2 data [Le1 Le2]', () => {
    const c3 = encodeCommand({ cla: 0x80, ins: 0xe8, p1: 0, p2: 0, data: data300 });
    expect(toHex(c3.subarray(0, 7))).toBe('80E80000' + '00012C');
    expect(c3.length).toBe(7 + 300);
    const c4 = encodeCommand({ cla: 0x80, ins: 0xe8, p1: 0, p2: 0, data: data300, le: 65536 });
    expect(toHex(c4.subarray(c4.length - 2))).toBe('0000');
    const back = parseCommand(c4);
    expect(back.le).toBe(65536);
    expect(toHex(back.data!)).toBe(toHex(data300));
    expect(parseCommand(c3).le).toBeUndefined();
  });

  it('forced extended length for a small command round-trips', () => {
    const cmd: CommandApdu = { cla: 0, ins: 0xa4, p1: 4, p2: 0, data: h('A000000151000000'), le: 256 };
    const raw = encodeCommand(cmd, true);
    expect(toHex(raw)).toBe('00A40400' + '000008' + 'A000000151000000' + '0100');
    const back = parseCommand(raw);
    expect(back.le).toBe(256);
    expect(toHex(back.data!)).toBe('A000000151000000');
  });
});

describe('malformed commands -> ApduError', () => {
  const bad: [string, string][] = [
    ['shorter than a header', '80CA00'],
    ['Lc larger than the body', '80E2910006BF3E035C'],
    ['Lc smaller than the body by 2+', '80F220020A4F0212345C054F9F70C5AABB'],
    ['truncated extended length', '80E800000001'],
    ['extended Lc of zero', '80E80000000000AA'],
    ['extended Lc inconsistent', '80E8000000000512'],
  ];
  for (const [name, hex] of bad) {
    it(name, () => expect(() => parseCommand(h(hex))).toThrow(ApduError));
  }

  it('header bytes out of range and oversize fields', () => {
    expect(() => encodeCommand({ cla: 0x100, ins: 0, p1: 0, p2: 0 })).toThrow(/CLA out of range/);
    expect(() => encodeCommand({ cla: 0, ins: 0, p1: -1, p2: 0 })).toThrow(ApduError);
    expect(() => encodeCommand({ cla: 0, ins: 0, p1: 0, p2: 0, le: 65537 })).toThrow(/Le out of range/);
    expect(() => encodeCommand({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(65536) })).toThrow(/too long/);
  });
});

describe('response APDUs', () => {
  it('splits data and SW, and encodes back', () => {
    const r = parseResponse(h('6F108408A000000151000000A5049F6501FF9000'));
    expect(r.sw).toBe(0x9000);
    expect(toHex(r.data)).toBe('6F108408A000000151000000A5049F6501FF');
    expect(toHex(encodeResponse(r))).toBe('6F108408A000000151000000A5049F6501FF9000');
  });

  it('a bare status word', () => {
    expect(parseResponse(h('6A82'))).toEqual({ data: new Uint8Array(0), sw: 0x6a82 });
    expect(toHex(swOnly(0x6310))).toBe('6310');
  });

  it('rejects fewer than two bytes', () => {
    expect(() => parseResponse(h('90'))).toThrow(ApduError);
    expect(() => parseResponse(new Uint8Array(0))).toThrow(ApduError);
  });
});
