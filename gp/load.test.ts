import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeCommand, parseCommand, type CommandApdu } from './apdu.ts';
import { concat, fromHex, toHex } from './bytes.ts';
import { loadFileData, loadFileDataBlock, parseCap } from './cap.ts';
import { installForLoad, LoadReceiver, loadCommands, maxClearDataLength, parseInstallForLoad, planLoad } from './load.ts';
import { Scp02Card } from './scp02-card.ts';
import { Scp02Host } from './scp02.ts';

const shared = new URL('../../shared/', import.meta.url);
const h = fromHex;
const hello = () => parseCap(new Uint8Array(readFileSync(new URL('capfiles/kaoh-helloworld.cap', shared))));
const vectors = readFileSync(new URL('vectors/pysim-gp-commands-tlv.txt', shared), 'utf8');

function pysimLoadFile(): Uint8Array {
  return h(vectors.split('\n').find((l) => /^01000fdecaffed/.test(l.trim()))!.trim());
}

/** "80E80001F0 7b000d928b000e19..." layouts of §6: header+Lc and the first bytes of data. */
function pysimLoadLayouts(): { head: string; start: string }[] {
  return [...vectors.matchAll(/(80E8[0-9A-F]{6})\s+([0-9a-f]{16})/g)].map((m) => ({ head: m[1].toUpperCase(), start: m[2].toUpperCase() }));
}

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
    const c = installForLoad({ loadFileAid: h('d07002ca44'), securityDomainAid: h('a000000003000000') });
    expect(toHex(encodeCommand(c))).toBe('80E602001205D07002CA4408A000000003000000' + '000000' + '00');
  });

  it('LOAD in 240-byte blocks: 573 bytes in 3 blocks, P1 80 on the last', () => {
    const file = loadFileData(pysimLoadFile());
    expect(file.length).toBe(573);
    expect(toHex(file.slice(0, 4))).toBe('C4820239');
    const loads = loadCommands(file, 240);
    const layouts = pysimLoadLayouts();
    expect(layouts).toHaveLength(3);
    loads.forEach((c, n) => {
      const wire = toHex(encodeCommand(c));
      expect(wire.slice(0, 10)).toBe(layouts[n].head);
      expect(wire.slice(10, 26)).toBe(layouts[n].start);
    });
    expect(loads.map((c) => c.p1)).toEqual([0x00, 0x00, 0x80]);
    expect(concat(...loads.map((c) => c.data!)).length).toBe(573);
  });

  it('refuses block sizes outside 1..255 and more than 256 blocks', () => {
    expect(() => loadCommands(new Uint8Array(10), 0)).toThrow(RangeError);
    expect(() => loadCommands(new Uint8Array(10), 256)).toThrow(RangeError);
    expect(() => loadCommands(new Uint8Array(257 * 10), 10)).toThrow(/256/);
    expect(loadCommands(new Uint8Array(256 * 10), 10)).toHaveLength(256);
  });

  it('planLoad: SHA-256 of the LFDB in INSTALL [for load], blocks sized for the channel', () => {
    const cap = hello();
    const plan = planLoad(cap, { scp: '03', level: 0x03 });
    expect(plan.lfdb.length).toBe(247);
    const parsed = parseInstallForLoad(plan.installForLoad.data!);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(toHex(parsed.params.loadFileAid)).toBe('D0D1D2D3D4D501');
      expect(parsed.params.hash.length).toBe(32);
      expect(toHex(parsed.params.hash)).toBe(toHex(plan.hash!));
    }
    expect(plan.loads.map((c) => c.data!.length)).toEqual([239, 247 + 3 - 239]);
    const withDescriptor = planLoad(cap, { includeDescriptor: true, hash: 'sha1' });
    expect(toHex(withDescriptor.loads[0].data!.slice(0, 4))).toBe('C4820157');
    expect(withDescriptor.hash!.length).toBe(20);
    expect(planLoad(cap, { hash: 'none' }).installForLoad.data![1 + 7 + 1]).toBe(0);
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
    const plan = planLoad(hello(), { includeDescriptor: true, blockSize: 64 });
    const step = receive(plan.installForLoad.data!, plan.loads);
    expect(step.status).toBe('done');
    if (step.status === 'done') {
      expect(toHex(step.package.packageAid)).toBe('D0D1D2D3D4D501');
      expect(step.package.applets.map((a) => toHex(a.aid))).toEqual(['D0D1D2D3D4D50101']);
      expect(step.lfdb.length).toBe(343);
    }
  });

  it('answers "more" until the last block', () => {
    const plan = planLoad(hello(), { blockSize: 100 });
    const p = parseInstallForLoad(plan.installForLoad.data!);
    if (!p.ok) throw new Error(p.reason);
    const r = new LoadReceiver(p.params);
    expect(r.accept(plan.loads[0])).toEqual({ status: 'more' });
    expect(r.accept(plan.loads[1])).toEqual({ status: 'more' });
    expect(r.accept(plan.loads[2]).status).toBe('done');
    expect(r.accept(plan.loads[2])).toMatchObject({ status: 'error', sw: 0x6985 });
  });

  it('accepts DAP blocks before the C4 object', () => {
    const cap = hello();
    const lfdb = loadFileDataBlock(cap);
    const dap = h('E20E4F08A000000151000000C3021234');
    const loads = loadCommands(concat(dap, loadFileData(lfdb)), 200);
    const step = receive(installForLoad({ loadFileAid: cap.packageAid }).data!, loads);
    expect(step).toMatchObject({ status: 'done', dapBlocks: [h('4F08A000000151000000C3021234')] });
  });

  it('rejects a block out of sequence with 6A86', () => {
    const plan = planLoad(hello(), { blockSize: 100 });
    const step = receive(plan.installForLoad.data!, [plan.loads[0], plan.loads[2]]);
    expect(step).toMatchObject({ status: 'error', sw: 0x6a86 });
  });

  it('rejects a load whose hash does not match', () => {
    const plan = planLoad(hello(), { blockSize: 100 });
    const tampered = plan.loads.map((c) => ({ ...c, data: c.data!.slice() }));
    tampered[1].data![10] ^= 0x01;
    const step = receive(plan.installForLoad.data!, tampered);
    expect(step).toMatchObject({ status: 'error', sw: 0x6a80 });
    if (step.status === 'error') expect(step.reason).toMatch(/sha256/);
  });

  it('rejects a package AID that differs from INSTALL [for load]', () => {
    const plan = planLoad(hello(), { hash: 'none' });
    const step = receive(installForLoad({ loadFileAid: h('D0D1D2D3D4D6') }).data!, plan.loads);
    expect(step).toMatchObject({ status: 'error', sw: 0x6a80 });
    if (step.status === 'error') expect(step.reason).toMatch(/package AID/);
  });

  it('rejects a load file without C4, or a truncated one', () => {
    const params = installForLoad({ loadFileAid: h('D0D1D2D3D4D501') }).data!;
    expect(receive(params, loadCommands(h('E2024F00'), 10))).toMatchObject({ status: 'error', sw: 0x6a80 });
    const lfdb = loadFileDataBlock(hello());
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

    const plan = planLoad(hello(), { scp: '02', level: 0x03, includeDescriptor: true, maxCommandData: 128 });
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
    expect(plan.loads.length).toBe(Math.ceil((343 + 4) / maxClearDataLength({ scp: '02', level: 0x03, maxCommandData: 128 })));
    expect(plan.loads.length).toBe(3);
    expect(last).toMatchObject({ status: 'done' });
  });
});
