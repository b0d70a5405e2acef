import { readFileSync } from 'node:fs';
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

const shared = new URL('../../shared/', import.meta.url);
const capFile = (name: string) => new Uint8Array(readFileSync(new URL(`capfiles/${name}`, shared)));
const EMPTY = 'gppro-Empty_0102030405_8d5ac9e2_2.2.1.cap';
const HELLO = 'kaoh-helloworld.cap';
const EXPRESS = 'javacard-express-oracle-TestApplet-jc305.cap';

/** The HelloSTK load file of pysim-gp-commands-tlv.txt §5. */
function pysimLoadFile(): Uint8Array {
  const text = readFileSync(new URL('vectors/pysim-gp-commands-tlv.txt', shared), 'utf8');
  const line = text.split('\n').find((l) => /^01000fdecaffed/.test(l.trim()));
  if (!line) throw new Error('HelloSTK load file not found in pysim-gp-commands-tlv.txt');
  return fromHex(line.trim());
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

describe('parseCap on the shared sample CAP files', () => {
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

  it('kaoh-helloworld: LOAD data with Descriptor starts C4820157, without it 247 bytes', () => {
    const cap = parseCap(capFile(HELLO));
    expect(toHex(cap.packageAid)).toBe('D0D1D2D3D4D501');
    expect(formatCapVersion(cap.packageVersion)).toBe('1.0');
    expect(cap.applets.map((a) => toHex(a.aid))).toEqual(['D0D1D2D3D4D50101']);
    const withDescriptor = loadFileDataBlock(cap, { descriptor: true });
    expect(withDescriptor.length).toBe(343);
    expect(toHex(loadFileData(withDescriptor)).slice(0, 8)).toBe('C4820157');
    expect(loadFileDataBlock(cap).length).toBe(247);
  });

  it('javacard-express: package and applet AID under the Java Card RID', () => {
    const cap = parseCap(capFile(EXPRESS));
    expect(toHex(cap.packageAid)).toBe('A000000062010101');
    expect(formatCapVersion(cap.packageVersion)).toBe('1.0');
    expect(cap.applets.map((a) => toHex(a.aid))).toEqual(['A00000006201010101']);
  });

  it('puts the components in load order: Header, Directory, Import, Applet, Class, ...', () => {
    const lfdb = loadFileDataBlock(parseCap(capFile(HELLO)), { descriptor: true });
    const tags: number[] = [];
    for (let i = 0; i < lfdb.length; i += 3 + ((lfdb[i + 1] << 8) | lfdb[i + 2])) tags.push(lfdb[i]);
    expect(tags).toEqual([1, 2, 4, 3, 6, 7, 8, 5, 9, 11]);
  });

  it('reads a CAP whose components are deflated the same as a stored one', () => {
    const entries = readZip(capFile(HELLO));
    const stored = loadFileDataBlock(parseCap(capFile(HELLO)), { descriptor: true });
    const deflated = writeZip(entries, true);
    const method = entries.find((e) => e.name.endsWith('Method.cap'))!.data;
    expect(toHex(deflated)).not.toContain(toHex(method));
    expect(toHex(loadFileDataBlock(parseCap(deflated), { descriptor: true }))).toBe(toHex(stored));
    // gppro's MANIFEST.MF is deflated in the sample itself.
    expect(readZip(capFile(EMPTY)).find((e) => e.name === 'META-INF/MANIFEST.MF')?.data.length).toBe(991);
  });
});

describe('parseLoadFileDataBlock (what a card receives)', () => {
  it('pySim HelloSTK load file: AIDs and component sizes', () => {
    const lfdb = pysimLoadFile();
    expect(lfdb.length).toBe(569);
    const pkg = parseLoadFileDataBlock(lfdb);
    expect(toHex(pkg.packageAid)).toBe('D07002CA44');
    expect(pkg.applets.map((a) => toHex(a.aid))).toEqual(['D07002CA44900101']);
    const sizes = Object.fromEntries([...pkg.components].map(([tag, b]) => [tag, b.length]));
    expect(sizes).toEqual({
      [CapComponent.Header]: 18,
      [CapComponent.Directory]: 34,
      [CapComponent.Import]: 43,
      [CapComponent.Applet]: 15,
      [CapComponent.Class]: 27,
      [CapComponent.Method]: 112,
      [CapComponent.StaticField]: 53,
      [CapComponent.ConstantPool]: 69,
      [CapComponent.RefLocation]: 26,
      [CapComponent.Descriptor]: 172,
    });
    expect(toHex(loadFileDataBlock(pkg, { descriptor: true }))).toBe(toHex(lfdb));
  });

  it('round-trips every sample CAP through its load file', () => {
    for (const f of [EMPTY, HELLO, EXPRESS]) {
      const cap = parseCap(capFile(f));
      const pkg = parseLoadFileDataBlock(loadFileDataBlock(cap));
      expect(toHex(pkg.packageAid)).toBe(toHex(cap.packageAid));
      expect(pkg.applets.map((a) => toHex(a.aid))).toEqual(cap.applets.map((a) => toHex(a.aid)));
    }
  });

  it('rejects truncated or foreign load files', () => {
    const lfdb = pysimLoadFile();
    expect(capError(() => parseLoadFileDataBlock(lfdb.slice(0, 300))).kind).toBe('truncated');
    expect(capError(() => parseLoadFileDataBlock(lfdb.slice(18))).message).toMatch(/Header/);
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
    const full = capFile(HELLO);
    expect(capError(() => parseCap(full.slice(0, 1500))).kind).toBe('truncated');
    expect(capError(() => parseCap(full.slice(0, 10))).kind).toBe('not-zip');
  });

  it('missing Header component', () => {
    const entries = readZip(capFile(HELLO)).filter((e) => !e.name.endsWith('Header.cap'));
    const e = capError(() => parseCap(writeZip(entries, false)));
    expect(e.kind).toBe('missing-component');
    expect(e.message).toMatch(/Header/);
  });

  it('a ZIP with no components at all, and one with a damaged component', () => {
    expect(capError(() => parseCap(writeZip([{ name: 'README.txt', data: new Uint8Array(4) }], false))).kind).toBe('missing-component');
    const entries = readZip(capFile(HELLO)).map((e) => (e.name.endsWith('Applet.cap') ? { ...e, data: e.data.slice(0, 8) } : e));
    expect(capError(() => parseCap(writeZip(entries, false))).message).toMatch(/Applet/);
  });

  it('a flipped byte is caught by the CRC', () => {
    const bad = capFile(HELLO);
    bad[100] ^= 0xff;
    expect(capError(() => parseCap(bad)).kind).toBe('corrupt');
  });
});
