import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, loadFileDataBlock, parseCap, installForLoad, loadCommands, planLoad, loadFileData, SecurityLevel } from '../gp/index.ts';
import { cmd, installParams } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture } from './test-fixtures.ts';

const capDir = new URL('../../shared/capfiles/', import.meta.url);
const hello = parseCap(new Uint8Array(readFileSync(new URL('kaoh-helloworld.cap', capDir))));
const empty = parseCap(new Uint8Array(readFileSync(new URL('gppro-Empty_0102030405_8d5ac9e2_2.2.1.cap', capDir))));

describe('INSTALL [for load] + LOAD of real CAP files', () => {
  it('loads helloworld under the central SD, accounts its size, then installs the applet from it', () => {
    const { se, t, centralKeys } = fixture('02');
    t.select(CENTRAL);
    expect(t.open(centralKeys, SecurityLevel.CMAC | SecurityLevel.CDEC)).toBe(0x9000);
    const freeBefore = se.inspect().memory.nonVolatile.free;
    const plan = planLoad(hello, { scp: '02', level: SecurityLevel.CMAC | SecurityLevel.CDEC, includeDescriptor: true });
    expect(plan.lfdb.length).toBe(343);
    t.ok(plan.installForLoad);
    for (const l of plan.loads) t.ok(l);
    const pkg = se.inspect().packages.find((p) => p.aid === 'D0D1D2D3D4D501')!;
    expect(pkg).toMatchObject({ associatedSd: CENTRAL, version: '0100', modules: ['D0D1D2D3D4D50101'], nonVolatile: 343 });
    expect(freeBefore - se.inspect().memory.nonVolatile.free).toBe(343);
    t.ok(cmd.install(0x0c, { elf: 'D0D1D2D3D4D501', module: 'D0D1D2D3D4D50101', app: 'D0D1D2D3D4D50101', params: installParams() }));
    expect(t.select('D0D1D2D3D4D50101').sw).toBe(0x9000);
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
    const lfdb = loadFileDataBlock(hello);
    const blocks = loadCommands(loadFileData(lfdb), 200);
    expect(t.send(blocks[0]).sw).toBe(0x6985);
    // Wrong hash.
    t.ok(installForLoad({ loadFileAid: hello.packageAid, hash: new Uint8Array(32) }));
    for (const b of blocks.slice(0, -1)) t.ok(b);
    expect(t.send(blocks[blocks.length - 1]).sw).toBe(0x6a80);
    // Different load file AID.
    t.ok(installForLoad({ loadFileAid: fromHex('D0D1D2D3D4D599') }));
    for (const b of blocks.slice(0, -1)) t.ok(b);
    expect(t.send(blocks[blocks.length - 1]).sw).toBe(0x6a80);
    // Block numbering.
    t.ok(installForLoad({ loadFileAid: hello.packageAid }));
    expect(t.send(blocks[1]).sw).toBe(0x6a86);
    // Minimum memory requirement beyond what is free.
    const params = fromHex('EF04C6027FFF');
    expect(t.send(installForLoad({ loadFileAid: hello.packageAid, loadParameters: params })).sw).toBe(0x6a84);
    // Existing AID, unknown SD.
    expect(t.send(installForLoad({ loadFileAid: fromHex('F0504159000001') })).sw).toBe(0x6a80);
    expect(t.send(installForLoad({ loadFileAid: hello.packageAid, securityDomainAid: fromHex('F0FFFFFFFF') })).sw).toBe(0x6a88);
    expect(se.inspect().packages.some((p) => p.aid === toHex(hello.packageAid))).toBe(false);
  });

  it('refuses a load file larger than the free memory (6A84) and leaves the card unchanged', () => {
    const { se, t, centralKeys } = fixture('02', { memory: { nonVolatile: 14000 + 300, volatile: 4096 } });
    t.select(CENTRAL);
    t.open(centralKeys);
    const before = se.toJSON();
    const plan = planLoad(hello, { includeDescriptor: true, scp: '02', level: SecurityLevel.CMAC });
    t.ok(plan.installForLoad);
    const sws = plan.loads.map((l) => t.send(l).sw);
    expect(sws[sws.length - 1]).toBe(0x6a84);
    expect(se.toJSON()).toEqual(before);
  });
});
