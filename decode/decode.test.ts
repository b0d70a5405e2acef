import { describe, expect, it } from 'vitest';
import { commandSummary, decodeCommand, decodeResponse, describeCla } from './apdu.ts';
import { decodeCplc, decodePrivileges, decodeRegistry, lifeCycleName } from './gp-data.ts';
import { describeSw } from './sw.ts';
import { tlvTree } from './tlv-tree.ts';
import { pysimGpCommands } from '../test/vectors/index.ts';

const V = pysimGpCommands();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('APDU decoder', () => {
  it('decodes pySim INSTALL [for install and make selectable] with its install parameters', () => {
    const params = hex(V.installParameters.quotas255);
    // The layout as pySim sends it: with a trailing Le 00.
    const c = decodeCommand(`${hex(V.install.installForInstall)}00`);
    expect(c.error).toBeUndefined();
    expect(c.name).toBe('INSTALL [for install and make selectable]');
    expect(c.case).toBe(4);
    expect(c.lc).toBe(0x3c);
    expect(c.p1Meaning).toBe('[for install and make selectable], last (or only) command');
    expect(c.fields?.map((f) => [f.label, f.hex])).toEqual([
      ['Executable load file AID', 'D07002CA44'],
      ['Executable module AID', 'D07002CA44900101'],
      ['Application AID', 'D07002CA44900101'],
      ['Privileges', '00'],
      ['Install parameters', params],
      ['Install token', ''],
    ]);
    expect(c.fields?.[3].note).toBe('none');
    const ef = c.tlv?.find((n) => n.tag === 'EF');
    expect(ef?.children?.map((n) => [n.tag, n.name, n.note])).toEqual([
      ['C8', 'Non-volatile memory quota', '255 bytes'],
      ['C7', 'Volatile memory quota', '255 bytes'],
      ['CA', 'TS 102 226 specific parameters', undefined],
    ]);
  });

  it('decodes DELETE with related objects and the pySim card recognition data', () => {
    const d = decodeCommand(hex(V.install.deleteLoadFile));
    expect(d.name).toBe('DELETE');
    expect(d.p2Meaning).toBe('delete object and related object');
    expect(d.tlv).toEqual([{ tag: '4F', name: 'AID', length: 5, value: 'D07002CA44' }]);

    const crd = hex(V.cardRecognitionData);
    const r = decodeResponse(`${crd}9000`, '80CA006600');
    expect(r.sw).toBe('9000');
    expect(r.swClass).toBe('normal');
    const t73 = r.tlv?.[0].children?.[0];
    expect(t73?.tag).toBe('73');
    expect(t73?.children?.map((n) => n.tag)).toEqual(['06', '60', '63', '64']);
    expect(t73?.children?.[3].name).toBe('Secure channel protocol and options');
  });

  it('names the CLA bits, P1/P2 and cases', () => {
    expect(describeCla(0x00)).toBe('ISO/IEC 7816-4 interindustry, no secure messaging, logical channel 0');
    expect(describeCla(0x84)).toBe('GlobalPlatform / proprietary, secure messaging (GP proprietary), logical channel 0');
    expect(describeCla(0xc1)).toContain('logical channel 5');
    const sel = decodeCommand('00A4040008A00000015100000000');
    expect(sel).toMatchObject({ name: 'SELECT', case: 4, lc: 8, le: 256, p1Meaning: 'select by name (AID)', p2Meaning: 'first or only occurrence, return FCI' });
    expect(sel.fields).toEqual([{ label: 'AID', hex: 'A000000151000000' }]);
    expect(decodeCommand('8482330010' + '11'.repeat(16))).toMatchObject({ name: 'EXTERNAL AUTHENTICATE', p1Meaning: 'security level: C-MAC + C-DECRYPTION + R-MAC + R-ENCRYPTION' });
    expect(decodeCommand('80F24002024F0000')).toMatchObject({ name: 'GET STATUS', p1Meaning: 'applications and Security Domains', p2Meaning: 'first or all occurrence(s), GP Registry data (TLV, E3)' });
    expect(decodeCommand('80F28000024F0000').name).toBe('GET STATUS');
    expect(decodeCommand('80F2000C00').name).toBe('STATUS');
    expect(decodeCommand('80F0800F00')).toMatchObject({ name: 'SET STATUS' });
    expect(decodeCommand('80F0807F').p2Meaning).toBe('new state CARD_LOCKED');
    expect(decodeCommand('80CA9F7F00').p2Meaning).toBe('Card production life cycle data (CPLC)');
    expect(decodeCommand('80E2900003DF0102')).toMatchObject({ name: 'STORE DATA', p1Meaning: 'last block, no encryption information, BER-TLV format, case 3' });
    expect(decodeCommand('80D8018100').p1Meaning).toBe('key version 1, last (or only) command');
    expect(decodeCommand('80D8018100').p2Meaning).toBe('multiple keys, first key identifier 1');
    expect(decodeCommand('80E88003021234')).toMatchObject({ name: 'LOAD', p1Meaning: 'last block', p2Meaning: 'block number 3' });
    expect(commandSummary('80CA9F7F00')).toBe('GET DATA 9F7F');
    expect(commandSummary('00A4040008A00000015100000000')).toBe('SELECT A000000151000000');
  });

  it('reports malformed commands instead of throwing', () => {
    expect(decodeCommand('00A4').error).toMatch(/shorter than a header/);
    expect(decodeCommand('00A4040009A000').error).toMatch(/Lc=9/);
    expect(decodeCommand('zz').error).toBe('not hex');
    expect(decodeResponse('90').error).toMatch(/shorter than a status word/);
  });

  it('decodes the SCP03 INITIALIZE UPDATE response fields', () => {
    const resp = '000102030405060708093003' + '70' + 'A1A2A3A4A5A6A7A8' + 'C1C2C3C4C5C6C7C8' + '000001' + '9000';
    const r = decodeResponse(resp, '8050300008' + 'B0'.repeat(8) + '00');
    expect(r.fields?.map((f) => [f.label, f.hex])).toEqual([
      ['Key diversification data', '00010203040506070809'],
      ['Key version number', '30'],
      ['Secure channel protocol', '03'],
      ['SCP03 "i" parameter', '70'],
      ['Card challenge', 'A1A2A3A4A5A6A7A8'],
      ['Card cryptogram', 'C1C2C3C4C5C6C7C8'],
      ['Sequence counter', '000001'],
    ]);
  });
});

describe('status words', () => {
  it('gives meaning and class', () => {
    expect(describeSw('9000')).toEqual({ sw: '9000', meaning: 'Success', class: 'normal' });
    expect(describeSw(0x6a88).class).toBe('checking-error');
    expect(describeSw('6581')).toEqual({ sw: '6581', meaning: 'Execution error: memory failure', class: 'execution-error' });
    expect(describeSw('63C2')).toMatchObject({ meaning: 'Warning: counter is 2 (e.g. tries left)', class: 'warning' });
    expect(describeSw('6110').meaning).toBe('16 more bytes available (GET RESPONSE)');
    expect(describeSw('6C00').meaning).toBe('Wrong Le: exactly 256 bytes available');
    expect(describeSw('6300', 0x82).meaning).toBe('Authentication of host cryptogram failed');
    expect(describeSw('6310', 0xf2).meaning).toMatch(/^More data available/);
    expect(describeSw('1234').class).toBe('unknown');
    expect(describeSw('9F10').class).toBe('proprietary');
  });
});

describe('GP registry, privileges, CPLC', () => {
  it('decodes privileges per GP 2.3.1 Tables 11-7 to 11-9', () => {
    expect(decodePrivileges(Uint8Array.of(0x9e, 0xfe, 0x80))).toEqual([
      'Security Domain', 'Card Lock', 'Card Terminate', 'Card Reset', 'CVM Management',
      'Trusted Path', 'Authorized Management', 'Token Management', 'Global Delete', 'Global Lock', 'Global Registry', 'Final Application',
      'Receipt Generation',
    ]);
    expect(decodePrivileges(Uint8Array.of(0xc0, 0, 0))).toEqual(['Security Domain', 'DAP Verification']);
    expect(decodePrivileges(Uint8Array.of(0xc1, 0, 0))).toEqual(['Security Domain', 'Mandated DAP Verification']);
    expect(decodePrivileges(Uint8Array.of(0xa0, 0, 0))).toEqual(['Security Domain', 'Delegated Management']);
  });

  it('decodes E3 entries of GET STATUS with life cycle by kind', () => {
    const data = Buffer.from(
      'E3' + '13' + '4F08A000000151000000' + '9F70010F' + 'C5039EFE80' +
        'E3' + '1A' + '4F08D07002CA44900101' + '9F700107' + 'C503000000' + 'C405D07002CA44',
      'hex',
    );
    const entries = decodeRegistry(data, 0x40);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ aid: 'A000000151000000', kind: 'security-domain', lifeCycle: 'PERSONALIZED', privilegesHex: '9EFE80' });
    expect(entries[1]).toMatchObject({ aid: 'D07002CA44900101', kind: 'application', lifeCycle: 'SELECTABLE', loadFileAid: 'D07002CA44', privileges: [] });
    expect(decodeRegistry(Buffer.from('E30E4F08A0000001510000009F70010F', 'hex'), 0x80)[0].lifeCycle).toBe('SECURED');
    expect(lifeCycleName(0x83, 'application')).toBe('LOCKED');
    expect(lifeCycleName(0x01, 'load-file')).toBe('LOADED');
    const r = decodeResponse(data.toString('hex') + '9000', '80F24002024F0000');
    expect(r.registry?.map((e) => e.aid)).toEqual(['A000000151000000', 'D07002CA44900101']);
  });

  it('splits the 42 CPLC bytes into their fields, with or without the 9F7F wrapper', () => {
    const cplc = '4790' + '5040' + '4791' + '2081' + '3400' + '0A19' + '12345678' + '0001' + '4812' + '1234' + '4092' + '1235' + '4093' + '1236' + '00000001' + '4094' + '1237' + '00000002';
    expect(cplc.length).toBe(84);
    const f = decodeCplc(Buffer.from('9F7F2A' + cplc, 'hex'));
    expect(f).toHaveLength(18);
    expect(f[0]).toEqual({ name: 'IC fabricator', hex: '4790' });
    expect(f[6]).toEqual({ name: 'IC serial number', hex: '12345678' });
    expect(f[3]).toEqual({ name: 'Operating system release date', hex: '2081', note: 'year ending in 2, day 81' });
    expect(f[17]).toEqual({ name: 'IC personalization equipment identifier', hex: '00000002' });
    expect(decodeCplc(Buffer.from(cplc, 'hex'))).toEqual(f);
    expect(() => decodeCplc(Buffer.from('9F7F0100', 'hex'))).toThrow(/42 bytes/);
    expect(decodeResponse('9F7F2A' + cplc + '9000', '80CA9F7F00').cplc?.[1].hex).toBe('5040');
  });

  it('builds a TLV tree and refuses non-TLV bytes', () => {
    expect(tlvTree(Buffer.from('9F700107', 'hex'))).toEqual([{ tag: '9F70', name: 'Life cycle state', length: 1, value: '07', note: 'SELECTABLE' }]);
    expect(tlvTree(Buffer.from('FF2107810102820200FF', 'hex'))?.[0].children?.map((n) => n.note)).toEqual(['2', '255 bytes']);
    expect(tlvTree(Buffer.from('4F05A0', 'hex'))).toBeUndefined();
  });
});
