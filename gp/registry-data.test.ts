import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import {
  CPLC_SIZE,
  decodeApplicationList,
  decodeCardRecognitionData,
  decodeCplc,
  decodeCplcDate,
  decodeExtendedCardResources,
  decodeGetStatusResponse,
  decodeOid,
  encodeApplicationList,
  encodeCplc,
  encodeExtendedCardResources,
  encodeGetStatusResponse,
  encodeLegacyEntry,
  encodeRegistryEntry,
  RegistryDataError,
  type RegistryEntry,
  splitGetStatusResponse,
} from './registry-data.ts';
import { pysimGpCommands } from '../test/vectors/index.ts';

const h = fromHex;

const ISD: RegistryEntry = { aid: h('A000000151000000'), lifeCycle: 0x0f, privileges: h('9EFE80') };
const APP: RegistryEntry = { aid: h('D07002CA44900101'), lifeCycle: 0x07, privileges: h('000000'), loadFileAid: h('D07002CA44'), sdAid: h('A000000151000000'), implicitSelection: [0x81] };
const ELF: RegistryEntry = { aid: h('D07002CA44'), lifeCycle: 0x01, version: h('0100'), modules: [h('D07002CA44900101')], sdAid: h('A000000151000000') };

describe('GET STATUS, P2 02 (E3 templates, Tables 11-36/11-37)', () => {
  it('encodes the ISD entry byte for byte', () => {
    expect(toHex(encodeRegistryEntry(ISD))).toBe('E313' + '4F08A000000151000000' + '9F70010F' + 'C5039EFE80');
  });

  it('load file entries carry CE, 84 and CC', () => {
    expect(toHex(encodeRegistryEntry(ELF))).toBe('E323' + '4F05D07002CA44' + '9F700101' + 'CE020100' + '8408D07002CA44900101' + 'CC08A000000151000000');
  });

  it('a tag list selects and orders the objects', () => {
    expect(toHex(encodeRegistryEntry(APP, [0x4f, 0xc4]))).toBe('E3114F08D07002CA4490010' + '1C405D07002CA44');
  });

  it('round-trips several entries and keeps unknown tags', () => {
    const withOther: RegistryEntry = { ...APP, other: [{ tag: 0x9f6e, value: h('0102'), offset: 0 }] };
    const raw = encodeGetStatusResponse([ISD, withOther], { format: 'tlv', subset: 'applications' });
    const back = decodeGetStatusResponse(raw, { format: 'tlv', subset: 'applications' });
    expect(back.length).toBe(2);
    expect(toHex(back[1].loadFileAid!)).toBe('D07002CA44');
    expect(back[1].implicitSelection).toEqual([0x81]);
    expect(back[1].other![0].tag).toBe(0x9f6e);
    expect(toHex(encodeRegistryEntry(back[0]))).toBe(toHex(encodeRegistryEntry(ISD)));
  });

  it('rejects non-E3 objects, missing AIDs and broken TLV', () => {
    expect(() => decodeGetStatusResponse(h('61034F0100'), { format: 'tlv', subset: 'applications' })).toThrow(/not an 'E3'/);
    expect(() => decodeGetStatusResponse(h('E3039F7001'), { format: 'tlv', subset: 'applications' })).toThrow(RegistryDataError);
    expect(() => decodeGetStatusResponse(h('E3034F05'), { format: 'tlv', subset: 'applications' })).toThrow(/offset/);
  });
});

describe('GET STATUS, P2 00 (legacy fixed format)', () => {
  it('AID length ‖ AID ‖ life cycle ‖ privilege byte', () => {
    expect(toHex(encodeLegacyEntry(ISD, 'isd'))).toBe('08A0000001510000000F9E');
    const raw = encodeGetStatusResponse([ISD, APP], { format: 'legacy', subset: 'applications' });
    const back = decodeGetStatusResponse(raw, { format: 'legacy', subset: 'applications' });
    expect(back.map((e) => [toHex(e.aid), e.lifeCycle, toHex(e.privileges!)])).toEqual([
      ['A000000151000000', 0x0f, '9E'],
      ['D07002CA44900101', 0x07, '00'],
    ]);
  });

  it('load files with modules add the module count and LV modules', () => {
    expect(toHex(encodeLegacyEntry(ELF, 'load-files-and-modules'))).toBe('05D07002CA44' + '01' + '00' + '01' + '08D07002CA44900101');
    const back = decodeGetStatusResponse(encodeLegacyEntry(ELF, 'load-files-and-modules'), { format: 'legacy', subset: 'load-files-and-modules' });
    expect(toHex(back[0].modules![0])).toBe('D07002CA44900101');
  });

  it('truncated legacy data names the offset', () => {
    expect(() => decodeGetStatusResponse(h('08A0000001510000'), { format: 'legacy', subset: 'applications' })).toThrow(/truncated at offset 1/);
    expect(() => decodeGetStatusResponse(h('02A000'), { format: 'legacy', subset: 'applications' })).toThrow(/AID length 2/);
  });
});

describe('paging', () => {
  it('splits whole entries into pages of at most maxLength bytes', () => {
    const entries = Array.from({ length: 20 }, (_, k) => encodeRegistryEntry({ ...APP, aid: h(`D07002CA4490${k.toString(16).padStart(2, '0')}01`) }));
    const pages = splitGetStatusResponse(entries, 100);
    expect(pages.every((p) => p.length <= 100)).toBe(true);
    const all = pages.flatMap((p) => decodeGetStatusResponse(p, { format: 'tlv', subset: 'applications' }));
    expect(all.length).toBe(20);
    expect(() => splitGetStatusResponse([new Uint8Array(300)], 256)).toThrow(RegistryDataError);
  });
});

describe("GET DATA '2F00' (61 templates)", () => {
  it('encodes and decodes application templates', () => {
    const raw = encodeApplicationList([{ aid: h('A0000000041010'), label: 'PAY' }, { aid: h('D07002CA44900101') }]);
    expect(toHex(raw)).toBe('610E4F07A0000000041010500350415' + '9' + '610A4F08D07002CA44900101');
    expect(decodeApplicationList(raw)).toEqual([{ aid: h('A0000000041010'), label: 'PAY' }, { aid: h('D07002CA44900101') }]);
    expect(() => decodeApplicationList(h('E3034F0100'))).toThrow(/not '61'/);
    expect(() => decodeApplicationList(h('6103500100'))).toThrow(/without '4F'/);
  });
});

describe('CPLC', () => {
  it('42 bytes in 18 fields; dates are YDDD', () => {
    const cplc = encodeCplc({ icFabricator: h('4790'), icType: h('5167'), operatingSystemReleaseDate: h('8102'), icSerialNumber: h('01020304'), icPersonalizationDate: h('0000') });
    expect(cplc.length).toBe(CPLC_SIZE);
    const fields = decodeCplc(h('9F7F2A' + toHex(cplc)));
    expect(fields.length).toBe(18);
    expect(fields.find((f) => f.name === 'icSerialNumber')).toMatchObject({ offset: 12, hex: '01020304' });
    expect(fields.find((f) => f.name === 'operatingSystemReleaseDate')!.date).toEqual({ yearDigit: 8, dayOfYear: 102 });
    expect(fields.find((f) => f.name === 'icPersonalizationDate')!.date).toBeUndefined();
    expect(decodeCplc(cplc)[0].hex).toBe('4790');
  });
  it('dates and errors', () => {
    expect(decodeCplcDate(h('3366'))).toEqual({ yearDigit: 3, dayOfYear: 366 });
    expect(decodeCplcDate(h('3367'))).toBeUndefined();
    expect(decodeCplcDate(h('1A01'))).toBeUndefined();
    expect(() => decodeCplc(new Uint8Array(41))).toThrow(/41 bytes/);
    expect(() => encodeCplc({ icType: h('01') })).toThrow(/2 bytes/);
    expect(() => encodeCplc({ serial: h('01') })).toThrow(/unknown CPLC field/);
  });
});

describe("Extended Card Resources 'FF21'", () => {
  it('encodes minimal integers and decodes with or without the wrapper', () => {
    const r = { installedApplications: 3, freeNonVolatileMemory: 70000, freeVolatileMemory: 2048 };
    const raw = encodeExtendedCardResources(r);
    expect(toHex(raw)).toBe('FF210C' + '810103' + '8203011170' + '83020800');
    expect(decodeExtendedCardResources(raw)).toEqual(r);
    expect(decodeExtendedCardResources(h('810100820100830100'))).toEqual({ installedApplications: 0, freeNonVolatileMemory: 0, freeVolatileMemory: 0 });
    expect(() => decodeExtendedCardResources(h('FF2103810101'))).toThrow(/'82'/);
  });
});

describe("Card Recognition Data '66'", () => {
  it('decodes the pySim sample: GP 2.1.1, ISD SCP 02 with i=15', () => {
    const crd = decodeCardRecognitionData(pysimGpCommands().cardRecognitionData);
    expect(crd.gpVersion).toBe('2.1.1');
    expect(crd.secureChannels).toEqual([{ scp: 2, i: 0x15 }]);
  });
  it('OIDs', () => {
    expect(decodeOid(h('2A864886FC6B01'))).toEqual([1, 2, 840, 114283, 1]);
    expect(decodeOid(h('2A864886FC6B020203'))).toEqual([1, 2, 840, 114283, 2, 2, 3]);
    expect(() => decodeOid(h('2A86'))).toThrow(/inside an arc/);
    expect(() => decodeCardRecognitionData(h('660300'))).toThrow(RegistryDataError);
  });
});
