import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from './bytes.ts';
import {
  CapComponent,
  CapError,
  formatCapVersion,
  loadFileData,
  loadFileDataBlock,
  loadFileDataBlockHash,
  parseCap,
  parseLoadFileDataBlock,
} from './cap.ts';
import { readZip } from './cap-zip.ts';
import { GPPRO_EMPTY, JC_EXPRESS_TEST_APPLET, readCapFile, type SampleCap } from '../test/capfiles/index.ts';

const capFile = readCapFile;
const EMPTY: SampleCap = GPPRO_EMPTY;
const EXPRESS: SampleCap = JC_EXPRESS_TEST_APPLET;

/** Component tags of a load file, in order. */
function componentTags(lfdb: Uint8Array): number[] {
  const tags: number[] = [];
  for (let i = 0; i < lfdb.length; i += 3 + ((lfdb[i + 1] << 8) | lfdb[i + 2])) tags.push(lfdb[i]);
  return tags;
}

/** Writes a ZIP (stored or deflated entries) so tests can build CAPs the samples do not cover. */
function writeZip(entries: { name: string; data: Uint8Array }[], deflate: boolean): Uint8Array {
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const body = deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data) >>> 0;
    const fields = (sig: number, central: boolean) => {
      const b = new DataView(new ArrayBuffer(central ? 46 : 30));
      b.setUint32(0, sig, true);
      const o = central ? 2 : 0;
      if (central) b.setUint16(4, 20, true);
      b.setUint16(4 + o, 20, true);
      b.setUint16(8 + o, deflate ? 8 : 0, true);
      b.setUint32(14 + o, crc, true);
      b.setUint32(18 + o, body.length, true);
      b.setUint32(22 + o, e.data.length, true);
      b.setUint16(26 + o, name.length, true);
      if (central) b.setUint32(42, offset, true);
      return new Uint8Array(b.buffer);
    };
    // The central record repeats the local header's fields two bytes later (after "version made by").
    const local = fields(0x04034b50, false);
    const cdir = fields(0x02014b50, true);
    locals.push(local, name, body);
    central.push(cdir, name);
    offset += local.length + name.length + body.length;
  }
  const cd = concat(...central);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cd.length, true);
  end.setUint32(16, offset, true);
  return concat(...locals, cd, new Uint8Array(end.buffer));
}

function capError(f: () => unknown): CapError {
  try {
    f();
  } catch (e) {
    if (e instanceof CapError) return e;
    throw e;
  }
  throw new Error('no CapError thrown');
}

describe('parseCap on the sample CAP files of test/capfiles', () => {
  it('gppro-Empty: AIDs, versions, imports, load file sizes and hash', () => {
    const cap = parseCap(capFile(EMPTY));
    expect(toHex(cap.packageAid)).toBe('0102030405');
    expect(formatCapVersion(cap.packageVersion)).toBe('0.0');
    expect(formatCapVersion(cap.formatVersion)).toBe('2.1');
    expect(cap.applets.map((a) => toHex(a.aid))).toEqual(['0102030405060708']);
    expect(cap.imports.map((i) => `${toHex(i.aid)} ${formatCapVersion(i.version)}`)).toContain('A0000000620101 1.2');
    const without = loadFileDataBlock(cap);
    expect(without.length).toBe(211);
    expect(toHex(loadFileDataBlockHash(without)).slice(0, 8)).toBe('8D5AC9E2');
    expect(loadFileDataBlock(cap, { descriptor: true }).length).toBe(283);
    expect(loadFileDataBlockHash(without, 'sha1').length).toBe(20);
  });

  it('gppro-Empty: LOAD data header is C4 81 D3 without Descriptor and C4 82 01 1B with it (BER short and long form)', () => {
    const cap = parseCap(capFile(EMPTY));
    expect(toHex(loadFileData(loadFileDataBlock(cap)).slice(0, 3))).toBe('C481D3');
    const withDescriptor = loadFileData(loadFileDataBlock(cap, { descriptor: true }));
    expect(toHex(withDescriptor.slice(0, 4))).toBe('C482011B');
    expect(withDescriptor.length).toBe(4 + 283);
  });

  it('javacard-express: AIDs under the Java Card RID; LFDB 335 bytes, with Descriptor 452 (LOAD data C4 82 01 C4)', () => {
    const cap = parseCap(capFile(EXPRESS));
    expect(toHex(cap.packageAid)).toBe('A000000062010101');
    expect(formatCapVersion(cap.packageVersion)).toBe('1.0');
    expect(cap.applets.map((a) => toHex(a.aid))).toEqual(['A00000006201010101']);
    const without = loadFileDataBlock(cap);
    expect(without.length).toBe(335);
    expect(toHex(loadFileDataBlockHash(without)).slice(0, 8)).toBe('60663105');
    expect(toHex(loadFileData(without).slice(0, 4))).toBe('C482014F');
    const withDescriptor = loadFileDataBlock(cap, { descriptor: true });
    expect(withDescriptor.length).toBe(452);
    expect(toHex(loadFileData(withDescriptor).slice(0, 4))).toBe('C48201C4');
  });

  it('puts the components in load order: Header, Directory, Import, Applet, Class, ...', () => {
    for (const f of [EMPTY, EXPRESS]) {
      const cap = parseCap(capFile(f));
      expect(componentTags(loadFileDataBlock(cap, { descriptor: true }))).toEqual([1, 2, 4, 3, 6, 7, 8, 5, 9, 11]);
      expect(componentTags(loadFileDataBlock(cap))).toEqual([1, 2, 4, 3, 6, 7, 8, 5, 9]);
    }
  });

  it('reads a CAP whose components are deflated the same as a stored one', () => {
    const entries = readZip(capFile(EXPRESS));
    const original = loadFileDataBlock(parseCap(capFile(EXPRESS)), { descriptor: true });
    const stored = writeZip(entries, false);
    const deflated = writeZip(entries, true);
    const method = entries.find((e) => e.name.endsWith('Method.cap'))!.data;
    expect(toHex(stored)).toContain(toHex(method));
    expect(toHex(deflated)).not.toContain(toHex(method));
    expect(toHex(loadFileDataBlock(parseCap(stored), { descriptor: true }))).toBe(toHex(original));
    expect(toHex(loadFileDataBlock(parseCap(deflated), { descriptor: true }))).toBe(toHex(original));
    // gppro's MANIFEST.MF is deflated in the sample itself.
    expect(readZip(capFile(EMPTY)).find((e) => e.name === 'META-INF/MANIFEST.MF')?.data.length).toBe(991);
  });
});

describe('parseLoadFileDataBlock (what a card receives)', () => {
  it('gppro-Empty load file with Descriptor: AIDs and component sizes', () => {
    const lfdb = loadFileDataBlock(parseCap(capFile(EMPTY)), { descriptor: true });
    const pkg = parseLoadFileDataBlock(lfdb);
    expect(toHex(pkg.packageAid)).toBe('0102030405');
    expect(pkg.applets.map((a) => toHex(a.aid))).toEqual(['0102030405060708']);
    const sizes = Object.fromEntries([...pkg.components].map(([tag, b]) => [tag, b.length]));
    // Sizes include the 3-byte tag/size header, as the CAP's own component files do.
    expect(sizes).toEqual({
      [CapComponent.Header]: 18,
      [CapComponent.Directory]: 34,
      [CapComponent.Import]: 34,
      [CapComponent.Applet]: 15,
      [CapComponent.Class]: 15,
      [CapComponent.Method]: 45,
      [CapComponent.StaticField]: 13,
      [CapComponent.ConstantPool]: 25,
      [CapComponent.RefLocation]: 12,
      [CapComponent.Descriptor]: 72,
    });
    expect(toHex(loadFileDataBlock(pkg, { descriptor: true }))).toBe(toHex(lfdb));
  });

  it('round-trips every sample CAP through its load file', () => {
    for (const f of [EMPTY, EXPRESS]) {
      const cap = parseCap(capFile(f));
      for (const descriptor of [false, true]) {
        const pkg = parseLoadFileDataBlock(loadFileDataBlock(cap, { descriptor }));
        expect(toHex(pkg.packageAid)).toBe(toHex(cap.packageAid));
        expect(pkg.applets.map((a) => toHex(a.aid))).toEqual(cap.applets.map((a) => toHex(a.aid)));
      }
    }
  });

  it('rejects truncated or foreign load files', () => {
    // javacard-express: Header is 21 bytes; byte 300 lies inside the ConstantPool component (248..309).
    const lfdb = loadFileDataBlock(parseCap(capFile(EXPRESS)), { descriptor: true });
    expect(capError(() => parseLoadFileDataBlock(lfdb.slice(0, 300))).kind).toBe('truncated');
    expect(capError(() => parseLoadFileDataBlock(lfdb.slice(21))).message).toMatch(/Header/);
    expect(capError(() => parseLoadFileDataBlock(fromHex('2A000100'))).kind).toBe('malformed-component');
  });
});

describe('malformed CAP files', () => {
  it('not a ZIP', () => {
    const e = capError(() => parseCap(new TextEncoder().encode('this is a text file, not a CAP file at all')));
    expect(e.kind).toBe('not-zip');
    expect(e.message).toMatch(/not a CAP file/);
  });

  it('truncated', () => {
    const full = capFile(EXPRESS);
    expect(capError(() => parseCap(full.slice(0, 1500))).kind).toBe('truncated');
    expect(capError(() => parseCap(full.slice(0, 10))).kind).toBe('not-zip');
  });

  it('missing Header component', () => {
    const entries = readZip(capFile(EXPRESS)).filter((e) => !e.name.endsWith('Header.cap'));
    const e = capError(() => parseCap(writeZip(entries, false)));
    expect(e.kind).toBe('missing-component');
    expect(e.message).toMatch(/Header/);
  });

  it('a ZIP with no components at all, and one with a damaged component', () => {
    expect(capError(() => parseCap(writeZip([{ name: 'README.txt', data: new Uint8Array(4) }], false))).kind).toBe('missing-component');
    const entries = readZip(capFile(EXPRESS)).map((e) => (e.name.endsWith('Applet.cap') ? { ...e, data: e.data.slice(0, 8) } : e));
    expect(capError(() => parseCap(writeZip(entries, false))).message).toMatch(/Applet/);
  });

  it('a flipped byte is caught by the CRC', () => {
    const bad = capFile(EXPRESS);
    // A byte inside the stored Method component, so the CRC (not the inflater) has to notice.
    const method = readZip(bad).find((e) => e.name.endsWith('Method.cap'))!.data;
    const at = Buffer.from(bad).indexOf(Buffer.from(method));
    expect(at).toBeGreaterThan(0);
    bad[at + 10] ^= 0xff;
    expect(capError(() => parseCap(bad)).kind).toBe('corrupt');
  });
});
