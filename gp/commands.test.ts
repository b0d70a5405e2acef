import { describe, expect, it } from 'vitest';
import { encodeCommand, parseCommand } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';
import { insName } from './instructions.ts';
import {
  CommandFormatError,
  deleteCardContent,
  deleteKey,
  externalAuthenticate,
  getData,
  GetDataTag,
  getStatus,
  getStatusNext,
  initializeUpdate,
  parseDelete,
  parseExternalAuthenticate,
  parseGetData,
  parseGetStatus,
  parseInitializeUpdate,
  parsePutKeyHeader,
  parseSelect,
  parseSetStatus,
  parseStoreData,
  selectByAid,
  setContactlessActivation,
  setStatus,
  splitTagList,
  storeData,
  storeDataBlocks,
} from './commands.ts';
import { pysimGpCommands, pysimScp03Case, pysimScp03Plain } from '../test/vectors/index.ts';

const h = fromHex;
const hex = (c: Parameters<typeof encodeCommand>[0]) => toHex(encodeCommand(c));
const gpVectors = pysimGpCommands();
const plain = (label: string) => toHex(pysimScp03Plain(label));

describe('SELECT', () => {
  it('by name, first and next occurrence, ISD without AID', () => {
    expect(hex(selectByAid(h('A000000151000000')))).toBe('00A4040008A00000015100000000');
    expect(hex(selectByAid(h('A0000001'.padEnd(10, '0')), { next: true }))).toBe('00A4040205A00000010000');
    expect(hex(selectByAid(new Uint8Array(0)))).toBe('00A4040000');
    expect(hex(selectByAid(h('A000000151000000'), { cla: 0x01 })).slice(0, 2)).toBe('01');
  });
  it('parses and rejects other P1/P2', () => {
    expect(toHex(parseSelect(parseCommand(h('00A4040008A00000015100000000'))).aid)).toBe('A000000151000000');
    expect(() => parseSelect({ cla: 0, ins: 0xa4, p1: 0x00, p2: 0, data: h('3F00') })).toThrow(expect.objectContaining({ sw: 0x6a86 }));
    expect(() => parseSelect({ cla: 0, ins: 0xa4, p1: 0x04, p2: 0x0c })).toThrow(CommandFormatError);
  });
});

describe('INITIALIZE UPDATE / EXTERNAL AUTHENTICATE', () => {
  it('match the pySim SCP03 C-APDUs', () => {
    const c = pysimScp03Case('AES128_11');
    expect(hex(initializeUpdate(c.keySet.kvn, c.hostChallenge))).toBe(toHex(c.initializeUpdate));
    expect(hex(externalAuthenticate(c.level, c.externalAuthenticate.subarray(5)))).toBe(toHex(c.externalAuthenticate));
    const ea = parseExternalAuthenticate(parseCommand(c.externalAuthenticate));
    expect(ea.level).toBe(0x11);
    expect(toHex(ea.hostCryptogram)).toBe(toHex(c.hostCryptogram));
    expect(parseInitializeUpdate(parseCommand(c.initializeUpdate)).kvn).toBe(0x30);
    expect(() => parseInitializeUpdate({ cla: 0x80, ins: 0x50, p1: 0, p2: 0, data: h('0102') })).toThrow(expect.objectContaining({ sw: 0x6700 }));
  });
});

describe('GET DATA', () => {
  it('card recognition data (pySim #3 case 2) and the GP tags', () => {
    expect(hex(getData(GetDataTag.CARD_DATA))).toBe(plain('#3 case 2').toUpperCase());
    expect(hex(getData(GetDataTag.CPLC))).toBe('80CA9F7F00');
    expect(hex(getData(GetDataTag.EXTENDED_CARD_RESOURCES))).toBe('80CAFF2100');
    expect(hex(getData(GetDataTag.KEY_INFORMATION))).toBe('80CA00E000');
    expect(hex(getData(GetDataTag.IIN))).toBe('80CA004200');
  });
  it("2F00 carries the tag list '5C 00' (§11.3.2.2)", () => {
    expect(hex(getData(GetDataTag.LIST_OF_APPLICATIONS))).toBe('80CA2F00025C0000');
    expect(parseGetData(parseCommand(h('80CA2F00025C0000')))).toEqual({ tag: 0x2f00, tagList: new Uint8Array(0) });
    expect(parseGetData(parseCommand(h('80CA9F7F00')))).toEqual({ tag: 0x9f7f });
  });
});

describe('GET STATUS', () => {
  it('pySim #4 (case 3) and #5 (case 4) layouts', () => {
    const c3 = getStatus({ subset: 'load-files', aid: h('1234'), tagList: [0x4f, 0x9f70, 0xc5] });
    // pySim's test APDU declares '5C 05' for the 4 bytes 4F 9F70 C5 (its Lc of 0A counts 4 tag-list bytes);
    // the builder writes the correct length, otherwise the same bytes.
    expect(plain('#4 case 3')).toBe('80F220020A4F0212345C054F9F70C5');
    expect(hex({ ...c3, le: undefined })).toBe('80F220020A4F0212345C044F9F70C5');
    expect(hex(getStatus({ subset: 'isd' }))).toBe(plain('#5 case 4'));
  });
  it('legacy format, next occurrence, subsets by number', () => {
    const first = getStatus({ subset: 'applications', format: 'legacy' });
    expect(hex(first)).toBe('80F24000024F0000');
    expect(hex(getStatusNext(getStatus({ subset: 0x10 })))).toBe('80F21003024F0000');
    expect(() => getStatus({ subset: 0x30 })).toThrow(RangeError);
  });
  it('parses search criteria, tag list and flags', () => {
    const p = parseGetStatus(parseCommand(h('80F24003 0D 4F05A000000003 5C044F9F70C5 00')));
    expect(p).toMatchObject({ subset: 'applications', format: 'tlv', next: true, tagList: [0x4f, 0x9f70, 0xc5] });
    expect(toHex(p.aid)).toBe('A000000003');
    expect(() => parseGetStatus(parseCommand(h('80F2300200')))).toThrow(expect.objectContaining({ sw: 0x6a86 }));
    expect(() => parseGetStatus({ cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: h('5C014F') })).toThrow(/4F/);
    expect(() => parseGetStatus({ cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: h('4F05A0') })).toThrow(expect.objectContaining({ sw: 0x6a80 }));
    expect(splitTagList(h('4F9F70C5DF8101'))).toEqual([0x4f, 0x9f70, 0xc5, 0xdf8101]);
  });
});

describe('DELETE', () => {
  it('pySim removal layout: related objects bit', () => {
    expect(hex(deleteCardContent(gpVectors.helloStk.loadFileAid, { related: true }))).toBe(toHex(gpVectors.install.deleteLoadFile));
  });
  it('keys, tokens, parse round trips and errors', () => {
    expect(hex(deleteKey({ keyId: 1, kvn: 0x30 }))).toBe('80E4000006D00101D2013000');
    expect(parseDelete(deleteKey({ kvn: 0x30 }))).toEqual({ kind: 'key', kvn: 0x30, related: false, more: false });
    const withToken = parseDelete(deleteCardContent(h('A00000000101'), { token: h('AABB'), tokenCrt: h('930101') }));
    expect(withToken).toMatchObject({ kind: 'card-content', related: false });
    expect(withToken.kind === 'card-content' && toHex(withToken.token!)).toBe('AABB');
    expect(() => parseDelete({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0, data: h('C50100') })).toThrow(/names no object/);
    expect(() => parseDelete({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0x01, data: h('4F05A000000001') })).toThrow(expect.objectContaining({ sw: 0x6a86 }));
    expect(() => deleteCardContent(h('A000'))).toThrow(CommandFormatError);
  });
});

describe('SET STATUS', () => {
  it('ISD, application and SD-with-applications scopes (Table 11-86)', () => {
    expect(hex(setStatus('isd', 0x7f))).toBe('80F0807F');
    expect(hex(setStatus('application', 0x80, h('A00000000101')))).toBe('80F0408006A00000000101');
    expect(hex(setStatus('sd-and-applications', 0x80, h('A00000000101')))).toBe('80F0608006A00000000101');
    expect(parseSetStatus(parseCommand(h('80F0608006A00000000101')))).toMatchObject({ kind: 'life-cycle', scope: 'sd-and-applications', state: 0x80 });
    expect(() => setStatus('application', 0x80)).toThrow(/target AID/);
    expect(() => parseSetStatus(parseCommand(h('80F0207F')))).toThrow(expect.objectContaining({ sw: 0x6a86 }));
  });
  it('Amendment C: contactless activation of several applications', () => {
    const cmd = setContactlessActivation([h('A00000000101'), h('A00000000202')], true);
    expect(hex(cmd)).toBe('80F00101104F06A000000001014F06A0000000020200');
    const p = parseSetStatus(cmd);
    expect(p.kind === 'contactless' && p.aids.map((a) => toHex(a))).toEqual(['A00000000101', 'A00000000202']);
  });
});

describe('STORE DATA', () => {
  it('pySim GET EID (#1): last block, BER-TLV, response expected', () => {
    expect(hex(storeData(h('BF3E035C015A'), { block: 0, last: true, structure: 'ber-tlv', responseExpected: true }))).toBe(plain('#1 GET EID (STORE DATA)'));
  });
  it('blocks, numbering, flags and parsing', () => {
    const blocks = storeDataBlocks(new Uint8Array(500), 200, { structure: 'dgi', encryption: 'encrypted' });
    expect(blocks.map((b) => [b.p1, b.p2, b.data!.length])).toEqual([
      [0x68, 0, 200],
      [0x68, 1, 200],
      [0xe8, 2, 100],
    ]);
    expect(parseStoreData(blocks[2])).toMatchObject({ block: 2, last: true, encryption: 'encrypted', structure: 'dgi', responseExpected: false });
    expect(parseStoreData({ cla: 0x80, ins: 0xe2, p1: 0x58, p2: 0 })).toMatchObject({ structure: 'rfu', encryption: 'rfu' });
  });
});

describe('PUT KEY header and names', () => {
  it('P1/P2 bits', () => {
    expect(parsePutKeyHeader({ cla: 0x80, ins: 0xd8, p1: 0x30, p2: 0x81, data: h('31') })).toEqual({ kvnToReplace: 0x30, more: false, keyId: 1, multiple: true, newKvn: 0x31 });
    expect(() => parsePutKeyHeader({ cla: 0x80, ins: 0xd8, p1: 0, p2: 1 })).toThrow(CommandFormatError);
    expect(insName(0xe6)).toBe('INSTALL');
    expect(insName(0xcb)).toBe('GET DATA');
    expect(insName(0x12)).toBe('INS 12');
  });
});
