import { describe, expect, it } from 'vitest';
import { encodeCommand, parseCommand } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';
import {
  encodeInstallParameters,
  encodeMemoryValue,
  installForExtradition,
  installForInstall,
  installForMakeSelectable,
  installForPersonalization,
  installForRegistryUpdate,
  parseInstall,
  parseInstallParameters,
} from './commands-install.ts';
import { installForLoad } from './load.ts';
import { pysimGpCommands } from '../test/vectors/index.ts';

const h = fromHex;
const V = pysimGpCommands();
const TS_PARAMS = V.installParameters.stkParameters;

describe('install parameters (Table 11-49) against pySim', () => {
  it('quotas 256/256 + TS 102 226 parameters', () => {
    expect(toHex(encodeInstallParameters({ nonVolatileQuota: 256, volatileQuota: 256, ts102226: TS_PARAMS }))).toBe(toHex(V.installParameters.quotas256));
  });
  it('no parameters: C9 00', () => {
    expect(toHex(encodeInstallParameters())).toBe(toHex(V.installParameters.none));
    expect(toHex(encodeInstallParameters({}))).toBe('C900');
  });
  it('parses back, including 4-byte values and implicit selection', () => {
    const raw = encodeInstallParameters({ applicationSpecific: h('0102'), nonVolatileQuota: 40000, volatileQuota: 255, implicitSelection: [0x80, 0x81], globalService: h('0A01') });
    const p = parseInstallParameters(raw);
    expect(p.nonVolatileQuota).toBe(40000);
    expect(p.volatileQuota).toBe(255);
    expect(p.implicitSelection).toEqual([0x80, 0x81]);
    expect(toHex(p.applicationSpecific!)).toBe('0102');
    expect(toHex(p.globalService!)).toBe('0A01');
    expect(toHex(encodeMemoryValue(32767))).toBe('7FFF');
    expect(toHex(encodeMemoryValue(32768))).toBe('00008000');
  });
  it('rejects missing C9, odd memory sizes and broken TLV', () => {
    expect(() => parseInstallParameters(h('EF00'))).toThrow(/C9/);
    expect(() => parseInstallParameters(h('C900EF03C80101'))).toThrow(/C8 of 1 bytes/);
    expect(() => parseInstallParameters(h('C905'))).toThrow(expect.objectContaining({ sw: 0x6a80 }));
  });
});

describe('INSTALL builders', () => {
  it('[for install and make selectable] matches the pySim HelloSTK layout', () => {
    const cmd = installForInstall({
      loadFileAid: V.helloStk.loadFileAid,
      moduleAid: V.helloStk.appletAid,
      aid: V.helloStk.appletAid,
      privileges: h('00'),
      parameters: { nonVolatileQuota: 255, volatileQuota: 255, ts102226: TS_PARAMS },
    });
    // pySim appends Le 00 to the laid-out command.
    expect(toHex(encodeCommand(cmd))).toBe(toHex(V.install.installForInstall) + '00');
  });

  it('other roles: P1 and data layout', () => {
    const a = h('A0000000010101');
    const sd = h('A000000151535041');
    expect(toHex(encodeCommand(installForMakeSelectable({ aid: a })))).toBe('80E6080010000007A000000001010103000000000000');
    expect(toHex(encodeCommand(installForExtradition({ sdAid: sd, aid: a })))).toBe('80E6100015' + '08A000000151535041' + '00' + '07A0000000010101' + '00' + '0000' + '00');
    expect(toHex(encodeCommand(installForPersonalization(a)))).toBe('80E620000D000007A0000000010101000000' + '00');
    expect(toHex(encodeCommand(installForRegistryUpdate({ aid: a, privileges: ['card-reset'] })))).toBe('80E6400010' + '00' + '00' + '07A0000000010101' + '03040000' + '0000' + '00');
    expect(installForInstall({ loadFileAid: a, moduleAid: a, makeSelectable: false }).p1).toBe(0x04);
    expect(() => installForInstall({ loadFileAid: h('A0'), moduleAid: a })).toThrow(/load file AID/);
  });
});

describe('parseInstall (card side)', () => {
  it('round-trips every role', () => {
    const a = h('A0000000010101');
    const sd = h('A000000151535041');
    const cases = [
      [installForInstall({ loadFileAid: h('A00000000101'), moduleAid: a, privileges: ['security-domain', 'trusted-path'], parameters: { nonVolatileQuota: 1000 } }), 'install'],
      [installForMakeSelectable({ aid: a, privileges: h('04') }), 'make-selectable'],
      [installForExtradition({ sdAid: sd, aid: a }), 'extradition'],
      [installForPersonalization(a), 'personalization'],
      [installForRegistryUpdate({ sdAid: sd, aid: a }), 'registry-update'],
      [installForLoad({ loadFileAid: h('d07002ca44'), securityDomainAid: h('a000000003000000') }), 'load'],
    ] as const;
    for (const [cmd, kind] of cases) {
      const p = parseInstall(parseCommand(encodeCommand(cmd)));
      expect(p.kind).toBe(kind);
      if (p.kind === 'install') {
        expect(p.makeSelectable).toBe(true);
        expect(toHex(p.privileges)).toBe('808000');
        expect(parseInstallParameters(p.parameters).nonVolatileQuota).toBe(1000);
      }
      if (p.kind === 'extradition') expect(toHex(p.sdAid)).toBe(toHex(sd));
      if (p.kind === 'load') expect(toHex(p.loadFileAid)).toBe('D07002CA44');
    }
  });

  it('pySim INSTALL [for load] layout parses', () => {
    const raw = h('80E6020012 05d07002ca44 08a000000003000000 00 00 00 00');
    const p = parseInstall(parseCommand(raw));
    expect(p.kind === 'load' && toHex(p.sdAid)).toBe('A000000003000000');
  });

  it('combined load/install/make selectable: P2 01 is the load layout, 03 the install one', () => {
    const load = installForLoad({ loadFileAid: h('d07002ca44') });
    expect(parseInstall({ ...load, p1: 0x0e, p2: 0x01 }).kind).toBe('load');
    const inst = installForInstall({ loadFileAid: h('d07002ca44'), moduleAid: h('d07002ca4490'), combinedEnd: true });
    expect(inst.p2).toBe(0x03);
    expect(parseInstall({ ...inst, p1: 0x0e }).kind).toBe('install');
    expect(() => parseInstall({ ...inst, p1: 0x0e, p2: 0x00 })).toThrow(expect.objectContaining({ sw: 0x6a86 }));
  });

  it('malformed data -> 6A80 naming the field, unknown role -> 6A86', () => {
    const good = encodeCommand(installForInstall({ loadFileAid: h('A00000000101'), moduleAid: h('A0000000010101') }));
    const truncated = parseCommand(good.subarray(0, good.length - 4).map((b, i) => (i === 4 ? b - 3 : b)));
    expect(() => parseInstall(truncated)).toThrow(expect.objectContaining({ sw: 0x6a80 }));
    expect(() => parseInstall({ cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0, data: h('06A00000000101 00 03A00000 0100 0200C900') })).toThrow(/application AID of 3 bytes/);
    expect(() => parseInstall({ cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0, data: h('06A00000000101 00 06A00000000102 0200 0200C900 00') })).toThrow(/privileges of 2 bytes/);
    expect(() => parseInstall({ cla: 0x80, ins: 0xe6, p1: 0x01, p2: 0, data: h('00') })).toThrow(expect.objectContaining({ sw: 0x6a86 }));
    expect(() => parseInstall({ cla: 0x80, ins: 0xe6, p1: 0x20, p2: 0, data: h('0001AA06A00000000101') })).toThrow(/must be empty/);
  });
});
