import { describe, expect, it } from 'vitest';
import { encodeCommand, parseCommand, type CommandApdu } from './apdu.ts';
import { concat, fromHex, toHex } from './bytes.ts';
import { loadFileData, loadFileDataBlock, parseCap } from './cap.ts';
import { installForLoad, LoadReceiver, loadCommands, maxClearDataLength, parseInstallForLoad, planLoad } from './load.ts';
import { Scp02Card } from './scp02-card.ts';
import { Scp02Host } from './scp02.ts';
import { GPPRO_EMPTY, JC_EXPRESS_TEST_APPLET, readCapFile } from '../test/capfiles/index.ts';
import { pysimGpCommands } from '../test/vectors/index.ts';

const h = fromHex;
/** javacard-express's TestApplet: LFDB 335 bytes, 452 with Descriptor (both need a long-form BER length). */
const express = () => parseCap(readCapFile(JC_EXPRESS_TEST_APPLET));
const PACKAGE = 'A000000062010101';
const APPLET = 'A00000006201010101';
const pysim = pysimGpCommands();

describe('LOAD block budget', () => {
  it('fits the secure channel overhead into the maximum command data', () => {
    expect(maxClearDataLength()).toBe(255);
    expect(maxClearDataLength({ level: 0x01 })).toBe(247);
    expect(maxClearDataLength({ scp: '03', level: 0x03 })).toBe(239);
    expect(maxClearDataLength({ scp: '02', level: 0x03 })).toBe(239);
    expect(maxClearDataLength({ scp: '03', level: 0x33 })).toBe(239);
    expect(maxClearDataLength({ scp: '03', level: 0x03, maxCommandData: 128 })).toBe(111);
    expect(maxClearDataLength({ scp: '02', level: 0x03, maxCommandData: 128 })).toBe(119);
    expect(maxClearDataLength({ scp: '02', level: 0x03, maxCommandData: 100 })).toBe(87);
    expect(() => maxClearDataLength({ scp: '03', level: 0x03, maxCommandData: 20 })).toThrow(RangeError);
  });

  it('the SCP02 host can wrap a block of exactly that size and no larger', () => {
    const keys = { enc: h('404142434445464748494A4B4C4D4E4F'), mac: h('404142434445464748494A4B4C4D4E4F'), dek: h('404142434445464748494A4B4C4D4E4F') };
    const store = { kvn: 0x20, keys, sequenceCounter: 5 };
    const card = new Scp02Card({ findKeySet: () => store, kdd: new Uint8Array(10), aid: h('A000000151000000') });
    for (const max of [255, 128, 100]) {
      const host = new Scp02Host({ keys, level: 0x03 });
      const iu = card.handleInitializeUpdate(host.initializeUpdate(0x20, h('0102030405060708')));
      host.onInitializeUpdateResponse(iu.data);
      expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
      const n = maxClearDataLength({ scp: '02', level: 0x03, maxCommandData: max });
      const wire = parseCommand(host.wrap({ cla: 0x80, ins: 0xe8, p1: 0, p2: 0, data: new Uint8Array(n) }));
      expect(wire.data!.length).toBeLessThanOrEqual(max);
      const over = { cla: 0x80, ins: 0xe8, p1: 0, p2: 1, data: new Uint8Array(n + 1) };
      // One byte more costs a whole cipher block: past 255 the host refuses, below it the card's limit is exceeded.
      if (max === 255) expect(() => host.wrap(over)).toThrow(/too long/);
      else expect(parseCommand(host.wrap(over)).data!.length).toBeGreaterThan(max);
    }
  });
});

describe('INSTALL [for load] and LOAD (pySim HelloSTK layouts, §6)', () => {
  it('INSTALL [for load] without hash', () => {
    const c = installForLoad({ loadFileAid: pysim.helloStk.loadFileAid, securityDomainAid: pysim.install.isdAid });
    expect(toHex(encodeCommand(c))).toBe(toHex(pysim.install.installForLoad));
    expect(toHex(encodeCommand(c))).toBe('80E602001205D07002CA4408A000000003000000' + '000000' + '00');
  });

  it("LOAD in 240-byte blocks: pySim's headers for its 573 bytes in 3 blocks, P1 80 on the last", () => {
    const { install, helloStk } = pysim;
    // Only the load file's length shapes the headers; its bytes are not in the repository (licence).
    const file = loadFileData(new Uint8Array(helloStk.loadFileSize));
    expect(file.length).toBe(install.loadDataLength);
    expect(toHex(file.slice(0, 4))).toBe(toHex(install.loads[0].start.slice(0, 4)));
    expect(toHex(file.slice(0, 4))).toBe('C4820239');
    const loads = loadCommands(file, install.blockSize);
    expect(loads).toHaveLength(3);
    loads.forEach((c, n) => expect(toHex(encodeCommand(c).slice(0, 5))).toBe(toHex(install.loads[n].header)));
    expect(loads.map((c) => c.p1)).toEqual([0x00, 0x00, 0x80]);
    expect(concat(...loads.map((c) => c.data!)).length).toBe(573);
  });

  it('LOAD of a real CAP in 240-byte blocks: javacard-express with Descriptor, 456 bytes in 2 blocks', () => {
    const lfdb = loadFileDataBlock(express(), { descriptor: true });
    const file = loadFileData(lfdb);
    expect(file.length).toBe(4 + 452);
    const loads = loadCommands(file, 240);
    expect(loads.map((c) => toHex(encodeCommand(c).slice(0, 5)))).toEqual(['80E80000F0', '80E88001D8']);
    // C4, long-form length 82 01C4, then the Header component: tag 01, size 0012, magic DECAFFED.
    expect(toHex(loads[0].data!.slice(0, 11))).toBe('C48201C4010012DECAFFED');
    expect(toHex(concat(...loads.map((c) => c.data!)))).toBe(toHex(file));
  });

  it('refuses block sizes outside 1..255 and more than 256 blocks', () => {
    expect(() => loadCommands(new Uint8Array(10), 0)).toThrow(RangeError);
    expect(() => loadCommands(new Uint8Array(10), 256)).toThrow(RangeError);
    expect(() => loadCommands(new Uint8Array(257 * 10), 10)).toThrow(/256/);
    expect(loadCommands(new Uint8Array(256 * 10), 10)).toHaveLength(256);
  });

  it('planLoad: SHA-256 of the LFDB in INSTALL [for load], blocks sized for the channel', () => {
    const cap = express();
    const plan = planLoad(cap, { scp: '03', level: 0x03 });
    expect(plan.lfdb.length).toBe(335);
    const parsed = parseInstallForLoad(plan.installForLoad.data!);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(toHex(parsed.params.loadFileAid)).toBe(PACKAGE);
      expect(parsed.params.hash.length).toBe(32);
      expect(toHex(parsed.params.hash)).toBe(toHex(plan.hash!));
      expect(toHex(parsed.params.hash).slice(0, 8)).toBe('60663105');
    }
    // 335 bytes need the 4-byte header C4 82 01 4F: 339 bytes in blocks of 239.
    expect(plan.loads.map((c) => c.data!.length)).toEqual([239, 335 + 4 - 239]);
    expect(toHex(plan.loads[0].data!.slice(0, 4))).toBe('C482014F');
    const withDescriptor = planLoad(cap, { includeDescriptor: true, hash: 'sha1' });
    expect(toHex(withDescriptor.loads[0].data!.slice(0, 4))).toBe('C48201C4');
    expect(withDescriptor.hash!.length).toBe(20);
    // The hash length byte follows the load file AID and the empty SD AID.
    expect(planLoad(cap, { hash: 'none' }).installForLoad.data![1 + cap.packageAid.length + 1]).toBe(0);
    expect(plan.installForLoad.data![1 + cap.packageAid.length + 1]).toBe(32);
  });

  it('planLoad on gppro-Empty: the short-form length C4 81 D3, hash 8D5AC9E2...', () => {
    const plan = planLoad(parseCap(readCapFile(GPPRO_EMPTY)), { blockSize: 255 });
    expect(plan.loads).toHaveLength(1);
    expect(toHex(plan.loads[0].data!.slice(0, 3))).toBe('C481D3');
    expect(plan.loads[0].data!.length).toBe(3 + 211);
    expect(toHex(plan.hash!).slice(0, 8)).toBe('8D5AC9E2');
  });
});

function receive(params: Uint8Array, loads: CommandApdu[]) {
  const p = parseInstallForLoad(params);
  if (!p.ok) throw new Error(p.reason);
  const r = new LoadReceiver(p.params);
  let step = r.accept(loads[0]);
  for (const c of loads.slice(1)) step = r.accept(c);
  return step;
}

describe('LoadReceiver (card side)', () => {
  it('reassembles a planned load and reports the package', () => {
    const plan = planLoad(express(), { includeDescriptor: true, blockSize: 64 });
    const step = receive(plan.installForLoad.data!, plan.loads);
    expect(step.status).toBe('done');
    if (step.status === 'done') {
      expect(toHex(step.package.packageAid)).toBe(PACKAGE);
      expect(step.package.applets.map((a) => toHex(a.aid))).toEqual([APPLET]);
      expect(step.lfdb.length).toBe(452);
    }
  });

  it('answers "more" until the last block', () => {
    const plan = planLoad(express(), { blockSize: 100 });
    expect(plan.loads).toHaveLength(4);
    const p = parseInstallForLoad(plan.installForLoad.data!);
    if (!p.ok) throw new Error(p.reason);
    const r = new LoadReceiver(p.params);
    for (const block of plan.loads.slice(0, -1)) expect(r.accept(block)).toEqual({ status: 'more' });
    expect(r.accept(plan.loads[3]).status).toBe('done');
    expect(r.accept(plan.loads[3])).toMatchObject({ status: 'error', sw: 0x6985 });
  });

  it('accepts DAP blocks before the C4 object', () => {
    const cap = express();
    const lfdb = loadFileDataBlock(cap);
    const dap = h('E20E4F08A000000151000000C3021234');
    const loads = loadCommands(concat(dap, loadFileData(lfdb)), 200);
    const step = receive(installForLoad({ loadFileAid: cap.packageAid }).data!, loads);
    expect(step).toMatchObject({ status: 'done', dapBlocks: [h('4F08A000000151000000C3021234')] });
  });

  it('rejects a block out of sequence with 6A86', () => {
    const plan = planLoad(express(), { blockSize: 100 });
    const step = receive(plan.installForLoad.data!, [plan.loads[0], plan.loads[2]]);
    expect(step).toMatchObject({ status: 'error', sw: 0x6a86 });
  });

  it('rejects a load whose hash does not match', () => {
    const plan = planLoad(express(), { blockSize: 100 });
    const tampered = plan.loads.map((c) => ({ ...c, data: c.data!.slice() }));
    tampered[1].data![10] ^= 0x01;
    const step = receive(plan.installForLoad.data!, tampered);
    expect(step).toMatchObject({ status: 'error', sw: 0x6a80 });
    if (step.status === 'error') expect(step.reason).toMatch(/sha256/);
  });

  it('rejects a package AID that differs from INSTALL [for load]', () => {
    const plan = planLoad(express(), { hash: 'none' });
    const step = receive(installForLoad({ loadFileAid: h('D0D1D2D3D4D6') }).data!, plan.loads);
    expect(step).toMatchObject({ status: 'error', sw: 0x6a80 });
    if (step.status === 'error') expect(step.reason).toMatch(/package AID/);
  });

  it('rejects a load file without C4, or a truncated one', () => {
    const params = installForLoad({ loadFileAid: h(PACKAGE) }).data!;
    expect(receive(params, loadCommands(h('E2024F00'), 10))).toMatchObject({ status: 'error', sw: 0x6a80 });
    const lfdb = loadFileDataBlock(express());
    const cut = loadFileData(lfdb).slice(0, 100);
    expect(receive(params, loadCommands(cut, 50))).toMatchObject({ status: 'error', sw: 0x6a80 });
  });

  it('parseInstallForLoad rejects malformed data', () => {
    expect(parseInstallForLoad(new Uint8Array(0)).ok).toBe(false);
    expect(parseInstallForLoad(h('05D07002CA44')).ok).toBe(false);
    expect(parseInstallForLoad(h('05D07002CA4400000000FF')).ok).toBe(false);
    expect(parseInstallForLoad(h('05D07002CA44000000')).ok).toBe(false);
    expect(parseInstallForLoad(h('05D07002CA4400000000')).ok).toBe(true);
  });
});

describe('a whole load through an SCP02 channel (C-MAC + C-DECRYPTION)', () => {
  it('the card unwraps every block and reassembles the package', () => {
    const keys = { enc: h('404142434445464748494A4B4C4D4E4F'), mac: h('404142434445464748494A4B4C4D4E4F'), dek: h('404142434445464748494A4B4C4D4E4F') };
    const store = { kvn: 0x20, keys, sequenceCounter: 0 };
    const card = new Scp02Card({ findKeySet: () => store, kdd: new Uint8Array(10), aid: h('A000000151000000') });
    const host = new Scp02Host({ keys, level: 0x03 });
    host.onInitializeUpdateResponse(card.handleInitializeUpdate(host.initializeUpdate(0x20, h('1122334455667788'))).data);
    expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);

    const plan = planLoad(express(), { scp: '02', level: 0x03, includeDescriptor: true, maxCommandData: 128 });
    const unwrap = (c: CommandApdu) => {
      const wire = host.wrap(c);
      expect(wire.length).toBeLessThanOrEqual(5 + 128 + 1);
      const u = card.unwrapCommand(parseCommand(wire));
      if (!u.ok) throw new Error(`card refused: ${u.sw.toString(16)}`);
      return u.command;
    };
    const ifl = unwrap(plan.installForLoad);
    const p = parseInstallForLoad(ifl.data!);
    if (!p.ok) throw new Error(p.reason);
    const receiver = new LoadReceiver(p.params);
    let last;
    for (const c of plan.loads) last = receiver.accept(unwrap(c));
    expect(plan.loads.length).toBe(Math.ceil((452 + 4) / maxClearDataLength({ scp: '02', level: 0x03, maxCommandData: 128 })));
    expect(plan.loads.length).toBe(4);
    expect(last).toMatchObject({ status: 'done' });
  });
});
