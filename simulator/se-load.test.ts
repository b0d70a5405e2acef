import { describe, expect, it } from 'vitest';
import { fromHex, toHex, loadFileDataBlock, parseCap, installForLoad, loadCommands, planLoad, loadFileData, SecurityLevel } from '../gp/index.ts';
import { cmd, installParams } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture } from './test-fixtures.ts';
import { GPPRO_EMPTY, JC_EXPRESS_TEST_APPLET, readCapFile } from '../test/capfiles/index.ts';

// javacard-express's TestApplet: package A000000062010101 (1.0), applet A00000006201010101, LFDB 452 bytes with Descriptor.
const express = parseCap(readCapFile(JC_EXPRESS_TEST_APPLET));
const empty = parseCap(readCapFile(GPPRO_EMPTY));
const PACKAGE = 'A000000062010101';
const APPLET = 'A00000006201010101';

describe('INSTALL [for load] + LOAD of real CAP files', () => {
  it('loads the javacard-express TestApplet under the central SD, accounts its size, then installs the applet from it', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    expect(t.open(centralKeys, SecurityLevel.CMAC | SecurityLevel.CDEC)).toBe(0x9000);
    const freeBefore = se.inspect().memory.nonVolatile.free;
    const plan = planLoad(express, { scp: '02', level: SecurityLevel.CMAC | SecurityLevel.CDEC, includeDescriptor: true });
    expect(plan.lfdb.length).toBe(452);
    expect(toHex(plan.loads[0].data!.slice(0, 4))).toBe('C48201C4');
    expect(plan.loads.length).toBeGreaterThan(1);
    t.ok(plan.installForLoad);
    for (const l of plan.loads) t.ok(l);
    const pkg = se.inspect().packages.find((p) => p.aid === PACKAGE)!;
    expect(pkg).toMatchObject({ associatedSd: CENTRAL, version: '0100', modules: [APPLET], nonVolatile: 452 });
    expect(freeBefore - se.inspect().memory.nonVolatile.free).toBe(452);
    expect(se.inspect().applications.some((a) => a.aid === APPLET)).toBe(false);
    t.ok(cmd.install(0x0c, { elf: PACKAGE, module: APPLET, app: APPLET, params: installParams() }));
    expect(se.inspect().applications.find((a) => a.aid === APPLET)).toMatchObject({ lifeCycle: 'SELECTABLE' });
    expect(t.select(APPLET).sw).toBe(0x9000);
  });

  it('loads into the ISD when no SD is named and the ISD is acting', () => {
    const { se, t, isdKeys } = fixture('02');
    t.select(ISD);
    t.open(isdKeys);
    const plan = planLoad(empty, { hash: 'sha1', scp: '02', level: SecurityLevel.CMAC });
    t.ok(plan.installForLoad);
    for (const l of plan.loads) t.ok(l);
    expect(se.inspect().packages.find((p) => p.aid === '0102030405')!.associatedSd).toBe(ISD);
  });

  it('rejects a wrong hash, a package AID that differs, bad numbering, LOAD without INSTALL, and too big a load', () => {
    const { se, t, centralKeys } = fixture('02', { memory: { nonVolatile: 20000, volatile: 4096 } });
    t.select(CENTRAL);
    t.open(centralKeys);
    const lfdb = loadFileDataBlock(express);
    const blocks = loadCommands(loadFileData(lfdb), 200);
    expect(t.send(blocks[0]).sw).toBe(0x6985);
    // Wrong hash.
    t.ok(installForLoad({ loadFileAid: express.packageAid, hash: new Uint8Array(32) }));
    for (const b of blocks.slice(0, -1)) t.ok(b);
    expect(t.send(blocks[blocks.length - 1]).sw).toBe(0x6a80);
    // Different load file AID.
    t.ok(installForLoad({ loadFileAid: fromHex('A000000062010199') }));
    for (const b of blocks.slice(0, -1)) t.ok(b);
    expect(t.send(blocks[blocks.length - 1]).sw).toBe(0x6a80);
    // Block numbering.
    t.ok(installForLoad({ loadFileAid: express.packageAid }));
    expect(t.send(blocks[1]).sw).toBe(0x6a86);
    // Minimum memory requirement beyond what is free.
    const params = fromHex('EF04C6027FFF');
    expect(t.send(installForLoad({ loadFileAid: express.packageAid, loadParameters: params })).sw).toBe(0x6a84);
    // Existing AID, unknown SD.
    expect(t.send(installForLoad({ loadFileAid: fromHex('F0504159000001') })).sw).toBe(0x6a80);
    expect(t.send(installForLoad({ loadFileAid: express.packageAid, securityDomainAid: fromHex('F0FFFFFFFF') })).sw).toBe(0x6a88);
    expect(se.inspect().packages.some((p) => p.aid === toHex(express.packageAid))).toBe(false);
  });

  it('refuses a load file larger than the free memory (6A84) and leaves the card unchanged', () => {
    // A card whose free memory is one byte short of the 452-byte load file.
    const probe = fixture('02', { memory: { nonVolatile: 20000, volatile: 4096 } }).se.inspect().memory.nonVolatile;
    const used = 20000 - probe.free;
    const { se, t, centralKeys } = fixture('02', { memory: { nonVolatile: used + 452 - 1, volatile: 4096 } });
    expect(se.inspect().memory.nonVolatile.free).toBe(451);
    t.select(CENTRAL);
    t.open(centralKeys);
    const before = se.toJSON();
    const plan = planLoad(express, { includeDescriptor: true, scp: '02', level: SecurityLevel.CMAC });
    t.ok(plan.installForLoad);
    const sws = plan.loads.map((l) => t.send(l).sw);
    expect(sws[sws.length - 1]).toBe(0x6a84);
    expect(se.toJSON()).toEqual(before);
  });
});
